import XCTest
@testable import D2L

/// The first 20 steps of LeNet and MLP training on real Fashion-MNIST images, against
/// PyTorch: the same initial weights and batches give the same losses (within 1e-3), the
/// same final weights and (for clipping) the same gradient norms.
final class TrainingCurveTests: XCTestCase {
    static func lenet() -> Module {
        Sequential(Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2), Sigmoid(),
                   AvgPool2d(kernelSize: 2, stride: 2),
                   Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), Sigmoid(),
                   AvgPool2d(kernelSize: 2, stride: 2), Flatten(),
                   Linear(400, 120), Sigmoid(), Linear(120, 84), Sigmoid(), Linear(84, 10))
    }

    static func mlp() -> Module { Sequential(Flatten(), Linear(784, 256), ReLU(), Linear(256, 10)) }

    private func run(_ name: String, model: Module, initFile: String,
                     optimizer makeOptimizer: ([Parameter]) -> any Optimizer, clip: Float? = nil) throws {
        let data = try loadFixture("training/fashion-mnist-train-320.safetensors")
        let images = try data.tensor("images") / 255
        let labels = try data.ints("labels")
        try model.loadStateDict(try loadFixture("training/\(initFile).safetensors").state())
        let f = try loadFixture("training/\(name).safetensors")
        let expected = try f.tensor("losses").scalars
        let optimizer = makeOptimizer(model.parameters())
        var losses: [Float] = [], norms: [Float] = []
        for step in 0..<20 {
            let x = images[.range(step * 16 ..< (step + 1) * 16)]
            let y = Array(labels[step * 16 ..< (step + 1) * 16])
            optimizer.zeroGrad()
            let loss = try crossEntropy(try model(x), y)
            losses.append(loss.item)
            loss.backward()
            if let clip { norms.append(clipGradNorm(model.parameters(), maxNorm: clip)) }
            optimizer.step()
        }
        for (i, (a, b)) in zip(losses, expected).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-3, "\(name): loss of step \(i)")
        }
        if clip != nil {
            assertClose(Tensor(norms), try f.tensor("grad_norms"), atol: 1e-4, rtol: 1e-3, "\(name) grad norms")
        }
        let state = Dictionary(model.stateDict().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for key in f.names where key.hasPrefix("final.") {
            let param = String(key.dropFirst("final.".count))
            assertClose(state[param]!, try f.tensor(key), atol: 1e-4, rtol: 1e-3, "\(name) final \(param)")
        }
        for key in f.names where key.hasPrefix("final_rows.") {
            let param = String(key.dropFirst("final_rows.".count))
            let reference = try f.tensor(key)
            assertClose(state[param]![.range(0..<reference.shape[0])], reference, atol: 1e-4, rtol: 1e-3,
                        "\(name) final rows \(param)")
        }
        let logits = try withNoGrad { try model(images) }
        assertClose(logits, try f.tensor("final_logits"), atol: 1e-3, rtol: 1e-3, "\(name) final logits")
    }

    func testLeNetSGD() throws {
        try run("lenet-sgd", model: Self.lenet(), initFile: "init-lenet") { SGD($0, learningRate: 0.9) }
    }

    func testMLPSGD() throws {
        try run("mlp-sgd", model: Self.mlp(), initFile: "init-mlp") { SGD($0, learningRate: 0.1) }
    }

    func testMLPMomentumWeightDecay() throws {
        try run("mlp-momentum-wd", model: Self.mlp(), initFile: "init-mlp") {
            SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3)
        }
    }

    func testMLPAdam() throws {
        try run("mlp-adam", model: Self.mlp(), initFile: "init-mlp") { Adam($0, learningRate: 1e-3) }
    }

    func testMLPClipping() throws {
        try run("mlp-clip", model: Self.mlp(), initFile: "init-mlp", optimizer: { SGD($0, learningRate: 0.5) }, clip: 1.0)
    }
}
