import XCTest
@testable import D2LRuntime

/// Where, Gather, OneHot, Pad, Cast.
final class IndexingTests: XCTestCase {
    func testWhereBroadcasts() throws {
        let c = TestTensor("c", .bool, [2, 1], [1, 0])
        let y = try runNode("Where", inputs: [c, f32("x", [2], [1, 2]), f32("y", [1], [9])])
        assertTensor(y.first, f32("", [2, 2], [1, 2, 9, 9]))
        assertRefused(.unsupported, "condition") {
            try runNode("Where", inputs: [f32("c", [1], [1]), f32("x", [2], [1, 2]), f32("y", [1], [9])])
        }
    }

    func testGatherAnyAxisNegativeIndices() throws {
        let data = f32("d", [2, 3], [1, 2, 3, 4, 5, 6])
        let y = try runNode("Gather", inputs: [data], constants: [i64("i", [2], [-1, 0])], attributes: [.int("axis", 1)])
        assertTensor(y.first, f32("", [2, 2], [3, 1, 6, 4]))
        // Indices fed at run time (an embedding lookup).
        let z = try runNode("Gather", inputs: [i64("i", [1, 2], [1, 0])], constants: [data], nodeInputs: ["d", "i"])
        assertTensor(z.first, f32("", [1, 2, 3], [4, 5, 6, 1, 2, 3]))
        assertRefused(.shape, "out of range") { try runNode("Gather", inputs: [data], constants: [i64("i", [1], [2])]) }
    }

    func testOneHot() throws {
        let y = try runNode("OneHot", inputs: [i64("i", [3], [0, -1, 7])],
                            constants: [i64("depth", [], [3]), f32("v", [2], [0, 5])])
        assertTensor(y.first, f32("", [3, 3], [5, 0, 0, 0, 0, 5, 0, 0, 0]))
        let z = try runNode("OneHot", inputs: [i64("i", [2], [1, 0])],
                            constants: [i64("depth", [1], [2]), i64("v", [2], [0, 1])], outputs: [.int64], attributes: [.int("axis", 0)])
        assertTensor(z.first, i64("", [2, 2], [0, 1, 1, 0]))
        assertRefused(.invalidModel, "depth") {
            try runNode("OneHot", inputs: [i64("i", [1], [0])], constants: [i64("depth", [], [0]), f32("v", [2], [0, 1])])
        }
    }

    func testPadModes() throws {
        let x = f32("x", [2, 2], [1, 2, 3, 4])
        let pads = i64("p", [4], [0, 1, 1, 0]) // rows: +0/+1, columns: +1/+0
        let c = try runNode("Pad", inputs: [x], constants: [pads, f32("v", [], [9])])
        assertTensor(c.first, f32("", [3, 3], [9, 1, 2, 9, 3, 4, 9, 9, 9]))
        let e = try runNode("Pad", inputs: [x], constants: [pads], attributes: [.string("mode", "edge")])
        assertTensor(e.first, f32("", [3, 3], [1, 1, 2, 3, 3, 4, 3, 3, 4]))
        let r = try runNode("Pad", inputs: [f32("x", [3], [1, 2, 3])], constants: [i64("p", [2], [2, 1])], attributes: [.string("mode", "reflect")])
        assertTensor(r.first, f32("", [6], [3, 2, 1, 2, 3, 2]))
        let crop = try runNode("Pad", inputs: [f32("x", [3], [1, 2, 3])], constants: [i64("p", [2], [-1, 0])])
        assertTensor(crop.first, f32("", [2], [2, 3]))
        assertRefused(.invalidModel, "mode") { try runNode("Pad", inputs: [x], constants: [pads], attributes: [.string("mode", "mirror")]) }
        assertRefused(.invalidModel, "pads") { try runNode("Pad", inputs: [x], constants: [i64("p", [2], [1, 1])]) }
    }

    func testCastBetweenRuntimeTypes() throws {
        let x = f32("x", [5], [1.9, -1.9, 0, .nan, 3e10])
        assertTensor(try runNode("Cast", inputs: [x], outputs: [.int64], attributes: [.int("to", 7)]).first,
                     i64("", [5], [1, -1, 0, 0, 30_000_001_024]))
        assertTensor(try runNode("Cast", inputs: [x], outputs: [.bool], attributes: [.int("to", 9)]).first,
                     TestTensor("", .bool, [5], [1, 1, 0, 1, 1]))
        assertTensor(try runNode("Cast", inputs: [i64("x", [2], [300, -1])], outputs: [.uint8], attributes: [.int("to", 2)]).first,
                     TestTensor("", .uint8, [2], [44, 255]))
        assertTensor(try runNode("Cast", inputs: [TestTensor("x", .int32, [2], [7, -3])], attributes: [.int("to", 1)]).first,
                     f32("", [2], [7, -3]))
        assertTensor(try runNode("Cast", inputs: [f32("x", [2], [3e10, -3e10])], outputs: [.int32], attributes: [.int("to", 6)]).first,
                     TestTensor("", .int32, [2], [2_147_483_647, -2_147_483_648]))
        assertRefused(.unsupported, "float16") { try runNode("Cast", inputs: [x], attributes: [.int("to", 10)]) }
        assertRefused(.invalidModel, "required") { try runNode("Cast", inputs: [x]) }
    }
}
