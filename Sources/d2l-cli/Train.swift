import ArgumentParser
import D2L
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one of the book's models with its settings: a classifier (Fashion-MNIST or an image folder), a character language model (The Time Machine) or TinySSD (bananas); write metrics.csv, curves.svg, checkpoint.safetensors and model.onnx.",
        discussion: """
            Classifiers train on Fashion-MNIST by default. --data DIR with DIR/train/<class>/*.jpg|png and \
            DIR/test/<class>/… (the book's hot-dog layout) trains on those images: RGB, resized to --resize \
            (default: the model's input size), augmented with --augment, loaded on --workers threads; the exported \
            model's labels are the class folders.

            The language models (\(LanguageModels.names.joined(separator: ", "))) train on The Time Machine's \
            characters (--data: the text file; default $D2L_DATA_DIR/timemachine.txt, else the cached or downloaded \
            book text), with the options \
            marked "Language models". tiny-ssd trains on --data DIR holding bananas_train/ (label.csv + images/; \
            default data/banana-detection), the book's 13.7.

            On a terminal each epoch is a live line (elapsed time, ETA, examples/s); written to a file or pipe, \
            one line per epoch.
            """)

    @Argument(help: "The model: \(TrainableModel.listing).")
    var model: String

    @Option(parsing: .unconditional, help: "Epochs (default: the book's, 10; language models 500).") var epochs: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Minibatch size (default: the book's).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Learning rate (default: the book's).") var lr: Float?
    @Option(help: "Output folder.") var out: String = "out"
    @Option(parsing: .unconditional, help: "Kernel threads.") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Train on the first N training images only.") var subset: Int?
    @Option(name: .customLong("test-subset"), parsing: .unconditional, help: "Evaluate on the first N test images only.") var testSubset: Int?
    @Option(help: "Fashion-MNIST folder (default: $D2L_DATA_DIR, then /usr/share/datasets/fashion-mnist), or an image folder DIR with DIR/train/<class>/ and DIR/test/<class>/; for the language models, The Time Machine's text file.") var data: String?
    @Option(help: "Training augmentation: \(ImagePipelines.scratchNames.joined(separator: ", ")) (the book's 13.1 pipelines).") var augment: String = "none"
    @Option(parsing: .unconditional, help: "Image loading threads for an image folder (0: load on the training thread).") var workers: Int = 2
    @Option(parsing: .unconditional, help: "Seed for initialisation and shuffling.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Image size for the 96/224 models (overrides the book's resize).") var resize: Int?
    @Flag(help: "Continue the run in --out from its last checkpoint: weights, optimizer and random state, metrics.csv; --epochs is the total, the other settings must be the run's.")
    var resume = false
    @Flag(help: "Start a new run even though --out holds a checkpoint (it is overwritten).")
    var force = false
    @OptionGroup var languageModel: LanguageModelOptions

    func run() throws {
        do {
            let kind = try TrainableModel(model)
            try TrainingOptionChecks.checkShared(epochs: epochs, batchSize: batchSize, lr: lr, threads: threads)
            switch kind {
            case .detector: return try trainTinySSD()
            case .languageModel(let arch):
                return try trainLanguageModel(arch: arch, options: languageModel, epochs: epochs, batchSize: batchSize,
                                              lr: lr, out: out, threads: threads, data: data, seed: seed,
                                              resume: resume, force: force)
            case .classifier: break
            }
            try TrainingOptionChecks.check("--subset", subset, in: 1...Int.max)
            try TrainingOptionChecks.check("--test-subset", testSubset, in: 1...Int.max)
            try TrainingOptionChecks.check("--resize", resize, in: 1...TrainingOptionChecks.maxImageSize)
            var recipe = try TrainingRecipe.book(model)
            if let epochs { recipe.epochs = epochs }
            if let batchSize { recipe.batchSize = batchSize }
            if let lr { recipe.learningRate = lr }
            if let resize { recipe.resize = (resize, resize); recipe.options.imageSize = resize }
            try TrainingOptionChecks.check("--workers", workers, in: 0...ImageFolderData.maxWorkers)
            if let data, ImageFolderSplits.isSplitFolder(data) {
                return try trainOnImageFolder(recipe: recipe, folder: data)
            }
            try TrainingOptionChecks.checkImageBatch(batchSize: recipe.batchSize, channels: 1, size: recipe.resize ?? (28, 28))
            let augmentation = try ImagePipelines.scratchAugmentation(augment, size: recipe.resize?.height ?? 28)

            var configuration = TrainingConfiguration(epochs: recipe.epochs, batchSize: recipe.batchSize,
                                                      learningRate: recipe.learningRate)
            configuration.resize = recipe.resize
            configuration.seed = seed
            configuration.threads = threads
            configuration.outputDirectory = out
            configuration.resume = resume
            configuration.run = ["arch": model, "image_size": recipe.options.imageSize.map(String.init) ?? "default",
                                 "width_divisor": recipe.options.widthDivisor.map(String.init) ?? "default",
                                 "subset": subset.map(String.init) ?? "all", "test_subset": testSubset.map(String.init) ?? "all"]
            if augment != "none" { configuration.run["augment"] = augment }
            try configuration.validate()
            let record = try TrainingRun.preflight(directory: out, resume: resume, force: force,
                                                   identity: configuration.identity, epochs: recipe.epochs)
            Random.seed(seed)
            let net = try recipe.makeModel()

            var train = try FashionMNIST.load(train: true, directory: data)
            var test = try FashionMNIST.load(train: false, directory: data)
            if let subset { train = try train.prefix(subset) }
            if let testSubset { test = try test.prefix(testSubset) }

            if let record { print("resuming \(out) after epoch \(record.epoch) of \(recipe.epochs)") }
            print("training \(model) (\(counted(net.parameterCount, "parameter"))) on \(counted(train.count, "image")), "
                  + "\(counted(recipe.epochs, "epoch")), batch \(recipe.batchSize), lr \(recipe.learningRate)"
                  + (recipe.resize.map { ", resized to \($0.height)×\($0.width)" } ?? ""))
            let trainer = try Trainer(model: net, configuration: configuration)
            trainer.augmentation = augmentation
            try trainer.fit(train: train, test: test)
            if let summary = trainer.lossSummary { print(summary) }
            let size = recipe.resize ?? (28, 28)
            try exportClassifier(net, arch: model, imageSize: size, path: out + "/model.onnx")
            // The export runs through libd2l with the toolkit's own eval-mode outputs.
            let check = try test.prefix(64)
            if let (images, _) = try ImageBatches(check, batchSize: 64, shuffle: false, resize: recipe.resize).makeIterator().next() {
                let diff = try exportedClassifierDifference(net, path: out + "/model.onnx", images: images, threads: threads)
                print(String(format: "export check: libd2l vs toolkit on %@, max |difference| %.2e", counted(check.count, "test image"), diff))
            }
            print("wrote \(out)/metrics.csv, \(out)/curves.svg, \(out)/checkpoint.safetensors, \(out)/model.onnx")
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
