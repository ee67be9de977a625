import _D2LSystem

// Single-precision GEMM for the runtime's kernels (Gemm, MatMul, Conv through im2col).
//
// Strategy (see `gemm` for the contract):
// - m == 1 or n == 1: matrix-vector products, read in place (no packing), 8-lane SIMD.
// - A · Bᵀ with A row-major and m ≤ 64 (Linear layers at small batch): 3×4 blocks of
//   row-by-row dot products along k, over depth blocks of ≤ 1024; no transposition.
// - otherwise: 6×16 register tiles (12 SIMD8 accumulators) over blocks of depth ≤ 256
//   and ≤ 320 KiB of A. A is read in place (any transposition; rows past the edge are
//   clamped to the last row, their results never stored). B is read in place when it is
//   row-major, n ≥ 16 and m ≤ 24 (few row tiles reuse it), and otherwise packed, one 16-column panel at a
//   time, into a 16 KiB 64-byte-aligned buffer on the stack (zero-padded at the right
//   edge). No heap memory is used, so repeated calls allocate nothing.
// - Threads: column panels (and, when there are few, row blocks) are split into several
//   chunks per thread; products under ~512 K multiply-adds run on the calling thread (waking a
//   thread costs more than such a product on the machines measured).
// - FMA (`addProduct`) only under D2L_FMA or on arm64; elsewhere multiply, then add.

// MARK: - Tuning

/// Rows of a register tile.
private let tileRows = 6
/// Columns of a register tile (two SIMD8).
private let tileColumns = 16
/// Largest depth of one block (a packed panel is ≤ 256 × 16 floats = 16 KiB, L1-resident).
private let blockDepth = 256
/// Largest A block (rows × depth, in floats) swept per packed panel: 320 KiB, in L2.
private let blockFloats = 81920
/// Multiply-adds below which a product runs on the calling thread.
let parallelThreshold = 1 << 19
/// Multiply-adds per chunk that make one more chunk worthwhile.
private let chunkWork = 1 << 16

// MARK: - Public API

/// C = alpha · op(A) · op(B) + beta · C in single precision, where op(A) is m×k and
/// op(B) is k×n; the same contract and results (up to rounding) as `gemmReference`.
///
/// Layouts are row-major: A is stored m×k with row stride `lda` (k×m when `transA`),
/// B is stored k×n with row stride `ldb` (n×k when `transB`), C is m×n with row stride
/// `ldc`. When `beta` is 0, C is never read (it may hold NaNs). With k == 0, C becomes
/// beta · C. Nothing happens when m or n is 0. C must not overlap A or B.
///
/// Needs no scratch memory: the few panels it packs live in ≤ 16 KiB of stack per
/// thread. `pool` (nil = the calling thread only) splits large products into several
/// chunks per thread; small ones run on the calling thread.
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool?) {
    gemmWithRowBias(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                    rowBias: nil, pool: pool)
}

// MARK: - Row-packed A

/// Packs the m×k row-major matrix `source` (row stride k) for `gemmPackedA`: rows in
/// tiles of 6 (the last may be smaller), tile t with r rows stored from float 6·t·k as k
/// groups of r values (depth p, rows 6t ..< 6t + r). Same size as the source (m·k floats);
/// `destination` must not overlap it.
public func packGemmRows(_ source: UnsafePointer<Float>, rows m: Int, depth k: Int,
                         into destination: UnsafeMutablePointer<Float>) {
    packRowGroups(source, rows: m, depth: k, groupRows: tileRows, into: destination)
}

/// Rows of `source` (m×k, row stride k) in groups of `groupRows` (the last may be smaller),
/// group g with r rows stored from float groupRows·g·k as k runs of r values (depth p,
/// the group's rows in order): the layout of `packGemmRows` (groups of 6) and
/// `packGemmColumnPanels` (groups of 8).
func packRowGroups(_ source: UnsafePointer<Float>, rows m: Int, depth k: Int, groupRows: Int,
                   into destination: UnsafeMutablePointer<Float>) {
    var r0 = 0
    while r0 < m {
        let r = min(groupRows, m &- r0)
        let group = destination + r0 &* k
        for i in 0..<r {
            let row = source + (r0 &+ i) &* k
            var out = group + i
            for p in 0..<k {
                out.pointee = row[p]
                out += r
            }
        }
        r0 &+= r
    }
}

/// C = A · B (+ rowBias per row, then `epilogue`), with A (m×k) packed by `packGemmRows`
/// and B k×n row-major with row stride `ldb`; C m×n with row stride `ldc` (never read).
/// The results equal `gemm` on the unpacked A up to rounding.
func gemmPackedA(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>?,
                 pool: ThreadPool?, epilogue: Epilogue = .none) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        scaleOnly(m: m, n: n, alpha: 1, beta: 0, c: c, ldc: ldc, rowBias: rowBias)
        applyEpilogue(m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    let work = m &* n &* k
    let threadPool: ThreadPool? = work >= parallelThreshold && (pool?.threadCount ?? 1) > 1 ? pool : nil
    gemmTiled(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ldb,
              beta: 0, c: c, ldc: ldc, rowBias: rowBias, epilogue: epilogue, pool: threadPool,
              threads: threadPool?.threadCount ?? 1, aPacked: true)
}

