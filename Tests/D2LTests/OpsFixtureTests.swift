import XCTest
@testable import D2L

/// Tensor ops' outputs and gradients against PyTorch (Tests/Fixtures/toolkit/ops).
final class OpsFixtureTests: XCTestCase {
    /// Case name → the op on (a, b).
    static let cases: [String: ([Tensor]) -> Tensor] = [
        "add": { $0[0] + $0[1] }, "sub": { $0[0] - $0[1] }, "mul": { $0[0] * $0[1] }, "div": { $0[0] / $0[1] },
        "mul-scalar": { $0[0] * 2.5 },
        "matmul": { Tensor.matmul($0[0], $0[1]) }, "matmul-batched": { Tensor.matmul($0[0], $0[1]) },
        "matmul-batched-broadcast": { Tensor.matmul($0[0], $0[1]) },
        "mv": { $0[0].mv($0[1]) }, "dot": { $0[0].dot($0[1]) },
        "exp": { $0[0].exp() }, "log": { $0[0].log() }, "pow-2": { $0[0].pow(2) }, "sqrt": { $0[0].sqrt() },
        "abs": { $0[0].abs() }, "neg": { -$0[0] },
        "sum-all": { $0[0].sum() }, "sum-axis1-keepdim": { $0[0].sum(axis: 1, keepDims: true) },
        "mean-all": { $0[0].mean() }, "mean-axis0": { $0[0].mean(axis: 0) },
        "max-axis1": { $0[0].max(axis: 1) }, "logsumexp-axis1": { $0[0].logSumExp(axis: 1) },
        "reshape": { $0[0].reshaped([2, 6]) }, "transpose-0-1": { $0[0].transposed(0, 1) },
        "permute-2-0-1": { $0[0].permuted([2, 0, 1]) },
        "concat-axis1": { Tensor.concat([$0[0], $0[1]], axis: 1) },
        "slice": { $0[0][.range(1..<3), .range(0..<6, step: 2)] },
        "index-select": { $0[0].indexSelect([2, 0, 2]) },
        "clamp-min0": { $0[0].clamped(min: 0) }, "maximum": { Tensor.maximum($0[0], $0[1]) },
        "cumsum-axis1": { $0[0].cumsum(axis: 1) },
        "norm-l2": { $0[0].norm() }, "norm-frobenius": { $0[0].norm() }, "norm-l1": { $0[0].l1Norm() },
    ]

    func testEveryOpMatchesPyTorch() throws {
        let folder = toolkitFixture("ops")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }
        XCTAssertGreaterThanOrEqual(files.count, 30)
        for fileName in files.sorted() {
            let name = String(fileName.dropLast(".safetensors".count))
            guard let op = Self.cases[name] else { XCTFail("no Swift op for fixture \(name)"); continue }
            let f = try loadFixture("ops/" + fileName)
            var inputs = [try f.tensor("a").requiringGrad()]
            if f["b"] != nil { inputs.append(try f.tensor("b").requiringGrad()) }
            let output = op(inputs)
            assertClose(output, try f.tensor("output"), "\(name) output")
            output.backward(try f.tensor("grad_output"))
            assertClose(inputs[0].grad ?? Tensor.zeros(inputs[0].shape), try f.tensor("grad_a"), "\(name) grad_a")
            if inputs.count > 1 {
                assertClose(inputs[1].grad ?? Tensor.zeros(inputs[1].shape), try f.tensor("grad_b"), "\(name) grad_b")
            }
        }
    }
}

/// Layers without convolutions, activations and losses against PyTorch (layers/).
final class BasicLayerFixtureTests: XCTestCase {
    private func check(_ name: String, _ layer: Module? = nil, _ apply: ((Tensor) throws -> Tensor)? = nil) throws {
        let f = try loadFixture("layers/\(name).safetensors")
        if let layer { try layer.loadStateDict(try f.state()) }
        let input = try f.tensor("input").requiringGrad()
        let output = try (apply ?? { try layer!($0) })(input)
        assertClose(output, try f.tensor("output"), "\(name) output")
        output.backward(try f.tensor("grad_output"))
        assertClose(input.grad ?? Tensor.zeros(input.shape), try f.tensor("grad_input"), "\(name) grad_input")
        if let layer {
            for (key, p) in layer.namedParameters() {
                assertClose(p.grad ?? Tensor.zeros(p.shape), try f.tensor("grad." + key), "\(name) grad.\(key)")
            }
        }
    }

