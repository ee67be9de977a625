import Foundation
import XCTest
@testable import D2LRuntime

/// Operator fusion (Execution/Fusion.swift): every fused plan gives the unfused plan's
/// outputs within 1e-5, patterns that must not fuse stay apart, and the zoo fixtures run
/// the same fused and unfused.
final class FusionTests: XCTestCase {
    /// One plan's outputs and what it fused.
    struct PlanResult {
        var outputs: [[Float]]
        var shapes: [[Int]]
        var fusions: [String]
        var steps: Int
        var arenaBytes: Int
    }

    /// Plans `model` for float32 `inputs` with and without fusion and runs both on
    /// `threads` threads.
    func runBothWays(_ model: Model, _ inputs: [(TensorType, [Float])], threads: Int = 1) throws -> (fused: PlanResult, plain: PlanResult) {
        try runBothWays(model, raw: inputs.map { input in (input.0, input.1.withUnsafeBytes { Array($0) }) }, threads: threads)
    }

    /// Plans `model` for `inputs` (any dtype, as bytes) with and without fusion and runs
    /// both on `threads` threads.
    func runBothWays(_ model: Model, raw inputs: [(TensorType, [UInt8])], threads: Int = 1) throws -> (fused: PlanResult, plain: PlanResult) {
        var buffers: [AlignedBuffer] = []
        for (type, bytes) in inputs {
            XCTAssertEqual(bytes.count, type.byteCount)
            let buffer = try AlignedBuffer(byteCount: type.byteCount)
            bytes.withUnsafeBytes { _ = memcpy(buffer.pointer, $0.baseAddress!, min(bytes.count, type.byteCount)) }
            buffers.append(buffer)
        }
        let pool = threads > 1 ? ThreadPool(threadCount: threads) : nil
        func run(_ fuse: Bool) throws -> PlanResult {
            let plan = try ExecutionPlan(graph: model.graph, inputTypes: inputs.map { $0.0 },
                                         inputPointers: buffers.map { $0.pointer }, fuse: fuse)
            plan.run(pool: pool)
            return PlanResult(outputs: plan.outputs.map { Array(UnsafeBufferPointer(start: $0.floats, count: $0.type.count)) },
                              shapes: plan.outputs.map { $0.type.shape }, fusions: plan.fusions,
                              steps: plan.steps.count, arenaBytes: plan.arenaBytes)
        }
        return (try run(true), try run(false))
    }

