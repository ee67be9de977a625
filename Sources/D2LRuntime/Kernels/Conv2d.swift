import _D2LSystem

// 2-D convolution as im2col + gemm, one (image, group) at a time:
//   output[n, g·ocg ..< (g+1)·ocg, :] = weight_g [ocg, icg·kh·kw] · columns [icg·kh·kw, oh·ow] + bias
// The columns are built in the caller's scratch (none are needed for 1×1, stride-1,
// unpadded convolutions, which multiply the input in place). Small per-image products
// with several images or groups run in parallel over (image, group), each chunk with its
// own slot of scratch; large ones run one after another, threaded inside gemm.

/// Multiply-adds of one (image, group) product below which images and groups, not the
/// product, are spread over threads.
private let convSmallProduct = 1 << 20
/// Most column buffers (slots) for the parallel-over-images mode.
private let convMaxSlots = 8
/// Most scratch floats spent on extra slots.
private let convSlotBudget = 1 << 21
/// Most floats of the column matrix gathered at once (1 MiB: it stays in L2 for the gemm),
/// and the fewest output positions of one block.
private let convBlockFloats = 1 << 18
private let convBlockMinimumPositions = 1024
/// Multiply-adds below which a whole convolution runs on the calling thread.
private let convParallelThreshold = 1 << 17

/// How one convolution is run, derived from its geometry alone (so that the scratch
/// size reported before a run matches what the run uses).
private struct ConvPlan {
    /// Rows of the column matrix: icg · kh · kw.
    var depth: Int
    /// Columns of the column matrix: oh · ow.
    var positions: Int
    /// The input is the column matrix (1×1 kernel, stride 1, no padding, same size).
    var pointwise: Bool
    /// Column buffers; > 1 only when (image, group) pairs run in parallel.
    var slots: Int
    /// Output rows per block of the column matrix: the whole output unless its columns
    /// would exceed `convBlockFloats` on a plane of at least 2048 positions (VGG's 112×112
    /// and 224×224), then blocks of output rows (≥ 1024 positions each) are gathered and
    /// multiplied one after another, each block's columns staying in L2.
    var blockRows: Int

    init(_ g: ConvGeometry) {
        depth = g.inputChannelsPerGroup &* g.kernelHeight &* g.kernelWidth
        positions = g.outputHeight &* g.outputWidth
        outputWidth = g.outputWidth
        pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padTop == 0 && g.padLeft == 0
            && g.outputHeight == g.inputHeight && g.outputWidth == g.inputWidth
        let pairs = g.batch &* g.groups
        let product = g.outputChannelsPerGroup &* depth &* positions
        let columns = max(1, depth &* positions)
        if pointwise || pairs <= 1 || product >= convSmallProduct {
            slots = 1
        } else {
            slots = max(1, min(pairs, convMaxSlots, convSlotBudget / columns))
        }
        let rowFloats = max(1, depth &* g.outputWidth)
        // Blocks of at least `convBlockMinimumPositions` columns (the gemm reads its weights
        // once per block, and narrow blocks waste its tiles), so only planes with twice that
        // many positions are split.
        let minimumRows = (convBlockMinimumPositions &+ g.outputWidth &- 1) / max(1, g.outputWidth)
        blockRows = pointwise || depth &* positions <= convBlockFloats || g.outputWidth < 16
            || positions < 2 &* convBlockMinimumPositions
            ? max(1, g.outputHeight) : max(1, min(g.outputHeight, max(minimumRows, convBlockFloats / rowFloats)))
    }

    /// Output columns (ow).
    var outputWidth: Int

    /// Floats of one block of columns.
    var blockElements: Int { depth &* blockRows &* outputWidth }

    /// Floats of scratch: one column block per slot (none when pointwise).
    var scratchElements: Int { pointwise ? 0 : slots &* blockElements }
}