// MARK: - Dispatch

/// `gemm`, plus `rowBias[i]` (when not nil, m values) added to every element of row i
/// of C after alpha and beta are applied (the convolution's bias), then `epilogue`
/// (a fused residual with C's row stride `ldc`, then an activation) on every element of
/// C: in the tiled product on each row block of a chunk as soon as it is final (still in
/// L2, on the thread that computed it); after the product on the other paths.
func gemmWithRowBias(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     rowBias: UnsafePointer<Float>?, pool: ThreadPool?, epilogue: Epilogue = .none) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        scaleOnly(m: m, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc, rowBias: rowBias)
        applyEpilogue(m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    if m == 1 || n == 1 || (!transA && transB && m <= dotRowsLimit) {
        // The paths below the tiled product store plain values; the epilogue follows.
        gemmUntiled(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, rowBias: rowBias, pool: pool)
        applyEpilogue(m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    let work = m &* n &* k
    let threadPool: ThreadPool? = work >= parallelThreshold && (pool?.threadCount ?? 1) > 1 ? pool : nil
    let threads = threadPool?.threadCount ?? 1
    gemmTiled(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
              rowBias: rowBias, epilogue: epilogue, pool: threadPool, threads: threads)
}

/// The matrix-vector paths (m or n is 1) and the few-rows A · Bᵀ path of
/// `gemmWithRowBias` (k ≥ 1).
private func gemmUntiled(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                         rowBias: UnsafePointer<Float>?, pool: ThreadPool?) {
    let work = m &* n &* k
    let threadPool: ThreadPool? = work >= parallelThreshold && (pool?.threadCount ?? 1) > 1 ? pool : nil
    let threads = threadPool?.threadCount ?? 1

    if m == 1 {
        // One row: c[j] = alpha · Σ_p a(p) · op(B)[p, j] + beta · c[j] (+ bias[0]).
        let xs = transA ? lda : 1
        if transB {
            gemvDot(rows: n, k: k, matrix: b, rowStride: ldb, x: a, xStride: xs,
                    y: c, yStride: 1, alpha: alpha, beta: beta,
                    bias: rowBias, biasStride: 0, pool: threadPool, threads: threads)
        } else {
            gemvAxpy(columns: n, k: k, matrix: b, rowStride: ldb, x: a, xStride: xs,
                     y: c, yStride: 1, alpha: alpha, beta: beta,
                     bias: rowBias, biasStride: 0, pool: threadPool, threads: threads)
        }
        return
    }
    if n == 1 {
        // One column: c[i] = alpha · Σ_p op(A)[i, p] · b(p) + beta · c[i] (+ bias[i]).
        let xs = transB ? 1 : ldb
        if transA {
            gemvAxpy(columns: m, k: k, matrix: a, rowStride: lda, x: b, xStride: xs,
                     y: c, yStride: ldc, alpha: alpha, beta: beta,
                     bias: rowBias, biasStride: 1, pool: threadPool, threads: threads)
        } else {
            gemvDot(rows: m, k: k, matrix: a, rowStride: lda, x: b, xStride: xs,
                    y: c, yStride: ldc, alpha: alpha, beta: beta,
                    bias: rowBias, biasStride: 1, pool: threadPool, threads: threads)
        }
        return
    }
    // A few rows times Bᵀ: dot products of rows, no transposition of B.
    gemmDotRows(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc, rowBias: rowBias, pool: threadPool, threads: threads)
}

/// C = alpha · 0 + beta · C (+ bias): the product of an empty inner dimension.
private func scaleOnly(m: Int, n: Int, alpha: Float, beta: Float, c: UnsafeMutablePointer<Float>,
                       ldc: Int, rowBias: UnsafePointer<Float>?) {
    let zero = alpha * 0
    for i in 0..<m {
        let row = c + i &* ldc
        let extra: Float = rowBias?[i] ?? 0
        for j in 0..<n {
            let old: Float = beta == 0 ? 0 : beta * row[j]
            row[j] = zero + old + extra
        }
    }
}

/// Runs `body(i)` for i in 0..<count: over `pool` when there is one and more than one
/// chunk, else on the calling thread.
@inline(__always)
func forEachChunk(_ count: Int, _ pool: ThreadPool?, _ body: (Int) -> Void) {
    if let pool, count > 1 {
        pool.parallelFor(count, body)
    } else {
        var i = 0
        while i < count { body(i); i &+= 1 }
    }
}

/// Number of chunks for `work` multiply-adds over `units` splittable units on `threads`.
@inline(__always)
func chunkCount(work: Int, units: Int, threads: Int) -> Int {
    if threads <= 1 { return 1 }
    let wanted = min(threads &* 4, max(1, work / chunkWork))
    return max(1, min(units, wanted))
}

// MARK: - SIMD helpers

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// acc += x · y (fused where the target has FMA; one libm call per lane otherwise).
@inline(__always)
func madd(_ acc: inout SIMD8<Float>, _ x: SIMD8<Float>, _ y: SIMD8<Float>) {
    #if D2L_FMA || arch(arm64)
    acc.addProduct(x, y)
    #else
    acc = acc + x * y
    #endif
}

// MARK: - Matrix-vector: contiguous columns (axpy form)

/// y[j·yStride] = alpha · Σ_p x[p·xStride] · M[p·rowStride + j] + beta · y[j·yStride]
/// (+ bias[j·biasStride]) for j in 0..<columns: M is k×columns with contiguous rows.
private func gemvAxpy(columns: Int, k: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                      x: UnsafePointer<Float>, xStride: Int,
                      y: UnsafeMutablePointer<Float>, yStride: Int, alpha: Float, beta: Float,
                      bias: UnsafePointer<Float>?, biasStride: Int,
                      pool: ThreadPool?, threads: Int) {
    let blocks = (columns &+ 63) / 64
    let chunks = chunkCount(work: columns &* k, units: blocks, threads: threads)
    forEachChunk(chunks, pool) { chunk in
        let j0 = (chunk &* blocks / chunks) &* 64
        let j1 = min(columns, ((chunk &+ 1) &* blocks / chunks) &* 64)
        gemvAxpyRange(j0: j0, j1: j1, k: k, matrix: matrix, rowStride: rowStride, x: x, xStride: xStride,
                      y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride)
    }
}

@inline(__always)
private func finishValue(_ sum: Float, _ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ beta: Float,
                         _ bias: UnsafePointer<Float>?, _ biasIndex: Int) {
    let old: Float = beta == 0 ? 0 : beta * y.pointee
    var v = alpha * sum + old
    if let bias { v += bias[biasIndex] }
    y.pointee = v
}

@inline(__always)
private func finish8(_ acc: SIMD8<Float>, y: UnsafeMutablePointer<Float>, yStride: Int,
                     alpha: Float, beta: Float, bias: UnsafePointer<Float>?, biasStride: Int, j: Int) {
    if yStride == 1 && (bias == nil || biasStride == 0) {
        var v = SIMD8<Float>(repeating: alpha) * acc
        if beta != 0 { v = v + SIMD8<Float>(repeating: beta) * load8(y + j) }
        if let bias { v = v + SIMD8<Float>(repeating: bias[0]) }
        store8(v, y + j)
    } else {
        for l in 0..<8 {
            finishValue(acc[l], y + (j &+ l) &* yStride, alpha, beta, bias, (j &+ l) &* biasStride)
        }
    }
}

private func gemvAxpyRange(j0: Int, j1: Int, k: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                           x: UnsafePointer<Float>, xStride: Int,
                           y: UnsafeMutablePointer<Float>, yStride: Int, alpha: Float, beta: Float,
                           bias: UnsafePointer<Float>?, biasStride: Int) {
    var j = j0
    while j &+ 64 <= j1 {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var s4 = SIMD8<Float>(), s5 = SIMD8<Float>(), s6 = SIMD8<Float>(), s7 = SIMD8<Float>()
        var row = matrix + j
        var xp = x
        for _ in 0..<k {
            let xv = SIMD8<Float>(repeating: xp.pointee)
            madd(&s0, xv, load8(row)); madd(&s1, xv, load8(row + 8))
            madd(&s2, xv, load8(row + 16)); madd(&s3, xv, load8(row + 24))
            madd(&s4, xv, load8(row + 32)); madd(&s5, xv, load8(row + 40))
            madd(&s6, xv, load8(row + 48)); madd(&s7, xv, load8(row + 56))
            row += rowStride
            xp += xStride
        }
        finish8(s0, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j)
        finish8(s1, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 8)
        finish8(s2, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 16)
        finish8(s3, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 24)
        finish8(s4, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 32)
        finish8(s5, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 40)
        finish8(s6, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 48)
        finish8(s7, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 56)
        j &+= 64
    }
    while j &+ 32 <= j1 {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var t0 = SIMD8<Float>(), t1 = SIMD8<Float>(), t2 = SIMD8<Float>(), t3 = SIMD8<Float>()
        var row = matrix + j
        var xp = x
        var p = 0
        while p &+ 2 <= k {
            let xv = SIMD8<Float>(repeating: xp.pointee)
            madd(&s0, xv, load8(row)); madd(&s1, xv, load8(row + 8))
            madd(&s2, xv, load8(row + 16)); madd(&s3, xv, load8(row + 24))
            let row2 = row + rowStride
            let xw = SIMD8<Float>(repeating: xp[xStride])
            madd(&t0, xw, load8(row2)); madd(&t1, xw, load8(row2 + 8))
            madd(&t2, xw, load8(row2 + 16)); madd(&t3, xw, load8(row2 + 24))
            row = row2 + rowStride
            xp += xStride &* 2
            p &+= 2
        }
        if p < k {
            let xv = SIMD8<Float>(repeating: xp.pointee)
            madd(&s0, xv, load8(row)); madd(&s1, xv, load8(row + 8))
            madd(&s2, xv, load8(row + 16)); madd(&s3, xv, load8(row + 24))
        }
        finish8(s0 + t0, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j)
        finish8(s1 + t1, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 8)
        finish8(s2 + t2, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 16)
        finish8(s3 + t3, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j &+ 24)
        j &+= 32
    }
    while j &+ 8 <= j1 {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var row = matrix + j
        var xp = x
        var p = 0
        while p &+ 2 <= k {
            madd(&s0, SIMD8<Float>(repeating: xp.pointee), load8(row))
            madd(&s1, SIMD8<Float>(repeating: xp[xStride]), load8(row + rowStride))
            row += rowStride &* 2
            xp += xStride &* 2
            p &+= 2
        }
        if p < k { madd(&s0, SIMD8<Float>(repeating: xp.pointee), load8(row)) }
        finish8(s0 + s1, y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride, j: j)
        j &+= 8
    }
    while j < j1 {
        var sum: Float = 0
        var row = matrix + j
        var xp = x
        for _ in 0..<k {
            sum += xp.pointee * row.pointee
            row += rowStride
            xp += xStride
        }
        finishValue(sum, y + j &* yStride, alpha, beta, bias, j &* biasStride)
        j &+= 1
    }
}

// MARK: - Matrix-vector: contiguous rows (dot form)

/// Depth of one block of x gathered to the stack when x is strided.
private let gatherDepth = 1024

/// y[i·yStride] = alpha · Σ_p M[i·rowStride + p] · x[p·xStride] + beta · y[i·yStride]
/// (+ bias[i·biasStride]) for i in 0..<rows: M is rows×k with contiguous rows.
private func gemvDot(rows: Int, k: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                     x: UnsafePointer<Float>, xStride: Int,
                     y: UnsafeMutablePointer<Float>, yStride: Int, alpha: Float, beta: Float,
                     bias: UnsafePointer<Float>?, biasStride: Int,
                     pool: ThreadPool?, threads: Int) {
    let blocks = (rows &+ 3) / 4
    let chunks = chunkCount(work: rows &* k, units: blocks, threads: threads)
    forEachChunk(chunks, pool) { chunk in
        let i0 = (chunk &* blocks / chunks) &* 4
        let i1 = min(rows, ((chunk &+ 1) &* blocks / chunks) &* 4)
        if xStride == 1 {
            gemvDotRange(i0: i0, i1: i1, p0: 0, depth: k, matrix: matrix, rowStride: rowStride, x: x,
                         y: y, yStride: yStride, alpha: alpha, beta: beta, bias: bias, biasStride: biasStride,
                         first: true)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: gatherDepth &* 4, alignment: 64) { raw in
            guard let base = raw.baseAddress else { return }
            let buffer = base.bindMemory(to: Float.self, capacity: gatherDepth)
            var p0 = 0
            while p0 < k {
                let depth = min(gatherDepth, k &- p0)
                for p in 0..<depth { buffer[p] = x[(p0 &+ p) &* xStride] }
                gemvDotRange(i0: i0, i1: i1, p0: p0, depth: depth, matrix: matrix, rowStride: rowStride,
                             x: UnsafePointer(buffer), y: y, yStride: yStride, alpha: alpha, beta: beta,
                             bias: bias, biasStride: biasStride, first: p0 == 0)
                p0 &+= depth
            }
        }
    }
}

/// Rows i0..<i1 of the dot form over columns p0..<p0+depth of M (x holds those `depth`
/// values contiguously). `first`: apply beta and bias; otherwise add to y.
private func gemvDotRange(i0: Int, i1: Int, p0: Int, depth: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                          x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int,
                          alpha: Float, beta: Float, bias: UnsafePointer<Float>?, biasStride: Int,
                          first: Bool) {
    @inline(__always) func put(_ sum: Float, _ i: Int) {
        let out = y + i &* yStride
        if first {
            finishValue(sum, out, alpha, beta, bias, i &* biasStride)
        } else {
            out.pointee = out.pointee + alpha * sum
        }
    }
    let vectorDepth = depth & ~15
    var i = i0
    while i &+ 4 <= i1 {
        let r0 = matrix + (i &* rowStride &+ p0)
        let r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b0 = SIMD8<Float>(), b1 = SIMD8<Float>()
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
        var p = 0
        while p < vectorDepth {
            let x0 = load8(x + p), x1 = load8(x + (p &+ 8))
            madd(&a0, x0, load8(r0 + p)); madd(&a1, x1, load8(r0 + (p &+ 8)))
            madd(&b0, x0, load8(r1 + p)); madd(&b1, x1, load8(r1 + (p &+ 8)))
            madd(&c0, x0, load8(r2 + p)); madd(&c1, x1, load8(r2 + (p &+ 8)))
            madd(&d0, x0, load8(r3 + p)); madd(&d1, x1, load8(r3 + (p &+ 8)))
            p &+= 16
        }
        var s0 = (a0 + a1).sum(), s1 = (b0 + b1).sum(), s2 = (c0 + c1).sum(), s3 = (d0 + d1).sum()
        while p < depth {
            let xv = x[p]
            s0 += r0[p] * xv; s1 += r1[p] * xv; s2 += r2[p] * xv; s3 += r3[p] * xv
            p &+= 1
        }
        put(s0, i); put(s1, i &+ 1); put(s2, i &+ 2); put(s3, i &+ 3)
        i &+= 4
    }
    while i < i1 {
        let r0 = matrix + (i &* rowStride &+ p0)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var p = 0
        while p < vectorDepth {
            madd(&a0, load8(x + p), load8(r0 + p)); madd(&a1, load8(x + (p &+ 8)), load8(r0 + (p &+ 8)))
            p &+= 16
        }
        var s0 = (a0 + a1).sum()
        while p < depth { s0 += r0[p] * x[p]; p &+= 1 }
        put(s0, i)
        i &+= 1
    }
}

// MARK: - Few rows times a transposed matrix

/// Most rows of op(A) for which A · Bᵀ runs as dot products (up to here they beat the
/// transposing pack of the tiled path; a depth block of A then still fits in L2).
private let dotRowsLimit = 64
/// Depth of one block of the dot-product path.
private let dotDepth = 1024

/// C = alpha · A · Bᵀ + beta · C (+ bias) with A stored m×k and B stored n×k (both with
/// contiguous rows): 3×4 blocks of row-by-row dot products, 8 lanes along k, over depth
/// blocks of ≤ 1024. Threads split the rows of B.
private func gemmDotRows(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
                         ldc: Int, rowBias: UnsafePointer<Float>?, pool: ThreadPool?, threads: Int) {
    let groups = (n &+ 3) / 4
    let chunks = chunkCount(work: m &* n &* k, units: groups, threads: threads)
    let depthBlocks = (k &+ dotDepth &- 1) / dotDepth
    let depthStep = (k &+ depthBlocks &- 1) / depthBlocks
    forEachChunk(chunks, pool) { chunk in
        let jBegin = (chunk &* groups / chunks) &* 4
        let jEnd = min(n, ((chunk &+ 1) &* groups / chunks) &* 4)
        var pc = 0
        while pc < k {
            let kc = min(depthStep, k &- pc)
            let first = pc == 0
            var j = jBegin
            while j < jEnd {
                let cols = min(4, jEnd &- j)
                var i = 0
                while i < m {
                    dotBlock(rows: min(3, m &- i), cols: cols, k: kc, a: a + (i &* lda &+ pc), lda: lda,
                             b: b + (j &* ldb &+ pc), ldb: ldb, c: c + (i &* ldc &+ j), ldc: ldc,
                             alpha: alpha, beta: first ? beta : 1, bias: first ? rowBias.map { $0 + i } : nil)
                    i &+= 3
                }
                j &+= 4
            }
            pc &+= kc
        }
    }
}

/// C[r, q] (r < rows ≤ 3, q < cols ≤ 4) = alpha · Σ_p a[r·lda + p] · b[q·ldb + p] + beta · C
/// (+ bias[r]) for p < k. Rows and columns past the edge repeat the last one and are not
/// stored. beta == 0: C is not read.
@inline(never)
private func dotBlock(rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                      alpha: Float, beta: Float, bias: UnsafePointer<Float>?) {
    let a0 = a, a1 = a + min(1, rows &- 1) &* lda, a2 = a + min(2, rows &- 1) &* lda
    let b0 = b, b1 = b + min(1, cols &- 1) &* ldb, b2 = b + min(2, cols &- 1) &* ldb
    let b3 = b + min(3, cols &- 1) &* ldb
    var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
    var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
    var s20 = SIMD8<Float>(), s21 = SIMD8<Float>(), s22 = SIMD8<Float>(), s23 = SIMD8<Float>()
    @inline(__always) func step(_ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>, _ p: Int) {
        var y = load8(b0 + p)
        madd(&s00, x0, y); madd(&s10, x1, y); madd(&s20, x2, y)
        y = load8(b1 + p)
        madd(&s01, x0, y); madd(&s11, x1, y); madd(&s21, x2, y)
        y = load8(b2 + p)
        madd(&s02, x0, y); madd(&s12, x1, y); madd(&s22, x2, y)
        y = load8(b3 + p)
        madd(&s03, x0, y); madd(&s13, x1, y); madd(&s23, x2, y)
    }
    var p = 0
    while p &+ 8 <= k {
        step(load8(a0 + p), load8(a1 + p), load8(a2 + p), p)
        p &+= 8
    }
    if p < k && k >= 8 {
        // The last k − p values: the final 8 with the lanes already summed zeroed in A.
        let start = k &- 8
        let done = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .< SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: p &- start))
        step(load8(a0 + start).replacing(with: 0, where: done), load8(a1 + start).replacing(with: 0, where: done),
             load8(a2 + start).replacing(with: 0, where: done), start)
        p = k
    }
    var t00 = s00.sum(), t01 = s01.sum(), t02 = s02.sum(), t03 = s03.sum()
    var t10 = s10.sum(), t11 = s11.sum(), t12 = s12.sum(), t13 = s13.sum()
    var t20 = s20.sum(), t21 = s21.sum(), t22 = s22.sum(), t23 = s23.sum()
    while p < k {
        let x0 = a0[p], x1 = a1[p], x2 = a2[p]
        let y0 = b0[p], y1 = b1[p], y2 = b2[p], y3 = b3[p]
        t00 += x0 * y0; t01 += x0 * y1; t02 += x0 * y2; t03 += x0 * y3
        t10 += x1 * y0; t11 += x1 * y1; t12 += x1 * y2; t13 += x1 * y3
        t20 += x2 * y0; t21 += x2 * y1; t22 += x2 * y2; t23 += x2 * y3
        p &+= 1
    }
    @inline(__always) func put(_ v: Float, _ r: Int, _ q: Int) {
        if r < rows && q < cols { finishValue(v, c + (r &* ldc &+ q), alpha, beta, bias, r) }
    }
    put(t00, 0, 0); put(t01, 0, 1); put(t02, 0, 2); put(t03, 0, 3)
    put(t10, 1, 0); put(t11, 1, 1); put(t12, 1, 2); put(t13, 1, 3)
    put(t20, 2, 0); put(t21, 2, 1); put(t22, 2, 2); put(t23, 2, 3)
}

