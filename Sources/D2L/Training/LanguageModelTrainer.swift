import Foundation

/// Settings of a language-model training run (the book's `train_ch8` arguments and more).
public struct LanguageModelTrainingConfiguration {
    /// Epochs (the book: 500).
    public var epochs: Int
    /// SGD learning rate (the book: 1).
    public var learningRate: Float
    /// The global gradient norm is clipped to this before each step (the book's
    /// `grad_clipping(net, 1)`).
    public var gradientClipNorm: Float = 1
    /// Threads for the kernels (1 = none).
    public var threads: Int = 1
    /// Where metrics.csv, curves.svg and checkpoint.safetensors go (nil: nowhere).
    public var outputDirectory: String?
    /// Show a progress bar (on a terminal) and one line per epoch.
    public var showProgress: Bool = true
    /// Print `predict(prefix)` every this many epochs (the book: 10; 0 = never).
    public var predictEvery: Int = 10
    /// The prefixes predicted at the end (the book: "time traveller" and "traveller");
    /// the first is the one printed every `predictEvery` epochs.
    public var predictPrefixes: [String] = ["time traveller", "traveller"]
    /// Tokens predicted after each prefix (the book: 50).
    public var predictTokens: Int = 50
    /// Settings that identify the run besides these (architecture, sizes, sampling, seed):
    /// recorded with every checkpoint; a resumed run must have the same (see ``identity``).
    public var run: [String: String] = [:]
    /// Continue the run in `outputDirectory` (``TrainingRun``): its weights, random states
    /// and `metrics.csv`, from the epoch after its checkpoint's; `epochs` is the total.
    public var resume = false

    public init(epochs: Int = 500, learningRate: Float = 1) {
        self.epochs = epochs
        self.learningRate = learningRate
    }

    /// What a resumed run must share with the run it continues: ``run``, the learning rate
    /// and the clipping norm.
    public var identity: [String: String] {
        run.merging(["lr": String(learningRate), "clip": String(gradientClipNorm)]) { ours, _ in ours }
    }

    /// Checks the numbers before a run starts.
    public func validate() throws {
        guard !resume || outputDirectory != nil else {
            throw ToolkitError(.invalidArgument, "resuming a run needs its output directory")
        }
        guard epochs >= 0 else { throw ToolkitError(.invalidArgument, "epochs must be ≥ 0, got \(epochs)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ToolkitError(.invalidArgument, "learning rate must be positive, got \(learningRate)")
        }
        guard gradientClipNorm > 0, gradientClipNorm.isFinite else {
            throw ToolkitError(.invalidArgument, "the gradient clipping norm must be positive, got \(gradientClipNorm)")
        }
        guard threads >= 1 else { throw ToolkitError(.invalidArgument, "threads must be ≥ 1, got \(threads)") }
        guard predictEvery >= 0 else {
            throw ToolkitError(.invalidArgument, "predictEvery must be ≥ 0, got \(predictEvery)")
        }
        guard predictTokens >= 0 else {
            throw ToolkitError(.invalidArgument, "predictTokens must be ≥ 0, got \(predictTokens)")
        }
    }
}

/// One epoch's figures, as the book's `train_ch8` reports them.
public struct LanguageModelEpochMetrics: Equatable {
    public var epoch: Int
    /// exp(mean cross-entropy per token over the epoch).
    public var perplexity: Double
    public var tokensPerSecond: Double
    /// Tokens (targets) seen in the epoch.
    public var tokens: Int
}

/// Trains a recurrent language model with the book's `train_ch8` / `train_epoch_ch8`:
/// truncated backpropagation through time over a `SeqDataLoader`, mean cross-entropy of the
/// logits `[steps·batch, vocab]` against `Y.T.reshape(-1)`, the global gradient norm clipped
/// to 1, plain SGD. The state starts at zeros on an epoch's first minibatch; with random
/// sampling it starts at zeros on every minibatch, with sequential partitioning it is carried
/// over and detached (`state.detach_()`).
///
/// Per epoch: append `epoch, perplexity, tokens_per_sec` to `metrics.csv`, redraw
/// `curves.svg` and save `checkpoint.safetensors` atomically (the file on disk is always the
/// last complete epoch's) with the run's record (``TrainingRun``), from which `resume`
/// continues the run exactly, its epochs numbered on from the checkpoint's. Every `predictEvery` epochs print `predict("time traveller")`.
/// A non-finite loss or gradient norm stops the run with `ToolkitError(.numerical)`, leaving
/// the last good checkpoint in place.
///
///     let (loader, vocab) = try loadDataTimeMachine(batchSize: 32, numSteps: 35)
///     let net = RNNModel(GRU(inputSize: vocab.count, hiddenSize: 256), vocabSize: vocab.count)
///     let trainer = try LanguageModelTrainer(model: net, vocab: vocab,
///                                            configuration: .init(epochs: 500, learningRate: 1))
///     try trainer.fit(loader)
public final class LanguageModelTrainer {
    public typealias Model = Module & RecurrentLanguageModel