/// Elements (floats) of scratch that `conv2d` needs for geometry `g`: 0 for 1×1,
/// stride-1, unpadded convolutions whose output has the input's size, otherwise one
/// column matrix of `(inputChannels / groups) · kernelHeight · kernelWidth` rows ×
/// `outputHeight · outputWidth` columns per parallel slot (several slots only for small
/// per-image products with more than one image or group; at most 8, and extra slots
/// only while they total ≤ 2^21 floats). Depends on the geometry alone.
package func conv2dScratchElements(_ g: ConvGeometry) -> Int {
    ConvPlan(g).scratchElements
}

/// 2-D convolution (cross-correlation, as ONNX and PyTorch define it) with zero padding,
/// strides, dilations and groups; the same results (up to rounding) as `conv2dReference`.
///
/// Layouts (row-major, see `ConvGeometry`): input `[batch, inputChannels, inputHeight,
/// inputWidth]`, weight `[outputChannels, inputChannels / groups, kernelHeight,
/// kernelWidth]`, bias `[outputChannels]` or nil, output `[batch, outputChannels,
/// outputHeight, outputWidth]` (fully overwritten; must not overlap the inputs).
/// `scratch` holds at least `conv2dScratchElements(g)` floats (any contents; it is
/// overwritten; may be any valid pointer when that is 0). `pool` (nil = the calling
/// thread only) spreads images and groups, or the product of each, over its threads.
/// The geometry must be consistent (channels divisible by groups, output sizes ≥ 0 and
/// matching the input, pads and strides); it is not checked here.
package func conv2d(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                   scratch: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
    conv2dFused(g, input: input, weight: weight, bias: bias, output: output, scratch: scratch, pool: pool,
                epilogue: .none)
}

/// How a convolution's weight `[outputChannels, inputChannels / groups, kernelHeight,
/// kernelWidth]` is stored. Each group's weight is a matrix of `outputChannelsPerGroup`
/// rows × `depth = icg·kh·kw` columns; groups follow one another, each the same size.
package enum ConvWeightLayout: Sendable {
    /// As ONNX and PyTorch store it (row-major).
    case plain
    /// Each group's matrix packed by `packGemmRows` (tiles of 6 rows, depth-major).
    case rowTiles
    /// Each group's matrix packed by `packGemmColumnPanels` (panels of 16 rows, depth-major);
    /// needs `outputChannelsPerGroup` to be a multiple of 16.
    case columnPanels

    /// The layout the runtime keeps a constant weight in: column panels (the product
    /// tiled 16 output channels × up to 6 positions with B read in place, which suits the
    /// few positions of deep layers) when the channels allow it, the depth is large enough
    /// for a tile's transposed store to be cheap and the output has at most 256 positions
    /// (`positions`, the load-time plan's oh·ow; nil when unknown); row tiles otherwise
    /// (the usual 6 × 16 tiles over packed column panels of B, better for wide outputs).
    package static func preferred(outputChannelsPerGroup: Int, depth: Int, positions: Int? = nil) -> ConvWeightLayout {
        outputChannelsPerGroup % columnPanelRowMultiple == 0 && depth >= 128 && (positions ?? 0) <= 256
            ? .columnPanels : .rowTiles
    }
}

package func packConv2dWeight(_ g: ConvGeometry, _ weight: UnsafePointer<Float>, layout: ConvWeightLayout,
                             into destination: UnsafeMutablePointer<Float>) {
    let depth = g.inputChannelsPerGroup &* g.kernelHeight &* g.kernelWidth
    packConvWeightGroups(weight, groups: g.groups, rows: g.outputChannelsPerGroup, depth: depth,
                         layout: layout, into: destination)
}

/// `packConv2dWeight` given the per-group matrix size (`rows` × `depth`) directly.
func packConvWeightGroups(_ weight: UnsafePointer<Float>, groups: Int, rows: Int, depth: Int,
                          layout: ConvWeightLayout, into destination: UnsafeMutablePointer<Float>) {
    for group in 0..<groups {
        let offset = group &* rows &* depth
        switch layout {
        case .plain: memcpy(destination + offset, weight + offset, rows &* depth &* 4)
        case .rowTiles: packGemmRows(weight + offset, rows: rows, depth: depth, into: destination + offset)
        case .columnPanels:
            packGemmColumnPanels(weight + offset, rows: rows, depth: depth, into: destination + offset)
        }
    }
}