// MARK: - Tiled product

private func gemmTiled(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                       rowBias: UnsafePointer<Float>?, epilogue: Epilogue, pool: ThreadPool?, threads: Int,
                       aPacked: Bool = false) {
    // A(i, p) = a[i·aRow + p·aCol], whichever way it is stored (unless `aPacked`: then
    // tile-packed by `packGemmRows`, and aRow/aCol are unused).
    let aRow = transA ? 1 : lda
    let aCol = transA ? lda : 1
    // B is read in place when its rows are contiguous, wide enough for whole tiles and
    // reused by few row tiles; otherwise packed panel by panel.
    let direct = !transB && n >= tileColumns && m <= 4 &* tileRows
    // Equal blocks of depth ≤ blockDepth.
    let depthBlocks = (k &+ blockDepth &- 1) / blockDepth
    let depthStep = (k &+ depthBlocks &- 1) / depthBlocks
    let panels = (n &+ tileColumns &- 1) / tileColumns
    let rowTiles = (m &+ tileRows &- 1) / tileRows
    let work = m &* n &* k
    // Split the columns first (no repacking), then the rows when panels are few.
    let columnChunks = chunkCount(work: work, units: panels, threads: threads)
    let wanted = chunkCount(work: work, units: panels &* rowTiles, threads: threads)
    let rowChunks = max(1, min(rowTiles, wanted / columnChunks))
    let chunks = columnChunks &* rowChunks

    forEachChunk(chunks, pool) { chunk in
        let cc = chunk % columnChunks, rc = chunk / columnChunks
        let panel0 = cc &* panels / columnChunks, panel1 = (cc &+ 1) &* panels / columnChunks
        let row0 = (rc &* rowTiles / rowChunks) &* tileRows
        let row1 = min(m, ((rc &+ 1) &* rowTiles / rowChunks) &* tileRows)
        // The packed panel: blockDepth rows of 16 floats, each row one 64-byte cache line.
        let panelFloats = direct ? tileColumns : blockDepth &* tileColumns
        withUnsafeTemporaryAllocation(byteCount: panelFloats &* 4, alignment: 64) { raw in
            guard let base = raw.baseAddress else { return }
            let packed = base.bindMemory(to: Float.self, capacity: panelFloats)
            // Equal row blocks of whole tiles, each small enough to stay in L2.
            let maxRows = max(tileRows, blockFloats / depthStep / tileRows &* tileRows)
            let rowBlocks = (row1 &- row0 &+ maxRows &- 1) / maxRows
            let tilesPerBlock = ((row1 &- row0 &+ rowBlocks &- 1) / rowBlocks &+ tileRows &- 1) / tileRows
            let rowStep = tilesPerBlock &* tileRows
            var ic = row0
            while ic < row1 {
                let icEnd = min(row1, ic &+ rowStep)
                var pc = 0
                while pc < k {
                    let kc = min(depthStep, k &- pc)
                    let first = pc == 0
                    let blockBeta: Float = first ? beta : 1
                    let blockBias: UnsafePointer<Float>? = first ? rowBias : nil
                    var panel = panel0
                    while panel < panel1 {
                        let j0 = panel &* tileColumns
                        let panelB: UnsafePointer<Float>
                        let bRow: Int
                        let jStart: Int
                        if direct {
                            // The last panel overlaps its neighbour instead of running past n.
                            jStart = min(j0, n &- tileColumns)
                            panelB = b + (pc &* ldb &+ jStart)
                            bRow = ldb
                        } else {
                            jStart = j0
                            packPanel(transB: transB, b: b, ldb: ldb, p0: pc, depth: kc, j0: j0,
                                      width: min(tileColumns, n &- j0), into: packed)
                            panelB = UnsafePointer(packed)
                            bRow = tileColumns
                        }
                        let colLo = j0 &- jStart
                        let colHi = min(n, j0 &+ tileColumns) &- jStart
                        var ir = ic
                        while ir < icEnd {
                            let rows = min(tileRows, icEnd &- ir)
                            if aPacked && rows == tileRows {
                                microTilePacked(kc: kc, a: a + (ir &* k &+ pc &* tileRows), b: panelB, bRow: bRow,
                                                c: c + (ir &* ldc &+ jStart), ldc: ldc, colLo: colLo, colHi: colHi,
                                                alpha: alpha, beta: blockBeta, bias: blockBias.map { $0 + ir })
                            } else if aPacked {
                                // The last, partial tile: `rows` values per depth step.
                                microTile(kc: kc, a: a + (ir &* k &+ pc &* rows), aRow: 1, aCol: rows, rows: rows,
                                          b: panelB, bRow: bRow,
                                          c: c + (ir &* ldc &+ jStart), ldc: ldc, colLo: colLo, colHi: colHi,
                                          alpha: alpha, beta: blockBeta, bias: blockBias.map { $0 + ir })
                            } else {
                                microTile(kc: kc, a: a + (ir &* aRow &+ pc &* aCol), aRow: aRow, aCol: aCol, rows: rows,
                                          b: panelB, bRow: bRow,
                                          c: c + (ir &* ldc &+ jStart), ldc: ldc, colLo: colLo, colHi: colHi,
                                          alpha: alpha, beta: blockBeta, bias: blockBias.map { $0 + ir })
                            }
                            ir &+= tileRows
                        }
                        panel &+= 1
                    }
                    pc &+= kc
                }
                if !epilogue.isEmpty {
                    // The fused epilogue on this block of C, just written and still in L2.
                    let j0 = panel0 &* tileColumns, j1 = min(n, panel1 &* tileColumns)
                    let offset = ic &* ldc &+ j0
                    applyEpilogue(m: icEnd &- ic, n: j1 &- j0, c: c + offset, ldc: ldc, epilogue.advanced(by: offset))
                }
                ic = icEnd
            }
        }
    }
}

