import XCTest
@testable import D2LRuntime

/// ReduceMean, ReduceSum, ReduceMax, ArgMax.
final class ReduceTests: XCTestCase {
    let x = f32("x", [2, 3], [1, 2, 3, 4, 5, 6])

    func testReduceMeanAxesByVersion() throws {
        // Opset 17: axes attribute.
        assertTensor(try runNode("ReduceMean", inputs: [x], attributes: [.ints("axes", [1])]).first, f32("", [2, 1], [2, 5]))
        assertTensor(try runNode("ReduceMean", inputs: [x], attributes: [.int("keepdims", 0)]).first, f32("", [], [3.5]))
        // Opset 18: axes input; empty axes with noop_with_empty_axes = identity.
        assertTensor(try runNode("ReduceMean", opset: 18, inputs: [x], constants: [i64("a", [1], [-2])], attributes: [.int("keepdims", 0)]).first,
                     f32("", [3], [2.5, 3.5, 4.5]))
        assertTensor(try runNode("ReduceMean", opset: 18, inputs: [x], attributes: [.int("noop_with_empty_axes", 1)]).first, x.withShape([2, 3]))
        assertRefused(.unsupported, "axes") { try runNode("ReduceMean", opset: 18, inputs: [x], attributes: [.ints("axes", [1])]) }
        assertRefused(.invalidModel, "out of range") { try runNode("ReduceMean", inputs: [x], attributes: [.ints("axes", [2])]) }
    }

    func testReduceSumAndMax() throws {
        assertTensor(try runNode("ReduceSum", inputs: [x], constants: [i64("a", [1], [0])]).first, f32("", [1, 3], [5, 7, 9]))
        assertTensor(try runNode("ReduceSum", inputs: [i64("x", [3], [1, 2, 3])], outputs: [.int64], attributes: [.int("keepdims", 0)]).first,
                     i64("", [], [6]))
        assertTensor(try runNode("ReduceMax", inputs: [x], attributes: [.ints("axes", [1]), .int("keepdims", 0)]).first, f32("", [2], [3, 6]))
        assertTensor(try runNode("ReduceMax", opset: 18, inputs: [x], constants: [i64("a", [1], [0])]).first, f32("", [1, 3], [4, 5, 6]))
        assertRefused(.invalidModel, "keepdims") { try runNode("ReduceSum", inputs: [x], attributes: [.int("keepdims", 2)]) }
    }

    func testArgMax() throws {
        let v = f32("v", [2, 3], [1, 9, 9, 7, 2, 7])
        assertTensor(try runNode("ArgMax", inputs: [v], outputs: [.int64], attributes: [.int("axis", 1)]).first, i64("", [2, 1], [1, 0]))
        assertTensor(try runNode("ArgMax", inputs: [v], outputs: [.int64],
                                 attributes: [.int("axis", -1), .int("keepdims", 0), .int("select_last_index", 1)]).first, i64("", [2], [2, 2]))
        assertTensor(try runNode("ArgMax", inputs: [v], outputs: [.int64], attributes: [.int("keepdims", 0)]).first, i64("", [3], [1, 0, 0]))
        assertRefused(.invalidModel, "out of range") { try runNode("ArgMax", inputs: [v], outputs: [.int64], attributes: [.int("axis", 2)]) }
    }
}