    public let model: any Model
    public let vocab: Vocab
    public let configuration: LanguageModelTrainingConfiguration
    public let optimizer: SGD
    public private(set) var history: [LanguageModelEpochMetrics] = []
    /// The losses of every minibatch of the last epoch, in order.
    public private(set) var batchLosses: [Float] = []
    /// Called after every epoch.
    public var onEpoch: ((LanguageModelEpochMetrics) -> Void)?
    /// Where the book's printed lines go (predictions, the final summary); stdout by default.
    public var log: (String) -> Void = { print($0); fflush(stdout) }

    /// - Throws: `ToolkitError(.invalidArgument)` for bad settings or a vocabulary whose size
    ///   is not the model's.
    public init(model: any Model, vocab: Vocab, configuration: LanguageModelTrainingConfiguration) throws {
        try configuration.validate()
        guard vocab.count == model.vocabSize else {
            throw ToolkitError(.invalidArgument,
                               "the vocabulary has \(vocab.count) tokens, but the model predicts \(model.vocabSize)")
        }
        self.model = model
        self.vocab = vocab
        self.configuration = configuration
        optimizer = SGD(model.parameters(), learningRate: configuration.learningRate)
    }

    /// Paths of the run's outputs (nil without an output directory).
    public var metricsPath: String? { configuration.outputDirectory.map { $0 + "/metrics.csv" } }
    public var curvesPath: String? { configuration.outputDirectory.map { $0 + "/curves.svg" } }
    public var checkpointPath: String? { configuration.outputDirectory.map { $0 + "/checkpoint.safetensors" } }

    /// The book's `predict_ch8(prefix, numTokens, net, vocab)`: greedy characters after `prefix`.
    public func predict(_ prefix: String, numTokens: Int? = nil) throws -> String {
        try model.predict(prefix: prefix, numTokens: numTokens ?? configuration.predictTokens,
                          idxToToken: vocab.idxToToken)
    }

    /// Loads a checkpoint (a safetensors state dictionary) into the model before training.
    ///
    /// - Throws: `ToolkitError(.shape)` naming every missing, unexpected and mis-shaped key
    ///   (with both shapes) when the checkpoint is for another architecture, or for another
    ///   vocabulary size (then the message says so first); `.io`/`.invalidData` for a bad file.
    public func loadCheckpoint(from path: String) throws {
        do {
            try model.loadCheckpoint(from: path)
        } catch let error as ToolkitError where error.kind == .shape {
            var message = "\(path): " + error.message
            if let file = try? SafeTensorsFile.read(path: path),
               let key = ["linear.weight", "W_hq"].first(where: { file[$0] != nil }), let shape = file[key]?.shape {
                let size = key == "W_hq" ? shape.last ?? 0 : shape.first ?? 0
                if size != model.vocabSize {
                    message = "\(path): the checkpoint is for a vocabulary of \(size) tokens (\(key) \(shape)), "
                        + "the model's is \(model.vocabSize)\n  " + error.message
                }
            }
            throw ToolkitError(.shape, message)
        }
    }

    /// Runs every epoch over `loader` (a new sampling at every epoch); prints the book's
    /// final lines; returns the history.
    @discardableResult
    public func fit(_ loader: SeqDataLoader) throws -> [LanguageModelEpochMetrics] {
        guard loader.vocab.count == model.vocabSize else {
            throw ToolkitError(.invalidArgument,
                               "the loader's vocabulary has \(loader.vocab.count) tokens, but the model predicts \(model.vocabSize)")
        }
        return try fit(epochs: { Array(loader) }, useRandomIter: loader.useRandomIter, sampler: loader)
    }

    /// Runs every epoch on the minibatches `batches()` gives for it (on resume, the random
    /// state is `Random.generator`'s only: `batches` must draw from it, or be the same for
    /// every epoch).
    @discardableResult
    public func fit(epochs batches: () throws -> [SequenceBatch], useRandomIter: Bool) throws -> [LanguageModelEpochMetrics] {
        try fit(epochs: batches, useRandomIter: useRandomIter, sampler: nil)
    }

