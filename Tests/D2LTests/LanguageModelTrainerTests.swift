import Foundation
import XCTest
@testable import D2L

/// The book's train_ch8 in the toolkit: the first 20 steps of a GRU LM against PyTorch
/// (tools/fixtures/make-lm-fixtures), a short run on The Time Machine, NaN stop, bad input.
final class LanguageModelTrainerTests: XCTestCase {
    static let letters = try! Vocab(idxToToken: ["<unk>", " "] + (UInt8(ascii: "a")...UInt8(ascii: "z")).map {
        String(UnicodeScalar($0))
    })

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "d2l-lm-trainer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// The novel, or a skip.
    func novelPath() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["D2L_DATA_DIR"], !dir.isEmpty,
           FileManager.default.fileExists(atPath: dir + "/timemachine.txt") {
            return dir + "/timemachine.txt"
        }
        let path = repositoryRoot + "/data/timemachine.txt"
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("The Time Machine is not available (set D2L_DATA_DIR)")
        }
        return path
    }

    /// A random corpus over the 28 letters (no novel needed).
    func syntheticCorpus(_ count: Int, seed: UInt64 = 1) -> [Int] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int(g.next() % 28) }
    }

    func quiet(_ configuration: inout LanguageModelTrainingConfiguration) {
        configuration.showProgress = false
    }

    // MARK: - Against PyTorch

    func testFirstTwentyStepsMatchPyTorch() throws {
        let f = try loadFixture("lm/gru-lm-train.safetensors")
        let config = try XCTUnwrap(f.metadata["config"])
        let vocab = try Vocab(idxToToken: try JSONDecoder().decode(Config.self, from: Data(config.utf8)).vocab)
        XCTAssertEqual(vocab.count, 28)
        // The fixed batches are the toolkit's sequential partitioning with offset 3.
        let corpus = try f.ints("corpus")
        let xs = try f.ints("x"), ys = try f.ints("y")
        let batches = Array(try seqDataIterSequential(corpus, batchSize: 4, numSteps: 8, offset: 3).prefix(20))
        XCTAssertEqual(batches.count, 20)
        XCTAssertEqual(batches.flatMap { $0.x.flatMap { $0 } }, xs)
        XCTAssertEqual(batches.flatMap { $0.y.flatMap { $0 } }, ys)

        let net = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 32)
        try net.loadStateDict(try f.state())
        var configuration = LanguageModelTrainingConfiguration(epochs: 1, learningRate: 1)
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: vocab, configuration: configuration)
        let metrics = try trainer.trainEpoch(batches, useRandomIter: false)
        let losses = try f.tensor("losses").scalars
        XCTAssertEqual(trainer.batchLosses.count, 20)
        for (i, (ours, theirs)) in zip(trainer.batchLosses, losses).enumerated() {
            XCTAssertEqual(ours, theirs, accuracy: 1e-3, "loss \(i)")
        }
        let mean = losses.reduce(0) { $0 + Double($1) } / Double(losses.count)
        XCTAssertEqual(metrics.perplexity, exp(mean), accuracy: 1e-3 * exp(mean))
        XCTAssertEqual(metrics.tokens, 20 * 32)
        for (key, value) in try f.state(prefix: "final.") {
            let p = try XCTUnwrap(net.namedParameters().first { $0.name == key }?.parameter, key)
            assertClose(p.value, value, atol: 1e-4, rtol: 1e-4, "final.\(key)")
        }
    }

    struct Config: Decodable { var vocab: [String] }

    // MARK: - A short run on the novel

    func testShortRunOnTheNovelLowersPerplexityAndWritesFiles() throws {
        let path = try novelPath()
        let dir = try temporaryDirectory()
        Random.seed(3)
        let loader = try SeqDataLoader(batchSize: 8, numSteps: 16, maxTokens: 2000, path: path, seed: 5)
        let net = try LanguageModels.make("gru-lm", vocabSize: loader.vocab.count, hidden: 32)
        var configuration = LanguageModelTrainingConfiguration(epochs: 6, learningRate: 1)
        configuration.outputDirectory = dir
        configuration.predictEvery = 3
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: loader.vocab, configuration: configuration)
        var lines: [String] = []
        trainer.log = { lines.append($0) }
        let history = try trainer.fit(loader)
        XCTAssertEqual(history.map(\.epoch), [1, 2, 3, 4, 5, 6])
        XCTAssertLessThan(history.last!.perplexity, history.first!.perplexity)
        XCTAssertLessThan(history.last!.perplexity, 20)
        XCTAssertTrue(history.allSatisfy { $0.tokensPerSecond > 0 && $0.tokens > 0 })
        // Two periodic predictions, then the summary and the two final ones (book's train_ch8).
        XCTAssertEqual(lines.count, 5, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("time traveller") && lines[1].hasPrefix("time traveller"))
        XCTAssertTrue(lines[2].hasPrefix("perplexity "), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("time traveller") && lines[4].hasPrefix("traveller"))
        XCTAssertEqual(lines[3].count, "time traveller".count + 50)

        let log = try MetricsLog.read(path: dir + "/metrics.csv")
        XCTAssertEqual(log.columns, ["epoch", "perplexity", "tokens_per_sec"])
        XCTAssertEqual(log.rows.count, 6)
        XCTAssertEqual(log.rows.last![1], history.last!.perplexity, accuracy: 1e-4 * history.last!.perplexity)
        let svg = try String(contentsOfFile: dir + "/curves.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg") && svg.contains("perplexity"))
        // The checkpoint is the final model, with its vocabulary.
        let file = try SafeTensorsFile.read(path: dir + "/checkpoint.safetensors")
        XCTAssertEqual(file.metadata["d2l.vocab"], loader.vocab.json())
        let copy = try LanguageModels.make("gru-lm", vocabSize: loader.vocab.count, hidden: 32)
        try copy.loadCheckpoint(from: dir + "/checkpoint.safetensors")
        XCTAssertEqual(try copy.predict(prefix: "time", numTokens: 20, idxToToken: loader.vocab.idxToToken),
                       try trainer.predict("time", numTokens: 20))
    }

    func testRandomSamplingTrainsWithFreshStates() throws {
        let corpus = syntheticCorpus(600)
        Random.seed(4)
        let loader = try SeqDataLoader(corpus: corpus, vocab: Self.letters, batchSize: 4, numSteps: 10,
                                       useRandomIter: true, seed: 2)
        let net = try LanguageModels.make("lstm-lm", vocabSize: 28, hidden: 16)
        var configuration = LanguageModelTrainingConfiguration(epochs: 2, learningRate: 1)
        configuration.predictEvery = 0
        configuration.predictPrefixes = []
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: configuration)
        let history = try trainer.fit(loader)
        XCTAssertEqual(history.count, 2)
        XCTAssertTrue(history.allSatisfy { $0.perplexity.isFinite && $0.perplexity > 1 })

        // With reinitialise the state passed in is ignored; without it, it is carried (detached).
        let batch = loader.batches(epoch: 0)[0]
        var state: RecurrentState? = RecurrentState(h: Tensor.ones([1, 4, 16]), c: Tensor.ones([1, 4, 16]))
        let reference = try withNoGrad { try crossEntropy(net(batch.x, nil).0, (0..<10).flatMap { t in batch.y.map { $0[t] } }) }
        let loss = try trainer.step(batch, state: &state, reinitialise: true)
        XCTAssertEqual(loss, reference.item, accuracy: 1e-6)
        XCTAssertEqual(state?.h.shape, [1, 4, 16])
        XCTAssertFalse(state!.detached().h.requiresGrad)
    }

    // MARK: - Failure

    func testNaNStopsTrainingAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try temporaryDirectory()
        Random.seed(6)
        let loader = try SeqDataLoader(corpus: syntheticCorpus(500), vocab: Self.letters, batchSize: 4, numSteps: 8, seed: 1)
        let net = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 8)
        var configuration = LanguageModelTrainingConfiguration(epochs: 3, learningRate: 1)
        configuration.outputDirectory = dir
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: configuration)
        trainer.log = { _ in }
        var good: [String: [Float]] = [:]
        trainer.onEpoch = { metrics in
            guard metrics.epoch == 1 else { return }
            for (name, p) in net.namedParameters() { good[name] = p.value.scalars }
            var poisoned = net.rnn.cells[0].weightHH.value
            poisoned.withUnsafeMutableValues { $0[0] = .nan }
            net.rnn.cells[0].weightHH.assign(poisoned)
        }
        XCTAssertThrowsError(try trainer.fit(loader)) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .numerical, "\(error)")
            XCTAssertTrue("\(error)".contains("epoch 2, batch 1") && "\(error)".contains("nan"), "\(error)")
            XCTAssertTrue("\(error)".contains("checkpoint.safetensors"), "\(error)")
        }
        XCTAssertEqual(trainer.history.count, 1)
        let file = try SafeTensorsFile.read(path: dir + "/checkpoint.safetensors")
        for (name, values) in good {
            XCTAssertEqual(try XCTUnwrap(file[name]).floats(), values, name)
        }
        XCTAssertEqual(try MetricsLog.read(path: dir + "/metrics.csv").rows.count, 1)
    }

    func testBadInput() throws {
        func expectInvalid(_ what: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), what) { error in
                XCTAssertEqual((error as? ToolkitError)?.kind, .invalidArgument, "\(what): \(error)")
            }
        }
        let net = try LanguageModels.make("rnn-lm", vocabSize: 28, hidden: 4)
        expectInvalid("hidden 0") { _ = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 0) }
        expectInvalid("hidden -3") { _ = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: -3) }
        expectInvalid("layers 0") { _ = try LanguageModels.make("lstm-lm", vocabSize: 28, layers: 0) }
        expectInvalid("unknown arch") { _ = try LanguageModels.make("transformer", vocabSize: 28) }
        expectInvalid("epochs -1") {
            _ = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: .init(epochs: -1, learningRate: 1))
        }
        expectInvalid("lr 0") {
            _ = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: .init(epochs: 1, learningRate: 0))
        }
        expectInvalid("lr nan") {
            _ = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: .init(epochs: 1, learningRate: .nan))
        }
        expectInvalid("vocabulary size") {
            _ = try LanguageModelTrainer(model: net, vocab: try Vocab(idxToToken: ["<unk>", "a"]), configuration: .init())
        }
        expectInvalid("batch 0") {
            _ = try SeqDataLoader(corpus: self.syntheticCorpus(100), vocab: Self.letters, batchSize: 0, numSteps: 5)
        }
        expectInvalid("steps 0") {
            _ = try SeqDataLoader(corpus: self.syntheticCorpus(100), vocab: Self.letters, batchSize: 2, numSteps: 0)
        }
        // A corpus too small for one minibatch: the Text module says how much is needed.
        XCTAssertThrowsError(try SeqDataLoader(corpus: syntheticCorpus(100), vocab: Self.letters, batchSize: 32, numSteps: 35)) {
            XCTAssertTrue("\($0)".contains("needs at least 1156"), "\($0)")
        }
        // A zero-epoch run trains nothing and prints nothing.
        var configuration = LanguageModelTrainingConfiguration(epochs: 0, learningRate: 1)
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: configuration)
        var printed = 0
        trainer.log = { _ in printed += 1 }
        let loader = try SeqDataLoader(corpus: syntheticCorpus(200), vocab: Self.letters, batchSize: 2, numSteps: 5)
        XCTAssertEqual(try trainer.fit(loader), [])
        XCTAssertEqual(printed, 0)
    }

    func testCheckpointFromAnotherVocabularyNamesTheShapes() throws {
        let dir = try temporaryDirectory()
        let other = try LanguageModels.make("gru-lm", vocabSize: 30, hidden: 8)
        try other.saveCheckpoint(to: dir + "/other.safetensors")
        let net = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 8)
        let before = net.linear.weight.value.scalars
        var configuration = LanguageModelTrainingConfiguration()
        quiet(&configuration)
        let trainer = try LanguageModelTrainer(model: net, vocab: Self.letters, configuration: configuration)
        XCTAssertThrowsError(try trainer.loadCheckpoint(from: dir + "/other.safetensors")) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? ToolkitError)?.kind, .shape)
            XCTAssertTrue(text.contains("vocabulary of 30 tokens") && text.contains("model's is 28"), text)
            XCTAssertTrue(text.contains("linear.weight: checkpoint [30, 8], model [28, 8]"), text)
            XCTAssertTrue(text.contains("rnn.weight_ih_l0: checkpoint [24, 30], model [24, 28]"), text)
        }
        XCTAssertEqual(net.linear.weight.value.scalars, before, "nothing changes on error")
        // The same vocabulary loads.
        let same = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 8)
        try same.saveCheckpoint(to: dir + "/same.safetensors")
        try trainer.loadCheckpoint(from: dir + "/same.safetensors")
        XCTAssertEqual(net.linear.weight.value.scalars, same.linear.weight.value.scalars)
    }
}
