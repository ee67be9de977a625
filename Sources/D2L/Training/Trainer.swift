import Foundation

/// Settings of a classifier training run (the book's `train_ch6` arguments and more).
public struct TrainingConfiguration {
    public enum OptimizerKind: String { case sgd, adam }
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var optimizer: OptimizerKind = .sgd
    public var momentum: Float = 0
    public var weightDecay: Float = 0
    /// How the minibatch's cross-entropy losses are combined before `backward`: the mean
    /// (`train_ch6`) or the sum (`train_ch13`'s `l.sum().backward()`, which the book's
    /// fine-tuning learning rates assume).
    public var lossReduction: LossReduction = .mean
    /// Images are resized to this per batch (AlexNet/VGG/NiN: 224; GoogLeNet/ResNet/DenseNet: 96).
    public var resize: (height: Int, width: Int)?
    /// Clip the global gradient norm to this before each step.
    public var gradientClipNorm: Float?
    /// Shuffling seed (epochs differ; the same seed repeats the run's order).
    public var seed: UInt64 = 0
    /// Threads for the kernels (1 = none).
    public var threads: Int = 1
    /// Where metrics.csv, curves.svg and checkpoint.safetensors go (nil: nowhere).
    public var outputDirectory: String?
    /// Show a progress bar when standard output is a terminal.
    public var showProgress: Bool = true
    /// Settings that identify the run besides these (the architecture, the data subset):
    /// recorded with every checkpoint; a resumed run must have the same (see ``identity``).
    public var run: [String: String] = [:]
    /// Continue the run in `outputDirectory` (``TrainingRun``): its weights, optimizer and
    /// random state and `metrics.csv`, from the epoch after its checkpoint's; `epochs` is
    /// the total, as for the run that is continued.
    public var resume = false

    public init(epochs: Int, batchSize: Int, learningRate: Float) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }

    /// What a resumed run must share with the run it continues: ``run`` and the settings
    /// that change the weights' path (everything but `epochs`, `threads` and the output).
    public var identity: [String: String] {
        var settings: [String: String] = [
            "batch_size": String(batchSize), "lr": String(learningRate), "optimizer": optimizer.rawValue,
            "momentum": String(momentum), "weight_decay": String(weightDecay),
            "clip": gradientClipNorm.map { String($0) } ?? "none", "seed": String(seed),
            "resize": resize.map { "\($0.height)x\($0.width)" } ?? "none",
        ]
        // Only when not the default, so that runs recorded before the setting still resume.
        if lossReduction == .sum { settings["loss"] = "sum" }
        return run.merging(settings) { ours, _ in ours }
    }

    /// Checks the numbers before a run starts.
    public func validate() throws {
        guard !resume || outputDirectory != nil else {
            throw ToolkitError(.invalidArgument, "resuming a run needs its output directory")
        }
        guard epochs >= 0 else { throw ToolkitError(.invalidArgument, "epochs must be ≥ 0, got \(epochs)") }
        guard batchSize > 0 else { throw ToolkitError(.invalidArgument, "batch size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ToolkitError(.invalidArgument, "learning rate must be positive, got \(learningRate)")
        }
        guard threads >= 1 else { throw ToolkitError(.invalidArgument, "threads must be ≥ 1, got \(threads)") }
        guard lossReduction != .none else {
            throw ToolkitError(.invalidArgument, "the training loss must be reduced by mean or sum, not none")
        }
        if let r = resize, r.height <= 0 || r.width <= 0 {
            throw ToolkitError(.invalidArgument, "resize must be positive, got \(r.height)×\(r.width)")
        }
    }
}

/// One epoch's figures, as the book's `Animator` plots them.
public struct EpochMetrics: Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// NaN when no test set was given.
    public var testAccuracy: Double
    public var examplesPerSecond: Double
}

/// Trains a classifier on an image dataset with cross-entropy (the book's `train_ch6`):
/// per epoch, train on shuffled minibatches, then measure test accuracy in eval mode;
/// report progress, append a row to `metrics.csv`, redraw `curves.svg` and save
/// `checkpoint.safetensors` (atomically, so the file on disk is always the last
/// complete epoch's) with the run's record (``TrainingRun``), from which `resume`
/// continues the run exactly. A non-finite loss stops the run with `ToolkitError(.numerical)`,
/// leaving the last good checkpoint in place.
public final class Trainer {
    public let model: Module
    public let configuration: TrainingConfiguration
    public private(set) var history: [EpochMetrics] = []
    /// Every minibatch's loss, in training order (all epochs).
    public private(set) var batchLosses: [Double] = []

