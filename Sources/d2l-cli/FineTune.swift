import ArgumentParser
import D2L
import Foundation

/// `d2l-cli finetune`: the book's 13.2 on an image folder, from a pretrained checkpoint.
struct FineTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a pretrained model on an image folder (the book's 13.2); write what train writes.",
        discussion: """
            Loads --from (a PyTorch state_dict file or a toolkit checkpoint of --arch) except its output layer, \
            which gets a new one for DIR/train's class folders (Xavier init). Trains with SGD on the summed \
            cross-entropy (the book's train_ch13), the head at --lr × --head-lr-scale, on RandomResizedCrop + flip \
            (test: Resize(size·256/224) + CenterCrop(size)), normalised with ImageNet's mean and std for RGB \
            models unless the checkpoint says otherwise (--normalize overrides).
            """)

    @Option(help: "The architecture of --from (e.g. torchvision-resnet18, resnet18, lenet).") var arch: String
    @Option(name: .customLong("from"), help: "The pretrained checkpoint: a torch.save state_dict (.pth) or a toolkit checkpoint.safetensors.")
    var checkpoint: String
    @Option(help: "The image folder: DIR/train/<class>/*.jpg|png and DIR/test/<class>/….") var data: String
    @Option(help: "Output folder.") var out: String = "out"
    @Option(parsing: .unconditional, help: "Epochs.") var epochs: Int = 5
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Minibatch size.") var batchSize: Int = 128
    @Option(parsing: .unconditional, help: "Learning rate of the pretrained layers (the loss is summed over the batch, as the book's).")
    var lr: Float = 5e-5
    @Option(name: .customLong("head-lr-scale"), parsing: .unconditional, help: "The new output layer's learning rate is --lr times this.")
    var headLRScale: Float = 10
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay of every parameter.")
    var weightDecay: Float = 0.001
    @Option(name: .customLong("image-size"), parsing: .unconditional, help: "Input height and width (default: 224 for torchvision-resnet18, else the model's).")
    var imageSize: Int?
    @Flag(name: .customLong("freeze-features"), help: "Train the new output layer only.") var freezeFeatures = false
    @Option(help: "Input normalisation: imagenet or none (default: the checkpoint's, else imagenet for RGB models, none for grayscale).")
    var normalize: String?
    @Option(parsing: .unconditional, help: "Image loading threads (0: load on the training thread).") var workers: Int = 2
    @Option(parsing: .unconditional, help: "Kernel threads.") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Seed for the new layer, shuffling and augmentation.") var seed: UInt64 = 0
    @Flag(help: "Continue the run in --out from its last checkpoint (--epochs is the total).") var resume = false
    @Flag(help: "Start a new run even though --out holds a checkpoint (it is overwritten).") var force = false

    func run() throws {
        do {
            try TrainingOptionChecks.checkShared(epochs: epochs, batchSize: batchSize, lr: lr, threads: threads)
            try TrainingOptionChecks.check("--workers", workers, in: 0...ImageFolderData.maxWorkers)
            try TrainingOptionChecks.check("--image-size", imageSize, in: 1...TrainingOptionChecks.maxImageSize)
            guard headLRScale.isFinite, headLRScale > 0 else {
                throw ToolkitError(.invalidArgument, "--head-lr-scale must be a finite number > 0, got \(headLRScale)")
            }
            guard weightDecay.isFinite, weightDecay >= 0 else {
                throw ToolkitError(.invalidArgument, "--weight-decay must be a finite number ≥ 0, got \(weightDecay)")
            }
            if let normalize, !["imagenet", "none"].contains(normalize) {
                throw ToolkitError(.invalidArgument, "--normalize must be imagenet or none, got '\(normalize)'")
            }
            let headName = try Models.classifierHeadName(arch: arch)
            let size = try imageSize ?? (arch == "torchvision-resnet18" ? 224 : Models.defaultImageSize(arch: arch) ?? 224)
            let splits = try ImageFolderSplits(root: data)

            var configuration = TrainingConfiguration(epochs: epochs, batchSize: batchSize, learningRate: lr)
            configuration.weightDecay = weightDecay
            configuration.lossReduction = .sum
            configuration.seed = seed
            configuration.threads = threads
            configuration.outputDirectory = out
            configuration.resume = resume
            Random.seed(seed)
            let pretrained = try FineTuning.loadPretrained(arch: arch, from: checkpoint, imageSize: size,
                                                           classes: splits.classes.count)
            try TrainingOptionChecks.checkImageBatch(batchSize: batchSize, channels: pretrained.channels, size: (size, size))
            let normalization = try chooseNormalization(pretrained)
            configuration.run = ["arch": arch, "from": checkpoint, "data": data, "image_size": String(size),
                                 "head_lr_scale": String(headLRScale), "freeze_features": String(freezeFeatures),
                                 "classes": splits.classes.joined(separator: ","), "task": "finetune"]
            if let normalization {
                configuration.run["input_mean"] = normalization.mean.map { String($0) }.joined(separator: ",")
                configuration.run["input_std"] = normalization.std.map { String($0) }.joined(separator: ",")
            }
            try configuration.validate()
            let record = try TrainingRun.preflight(directory: out, resume: resume, force: force,
                                                   identity: configuration.identity, epochs: epochs)
            let (train, test) = try splits.fineTuningData(size: size, channels: pretrained.channels,
                                                          normalize: normalization, workers: workers)
            let net = pretrained.model
            let headGroup = ParameterGroup(parameters: pretrained.head.parameters(), learningRate: lr * headLRScale)
            var groups = [headGroup]
            if freezeFeatures {
                for p in pretrained.bodyParameters { p.isFrozen = true }
            } else {
                groups.insert(ParameterGroup(parameters: pretrained.bodyParameters), at: 0)
            }
            if let record { print("resuming \(out) after epoch \(record.epoch) of \(epochs)") }
            print("fine-tuning \(arch) from \(checkpoint) (\(counted(pretrained.checkpointClasses, "class", "classes")); new output layer "
                  + "'\(headName)' for \(splits.classes.count)) on \(ImageFolderRuns.describe(splits)), \(counted(epochs, "epoch")), "
                  + "batch \(batchSize), lr \(String(format: "%g", lr)) (head \(String(format: "%g", lr * headLRScale))"
                  + "\(freezeFeatures ? ", the rest frozen" : "")), \(pretrained.channels == 1 ? "grayscale" : "RGB") \(size)×\(size), "
                  + (normalization.map { "normalised with mean \($0.mean) and std \($0.std)" } ?? "no normalisation"))
            let trainer = try Trainer(model: net, configuration: configuration, parameterGroups: groups)
            try trainer.fit(trainData: train, testData: test)
            if let summary = trainer.lossSummary { print(summary) }
            try ImageFolderRuns.export(net, arch: arch, size: size, channels: pretrained.channels, classes: splits.classes,
                                       normalize: normalization, test: test, out: out, threads: threads)
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }

    /// --normalize; else the checkpoint's recorded normalisation (a toolkit fine-tuning
    /// run's), none for another toolkit checkpoint (trained on [0, 1] inputs), else
    /// ImageNet's for RGB and none for grayscale.
    func chooseNormalization(_ pretrained: FineTuning.Pretrained) throws -> Normalize? {
        let imagenet = pretrained.channels == 3 ? ImageNetStatistics.normalize : nil
        switch normalize {
        case "imagenet"?:
            guard let imagenet else {
                throw ToolkitError(.invalidArgument, "--normalize imagenet needs an RGB model; \(arch) from \(checkpoint) takes 1 channel")
            }
            return imagenet
        case "none"?: return nil
        default: break
        }
        let meta = pretrained.metadata
        if let mean = meta["d2l.run.input_mean"], let std = meta["d2l.run.input_std"] {
            let parse = { (text: String) in text.split(separator: ",").compactMap { Float($0) } }
            return try Normalize(mean: parse(mean), std: parse(std))
        }
        if meta.keys.contains(where: { $0.hasPrefix("d2l.") }) { return nil }
        return imagenet
    }
}
