import XCTest
@testable import D2LRuntime

/// Shape, Squeeze, Unsqueeze, Expand, Concat, Transpose, Slice, Reshape with computed shapes.
final class ShapeOpsTests: XCTestCase {
    let x234 = f32("x", [2, 3, 4], (0..<24).map(Double.init))

    func testShapeWithStartAndEnd() throws {
        let y = try runNode("Shape", inputs: [x234], outputs: [.int64])
        assertTensor(y.first, i64("", [3], [2, 3, 4]))
        let z = try runNode("Shape", inputs: [x234], outputs: [.int64], attributes: [.int("start", -2), .int("end", 10)])
        assertTensor(z.first, i64("", [2], [3, 4]))
        assertRefused(.unsupported, "start") {
            try runNode("Shape", opset: 13, inputs: [self.x234], outputs: [.int64], attributes: [.int("start", 1)])
        }
    }

    func testSqueezeAndUnsqueeze() throws {
        let x = f32("x", [1, 3, 1], [1, 2, 3])
        assertTensor(try runNode("Squeeze", inputs: [x], outputs: [.float32]).first, f32("", [3], [1, 2, 3]))
        assertTensor(try runNode("Squeeze", inputs: [x], constants: [i64("a", [1], [-1])]).first, f32("", [1, 3], [1, 2, 3]))
        assertRefused(.shape, "cannot squeeze") { try runNode("Squeeze", inputs: [x], constants: [i64("a", [1], [1])]) }
        let u = try runNode("Unsqueeze", inputs: [f32("x", [3], [1, 2, 3])], constants: [i64("a", [2], [0, -1])])
        assertTensor(u.first, f32("", [1, 3, 1], [1, 2, 3]))
        assertRefused(.invalidModel, "out of range") {
            try runNode("Unsqueeze", inputs: [f32("x", [3], [1, 2, 3])], constants: [i64("a", [1], [3])])
        }
    }

    func testExpand() throws {
        let y = try runNode("Expand", inputs: [f32("x", [3, 1], [1, 2, 3])], constants: [i64("s", [2], [1, 2])])
        assertTensor(y.first, f32("", [3, 2], [1, 1, 2, 2, 3, 3]))
        let z = try runNode("Expand", inputs: [i64("x", [2], [7, 8])], constants: [i64("s", [2], [2, 1])], outputs: [.int64])
        assertTensor(z.first, i64("", [2, 2], [7, 8, 7, 8]))
        assertRefused(.shape, "broadcast") { try runNode("Expand", inputs: [f32("x", [3], [1, 2, 3])], constants: [i64("s", [1], [2])]) }
    }

    func testConcat() throws {
        let a = f32("a", [2, 1], [1, 2]), b = f32("b", [2, 2], [3, 4, 5, 6])
        assertTensor(try runNode("Concat", inputs: [a, b], attributes: [.int("axis", -1)]).first, f32("", [2, 3], [1, 3, 4, 2, 5, 6]))
        assertRefused(.shape, "does not match") { try runNode("Concat", inputs: [a, b], attributes: [.int("axis", 0)]) }
        assertRefused(.invalidModel, "required") { try runNode("Concat", inputs: [a, b]) }
    }

    func testTranspose() throws {
        let x = f32("x", [2, 3], [1, 2, 3, 4, 5, 6])
        assertTensor(try runNode("Transpose", inputs: [x]).first, f32("", [3, 2], [1, 4, 2, 5, 3, 6]))
        let y = try runNode("Transpose", inputs: [x234], attributes: [.ints("perm", [1, 2, 0])])
        XCTAssertEqual(y.first?.shape, [3, 4, 2])
        XCTAssertEqual(Array(y.first?.values.prefix(4) ?? []), [0, 12, 1, 13]) // y[0,0,:], y[0,1,:]
        assertRefused(.invalidModel, "repeated") { try runNode("Transpose", inputs: [x], attributes: [.ints("perm", [0, 0])]) }
    }

