import XCTest
@testable import D2LRuntime

/// NonMaxSuppression against onnx's reference implementation
/// (`onnx.reference.ReferenceEvaluator`, onnx 1.22.0), whose results are written out here.
final class NonMaxSuppressionTests: XCTestCase {
    /// onnx's node-test boxes: six unit boxes, three nearly on top of one another near y 0,
    /// then near y 10, then one at y 100 ([y1, x1, y2, x2]).
    private let cornerBoxes: [Double] = [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101]
    private let scores: [Double] = [0.9, 0.75, 0.6, 0.95, 0.5, 0.3]

    /// A one-node model with every input an initializer (`nil`: the input is omitted).
    private func nms(boxes: TestTensor, scores: TestTensor, maxOutput: TestTensor?, iou: TestTensor?,
                     scoreThreshold: TestTensor?, centerPointBox: Int? = nil) throws -> TestTensor? {
        var constants = [boxes, scores]
        var names = ["b", "s"]
        for t in [maxOutput, iou, scoreThreshold] {
            if let t { constants.append(t); names.append(t.name) } else { names.append("") }
        }
        while names.last == "" { names.removeLast() }
        let attributes: [TestAttribute] = centerPointBox.map { [.int("center_point_box", $0)] } ?? []
        return try runNode("NonMaxSuppression", inputs: [], constants: constants, nodeInputs: names,
                           outputs: [.int64], attributes: attributes).first
    }

    private func rows(_ r: [[Double]]) -> TestTensor { i64("", [r.count, 3], r.flatMap { $0 }) }

    func testFlippedCornersAndCenterPointBoxAgree() throws {
        let expected = rows([[0, 0, 3], [0, 0, 0], [0, 0, 5]])
        let plain = try nms(boxes: f32("b", [1, 6, 4], cornerBoxes), scores: f32("s", [1, 1, 6], scores),
                            maxOutput: i64("m", [1], [3]), iou: f32("i", [1], [0.5]), scoreThreshold: f32("t", [1], [0]))
        assertTensor(plain, expected)
        // The same boxes by the other diagonal, and with y and x swapped within each pair.
        var flipped: [Double] = []
        for k in 0..<6 {
            let b = Array(cornerBoxes[4 * k..<4 * k + 4])
            flipped += k % 2 == 0 ? [b[2], b[3], b[0], b[1]] : [b[0], b[3], b[2], b[1]]
        }
        assertTensor(try nms(boxes: f32("b", [1, 6, 4], flipped), scores: f32("s", [1, 1, 6], scores),
                             maxOutput: i64("m", [1], [3]), iou: f32("i", [1], [0.5]), scoreThreshold: f32("t", [1], [0])),
                     expected)
        // [x_center, y_center, width, height] (onnx's test_nonmaxsuppression_center_point_box_format).
        let centers: [Double] = [0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 0.4, 1, 1, 0.5, 10.5, 1, 1, 0.5, 10.6, 1, 1, 0.5, 100.5, 1, 1]
        assertTensor(try nms(boxes: f32("b", [1, 6, 4], centers), scores: f32("s", [1, 1, 6], scores),
                             maxOutput: i64("m", [1], [3]), iou: f32("i", [1], [0.5]), scoreThreshold: f32("t", [1], [0]),
                             centerPointBox: 1),
                     expected)
    }

