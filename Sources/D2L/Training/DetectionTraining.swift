import Foundation

/// The book's TinySSD loss (13.7.2, `calc_loss`): per image, the mean cross-entropy of its
/// anchors' class scores plus the mean L1 distance of its masked offsets; `[N]`.
/// - Parameters:
///   - outputs: the detector's ``TinySSD/Outputs``.
///   - targets: ``multiboxTarget(anchors:labels:)`` of the batch's labels.
public func tinySSDLoss(_ outputs: TinySSD.Outputs, _ targets: MultiboxTargets) throws -> Tensor {
    let scores = outputs.classPredictions
    let (n, anchors, classes) = (scores.shape[0], scores.shape[1], scores.shape[2])
    guard targets.classLabels.count == n, targets.classLabels.allSatisfy({ $0.count == anchors }),
          targets.offsets.shape == outputs.boxPredictions.shape else {
        throw ToolkitError(.shape, "tinySSDLoss: targets for \(targets.classLabels.count) images do not fit predictions \(scores.shape)")
    }
    let cls = try crossEntropy(scores.reshaped([n * anchors, classes]), targets.classLabels.flatMap { $0 }, reduction: .none)
        .reshaped([n, anchors]).mean(axis: 1)
    let bbox = (outputs.boxPredictions * targets.mask - targets.offsets * targets.mask).abs().mean(axis: 1)
    return cls + bbox
}

/// One epoch of detector training, as the book's 13.7.2 reports it.
public struct DetectionEpochMetrics: Equatable {
    public var epoch: Int
    public var loss: Double
    /// 1 − (anchors whose arg-max class is their label) / anchors.
    public var classError: Double
    /// Σ |offset target − prediction| over masked values / all offset values.
    public var boxMAE: Double
    public var examplesPerSecond: Double
}

/// Trains a ``TinySSD`` as the book's 13.7.2 does: SGD (learning rate and weight decay
/// from `configuration`), the mean of ``tinySSDLoss(_:_:)`` over the batch, anchors
/// labelled by ``multiboxTarget(anchors:labels:)``; per epoch it appends
/// `epoch,loss,class_err,bbox_mae,examples_per_sec` to OUT/metrics.csv, redraws
/// OUT/curves.svg and saves OUT/checkpoint.safetensors (atomically). A non-finite loss
/// stops the run with `ToolkitError(.numerical)`.
public final class DetectionTrainer {
    public let model: TinySSD
    public let configuration: TrainingConfiguration
    public let optimizer: SGD
    public private(set) var history: [DetectionEpochMetrics] = []
    /// Called after every epoch.
    public var onEpoch: ((DetectionEpochMetrics) -> Void)?

    public init(model: TinySSD, configuration: TrainingConfiguration) throws {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        optimizer = SGD(model.parameters(), learningRate: configuration.learningRate, momentum: configuration.momentum,
                        weightDecay: configuration.weightDecay)
    }

    @discardableResult
    public func fit(_ data: DetectionDataset) throws -> [DetectionEpochMetrics] {
        ComputeThreads.set(configuration.threads)
        MemoryTuning.keepFreedMemory()
        var log: MetricsLog?
        if let dir = configuration.outputDirectory {
            try TrainingRun.createDirectory(dir)
            log = try MetricsLog(path: dir + "/metrics.csv", columns: ["epoch", "loss", "class_err", "bbox_mae", "examples_per_sec"])
        }
        for epoch in 1...max(configuration.epochs, 1) where configuration.epochs >= 1 {
            let metrics = try trainEpoch(epoch, data)
            history.append(metrics)
            try log?.append([Double(epoch), metrics.loss, metrics.classError, metrics.boxMAE, metrics.examplesPerSecond])
            if let dir = configuration.outputDirectory {
                try model.saveCheckpoint(to: dir + "/checkpoint.safetensors", metadata: ["d2l.epoch": String(epoch), "d2l.arch": "tiny-ssd"])
                try curves().write(to: dir + "/curves.svg")
            }
            onEpoch?(metrics)
        }
        return history
    }

    private func trainEpoch(_ epoch: Int, _ data: DetectionDataset) throws -> DetectionEpochMetrics {
        model.train()
        let sampler = try MinibatchSampler(count: data.count, batchSize: configuration.batchSize, shuffle: true,
                                           seed: configuration.seed)
        let batches = sampler.batches(epoch: epoch)
        var progress = ProgressReporter(total: batches.count, label: "epoch \(epoch)")
        var lossSum = 0.0, correct = 0.0, anchors = 0.0, absError = 0.0, offsets = 0.0, seen = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for (done, indices) in batches.enumerated() {
            let (images, labels) = data.batch(indices)
            optimizer.zeroGrad()
            let outputs = try model.detect(images)
            let targets = try multiboxTarget(anchors: outputs.anchors, labels: labels)
            let loss = try tinySSDLoss(outputs, targets).mean()
            let value = loss.item
            guard value.isFinite else {
                throw ToolkitError(.numerical, "epoch \(epoch), batch \(done + 1): the loss is \(value); training stopped")
            }
            loss.backward()
            optimizer.step()
            lossSum += Double(value) * Double(indices.count)
            seen += indices.count
            // The book's cls_eval and bbox_eval.
            let anchorLabels = targets.classLabels.flatMap { $0 }
            let classes = outputs.classPredictions.shape[2]
            correct += Double(correctCount(outputs.classPredictions.reshaped([anchorLabels.count, classes]), anchorLabels))
            anchors += Double(anchorLabels.count)
            let predicted = outputs.boxPredictions.scalars, target = targets.offsets.scalars, mask = targets.mask.scalars
            for k in predicted.indices { absError += Double(abs((target[k] - predicted[k]) * mask[k])) }
            offsets += Double(predicted.count)
            if configuration.showProgress {
                progress.update(done: done + 1, items: seen, extra: String(format: "loss %.3e", lossSum / Double(seen)))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let metrics = DetectionEpochMetrics(epoch: epoch, loss: lossSum / Double(max(seen, 1)),
                                            classError: 1 - correct / max(anchors, 1), boxMAE: absError / max(offsets, 1),
                                            examplesPerSecond: Double(seen) / max(seconds, 1e-9))
        if configuration.showProgress {
            progress.finish(summary: String(format: "class err %.2e, bbox mae %.2e, %.1f examples/sec",
                                            metrics.classError, metrics.boxMAE, metrics.examplesPerSecond))
        }
        return metrics
    }

    /// The book's two curves (class error, bbox mae) over epochs.
    public func curves() -> CurveChart {
        var chart = CurveChart.epochs(configuration.epochs, yLabel: "class error / bbox mae")
        chart.series = [
            ("class error", history.map { (Double($0.epoch), $0.classError) }),
            ("bbox mae", history.map { (Double($0.epoch), $0.boxMAE) }),
        ]
        return chart
    }
}
