import XCTest
@testable import D2LRuntime
import _D2LSystem

/// `gemm` against `gemmReference` under every kernel variant the CPU runs: every
/// transposition, edge sizes around the register tiles (6×16, 12×32), padded leading
/// dimensions, alpha/beta including 0 and 1, beta == 0 over a NaN-filled C, the
/// matrix-vector and dot-product paths, several depth and row blocks, the packed-block
/// path and the stack-panel path it falls back to, and pools of 1 and 3 threads. Also
/// checks that padding and memory past C stay untouched.
final class GemmKernelTests: XCTestCase {
    private static let sizes = [1, 2, 3, 7, 8, 15, 16, 17, 33, 64, 100, 129]
    private static let alphas: [Float] = [1, 0, -0.5, 1.75]
    private static let betas: [Float] = [0, 1, 0.5, -1.25]

    func testAllTranspositionsAndEdgeSizesSerial() {
        forEachKernelVariant { _ in runSweep(pool: nil, seed: 1) }
    }

    func testAllTranspositionsAndEdgeSizesThreePool() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in runSweep(pool: pool, seed: 2) }
    }

    /// The tiled product without the thread's scratch: B packed one panel at a time on the
    /// stack, A read in place.
    func testStackPanelPathWithoutScratch() {
        gemmThreadScratchDisabled = true
        defer { gemmThreadScratchDisabled = false }
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = GemmTestRandom(seed: 7)
            for (m, n, k) in [(64, 100, 129), (129, 70, 300), (30, 33, 7), (130, 40, 300)] {
                for t in 0..<4 {
                    let test = GemmTestCase(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                                            alpha: 1, beta: t == 1 ? 0.5 : 0, padA: 1, padB: 2, padC: 3)
                    checkCase(test, pool: nil, rng: &rng)
                    checkCase(test, pool: pool, rng: &rng)
                }
            }
        }
    }

    func testOneThreadPool() {
        guard let pool = ThreadPool(threadCount: 1) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = GemmTestRandom(seed: 3)
            for (m, n, k) in [(64, 100, 129), (1, 129, 100), (129, 1, 64), (17, 33, 7)] {
                for t in 0..<4 {
                    checkCase(GemmTestCase(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                                           alpha: 1, beta: 0, padA: 1, padB: 2, padC: 3),
                              pool: pool, rng: &rng)
                }
            }
        }
    }

    func testBlockBoundariesAndThreads() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        // Several depth blocks (k > 512), row blocks (m · depth block > 81920), packed B
        // blocks (n > 2048), threads, and the strided-vector gather (k > 1024).
        let shapes: [(Int, Int, Int)] = [(33, 40, 600), (330, 17, 256), (18, 100, 300), (1, 300, 1100),
                                         (300, 1, 1100), (1, 1, 2100), (2, 700, 130), (7, 21, 2100),
                                         (50, 2100, 8)]
        forEachKernelVariant { _ in
            var rng = GemmTestRandom(seed: 4)
            for (index, (m, n, k)) in shapes.enumerated() {
                for t in 0..<4 {
                    let test = GemmTestCase(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                                            alpha: Self.alphas[(index + t) % 4], beta: Self.betas[(index + 2 * t) % 4],
                                            padA: t, padB: 3 - t, padC: index % 3)
                    checkCase(test, pool: nil, rng: &rng)
                    checkCase(test, pool: pool, rng: &rng)
                }
            }
        }
    }

    func testEmptyDimensions() {
        forEachKernelVariant { _ in emptyDimensions() }
    }

    private func emptyDimensions() {
        var rng = GemmTestRandom(seed: 5)
        // k == 0: C = beta · C; beta == 0 writes zeros over NaNs.
        for beta: Float in [0, 1, 0.5] {
            checkCase(GemmTestCase(transA: false, transB: false, m: 5, n: 19, k: 0, alpha: 2, beta: beta,
                                   padA: 1, padB: 0, padC: 2), pool: nil, rng: &rng)
        }
        // m == 0 or n == 0: nothing is touched.
        var c: [Float] = [7, 7, 7]
        let a: [Float] = [1, 2, 3], b: [Float] = [4, 5, 6]
        c.withUnsafeMutableBufferPointer { cp in
            gemm(transA: false, transB: false, m: 0, n: 3, k: 1, alpha: 1, a: a, lda: 1, b: b, ldb: 3,
                 beta: 0, c: cp.baseAddress!, ldc: 3, pool: nil)
            gemm(transA: false, transB: false, m: 1, n: 0, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 1,
                 beta: 0, c: cp.baseAddress!, ldc: 1, pool: nil)
        }
        XCTAssertEqual(c, [7, 7, 7])
    }

    /// A deliberately wrong result must be reported (the comparison can fail).
    func testComparisonDetectsErrors() {
        var rng = GemmTestRandom(seed: 6)
        let test = GemmTestCase(transA: false, transB: true, m: 7, n: 17, k: 33, alpha: 1, beta: 0,
                                padA: 0, padB: 0, padC: 0)
        XCTAssertNotNil(gemmMismatch(test, pool: nil, rng: &rng, corrupt: true))
        XCTAssertNil(gemmMismatch(test, pool: nil, rng: &rng, corrupt: false))
    }

    /// The variant layer itself: a best variant is active, every runnable one can be
    /// selected and is then reported, and a variant the CPU or build lacks is refused.
    func testVariantSelection() {
        let previous = kernelISA
        defer { selectKernelVariant(previous) }
        let names = kernelVariants.map(\.name)
        XCTAssertTrue(names.contains("scalar"))
        XCTAssertTrue(names.contains(previous))
        for variant in kernelVariants {
            XCTAssertEqual(selectKernelVariant(variant.name), variant.runs, variant.name)
            if variant.runs { XCTAssertEqual(kernelISA, variant.name) }
        }
        XCTAssertFalse(selectKernelVariant("mmx"))
        #if arch(x86_64)
        XCTAssertFalse(selectKernelVariant("neon"))
        XCTAssertEqual(Array(names.prefix(3)), ["avx512", "avx2", "sse2"])
        #endif
    }

    // MARK: - Helpers

    /// All (m, n) pairs of `sizes` with two depths each (rotating through `sizes`, capped
    /// at m·n·k ≤ 2^19 to keep debug runs short; about 70 cases per sweep still exceed
    /// the threading threshold), each transposition, and alpha, beta and padding rotating.
    private func runSweep(pool: ThreadPool?, seed: UInt64) {
        var rng = GemmTestRandom(seed: seed)
        let sizes = Self.sizes
        var index = 0
        for t in 0..<4 {
            for (mi, m) in sizes.enumerated() {
                for (ni, n) in sizes.enumerated() {
                    for d in 0..<2 {
                        var ki = (mi * 5 + ni * 7 + d * 4 + t) % sizes.count
                        while ki > 0 && m * n * sizes[ki] > 1 << 19 { ki -= 1 }
                        let k = sizes[ki]
                        let test = GemmTestCase(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                                                alpha: Self.alphas[index % 4], beta: Self.betas[(index / 4) % 4],
                                                padA: index % 3, padB: (index / 3) % 3, padC: (index / 9) % 3)
                        checkCase(test, pool: pool, rng: &rng)
                        index += 1
                    }
                }
            }
        }
    }

    private func checkCase(_ test: GemmTestCase, pool: ThreadPool?, rng: inout GemmTestRandom,
                           file: StaticString = #filePath, line: UInt = #line) {
        if let message = gemmMismatch(test, pool: pool, rng: &rng, corrupt: false) {
            XCTFail(message, file: file, line: line)
        }
    }
}

