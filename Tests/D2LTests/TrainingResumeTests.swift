import Foundation
import XCTest
@testable import D2L

/// Resuming a run (`TrainingRun`): a run of N epochs stopped after k and resumed ends with
/// the checkpoint of an uninterrupted run (weights, optimizer state, random state, epoch
/// count and metrics continued), and runs that cannot continue are refused.
final class TrainingResumeTests: XCTestCase {
    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "d2l-resume-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// A small classifier with dropout (so the run draws from `Random.generator`).
    private func makeClassifier() -> Module {
        Sequential(Flatten(), Linear(784, 32), ReLU(), Dropout(0.5), Linear(32, 10))
    }

    private func configuration(epochs: Int, dir: String, optimizer: TrainingConfiguration.OptimizerKind = .sgd,
                               resume: Bool = false) -> TrainingConfiguration {
        var configuration = TrainingConfiguration(epochs: epochs, batchSize: 16,
                                                  learningRate: optimizer == .sgd ? 0.1 : 0.01)
        configuration.optimizer = optimizer
        configuration.momentum = optimizer == .sgd ? 0.9 : 0
        configuration.seed = 7
        configuration.outputDirectory = dir
        configuration.showProgress = false
        configuration.resume = resume
        configuration.run = ["arch": "test-mlp"]
        return configuration
    }

    /// Trains `epochs` epochs in `dir` from a model initialised with seed 1 (or resumes).
    @discardableResult
    private func train(epochs: Int, dir: String, optimizer: TrainingConfiguration.OptimizerKind = .sgd,
                       resume: Bool = false, train: ImageDataset, test: ImageDataset) throws -> Trainer {
        Random.seed(1)
        let trainer = try Trainer(model: makeClassifier(),
                                  configuration: configuration(epochs: epochs, dir: dir, optimizer: optimizer, resume: resume))
        try trainer.fit(train: train, test: test)
        return trainer
    }

    /// The largest |difference| between two checkpoints' tensors (they must have the same keys).
    private func maxDifference(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        let x = try SafeTensorsFile.read(path: a), y = try SafeTensorsFile.read(path: b)
        XCTAssertEqual(x.names, y.names, file: file, line: line)
        var worst: Float = 0
        for name in x.names {
            guard let p = try x[name]?.floats(), let q = try y[name]?.floats(), p.count == q.count else {
                XCTFail("\(name) differs in size", file: file, line: line)
                return .infinity
            }
            for (u, v) in zip(p, q) { worst = max(worst, abs(u - v)) }
        }
        return worst
    }

    private func fashionSubsets() throws -> (train: ImageDataset, test: ImageDataset) {
        (try FashionMNIST.load(train: true).prefix(48), try FashionMNIST.load(train: false).prefix(32))
    }

    func testStoppedAndResumedRunEndsAsAnUninterruptedOne() throws {
        let (train, test) = try fashionSubsets()
        for optimizer in [TrainingConfiguration.OptimizerKind.sgd, .adam] {
            let whole = try temporaryDirectory(), resumed = try temporaryDirectory()
            let uninterrupted = try self.train(epochs: 3, dir: whole, optimizer: optimizer, train: train, test: test)
            try self.train(epochs: 1, dir: resumed, optimizer: optimizer, train: train, test: test)
            XCTAssertTrue(FileManager.default.fileExists(atPath: resumed + "/optimizer.safetensors"), "\(optimizer)")
            let continued = try self.train(epochs: 3, dir: resumed, optimizer: optimizer, resume: true, train: train, test: test)
            XCTAssertLessThanOrEqual(try maxDifference(whole + "/checkpoint.safetensors", resumed + "/checkpoint.safetensors"),
                                     1e-6, "\(optimizer)")
            XCTAssertLessThanOrEqual(try maxDifference(whole + "/optimizer.safetensors", resumed + "/optimizer.safetensors"),
                                     1e-6, "\(optimizer)")
            // The epochs and the log continue: 1, 2, 3.
            XCTAssertEqual(continued.history.map(\.epoch), [1, 2, 3])
            let log = try MetricsLog.read(path: resumed + "/metrics.csv"), reference = try MetricsLog.read(path: whole + "/metrics.csv")
            XCTAssertEqual(log.rows.map { $0[0] }, [1, 2, 3])
            XCTAssertEqual(log.rows.map { $0[1] }, reference.rows.map { $0[1] }, "train loss per epoch, \(optimizer)")
            XCTAssertEqual(continued.history.last?.testAccuracy, uninterrupted.history.last?.testAccuracy)
            let record = try RunRecord(metadata: SafeTensorsFile.read(path: resumed + "/checkpoint.safetensors").metadata,
                                       source: "checkpoint")
            XCTAssertEqual(record?.epoch, 3)
        }
    }

