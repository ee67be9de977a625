import D2L
import Foundation

extension BookContext {
    /// The Time Machine: `--data DIR/timemachine.txt` when given; else the toolkit's search
    /// (`$D2L_DATA_DIR`, the cache, a download), except that in a checkout of d2l (run
    /// from its root) the committed `data/timemachine.txt` is used.
    var timeMachinePath: String? {
        if let dataDirectory { return (dataDirectory as NSString).appendingPathComponent(TimeMachine.fileName) }
        let environment = ProcessInfo.processInfo.environment["D2L_DATA_DIR"] ?? ""
        let checkout = "data/" + TimeMachine.fileName
        return environment.isEmpty && FileManager.default.fileExists(atPath: checkout) ? checkout : nil
    }
}

/// Python's `str(list_of_str)` for plain tokens: `['the', 'time']`.
func pythonList(_ tokens: [String]) -> String {
    "[" + tokens.map { "'\($0)'" }.joined(separator: ", ") + "]"
}

/// Python's `str(list_of_pairs)`: `[('the', 2261), ('i', 1267)]`.
func pythonPairs(_ pairs: [(String, Int)]) -> String {
    "[" + pairs.map { "('\($0.0)', \($0.1))" }.joined(separator: ", ") + "]"
}

/// Python's `str` of n-gram counts: `[(('of', 'the'), 309), ...]`.
func pythonNGramPairs(_ pairs: [([String], Int)]) -> String {
    "[" + pairs.map { "((" + $0.0.map { "'\($0)'" }.joined(separator: ", ") + "), \($0.1))" }.joined(separator: ", ") + "]"
}

/// The book's `train_ch8` settings for every language-model section: the Time Machine
/// character corpus (`load_data_time_machine(batch_size=32, num_steps=35)`), lr and epochs
/// from the book, fewer epochs and a shorter corpus in quick mode. Trains `model`, prints
/// the book's lines (predictions every 10 epochs, the final perplexity and two
/// predictions), writes the perplexity curve, and checks that perplexity fell.
func trainLanguageModel(_ book: BookContext, _ model: any LanguageModelTrainer.Model, vocab: Vocab,
                        loader: SeqDataLoader, lr: Float, fullEpochs: Int = 500, quickEpochs: Int = 20,
                        figure: String = "perplexity") throws -> [LanguageModelEpochMetrics] {
    var configuration = LanguageModelTrainingConfiguration(epochs: book.choose(full: fullEpochs, quick: quickEpochs),
                                                           learningRate: lr)
    configuration.showProgress = false
    configuration.predictEvery = book.choose(full: 10, quick: quickEpochs)
    let trainer = try LanguageModelTrainer(model: model, vocab: vocab, configuration: configuration)
    let history = try trainer.fit(loader)
    try book.save(trainer.curves(), as: figure)
    if let first = history.first, let last = history.last {
        book.check(last.perplexity < first.perplexity,
                   "perplexity fell from \(formatNumber(Float(first.perplexity), decimals: 2)) to \(formatNumber(Float(last.perplexity), decimals: 2))")
        if !book.quick {
            book.check(last.perplexity < 1.5, "perplexity below 1.5 after \(fullEpochs) epochs (the book: about 1.0)")
        }
    }
    return history
}

/// The book's `load_data_time_machine(32, 35)`, on the first 10,000 characters (the book's
/// default `max_tokens`), 3,000 in quick mode; seeded.
func timeMachineLoader(_ book: BookContext, useRandomIter: Bool = false) throws -> SeqDataLoader {
    try SeqDataLoader(batchSize: 32, numSteps: 35, useRandomIter: useRandomIter,
                      maxTokens: book.choose(full: 10_000, quick: 3_000), path: book.timeMachinePath, seed: 0)
}