private struct GemmTestCase {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var alpha: Float, beta: Float
    var padA: Int, padB: Int, padC: Int

    var description: String {
        "[\(kernelISA)] transA \(transA) transB \(transB) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta) pads \(padA),\(padB),\(padC)"
    }
}

/// A small deterministic generator (values in [-1, 1]).
private struct GemmTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 40) % 2001 - 1000) / 1000
    }
    mutating func fill(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}

/// Runs one case with `gemm` and `gemmReference`; returns a message on the first
/// difference beyond tolerance, or on a write outside C's m×n elements.
private func gemmMismatch(_ t: GemmTestCase, pool: ThreadPool?, rng: inout GemmTestRandom,
                          corrupt: Bool) -> String? {
    let rowsA = t.transA ? t.k : t.m, colsA = t.transA ? t.m : t.k
    let rowsB = t.transB ? t.n : t.k, colsB = t.transB ? t.k : t.n
    let lda = max(colsA, 1) + t.padA, ldb = max(colsB, 1) + t.padB, ldc = t.n + t.padC
    let a = rng.fill(max(rowsA * lda, 1)), b = rng.fill(max(rowsB * ldb, 1))
    let guardCount = 40
    let sentinel: Float = 12345
    var c = rng.fill(t.m * ldc + guardCount)
    for i in 0..<t.m {
        for j in t.n..<ldc { c[i * ldc + j] = sentinel }
        if t.beta == 0 { for j in 0..<t.n { c[i * ldc + j] = .nan } }
    }
    for g in 0..<guardCount { c[t.m * ldc + g] = sentinel }
    var expected = c
    for i in 0..<t.m where t.beta == 0 { for j in 0..<t.n { expected[i * ldc + j] = 0 } }
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            expected.withUnsafeMutableBufferPointer { ep in
                gemmReference(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                              a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                              beta: t.beta, c: ep.baseAddress!, ldc: ldc)
            }
            c.withUnsafeMutableBufferPointer { cp in
                gemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                     a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                     beta: t.beta, c: cp.baseAddress!, ldc: ldc, pool: pool)
            }
        }
    }
    if corrupt, t.m > 0, t.n > 0 { c[(t.m - 1) * ldc + t.n - 1] += 0.01 }
    // Inputs lie in [-1, 1]: |sum| ≤ k, so rounding stays well under 1e-5 · (|alpha|·k + |beta| + 1).
    let tolerance = 1e-5 * (abs(t.alpha) * Float(t.k) + abs(t.beta) + 1)
    for i in 0..<t.m {
        for j in 0..<ldc {
            let got = c[i * ldc + j], want = expected[i * ldc + j]
            if j >= t.n {
                if got != sentinel { return "\(t.description): wrote padding C[\(i), \(j)]" }
            } else if !(abs(got - want) <= tolerance) {
                return "\(t.description): C[\(i), \(j)] = \(got), expected \(want)"
            }
        }
    }
    for g in 0..<guardCount where c[t.m * ldc + g] != sentinel {
        return "\(t.description): wrote \(g) elements past C"
    }
    return nil
}
