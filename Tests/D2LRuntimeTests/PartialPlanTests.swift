import XCTest
@testable import D2LRuntime

/// Partial plans (ExecutionPlan's `deferring`, EagerExecution, BufferPool): in a graph
/// whose shapes depend on computed values, the nodes before are planned and fused as in
/// any graph, the rest runs node by node after them, and repeated runs reuse its buffers.
final class PartialPlanTests: XCTestCase {
    /// onnx's NonMaxSuppression node-test boxes ([y1, x1, y2, x2], six unit boxes in
    /// three groups) and scores; NonMaxSuppressionTests checks the selection against onnx.
    private let boxes: [Double] = [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101]
    private let scores: [Double] = [0.9, 0.75, 0.6, 0.95, 0.5, 0.3]

    /// A detector's shape: boxes = Relu(x·I + 0.25 − 0.25) (MatMul+Add+Relu, fused), scores
    /// = Sigmoid(z), then NMS on them and a Gather of its box-index column. Outputs: the
    /// scores (planned), the picked box indices and NMS's rows (node by node).
    private func detectorTail() throws -> Model {
        var identity = [Double](repeating: 0, count: 16)
        for i in 0..<4 { identity[i * 5] = 1 }
        let constants = [f32("w", [4, 4], identity), f32("shift", [4], [0.25, 0.25, 0.25, 0.25]),
                         i64("m", [1], [3]), f32("i", [1], [0.5]), f32("t", [1], [0]), i64("col", [], [2])]
        let bytes = buildModel(opset: 13, inputs: [("x", .float32, [1, 6, 4]), ("z", .float32, [1, 1, 6])],
                               outputs: [("s", .float32), ("picked", .int64), ("y", .int64)], initializers: constants,
                               nodes: [TestNode(op: "MatMul", inputs: ["x", "w"], outputs: ["p"]),
                                       TestNode(op: "Add", inputs: ["p", "shift"], outputs: ["q"]),
                                       TestNode(op: "Relu", inputs: ["q"], outputs: ["b"]),
                                       TestNode(op: "Sigmoid", inputs: ["z"], outputs: ["s"]),
                                       TestNode(op: "NonMaxSuppression", inputs: ["b", "s", "m", "i", "t"], outputs: ["y"]),
                                       TestNode(op: "Gather", inputs: ["y", "col"], outputs: ["picked"],
                                                attributes: [.int("axis", 1)])])
        return try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
    }

    private func logits(_ p: [Double]) -> [Double] { p.map { log($0 / (1 - $0)) } }

    func testNodesBeforeTheDataDependentOneArePlannedAndFused() throws {
        let model = try detectorTail()
        let x = try AlignedBuffer(byteCount: 24 * 4), z = try AlignedBuffer(byteCount: 6 * 4)
        let types = [TensorType(.float32, [1, 6, 4]), TensorType(.float32, [1, 1, 6])]
        XCTAssertThrowsError(try ExecutionPlan(graph: model.graph, inputTypes: types, inputPointers: [x.pointer, z.pointer])) {
            XCTAssertTrue(($0 as? D2LError)?.needsRunTimeValues ?? false, "without deferring: \($0)")
        }
        let plan = try ExecutionPlan(graph: model.graph, inputTypes: types, inputPointers: [x.pointer, z.pointer],
                                     deferring: true)
        // NMS and the Gather after it are left to the node-by-node run; the rest is planned.
        let deferred = plan.deferredNodes.map { model.graph.nodes[$0].label }
        XCTAssertEqual(deferred.count, 2)
        XCTAssertTrue(deferred[0].hasPrefix("NonMaxSuppression") && deferred[1].hasPrefix("Gather"), "\(deferred)")
        XCTAssertEqual(plan.fusions.count, 1)
        XCTAssertTrue(plan.fusions.first?.hasPrefix("MatMul+Add+Relu") ?? false, "\(plan.fusions)")
        XCTAssertEqual(plan.steps.count, 2, "the fused MatMul and the Sigmoid")
        XCTAssertTrue(plan.outputs.isEmpty, "a partial plan's outputs come from the node-by-node run")
        // What the deferred nodes read is in the plan after it runs.
        guard let nmsBoxes = model.graph.nodes[plan.deferredNodes[0]].inputs[0] else { return XCTFail("no boxes input") }
        XCTAssertEqual(plan.computedValue(nmsBoxes)?.view.type.shape, [1, 6, 4])
        if let y = model.graph.nodes[plan.deferredNodes[0]].outputs[0] { XCTAssertNil(plan.computedValue(y)) }
    }

