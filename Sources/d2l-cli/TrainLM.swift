import ArgumentParser
import D2L
import Foundation

/// The options of `d2l-cli train rnn-lm|gru-lm|lstm-lm` beyond the shared ones (epochs,
/// batch size, lr, out, threads, data, seed).
struct LanguageModelOptions: ParsableArguments {
    @Option(help: "Language models: hidden units per layer (the book: 256).") var hidden: Int = 256
    @Option(help: "Language models: recurrent layers.") var layers: Int = 1
    @Flag(help: "Language models: a bidirectional recurrent layer.") var bidirectional = false
    @Option(help: "Language models: time steps per subsequence (the book: 35).") var steps: Int = 35
    @Option(name: .customLong("max-tokens"), help: "Language models: the first N tokens of the corpus (the book: 10000; 0: all).")
    var maxTokens: Int = 10_000
    @Flag(name: .customLong("random-iter"), help: "Language models: random sampling instead of sequential partitioning.")
    var randomIter = false
    @Option(help: "Language models: start from this checkpoint (.safetensors) instead of a fresh initialisation.")
    var resume: String?
}

/// `d2l-cli train rnn-lm|gru-lm|lstm-lm`: the book's `train_ch8` on The Time Machine's
/// characters; writes metrics.csv, curves.svg, checkpoint.safetensors and model.onnx (char-lm).
func trainLanguageModel(arch: String, options: LanguageModelOptions, epochs: Int?, batchSize: Int?, lr: Float?,
                        out: String, threads: Int, data: String?, seed: UInt64) throws {
    let epochs = epochs ?? 500, batchSize = batchSize ?? 32, lr = lr ?? 1
    guard options.hidden > 0 else { throw ToolkitError(.invalidArgument, "--hidden must be positive, got \(options.hidden)") }
    guard options.layers > 0 else { throw ToolkitError(.invalidArgument, "--layers must be positive, got \(options.layers)") }
    guard options.maxTokens >= 0 else {
        throw ToolkitError(.invalidArgument, "--max-tokens must be ≥ 0 (0: the whole text), got \(options.maxTokens)")
    }
    var configuration = LanguageModelTrainingConfiguration(epochs: epochs, learningRate: lr)
    configuration.threads = threads
    configuration.outputDirectory = out
    try configuration.validate()
    Random.seed(seed)
    let loader = try SeqDataLoader(batchSize: batchSize, numSteps: options.steps, useRandomIter: options.randomIter,
                                   maxTokens: options.maxTokens == 0 ? -1 : options.maxTokens, path: data, seed: seed)
    let vocab = loader.vocab
    let net = try LanguageModels.make(arch, vocabSize: vocab.count, hidden: options.hidden, layers: options.layers,
                                      bidirectional: options.bidirectional)
    let trainer = try LanguageModelTrainer(model: net, vocab: vocab, configuration: configuration)
    if let resume = options.resume {
        try trainer.loadCheckpoint(from: resume)
        print("resumed from \(resume)")
    }
    let batches = loader.batches(epoch: 0).count
    print("training \(arch) \(net.rnn.summary) (\(net.parameterCount) parameters) on \(loader.corpus.count) tokens "
          + "(vocabulary \(vocab.count)), \(epochs) epochs of \(batches) minibatches, batch \(batchSize), "
          + "steps \(options.steps), lr \(lr), \(options.randomIter ? "random sampling" : "sequential partitioning")")
    let start = Date()
    try trainer.fit(loader)
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "trained %d epochs in %.1f s (%.3f s/epoch)", epochs, seconds, seconds / Double(max(epochs, 1))))
    let modelPath = out + "/model.onnx"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try exportLanguageModel(net, vocab: vocab, task: "char-lm",
                            producer: "d2l-cli train \(arch) (toolkit exportLanguageModel)", path: modelPath)
    // The export generates the toolkit's text through libd2l.
    let ours = try trainer.predict("time traveller", numTokens: 50)
    let theirs = try RuntimeLanguageModel(path: modelPath, threads: threads).generate(prefix: "time traveller", numTokens: 50)
    print("export check: libd2l generate \(ours == theirs ? "==" : "!=") toolkit predict (greedy, 50 characters)")
    if ours != theirs { print("  toolkit: \(ours)\n  libd2l:  \(theirs)") }
    print("wrote \(out)/metrics.csv, \(out)/curves.svg, \(out)/checkpoint.safetensors, \(modelPath)")
}
