import XCTest
@testable import D2LRuntime
import _D2LKernels

/// The elementwise kernels of every kernel variant the CPU runs against scalar references:
/// the activations and exp (libm), Add/Sub/Mul/Div with each broadcast step, the fused
/// epilogue, BatchNormalization's scale-and-shift, and softmax along each axis.
final class VectorMathTests: XCTestCase {
    /// Values across the whole float range, including the clamping edges and specials.
    func samples() -> [Float] {
        var values: [Float] = [0, -0.0, 1, -1, 87.3, -87.3, 88.7, -88.7, 100, -100, 1e-8, -1e-8, 0.625, -0.625,
                               0.6251, -0.6249, 9, -9, 20, -20,
                               .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan]
        var state: UInt32 = 12345
        for _ in 0..<20_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append((Float(state >> 8) / Float(1 << 24) - 0.5) * 60)
        }
        for i in 0..<2000 { values.append(Float(i - 1000) * 1e-3) }   // around 0, where tanh is odd
        values.append(contentsOf: [3, 5, 7])   // a ragged tail
        return values
    }

    /// The samples where `vector` differs from the reference kernel of `kind` by more
    /// than absolute + relative · |want| (or is not NaN where it should be), described.
    func mismatches(_ kind: ElementwiseUnary.Kind,
                    _ vector: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                    relative: Float, absolute: Float = 0) -> [String] {
        let x = samples()
        var want = [Float](repeating: 0, count: x.count), got = want
        x.withUnsafeBufferPointer { xp in
            want.withUnsafeMutableBufferPointer { ElementwiseUnary.reference(kind, xp.baseAddress!, $0.baseAddress!, x.count) }
            got.withUnsafeMutableBufferPointer { vector(xp.baseAddress!, $0.baseAddress!, x.count) }
        }
        var found: [String] = []
        for i in 0..<x.count {
            if want[i].isNaN {
                if !got[i].isNaN { found.append("\(kind)(\(x[i])) = \(got[i]), expected NaN") }
                continue
            }
            if got[i] == want[i] { continue }
            if !(abs(got[i] - want[i]) <= absolute + relative * abs(want[i])) {
                found.append("\(kind)(\(x[i])): \(got[i]) vs \(want[i])")
            }
        }
        return found
    }

    func compare(_ kind: ElementwiseUnary.Kind, _ vector: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                 relative: Float, absolute: Float = 0, file: StaticString = #filePath, line: UInt = #line) {
        let found = mismatches(kind, vector, relative: relative, absolute: absolute)
        XCTAssertTrue(found.isEmpty, "[\(kernelISA)] \(found.count) mismatches: \(found.prefix(5))", file: file, line: line)
    }

    func testSigmoidMatchesScalar() {
        forEachKernelVariant { _ in compare(.sigmoid, sigmoidVector, relative: 4e-7, absolute: 1e-37) }
    }

    func testReluMatchesScalar() {
        forEachKernelVariant { _ in compare(.relu, reluVector, relative: 0) }
    }

    func testTanhMatchesScalar() {
        forEachKernelVariant { _ in compare(.tanh, tanhVector, relative: 3e-7, absolute: 1e-7) }
    }

    func testExpMatchesScalar() {
        // Beyond the clamping range the vector exp saturates at e^±88.7 (finite) where
        // libm gives 0 or infinity; in range it is within a few ulp.
        forEachKernelVariant { _ in
            let x = samples().filter { $0.isNaN || ($0 >= -87.3 && $0 <= 88.7) }
            var want = [Float](repeating: 0, count: x.count), got = want
            x.withUnsafeBufferPointer { xp in
                want.withUnsafeMutableBufferPointer { ElementwiseUnary.reference(.exp, xp.baseAddress!, $0.baseAddress!, x.count) }
                got.withUnsafeMutableBufferPointer { expVector(xp.baseAddress!, $0.baseAddress!, x.count) }
            }
            var worst: Float = 0
            for i in 0..<x.count {
                if want[i].isNaN { XCTAssertTrue(got[i].isNaN, "[\(kernelISA)] exp(NaN)"); continue }
                worst = max(worst, abs(got[i] - want[i]) / want[i])
            }
            XCTAssertLessThan(worst, 5e-7, "[\(kernelISA)] exp")
        }
    }

    /// A wrong kernel must be caught by the comparison (it can fail).
    func testComparisonDetectsErrors() {
        XCTAssertEqual(mismatches(.sigmoid, { x, y, n in sigmoidVector(x, y, n); y[n / 2] += 1e-3 }, relative: 4e-7, absolute: 1e-37).count, 1)
        XCTAssertEqual(mismatches(.tanh, { x, y, n in tanhVector(x, y, n); y[7] = .nan }, relative: 3e-7, absolute: 1e-7).count, 1)
    }

    func testBinaryArithmeticMatchesScalar() {
        let ops: [(Int32, (Float, Float) -> Float)] = [(Int32(D2L_K_BINARY_ADD), { $0 + $1 }),
                                                       (Int32(D2L_K_BINARY_SUB), { $0 - $1 }),
                                                       (Int32(D2L_K_BINARY_MUL), { $0 * $1 }),
                                                       (Int32(D2L_K_BINARY_DIV), { $0 / $1 })]
        let a = samples(), b = samples().reversed().map { $0 + 0.5 }
        forEachKernelVariant { _ in
            let table = Kernels.active.table
            for (op, f) in ops {
                for (sa, sb) in [(1, 1), (1, 0), (0, 1), (0, 0)] {
                    for n in [0, 1, 3, 16, 17, 33, a.count] {
                        var y = [Float](repeating: -7, count: n + 1)
                        a.withUnsafeBufferPointer { ap in
                            b.withUnsafeBufferPointer { bp in
                                y.withUnsafeMutableBufferPointer { table.pointee.binary(op, ap.baseAddress!, sa, bp.baseAddress!, sb, $0.baseAddress!, n) }
                            }
                        }
                        for i in 0..<n {
                            let want = f(a[i * sa], b[i * sb])
                            if want.isNaN ? !y[i].isNaN : y[i] != want {
                                XCTFail("[\(kernelISA)] op \(op) steps \(sa),\(sb) n \(n) [\(i)]: \(y[i]) vs \(want)")
                                return
                            }
                        }
                        XCTAssertEqual(y[n], -7, "[\(kernelISA)] wrote past y")
                    }
                }
            }
        }
    }

    func testEpilogueAndScaleShiftMatchScalar() {
        let x = samples().map { $0.isFinite ? $0 / 8 : $0 }
        let residual = x.map { $0.isFinite ? 0.5 - $0 / 3 : 1 }
        let activations: [(Int32, ElementwiseUnary.Kind?)] = [(Int32(D2L_K_ACT_NONE), nil), (Int32(D2L_K_ACT_RELU), .relu),
                                                              (Int32(D2L_K_ACT_SIGMOID), .sigmoid),
                                                              (Int32(D2L_K_ACT_TANH), .tanh)]
        forEachKernelVariant { _ in
            let table = Kernels.active.table
            for (code, kind) in activations {
                // m × n blocks with a padded row stride; the padding must stay untouched.
                for (m, n) in [(1, 1), (3, 7), (5, 33), (2, 100)] {
                    let ldc = n + 3
                    var c = [Float](repeating: 9, count: m * ldc)
                    for i in 0..<m { for j in 0..<n { c[i * ldc + j] = x[i * n + j] } }
                    var want = c
                    for i in 0..<m {
                        for j in 0..<n {
                            let v = x[i * n + j] + residual[i * ldc + j]
                            want[i * ldc + j] = reference(kind, v)
                        }
                    }
                    residual.withUnsafeBufferPointer { rp in
                        c.withUnsafeMutableBufferPointer { table.pointee.epilogue(m, n, $0.baseAddress!, ldc, rp.baseAddress!, code) }
                    }
                    assertClose(c, want, "[\(kernelISA)] epilogue \(code) \(m)×\(n)")
                }
                var y = [Float](repeating: 0, count: x.count)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { table.pointee.scale_shift(xp.baseAddress!, 0.75, -0.25, $0.baseAddress!, x.count, code) }
                }
                assertClose(y, x.map { reference(kind, $0 * 0.75 - 0.25) }, "[\(kernelISA)] scale_shift \(code)")
            }
        }
    }

    func testSoftmaxMatchesReference() {
        var state: UInt32 = 7
        func value() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return (Float(state >> 8) / Float(1 << 24) - 0.5) * 40
        }
        forEachKernelVariant { _ in
            for (outer, length, inner) in [(1, 1, 1), (3, 10, 1), (2, 37, 1), (1, 1000, 1), (2, 5, 3), (3, 7, 20), (1, 3, 33)] {
                let x = (0..<(outer * length * inner)).map { _ in value() }
                var want = [Float](repeating: 0, count: x.count), got = want
                x.withUnsafeBufferPointer { xp in
                    want.withUnsafeMutableBufferPointer {
                        Softmax.reference(xp.baseAddress!, $0.baseAddress!, outer: outer, length: length, inner: inner)
                    }
                    got.withUnsafeMutableBufferPointer {
                        Kernels.active.table.pointee.softmax(xp.baseAddress!, $0.baseAddress!, outer, length, inner)
                    }
                }
                assertClose(got, want, "[\(kernelISA)] softmax \(outer)×\(length)×\(inner)", tolerance: 1e-6)
            }
        }
    }

    private func reference(_ kind: ElementwiseUnary.Kind?, _ v: Float) -> Float {
        guard let kind else { return v }
        var x = v, y: Float = 0
        ElementwiseUnary.reference(kind, &x, &y, 1)
        return y
    }

    private func assertClose(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 4e-7,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for i in 0..<min(got.count, want.count) {
            if want[i].isNaN { if !got[i].isNaN { XCTFail("\(what) [\(i)]: \(got[i]), expected NaN", file: file, line: line); return }; continue }
            if got[i] == want[i] { continue }
            if !(abs(got[i] - want[i]) <= tolerance * max(1, abs(want[i]))) {
                XCTFail("\(what) [\(i)]: \(got[i]) vs \(want[i])", file: file, line: line)
                return
            }
        }
    }

    /// `sumAlongAxis` (ReduceSum/ReduceMean over adjacent axes, the toolkit's `sum(axis:)`)
    /// against a double-precision loop, for inner 1 (runs through `sum`) and inner > 1 (rows
    /// through `binary`), ragged lengths and an empty axis.
    func testSumAlongAxisMatchesLoop() {
        let shapes = [(3, 37, 1), (2, 5, 19), (1, 1, 8), (4, 0, 3), (2, 129, 1), (1, 3, 1000)]
        forEachKernelVariant { variant in
            for (outer, length, inner) in shapes {
                var state: UInt32 = 7
                let x = (0..<max(1, outer * length * inner)).map { _ -> Float in
                    state = state &* 1_664_525 &+ 1_013_904_223
                    return Float(state >> 8) / Float(1 << 24) - 0.5
                }
                var got = [Float](repeating: .nan, count: outer * inner)
                sumAlongAxis(x, &got, outer: outer, length: length, inner: inner)
                for o in 0..<outer {
                    for i in 0..<inner {
                        var want = 0.0
                        for l in 0..<length { want += Double(x[(o * length + l) * inner + i]) }
                        XCTAssertEqual(Double(got[o * inner + i]), want, accuracy: 1e-5,
                                       "\(variant): [\(outer), \(length), \(inner)] at (\(o), \(i))")
                    }
                }
            }
        }
    }
}
