import _D2LSystem

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

/// Whether `conv2dWinograd` takes geometry `g`: a 3×3 kernel, strides and dilations 1,
/// one group, output channels a multiple of 16 (column panels), and an output of at
/// least 4×4 (smaller ones waste most of their 2×2 tiles and are faster direct).
public func winogradApplies(_ g: ConvGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
        && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
        && g.outputChannels % columnPanelRowMultiple == 0 && g.inputChannels >= 1
        && g.outputHeight >= 4 && g.outputWidth >= 4
}

/// Floats of the transformed weight `packWinogradWeight` writes: 16 · outputChannels ·
/// inputChannels.
public func winogradWeightElements(_ g: ConvGeometry) -> Int {
    16 &* g.outputChannels &* g.inputChannels
}

/// Floats of scratch `conv2dWinograd` needs: the transformed input (16 · ic · tiles), the
/// 16 products (16 · oc · tiles) of one image (tiles = ⌈oh/2⌉ · ⌈ow/2⌉), and one channel's
/// padded plane split into even and odd columns (`winogradSplitElements`).
public func winogradScratchElements(_ g: ConvGeometry) -> Int {
    let tiles = ((g.outputHeight &+ 1) / 2) &* ((g.outputWidth &+ 1) / 2)
    return 16 &* tiles &* (g.inputChannels &+ g.outputChannels) &+ winogradSplitElements(g)
}

/// Rows (2·⌈oh/2⌉ + 2) and the length of each half-row (even or odd columns, rounded up so
/// that 8-lane loads from any tile stay inside) of the split padded plane.
private func winogradSplitShape(_ g: ConvGeometry) -> (rows: Int, half: Int) {
    let tilesH = (g.outputHeight &+ 1) / 2, tilesW = (g.outputWidth &+ 1) / 2
    return (2 &* tilesH &+ 2, ((tilesW &+ 1 &+ 7) / 8) &* 8 &+ 8)
}