    /// The epochs, with `sampler`'s own generator saved and restored with the checkpoint.
    private func fit(epochs batches: () throws -> [SequenceBatch], useRandomIter: Bool,
                     sampler: SeqDataLoader?) throws -> [LanguageModelEpochMetrics] {
        ComputeThreads.set(configuration.threads)
        MemoryTuning.keepFreedMemory()
        var metricsLog: MetricsLog?
        var first = 1
        let columns = ["epoch", "perplexity", "tokens_per_sec"]
        if let dir = configuration.outputDirectory {
            try TrainingRun.createDirectory(dir)
            if configuration.resume {
                let resumed = try TrainingRun.resume(directory: dir, identity: configuration.identity,
                                                     epochs: configuration.epochs, expected: checkpointMetadata,
                                                     optimizer: optimizer, metricsColumns: columns) {
                    try loadCheckpoint(from: $0)
                }
                if let state = resumed.record.samplerState { sampler?.generatorState = state }
                metricsLog = resumed.log
                first = resumed.record.epoch + 1
                history = resumed.rows.map {
                    LanguageModelEpochMetrics(epoch: Int($0[0]), perplexity: $0[1], tokensPerSecond: $0[2], tokens: 0)
                }
            } else {
                metricsLog = try MetricsLog(path: dir + "/metrics.csv", columns: columns)
            }
        }
        let prefixes = configuration.predictPrefixes
        for epoch in first...max(configuration.epochs, first) where configuration.epochs >= first {
            let metrics = try trainEpoch(try batches(), useRandomIter: useRandomIter, epoch: epoch)
            history.append(metrics)
            try metricsLog?.append([Double(epoch), metrics.perplexity, metrics.tokensPerSecond])
            if let dir = configuration.outputDirectory {
                try TrainingRun.save(model: model, optimizer: optimizer,
                                     record: RunRecord(epoch: epoch, identity: configuration.identity,
                                                       randomState: Random.generator.state,
                                                       samplerState: sampler?.generatorState),
                                     metadata: checkpointMetadata, directory: dir)
            }
            if let path = curvesPath { try curves().write(to: path) }
            if configuration.predictEvery > 0, epoch % configuration.predictEvery == 0, let prefix = prefixes.first {
                log(try predict(prefix))
            }
            onEpoch?(metrics)
        }
        if let last = history.last {
            log(String(format: "perplexity %.1f, %.1f tokens/sec on cpu", last.perplexity, last.tokensPerSecond))
            for prefix in prefixes { log(try predict(prefix)) }
        }
        return history
    }

    /// What the checkpoint carries besides the weights: the vocabulary (`d2l.vocab`).
    var checkpointMetadata: [String: String] { ["d2l.vocab": vocab.json()] }

