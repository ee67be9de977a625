import ArgumentParser
import D2L
import Foundation

/// The options of `d2l-cli train rnn-lm|gru-lm|lstm-lm` beyond the shared ones (epochs,
/// batch size, lr, out, threads, data, seed).
struct LanguageModelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Language models: hidden units per layer (the book: 256).") var hidden: Int = 256
    @Option(parsing: .unconditional, help: "Language models: recurrent layers.") var layers: Int = 1
    @Flag(help: "Language models: a bidirectional recurrent layer.") var bidirectional = false
    @Option(parsing: .unconditional, help: "Language models: time steps per subsequence (the book: 35).") var steps: Int = 35
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Language models: the first N tokens of the corpus (the book: 10000; 0: all).")
    var maxTokens: Int = 10_000
    @Flag(name: .customLong("random-iter"), help: "Language models: random sampling instead of sequential partitioning.")
    var randomIter = false
}

/// `d2l-cli train rnn-lm|gru-lm|lstm-lm`: the book's `train_ch8` on The Time Machine's
/// characters; writes metrics.csv, curves.svg, checkpoint.safetensors and model.onnx (char-lm).
/// With `resume`, continues the run in `out` (``TrainingRun``), its epochs numbered on.
func trainLanguageModel(arch: String, options: LanguageModelOptions, epochs: Int?, batchSize: Int?, lr: Float?,
                        out: String, threads: Int, data: String?, seed: UInt64, resume: Bool, force: Bool) throws {
    let epochs = epochs ?? 500, batchSize = batchSize ?? 32, lr = lr ?? 1
    guard options.hidden > 0 else { throw ToolkitError(.invalidArgument, "--hidden must be positive, got \(options.hidden)") }
    guard options.layers > 0 else { throw ToolkitError(.invalidArgument, "--layers must be positive, got \(options.layers)") }
    try TrainingOptionChecks.check("--steps", options.steps, in: 1...Int.max)
    guard options.maxTokens >= 0 else {
        throw ToolkitError(.invalidArgument, "--max-tokens must be ≥ 0 (0: the whole text), got \(options.maxTokens)")
    }
    try TrainingOptionChecks.checkLanguageModel(arch: arch, hidden: options.hidden, layers: options.layers,
                                                bidirectional: options.bidirectional, batchSize: batchSize,
                                                steps: options.steps)
    var configuration = LanguageModelTrainingConfiguration(epochs: epochs, learningRate: lr)
    configuration.threads = threads
    configuration.outputDirectory = out
    configuration.resume = resume
    configuration.run = ["arch": arch, "hidden": String(options.hidden), "layers": String(options.layers),
                         "bidirectional": String(options.bidirectional), "steps": String(options.steps),
                         "max_tokens": String(options.maxTokens), "random_iter": String(options.randomIter),
                         "batch_size": String(batchSize), "seed": String(seed)]
    try configuration.validate()
    let record = try TrainingRun.preflight(directory: out, resume: resume, force: force,
                                           identity: configuration.identity, epochs: epochs)
    Random.seed(seed)
    let loader = try SeqDataLoader(batchSize: batchSize, numSteps: options.steps, useRandomIter: options.randomIter,
                                   maxTokens: options.maxTokens == 0 ? -1 : options.maxTokens, path: data, seed: seed)
    let vocab = loader.vocab
    let net = try LanguageModels.make(arch, vocabSize: vocab.count, hidden: options.hidden, layers: options.layers,
                                      bidirectional: options.bidirectional)
    let trainer = try LanguageModelTrainer(model: net, vocab: vocab, configuration: configuration)
    if let record { print("resuming \(out) after epoch \(record.epoch) of \(epochs)") }
    let batches = loader.batches(epoch: 0).count
    print("training \(arch) \(net.rnn.summary) (\(counted(net.parameterCount, "parameter"))) on \(counted(loader.corpus.count, "token")) "
          + "(vocabulary \(vocab.count)), \(counted(epochs, "epoch")) of \(counted(batches, "minibatch", "minibatches")), batch \(batchSize), "
          + "steps \(options.steps), lr \(lr), \(options.randomIter ? "random sampling" : "sequential partitioning")")
    let start = Date()
    try trainer.fit(loader)
    let seconds = Date().timeIntervalSince(start)
    let trained = epochs - (record?.epoch ?? 0)
    print(String(format: "trained %@ in %.1f s (%.3f s/epoch)", counted(trained, "epoch"), seconds, seconds / Double(max(trained, 1))))
    let modelPath = out + "/model.onnx"
    try exportLanguageModel(net, vocab: vocab, task: "char-lm",
                            producer: "d2l-cli train \(arch) (toolkit exportLanguageModel)", path: modelPath)
    // The export generates the toolkit's text through libd2l.
    let ours = try trainer.predict("time traveller", numTokens: 50)
    let theirs = try RuntimeLanguageModel(path: modelPath, threads: threads).generate(prefix: "time traveller", numTokens: 50)
    print("export check: libd2l generate \(ours == theirs ? "==" : "!=") toolkit predict (greedy, 50 characters)")
    if ours != theirs { print("  toolkit: \(ours)\n  libd2l:  \(theirs)") }
    print("wrote \(out)/metrics.csv, \(out)/curves.svg, \(out)/checkpoint.safetensors, \(modelPath)")
}
