import Foundation
import XCTest
@testable import D2L

final class TrainerTests: XCTestCase {
    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "d2l-trainer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testShortRunWritesMetricsCurvesAndCheckpoint() throws {
        let train = try FashionMNIST.load(train: true).prefix(1024)
        let test = try FashionMNIST.load(train: false).prefix(512)
        Random.seed(1)
        let net = Sequential(Flatten(), Linear(784, 64), ReLU(), Linear(64, 10))
        let dir = try temporaryDirectory()
        var configuration = TrainingConfiguration(epochs: 2, batchSize: 64, learningRate: 0.1)
        configuration.outputDirectory = dir
        configuration.showProgress = false
        let trainer = try Trainer(model: net, configuration: configuration)
        let history = try trainer.fit(train: train, test: test)
        XCTAssertEqual(history.count, 2)
        XCTAssertLessThan(history[1].trainLoss, history[0].trainLoss)
        XCTAssertGreaterThan(history[1].testAccuracy, 0.5)
        let log = try MetricsLog.read(path: dir + "/metrics.csv")
        XCTAssertEqual(log.columns, ["epoch", "train_loss", "train_acc", "test_acc", "examples_per_sec"])
        XCTAssertEqual(log.rows.count, 2)
        XCTAssertTrue(try String(contentsOfFile: dir + "/curves.svg", encoding: .utf8).contains("test acc"))
        // The checkpoint restores the trained weights into a fresh model.
        let copy = Sequential(Flatten(), Linear(784, 64), ReLU(), Linear(64, 10))
        try copy.loadCheckpoint(from: dir + "/checkpoint.safetensors")
        let x = try ImageBatches(test, batchSize: 8, shuffle: false).makeIterator().next()!.images
        assertClose(try copy(x), try net(x), atol: 0, rtol: 0, "restored model")
        XCTAssertEqual(try evaluateAccuracy(copy, on: test), history[1].testAccuracy, accuracy: 1e-12)
    }

    func testNaNLossStopsAndKeepsLastGoodCheckpoint() throws {
        let train = try FashionMNIST.load(train: true).prefix(512)
        let net = Sequential(Flatten(), Linear(784, 10))
        let dir = try temporaryDirectory()
        var configuration = TrainingConfiguration(epochs: 3, batchSize: 128, learningRate: 0.1)
        configuration.outputDirectory = dir
        configuration.showProgress = false
        let trainer = try Trainer(model: net, configuration: configuration)
        try trainer.fit(train: train, test: nil)
        let good = try SafeTensorsFile.read(path: dir + "/checkpoint.safetensors")
        // Poison a weight: the next epoch's loss is NaN.
        let weight = net.namedParameters()[0].parameter
        weight.update { $0[0] = .nan }
        let again = try Trainer(model: net, configuration: configuration)
        XCTAssertThrowsError(try again.fit(train: train, test: nil)) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .numerical)
            XCTAssertTrue("\(error)".contains("checkpoint"), "\(error)")
        }
        let kept = try SafeTensorsFile.read(path: dir + "/checkpoint.safetensors")
        XCTAssertEqual(try kept["1.weight"]?.floats(), try good["1.weight"]?.floats())
    }

    func testBadSettingsAreRefused() {
        let net = Sequential(Linear(2, 2))
        XCTAssertThrowsError(try Trainer(model: net, configuration: TrainingConfiguration(epochs: 1, batchSize: 0, learningRate: 0.1)))
        XCTAssertThrowsError(try Trainer(model: net, configuration: TrainingConfiguration(epochs: 1, batchSize: 4, learningRate: -1)))
        XCTAssertThrowsError(try TrainingRecipe.book("resnet99")) { error in
            XCTAssertTrue("\(error)".contains("lenet"), "\(error)")
        }
    }
}
