import XCTest
@testable import D2LRuntime

/// The pieces behind d2l_session_set_image_u8 (Sources/D2LRuntime/Preprocessing): the
/// d2l.input reader, JSON numbers, PIL's bilinear taps and the resize on hand-worked cases.
/// The whole computation is checked against numpy and PIL in the C and Python tests
/// (Tests/Fixtures/image-input).
final class ImageInputTests: XCTestCase {
    private func number(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { bytes -> Double? in
            var reader = JSONReader(bytes: bytes)
            guard let v = reader.number(), reader.atEnd() else { return nil }
            return v
        }
    }

    func testJSONNumbers() {
        XCTAssertEqual(number("0"), 0)
        XCTAssertEqual(number("-0.5"), -0.5)
        XCTAssertEqual(number("0.485"), 0.485)
        XCTAssertEqual(number("1e-3"), 0.001)
        XCTAssertEqual(number("2.5E+2"), 250)
        XCTAssertEqual(number("1e999"), .infinity)
        for bad in ["", "-", "01", ".5", "1.", "+1", "1e", "1e+", "NaN", "Infinity", "0x10", "1 2"] {
            XCTAssertNil(number(bad), bad)
        }
    }

    func testSpecDefaultsAndValues() throws {
        let none = try ImageInputSpec(metadata: nil)
        XCTAssertEqual(none.rangeLow, 0)
        XCTAssertEqual(none.rangeHigh, 1)
        XCTAssertEqual(none.mean, [0])
        XCTAssertEqual(none.std, [1])
        XCTAssertNil(none.height)
        let spec = try ImageInputSpec(metadata: #" {"layout": "NCHW", "range": [-1, 1], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "size": [224, 160], "note": {"a": [true, null, "x"]}} "#)
        XCTAssertEqual(spec.rangeLow, -1)
        XCTAssertEqual(spec.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(spec.std[2], 0.225)
        XCTAssertEqual(spec.height, 224)
        XCTAssertEqual(spec.width, 160)
        XCTAssertEqual(try spec.normalization(channel: 1, of: 3).mean, 0.456)
        XCTAssertThrowsError(try spec.normalization(channel: 0, of: 1))
        let one = try ImageInputSpec(metadata: #"{"mean": [0.5]}"#)
        XCTAssertEqual(try one.normalization(channel: 2, of: 3).mean, 0.5)
    }

    func testSpecRefusals() {
        for bad in ["", "[]", "{", "{\"range\": [0, 1]", "{\"range\": [0, 1],}", "{} x", "{\"layout\": \"NHWC\"}",
                    "{\"range\": [1]}", "{\"mean\": []}", "{\"std\": [0.5, 0]}", "{\"size\": [0, 1]}",
                    "{\"size\": [1.5, 2]}", "{\"size\": [16777217, 2]}", "{\"x\": tru}", "{\"range\": [0, 1e400]}"] {
            XCTAssertThrowsError(try ImageInputSpec(metadata: bad), bad) { error in
                let e = error as? D2LError
                XCTAssertEqual(e?.status, .invalidModel, bad)
                XCTAssertTrue(e?.message.hasPrefix("d2l.input") == true, e?.message ?? "")
            }
        }
    }

    func testTaps() {
        // The same size: each output sample is its input sample.
        let same = ResampleTaps(inSize: 3, outSize: 3)
        for i in 0..<3 {
            XCTAssertEqual(same.weights[same.offset[i]], 1)
            XCTAssertEqual(same.first[i], i)
        }
        // Halving: output 0 is centred on 1.0 (input coordinates, +0.5 for sample centres),
        // support 2: inputs 0, 1, 2 at distances 0.25, 0.25, 0.75 of the support, weights
        // 0.75, 0.75, 0.25 normalised: 3/7, 3/7, 1/7 (PIL's antialiased bilinear).
        let half = ResampleTaps(inSize: 4, outSize: 2)
        XCTAssertEqual(half.first[0], 0)
        XCTAssertEqual(half.count[0], 3)
        for (k, want) in [3.0 / 7, 3.0 / 7, 1.0 / 7].enumerated() {
            XCTAssertEqual(half.weights[half.offset[0] + k], want, accuracy: 1e-15)
        }
        for i in 0..<2 {
            let sum = half.weights[half.offset[i] ..< half.offset[i] + half.count[i]].reduce(0, +)
            XCTAssertEqual(sum, 1, accuracy: 1e-12)
        }
        // Doubling: output 1 is centred on 0.75: inputs 0 and 1 weighted 0.75 and 0.25.
        let double = ResampleTaps(inSize: 2, outSize: 4)
        XCTAssertEqual(double.first[1], 0)
        XCTAssertEqual(double.weights[double.offset[1]], 0.75, accuracy: 1e-15)
        XCTAssertEqual(double.weights[double.offset[1] + 1], 0.25, accuracy: 1e-15)
    }

    func testResize() {
        // 1 x 2 -> 1 x 4: 10, 30 becomes 10, 15, 25, 30 (0.75 * 10 + 0.25 * 30 = 15).
        let source: [UInt8] = [10, 30]
        var middle = [Double](repeating: 0, count: 4)
        var out = [UInt8](repeating: 0, count: 4)
        middle.withUnsafeMutableBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in
                resizeBilinear(source, height: 1, width: 2, channels: 1, outHeight: 1, outWidth: 4,
                               middle: m.baseAddress!, into: o.baseAddress!)
            }
        }
        XCTAssertEqual(out, [10, 15, 25, 30])
        // A tie rounds half away from zero: 0.75 * 1 + 0.25 * 3 = 1.5 -> 2.
        let ties: [UInt8] = [1, 3]
        middle.withUnsafeMutableBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in
                resizeBilinear(ties, height: 1, width: 2, channels: 1, outHeight: 1, outWidth: 4,
                               middle: m.baseAddress!, into: o.baseAddress!)
            }
        }
        XCTAssertEqual(out, [1, 2, 3, 3])
    }
}
