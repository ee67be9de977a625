import XCTest
@testable import D2LRuntime

/// Add/Sub/Mul/Div on integers, Pow, Equal, Neg/Exp/Log/Sqrt/Erf, Clip, Sum/Max/Min.
final class ElementwiseTests: XCTestCase {
    func testIntegerArithmetic() throws {
        let a = i64("a", [4], [7, -7, 5, 9]), b = i64("b", [4], [2, 2, 0, -4])
        assertTensor(try runNode("Div", inputs: [a, b], outputs: [.int64]).first, i64("", [4], [3, -3, 0, -2]))
        assertTensor(try runNode("Add", inputs: [a, i64("b", [1], [1])], outputs: [.int64]).first, i64("", [4], [8, -6, 6, 10]))
        assertTensor(try runNode("Mul", inputs: [TestTensor("a", .int32, [2], [3, 4]), TestTensor("b", .int32, [2], [5, -1])], outputs: [.int32]).first,
                     TestTensor("", .int32, [2], [15, -4]))
        assertRefused(.invalidModel, "same type") { try runNode("Sub", inputs: [a, f32("b", [1], [1])], outputs: [.int64]) }
        assertRefused(.unsupported, "bool") {
            try runNode("Add", inputs: [TestTensor("a", .bool, [1], [1]), TestTensor("b", .bool, [1], [1])], outputs: [.bool])
        }
    }

    func testPowAndEqual() throws {
        assertTensor(try runNode("Pow", inputs: [f32("x", [3], [2, 4, -2]), f32("y", [1], [2])]).first, f32("", [3], [4, 16, 4]))
        assertTensor(try runNode("Pow", inputs: [f32("x", [2], [2, 9]), i64("y", [2], [3, -1])]).first, f32("", [2], [8, 1.0 / 9]))
        assertTensor(try runNode("Pow", opset: 13, inputs: [i64("x", [2], [2, 3]), i64("y", [2], [10, 2])], outputs: [.int64]).first,
                     i64("", [2], [1024, 9]))
        assertRefused(.unsupported, "bool") { try runNode("Pow", inputs: [f32("x", [1], [2]), TestTensor("y", .bool, [1], [1])]) }
        assertTensor(try runNode("Equal", inputs: [i64("a", [3], [1, 2, 3]), i64("b", [1], [2])], outputs: [.bool]).first,
                     TestTensor("", .bool, [3], [0, 1, 0]))
        assertRefused(.invalidModel, "same type") { try runNode("Equal", inputs: [i64("a", [1], [1]), f32("b", [1], [1])], outputs: [.bool]) }
    }

    func testUnaryMath() throws {
        let x = f32("x", [3], [0.5, 1, 4])
        assertTensor(try runNode("Neg", inputs: [x]).first, f32("", [3], [-0.5, -1, -4]))
        assertTensor(try runNode("Neg", inputs: [i64("x", [2], [3, -9_223_372_036_854_775_808])], outputs: [.int64]).first,
                     i64("", [2], [-3, -9_223_372_036_854_775_808]))
        assertTensor(try runNode("Exp", inputs: [x]).first, f32("", [3], [1.6487212707, 2.7182818285, 54.5981500331]))
        assertTensor(try runNode("Log", inputs: [x]).first, f32("", [3], [-0.6931471806, 0, 1.3862943611]))
        assertTensor(try runNode("Sqrt", inputs: [x]).first, f32("", [3], [0.7071067812, 1, 2]))
        assertTensor(try runNode("Erf", inputs: [x]).first, f32("", [3], [0.5204998778, 0.8427007929, 0.9999999846]))
        assertRefused(.unsupported, "float32") { try runNode("Exp", inputs: [i64("x", [1], [1])], outputs: [.int64]) }
    }

    func testClip() throws {
        let x = f32("x", [4], [-2, 0.5, 3, 9])
        assertTensor(try runNode("Clip", inputs: [x], constants: [f32("lo", [], [0]), f32("hi", [], [4])]).first, f32("", [4], [0, 0.5, 3, 4]))
        assertTensor(try runNode("Clip", inputs: [x], constants: [f32("hi", [], [1])], nodeInputs: ["x", "", "hi"]).first, f32("", [4], [-2, 0.5, 1, 1]))
        assertTensor(try runNode("Clip", inputs: [i64("x", [2], [-5, 5])], constants: [i64("lo", [], [0])], outputs: [.int64]).first, i64("", [2], [0, 5]))
        assertRefused(.invalidModel, "min") { try runNode("Clip", inputs: [x], constants: [f32("lo", [2], [0, 1])]) }
    }

    func testSumMaxMin() throws {
        let a = f32("a", [2, 1], [1, 5]), b = f32("b", [2], [3, 4]), c = f32("c", [1], [2])
        assertTensor(try runNode("Sum", inputs: [a, b, c]).first, f32("", [2, 2], [6, 7, 10, 11]))
        assertTensor(try runNode("Max", inputs: [a, b]).first, f32("", [2, 2], [3, 4, 5, 5]))
        assertTensor(try runNode("Min", inputs: [a, b, c]).first, f32("", [2, 2], [1, 1, 2, 2]))
        assertTensor(try runNode("Max", inputs: [i64("a", [2], [1, 8])], outputs: [.int64]).first, i64("", [2], [1, 8]))
        assertRefused(.shape, "broadcast") { try runNode("Sum", inputs: [a, f32("d", [3, 1], [1, 2, 3])]) }
    }
}