    func testLinear() throws {
        try check("linear", Linear(7, 5))
        try check("linear-nobias", Linear(7, 5, bias: false))
        try check("linear-3d", Linear(7, 5))
    }

    func testActivationsAndShapes() throws {
        try check("relu", ReLU())
        try check("sigmoid", Sigmoid())
        try check("tanh", Tanh())
        try check("flatten", Flatten())
        let dropout = Dropout(0.5)
        dropout.eval()
        try check("dropout-eval", dropout)
        try check("softmax-dim1") { $0.softmax(axis: 1) }
        try check("logsoftmax-dim1") { $0.logSoftmax(axis: 1) }
    }

    func testLosses() throws {
        for name in ["cross-entropy", "cross-entropy-none", "cross-entropy-large-logits"] {
            let f = try loadFixture("layers/\(name).safetensors")
            let labels = try f.ints("target")
            try check(name) { try crossEntropy($0, labels, reduction: name.hasSuffix("none") ? .none : .mean) }
        }
        let f = try loadFixture("layers/mse.safetensors")
        let target = try f.tensor("target")
        try check("mse") { try mseLoss($0, target) }
    }

    func testEmbedding() throws {
        let f = try loadFixture("layers/embedding.safetensors")
        let layer = Embedding(10, 4)
        try layer.loadStateDict(try f.state())
        let ids = try f.ints("input")
        let output = try layer(Tensor(ids.map(Float.init), shape: [2, 3]))
        assertClose(output, try f.tensor("output"), "embedding output")
        output.backward(try f.tensor("grad_output"))
        assertClose(layer.weight.grad ?? Tensor.zeros([10, 4]), try f.tensor("grad.weight"), "embedding grad.weight")
        XCTAssertThrowsError(try layer(ids: [10])) { XCTAssertTrue("\($0)".contains("0..<10"), "\($0)") }
    }

    func testLossShapeErrorsNameBothShapes() {
        XCTAssertThrowsError(try mseLoss(Tensor.zeros([4, 1]), Tensor.zeros([4]))) { error in
            XCTAssertTrue("\(error)".contains("[4, 1]") && "\(error)".contains("[4]"), "\(error)")
        }
        XCTAssertThrowsError(try crossEntropy(Tensor.zeros([3, 10]), [1, 2])) { error in
            XCTAssertTrue("\(error)".contains("[3, 10]"), "\(error)")
        }
        XCTAssertThrowsError(try crossEntropy(Tensor.zeros([2, 10]), [1, 10]))
        XCTAssertThrowsError(try Linear(3, 2)(Tensor.zeros([4, 5]))) { error in
            XCTAssertTrue("\(error)".contains("[4, 5]"), "\(error)")
        }
    }

    func testStateDictMismatchListsEveryKey() {
        let net = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
        let state: [(name: String, value: Tensor)] = [
            ("0.weight", Tensor.zeros([3, 4])), ("0.bias", Tensor.zeros([5])),
            ("2.weight", Tensor.zeros([2, 3])), ("9.weight", Tensor.zeros([1])),
        ]
        let before = net.stateDict().map(\.value.scalars)
        XCTAssertThrowsError(try net.loadStateDict(state)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing keys: 2.bias"), text)
            XCTAssertTrue(text.contains("unexpected keys: 9.weight"), text)
            XCTAssertTrue(text.contains("0.bias: checkpoint [5], model [3]"), text)
        }
        XCTAssertEqual(net.stateDict().map(\.value.scalars), before, "nothing changes on error")
        XCTAssertEqual(net.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    }
}
