import _D2LSystem

// C = A · B where A (m×k, the constant operand: a convolution's weights) is stored as
// column panels of Aᵀ (8 rows of A per panel, depth-major, so that one pass over a panel
// reads one contiguous stream: deep layers' weights come from memory, not cache) and B (k×n: im2col columns
// or a pointwise convolution's input) is read in place. Each register tile runs over the
// whole depth k — no depth blocks — so it is final when its loop ends and is written
// once, transposed, with its bias and epilogue.
//
// Tiles are 16 rows (one SIMD8 from each of two panels) × up to 6 columns (broadcast
// values of one row of B), the columns split into equal tiles: n = 9 is a tile of 5 and
// one of 4, where a 16-wide tile over n (the usual orientation) would compute 16 columns.
// Each width has its own kernel, so only the accumulators it needs exist (at most 12, so
// that nothing spills).
// Threads split (column block, pair of panels) units; a column block's slice of B stays in L2.

/// Rows of A per stored panel (one SIMD8).
private let panelRows = 8
/// Rows of C one unit of work covers (two panels), and the multiple of which m must be.
let columnPanelRowMultiple = 16
/// Most columns of a tile.
private let tileColumns = 6
/// Floats of one tile's results (16 × 6).
private let tileFloats = 96
/// Floats of B (k × columns) one column block may span, so that it stays in L2.
private let panelBlockFloats = 1 << 16

/// Packs the m×k row-major matrix `source` (row stride k) for `gemmColumnPanels`: m must
/// be a multiple of 16; rows 8q ..< 8q + 8 become panel q, stored from float 8·q·k as k
/// groups of 8 (depth p: A[8q ..< 8q+8, p]). Same size as the source; `destination`
/// must not overlap it.
public func packGemmColumnPanels(_ source: UnsafePointer<Float>, rows m: Int, depth k: Int,
                                 into destination: UnsafeMutablePointer<Float>) {
    packRowGroups(source, rows: m, depth: k, groupRows: panelRows, into: destination)
}

/// C[i, j] = Σ_p A[i, p] · B[p, j] + rowBias[i] (when not nil), then `epilogue`, for
/// i < m, j < n: A packed by `packGemmColumnPanels` (m a multiple of 16), B k×n with row
/// stride `ldb`, C m×n with row stride `ldc` (never read; must not overlap A or B).
/// Equal to `gemm` on the unpacked A up to rounding. `pool` splits large products. With
/// `transposedC`, C (and the epilogue's residual) is stored n × m instead: C[i, j] at
/// c[j·ldc + i], ldc ≥ m.
func gemmColumnPanels(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>?,
                      pool: ThreadPool?, epilogue: Epilogue, transposedC: Bool = false) {
    if m <= 0 || n <= 0 { return }
    let panels = m / columnPanelRowMultiple
    // Equal tiles of ≤ 6 columns (n = 9: 5 + 4).
    let tiles = (n &+ tileColumns &- 1) / tileColumns
    let width = (n &+ tiles &- 1) / tiles
    // Column blocks of whole tiles whose slice of B fits in L2.
    let tilesPerBlock = max(1, min(tiles, panelBlockFloats / max(1, k &* width)))
    let blocks = (tiles &+ tilesPerBlock &- 1) / tilesPerBlock
    let units = blocks &* panels
    let work = m &* n &* max(k, 1)
    let threads = work >= parallelThreshold ? (pool?.threadCount ?? 1) : 1
    let chunks = chunkCount(work: work, units: units, threads: threads)
    forEachChunk(chunks, threads > 1 ? pool : nil) { chunk in
        let u0 = chunk &* units / chunks, u1 = (chunk &+ 1) &* units / chunks
        withUnsafeTemporaryAllocation(byteCount: tileFloats &* 4, alignment: 64) { raw in
            guard let base = raw.baseAddress else { return }
            let tile = base.bindMemory(to: Float.self, capacity: tileFloats)
            var u = u0
            while u < u1 {
                let block = u / panels, panel = u % panels
                let i0 = panel &* columnPanelRowMultiple
                let panelA = a + i0 &* k
                var t = block &* tilesPerBlock
                let tEnd = min(tiles, t &+ tilesPerBlock)
                while t < tEnd {
                    let j0 = t &* width
                    let cols = min(width, n &- j0)
                    panelTile(cols, k: k, a: panelA, b: b + j0, ldb: ldb, tile: tile)
                    let offset = i0 &* ldc &+ j0
                    if transposedC {
                        let offsetT = j0 &* ldc &+ i0
                        writeTileTransposedC(tile, cols: cols, c: c + offsetT, ldc: ldc, bias: rowBias.map { $0 + i0 },
                                             epilogue: epilogue.advanced(by: offsetT))
                    } else {
                        writeTile(tile, cols: cols, c: c + offset, ldc: ldc, bias: rowBias.map { $0 + i0 },
                                  epilogue: epilogue.advanced(by: offset))
                    }
                    t &+= 1
                }
                u &+= 1
            }
        }
    }
}

/// tile[j·16 + l] = Σ_p A[l, p] · b[p·ldb + j] for j < cols (1 ... 6), l < 16, where rows
/// 0..<8 are the panel at `a` and rows 8..<16 the next one (A[l, p] = a[p·8 + l] and
/// a[8k + p·8 + l − 8]): one kernel per width, so that only 2·cols accumulators exist.
private func panelTile(_ cols: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                       tile: UnsafeMutablePointer<Float>) {
    switch cols {
    case 6: panelTile6(k, a, b, ldb, tile)
    case 5: panelTile5(k, a, b, ldb, tile)
    case 4: panelTile4(k, a, b, ldb, tile)
    case 3: panelTile3(k, a, b, ldb, tile)
    case 2: panelTile2(k, a, b, ldb, tile)
    default: panelTile1(k, a, b, ldb, tile)
    }
}