/// Packs op(B)[p0..<p0+depth, j0..<j0+width] into `into` as depth rows of 16 floats,
/// zero-filling columns width..<16.
@inline(__always)
private func packPanel(transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, depth: Int, j0: Int,
                       width: Int, into dst: UnsafeMutablePointer<Float>) {
    if !transB {
        var src = b + (p0 &* ldb &+ j0)
        var out = dst
        if width == tileColumns {
            for _ in 0..<depth {
                store8(load8(src), out)
                store8(load8(src + 8), out + 8)
                src += ldb
                out += tileColumns
            }
        } else {
            for _ in 0..<depth {
                for j in 0..<width { out[j] = src[j] }
                for j in width..<tileColumns { out[j] = 0 }
                src += ldb
                out += tileColumns
            }
        }
    } else {
        // B is stored n×k: column j of op(B) is row j of B.
        if width < tileColumns {
            for p in 0..<depth {
                for j in width..<tileColumns { dst[p &* tileColumns &+ j] = 0 }
            }
        }
        var j = 0
        while j &+ 4 <= width {
            let s0 = b + ((j0 &+ j) &* ldb &+ p0)
            let s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb
            var out = dst + j
            for p in 0..<depth {
                out[0] = s0[p]; out[1] = s1[p]; out[2] = s2[p]; out[3] = s3[p]
                out += tileColumns
            }
            j &+= 4
        }
        while j < width {
            let s0 = b + ((j0 &+ j) &* ldb &+ p0)
            var out = dst + j
            for p in 0..<depth {
                out[0] = s0[p]
                out += tileColumns
            }
            j &+= 1
        }
    }
}

