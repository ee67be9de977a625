import _D2LSystem
import _D2LKernels

// Single-precision GEMM for the runtime's kernels (Gemm, MatMul, Conv through im2col) and
// the toolkit's products. The loops that touch every multiply-add are the active kernel
// variant's (Sources/_D2LKernels, chosen at run time: KernelVariant.swift); the blocking
// and threading around them are here.
//
// Strategy (see `gemm` for the contract):
// - m == 1 or n == 1: matrix-vector products, read in place (no packing).
// - A · Bᵀ with A row-major and m ≤ 16 (Linear layers at small batch): blocks of
//   row-by-row dot products along k (the variant's `dot_rows` × `dot_columns`), over depth
//   blocks of ≤ 1024; no transposition.
// - otherwise: the variant's MR × NR register tiles (6 × 16 with AVX2, 12 × 32 with
//   AVX-512) over blocks of the variant's depth (≤ 512) and ≤ 320 KiB of A. A is read in
//   place (any transposition; rows past the edge repeat the last row, their results never
//   stored), or from its row-packed form. B is read in place when it is row-major,
//   n ≥ NR and m ≤ 4·MR (few row tiles reuse it); otherwise blocks of B (depth block ×
//   ≤ 512 columns, as NR-wide panels zero-padded at the right edge) and of A (row block ×
//   depth block, MR-row groups) are packed once into the thread's scratch and every tile
//   runs from them (`tiledChunkPacked`). Otherwise B is packed one panel at a time into
//   the thread's panel scratch. Repeated calls allocate nothing.
// - Threads: column panels (and, when there are few, row blocks) are split into several
//   chunks per thread; products under ~512 K multiply-adds run on the calling thread (waking a
//   thread costs more than such a product on the machines measured).

// MARK: - Tuning

/// Largest A block (rows × depth, in floats) swept per packed panel: 320 KiB, in L2.
private let blockFloats = 81920
/// Multiply-adds below which a product runs on the calling thread.
let parallelThreshold = 1 << 19
/// Multiply-adds per chunk that make one more chunk worthwhile.
private let chunkWork = 1 << 16
/// Most floats of one packed B panel (depth block × NR, 64 KiB): bounds every
/// variant's depth block.
private let panelBufferFloats = 512 * 32

// MARK: - Public API

/// C = alpha · op(A) · op(B) + beta · C in single precision, where op(A) is m×k and
/// op(B) is k×n; the same contract and results (up to rounding) as `gemmReference`.
///
/// Layouts are row-major: A is stored m×k with row stride `lda` (k×m when `transA`),
/// B is stored k×n with row stride `ldb` (n×k when `transB`), C is m×n with row stride
/// `ldc`. When `beta` is 0, C is never read (it may hold NaNs). With k == 0, C becomes
/// beta · C. Nothing happens when m or n is 0. C must not overlap A or B.
///
/// Needs no scratch memory from the caller: blocks of A and B are packed in each thread's
/// scratch (`d2l_sys_thread_scratch`, allocated once per thread and kept; ≤ 1.4 MiB), or
/// without it one panel at a time in ≤ 64 KiB of panel scratch. `pool` (nil = the calling thread only) splits large products into several
/// chunks per thread; small ones run on the calling thread.
package func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool?) {
    gemmWithRowBias(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                    rowBias: nil, pool: pool)
}

// MARK: - Row-packed A

/// Packs the m×k row-major matrix `source` (row stride k) for `gemmPackedA`: rows in
/// groups of 12 (`rowGroupRows`; the last may be smaller), group g with r rows stored
/// from float 12·g·k as k runs of r values (depth p, rows 12g ..< 12g + r). Same size as
/// the source (m·k floats); `destination` must not overlap it. Every kernel variant reads
/// this layout (its register tile covers whole halves or whole groups).
package func packGemmRows(_ source: UnsafePointer<Float>, rows m: Int, depth k: Int,
                         into destination: UnsafeMutablePointer<Float>) {
    packRowGroups(source, rows: m, depth: k, groupRows: rowGroupRows, into: destination)
}

