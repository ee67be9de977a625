import _D2LSystem
import _D2LKernels

// C = A · B where A (m×k, the constant operand: a convolution's weights) is stored as
// column panels of Aᵀ (16 rows of A per panel, depth-major, so that one pass over a panel
// reads one contiguous stream: deep layers' weights come from memory, not cache) and B (k×n: im2col columns
// or a pointwise convolution's input) is read in place. Each register tile runs over the
// whole depth k — no depth blocks — so it is final when its loop ends and is written
// once, transposed, with its bias and epilogue (the variant's `panel_tile`).
//
// Tiles are 16 rows (one panel; two panels, 32 rows, where the variant's registers allow:
// AVX-512) × up to the variant's `panel_columns` columns (6 with AVX2, 12 with AVX-512;
// broadcast values of one row of B), the columns split into equal tiles: with AVX2, n = 9
// is a tile of 5 and one of 4, where a 16-wide tile over n (the usual orientation) would
// compute 16 columns.
// Threads split (group of panels, column block) units, panel-major: each group of panels of A
// (deep layers' weights, from memory) is read from memory once and reused from L2 across the
// blocks of B.

/// Rows of A per stored panel, and the multiple of which m must be.
let columnPanelRowMultiple = Int(D2L_K_PANEL_ROWS)
/// Floats of B (k × columns) one column block may span, so that it stays in L2.
private let panelBlockFloats = 1 << 16

/// Packs the m×k row-major matrix `source` (row stride k) for `gemmColumnPanels`: m must
/// be a multiple of 16; rows 16q ..< 16q + 16 become panel q, stored from float 16·q·k as
/// k groups of 16 (depth p: A[16q ..< 16q+16, p]). Same size as the source; `destination`
/// must not overlap it. Every kernel variant reads this layout.
package func packGemmColumnPanels(_ source: UnsafePointer<Float>, rows m: Int, depth k: Int,
                                 into destination: UnsafeMutablePointer<Float>) {
    packRowGroups(source, rows: m, depth: k, groupRows: columnPanelRowMultiple, into: destination)
}

/// C[i, j] = Σ_p A[i, p] · B[p, j] + rowBias[i] (when not nil), then `epilogue`, for
/// i < m, j < n: A packed by `packGemmColumnPanels` (m a multiple of 16), B k×n with row
/// stride `ldb`, C m×n with row stride `ldc` (never read; must not overlap A or B).
/// Equal to `gemm` on the unpacked A up to rounding. `pool` splits large products. With
/// `transposedC`, C (and the epilogue's residual) is stored n × m instead: C[i, j] at
/// c[j·ldc + i], ldc ≥ m. k ≥ 1.
func gemmColumnPanels(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>?,
                      pool: ThreadPool?, epilogue: Epilogue, transposedC: Bool = false) {
    if m <= 0 || n <= 0 || k <= 0 { return }
    let table = Kernels.active.table
    let maxColumns = table.pointee.panel_columns, group = table.pointee.panel_group
    let panels = m / columnPanelRowMultiple
    let groups = (panels &+ group &- 1) / group
    // Equal tiles of ≤ panel_columns columns (n = 9 with 6: 5 + 4).
    let tiles = (n &+ maxColumns &- 1) / maxColumns
    let width = (n &+ tiles &- 1) / tiles
    // Column blocks of whole tiles whose slice of B fits in L2.
    let tilesPerBlock = max(1, min(tiles, panelBlockFloats / max(1, k &* width)))
    let blocks = (tiles &+ tilesPerBlock &- 1) / tilesPerBlock
    let units = blocks &* groups
    let work = m &* n &* k
    let threads = work >= parallelThreshold ? (pool?.threadCount ?? 1) : 1
    let chunks = chunkCount(work: work, units: units, threads: threads)
    let activation = epilogue.activation.kernelCode
    forEachChunk(chunks, threads > 1 ? pool : nil) { chunk in
        let u0 = chunk &* units / chunks, u1 = (chunk &+ 1) &* units / chunks
        var u = u0
        while u < u1 {
            // Panel-major: a group of panels (the weights, streamed from memory at batch 1)
            // is read once, from L2 for every block of B after the first.
            let g = u / blocks, block = u % blocks
            let firstPanel = g &* group
            let count = min(group, panels &- firstPanel)
            let i0 = firstPanel &* columnPanelRowMultiple
            let panelA = a + i0 &* k
            var t = block &* tilesPerBlock
            let tEnd = min(tiles, t &+ tilesPerBlock)
            while t < tEnd {
                let j0 = t &* width
                let cols = min(width, n &- j0)
                let offset = transposedC ? j0 &* ldc &+ i0 : i0 &* ldc &+ j0
                table.pointee.panel_tile(k, panelA, count, b + j0, ldb, cols, c + offset, ldc, transposedC ? 1 : 0,
                                         rowBias.map { $0 + i0 }, epilogue.residual.map { $0 + offset }, activation)
                t &+= 1
            }
            u &+= 1
        }
    }
}