/// Floats of the split planes: one per parallel chunk of channels.
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
public func packWinogradWeight(_ g: ConvGeometry, _ weight: UnsafePointer<Float>,
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

/// The convolution of `conv2d` for a geometry `winogradApplies` accepts, with the weight
/// transformed by `packWinogradWeight`; then `epilogue` on every output value. Layouts as
/// `conv2d`; `scratch` holds `winogradScratchElements(g)` floats. With a `pool` of more
/// than one thread, each image's input transform runs over chunks of input channels, its
/// 16 products one per task (each on one thread: one dispatch, not 16), and the output
/// transform with the epilogue over chunks of output channels.
func conv2dWinograd(_ g: ConvGeometry, input: UnsafePointer<Float>, transformedWeight: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool?, epilogue: Epilogue) {
    let oc = g.outputChannels, ic = g.inputChannels
    let oh = g.outputHeight, ow = g.outputWidth
    let tilesH = (oh &+ 1) / 2, tilesW = (ow &+ 1) / 2
    let tiles = tilesH &* tilesW
    let v = scratch, m = scratch + 16 &* ic &* tiles
    let outPlane = oh &* ow
    let splitBase = m + 16 &* oc &* tiles
    let splitFloats = winogradSplitElements(g) / winogradMaxChunks
    let threads = pool?.threadCount ?? 1
    let parallel = threads > 1 && 16 &* oc &* ic &* tiles >= parallelThreshold
    let inputChunks = parallel ? min(ic, winogradMaxChunks, threads &* 2) : 1
    let channelBlocks = oc / 8
    let outputChunks = parallel ? min(channelBlocks, threads &* 4) : 1
    for image in 0..<g.batch {
        let x = input + image &* ic &* g.inputHeight &* g.inputWidth
        let y = output + image &* oc &* outPlane
        let imageEpilogue = epilogue.advanced(by: image &* oc &* outPlane)
        forEachChunk(inputChunks, parallel ? pool : nil) { chunk in
            winogradInputTransform(g, x, v, split: splitBase + chunk &* splitFloats, tilesH: tilesH, tilesW: tilesW,
                                   channels: (chunk &* ic / inputChunks)..<((chunk &+ 1) &* ic / inputChunks))
        }
        forEachChunk(16, parallel ? pool : nil) { xi in
            gemmColumnPanels(m: oc, n: tiles, k: ic, a: transformedWeight + xi &* oc &* ic, b: v + xi &* ic &* tiles,
                             ldb: tiles, c: m + xi &* oc &* tiles, ldc: oc, rowBias: nil, pool: nil,
                             epilogue: .none, transposedC: true)
        }
        forEachChunk(outputChunks, parallel ? pool : nil) { chunk in
            let o0 = (chunk &* channelBlocks / outputChunks) &* 8
            let o1 = ((chunk &+ 1) &* channelBlocks / outputChunks) &* 8
            winogradOutputTransform(g, m, y, bias: bias, tilesH: tilesH, tilesW: tilesW, channels: o0..<o1)
            applyEpilogue(Kernels.active, m: o1 &- o0, n: outPlane, c: y + o0 &* outPlane, ldc: outPlane,
                          imageEpilogue.advanced(by: o0 &* outPlane))
        }
    }
}

/// V[ξ][c][t] = (Bᵀ d B)[ξ] for every channel c and tile t (row-major tiles), 8 tiles of
/// a tile row at a time (one per lane): each channel's zero-padded plane is split into
/// its even and odd columns, so that column j of the 8 patches is one contiguous load.
private func winogradInputTransform(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                                    split: UnsafeMutablePointer<Float>, tilesH: Int, tilesW: Int,
                                    channels: Range<Int>) {
    let ic = g.inputChannels, ih = g.inputHeight, iw = g.inputWidth
    let tiles = tilesH &* tilesW
    let stride = ic &* tiles // between consecutive ξ
    // Padded rows 0 ..< 2·tilesH + 2; each split into `half` even and `half` odd columns
    // (padded column 2q and 2q + 1), in `split`.
    let (rows, half) = winogradSplitShape(g)
    do {
        for c in channels {
            let plane = x + c &* ih &* iw
            // split[r][0][q] = padded[r][2q], split[r][1][q] = padded[r][2q + 1].
            for r in 0..<rows {
                let even = split + r &* 2 &* half, odd = even + half
                let yy = r &- g.padTop
                if yy < 0 || yy >= ih {
                    for q in 0..<half { even[q] = 0; odd[q] = 0 }
                    continue
                }
                let src = plane + yy &* iw
                // Columns q whose pair (2q − padLeft, 2q + 1 − padLeft) lies inside the row
                // are deinterleaved 8 pairs at a time; the rest (padding) one by one.
                let qLo = (g.padLeft &+ 1) / 2
                let qHi = max(qLo, min(half, (iw &+ g.padLeft) / 2))
                var q = 0
                while q < qLo {
                    let x0 = 2 &* q &- g.padLeft, x1 = x0 &+ 1
                    even[q] = x0 >= 0 && x0 < iw ? src[x0] : 0
                    odd[q] = x1 >= 0 && x1 < iw ? src[x1] : 0
                    q &+= 1
                }
                while q &+ 8 <= qHi {
                    let pairs = UnsafeRawPointer(src + (2 &* q &- g.padLeft)).loadUnaligned(as: SIMD16<Float>.self)
                    store8(pairs.evenHalf, even + q)
                    store8(pairs.oddHalf, odd + q)
                    q &+= 8
                }
                while q < half {
                    let x0 = 2 &* q &- g.padLeft, x1 = x0 &+ 1
                    even[q] = x0 >= 0 && x0 < iw ? src[x0] : 0
                    odd[q] = x1 >= 0 && x1 < iw ? src[x1] : 0
                    q &+= 1
                }
            }
            for ty in 0..<tilesH {
                var tx0 = 0
                while tx0 < tilesW {
                    let lanes = min(8, tilesW &- tx0)
                    // Row i of the 8 patches: columns 0, 1, 2, 3 = even[q], odd[q], even[q+1], odd[q+1].
                    @inline(__always) func patchRow(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let even = split + ((2 &* ty &+ i) &* 2 &* half &+ tx0)
                        let odd = even + half
                        return (load8(even), load8(odd), load8(even + 1), load8(odd + 1))
                    }
                    let d0 = patchRow(0), d1 = patchRow(1), d2 = patchRow(2), d3 = patchRow(3)
                    // t = Bᵀ d (rows), then V = t B (columns).
                    let out = v + (c &* tiles &+ ty &* tilesW &+ tx0)
                    @inline(__always) func put(_ t: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ i: Int) {
                        let base = out + (i &* 4) &* stride
                        storeLanes(t.0 - t.2, base, lanes)
                        storeLanes(t.1 + t.2, base + stride, lanes)
                        storeLanes(t.2 - t.1, base + 2 &* stride, lanes)
                        storeLanes(t.1 - t.3, base + 3 &* stride, lanes)
                    }
                    put((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), 0)
                    put((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), 1)
                    put((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), 2)
                    put((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), 3)
                    tx0 &+= 8
                }
            }
        }
    }
}

/// Stores the first `lanes` (1 ... 8) lanes of `value` at `destination`.
@inline(__always)
private func storeLanes(_ value: SIMD8<Float>, _ destination: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 8 {
        store8(value, destination)
    } else {
        for l in 0..<lanes { destination[l] = value[l] }
    }
}

/// Y = Aᵀ m A (+ bias) for output channels `channels` (a range of whole blocks of 8) and
/// every tile, written where inside the output; 8 channels of one tile at a time, one per
/// lane (M is stored M[ξ][t][o], so each of the 16 reads is one full-width load).
private func winogradOutputTransform(_ g: ConvGeometry, _ m: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                     bias: UnsafePointer<Float>?, tilesH: Int, tilesW: Int, channels: Range<Int>) {
    let oc = g.outputChannels, oh = g.outputHeight, ow = g.outputWidth
    let outPlane = oh &* ow
    let tiles = tilesH &* tilesW
    let stride = oc &* tiles
    var o0 = channels.lowerBound
    while o0 &+ 8 <= channels.upperBound {
        let b = bias.map { load8($0 + o0) } ?? SIMD8<Float>()
        let planes = y + o0 &* outPlane
        for ty in 0..<tilesH {
            let oy = 2 &* ty
            let below = oy &+ 1 < oh
            for tx in 0..<tilesW {
                let src = m + ((ty &* tilesW &+ tx) &* oc &+ o0)
                @inline(__always) func row(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                    let p = src + (i &* 4) &* stride
                    return (load8(p), load8(p + stride), load8(p + 2 &* stride), load8(p + 3 &* stride))
                }
                let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
                // s = Aᵀ m (rows), then Y = s A (columns).
                let s0 = (r0.0 + r1.0 + r2.0, r0.1 + r1.1 + r2.1, r0.2 + r1.2 + r2.2, r0.3 + r1.3 + r2.3)
                let s1 = (r1.0 - r2.0 - r3.0, r1.1 - r2.1 - r3.1, r1.2 - r2.2 - r3.2, r1.3 - r2.3 - r3.3)
                let y00 = s0.0 + s0.1 + s0.2 + b, y01 = s0.1 - s0.2 - s0.3 + b
                let y10 = s1.0 + s1.1 + s1.2 + b, y11 = s1.1 - s1.2 - s1.3 + b
                let ox = 2 &* tx
                let right = ox &+ 1 < ow
                var out = planes + (oy &* ow &+ ox)
                for l in 0..<8 {
                    out[0] = y00[l]
                    if right { out[1] = y01[l] }
                    if below {
                        out[ow] = y10[l]
                        if right { out[ow &+ 1] = y11[l] }
                    }
                    out += outPlane
                }
            }
        }
        o0 &+= 8
    }
}
