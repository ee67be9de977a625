import D2L
import Foundation

extension Train {
    /// The book's 13.7 settings for TinySSD: 20 epochs, batch 32, SGD lr 0.2, weight decay 5e-4.
    static let tinySSDDefaults = (epochs: 20, batchSize: 32, lr: Float(0.2), weightDecay: Float(5e-4))

    /// `train tiny-ssd --data DIR`: DIR holds bananas_train/ (label.csv + images/), the
    /// book's banana set or `tools/make-bananas`' stand-in.
    func trainTinySSD() throws {
        let defaults = Self.tinySSDDefaults
        let folder = data ?? "data/banana-detection"
        try TrainingOptionChecks.check("--subset", subset, in: 1...Int.max)
        var configuration = TrainingConfiguration(epochs: epochs ?? defaults.epochs, batchSize: batchSize ?? defaults.batchSize,
                                                  learningRate: lr ?? defaults.lr)
        configuration.weightDecay = defaults.weightDecay
        configuration.seed = seed
        configuration.threads = threads
        configuration.outputDirectory = out
        try configuration.validate()
        if resume { throw ToolkitError(.unsupported, "--resume is not supported for tiny-ssd yet; start again with --force") }
        _ = try TrainingRun.preflight(directory: out, resume: false, force: force, identity: configuration.identity,
                                      epochs: configuration.epochs)
        var train = try DetectionDataset.loadBananas(root: folder, train: true)
        if let subset { train = train.prefix(subset) }
        try TrainingOptionChecks.checkImageBatch(batchSize: configuration.batchSize, channels: 3, size: (train.height, train.width))
        guard train.height >= 64, train.width >= 64 else {
            throw ToolkitError(.invalidData, "\(folder): TinySSD needs images of at least 64×64, these are \(train.height)×\(train.width)")
        }
        Random.seed(seed)
        let net = TinySSD(classes: 1)
        print("training tiny-ssd (\(counted(net.parameterCount, "parameter"))) on \(counted(train.count, "image")) of \(train.height)×\(train.width) "
              + "from \(folder), \(counted(configuration.epochs, "epoch")), batch \(configuration.batchSize), lr \(configuration.learningRate), "
              + "weight decay \(configuration.weightDecay)")
        let trainer = try DetectionTrainer(model: net, configuration: configuration)
        try trainer.fit(train)
        if let last = trainer.history.last {
            print(String(format: "class err %.2e, bbox mae %.2e", last.classError, last.boxMAE))
        }
        if FileManager.default.fileExists(atPath: folder + "/bananas_val/label.csv") {
            let validation = try DetectionDataset.loadBananas(root: folder, train: false)
            print("validation: \(try net.validate(on: validation, batchSize: configuration.batchSize).summary)")
        }
        try exportTinySSD(net, imageSize: (train.height, train.width), labels: ["banana"], path: out + "/model.onnx")
        // The export through libd2l against the toolkit on a few training images.
        let (images, _) = train.batch(Array(0..<min(4, train.count)))
        net.eval()
        let ours = try withNoGrad { try net.detect(images) }
        let probabilities = ours.classProbabilities
        let theirs = try RuntimeModel(path: out + "/model.onnx", threads: threads).runAll(images)
        var worst: Float = 0
        for (a, b) in zip([ours.anchors, probabilities, ours.boxPredictions], theirs) {
            guard a.shape == b.shape else { throw ToolkitError(.shape, "export check: libd2l gives \(b.shape), the toolkit \(a.shape)") }
            worst = max(worst, zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0)
        }
        print(String(format: "export check: libd2l vs toolkit on %@ (anchors, class probabilities, offsets), max |difference| %.2e",
                     counted(images.shape[0], "image"), worst))
        print("wrote \(out)/metrics.csv, \(out)/curves.svg, \(out)/checkpoint.safetensors, \(out)/model.onnx")
    }
}