    func testContinuingWithTheWeightsAloneDiffers() throws {
        // The equality above needs the optimizer and random state: weights alone do not give it.
        let (train, test) = try fashionSubsets()
        let whole = try temporaryDirectory(), naive = try temporaryDirectory()
        try self.train(epochs: 3, dir: whole, train: train, test: test)
        let first = try self.train(epochs: 1, dir: naive, train: train, test: test)
        let configuration = configuration(epochs: 2, dir: naive)
        let again = try Trainer(model: first.model, configuration: configuration)
        try again.fit(train: train, test: test)
        XCTAssertGreaterThan(try maxDifference(whole + "/checkpoint.safetensors", naive + "/checkpoint.safetensors"), 1e-4)
    }

    func testEpochLoggedButNotSavedIsTrainedAgain() throws {
        let (train, test) = try fashionSubsets()
        let whole = try temporaryDirectory(), resumed = try temporaryDirectory()
        try self.train(epochs: 2, dir: whole, train: train, test: test)
        try self.train(epochs: 1, dir: resumed, train: train, test: test)
        // A run stopped after logging epoch 2, before its checkpoint was saved.
        let log = try MetricsLog(path: resumed + "/metrics.csv",
                                 columns: ["epoch", "train_loss", "train_acc", "test_acc", "examples_per_sec"], resume: true)
        try log.append([2, 9, 9, 9, 9])
        try self.train(epochs: 2, dir: resumed, resume: true, train: train, test: test)
        XCTAssertLessThanOrEqual(try maxDifference(whole + "/checkpoint.safetensors", resumed + "/checkpoint.safetensors"), 1e-6)
        let rows = try MetricsLog.read(path: resumed + "/metrics.csv").rows
        XCTAssertEqual(rows.map { $0[0] }, [1, 2])
        XCTAssertNotEqual(rows[1][1], 9)
    }

