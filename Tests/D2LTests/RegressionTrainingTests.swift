import XCTest
@testable import D2L

final class RegressionTrainingTests: XCTestCase {
    /// x = [1, 2, 3], y = [2, 4, 7] and the line y = 1·x + 0: errors −1, −2, −4, squares 1, 4, 16.
    private func tinyProblem() -> (Linear, Tensor, Tensor) {
        let net = Linear(1, 1)
        net.weight.assign(Tensor([[1]]))
        net.bias!.assign(Tensor([0]))
        return (net, Tensor([[1], [2], [3]]), Tensor([[2], [4], [7]]))
    }

    func testEvaluateLossIsTheMeanOverTheDataset() throws {
        let (net, x, y) = tinyProblem()
        let perElement: RegressionLoss = { try mseLoss($0, $1, reduction: .none) }
        // (1 + 4 + 16) / 3, whatever the batches, per-element or batch-mean losses.
        for batchSize in [1, 2, 3, 10] {
            XCTAssertEqual(try evaluateLoss(net, on: x, labels: y, loss: perElement, batchSize: batchSize), 7, accuracy: 1e-6)
            XCTAssertEqual(try evaluateLoss(net, on: x, labels: y, loss: { try mseLoss($0, $1) }, batchSize: batchSize),
                           7, accuracy: 1e-6)
        }
        XCTAssertEqual(try evaluateLoss(net, on: x, labels: y, loss: squaredLoss), 3.5, accuracy: 1e-6)
        // A closure model (the book's lambda X: linreg(X, w, b)).
        XCTAssertEqual(try evaluateLoss({ $0 * 2 }, on: x, labels: y, loss: perElement), 1.0 / 3, accuracy: 1e-6)
        // Eval mode during, the previous mode after; no gradients recorded.
        net.train()
        let probe = ModeProbe()
        _ = try evaluateLoss(Sequential(probe, net), on: x, labels: y, loss: perElement)
        XCTAssertEqual(probe.seenTraining, [false])
        XCTAssertTrue(net.isTraining)
        XCTAssertNil(net.weight.grad)
    }

    func testOneFullBatchEpochIsOneGradientStep() throws {
        let (net, x, y) = tinyProblem()
        var generator = SeededGenerator(seed: 1)
        let optimizer = SGD(net.parameters(), learningRate: 0.1)
        var seen: [Int] = []
        let history = try trainRegression(model: net, features: x, labels: y, loss: { try mseLoss($0, $1) },
                                          optimizer: optimizer, epochs: 1, batchSize: 3, test: (x * 2, y),
                                          generator: &generator) { seen.append($0.epoch) }
        // dL/dw = 2/3 Σ e·x = −34/3, dL/db = 2/3 Σ e = −14/3 (e = −1, −2, −4).
        let w = 1 + 0.1 * 34.0 / 3, b = 0.1 * 14.0 / 3
        XCTAssertEqual(Double(net.weight.value.item), w, accuracy: 1e-5)
        XCTAssertEqual(Double(net.bias!.value.item), b, accuracy: 1e-5)
        let trainLoss = zip([1.0, 2, 3], [2.0, 4, 7]).map { (w * $0 + b - $1) * (w * $0 + b - $1) }.reduce(0, +) / 3
        let testLoss = zip([2.0, 4, 6], [2.0, 4, 7]).map { (w * $0 + b - $1) * (w * $0 + b - $1) }.reduce(0, +) / 3
        XCTAssertEqual(history.count, 1)
        XCTAssertEqual(history[0].epoch, 1)
        XCTAssertEqual(history[0].trainLoss, trainLoss, accuracy: 1e-4)
        XCTAssertEqual(history[0].testLoss, testLoss, accuracy: 1e-4)
        XCTAssertEqual(seen, [1])
    }

    func testRecoversTheBooksLine() throws {
        var generator = SeededGenerator(seed: 7)
        let trueW = Tensor([2, -3.4])
        let (features, labels) = syntheticLinearData(weights: trueW, bias: 4.2, count: 1000, using: &generator)
        let net = Linear(2, 1)
        net.weight.assign(Tensor.randn([1, 2], std: 0.01, using: &generator))
        net.bias!.assign(Tensor.zeros([1]))
        let history = try trainRegression(model: net, features: features, labels: labels, loss: { try mseLoss($0, $1) },
                                          optimizer: SGD(net.parameters(), learningRate: 0.03), epochs: 3,
                                          batchSize: 10, generator: &generator)
        XCTAssertEqual(history.map(\.epoch), [1, 2, 3])
        XCTAssertTrue(history.allSatisfy { $0.testLoss.isNaN })
        XCTAssertLessThan(history[2].trainLoss, 1e-3)
        XCTAssertLessThanOrEqual(history[2].trainLoss, history[0].trainLoss)
        let w = net.weight.value.scalars
        XCTAssertEqual(w[0], 2, accuracy: 0.01)
        XCTAssertEqual(w[1], -3.4, accuracy: 0.01)
        XCTAssertEqual(net.bias!.value.item, 4.2, accuracy: 0.01)
    }

    func testErrors() throws {
        let (net, x, y) = tinyProblem()
        var generator = SeededGenerator(seed: 1)
        let loss: RegressionLoss = { try mseLoss($0, $1) }
        assertDataToolkitError(.shape, containing: ["[3, 1]", "[2, 1]", "differ in rows"]) {
            _ = try evaluateLoss(net, on: x, labels: y.slice(axis: 0, start: 0, end: 2), loss: loss)
        }
        assertDataToolkitError(.invalidArgument, containing: ["batch size", "0"]) {
            _ = try evaluateLoss(net, on: x, labels: y, loss: loss, batchSize: 0)
        }
        assertDataToolkitError(.invalidArgument, containing: ["epochs", "-1"]) {
            _ = try trainRegression(model: net, features: x, labels: y, loss: loss, optimizer: SGD(net.parameters(), learningRate: 0.1),
                                    epochs: -1, batchSize: 2, generator: &generator)
        }
        assertDataToolkitError(.numerical, containing: ["epoch 1", "batch 1"]) {
            _ = try trainRegression(model: net, features: x, labels: y + Float.nan, loss: loss,
                                    optimizer: SGD(net.parameters(), learningRate: 0.1), epochs: 1, batchSize: 3,
                                    generator: &generator)
        }
        XCTAssertEqual(try trainRegression(model: net, features: x, labels: y, loss: loss,
                                           optimizer: SGD(net.parameters(), learningRate: 0.1), epochs: 0, batchSize: 2,
                                           generator: &generator), [])
    }
}

/// Records whether it ran in training mode; passes its input through.
private final class ModeProbe: Module {
    var seenTraining: [Bool] = []
    override func forward(_ input: Tensor) throws -> Tensor {
        seenTraining.append(isTraining)
        return input
    }
}
