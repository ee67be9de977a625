import XCTest
@testable import D2LRuntime

/// The vector activation kernels against the scalar reference kernels.
final class VectorMathTests: XCTestCase {
    /// Values across the whole float range, including the clamping edges and specials.
    func samples() -> [Float] {
        var values: [Float] = [0, -0.0, 1, -1, 87.3, -87.3, 88.7, -88.7, 100, -100, 1e-8, -1e-8,
                               .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        var state: UInt32 = 12345
        for _ in 0..<20_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append((Float(state >> 8) / Float(1 << 24) - 0.5) * 60)
        }
        values.append(contentsOf: [3, 5, 7])   // a ragged tail
        return values
    }

    func compare(_ kind: ElementwiseUnary.Kind, _ vector: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                 tolerance: Float) {
        let x = samples()
        var want = [Float](repeating: 0, count: x.count), got = want
        x.withUnsafeBufferPointer { xp in
            want.withUnsafeMutableBufferPointer { ElementwiseUnary.reference(kind, xp.baseAddress!, $0.baseAddress!, x.count) }
            got.withUnsafeMutableBufferPointer { vector(xp.baseAddress!, $0.baseAddress!, x.count) }
        }
        var worst: Float = 0
        for i in 0..<x.count {
            if want[i].isNaN { XCTAssertTrue(got[i].isNaN, "\(kind)(\(x[i]))"); continue }
            let err = got[i] == want[i] ? 0 : abs(got[i] - want[i]) / max(1, abs(want[i]))
            worst = max(worst, err)
            XCTAssertLessThanOrEqual(err, tolerance, "\(kind)(\(x[i])): \(got[i]) vs \(want[i])")
        }
        XCTAssertLessThanOrEqual(worst, tolerance)
    }

    func testSigmoidMatchesScalar() { compare(.sigmoid, sigmoidVector, tolerance: 3e-7) }
    func testReluMatchesScalar() { compare(.relu, reluVector, tolerance: 0) }

    func testExpRelativeError() {
        var worst: Float = 0
        var v = SIMD8<Float>()
        var x: Float = -80
        while x < 80 {
            for lane in 0..<8 { v[lane] = x + Float(lane) * 0.0137 }
            let e = exp8(v)
            for lane in 0..<8 {
                let want = Float(exp(Double(v[lane])))
                worst = max(worst, abs(e[lane] - want) / want)
            }
            x += 0.11
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertTrue(exp8(SIMD8(repeating: .nan))[0].isNaN)
    }
}
