import _D2LSystem
import _D2LKernels

// 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): each 2×2 block of outputs
// comes from a 4×4 block of input, with 16 multiplications per (input, output channel)
// pair instead of 36. Per image:
//   V[ξ][c][t] = (Bᵀ d B)[ξ]      d: the 4×4 input patch of channel c under tile t
//   M[ξ]       = U[ξ] · V[ξ]       16 products, oc × ic times ic × tiles (column panels),
//                                  stored transposed: M[ξ][t][o]
//   Y          = Aᵀ m A (+ bias)    m: the 4×4 of M[·][t][o]; the 2×2 outputs of tile t
// U[ξ] = (G g Gᵀ)[ξ] is made once from the weight (`packWinogradWeight`). The transforms
// add and subtract only (plus halves in G), so results differ from direct convolution by
// rounding alone (tested against `conv2dReference`).
//
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]

/// Whether `conv2dWinograd` can run geometry `g`: a 3×3 kernel, strides and dilations 1,
/// one group, output channels a multiple of 16 (column panels), an output of at least 4×4.
package func winogradSupports(_ g: ConvGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
        && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
        && g.outputChannels % columnPanelRowMultiple == 0 && g.inputChannels >= 1
        && g.outputHeight >= 4 && g.outputWidth >= 4
}

/// Whether a convolution of geometry `g` runs by `conv2dWinograd` (and its weight is
/// transformed at load): when it can (`winogradSupports`) and it pays, with at least
/// `winogradMinimumTiles` tiles over the batch and channels enough for the transforms
/// (`winogradChannelFactor`).
package func winogradApplies(_ g: ConvGeometry) -> Bool {
    winogradSupports(g)
        && g.batch &* ((g.outputHeight &+ 1) / 2) &* ((g.outputWidth &+ 1) / 2) >= winogradMinimumTiles
        && g.outputChannels &* g.inputChannels >= winogradChannelFactor &* (g.outputChannels &+ g.inputChannels)
}

/// The transforms cost in proportion to ic + oc per tile, the multiplications Winograd
/// saves to ic · oc: it pays once ic · oc ≥ 12 · (ic + oc) (measured: VGG's 1 → 16 and
/// 16 → 32 convolutions run faster direct, 32 → 64 and DenseNet's 64 → 32 Winograd).
private let winogradChannelFactor = 12

/// Fewest 2×2 tiles (over the batch) for which Winograd pays: its transformed weight is
/// 16/9 the size of the plain one, and with fewer tiles the product reads each weight too
/// few times to hide that (ResNet-18's 6×6 layers at batch 1, 9 tiles, are bound by
/// reading their weights and run faster direct; its 12×12 ones, 36 tiles, faster Winograd).
private let winogradMinimumTiles = 16

/// Floats of the transformed weight `packWinogradWeight` writes: 16 · outputChannels ·
/// inputChannels.
package func winogradWeightElements(_ g: ConvGeometry) -> Int {
    16 &* g.outputChannels &* g.inputChannels
}

/// Floats of scratch `conv2dWinograd` needs, for one chunk of tile rows
/// (`winogradChunkRows`): the transformed input (16 · ic · (chunk tiles + 16): each
/// channel's row padded for whole-vector stores), the 16 products (16 · oc · chunk tiles),
/// and the padded input rows of a chunk (`winogradSplitElements`).
package func winogradScratchElements(_ g: ConvGeometry) -> Int {
    let chunkTiles = winogradChunkRows(g) &* ((g.outputWidth &+ 1) / 2)
    return 16 &* (chunkTiles &+ winogradRowPadding) &* g.inputChannels &+ 16 &* chunkTiles &* g.outputChannels
        &+ winogradSplitElements(g)
}

/// Floats after each channel's transformed tiles (the widest vector), so the input
/// transform stores whole vectors.
private let winogradRowPadding = 16

/// Bytes of transformed weights up to which an image is done a chunk of tile rows at a
/// time (the weights, read again by each chunk, stay in L2), and the bytes of transformed
/// input and products one chunk may take (so that they stay in L2 between the phases).
private let winogradChunkedWeightBytes = 1 << 20
private let winogradChunkBytes = 1 << 20