    func testSliceNegativeClampedAndStepped() throws {
        let x = f32("x", [2, 5], (0..<10).map(Double.init))
        // x[:, -1:-100:-2] and rows 0..<huge
        let y = try runNode("Slice", inputs: [x], constants: [i64("s", [2], [0, -1]), i64("e", [2], [9_000_000_000, -100]),
                                                              i64("a", [2], [0, 1]), i64("st", [2], [1, -2])])
        assertTensor(y.first, f32("", [2, 3], [4, 2, 0, 9, 7, 5]))
        let z = try runNode("Slice", inputs: [x], constants: [i64("s", [1], [1]), i64("e", [1], [3])])
        assertTensor(z.first, f32("", [1, 5], [5, 6, 7, 8, 9]))
        assertRefused(.invalidModel, "step 0") {
            try runNode("Slice", inputs: [x], constants: [i64("s", [1], [0]), i64("e", [1], [1]), i64("a", [1], [0]), i64("st", [1], [0])])
        }
    }

    /// Reshape whose shape is computed at run time from Shape + Gather + Concat: planned
    /// with the value known at plan time.
    func testReshapeWithComputedShape() throws {
        let bytes = buildModel(inputs: [("x", .float32, [2, 3, 4])], outputs: [("y", .float32)],
                               initializers: [i64("zero", [1], [0]), i64("minus1", [1], [-1])],
                               nodes: [TestNode(op: "Shape", inputs: ["x"], outputs: ["s"]),
                                       TestNode(op: "Gather", inputs: ["s", "zero"], outputs: ["n"]),
                                       TestNode(op: "Concat", inputs: ["n", "minus1"], outputs: ["shape"], attributes: [.int("axis", 0)]),
                                       TestNode(op: "Reshape", inputs: ["x", "shape"], outputs: ["y"])])
        let y = try runModel(bytes, [x234])
        assertTensor(y.first, f32("", [2, 12], (0..<24).map(Double.init)))
    }

    /// A shape fed by the caller as a graph input: re-planned when its value changes.
    func testReshapeWithShapeInputReplansOnNewValues() throws {
        let bytes = buildModel(inputs: [("x", .float32, [2, 3]), ("s", .int64, [2])], outputs: [("y", .float32)],
                               nodes: [TestNode(op: "Reshape", inputs: ["x", "s"], outputs: ["y"])])
        let model = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
        let session = Session(model: model)
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        try x.withUnsafeBytes { try session.setInput(0, dtype: .float32, data: $0.baseAddress!, shape: [2, 3]) }
        for (shape, expected) in [([3, 2] as [Int64], [3, 2]), ([1, -1], [1, 6]), ([6, 1], [6, 1])] {
            try shape.withUnsafeBytes { try session.setInput(1, dtype: .int64, data: $0.baseAddress!, shape: [2]) }
            try session.run()
            XCTAssertEqual(session.output(0)?.type.shape, expected)
        }
        // Only inputs whose values planning reads are part of the plan's key: a token
        // index fed to Gather is not (new tokens must not re-plan every step).
        let tokens = buildModel(inputs: [("t", .int64, [1, 2])], outputs: [("y", .float32)],
                                initializers: [f32("e", [3, 2], [1, 2, 3, 4, 5, 6])],
                                nodes: [TestNode(op: "Transpose", inputs: ["t"], outputs: ["tt"]),
                                        TestNode(op: "Gather", inputs: ["e", "tt"], outputs: ["y"])])
        let tokenModel = try tokens.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
        let ids: [Int64] = [2, 0]
        let tokenPlan = try ids.withUnsafeBytes { raw throws(D2LError) in
            try ExecutionPlan(graph: tokenModel.graph, inputTypes: [TensorType(.int64, [1, 2])],
                              inputPointers: [UnsafeMutableRawPointer(mutating: raw.baseAddress!)])
        }
        XCTAssertTrue(tokenPlan.inputSnapshots.isEmpty)
        XCTAssertEqual(tokenPlan.steps.count, 2)
        let reshapePlan = try ([3, 2] as [Int64]).withUnsafeBytes { raw throws(D2LError) in
            try ExecutionPlan(graph: model.graph, inputTypes: [TensorType(.float32, [2, 3]), TensorType(.int64, [2])],
                              inputPointers: [UnsafeMutableRawPointer(mutating: raw.baseAddress!), UnsafeMutableRawPointer(mutating: raw.baseAddress!)])
        }
        XCTAssertEqual(reshapePlan.inputSnapshots.map { $0.index }, [1])

        let bad: [Int64] = [4, 2]
        try bad.withUnsafeBytes { try session.setInput(1, dtype: .int64, data: $0.baseAddress!, shape: [2]) }
        assertRefused(.shape, "cannot reshape") { try session.run() }
    }
}

extension TestTensor {
    func withShape(_ s: [Int]) -> TestTensor { var t = self; t.shape = s; return t }
}
