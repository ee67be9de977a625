import D2L
import Foundation

/// What `train --data FOLDER` and `finetune` share: the run's summary line, the export
/// with the folder's labels and the input normalisation, and the export check.
enum ImageFolderRuns {
    /// Exports `net` to OUT/model.onnx (`d2l.labels` = the class folders, `d2l.input` with
    /// the size, mean and std) and checks it through libd2l on up to 32 test images.
    static func export(_ net: Module, arch: String, size: Int, channels: Int, classes: [String],
                       normalize: Normalize?, test: ImageFolderData, out: String, threads: Int) throws {
        try exportClassifier(net, arch: arch, imageSize: (size, size), channels: channels, labels: classes,
                             mean: normalize?.mean, std: normalize?.std, declaresSize: true, path: out + "/model.onnx")
        let check = try test.batches(batchSize: 32, shuffle: false, seed: 0, epoch: 0)
        if let (images, labels) = check.makeIterator().next() {
            let diff = try exportedClassifierDifference(net, path: out + "/model.onnx", images: images, threads: threads)
            print(String(format: "export check: libd2l vs toolkit on %@, max |difference| %.2e", counted(labels.count, "test image"), diff))
        }
        print("wrote \(out)/metrics.csv, \(out)/curves.svg, \(out)/checkpoint.safetensors, \(out)/model.onnx")
    }

    /// `… on 96 images in 2 classes (t-shirt, trouser), 5 epochs, …`.
    static func describe(_ splits: ImageFolderSplits) -> String {
        let shown = splits.classes.prefix(8).joined(separator: ", ") + (splits.classes.count > 8 ? ", …" : "")
        return "\(counted(splits.train.count, "image")) in \(counted(splits.classes.count, "class", "classes")) (\(shown))"
    }
}

extension Train {
    /// `train ARCH --data DIR` on DIR/train and DIR/test: RGB at the recipe's size (or
    /// --resize), --augment, no normalisation.
    func trainOnImageFolder(recipe: TrainingRecipe, folder: String) throws {
        var recipe = recipe
        let splits = try ImageFolderSplits(root: folder)
        let size = try resize ?? recipe.resize?.height ?? Models.defaultImageSize(arch: recipe.arch) ?? 28
        recipe.options.classes = splits.classes.count
        recipe.options.inChannels = 3
        recipe.options.imageSize = size
        try TrainingOptionChecks.checkImageBatch(batchSize: recipe.batchSize, channels: 3, size: (size, size))
        let (train, test) = try splits.scratchData(augment: augment, size: size, channels: 3, workers: workers)

        var configuration = TrainingConfiguration(epochs: recipe.epochs, batchSize: recipe.batchSize,
                                                  learningRate: recipe.learningRate)
        configuration.seed = seed
        configuration.threads = threads
        configuration.outputDirectory = out
        configuration.resume = resume
        configuration.run = ["arch": recipe.arch, "data": folder, "image_size": String(size), "augment": augment,
                             "classes": splits.classes.joined(separator: ",")]
        try configuration.validate()
        let record = try TrainingRun.preflight(directory: out, resume: resume, force: force,
                                               identity: configuration.identity, epochs: recipe.epochs)
        Random.seed(seed)
        let net = try recipe.makeModel()
        if let record { print("resuming \(out) after epoch \(record.epoch) of \(recipe.epochs)") }
        print("training \(recipe.arch) (\(counted(net.parameterCount, "parameter"))) on \(ImageFolderRuns.describe(splits)), "
              + "\(counted(recipe.epochs, "epoch")), batch \(recipe.batchSize), lr \(recipe.learningRate), \(size)×\(size), augment \(augment)")
        let trainer = try Trainer(model: net, configuration: configuration)
        try trainer.fit(trainData: train, testData: test)
        if let summary = trainer.lossSummary { print(summary) }
        try ImageFolderRuns.export(net, arch: recipe.arch, size: size, channels: 3, classes: splits.classes,
                                   normalize: nil, test: test, out: out, threads: threads)
    }
}