    /// The book's `train_epoch_ch8` over `batches`: returns the epoch's perplexity and speed.
    public func trainEpoch(_ batches: [SequenceBatch], useRandomIter: Bool, epoch: Int = 1) throws -> LanguageModelEpochMetrics {
        model.train()
        var progress = ProgressReporter(total: batches.count, label: "epoch \(epoch)", unit: "tokens")
        var state: RecurrentState?
        var lossSum = 0.0, tokens = 0
        batchLosses = []
        let start = DispatchTime.now().uptimeNanoseconds
        for (done, batch) in batches.enumerated() {
            let loss = try step(batch, state: &state, reinitialise: useRandomIter, where: "epoch \(epoch), batch \(done + 1)")
            let count = batch.x.count * (batch.x.first?.count ?? 0)
            lossSum += Double(loss) * Double(count)
            tokens += count
            batchLosses.append(loss)
            if configuration.showProgress {
                progress.update(done: done + 1, items: tokens, extra: String(format: "perplexity %.2f", exp(lossSum / Double(tokens))))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let metrics = LanguageModelEpochMetrics(epoch: epoch, perplexity: exp(lossSum / Double(max(tokens, 1))),
                                                tokensPerSecond: Double(tokens) / max(seconds, 1e-9), tokens: tokens)
        if configuration.showProgress {
            progress.finish(summary: String(format: "perplexity %.2f, %.0f tokens/sec", metrics.perplexity,
                                            metrics.tokensPerSecond))
        }
        return metrics
    }

    /// One minibatch of `train_epoch_ch8`: (re)initialise or detach the state, forward,
    /// mean cross-entropy against `Y.T.reshape(-1)`, backward, clip, SGD step. Returns the
    /// loss; `state` becomes the state after the minibatch.
    ///
    /// - Throws: `ToolkitError(.numerical)` when the loss or the gradient norm is not finite
    ///   (before the weights change); shape errors for malformed batches.
    @discardableResult
    public func step(_ batch: SequenceBatch, state: inout RecurrentState?, reinitialise: Bool,
                     where place: String = "training") throws -> Float {
        guard let steps = batch.x.first?.count, steps > 0, batch.y.count == batch.x.count,
              zip(batch.x, batch.y).allSatisfy({ $0.count == steps && $1.count == steps }) else {
            throw ToolkitError(.shape, "\(place): the minibatch's X and Y must both be [batch, steps] with steps ≥ 1")
        }
        let batchSize = batch.x.count
        if state == nil || reinitialise || state!.h.shape.dropLast().last != batchSize {
            state = model.beginState(batchSize: batchSize)
        } else {
            state = state!.detached()
        }
        let targets = (0..<steps).flatMap { t in batch.y.map { $0[t] } }
        optimizer.zeroGrad()
        let (logits, next) = try model(batch.x, state)
        let loss = try crossEntropy(logits, targets)
        let value = loss.item
        guard value.isFinite else {
            throw ToolkitError(.numerical, "\(place): the loss is \(value); training stopped"
                + (checkpointPath.map { " (the last good checkpoint is \($0))" } ?? ""))
        }
        loss.backward()
        let norm = clipGradNorm(model.parameters(), maxNorm: configuration.gradientClipNorm)
        guard norm.isFinite else {
            throw ToolkitError(.numerical, "\(place): the gradient norm is \(norm); training stopped"
                + (checkpointPath.map { " (the last good checkpoint is \($0))" } ?? ""))
        }
        optimizer.step()
        state = next
        return value
    }

    /// Perplexity over epochs (the book's plot).
    public func curves() -> CurveChart {
        var chart = CurveChart.epochs(configuration.epochs, yLabel: "perplexity")
        chart.series = [("train", history.map { (Double($0.epoch), $0.perplexity) })]
        return chart
    }
}

/// The book's concise language models by name: `rnn-lm`, `gru-lm`, `lstm-lm` →
/// `RNNModel(nn.RNN/GRU/LSTM(vocabSize, hidden, num_layers: layers, bidirectional:), vocabSize)`.
public enum LanguageModels {
    /// The architecture names, as `d2l-cli train` and `d2l-export` take them.
    public static let names = ["rnn-lm", "gru-lm", "lstm-lm"]

    /// A freshly initialised model (PyTorch's default init from `Random.generator`).
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for an unknown name, a vocabulary size,
    ///   hidden size or layer count below 1 or above `limits`, or a model that would hold
    ///   more than `maxValues` float32 values (default: a quarter of physical memory), checked
    ///   before it is allocated.
    public static func make(_ arch: String, vocabSize: Int, hidden: Int = 256, layers: Int = 1,
                            bidirectional: Bool = false, maxValues: Int? = nil) throws -> RNNModel {
        guard names.contains(arch) else {
            throw ToolkitError(.invalidArgument, "unknown language model '\(arch)' (expected \(names.joined(separator: ", ")))")
        }
        guard vocabSize >= 1 else { throw ToolkitError(.invalidArgument, "the vocabulary size must be positive, got \(vocabSize)") }
        guard hidden >= 1 else { throw ToolkitError(.invalidArgument, "the hidden size must be positive, got \(hidden)") }
        guard layers >= 1 else { throw ToolkitError(.invalidArgument, "the number of layers must be positive, got \(layers)") }
        for (value, what, limit) in [(vocabSize, "the vocabulary size", limits.vocabSize), (hidden, "the hidden size", limits.hidden),
                                     (layers, "the number of layers", limits.layers)] where value > limit {
            throw ToolkitError(.invalidArgument, "\(what) must be at most \(limit), got \(value)")
        }
        return try ConstructionBudget.withLimit(
            maxValues ?? ConstructionBudget.memoryElements(share: 4),
            what: "--arch \(arch) with vocabulary \(vocabSize), hidden \(hidden) and \(counted(layers, "layer"))") {
            let rnn: RecurrentLayer
            switch arch {
            case "rnn-lm": rnn = RNN(inputSize: vocabSize, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
            case "gru-lm": rnn = GRU(inputSize: vocabSize, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
            default: rnn = LSTM(inputSize: vocabSize, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
            }
            return RNNModel(rnn, vocabSize: vocabSize)
        }
    }

    /// The largest sizes `make` accepts: far above the book's, low enough that no size
    /// computed from them overflows `Int` (memory is checked as the model is built).
    public static let limits = (vocabSize: 1 << 24, hidden: 1 << 24, layers: 1 << 10)
}