    /// Asserts equal shapes and values within 1e-5 (relative above 1).
    func assertSame(_ a: PlanResult, _ b: PlanResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shapes, b.shapes, "\(what): shapes", file: file, line: line)
        XCTAssertEqual(a.outputs.count, b.outputs.count, "\(what): output count", file: file, line: line)
        for (i, (x, y)) in zip(a.outputs, b.outputs).enumerated() {
            XCTAssertEqual(x.count, y.count, "\(what): output \(i) size", file: file, line: line)
            var worst: Float = 0
            for (u, v) in zip(x, y) {
                if u.isNaN && v.isNaN { continue }
                worst = max(worst, abs(u - v) / max(1, abs(v)))
            }
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(what): output \(i) differs by \(worst)", file: file, line: line)
        }
    }

    /// Deterministic values in [-1, 1).
    func values(_ count: Int, seed: UInt32) -> [Float] {
        var state = seed &* 2_654_435_761 &+ 12345
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return Float(state >> 8) / Float(1 << 23) - 1
        }
    }

    func load(_ bytes: [UInt8]) throws -> Model {
        try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
    }

    func weights(_ name: String, _ shape: [Int], seed: UInt32, scale: Float = 1) -> TestTensor {
        f32(name, shape, values(shape.reduce(1, *), seed: seed).map { Double($0 * scale) })
    }

    /// A convolution node `x * w + b → y` of `outChannels` 3×3 kernels, padding 1.
    func conv(_ x: String, _ w: String, _ b: String?, _ y: String, strides: Int = 1) -> TestNode {
        TestNode(op: "Conv", inputs: [x, w] + (b.map { [$0] } ?? []), outputs: [y],
                 attributes: [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]),
                              .ints("strides", [strides, strides])])
    }

    // MARK: - Conv

    /// Checks one model fused and unfused on 1 and 2 threads; returns the fused plan's fusions.
    @discardableResult
    func check(_ bytes: [UInt8], _ inputs: [(TensorType, [Float])], _ what: String,
               file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let model = try load(bytes)
        var fusions: [String] = []
        for threads in [1, 2] {
            let (fused, plain) = try runBothWays(model, inputs, threads: threads)
            assertSame(fused, plain, "\(what), \(threads) thread(s)", file: file, line: line)
            XCTAssertTrue(plain.fusions.isEmpty, file: file, line: line)
            XCTAssertLessThanOrEqual(fused.arenaBytes, plain.arenaBytes, file: file, line: line)
            XCTAssertLessThanOrEqual(fused.steps, plain.steps, file: file, line: line)
            fusions = fused.fusions
        }
        return fusions
    }

    func testConvActivationsFuse() throws {
        // Depth 3·9 (one block) and 32·9 = 288 (two depth blocks: the epilogue must wait
        // for the last); 8×8, 7×7 and 9×9 outputs (partial 16-column tiles); batch 2.
        for (channels, size, outChannels) in [(3, 8, 4), (32, 7, 13), (16, 9, 64)] {
            for act in ["Relu", "Sigmoid", "Tanh"] {
                let bytes = buildModel(
                    inputs: [("x", .float32, [2, channels, size, size])], outputs: [("y", .float32)],
                    initializers: [weights("w", [outChannels, channels, 3, 3], seed: 1, scale: 0.3),
                                   weights("b", [outChannels], seed: 2)],
                    nodes: [conv("x", "w", "b", "c"), TestNode(op: act, inputs: ["c"], outputs: ["y"])])
                let x = TensorType(.float32, [2, channels, size, size])
                let fusions = try check(bytes, [(x, values(x.count, seed: 3))], "Conv+\(act) \(channels)→\(outChannels)")
                XCTAssertEqual(fusions, ["Conv+\(act) at Conv node 'n0'"])
            }
        }
        // No bias, 1×1 pointwise.
        let bytes = buildModel(
            inputs: [("x", .float32, [1, 8, 5, 5])], outputs: [("y", .float32)],
            initializers: [weights("w", [24, 8, 1, 1], seed: 4)],
            nodes: [TestNode(op: "Conv", inputs: ["x", "w"], outputs: ["c"]),
                    TestNode(op: "Relu", inputs: ["c"], outputs: ["y"])])
        let x = TensorType(.float32, [1, 8, 5, 5])
        XCTAssertEqual(try check(bytes, [(x, values(x.count, seed: 5))], "1×1 Conv+Relu").count, 1)
    }

    /// DenseNet's pre-activation: BatchNormalization → Relu | Sigmoid | Tanh fuses (inner
    /// sizes with and without an 8-lane tail); BatchNormalization → Add does not.
    func testBatchNormActivationFuses() throws {
        for (channels, size) in [(3, 4), (5, 3)] {
            for act in ["Relu", "Sigmoid", "Tanh"] {
                let bytes = buildModel(
                    inputs: [("x", .float32, [2, channels, size, size])], outputs: [("y", .float32)],
                    initializers: [weights("scale", [channels], seed: 6), weights("bias", [channels], seed: 7),
                                   weights("mean", [channels], seed: 8),
                                   f32("var", [channels], values(channels, seed: 9).map { Double(abs($0) + 0.5) })],
                    nodes: [TestNode(op: "BatchNormalization", inputs: ["x", "scale", "bias", "mean", "var"], outputs: ["n"]),
                            TestNode(op: act, inputs: ["n"], outputs: ["y"])])
                let x = TensorType(.float32, [2, channels, size, size])
                let fusions = try check(bytes, [(x, values(x.count, seed: 10).map { $0 * 3 })], "BatchNormalization+\(act)")
                XCTAssertEqual(fusions, ["BatchNormalization+\(act) at BatchNormalization node 'n0'"])
            }
        }
        let bytes = buildModel(
            inputs: [("x", .float32, [1, 2, 3, 3]), ("r", .float32, [1, 2, 3, 3])], outputs: [("y", .float32)],
            initializers: [weights("scale", [2], seed: 6), weights("bias", [2], seed: 7), weights("mean", [2], seed: 8),
                           f32("var", [2], [1, 2])],
            nodes: [TestNode(op: "BatchNormalization", inputs: ["x", "scale", "bias", "mean", "var"], outputs: ["n"]),
                    TestNode(op: "Add", inputs: ["n", "r"], outputs: ["y"])])
        let x = TensorType(.float32, [1, 2, 3, 3])
        XCTAssertEqual(try check(bytes, [(x, values(x.count, seed: 11)), (x, values(x.count, seed: 12))],
                                 "BatchNormalization+Add"), [])
    }

    func testConvAddReluFuses() throws {
        // The ResNet block tail: conv → add(identity) → relu; the residual is a graph input
        // and an earlier node's output.
        for (channels, size) in [(4, 8), (32, 6), (64, 12)] {
            let x = TensorType(.float32, [1, channels, size, size])
            let bytes = buildModel(
                inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)],
                initializers: [weights("w1", [channels, channels, 3, 3], seed: 6, scale: 0.2),
                               weights("b1", [channels], seed: 7),
                               weights("w2", [channels, channels, 3, 3], seed: 8, scale: 0.2),
                               weights("b2", [channels], seed: 9)],
                nodes: [conv("x", "w1", "b1", "c1"), TestNode(op: "Relu", inputs: ["c1"], outputs: ["r1"]),
                        conv("r1", "w2", "b2", "c2"), TestNode(op: "Add", inputs: ["c2", "x"], outputs: ["s"]),
                        TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
            let fusions = try check(bytes, [(x, values(x.count, seed: 10))], "Conv+Add+Relu \(channels)")
            XCTAssertEqual(fusions, ["Conv+Relu at Conv node 'n0'", "Conv+Add+Relu at Conv node 'n2'"])
        }
    }

    func testConvAddWithoutActivationAndDownsampleBlock() throws {
        let x = TensorType(.float32, [1, 8, 8, 8])
        // Conv → Add, the sum a graph output: Conv+Add only. Add(residual first).
        let plainAdd = buildModel(
            inputs: [("x", .float32, x.shape), ("r", .float32, [1, 6, 8, 8])], outputs: [("y", .float32)],
            initializers: [weights("w", [6, 8, 3, 3], seed: 11), weights("b", [6], seed: 12)],
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Add", inputs: ["r", "c"], outputs: ["y"])])
        let r = TensorType(.float32, [1, 6, 8, 8])
        XCTAssertEqual(try check(plainAdd, [(x, values(x.count, seed: 13)), (r, values(r.count, seed: 14))], "Conv+Add"),
                       ["Conv+Add at Conv node 'n0'"])
        // The sum is read twice (Relu and a graph output): Conv+Add fuses, Relu stays.
        let sumOut = buildModel(
            inputs: [("x", .float32, x.shape), ("r", .float32, [1, 6, 8, 8])], outputs: [("s", .float32), ("y", .float32)],
            initializers: [weights("w", [6, 8, 3, 3], seed: 11), weights("b", [6], seed: 12)],
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Add", inputs: ["c", "r"], outputs: ["s"]),
                    TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
        XCTAssertEqual(try check(sumOut, [(x, values(x.count, seed: 13)), (r, values(r.count, seed: 14))], "Conv+Add, sum output"),
                       ["Conv+Add at Conv node 'n0'"])
        // ResNet's downsampling block: conv2(relu(conv1(x))) + conv3(x) with the shortcut
        // conv after the main path; the later conv (the shortcut) absorbs Add and Relu.
        let block = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)],
            initializers: [weights("w1", [16, 8, 3, 3], seed: 15, scale: 0.3), weights("b1", [16], seed: 16),
                           weights("w2", [16, 16, 3, 3], seed: 17, scale: 0.3), weights("b2", [16], seed: 18),
                           weights("w3", [16, 8, 1, 1], seed: 19), weights("b3", [16], seed: 20)],
            nodes: [conv("x", "w1", "b1", "c1", strides: 2), TestNode(op: "Relu", inputs: ["c1"], outputs: ["r1"]),
                    conv("r1", "w2", "b2", "c2"),
                    TestNode(op: "Conv", inputs: ["x", "w3", "b3"], outputs: ["c3"],
                             attributes: [.ints("kernel_shape", [1, 1]), .ints("strides", [2, 2])]),
                    TestNode(op: "Add", inputs: ["c2", "c3"], outputs: ["s"]),
                    TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
        // (Either conv may run second: the graph's order puts ready nodes first.)
        let blockFusions = try check(block, [(x, values(x.count, seed: 21))], "downsample block")
        XCTAssertEqual(blockFusions.count, 2)
        XCTAssertEqual(blockFusions.first, "Conv+Relu at Conv node 'n0'")
        XCTAssertTrue(blockFusions.last?.hasPrefix("Conv+Add+Relu at Conv node") ?? false, "\(blockFusions)")
    }

    func testPatternsThatMustNotFuse() throws {
        let x = TensorType(.float32, [1, 4, 6, 6])
        let inits = [weights("w", [4, 4, 3, 3], seed: 22), weights("b", [4], seed: 23)]
        let input = [(x, values(x.count, seed: 24))]
        // The conv's output read twice (Relu and Add).
        let twice = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)], initializers: inits,
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Relu", inputs: ["c"], outputs: ["r"]),
                    TestNode(op: "Add", inputs: ["c", "r"], outputs: ["y"])])
        XCTAssertEqual(try check(twice, input, "intermediate used twice"), [])
        // Add(c, c): one node reading the intermediate twice.
        let doubled = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)], initializers: inits,
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Add", inputs: ["c", "c"], outputs: ["s"]),
                    TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
        XCTAssertEqual(try check(doubled, input, "Add(c, c)"), [])
        // The conv's output is a graph output.
        let exposed = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("c", .float32), ("y", .float32)], initializers: inits,
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Relu", inputs: ["c"], outputs: ["y"])])
        XCTAssertEqual(try check(exposed, input, "intermediate is a graph output"), [])
        // A broadcasting Add (per-channel [1, 4, 1, 1], and one that widens the output).
        let channelAdd = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)],
            initializers: inits + [weights("k", [1, 4, 1, 1], seed: 25)],
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Add", inputs: ["c", "k"], outputs: ["s"]),
                    TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
        XCTAssertEqual(try check(channelAdd, input, "broadcasting Add"), [])
        let widening = buildModel(
            inputs: [("x", .float32, [1, 4, 6, 6])], outputs: [("y", .float32)],
            initializers: [weights("w", [1, 4, 3, 3], seed: 26), weights("k", [1, 3, 6, 6], seed: 27)],
            nodes: [conv("x", "w", nil, "c"), TestNode(op: "Add", inputs: ["c", "k"], outputs: ["s"]),
                    TestNode(op: "Relu", inputs: ["s"], outputs: ["y"])])
        XCTAssertEqual(try check(widening, input, "widening Add"), [])
        // A residual computed after the conv (and no later conv to take the Add): only the
        // separate Add.
        let late = buildModel(
            inputs: [("x", .float32, x.shape)], outputs: [("y", .float32)], initializers: inits,
            nodes: [conv("x", "w", "b", "c"), TestNode(op: "Sigmoid", inputs: ["x"], outputs: ["r"]),
                    TestNode(op: "Add", inputs: ["c", "r"], outputs: ["y"])])
        XCTAssertEqual(try check(late, input, "late residual"), [])
        // Gemm whose output is also a graph output; MatMul followed by Mul (not fusable).
        let a = TensorType(.float32, [3, 5])
        let gemmExposed = buildModel(
            inputs: [("a", .float32, a.shape)], outputs: [("g", .float32), ("y", .float32)],
            initializers: [weights("wb", [7, 5], seed: 28)],
            nodes: [TestNode(op: "Gemm", inputs: ["a", "wb"], outputs: ["g"], attributes: [.int("transB", 1)]),
                    TestNode(op: "Relu", inputs: ["g"], outputs: ["y"])])
        XCTAssertEqual(try check(gemmExposed, [(a, values(a.count, seed: 29))], "Gemm output exposed"), [])
        let matMulMul = buildModel(
            inputs: [("a", .float32, a.shape)], outputs: [("y", .float32)],
            initializers: [weights("wb", [5, 7], seed: 30), weights("k", [7], seed: 31)],
            nodes: [TestNode(op: "MatMul", inputs: ["a", "wb"], outputs: ["p"]),
                    TestNode(op: "Mul", inputs: ["p", "k"], outputs: ["y"])])
        XCTAssertEqual(try check(matMulMul, [(a, values(a.count, seed: 32))], "MatMul+Mul"), [])
    }

    // MARK: - Gemm and MatMul

    func testGemmActivationsFuse() throws {
        // Batch 1 (matrix-vector), 8 (few rows · Bᵀ), 40 with B not transposed and depth
        // 300 (tiled, two depth blocks); with and without C, alpha and beta.
        for (m, k, n, transB) in [(1, 20, 10, 1), (8, 33, 19, 1), (40, 300, 37, 0), (70, 17, 45, 1)] {
            for act in ["Relu", "Sigmoid", "Tanh"] {
                for withC in [false, true] {
                    let a = TensorType(.float32, [m, k])
                    let bytes = buildModel(
                        inputs: [("a", .float32, a.shape)], outputs: [("y", .float32)],
                        initializers: [weights("wb", transB == 1 ? [n, k] : [k, n], seed: 33, scale: 0.2),
                                       weights("c", [n], seed: 34)],
                        nodes: [TestNode(op: "Gemm", inputs: ["a", "wb"] + (withC ? ["c"] : []), outputs: ["g"],
                                         attributes: [.int("transB", transB), .float("alpha", 0.75), .float("beta", 1.5)]),
                                TestNode(op: act, inputs: ["g"], outputs: ["y"])])
                    let fusions = try check(bytes, [(a, values(a.count, seed: 35))], "Gemm+\(act) \(m)×\(k)×\(n)")
                    XCTAssertEqual(fusions, ["Gemm+\(act) at Gemm node 'n0'"])
                }
            }
        }
    }

    func testMatMulAddActivationFuses() throws {
        // Linear as MatMul + Add(bias) (the dynamo exporter's 3-D Linear), a same-shape
        // addend, batched MatMul, 1-D promotion, and MatMul → activation alone.
        struct Case { var a: [Int]; var b: [Int]; var addend: [Int]?; var act: String?; var expected: String }
        let cases = [
            Case(a: [2, 5, 16], b: [16, 24], addend: [24], act: "Relu", expected: "MatMul+Add+Relu"),
            Case(a: [30, 300], b: [300, 20], addend: [30, 20], act: "Tanh", expected: "MatMul+Add+Tanh"),
            Case(a: [3, 4, 6], b: [3, 6, 5], addend: [4, 1], act: "Sigmoid", expected: "MatMul+Add+Sigmoid"),
            Case(a: [1, 9], b: [9, 40], addend: [40], act: nil, expected: "MatMul+Add"),
            Case(a: [9], b: [9, 40], addend: [40], act: "Relu", expected: "MatMul+Add+Relu"),
            Case(a: [4, 9], b: [9], addend: [4], act: "Relu", expected: "MatMul+Add+Relu"),
            Case(a: [12, 20], b: [20, 64], addend: nil, act: "Relu", expected: "MatMul+Relu"),
        ]
        for c in cases {
            var nodes = [TestNode(op: "MatMul", inputs: ["a", "wb"], outputs: [c.addend == nil && c.act == nil ? "y" : "p"])]
            var last = "p"
            var inits = [weights("wb", c.b, seed: 36, scale: 0.3)]
            if let addend = c.addend {
                inits.append(weights("k", addend, seed: 37))
                nodes.append(TestNode(op: "Add", inputs: ["p", "k"], outputs: [c.act == nil ? "y" : "s"]))
                last = "s"
            }
            if let act = c.act { nodes.append(TestNode(op: act, inputs: [last], outputs: ["y"])) }
            let bytes = buildModel(inputs: [("a", .float32, c.a)], outputs: [("y", .float32)],
                                   initializers: inits, nodes: nodes)
            let a = TensorType(.float32, c.a)
            let fusions = try check(bytes, [(a, values(a.count, seed: 38))], "\(c.expected) \(c.a)·\(c.b)")
            XCTAssertEqual(fusions, ["\(c.expected) at MatMul node 'n0'"])
        }
    }

    // MARK: - Zoo

    /// Every model fixture (the book's zoo, both exporters, and the rest) gives the same
    /// outputs fused and unfused, and PyTorch's within 1e-4.
    func testZooFixturesSameFusedAndUnfused() throws {
        var fusedTotal: [String: Int] = [:]
        for folder in try modelFixtureFolders() {
            let name = folder.lastPathComponent
            guard let model = expectNoError("load \(name)", { try Model(path: folder.appendingPathComponent("model.onnx").path) }),
                  let set = try dataSets(folder).first else { continue }
            var inputs: [(TensorType, [UInt8])] = []
            for i in 0..<model.inputs.count {
                let t = try TensorFile(path: set.appendingPathComponent("input_\(i).pb").path)
                inputs.append((t.type, t.bytes))
            }
            let threads = name.contains("resnet") ? [1, 2] : [1]
            for n in threads {
                let (fused, plain) = try runBothWays(model, raw: inputs, threads: n)
                assertSame(fused, plain, "\(name) (\(n) thread(s))")
                for i in 0..<model.outputs.count {
                    let want = try TensorFile(path: set.appendingPathComponent("output_\(i).pb").path)
                    guard want.type.dtype == .float32, i < fused.outputs.count else { continue }
                    let diff = maxAbsDifference(fused.outputs[i], want.floats)
                    XCTAssertLessThanOrEqual(diff, 1e-4, "\(name) fused output \(i) vs PyTorch")
                }
                fusedTotal[name] = fused.fusions.count
            }
        }
        // The book's CNNs fuse their Conv+Relu pairs and ResNet its block tails.
        for exporter in ["opset17", "opset20"] {
            XCTAssertEqual(fusedTotal["resnet18-small-\(exporter)"], 17, "resnet18-small-\(exporter)")
            XCTAssertGreaterThan(fusedTotal["googlenet-small-\(exporter)"] ?? 0, 50, "googlenet-small-\(exporter)")
            XCTAssertGreaterThan(fusedTotal["alexnet-small-\(exporter)"] ?? 0, 4, "alexnet-small-\(exporter)")
            XCTAssertGreaterThan(fusedTotal["densenet-small-\(exporter)"] ?? 0, 0, "densenet-small-\(exporter)")
        }
    }

    /// A Session (the public path) runs fused plans: ResNet's arena shrinks, outputs hold.
    func testSessionRunsFusedPlan() throws {
        let folder = fixturesDirectory.appendingPathComponent("resnet18-small-opset17")
        let model = try Model(path: folder.appendingPathComponent("model.onnx").path)
        let set = try XCTUnwrap(try dataSets(folder).first)
        let input = try TensorFile(path: set.appendingPathComponent("input_0.pb").path)
        let (fused, plain) = try runBothWays(model, [(input.type, input.floats)])
        XCTAssertLessThan(fused.arenaBytes, plain.arenaBytes)
        XCTAssertLessThan(fused.steps, plain.steps)
        let session = Session(model: model)
        try input.bytes.withUnsafeBytes { try session.setInput(0, dtype: .float32, data: $0.baseAddress!, shape: input.type.shape) }
        try session.run()
        XCTAssertEqual(session.plannedArenaBytes, fused.arenaBytes)
        let y = try XCTUnwrap(session.output(0))
        XCTAssertLessThanOrEqual(maxAbsDifference(Array(UnsafeBufferPointer(start: y.floats, count: y.type.count)), plain.outputs[0]), 1e-5)
    }
}