/// Tile rows of one chunk: all of them when the transformed weight is large (reading it
/// once per chunk would cost more than the phases' traffic), else as many as keep a
/// chunk's transformed input and products within `winogradChunkBytes` (VGG's 56×56 and
/// larger planes). Depends on the geometry alone.
func winogradChunkRows(_ g: ConvGeometry) -> Int {
    let tilesH = (g.outputHeight &+ 1) / 2, tilesW = (g.outputWidth &+ 1) / 2
    if 64 &* g.outputChannels &* g.inputChannels > winogradChunkedWeightBytes { return max(1, tilesH) }
    let perRow = 64 &* (g.inputChannels &+ g.outputChannels) &* max(1, tilesW)
    return max(1, min(tilesH, winogradChunkBytes / perRow))
}

/// Rows of one chunk's padded input (2·chunk rows + 2) and half the length of each row (a
/// multiple of 16, with room for loads of the widest variant's 2 × 16 lanes from any tile
/// and for the padded input row). The same for every kernel variant, so scratch sized at
/// plan time fits.
private func winogradSplitShape(_ g: ConvGeometry) -> (rows: Int, half: Int) {
    let tilesW = (g.outputWidth &+ 1) / 2
    let columns = max(tilesW &+ 1, (g.padLeft &+ g.inputWidth &+ 1) / 2)
    return (2 &* winogradChunkRows(g) &+ 2, ((columns &+ 15) / 16) &* 16 &+ 16)
}

/// Floats of the padded rows: one set per parallel chunk of channels.
private func winogradSplitElements(_ g: ConvGeometry) -> Int {
    let shape = winogradSplitShape(g)
    return shape.rows &* 2 &* shape.half &* winogradMaxChunks
}

/// Most chunks a transform is split into over a pool's threads.
private let winogradMaxChunks = 8

/// Writes U[ξ] = (G g Gᵀ)[ξ] for every (output, input) channel pair of `weight` (plain
/// layout `[oc, ic, 3, 3]`) into `destination` (`winogradWeightElements(g)` floats): 16
/// matrices oc × ic, ξ-major, each packed by `packGemmColumnPanels`. Needs
/// `winogradApplies`'s channel condition (oc a multiple of 16).
package func packWinogradWeight(_ g: ConvGeometry, _ weight: UnsafePointer<Float>,
                               into destination: UnsafeMutablePointer<Float>) {
    let oc = g.outputChannels, ic = g.inputChannels
    var u = [Float](repeating: 0, count: 16 &* oc &* ic)
    for o in 0..<oc {
        for c in 0..<ic {
            let k = weight + (o &* ic &+ c) &* 9
            // t = G g (4 rows of 3), then each row r of U = G applied to t's row: U = t Gᵀ.
            for i in 0..<4 {
                var r = SIMD3<Float>()
                for j in 0..<3 {
                    let g0 = k[j], g1 = k[3 &+ j], g2 = k[6 &+ j]
                    switch i {
                    case 0: r[j] = g0
                    case 1: r[j] = 0.5 * (g0 + g1 + g2)
                    case 2: r[j] = 0.5 * (g0 - g1 + g2)
                    default: r[j] = g2
                    }
                }
                let row = SIMD4<Float>(r[0], 0.5 * (r[0] + r[1] + r[2]), 0.5 * (r[0] - r[1] + r[2]), r[2])
                for j in 0..<4 { u[((i &* 4 &+ j) &* oc &+ o) &* ic &+ c] = row[j] }
            }
        }
    }
    u.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return }
        for xi in 0..<16 {
            packGemmColumnPanels(base + xi &* oc &* ic, rows: oc, depth: ic, into: destination + xi &* oc &* ic)
        }
    }
}