/// One tile: C[r, colLo..<colHi] (r < rows) = alpha · Σ_p A(r, p) · B(p, 0..<16) + beta · C
/// (+ bias[r]), where A(r, p) = a[r·aRow + p·aCol] (rows past `rows` repeat the last
/// row and are not stored) and B(p, j) = b[p·bRow + j]. beta == 0: C is not read.
@inline(never)
private func microTile(kc: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int, rows: Int,
                       b: UnsafePointer<Float>, bRow: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int, colLo: Int, colHi: Int,
                       alpha: Float, beta: Float, bias: UnsafePointer<Float>?) {
    let last = rows &- 1
    microTileBody(kc: kc, a: a, offsets: (min(1, last) &* aRow, min(2, last) &* aRow, min(3, last) &* aRow,
                                          min(4, last) &* aRow, min(5, last) &* aRow),
                  aCol: aCol, rows: rows, b: b, bRow: bRow, c: c, ldc: ldc, colLo: colLo, colHi: colHi,
                  alpha: alpha, beta: beta, bias: bias)
}

/// `microTile` for a whole tile of A packed by `packGemmRows`: the 6 values of depth p
/// at a[6p ..< 6p + 6]. The offsets are constants here, so they take no registers (the
/// general tile spills with 6 row offsets live).
@inline(never)
private func microTilePacked(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bRow: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, colLo: Int, colHi: Int,
                             alpha: Float, beta: Float, bias: UnsafePointer<Float>?) {
    microTileBody(kc: kc, a: a, offsets: (1, 2, 3, 4, 5), aCol: tileRows, rows: tileRows, b: b, bRow: bRow,
                  c: c, ldc: ldc, colLo: colLo, colHi: colHi, alpha: alpha, beta: beta, bias: bias)
}

