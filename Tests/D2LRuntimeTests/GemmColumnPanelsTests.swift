import XCTest
@testable import D2LRuntime

/// `gemmColumnPanels` (A packed by `packGemmColumnPanels`, B read in place) against
/// `gemmReference` under every kernel variant the CPU runs, with C stored as is and
/// transposed, a row bias, a residual and a ReLU: widths n that split into equal tiles of
/// every width 1 … 12, odd and even panel counts (tiles of one and two panels), depths
/// 1 … 300, padded leading dimensions, with no pool and 3 threads.
final class GemmColumnPanelsTests: XCTestCase {
    func testAgainstReference() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var state: UInt64 = 77
            func fill(_ count: Int) -> [Float] {
                (0..<count).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Float(Int((state >> 33) % 2001) - 1000) / 1000
                }
            }
            for (m, n, k) in [(16, 1, 1), (16, 9, 37), (32, 7, 300), (48, 36, 128), (16, 13, 5), (64, 145, 70), (32, 4, 260),
                          (48, 23, 40), (80, 12, 9)] {
                for (transposedC, fused, threads) in [(false, false, nil), (false, true, pool), (true, false, pool),
                                                      (true, true, nil)] as [(Bool, Bool, ThreadPool?)] {
                    let ldb = n + 3
                    let ldc = (transposedC ? m : n) + 2
                    let a = fill(m * k), b = fill(k * ldb), bias = fill(m)
                    let rows = transposedC ? n : m
                    let residual = fill(rows * ldc)
                    var packed = [Float](repeating: .nan, count: m * k)
                    a.withUnsafeBufferPointer { ap in
                        packed.withUnsafeMutableBufferPointer { packGemmColumnPanels(ap.baseAddress!, rows: m, depth: k, into: $0.baseAddress!) }
                    }
                    var expected = [Float](repeating: 0, count: m * n)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            expected.withUnsafeMutableBufferPointer {
                                gemmReference(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k,
                                              b: bp.baseAddress!, ldb: ldb, beta: 0, c: $0.baseAddress!, ldc: n)
                            }
                        }
                    }
                    let sentinel: Float = 999
                    var c = [Float](repeating: sentinel, count: rows * ldc)
                    packed.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            bias.withUnsafeBufferPointer { biasp in
                                residual.withUnsafeBufferPointer { rp in
                                    c.withUnsafeMutableBufferPointer { cp in
                                        let epilogue = fused ? Epilogue(residual: rp.baseAddress!, activation: .relu) : .none
                                        gemmColumnPanels(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, ldb: ldb,
                                                         c: cp.baseAddress!, ldc: ldc, rowBias: fused ? biasp.baseAddress! : nil,
                                                         pool: threads, epilogue: epilogue, transposedC: transposedC)
                                    }
                                }
                            }
                        }
                    }
                    let label = "[\(kernelISA)] m \(m) n \(n) k \(k) transposedC \(transposedC) fused \(fused)"
                    for i in 0..<m {
                        for j in 0..<n {
                            let at = transposedC ? j * ldc + i : i * ldc + j
                            var want = expected[i * n + j]
                            if fused { want = max(0, want + bias[i] + residual[at]) }
                            guard abs(c[at] - want) <= 1e-5 * Float(k + 3) else {
                                return XCTFail("\(label): C[\(i), \(j)] = \(c[at]), expected \(want)")
                            }
                        }
                    }
                    // The padding of each row of C is never written.
                    for r in 0..<rows {
                        for p in (transposedC ? m : n)..<ldc where c[r * ldc + p] != sentinel {
                            return XCTFail("\(label): wrote C's padding at row \(r)")
                        }
                    }
                }
            }
        }
    }
}