/// The convolution of `conv2d` for a geometry `winogradSupports` accepts, with the weight
/// transformed by `packWinogradWeight`; then `epilogue` on every output value. Layouts as
/// `conv2d`; `scratch` holds `winogradScratchElements(g)` floats. Each image is done in
/// chunks of `winogradChunkRows` tile rows (one chunk unless the weights are small and the
/// plane large), each through the three phases. With a `pool` of more than one thread, a
/// chunk's input transform runs over chunks of input channels, its 16 products one per
/// task (each on one thread: one dispatch, not 16), and the output transform with the
/// epilogue over chunks of output channels. The transforms are the kernel variant's
/// (`winograd_input`, `winograd_output`).
func conv2dWinograd(_ g: ConvGeometry, input: UnsafePointer<Float>, transformedWeight: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool?, epilogue: Epilogue) {
    let kernels = Kernels.active
    let table = kernels.table
    let oc = g.outputChannels, ic = g.inputChannels
    let oh = g.outputHeight, ow = g.outputWidth
    let tilesH = (oh &+ 1) / 2, tilesW = (ow &+ 1) / 2
    let chunkRows = winogradChunkRows(g)
    let chunkTiles = chunkRows &* tilesW
    // V[ξ][c][t] of one chunk: each channel's row padded for whole-vector stores.
    let ldv = chunkTiles &+ winogradRowPadding
    let v = scratch, m = scratch + 16 &* ic &* ldv
    let outPlane = oh &* ow
    let splitBase = m + 16 &* oc &* chunkTiles
    let splitFloats = winogradSplitElements(g) / winogradMaxChunks
    let half = winogradSplitShape(g).half
    let threads = pool?.threadCount ?? 1
    let parallel = threads > 1 && 16 &* oc &* ic &* chunkTiles >= parallelThreshold
    let inputChunks = parallel ? min(ic, winogradMaxChunks, threads &* 2) : 1
    // Output channels in blocks of 16 (oc is a multiple of 16; every variant's vectors divide it).
    let channelBlocks = oc / 16
    let outputChunks = parallel ? min(channelBlocks, threads &* 4) : 1
    for image in 0..<g.batch {
        let x = input + image &* ic &* g.inputHeight &* g.inputWidth
        let y = output + image &* oc &* outPlane
        let imageEpilogue = epilogue.advanced(by: image &* oc &* outPlane)
        var ty0 = 0
        while ty0 < tilesH {
            let ty1 = min(tilesH, ty0 &+ chunkRows)
            let tiles = (ty1 &- ty0) &* tilesW
            forEachChunk(inputChunks, parallel ? pool : nil) { chunk in
                let split = splitBase + chunk &* splitFloats
                for c in (chunk &* ic / inputChunks)..<((chunk &+ 1) &* ic / inputChunks) {
                    table.pointee.winograd_input(x + c &* g.inputHeight &* g.inputWidth, g.inputHeight, g.inputWidth,
                                                 g.padTop, g.padLeft, ty0, ty1, tilesW, split, half, v + c &* ldv,
                                                 ic &* ldv)
                }
            }
            forEachChunk(16, parallel ? pool : nil) { xi in
                gemmColumnPanels(m: oc, n: tiles, k: ic, a: transformedWeight + xi &* oc &* ic, b: v + xi &* ic &* ldv,
                                 ldb: ldv, c: m + xi &* oc &* tiles, ldc: oc, rowBias: nil, pool: nil,
                                 epilogue: .none, transposedC: true)
            }
            // The output rows of these tile rows.
            let row0 = 2 &* ty0, row1 = min(oh, 2 &* ty1)
            forEachChunk(outputChunks, parallel ? pool : nil) { chunk in
                let o0 = (chunk &* channelBlocks / outputChunks) &* 16
                let o1 = ((chunk &+ 1) &* channelBlocks / outputChunks) &* 16
                table.pointee.winograd_output(m, oc &* tiles, oc, ty0, ty1, tilesW, o0, o1, bias, y, oh, ow)
                let offset = o0 &* outPlane &+ row0 &* ow
                applyEpilogue(kernels, m: o1 &- o0, n: (row1 &- row0) &* ow, c: y + offset, ldc: outPlane,
                              imageEpilogue.advanced(by: offset))
            }
            ty0 = ty1
        }
    }
}