/// The 6×16 tile: row r of A at a + offsets.r (row 0 at a), depth steps `aCol` apart.
@inline(__always)
private func microTileBody(kc: Int, a: UnsafePointer<Float>, offsets: (Int, Int, Int, Int, Int), aCol: Int,
                           rows: Int, b: UnsafePointer<Float>, bRow: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, colLo: Int, colHi: Int,
                           alpha: Float, beta: Float, bias: UnsafePointer<Float>?) {
    let (o1, o2, o3, o4, o5) = offsets
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var pa = a
    var pb = b
    var p = 0
    while p < kc {
        let b0 = load8(pb), b1 = load8(pb + 8)
        var x = SIMD8<Float>(repeating: pa[0])
        madd(&c00, x, b0); madd(&c01, x, b1)
        x = SIMD8<Float>(repeating: pa[o1])
        madd(&c10, x, b0); madd(&c11, x, b1)
        x = SIMD8<Float>(repeating: pa[o2])
        madd(&c20, x, b0); madd(&c21, x, b1)
        x = SIMD8<Float>(repeating: pa[o3])
        madd(&c30, x, b0); madd(&c31, x, b1)
        x = SIMD8<Float>(repeating: pa[o4])
        madd(&c40, x, b0); madd(&c41, x, b1)
        x = SIMD8<Float>(repeating: pa[o5])
        madd(&c50, x, b0); madd(&c51, x, b1)
        pa += aCol
        pb += bRow
        p &+= 1
    }
    let full = colLo == 0 && colHi == tileColumns
    storeRow(c00, c01, c, 0, full, colLo, colHi, alpha, beta, bias)
    if rows > 1 { storeRow(c10, c11, c + ldc, 1, full, colLo, colHi, alpha, beta, bias) }
    if rows > 2 { storeRow(c20, c21, c + 2 &* ldc, 2, full, colLo, colHi, alpha, beta, bias) }
    if rows > 3 { storeRow(c30, c31, c + 3 &* ldc, 3, full, colLo, colHi, alpha, beta, bias) }
    if rows > 4 { storeRow(c40, c41, c + 4 &* ldc, 4, full, colLo, colHi, alpha, beta, bias) }
    if rows > 5 { storeRow(c50, c51, c + 5 &* ldc, 5, full, colLo, colHi, alpha, beta, bias) }
}