    /// The mean minibatch loss of the first and of the last quarter of `batchLosses`
    /// (whether training brought the loss down); nil with fewer than 4 batches.
    public var lossQuarterMeans: (first: Double, last: Double)? {
        let quarter = batchLosses.count / 4
        guard quarter > 0 else { return nil }
        return (batchLosses.prefix(quarter).reduce(0, +) / Double(quarter),
                batchLosses.suffix(quarter).reduce(0, +) / Double(quarter))
    }

    /// `minibatch loss: first quarter mean 1.234, last quarter mean 0.456 (940 batches)`:
    /// ``lossQuarterMeans`` as a line; nil with fewer than 8 batches.
    public var lossSummary: String? {
        guard batchLosses.count >= 8, let means = lossQuarterMeans else { return nil }
        return String(format: "minibatch loss: first quarter mean %.3f, last quarter mean %.3f (%@)",
                      means.first, means.last, counted(batchLosses.count, "batch", "batches"))
    }
    /// Called after every epoch (e.g. to print a line).
    public var onEpoch: ((EpochMetrics) -> Void)?
    /// Applied to training images (augmentation), or nil.
    public var augmentation: (any ImageTransform)?
    public let optimizer: any Optimizer

    /// A trainer of `model`'s parameters, or of `parameterGroups` (each with its own
    /// learning rate and weight decay, e.g. the book's fine-tuning head at 10× the body's;
    /// frozen parameters are left out of the default).
    /// - Throws: `ToolkitError(.invalidArgument)` for a configuration that does not validate,
    ///   groups that share a parameter, or no parameter that is not frozen.
    public init(model: Module, configuration: TrainingConfiguration, parameterGroups: [ParameterGroup]? = nil) throws {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        let groups = parameterGroups ?? [ParameterGroup(parameters: model.trainableParameters())]
        // backward() needs something that requires gradients.
        guard groups.contains(where: { $0.parameters.contains { !$0.isFrozen } }) else {
            throw ToolkitError(.invalidArgument, "nothing to train: every parameter is frozen (unfreeze some, e.g. the output layer)")
        }
        switch configuration.optimizer {
        case .sgd:
            optimizer = try SGD(groups: groups, learningRate: configuration.learningRate,
                                momentum: configuration.momentum, weightDecay: configuration.weightDecay)
        case .adam:
            optimizer = try Adam(groups: groups, learningRate: configuration.learningRate,
                                 weightDecay: configuration.weightDecay)
        }
    }

    /// Paths of the run's outputs (nil without an output directory).
    public var metricsPath: String? { configuration.outputDirectory.map { $0 + "/metrics.csv" } }
    public var curvesPath: String? { configuration.outputDirectory.map { $0 + "/curves.svg" } }
    public var checkpointPath: String? { configuration.outputDirectory.map { $0 + "/checkpoint.safetensors" } }

    /// Runs every epoch on an in-memory dataset, resized and augmented per batch with the
    /// configuration's `resize` and ``augmentation``; returns the history.
    @discardableResult
    public func fit(train: ImageDataset, test: ImageDataset?) throws -> [EpochMetrics] {
        try fit(trainData: InMemoryImageData(train, resize: configuration.resize, augmentation: augmentation),
                testData: test.map { InMemoryImageData($0, resize: configuration.resize) })
    }

    /// Runs every epoch on `trainData`, measuring accuracy on `testData`; returns the history.
    @discardableResult
    public func fit(trainData train: any ClassificationData, testData test: (any ClassificationData)?) throws -> [EpochMetrics] {
        ComputeThreads.set(configuration.threads)
        MemoryTuning.keepFreedMemory()
        var log: MetricsLog?
        var first = 1
        let columns = ["epoch", "train_loss", "train_acc", "test_acc", "examples_per_sec"]
        if let dir = configuration.outputDirectory {
            try TrainingRun.createDirectory(dir)
            if configuration.resume {
                let resumed = try TrainingRun.resume(directory: dir, identity: configuration.identity,
                                                     epochs: configuration.epochs, optimizer: optimizer,
                                                     metricsColumns: columns) { try model.loadCheckpoint(from: $0) }
                log = resumed.log
                first = resumed.record.epoch + 1
                history = resumed.rows.map {
                    EpochMetrics(epoch: Int($0[0]), trainLoss: $0[1], trainAccuracy: $0[2], testAccuracy: $0[3],
                                 examplesPerSecond: $0[4])
                }
            } else {
                log = try MetricsLog(path: dir + "/metrics.csv", columns: columns)
            }
        }
        for epoch in first...max(configuration.epochs, first) where configuration.epochs >= first {
            let metrics = try trainEpoch(epoch, train: train, test: test)
            history.append(metrics)
            try log?.append([Double(epoch), metrics.trainLoss, metrics.trainAccuracy, metrics.testAccuracy,
                             metrics.examplesPerSecond])
            if let dir = configuration.outputDirectory {
                try TrainingRun.save(model: model, optimizer: optimizer,
                                     record: RunRecord(epoch: epoch, identity: configuration.identity,
                                                       randomState: Random.generator.state),
                                     directory: dir)
            }
            if let path = curvesPath { try curves().write(to: path) }
            onEpoch?(metrics)
        }
        return history
    }