    func testRunsThatCannotContinueAreRefusedAndNothingChanges() throws {
        let (train, test) = try fashionSubsets()
        let dir = try temporaryDirectory()
        let identity = configuration(epochs: 2, dir: dir).identity
        func refused(_ pattern: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertTrue(ToolkitError.line(for: error).contains(pattern), "\(error)", line: line)
            }
        }
        // No checkpoint yet.
        refused("does not exist") { try TrainingRun.preflight(directory: dir, resume: true, force: false, identity: identity, epochs: 2) }
        refused("does not exist") { try self.train(epochs: 2, dir: dir, resume: true, train: train, test: test) }
        XCTAssertNil(try TrainingRun.preflight(directory: dir, resume: false, force: false, identity: identity, epochs: 2))
        try self.train(epochs: 1, dir: dir, train: train, test: test)
        let saved = try AtomicFile.read(dir + "/checkpoint.safetensors")
        // A new run does not overwrite it without force.
        refused("--force") { try TrainingRun.preflight(directory: dir, resume: false, force: false, identity: identity, epochs: 2) }
        XCTAssertNil(try TrainingRun.preflight(directory: dir, resume: false, force: true, identity: identity, epochs: 2))
        // Another run's settings, a finished run.
        var other = identity
        other["lr"] = "0.5"
        refused("lr 0.1 there, 0.5 here") { try TrainingRun.preflight(directory: dir, resume: true, force: false, identity: other, epochs: 2) }
        refused("finished (1 epoch of 1)") { try TrainingRun.preflight(directory: dir, resume: true, force: false, identity: identity, epochs: 1) }
        XCTAssertEqual(try TrainingRun.preflight(directory: dir, resume: true, force: false, identity: identity, epochs: 2)?.epoch, 1)
        // A checkpoint without a run record.
        let bare = try temporaryDirectory()
        try makeClassifier().saveCheckpoint(to: bare + "/checkpoint.safetensors")
        refused("no run record") { try TrainingRun.preflight(directory: bare, resume: true, force: false, identity: identity, epochs: 2) }
        XCTAssertEqual(try AtomicFile.read(dir + "/checkpoint.safetensors"), saved, "nothing was written")
        // Folders that cannot be written.
        refused("cannot write to '\(dir)/checkpoint.safetensors': it is a file") {
            try TrainingRun.checkWritable(dir + "/checkpoint.safetensors")
        }
        refused("cannot write to '\(dir)/checkpoint.safetensors/x'") { try TrainingRun.checkWritable(dir + "/checkpoint.safetensors/x") }
        XCTAssertNoThrow(try TrainingRun.checkWritable(dir + "/new/sub"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/new"), "the check creates nothing")
    }

    func testLanguageModelRunResumesWithItsSamplerAndEpochs() throws {
        let vocab = LanguageModelTrainerTests.letters
        var generator = SeededGenerator(seed: 5)
        let corpus = (0..<400).map { _ in Int(generator.next() % 28) }
        func run(epochs: Int, dir: String, resume: Bool = false) throws -> LanguageModelTrainer {
            Random.seed(2)
            let net = try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 8)
            var configuration = LanguageModelTrainingConfiguration(epochs: epochs, learningRate: 1)
            configuration.outputDirectory = dir
            configuration.showProgress = false
            configuration.predictEvery = 0
            configuration.predictPrefixes = []
            configuration.resume = resume
            configuration.run = ["arch": "gru-lm"]
            let trainer = try LanguageModelTrainer(model: net, vocab: vocab, configuration: configuration)
            let loader = try SeqDataLoader(corpus: corpus, vocab: vocab, batchSize: 4, numSteps: 5, useRandomIter: true, seed: 3)
            try trainer.fit(loader)
            return trainer
        }
        let whole = try temporaryDirectory(), resumed = try temporaryDirectory()
        _ = try run(epochs: 3, dir: whole)
        _ = try run(epochs: 1, dir: resumed)
        let continued = try run(epochs: 3, dir: resumed, resume: true)
        XCTAssertEqual(continued.history.map(\.epoch), [1, 2, 3])
        XCTAssertLessThanOrEqual(try maxDifference(whole + "/checkpoint.safetensors", resumed + "/checkpoint.safetensors"), 1e-6)
        XCTAssertEqual(try MetricsLog.read(path: resumed + "/metrics.csv").rows.map { $0[0] }, [1, 2, 3])
        XCTAssertThrowsError(try run(epochs: 3, dir: resumed, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("finished (3 epochs of 3)"), "\(error)")
        }
    }

    func testOptimizerStateRoundTripsAndBadEntriesAreRefused() throws {
        let p = Parameter(Tensor([1, 2, 3], shape: [3]))
        let sgd = SGD([p], learningRate: 0.1, momentum: 0.9)
        (p.value * p.value).sum().backward()
        sgd.step()
        let entries = sgd.stateEntries()
        XCTAssertEqual(entries.map(\.name), ["momentum_buffer.0"])
        let copy = SGD([p], learningRate: 0.1, momentum: 0.9)
        try copy.loadStateEntries(entries)
        XCTAssertEqual(copy.stateEntries().map(\.values), entries.map(\.values))
        XCTAssertThrowsError(try copy.loadStateEntries([("momentum_buffer.1", [0, 0, 0])]))
        XCTAssertThrowsError(try copy.loadStateEntries([("momentum_buffer.0", [0, 0])]))
        let adam = Adam([p])
        adam.step()
        XCTAssertEqual(copy.stateEntries().count, 1)
        XCTAssertEqual(adam.stateEntries().map(\.name), ["exp_avg.0", "exp_avg_sq.0", "step.0"])
        XCTAssertThrowsError(try Adam([p]).loadStateEntries([("step.0", [1.5])]))
    }
}