/// `conv2d` with the weight stored in `weightLayout` (made by `packConv2dWeight`).
package func conv2d(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                   weightLayout: ConvWeightLayout, bias: UnsafePointer<Float>?,
                   output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
    conv2dFused(g, input: input, weight: weight, bias: bias, output: output, scratch: scratch, pool: pool,
                epilogue: .none, weightLayout: weightLayout)
}

/// `conv2d`, then `epilogue` on every output value, applied by the gemm to each block of
/// the output as it finishes it (a fused residual is laid out like the output:
/// `[batch, outputChannels, outputHeight, outputWidth]`).
func conv2dFused(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, pool: ThreadPool?, epilogue: Epilogue,
                 weightLayout: ConvWeightLayout = .plain) {
    let plan = ConvPlan(g)
    let pairs = g.batch &* g.groups
    let ocg = g.outputChannelsPerGroup
    if pairs <= 0 || ocg <= 0 || plan.positions <= 0 { return }
    let work = pairs &* ocg &* plan.depth &* plan.positions
    let threadPool: ThreadPool? = work >= convParallelThreshold ? pool : nil

    if plan.slots > 1, let threadPool, threadPool.threadCount > 1 {
        // Small products: each chunk takes every slots-th (image, group) pair.
        let slots = plan.slots
        threadPool.parallelFor(slots) { slot in
            let columns = scratch + slot &* plan.blockElements
            var pair = slot
            while pair < pairs {
                convPair(g, plan, pair: pair, input: input, weight: weight, bias: bias, output: output,
                         columns: columns, pool: nil, epilogue: epilogue, weightLayout: weightLayout)
                pair &+= slots
            }
        }
        return
    }
    for pair in 0..<pairs {
        convPair(g, plan, pair: pair, input: input, weight: weight, bias: bias, output: output,
                 columns: scratch, pool: threadPool, epilogue: epilogue, weightLayout: weightLayout)
    }
}

/// One (image, group): build its columns (unless pointwise), then one gemm with the bias
/// folded into the store and the epilogue into the gemm; for large planes block by block
/// of `plan.blockRows` output rows.
private func convPair(_ g: ConvGeometry, _ plan: ConvPlan, pair: Int, input: UnsafePointer<Float>,
                      weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                      output: UnsafeMutablePointer<Float>, columns: UnsafeMutablePointer<Float>,
                      pool: ThreadPool?, epilogue: Epilogue, weightLayout: ConvWeightLayout) {
    let image = pair / g.groups, group = pair % g.groups
    let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
    let inputPlane = g.inputHeight &* g.inputWidth
    let groupInput = input + (image &* g.inputChannels &+ group &* icg) &* inputPlane
    let outputOffset = (image &* g.outputChannels &+ group &* ocg) &* plan.positions
    let groupWeight = weight + group &* ocg &* plan.depth
    let groupBias = bias.map { $0 + group &* ocg }
    if plan.pointwise {
        convProduct(weightLayout, m: ocg, n: plan.positions, k: plan.depth, a: groupWeight, b: groupInput,
                    ldb: plan.positions, c: output + outputOffset, ldc: plan.positions, bias: groupBias,
                    pool: pool, epilogue: epilogue.advanced(by: outputOffset))
        return
    }
    var oy0 = 0
    while oy0 < g.outputHeight {
        let oy1 = min(g.outputHeight, oy0 &+ plan.blockRows)
        let n = (oy1 &- oy0) &* g.outputWidth
        im2col(g, plan, groupInput, columns, rows: oy0..<oy1, pool)
        let offset = outputOffset &+ oy0 &* g.outputWidth
        convProduct(weightLayout, m: ocg, n: n, k: plan.depth, a: groupWeight, b: UnsafePointer(columns), ldb: n,
                    c: output + offset, ldc: plan.positions, bias: groupBias, pool: pool,
                    epilogue: epilogue.advanced(by: offset))
        oy0 = oy1
    }
}

