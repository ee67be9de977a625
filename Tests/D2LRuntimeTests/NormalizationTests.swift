import XCTest
@testable import D2LRuntime

/// BatchNormalization (inference), GlobalAveragePool, LRN.
final class NormalizationTests: XCTestCase {
    func testBatchNormalization() throws {
        let x = f32("x", [1, 2, 2], [1, 2, 3, 4])
        let params = [f32("s", [2], [1, 2]), f32("b", [2], [0, 1]), f32("m", [2], [1, 3]), f32("v", [2], [4, 1])]
        let y = try runNode("BatchNormalization", opset: 15, inputs: [x], constants: params, attributes: [.float("epsilon", 0)])
        // c0: (x-1)/2; c1: (x-3)*2+1
        assertTensor(y.first, f32("", [1, 2, 2], [0, 0.5, 1, 3]))
        assertRefused(.unsupported, "training_mode") {
            try runNode("BatchNormalization", opset: 15, inputs: [x], constants: params, attributes: [.int("training_mode", 1)])
        }
        assertRefused(.shape, "scale") {
            try runNode("BatchNormalization", inputs: [x], constants: [f32("s", [3], [1, 2, 3])] + params.dropFirst())
        }
    }

    func testGlobalAveragePool() throws {
        let y = try runNode("GlobalAveragePool", inputs: [f32("x", [1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])])
        assertTensor(y.first, f32("", [1, 2, 1, 1], [2.5, 6.5]))
        assertRefused(.shape, "[N, C") { try runNode("GlobalAveragePool", inputs: [f32("x", [2, 2], [1, 2, 3, 4])]) }
    }

    func testLRN() throws {
        // size 3 over 3 channels, one pixel: sums x0²+x1², x0²+x1²+x2², x1²+x2².
        let x = f32("x", [1, 3, 1, 1], [1, 2, 3])
        let y = try runNode("LRN", inputs: [x], attributes: [.int("size", 3), .float("alpha", 3), .float("beta", 1), .float("bias", 1)])
        assertTensor(y.first, f32("", [1, 3, 1, 1], [1.0 / 6, 2.0 / 15, 3.0 / 14]))
        assertRefused(.invalidModel, "size") { try runNode("LRN", inputs: [x], attributes: [.int("size", 0)]) }
        assertRefused(.invalidModel, "required") { try runNode("LRN", inputs: [x]) }
    }
}