    private func trainEpoch(_ epoch: Int, train: any ClassificationData, test: (any ClassificationData)?) throws -> EpochMetrics {
        model.train()
        let batches = try train.batches(batchSize: configuration.batchSize, shuffle: true,
                                        seed: configuration.seed, epoch: epoch)
        var progress = ProgressReporter(total: batches.count, label: "epoch \(epoch)")
        var lossSum = 0.0, correct = 0, seen = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for (done, (images, labels)) in batches.enumerated() {
            optimizer.zeroGrad()
            let logits = try model(images)
            let loss = try crossEntropy(logits, labels, reduction: configuration.lossReduction)
            let value = configuration.lossReduction == .sum ? loss.item / Float(labels.count) : loss.item
            guard value.isFinite else {
                throw ToolkitError(.numerical, "epoch \(epoch), batch \(done + 1): the loss is \(value); training stopped"
                    + (checkpointPath.map { " (the last good checkpoint is \($0))" } ?? ""))
            }
            batchLosses.append(Double(value))
            loss.backward()
            if let clip = configuration.gradientClipNorm { clipGradNorm(model.parameters(), maxNorm: clip) }
            optimizer.step()
            lossSum += Double(value) * Double(labels.count)
            correct += correctCount(logits, labels)
            seen += labels.count
            if configuration.showProgress {
                progress.update(done: done + 1, items: seen, extra: String(format: "loss %.3f", lossSum / Double(seen)))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let testAccuracy = try test.map { try evaluateAccuracy(model, on: $0, batchSize: configuration.batchSize) } ?? .nan
        let metrics = EpochMetrics(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                   trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                   testAccuracy: testAccuracy, examplesPerSecond: Double(seen) / max(seconds, 1e-9))
        if configuration.showProgress {
            progress.finish(summary: String(format: "loss %.3f, train acc %.3f, test acc %.3f, %.0f examples/sec",
                                            metrics.trainLoss, metrics.trainAccuracy, metrics.testAccuracy,
                                            metrics.examplesPerSecond))
        }
        return metrics
    }

    /// The book's three curves over epochs.
    public func curves() -> CurveChart {
        var chart = CurveChart.epochs(configuration.epochs, yLabel: "loss / accuracy")
        chart.series = [
            ("train loss", history.map { (Double($0.epoch), $0.trainLoss) }),
            ("train acc", history.map { (Double($0.epoch), $0.trainAccuracy) }),
            ("test acc", history.map { (Double($0.epoch), $0.testAccuracy) }),
        ]
        return chart
    }
}

/// The fraction of `dataset` that `model` (in eval mode, no gradients) classifies
/// correctly; restores the model's mode afterwards.
public func evaluateAccuracy(_ model: Module, on dataset: ImageDataset, batchSize: Int = 256,
                             resize: (height: Int, width: Int)? = nil) throws -> Double {
    try evaluateAccuracy(model, on: InMemoryImageData(dataset, resize: resize), batchSize: batchSize)
}

/// The fraction of `data` (unshuffled batches of epoch 0) that `model` classifies
/// correctly, in eval mode without gradients; restores the model's mode afterwards.
public func evaluateAccuracy(_ model: Module, on data: any ClassificationData, batchSize: Int = 256) throws -> Double {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var correct = 0, seen = 0
    try withNoGrad {
        for (images, labels) in try data.batches(batchSize: batchSize, shuffle: false, seed: 0, epoch: 0) {
            correct += correctCount(try model(images), labels)
            seen += labels.count
        }
    }
    return Double(correct) / Double(max(seen, 1))
}