/// C = A · B (+ bias per row, then the epilogue) with A (m×k) the weight in `layout`.
private func convProduct(_ layout: ConvWeightLayout, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         bias: UnsafePointer<Float>?, pool: ThreadPool?, epilogue: Epilogue) {
    switch layout {
    case .columnPanels:
        gemmColumnPanels(m: m, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, rowBias: bias, pool: pool,
                         epilogue: epilogue)
    case .rowTiles:
        gemmPackedA(m: m, n: n, k: k, a: a, b: b, ldb: ldb, c: c, ldc: ldc, rowBias: bias, pool: pool,
                    epilogue: epilogue)
    case .plain:
        gemmWithRowBias(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ldb,
                        beta: 0, c: c, ldc: ldc, rowBias: bias, pool: pool, epilogue: epilogue)
    }
}

/// Writes the column matrix of output rows `rows` of one (image, group), with row stride
/// rows.count · ow: row (c, ky, kx), column (oy − rows.lowerBound, ox) holds
/// input[c, oy·sh − padTop + ky·dh, ox·sw − padLeft + kx·dw], or 0 in the padding.
/// `source` points at the group's first input channel.
private func im2col(_ g: ConvGeometry, _ plan: ConvPlan, _ source: UnsafePointer<Float>,
                    _ columns: UnsafeMutablePointer<Float>, rows outputRows: Range<Int>, _ pool: ThreadPool?) {
    let width = outputRows.count &* g.outputWidth
    if g.outputWidth < smallPlaneWidth, smallPlaneFloats(g) <= smallPlaneLimit, outputRows.count == g.outputHeight {
        // Narrow outputs: per-row bookkeeping would cost more than the copies.
        let channels = g.inputChannelsPerGroup
        let chunks = pool != nil && plan.depth &* width >= 1 << 16
            ? min(channels, (pool?.threadCount ?? 1) &* 4) : 1
        if let pool, chunks > 1 {
            pool.parallelFor(chunks) { chunk in
                im2colSmallPlanes(g, plan, source, columns, chunk &* channels / chunks, (chunk &+ 1) &* channels / chunks)
            }
        } else {
            im2colSmallPlanes(g, plan, source, columns, 0, channels)
        }
        return
    }
    let rows = plan.depth
    let chunks = pool != nil && rows &* width >= 1 << 16 ? min(rows, (pool?.threadCount ?? 1) &* 4) : 1
    if let pool, chunks > 1 {
        pool.parallelFor(chunks) { chunk in
            im2colRows(g, source, columns, chunk &* rows / chunks, (chunk &+ 1) &* rows / chunks, outputRows)
        }
    } else {
        im2colRows(g, source, columns, 0, rows, outputRows)
    }
}

/// Output widths below which `im2colSmallPlanes` builds the columns.
private let smallPlaneWidth = 16
/// Most floats of the zero-padded plane `im2colSmallPlanes` keeps on the stack.
private let smallPlaneLimit = 4096

/// Floats of the zero-padded input plane that covers every window of `g`.
private func smallPlaneFloats(_ g: ConvGeometry) -> Int {
    let height = (g.outputHeight &- 1) &* g.strideHeight &+ (g.kernelHeight &- 1) &* g.dilationHeight &+ 1
    let width = (g.outputWidth &- 1) &* g.strideWidth &+ (g.kernelWidth &- 1) &* g.dilationWidth &+ 1
    return height &* width
}