/// Rows of `source` (m×k, row stride k) in groups of `groupRows` (the last may be smaller),
/// group g with r rows stored from float groupRows·g·k as k runs of r values (depth p,
/// the group's rows in order): the layout of `packGemmRows` (groups of 12) and
/// `packGemmColumnPanels` (groups of 16).
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
    let kernels = Kernels.active
    if k <= 0 {
        scaleOnly(m: m, n: n, alpha: 1, beta: 0, c: c, ldc: ldc, rowBias: rowBias)
        applyEpilogue(kernels, m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    let work = m &* n &* k
    let threadPool: ThreadPool? = work >= parallelThreshold && (pool?.threadCount ?? 1) > 1 ? pool : nil
    gemmTiled(kernels, transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ldb,
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
    let kernels = Kernels.active
    if k <= 0 {
        scaleOnly(m: m, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc, rowBias: rowBias)
        applyEpilogue(kernels, m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    if m == 1 || n == 1 || (!transA && transB && m <= dotRowsLimit) {
        // The paths below the tiled product store plain values; the epilogue follows.
        gemmUntiled(kernels, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, rowBias: rowBias, pool: pool)
        applyEpilogue(kernels, m: m, n: n, c: c, ldc: ldc, epilogue)
        return
    }
    let work = m &* n &* k
    let threadPool: ThreadPool? = work >= parallelThreshold && (pool?.threadCount ?? 1) > 1 ? pool : nil
    let threads = threadPool?.threadCount ?? 1
    gemmTiled(kernels, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
              rowBias: rowBias, epilogue: epilogue, pool: threadPool, threads: threads)
}

/// The matrix-vector paths (m or n is 1) and the few-rows A · Bᵀ path of
/// `gemmWithRowBias` (k ≥ 1).
private func gemmUntiled(_ kernels: Kernels, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
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
            gemvDot(kernels, rows: n, k: k, matrix: b, rowStride: ldb, x: a, xStride: xs,
                    y: c, yStride: 1, alpha: alpha, beta: beta,
                    bias: rowBias, biasStride: 0, pool: threadPool, threads: threads)
        } else {
            gemvAxpy(kernels, columns: n, k: k, matrix: b, rowStride: ldb, x: a, xStride: xs,
                     y: c, yStride: 1, alpha: alpha, beta: beta,
                     bias: rowBias, biasStride: 0, pool: threadPool, threads: threads)
        }
        return
    }
    if n == 1 {
        // One column: c[i] = alpha · Σ_p op(A)[i, p] · b(p) + beta · c[i] (+ bias[i]).
        let xs = transB ? 1 : ldb
        if transA {
            gemvAxpy(kernels, columns: m, k: k, matrix: a, rowStride: lda, x: b, xStride: xs,
                     y: c, yStride: ldc, alpha: alpha, beta: beta,
                     bias: rowBias, biasStride: 1, pool: threadPool, threads: threads)
        } else {
            gemvDot(kernels, rows: m, k: k, matrix: a, rowStride: lda, x: b, xStride: xs,
                    y: c, yStride: ldc, alpha: alpha, beta: beta,
                    bias: rowBias, biasStride: 1, pool: threadPool, threads: threads)
        }
        return
    }
    // A few rows times Bᵀ: dot products of rows, no transposition of B.
    gemmDotRows(kernels, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
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

// MARK: - Matrix-vector products

/// y[j·yStride] = alpha · Σ_p x[p·xStride] · M[p·rowStride + j] + beta · y[j·yStride]
/// (+ bias[j·biasStride]) for j in 0..<columns: M is k×columns with contiguous rows.
/// Threads split the columns in blocks of 64.
private func gemvAxpy(_ kernels: Kernels, columns: Int, k: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                      x: UnsafePointer<Float>, xStride: Int,
                      y: UnsafeMutablePointer<Float>, yStride: Int, alpha: Float, beta: Float,
                      bias: UnsafePointer<Float>?, biasStride: Int,
                      pool: ThreadPool?, threads: Int) {
    let blocks = (columns &+ 63) / 64
    let chunks = chunkCount(work: columns &* k, units: blocks, threads: threads)
    let table = kernels.table
    forEachChunk(chunks, pool) { chunk in
        let j0 = (chunk &* blocks / chunks) &* 64
        let j1 = min(columns, ((chunk &+ 1) &* blocks / chunks) &* 64)
        if j1 <= j0 { return }
        table.pointee.gemv_columns(j1 &- j0, k, matrix + j0, rowStride, x, xStride, y + j0 &* yStride, yStride,
                                   alpha, beta, bias.map { $0 + j0 &* biasStride }, biasStride)
    }
}

/// Depth of one block of x gathered into the thread's scratch when x is strided.
private let gatherDepth = 1024

/// y[i·yStride] = alpha · Σ_p M[i·rowStride + p] · x[p·xStride] + beta · y[i·yStride]
/// (+ bias[i·biasStride]) for i in 0..<rows: M is rows×k with contiguous rows. Threads
/// split the rows in blocks of 4; a strided x is gathered into the thread's scratch 1024 values at a time.
private func gemvDot(_ kernels: Kernels, rows: Int, k: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                     x: UnsafePointer<Float>, xStride: Int,
                     y: UnsafeMutablePointer<Float>, yStride: Int, alpha: Float, beta: Float,
                     bias: UnsafePointer<Float>?, biasStride: Int,
                     pool: ThreadPool?, threads: Int) {
    let blocks = (rows &+ 3) / 4
    let chunks = chunkCount(work: rows &* k, units: blocks, threads: threads)
    let table = kernels.table
    forEachChunk(chunks, pool) { chunk in
        let i0 = (chunk &* blocks / chunks) &* 4
        let i1 = min(rows, ((chunk &+ 1) &* blocks / chunks) &* 4)
        if i1 <= i0 { return }
        let chunkBias = bias.map { $0 + i0 &* biasStride }
        if xStride == 1 {
            table.pointee.gemv_rows(i1 &- i0, k, matrix + i0 &* rowStride, rowStride, x, y + i0 &* yStride, yStride,
                                    alpha, beta, chunkBias, biasStride, 1)
            return
        }
        withThreadScratch(Int(D2L_SYS_SCRATCH_GEMV), floats: gatherDepth) { buffer in
            var p0 = 0
            while p0 < k {
                let depth = min(gatherDepth, k &- p0)
                for p in 0..<depth { buffer[p] = x[(p0 &+ p) &* xStride] }
                table.pointee.gemv_rows(i1 &- i0, depth, matrix + (i0 &* rowStride &+ p0), rowStride,
                                        UnsafePointer(buffer), y + i0 &* yStride, yStride, alpha, beta, chunkBias,
                                        biasStride, p0 == 0 ? 1 : 0)
                p0 &+= depth
            }
        }
    }
}

// MARK: - Few rows times a transposed matrix

/// Most rows of op(A) for which A · Bᵀ runs as dot products (up to here they beat the
/// transposing pack of the tiled path; measured with AVX2 and AVX-512: a GRU step's
/// 32 × 768 × 256 runs about twice as fast tiled).
private let dotRowsLimit = 16
/// Depth of one block of the dot-product path.
private let dotDepth = 1024

/// C = alpha · A · Bᵀ + beta · C (+ bias) with A stored m×k and B stored n×k (both with
/// contiguous rows): blocks of the variant's dot_rows × dot_columns row-by-row dot
/// products over depth blocks of ≤ 1024. Threads split the rows of B.
private func gemmDotRows(_ kernels: Kernels, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                         lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
                         ldc: Int, rowBias: UnsafePointer<Float>?, pool: ThreadPool?, threads: Int) {
    let table = kernels.table
    let blockRows = table.pointee.dot_rows, blockColumns = table.pointee.dot_columns
    let groups = (n &+ blockColumns &- 1) / blockColumns
    let chunks = chunkCount(work: m &* n &* k, units: groups, threads: threads)
    let depthBlocks = (k &+ dotDepth &- 1) / dotDepth
    let depthStep = (k &+ depthBlocks &- 1) / depthBlocks
    forEachChunk(chunks, pool) { chunk in
        let jBegin = (chunk &* groups / chunks) &* blockColumns
        let jEnd = min(n, ((chunk &+ 1) &* groups / chunks) &* blockColumns)
        var pc = 0
        while pc < k {
            let kc = min(depthStep, k &- pc)
            let first = pc == 0
            var j = jBegin
            while j < jEnd {
                let cols = min(blockColumns, jEnd &- j)
                var i = 0
                while i < m {
                    table.pointee.dot_block(min(blockRows, m &- i), cols, kc, a + (i &* lda &+ pc), lda,
                                            b + (j &* ldb &+ pc), ldb, c + (i &* ldc &+ j), ldc,
                                            alpha, first ? beta : 1, first ? rowBias.map { $0 + i } : nil)
                    i &+= blockRows
                }
                j &+= blockColumns
            }
            pc &+= kc
        }
    }
}

// MARK: - Tiled product

/// Tests set this to run the tiled product without the thread's packing scratch (the
/// one-panel path it falls back to when the scratch cannot be allocated). Never set otherwise.
nonisolated(unsafe) var gemmThreadScratchDisabled = false

/// Most columns of one packed block of B (a multiple of every NR): kc × 512 floats,
/// ≤ 1 MiB, stays in L2 beside a row block of A while the row blocks sweep it (wider
/// blocks measured slower on a 2 MiB L2: NiN's 256 × 676 × 2400 at 1.22× OpenBLAS's time
/// against 1.11×).
private let packedBlockColumns = 512

/// The register-tile product over chunks of (column panels × row tiles). Each chunk
/// packs, when its thread's scratch allows, blocks of B (depth block × up to 512
/// columns, every NR-wide panel of it) and of A (row block × depth block, MR-row groups)
/// once, then runs every tile of the block pair from them (Goto's order: a row block of
/// A stays in L2 across the panels, a panel of B in L1 across the row tiles). Without
/// scratch (or when B is read in place) it packs one panel of B at a time (the
/// panel scratch) and reads A in place.
private func gemmTiled(_ kernels: Kernels, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                       rowBias: UnsafePointer<Float>?, epilogue: Epilogue, pool: ThreadPool?, threads: Int,
                       aPacked: Bool = false) {
    let table = kernels.table
    let tileRows = table.pointee.gemm_rows, tileColumns = table.pointee.gemm_columns
    let blockDepth = min(table.pointee.gemm_depth, panelBufferFloats / tileColumns)
    // Equal blocks of depth ≤ blockDepth.
    let depthBlocks = (k &+ blockDepth &- 1) / blockDepth
    let shape = TiledShape(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                           c: c, ldc: ldc, alpha: alpha, beta: beta, rowBias: rowBias, epilogue: epilogue,
                           aPacked: aPacked, tileRows: tileRows, tileColumns: tileColumns,
                           depthStep: (k &+ depthBlocks &- 1) / depthBlocks)
    let panels = (n &+ tileColumns &- 1) / tileColumns
    let rowTiles = (m &+ tileRows &- 1) / tileRows
    let work = m &* n &* k
    // Split the columns first (no repacking), then the rows when panels are few.
    let columnChunks = chunkCount(work: work, units: panels, threads: threads)
    let wanted = chunkCount(work: work, units: panels &* rowTiles, threads: threads)
    let rowChunks = max(1, min(rowTiles, wanted / columnChunks))
    let chunks = columnChunks &* rowChunks
    // B is read in place when its rows are contiguous, wide enough for whole tiles and
    // reused by few row tiles.
    let direct = !transB && n >= tileColumns && m <= 4 &* tileRows

    forEachChunk(chunks, pool) { chunk in
        let cc = chunk % columnChunks, rc = chunk / columnChunks
        let panel0 = cc &* panels / columnChunks, panel1 = (cc &+ 1) &* panels / columnChunks
        let row0 = (rc &* rowTiles / rowChunks) &* tileRows
        let row1 = min(m, ((rc &+ 1) &* rowTiles / rowChunks) &* tileRows)
        if !direct && tiledChunkPacked(table, shape, panel0: panel0, panel1: panel1, row0: row0, row1: row1) {
            return
        }
        tiledChunkPanels(table, shape, direct: direct, panel0: panel0, panel1: panel1, row0: row0, row1: row1)
    }
}

/// What every chunk of one tiled product shares.
private struct TiledShape {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var alpha: Float, beta: Float
    var rowBias: UnsafePointer<Float>?
    var epilogue: Epilogue
    /// A is in row groups by `packGemmRows`.
    var aPacked: Bool
    var tileRows: Int, tileColumns: Int
    /// Depth of every depth block but the last (which may be shorter).
    var depthStep: Int

    /// Rows per row block: whole tiles, the block (rows × depth step) ≤ 320 KiB so that it
    /// stays in L2, the chunk's rows split equally.
    func rowStep(_ row0: Int, _ row1: Int) -> Int {
        let maxRows = max(tileRows, blockFloats / depthStep / tileRows &* tileRows)
        let rowBlocks = (row1 &- row0 &+ maxRows &- 1) / maxRows
        let tilesPerBlock = ((row1 &- row0 &+ rowBlocks &- 1) / rowBlocks &+ tileRows &- 1) / tileRows
        return tilesPerBlock &* tileRows
    }

    /// The A operand of the tile at row `ir`, depth `pc`, when A is not packed by the
    /// chunk: (pointer, row stride, depth stride).
    @inline(__always)
    func tileA(_ ir: Int, _ pc: Int) -> (UnsafePointer<Float>, Int, Int) {
        if aPacked {
            // Group g holds rows 12g ..< 12g + size, depth-major.
            let group = ir / rowGroupRows, offset = ir &- group &* rowGroupRows
            let size = min(rowGroupRows, m &- group &* rowGroupRows)
            return (a + (group &* rowGroupRows &* k &+ pc &* size &+ offset), 1, size)
        }
        let aRow = transA ? 1 : lda, aCol = transA ? lda : 1
        return (a + (ir &* aRow &+ pc &* aCol), aRow, aCol)
    }

    /// Applies the epilogue to rows ic ..< icEnd, columns j0 ..< j1 of C.
    func finish(_ table: UnsafePointer<d2l_k_table>, _ ic: Int, _ icEnd: Int, _ j0: Int, _ j1: Int) {
        if epilogue.isEmpty || j1 <= j0 { return }
        let offset = ic &* ldc &+ j0
        table.pointee.epilogue(icEnd &- ic, j1 &- j0, c + offset, ldc, epilogue.residual.map { $0 + offset },
                               epilogue.activation.kernelCode)
    }
}

/// One chunk through packed blocks in the thread's scratch; false (nothing done) when the
/// scratch cannot be had.
private func tiledChunkPacked(_ table: UnsafePointer<d2l_k_table>, _ s: TiledShape, panel0: Int, panel1: Int,
                              row0: Int, row1: Int) -> Bool {
    let tileRows = s.tileRows, tileColumns = s.tileColumns, k = s.k
    let rowStep = s.rowStep(row0, row1)
    let blockPanels = max(1, packedBlockColumns / tileColumns)
    let chunkPanels = panel1 &- panel0
    // Pack A when several panels reuse each row block (and it is not packed already).
    let packA = !s.aPacked && chunkPanels >= 2
    let bFloats = min(blockPanels, chunkPanels) &* s.depthStep &* tileColumns
    let aFloats = packA ? rowStep &* s.depthStep : 0
    if gemmThreadScratchDisabled { return false }
    guard let raw = d2l_sys_thread_scratch(Int32(D2L_SYS_SCRATCH_GEMM_PACK), (bFloats &+ aFloats) &* 4) else { return false }
    let packedB = raw.bindMemory(to: Float.self, capacity: bFloats &+ aFloats)
    let packedA = packedB + bFloats
    var jc = panel0
    while jc < panel1 {
        let jcEnd = min(panel1, jc &+ blockPanels)
        let j0 = jc &* tileColumns, j1 = min(s.n, jcEnd &* tileColumns)
        var pc = 0
        while pc < k {
            let kc = min(s.depthStep, k &- pc)
            let first = pc == 0, last = pc &+ kc == k
            let blockBeta: Float = first ? s.beta : 1
            let blockBias: UnsafePointer<Float>? = first ? s.rowBias : nil
            for panel in jc..<jcEnd {
                let p0 = panel &* tileColumns
                let source = s.transB ? s.b + (p0 &* s.ldb &+ pc) : s.b + (pc &* s.ldb &+ p0)
                table.pointee.gemm_pack_b(s.transB ? 1 : 0, source, s.ldb, kc, min(tileColumns, s.n &- p0),
                                          packedB + (panel &- jc) &* kc &* tileColumns)
            }
            var ic = row0
            while ic < row1 {
                let icEnd = min(row1, ic &+ rowStep)
                if packA {
                    let aRow = s.transA ? 1 : s.lda, aCol = s.transA ? s.lda : 1
                    table.pointee.gemm_pack_a(s.transA ? 1 : 0, s.a + (ic &* aRow &+ pc &* aCol), s.lda, icEnd &- ic,
                                              kc, packedA)
                }
                for panel in jc..<jcEnd {
                    let p0 = panel &* tileColumns
                    let panelB = UnsafePointer(packedB + (panel &- jc) &* kc &* tileColumns)
                    let colHi = min(tileColumns, s.n &- p0)
                    var ir = ic
                    while ir < icEnd {
                        let rows = min(tileRows, icEnd &- ir)
                        let (tileA, aRow, aCol) = packA
                            ? (UnsafePointer(packedA + (ir &- ic) &* kc), 1, tileRows) : s.tileA(ir, pc)
                        table.pointee.gemm_tile(kc, tileA, aRow, aCol, rows, panelB, tileColumns,
                                                s.c + (ir &* s.ldc &+ p0), s.ldc, 0, colHi,
                                                s.alpha, blockBeta, blockBias.map { $0 + ir })
                        ir &+= tileRows
                    }
                }
                if last { s.finish(table, ic, icEnd, j0, j1) }
                ic = icEnd
            }
            pc &+= kc
        }
        jc = jcEnd
    }
    return true
}

/// One chunk one panel of B at a time: read in place (`direct`) or packed in the thread's scratch;
/// A read in place (or from its row groups).
private func tiledChunkPanels(_ table: UnsafePointer<d2l_k_table>, _ s: TiledShape, direct: Bool, panel0: Int,
                              panel1: Int, row0: Int, row1: Int) {
    let tileRows = s.tileRows, tileColumns = s.tileColumns, k = s.k, n = s.n
    let rowStep = s.rowStep(row0, row1)
    let panelFloats = direct ? tileColumns : s.depthStep &* tileColumns
    withThreadScratch(Int(D2L_SYS_SCRATCH_GEMM_PANEL), floats: panelFloats) { packed in
        var ic = row0
        while ic < row1 {
            let icEnd = min(row1, ic &+ rowStep)
            var pc = 0
            while pc < k {
                let kc = min(s.depthStep, k &- pc)
                let first = pc == 0
                let blockBeta: Float = first ? s.beta : 1
                let blockBias: UnsafePointer<Float>? = first ? s.rowBias : nil
                var panel = panel0
                while panel < panel1 {
                    let j0 = panel &* tileColumns
                    let panelB: UnsafePointer<Float>
                    let bRow: Int
                    let jStart: Int
                    if direct {
                        // The last panel overlaps its neighbour instead of running past n.
                        jStart = min(j0, n &- tileColumns)
                        panelB = s.b + (pc &* s.ldb &+ jStart)
                        bRow = s.ldb
                    } else {
                        jStart = j0
                        let source = s.transB ? s.b + (j0 &* s.ldb &+ pc) : s.b + (pc &* s.ldb &+ j0)
                        table.pointee.gemm_pack_b(s.transB ? 1 : 0, source, s.ldb, kc, min(tileColumns, n &- j0), packed)
                        panelB = UnsafePointer(packed)
                        bRow = tileColumns
                    }
                    let colLo = j0 &- jStart
                    let colHi = min(n, j0 &+ tileColumns) &- jStart
                    var ir = ic
                    while ir < icEnd {
                        let rows = min(tileRows, icEnd &- ir)
                        let (tileA, aRow, aCol) = s.tileA(ir, pc)
                        table.pointee.gemm_tile(kc, tileA, aRow, aCol, rows, panelB, bRow,
                                                s.c + (ir &* s.ldc &+ jStart), s.ldc, colLo, colHi,
                                                s.alpha, blockBeta, blockBias.map { $0 + ir })
                        ir &+= tileRows
                    }
                    panel &+= 1
                }
                pc &+= kc
            }
            // The fused epilogue on this block of C, just written and still in L2.
            s.finish(table, ic, icEnd, panel0 &* tileColumns, min(n, panel1 &* tileColumns))
            ic = icEnd
        }
    }
}