/// Stores columns colLo..<colHi of one 16-wide tile row: alpha · acc + beta · C (+ bias[r]).
@inline(__always)
private func storeRow(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, _ r: Int,
                      _ full: Bool, _ colLo: Int, _ colHi: Int, _ alpha: Float, _ beta: Float,
                      _ bias: UnsafePointer<Float>?) {
    let av = SIMD8<Float>(repeating: alpha)
    var v0 = av * lo, v1 = av * hi
    if let bias {
        let bv = SIMD8<Float>(repeating: bias[r])
        if beta != 0 {
            let bt = SIMD8<Float>(repeating: beta)
            if full {
                v0 = v0 + bt * load8(out)
                v1 = v1 + bt * load8(out + 8)
            } else {
                for j in colLo..<colHi {
                    let old = beta * out[j]
                    if j < 8 { v0[j] = v0[j] + old } else { v1[j &- 8] = v1[j &- 8] + old }
                }
            }
        }
        v0 = v0 + bv
        v1 = v1 + bv
    } else if beta != 0 {
        let bt = SIMD8<Float>(repeating: beta)
        if full {
            v0 = v0 + bt * load8(out)
            v1 = v1 + bt * load8(out + 8)
        } else {
            for j in colLo..<colHi {
                let old = beta * out[j]
                if j < 8 { v0[j] = v0[j] + old } else { v1[j &- 8] = v1[j &- 8] + old }
            }
        }
    }
    if full {
        store8(v0, out)
        store8(v1, out + 8)
    } else {
        for j in colLo..<colHi { out[j] = j < 8 ? v0[j] : v1[j &- 8] }
    }
}