/// The column rows of input channels c0 ..< c1 (of the group at `source`): each channel
/// is first copied into a zero-padded plane (the thread's scratch) covering every window, then each
/// row (c, ky, kx) is a strided copy from it with no bounds tests.
private func im2colSmallPlanes(_ g: ConvGeometry, _ plan: ConvPlan, _ source: UnsafePointer<Float>,
                               _ columns: UnsafeMutablePointer<Float>, _ c0: Int, _ c1: Int) {
    let kh = g.kernelHeight, kw = g.kernelWidth
    let ih = g.inputHeight, iw = g.inputWidth
    let oh = g.outputHeight, ow = g.outputWidth
    let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dw = g.dilationWidth
    let ph = (oh &- 1) &* sh &+ (kh &- 1) &* dh &+ 1
    let pw = (ow &- 1) &* sw &+ (kw &- 1) &* dw &+ 1
    withThreadScratch(Int(D2L_SYS_SCRATCH_CONV), floats: max(1, ph &* pw)) { padded in
        // Padded rows y and columns x that hold input (the rest stays 0).
        let yLo = max(0, g.padTop), yHi = min(ph, ih &+ g.padTop)
        let xLo = max(0, g.padLeft), xHi = min(pw, iw &+ g.padLeft)
        for c in c0..<c1 {
            let plane = source + c &* ih &* iw
            convZero(padded, ph &* pw)
            if yHi > yLo && xHi > xLo {
                for y in yLo..<yHi {
                    let src = plane + ((y &- g.padTop) &* iw &+ (xLo &- g.padLeft))
                    convCopy(padded + (y &* pw &+ xLo), src, xHi &- xLo)
                }
            }
            var dst = columns + c &* kh &* kw &* plan.positions
            for ky in 0..<kh {
                for kx in 0..<kw {
                    var rowSource = padded + (ky &* dh &* pw &+ kx &* dw)
                    for _ in 0..<oh {
                        if sw == 1 {
                            convCopy(dst, rowSource, ow)
                        } else {
                            for ox in 0..<ow { dst[ox] = rowSource[ox &* sw] }
                        }
                        dst += ow
                        rowSource += sh &* pw
                    }
                }
            }
        }
    }
}

/// The whole column matrix of one (image, group), row (c, ky, kx), column (oy, ox), with
/// row stride `ld` ≥ oh · ow: the toolkit's convolution backward lays a chunk of images'
/// columns side by side (`columns` then points at this image's first column).
package func im2colImage(_ g: ConvGeometry, _ source: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>,
                         ld: Int) {
    im2colRows(g, source, columns, 0, g.inputChannelsPerGroup &* g.kernelHeight &* g.kernelWidth,
               0..<g.outputHeight, ld: ld)
}

/// Rows row0 ..< row1 of the column matrix for output rows `outputRows`, with row stride
/// `ld` (default outputRows.count · ow).
private func im2colRows(_ g: ConvGeometry, _ source: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>,
                        _ row0: Int, _ row1: Int, _ outputRows: Range<Int>, ld rowStride: Int? = nil) {
    let kh = g.kernelHeight, kw = g.kernelWidth
    let ih = g.inputHeight, iw = g.inputWidth
    let oh = g.outputHeight, ow = g.outputWidth
    let sh = g.strideHeight, sw = g.strideWidth
    if row0 >= row1 { return }
    let first = outputRows.lowerBound, last = outputRows.upperBound
    let ld = rowStride ?? outputRows.count &* ow
    // Walk rows (channel, ky, kx) without dividing per row.
    var kx = row0 % kw
    var ky = (row0 / kw) % kh
    var plane = source + (row0 / (kw &* kh)) &* ih &* iw
    var dst = columns + row0 &* ld
    // Output rows oy with 0 ≤ oy·sh + y0 < ih read the input (top ..< bottom), clipped to
    // the block's rows.
    var y0 = 0, top = 0, bottom = 0
    func rowRange() {
        y0 = ky &* g.dilationHeight &- g.padTop
        top = y0 < 0 ? min(oh, convCeilDiv(0 &- y0, sh)) : 0
        bottom = ih &- 1 &- y0 >= 0 ? min(oh, convFloorDiv(ih &- 1 &- y0, sh) &+ 1) : 0
        if bottom < top { bottom = top }
        top = min(max(top, first), last)
        bottom = min(max(bottom, top), last)
    }
    rowRange()
    for _ in row0..<row1 {
        // Output columns ox with 0 ≤ ox·sw + x0 < iw read the input (lo ..< hi).
        let x0 = kx &* g.dilationWidth &- g.padLeft
        let lo = x0 < 0 ? min(ow, convCeilDiv(0 &- x0, sw)) : 0
        var hi = iw &- 1 &- x0 >= 0 ? min(ow, convFloorDiv(iw &- 1 &- x0, sw) &+ 1) : 0
        if hi < lo { hi = lo }
        convZero(dst, (top &- first) &* ow)
        if bottom > top {
            let src = plane + ((top &* sh &+ y0) &* iw &+ lo &* sw &+ x0)
            convGatherRows(dst + (top &- first) &* ow, src, rows: bottom &- top, width: ow, lo: lo, hi: hi,
                           srcRowStride: sh &* iw, srcStep: sw)
        }
        convZero(dst + (bottom &- first) &* ow, (last &- bottom) &* ow)
        dst += ld
        kx &+= 1
        if kx == kw {
            kx = 0
            ky &+= 1
            if ky == kh {
                ky = 0
                plane += ih &* iw
            }
            rowRange()
        }
    }
}