    func testScoreThresholdMaxOutputAndDefaults() throws {
        let b = f32("b", [1, 6, 4], cornerBoxes), s = f32("s", [1, 1, 6], scores)
        // Above 0.4 only; a box scoring exactly the threshold is dropped (strictly above).
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [3]), iou: f32("i", [1], [0.5]),
                             scoreThreshold: f32("t", [], [0.4])),
                     rows([[0, 0, 3], [0, 0, 0]]))
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [3]), iou: f32("i", [1], [0.5]),
                             scoreThreshold: f32("t", [1], [0.9])),
                     rows([[0, 0, 3]]))
        // At most two per class.
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [], [2]), iou: f32("i", [1], [0.5]), scoreThreshold: nil),
                     rows([[0, 0, 3], [0, 0, 0]]))
        // No score threshold and IoU threshold 0 by default: overlapping boxes suppress, disjoint ones not.
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [9]), iou: nil, scoreThreshold: nil),
                     rows([[0, 0, 3], [0, 0, 0], [0, 0, 5]]))
        // IoU threshold 1: nothing is suppressed; all six in descending score order.
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [9]), iou: f32("i", [1], [1]), scoreThreshold: nil),
                     rows([[0, 0, 3], [0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 4], [0, 0, 5]]))
        // max_output_boxes_per_class omitted (0) or negative (clamped at 0, as onnxruntime): no rows.
        assertTensor(try nms(boxes: b, scores: s, maxOutput: nil, iou: nil, scoreThreshold: nil), i64("", [0, 3], []))
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [-4]), iou: nil, scoreThreshold: nil),
                     i64("", [0, 3], []))
    }

    func testBatchesClassesAndTies() throws {
        // [y1, x1, y2, x2]; batch 1 class 1 ties (0.8 each): lower box index first.
        let b = f32("b", [2, 4, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 5, 1, 6, 0, 5.2, 1, 6.2,
                                     0, 0, 2, 2, 1, 1, 3, 3, 0, 0, 2, 2.1, 10, 10, 11, 11])
        let s = f32("s", [2, 2, 4], [0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8])
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [10]), iou: f32("i", [1], [0.5]), scoreThreshold: nil),
                     rows([[0, 0, 0], [0, 0, 2], [0, 1, 3], [0, 1, 1], [1, 0, 3], [1, 0, 2], [1, 0, 1], [1, 1, 0], [1, 1, 1], [1, 1, 3]]))
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [10]), iou: f32("i", [1], [0.5]),
                             scoreThreshold: f32("t", [1], [0.5])),
                     rows([[0, 0, 0], [0, 0, 2], [1, 0, 3], [1, 0, 2], [1, 0, 1], [1, 1, 0], [1, 1, 1], [1, 1, 3]]))
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [1]), iou: f32("i", [1], [0.5]), scoreThreshold: nil),
                     rows([[0, 0, 0], [0, 1, 3], [1, 0, 3], [1, 1, 0]]))
        assertTensor(try nms(boxes: b, scores: s, maxOutput: i64("m", [1], [10]), iou: f32("i", [1], [0]), scoreThreshold: nil),
                     rows([[0, 0, 0], [0, 0, 2], [0, 1, 3], [0, 1, 1], [1, 0, 3], [1, 0, 2], [1, 1, 0], [1, 1, 3]]))
    }

    func testValuesFedAtRunTimeAndChangedBetweenRuns() throws {
        // Every input a graph input, as in onnx's node tests: the plan reads their values
        // and a session re-plans when they change.
        let b = f32("b", [1, 6, 4], cornerBoxes), s = f32("s", [1, 1, 6], scores)
        let feeds = [b, s, i64("m", [1], [3]), f32("i", [1], [0.5]), f32("t", [1], [0])]
        let y = try runNode("NonMaxSuppression", inputs: feeds, outputs: [.int64])
        assertTensor(y.first, rows([[0, 0, 3], [0, 0, 0], [0, 0, 5]]))

        let bytes = buildModel(opset: 13, inputs: feeds.map { ($0.name, $0.dtype, $0.shape) }, outputs: [("y", .int64)],
                               nodes: [TestNode(op: "NonMaxSuppression", inputs: feeds.map { $0.name }, outputs: ["y"])])
        let model = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
        let session = Session(model: model)
        func run(_ inputs: [TestTensor]) throws -> [Int] {
            for (k, t) in inputs.enumerated() {
                try t.bytes.withUnsafeBytes { raw in try session.setInput(k, dtype: t.dtype, data: raw.baseAddress!, shape: t.shape) }
            }
            try session.run()
            guard let out = session.output(0) else { XCTFail("no output"); return [] }
            return (0..<out.type.count).map { Int(out.pointer.assumingMemoryBound(to: Int64.self)[$0]) }
        }
        XCTAssertEqual(try run(feeds), [0, 0, 3, 0, 0, 0, 0, 0, 5])
        // New scores (same shape): box 5 now first; a higher score threshold; fewer rows.
        var changed = feeds
        changed[1] = f32("s", [1, 1, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.99])
        changed[4] = f32("t", [1], [0.35])
        XCTAssertEqual(try run(changed), [0, 0, 5, 0, 0, 4])
        XCTAssertEqual(try run(feeds), [0, 0, 3, 0, 0, 0, 0, 0, 5])
    }

    func testBoxesComputedByTheGraphRunNodeByNode() throws {
        // A detector's tail: boxes and scores computed from the inputs (Relu, Sigmoid), NMS on
        // them, and a node after it that takes NMS's data-dependent output (Gather of its
        // box-index column): the Relu and Sigmoid are planned, NMS and the Gather run node by
        // node after them (PartialPlanTests checks the split and the buffer reuse).
        let raw = cornerBoxes.map { $0 + 0.25 }   // all positive: Relu leaves them as they are
        let logits = scores.map { log($0 / (1 - $0)) }
        let constants = [i64("m", [1], [3]), f32("i", [1], [0.5]), f32("t", [1], [0]), i64("col", [], [2])]
        let bytes = buildModel(opset: 13, inputs: [("x", .float32, [1, 6, 4]), ("z", .float32, [1, 1, 6])],
                               outputs: [("y", .int64), ("picked", .int64)], initializers: constants,
                               nodes: [TestNode(op: "Relu", inputs: ["x"], outputs: ["b"]),
                                       TestNode(op: "Sigmoid", inputs: ["z"], outputs: ["s"]),
                                       TestNode(op: "NonMaxSuppression", inputs: ["b", "s", "m", "i", "t"], outputs: ["y"]),
                                       TestNode(op: "Gather", inputs: ["y", "col"], outputs: ["picked"],
                                                attributes: [.int("axis", 1)])])
        let model = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
        let session = Session(model: model)
        func run(_ boxes: [Double], _ logits: [Double]) throws -> (rows: [Int], picked: [Int]) {
            let x = f32("x", [1, 6, 4], boxes), z = f32("z", [1, 1, 6], logits)
            try x.bytes.withUnsafeBytes { try session.setInput(0, dtype: .float32, data: $0.baseAddress!, shape: x.shape) }
            try z.bytes.withUnsafeBytes { try session.setInput(1, dtype: .float32, data: $0.baseAddress!, shape: z.shape) }
            try session.run()
            guard let y = session.output(0), let p = session.output(1) else { XCTFail("no output"); return ([], []) }
            XCTAssertEqual(y.type.shape.count, 2)
            XCTAssertEqual(p.type.shape, [y.type.shape[0]])
            let ints = { (v: TensorView) in (0..<v.type.count).map { Int(v.pointer.assumingMemoryBound(to: Int64.self)[$0]) } }
            return (ints(y), ints(p))
        }
        // The same selection as onnx's reference on these boxes and scores (the test above).
        let first = try run(raw, logits)
        XCTAssertEqual(first.rows, [0, 0, 3, 0, 0, 0, 0, 0, 5])
        XCTAssertEqual(first.picked, [3, 0, 5])
        // New values, new output shape, same session: box 5 first, then 4 (3 is suppressed by 4).
        let second = try run(raw, [0.1, 0.2, 0.3, 0.4, 0.5, 0.99].map { log($0 / (1 - $0)) })
        XCTAssertEqual(second.picked, [5, 4, 2])
        XCTAssertEqual(try run(raw, logits).picked, [3, 0, 5])
    }

    func testRefusesBadInputs() {
        let b = f32("b", [1, 2, 4], [0, 0, 1, 1, 0, 0, 2, 2]), s = f32("s", [1, 1, 2], [0.5, 0.6])
        let m = i64("m", [1], [2])
        assertRefused(.shape, "'boxes' must be") {
            try self.nms(boxes: f32("b", [2, 4], [0, 0, 1, 1, 0, 0, 2, 2]), scores: s, maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.shape, "'boxes' must be") {
            try self.nms(boxes: f32("b", [1, 2, 3], [0, 0, 1, 1, 0, 0]), scores: s, maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.shape, "'scores' must be") {
            try self.nms(boxes: b, scores: f32("s", [1, 2], [0.5, 0.6]), maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.shape, "does not match") {
            try self.nms(boxes: b, scores: f32("s", [1, 1, 3], [0.5, 0.6, 0.7]), maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.shape, "does not match") {
            try self.nms(boxes: b, scores: f32("s", [2, 1, 2], [0.5, 0.6, 0.5, 0.6]), maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.unsupported, "scores") {
            try self.nms(boxes: b, scores: i64("s", [1, 1, 2], [1, 2]), maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.invalidModel, "max_output_boxes_per_class") {
            try self.nms(boxes: b, scores: s, maxOutput: f32("m", [1], [2]), iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.shape, "max_output_boxes_per_class") {
            try self.nms(boxes: b, scores: s, maxOutput: i64("m", [2], [2, 2]), iou: nil, scoreThreshold: nil) as Any
        }
        assertRefused(.invalidModel, "iou_threshold") {
            try self.nms(boxes: b, scores: s, maxOutput: m, iou: f32("i", [1], [1.5]), scoreThreshold: nil) as Any
        }
        assertRefused(.invalidModel, "score_threshold") {
            try self.nms(boxes: b, scores: s, maxOutput: m, iou: nil, scoreThreshold: i64("t", [1], [0])) as Any
        }
        assertRefused(.invalidModel, "center_point_box") {
            try self.nms(boxes: b, scores: s, maxOutput: m, iou: nil, scoreThreshold: nil, centerPointBox: 2) as Any
        }
        // The error names the node.
        assertRefused(.shape, "NonMaxSuppression node") {
            try self.nms(boxes: b, scores: f32("s", [1, 1, 3], [0.5, 0.6, 0.7]), maxOutput: m, iou: nil, scoreThreshold: nil) as Any
        }
    }
}
