import ArgumentParser
import D2L
import D2LRuntime
import Foundation

/// `d2l-cli bench-train-lm`: the toolkit side of tools/bench/train-lm (one JSON line).
/// Training tokens/second of a language model: the book's `train_epoch_ch8` minibatch step
/// (forward with one-hot inputs, mean cross-entropy, backward, clipping to norm 1, SGD) on
/// sequential-partitioning minibatches of a corpus already in memory, the state detached
/// between minibatches and reset at each epoch's start (`LanguageModelTrainer.step`).
struct BenchTrainLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train-lm",
        abstract: "Measure training tokens/second of a language model on The Time Machine in memory (prints JSON).",
        shouldDisplay: false)

    @Argument(help: "The model: \(LanguageModels.names.joined(separator: ", ")).") var model: String
    @Option(help: "Hidden units.") var hidden: Int = 256
    @Option(name: .customLong("batch-size")) var batchSize: Int = 32
    @Option(help: "Time steps per subsequence.") var steps: Int = 35
    @Option(name: .customLong("timed-steps"), help: "Timed minibatch steps.") var timedSteps: Int = 50
    @Option(help: "Untimed warm-up minibatch steps.") var warmup: Int = 5
    @Option(help: "Kernel threads.") var threads: Int = 1
    @Option(help: "Learning rate.") var lr: Float = 1
    @Option(name: .customLong("max-tokens"), help: "The first N tokens of the corpus (0: all).") var maxTokens: Int = 10_000
    @Option(help: "The Time Machine's text file (default: $D2L_DATA_DIR/timemachine.txt; without one, a synthetic corpus).")
    var data: String?

    func run() throws {
        do {
            guard hidden > 0, batchSize > 0, steps > 0, timedSteps > 0, warmup >= 0, threads >= 1, maxTokens >= 0 else {
                throw ToolkitError(.invalidArgument,
                                   "--hidden, --batch-size, --steps, --timed-steps and --threads must be positive, --warmup and --max-tokens ≥ 0")
            }
            // The corpus: the novel when a file is at hand (never a download), else random tokens.
            var path = data
            if path == nil, let dir = ProcessInfo.processInfo.environment["D2L_DATA_DIR"], !dir.isEmpty {
                let candidate = (dir as NSString).appendingPathComponent(TimeMachine.fileName)
                if FileManager.default.isReadableFile(atPath: candidate) { path = candidate }
            }
            let corpus: [Int], vocab: Vocab, source: String
            if let path {
                (corpus, vocab) = try loadCorpusTimeMachine(maxTokens: maxTokens == 0 ? -1 : maxTokens, path: path)
                source = "timemachine"
            } else {
                vocab = try Vocab(idxToToken: ["<unk>", " "] + (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) })
                var generator = SeededGenerator(seed: 0)
                corpus = (0..<(maxTokens == 0 ? 10_000 : maxTokens)).map { _ in Int.random(in: 1..<vocab.count, using: &generator) }
                source = "synthetic (random tokens, vocabulary 28)"
            }
            let loader = try SeqDataLoader(corpus: corpus, vocab: vocab, batchSize: batchSize, numSteps: steps,
                                           useRandomIter: false, seed: 0)
            // Enough epochs of minibatches for every step, prepared before timing.
            var epochs: [[SequenceBatch]] = []
            var total = 0
            while total < warmup + timedSteps {
                let batches = loader.batches(epoch: epochs.count)
                guard !batches.isEmpty else { throw ToolkitError(.invalidArgument, "the corpus gives no minibatch") }
                epochs.append(batches)
                total += batches.count
            }

            Random.seed(0)
            let net = try LanguageModels.make(model, vocabSize: vocab.count, hidden: hidden)
            var configuration = LanguageModelTrainingConfiguration(epochs: 1, learningRate: lr)
            configuration.threads = threads
            configuration.showProgress = false
            configuration.predictEvery = 0
            let trainer = try LanguageModelTrainer(model: net, vocab: vocab, configuration: configuration)
            ComputeThreads.set(threads)
            MemoryTuning.keepFreedMemory()
            net.train()

            var times: [Double] = []
            var losses: [Float] = []
            var done = 0
            outer: for batches in epochs {
                var state: RecurrentState? = nil  // zeros at each epoch's start (train_epoch_ch8)
                for batch in batches {
                    if done == warmup + timedSteps { break outer }
                    let start = DispatchTime.now().uptimeNanoseconds
                    let loss = try trainer.step(batch, state: &state, reinitialise: false)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if done >= warmup { times.append(seconds); losses.append(loss) }
                    done += 1
                }
            }
            let tokens = Double(timedSteps * batchSize * steps)
            let median = times.sorted()[times.count / 2]
            let escapedSource = source.replacingOccurrences(of: "\"", with: "\\\"")
            print(String(format: "{\"model\": \"%@\", \"hidden\": %d, \"batch_size\": %d, \"steps\": %d, \"threads\": %d, "
                         + "\"timed_steps\": %d, \"warmup\": %d, \"corpus\": \"%@\", \"corpus_tokens\": %d, \"vocab\": %d, "
                         + "\"tokens_per_sec\": %.1f, \"median_step_ms\": %.3f, \"first_loss\": %.4f, \"last_loss\": %.4f, "
                         + "\"kernel_isa\": \"%@\"}",
                         model, hidden, batchSize, steps, threads, timedSteps, warmup, escapedSource, corpus.count,
                         vocab.count, tokens / times.reduce(0, +), median * 1000, losses.first ?? .nan, losses.last ?? .nan,
                         kernelISA))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