/// ⌈a / b⌉ for a ≥ 0, b ≥ 1 (no division when b is 1).
@inline(__always)
private func convCeilDiv(_ a: Int, _ b: Int) -> Int { b == 1 ? a : (a &+ b &- 1) / b }

/// ⌊a / b⌋ for a ≥ 0, b ≥ 1 (no division when b is 1).
@inline(__always)
private func convFloorDiv(_ a: Int, _ b: Int) -> Int { b == 1 ? a : a / b }

/// For each of `rows` rows r: dst[r·width ..< r·width + lo] = 0,
/// dst[r·width + lo + i] = src[r·srcRowStride + i·srcStep] for i < hi − lo, and
/// dst[r·width + hi ..< (r+1)·width] = 0.
@inline(__always)
private func convGatherRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, rows: Int,
                            width: Int, lo: Int, hi: Int, srcRowStride: Int, srcStep: Int) {
    let inside = hi &- lo
    let tail = width &- hi
    // Short pads on rows of ≥ 8: one 8-wide zero store at each end of the row, then the
    // copy over it (no per-row memset calls).
    let vectorPads = width >= 8 && lo <= 8 && tail <= 8
    var d = dst
    var s = src
    for _ in 0..<rows {
        if vectorPads {
            if lo > 0 { UnsafeMutableRawPointer(d).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self) }
            if tail > 0 {
                UnsafeMutableRawPointer(d + (width &- 8)).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
            }
        } else {
            convZero(d, lo)
            convZero(d + hi, tail)
        }
        if srcStep == 1 {
            convCopy(d + lo, s, inside)
        } else {
            for i in 0..<inside { d[lo &+ i] = s[i &* srcStep] }
        }
        d += width
        s += srcRowStride
    }
}

/// dst[0..<count] = 0.
@inline(__always)
private func convZero(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i &+ 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
        i &+= 8
    }
    while i < count { dst[i] = 0; i &+= 1 }
}

/// dst[0..<count] = src[0..<count] (not overlapping).
@inline(__always)
private func convCopy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    if count >= 8 {
        var i = 0
        while i &+ 8 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i &+= 8
        }
        if i < count {
            // The last 8, overlapping what is already copied.
            let v = UnsafeRawPointer(src + (count &- 8)).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + (count &- 8)).storeBytes(of: v, as: SIMD8<Float>.self)
        }
    } else if count >= 4 {
        // Two 4-wide copies, the second overlapping the first when count < 8.
        let head = UnsafeRawPointer(src).loadUnaligned(as: SIMD4<Float>.self)
        let tail = UnsafeRawPointer(src + (count &- 4)).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(dst).storeBytes(of: head, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(dst + (count &- 4)).storeBytes(of: tail, as: SIMD4<Float>.self)
    } else {
        var i = 0
        while i < count { dst[i] = src[i]; i &+= 1 }
    }
}