    func testSessionRunsThePlanThenTheRestAndReusesItsBuffers() throws {
        let session = Session(model: try detectorTail())
        func run(_ p: [Double]) throws -> (scores: [Float], picked: [Int64], rows: [Int64]) {
            let x = f32("x", [1, 6, 4], boxes), z = f32("z", [1, 1, 6], logits(p))
            try x.bytes.withUnsafeBytes { try session.setInput(0, dtype: .float32, data: $0.baseAddress!, shape: x.shape) }
            try z.bytes.withUnsafeBytes { try session.setInput(1, dtype: .float32, data: $0.baseAddress!, shape: z.shape) }
            try session.run()
            guard let s = session.output(0), let picked = session.output(1), let y = session.output(2) else {
                XCTFail("no output"); return ([], [], [])
            }
            XCTAssertEqual(s.type.shape, [1, 1, 6])
            XCTAssertEqual(y.type.shape, [picked.type.count, 3])
            return (Array(UnsafeBufferPointer(start: s.floats, count: s.type.count)),
                    Array(UnsafeBufferPointer(start: picked.pointer.assumingMemoryBound(to: Int64.self), count: picked.type.count)),
                    Array(UnsafeBufferPointer(start: y.pointer.assumingMemoryBound(to: Int64.self), count: y.type.count)))
        }
        let first = try run(scores)
        for (got, want) in zip(first.scores, scores) { XCTAssertEqual(Double(got), want, accuracy: 1e-6) }
        XCTAssertEqual(first.picked, [3, 0, 5])
        XCTAssertEqual(first.rows, [0, 0, 3, 0, 0, 0, 0, 0, 5])
        let allocated = session.eagerBuffers.allocations
        XCTAssertGreaterThan(allocated, 0)
        // Same shapes and values: the same results, and no buffer allocated.
        for _ in 0..<3 {
            let again = try run(scores)
            XCTAssertEqual(again.picked, first.picked)
            XCTAssertEqual(again.rows, first.rows)
        }
        XCTAssertEqual(session.eagerBuffers.allocations, allocated, "repeated runs take every buffer from the pool")
        // New scores, a new number of rows: box 5 first, then 4 (3 is suppressed by 4), then 2.
        let changed = try run([0.1, 0.2, 0.3, 0.4, 0.5, 0.99])
        XCTAssertEqual(changed.picked, [5, 4, 2])
        XCTAssertEqual(try run(scores).picked, [3, 0, 5])
        // profile: the planned steps, then the node-by-node part as one step.
        let steps = try session.profile(runs: 2)
        XCTAssertEqual(steps.count, 3)
        XCTAssertTrue(steps.last?.label.hasPrefix("2 nodes run node by node") ?? false, "\(steps.map { $0.label })")
        XCTAssertEqual(steps.last?.outputShape, [3])
        XCTAssertEqual(try run(scores).rows, first.rows)
    }

    func testLoadPreparesTheConvolutionsBeforeADeferredNode() throws {
        // A 3×3 convolution, 32 → 32 channels on 8×8 (Winograd pays: 16 tiles, 32·32 ≥ 12·64),
        // whose output, as 512 boxes, goes to NMS: the load-time check plans the Conv (the
        // NMS is deferred) and gives it its transformed weight.
        let w = (0..<(32 * 32 * 9)).map { 0.1 * sin(Double($0)) }
        let constants = [f32("w", [32, 32, 3, 3], w), i64("shape", [3], [1, 512, 4]),
                         i64("m", [1], [5]), f32("i", [1], [0.5])]
        let bytes = buildModel(opset: 13, inputs: [("x", .float32, [1, 32, 8, 8]), ("z", .float32, [1, 1, 512])],
                               outputs: [("y", .int64)], initializers: constants,
                               nodes: [TestNode(op: "Conv", inputs: ["x", "w"], outputs: ["c"],
                                                attributes: [.ints("pads", [1, 1, 1, 1])]),
                                       TestNode(op: "Reshape", inputs: ["c", "shape"], outputs: ["b"]),
                                       TestNode(op: "NonMaxSuppression", inputs: ["b", "z", "m", "i"], outputs: ["y"])])
        let model = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
        guard case .conv(let conv) = model.graph.nodes[0].op else { return XCTFail("node 0 is not the Conv") }
        XCTAssertNotNil(conv.winogradWeight, "the Conv before the deferred NMS gets its Winograd weight at load")
        let session = Session(model: model)
        let x = f32("x", [1, 32, 8, 8], (0..<2048).map { (cos(Double($0)) + 1) / 2 })
        let z = f32("z", [1, 1, 512], (0..<512).map { (Double($0) * 0.618).truncatingRemainder(dividingBy: 1) })
        try x.bytes.withUnsafeBytes { try session.setInput(0, dtype: .float32, data: $0.baseAddress!, shape: x.shape) }
        try z.bytes.withUnsafeBytes { try session.setInput(1, dtype: .float32, data: $0.baseAddress!, shape: z.shape) }
        try session.run()
        guard let y = session.output(0) else { return XCTFail("no output") }
        XCTAssertEqual(y.type.shape, [5, 3], "five boxes kept of 512")
    }

    func testBufferPoolServesBestFitAndFreesWhatARunLeftUntaken() throws {
        let pool = BufferPool()
        let a = try pool.take(byteCount: 100), b = try pool.take(byteCount: 1000)
        XCTAssertEqual(pool.allocations, 2)
        pool.giveBack(b)
        pool.giveBack(a)
        // Within a run: the smallest buffer that holds the request.
        let c = try pool.take(byteCount: 90)
        XCTAssertTrue(c === a)
        pool.giveBack(c)
        pool.endRun()
        // Next run: 1000 bytes cannot serve 10 (more than twice the request); a new buffer.
        let small = try pool.take(byteCount: 10)
        XCTAssertFalse(small === a || small === b)
        XCTAssertEqual(pool.allocations, 3)
        let d = try pool.take(byteCount: 600)
        XCTAssertTrue(d === b)
        pool.endRun()
        // `a` went untaken through that run: freed, so 100 bytes need a new buffer.
        _ = try pool.take(byteCount: 100)
        XCTAssertEqual(pool.allocations, 4)
    }
}