@inline(never) private func panelTile6(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(6, k, a, b, ldb, t) }
@inline(never) private func panelTile5(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(5, k, a, b, ldb, t) }
@inline(never) private func panelTile4(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(4, k, a, b, ldb, t) }
@inline(never) private func panelTile3(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(3, k, a, b, ldb, t) }
@inline(never) private func panelTile2(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(2, k, a, b, ldb, t) }
@inline(never) private func panelTile1(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ t: UnsafeMutablePointer<Float>) { panelKernel(1, k, a, b, ldb, t) }

/// The tile kernel for a width known where it is inlined: the `cols > j` tests fold
/// away. 12 accumulators, two panel vectors and one broadcast fill 15 of the 16 vector
/// registers at width 6.
@inline(__always)
private func panelKernel(_ cols: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
                         _ tile: UnsafeMutablePointer<Float>) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var pa = a
    var pa1 = a + k &* panelRows
    var pb = b
    var p = 0
    while p < k {
        let a0 = load8(pa), a1 = load8(pa1)
        var x = SIMD8<Float>(repeating: pb[0])
        madd(&c00, x, a0); madd(&c01, x, a1)
        if cols > 1 { x = SIMD8<Float>(repeating: pb[1]); madd(&c10, x, a0); madd(&c11, x, a1) }
        if cols > 2 { x = SIMD8<Float>(repeating: pb[2]); madd(&c20, x, a0); madd(&c21, x, a1) }
        if cols > 3 { x = SIMD8<Float>(repeating: pb[3]); madd(&c30, x, a0); madd(&c31, x, a1) }
        if cols > 4 { x = SIMD8<Float>(repeating: pb[4]); madd(&c40, x, a0); madd(&c41, x, a1) }
        if cols > 5 { x = SIMD8<Float>(repeating: pb[5]); madd(&c50, x, a0); madd(&c51, x, a1) }
        pa += panelRows
        pa1 += panelRows
        pb += ldb
        p &+= 1
    }
    store8(c00, tile); store8(c01, tile + 8)
    if cols > 1 { store8(c10, tile + 16); store8(c11, tile + 24) }
    if cols > 2 { store8(c20, tile + 32); store8(c21, tile + 40) }
    if cols > 3 { store8(c30, tile + 48); store8(c31, tile + 56) }
    if cols > 4 { store8(c40, tile + 64); store8(c41, tile + 72) }
    if cols > 5 { store8(c50, tile + 80); store8(c51, tile + 88) }
}

/// `writeTile` for C stored transposed (n × m, row stride ldc ≥ m: C[i, j] at c[j·ldc + i],
/// the residual alike): each column of the tile is 16 contiguous values.
@inline(__always)
private func writeTileTransposedC(_ tile: UnsafeMutablePointer<Float>, cols: Int, c: UnsafeMutablePointer<Float>,
                                  ldc: Int, bias: UnsafePointer<Float>?, epilogue: Epilogue) {
    let bias0 = bias.map { load8($0) } ?? SIMD8<Float>()
    let bias1 = bias.map { load8($0 + 8) } ?? SIMD8<Float>()
    for j in 0..<cols {
        var v0 = load8(tile + j &* 16) + bias0
        var v1 = load8(tile + (j &* 16 &+ 8)) + bias1
        let out = c + j &* ldc
        if let residual = epilogue.residual {
            v0 = v0 + load8(residual + j &* ldc)
            v1 = v1 + load8(residual + (j &* ldc &+ 8))
        }
        if epilogue.activation != .none {
            v0 = activate8(v0, epilogue.activation)
            v1 = activate8(v1, epilogue.activation)
        }
        store8(v0, out)
        store8(v1, out + 8)
    }
}

/// c[l·ldc + j] = epilogue(tile[j·16 + l] + bias[l]) for l < 16, j < cols: the tile
/// transposed into C, with the bias (when not nil) and the epilogue (residual laid out
/// like C, then the activation) applied 8 rows at a time.
@inline(__always)
private func writeTile(_ tile: UnsafeMutablePointer<Float>, cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                       bias: UnsafePointer<Float>?, epilogue: Epilogue) {
    let bias0 = bias.map { load8($0) } ?? SIMD8<Float>()
    let bias1 = bias.map { load8($0 + 8) } ?? SIMD8<Float>()
    for j in 0..<cols {
        var v0 = load8(tile + j &* 16) + bias0
        var v1 = load8(tile + (j &* 16 &+ 8)) + bias1
        if let residual = epilogue.residual {
            var r0 = SIMD8<Float>(), r1 = SIMD8<Float>()
            for l in 0..<8 {
                r0[l] = residual[l &* ldc &+ j]
                r1[l] = residual[(l &+ 8) &* ldc &+ j]
            }
            v0 = v0 + r0
            v1 = v1 + r1
        }
        v0 = activate8(v0, epilogue.activation)
        v1 = activate8(v1, epilogue.activation)
        for l in 0..<8 {
            c[l &* ldc &+ j] = v0[l]
            c[(l &+ 8) &* ldc &+ j] = v1[l]
        }
    }
}
