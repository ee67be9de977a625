import D2L
import Foundation

/// The range checks of `d2l-cli train`'s numeric options, made before anything is
/// allocated or written; each failure is a `ToolkitError(.invalidArgument)` naming the option.
enum TrainingOptionChecks {
    /// The most kernel threads `--threads` takes.
    static let maxThreads = 1024
    /// The largest `--resize`.
    static let maxImageSize = 4096
    /// How many times a batch's input the training step may need for activations,
    /// gradients and temporaries (generous, so that the check only stops hopeless sizes).
    static let activationFactor = 64.0

    /// `value` (when given) must lie in `range`.
    static func check(_ option: String, _ value: Int?, in range: ClosedRange<Int>) throws {
        guard let value, !range.contains(value) else { return }
        let bound = range.upperBound == .max ? "≥ \(range.lowerBound)" : "in \(range.lowerBound)…\(range.upperBound)"
        throw ToolkitError(.invalidArgument, "\(option) must be \(bound), got \(value)")
    }

    /// `--lr` (when given) must be finite and positive.
    static func checkLearningRate(_ lr: Float?) throws {
        guard let lr, !(lr.isFinite && lr > 0) else { return }
        throw ToolkitError(.invalidArgument, "--lr must be a finite number > 0, got \(lr)")
    }

    /// The options every `train` run shares.
    static func checkShared(epochs: Int?, batchSize: Int?, lr: Float?, threads: Int) throws {
        try check("--epochs", epochs, in: 1...Int.max)
        try check("--batch-size", batchSize, in: 1...Int.max)
        try checkLearningRate(lr)
        try check("--threads", threads, in: 1...maxThreads)
    }

    /// `bytes` (an estimate of what training needs) must fit in physical memory.
    static func checkFitsInMemory(_ bytes: Double, _ what: String) throws {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > memory else { return }
        throw ToolkitError(.invalidArgument, String(format: "%@ needs about %.1f GiB, more than this machine's %.1f GiB of memory",
                                                    what, bytes / 1_073_741_824, memory / 1_073_741_824))
    }

    /// A training batch of `batchSize` images of `channels`×`size`×`size` float32 pixels,
    /// times ``activationFactor``, must fit in memory.
    static func checkImageBatch(batchSize: Int, channels: Int, size: (height: Int, width: Int)) throws {
        let bytes = Double(batchSize) * Double(channels) * Double(size.height) * Double(size.width) * 4 * activationFactor
        try checkFitsInMemory(bytes, "a batch of \(batchSize) images of \(size.height)×\(size.width)")
    }

    /// A recurrent language model's weights (with gradients and temporaries, for a character
    /// vocabulary of at most 256) and one minibatch's activations must fit in memory.
    static func checkLanguageModel(arch: String, hidden: Int, layers: Int, bidirectional: Bool, batchSize: Int,
                                   steps: Int) throws {
        let gates = Double(arch == "lstm-lm" ? 4 : arch == "gru-lm" ? 3 : 1)
        let directions = bidirectional ? 2.0 : 1.0, h = Double(hidden), vocab = 256.0
        let perLayer = gates * directions * h * (directions * h + h + 2)
        let weights = gates * directions * h * vocab + Double(layers) * perLayer + directions * h * vocab
        let activations = Double(batchSize) * Double(steps) * Double(layers) * directions * (gates + 1) * h
        try checkFitsInMemory((weights * 4 + activations * 4) * 4,
                              "a \(arch) of \(counted(layers, "layer")) of \(counted(hidden, "hidden unit")) "
                              + "on batches of \(batchSize)×\(steps)")
    }
}
