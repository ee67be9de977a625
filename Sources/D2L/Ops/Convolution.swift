import D2LRuntime
import _D2LSystem

// 2-D convolution for training: the forward pass is the runtime's kernel (im2col + gemm);
// the backward pass, per (chunk of images, group), with cols = im2col(x) [icg·kh·kw, B·oh·ow]:
//   dW_g += dY_g · colsᵀ      dX_g = col2im(W_gᵀ · dY_g)      db = Σ dY

extension Tensor {
    /// 2-D cross-correlation (`F.conv2d`): x `[N, C, H, W]`, weight `[O, C/groups, kh, kw]`,
    /// bias `[O]` or nil; output `[N, O, (H + 2·ph − kh)/sh + 1, (W + 2·pw − kw)/sw + 1]`
    /// with zero padding. Traps on inconsistent shapes (`Conv2d` checks its input first
    /// and throws instead).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0), groups: Int = 1) -> Tensor {
        let g = convGeometry(x.shape, weight.shape, bias?.shape, stride: stride, padding: padding, groups: groups)
        let outShape = [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        let value = make(shape: outShape) { out in
            let scratchCount = Swift.max(1, conv2dScratchElements(g))
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            x.withUnsafeValues { xp in
                weight.withUnsafeValues { wp in
                    if let bias {
                        bias.withUnsafeValues { bp in
                            D2LRuntime.conv2d(g, input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                              output: out, scratch: scratch, pool: ComputeThreads.pool)
                        }
                    } else {
                        D2LRuntime.conv2d(g, input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil,
                                          output: out, scratch: scratch, pool: ComputeThreads.pool)
                    }
                }
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return record("conv2d", value, inputs: inputs) { dy in
            let grads = conv2dBackward(g, x: x, weight: weight, outputGrad: dy, needInput: x.node != nil,
                                       needWeight: weight.node != nil, needBias: bias?.node != nil)
            return bias == nil ? [grads.input, grads.weight] : [grads.input, grads.weight, grads.bias]
        }
    }

    /// The runtime geometry of a convolution, after checking that the shapes fit.
    static func convGeometry(_ xs: [Int], _ ws: [Int], _ bs: [Int]?, stride: (Int, Int), padding: (Int, Int),
                             groups: Int) -> ConvGeometry {
        precondition(xs.count == 4 && ws.count == 4, "conv2d: input \(xs) and weight \(ws) must both be 4-D")
        precondition(groups >= 1 && xs[1] % groups == 0 && ws[0] % groups == 0 && ws[1] * groups == xs[1],
                     "conv2d: input \(xs), weight \(ws) and groups \(groups) do not fit")
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "conv2d: invalid stride \(stride) or padding \(padding)")
        precondition(bs == nil || bs! == [ws[0]], "conv2d: bias \(bs ?? []) for \(ws[0]) output channels")
        let ph = xs[2] + 2 * padding.0 - ws[2], pw = xs[3] + 2 * padding.1 - ws[3]
        precondition(ph >= 0 && pw >= 0, "conv2d: input \(xs) with padding \(padding) is smaller than the kernel \(ws)")
        return ConvGeometry(batch: xs[0], inputChannels: xs[1], inputHeight: xs[2], inputWidth: xs[3],
                            outputChannels: ws[0], outputHeight: ph / stride.0 + 1, outputWidth: pw / stride.1 + 1,
                            kernelHeight: ws[2], kernelWidth: ws[3],
                            strideHeight: stride.0, strideWidth: stride.1,
                            padTop: padding.0, padLeft: padding.1, groups: groups)
    }

    /// The gradients of a convolution with respect to its input, weight and bias (nil
    /// for those not asked for), given the output's gradient `outputGrad`.
    ///
    /// Images are taken in chunks of B (the column matrix of a chunk holds about
    /// `convBackwardChunkFloats` floats); per chunk and group, with the chunk's columns
    /// side by side (cols `[depth, B·P]`, depth = icg·kh·kw, P = oh·ow) and dY gathered to
    /// `[ocg, B·P]`: dW_g += dY · colsᵀ and dcols = W_gᵀ · dY, then col2im into dX — two
    /// large products per chunk instead of two small ones per image.
    static func conv2dBackward(_ g: ConvGeometry, x: Tensor, weight: Tensor, outputGrad dy: Tensor,
                               needInput: Bool, needWeight: Bool, needBias: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
        let depth = icg * g.kernelHeight * g.kernelWidth
        let positions = g.outputHeight * g.outputWidth
        let inPlane = g.inputHeight * g.inputWidth
        let pool = ComputeThreads.pool
        var db: Tensor? = nil

        if needBias {
            db = make(shape: [g.outputChannels]) { b in
                dy.withUnsafeValues { d in
                    let dp = d.baseAddress!
                    for o in 0..<g.outputChannels { b[o] = 0 }
                    for n in 0..<g.batch {
                        for o in 0..<g.outputChannels {
                            b[o] += sumVector(dp + (n * g.outputChannels + o) * positions, positions)
                        }
                    }
                }
            }
        }
        if !needInput && !needWeight { return (nil, nil, db) }
        if positions == 0 || g.batch == 0 || depth == 0 || ocg == 0 {
            return (needInput ? zeros(x.shape) : nil, needWeight ? zeros(weight.shape) : nil, db)
        }

        let chunk = Swift.max(1, Swift.min(g.batch, convBackwardChunkFloats / (depth * positions)))
        let width = chunk * positions
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: depth * width)
        defer { columns.deallocate() }
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: ocg * width)
        defer { gathered.deallocate() }
        // Few output channels (≤ 64) and a deep column matrix: dWᵀ = cols · dYᵀ runs on
        // gemm's register tiles, where dY · colsᵀ would take its row-dot-product path.
        let transposedWeightGrad = needWeight && ocg <= 64 && depth > 64
        let dwt = UnsafeMutablePointer<Float>.allocate(capacity: transposedWeightGrad ? weight.count : 1)
        defer { dwt.deallocate() }
        if transposedWeightGrad { dwt.initialize(repeating: 0, count: weight.count) }
        var dxValues = needInput ? [Float](repeating: 0, count: x.count) : []
        var dwValues = needWeight ? [Float](repeating: 0, count: weight.count) : []
        x.withUnsafeValues { xb in
            weight.withUnsafeValues { wb in
                dy.withUnsafeValues { dyb in
                    dxValues.withUnsafeMutableBufferPointer { dxb in
                        dwValues.withUnsafeMutableBufferPointer { dwb in
                            let xp = xb.baseAddress!, wp = wb.baseAddress!, dyp = dyb.baseAddress!
                            var first = 0
                            while first < g.batch {
                                let count = Swift.min(chunk, g.batch - first)
                                let ld = count * positions
                                for group in 0..<g.groups {
                                    // dY of the chunk's images, side by side: [ocg, count·P].
                                    for b in 0..<count {
                                        let src = dyp + ((first + b) * g.outputChannels + group * ocg) * positions
                                        for o in 0..<ocg {
                                            (gathered + o * ld + b * positions).update(from: src + o * positions, count: positions)
                                        }
                                    }
                                    if needWeight {
                                        // Each image's columns on its own (over the pool's threads).
                                        forEachImage(count, pool) { b in
                                            let xg = xp + ((first + b) * g.inputChannels + group * icg) * inPlane
                                            im2colImage(g, xg, columns + b * positions, ld: ld)
                                        }
                                        if transposedWeightGrad {
                                            // dW_gᵀ += cols · dYᵀ: [depth, count·P] · [count·P, ocg].
                                            gemm(transA: false, transB: true, m: depth, n: ocg, k: ld, alpha: 1,
                                                 a: columns, lda: ld, b: gathered, ldb: ld,
                                                 beta: 1, c: dwt + group * ocg * depth, ldc: ocg, pool: pool)
                                        } else {
                                            gemm(transA: false, transB: true, m: ocg, n: depth, k: ld, alpha: 1,
                                                 a: gathered, lda: ld, b: columns, ldb: ld,
                                                 beta: 1, c: dwb.baseAddress! + group * ocg * depth, ldc: depth,
                                                 pool: pool)
                                        }
                                    }
                                    if needInput {
                                        // dcols = W_gᵀ · dY: [depth, ocg] · [ocg, count·P].
                                        gemm(transA: true, transB: false, m: depth, n: ld, k: ocg, alpha: 1,
                                             a: wp + group * ocg * depth, lda: depth, b: gathered, ldb: ld,
                                             beta: 0, c: columns, ldc: ld, pool: pool)
                                        let dxBase = dxb.baseAddress!
                                        forEachImage(count, pool) { b in
                                            let dxg = dxBase + ((first + b) * g.inputChannels + group * icg) * inPlane
                                            col2im(g, columns + b * positions, ld, dxg)
                                        }
                                    }
                                }
                                first += count
                            }
                            if transposedWeightGrad {
                                // dW_g = (dW_gᵀ)ᵀ for every group.
                                for group in 0..<g.groups {
                                    let src = dwt + group * ocg * depth, dst = dwb.baseAddress! + group * ocg * depth
                                    for d in 0..<depth { for o in 0..<ocg { dst[o * depth + d] = src[d * ocg + o] } }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (needInput ? Tensor(dxValues, shape: x.shape) : nil,
                needWeight ? Tensor(dwValues, shape: weight.shape) : nil, db)
    }
}

/// Runs body(b) for b < count: split over `pool`'s threads when there are several (each
/// image's columns and input gradient are its own), else in order.
@inline(__always)
func forEachImage(_ count: Int, _ pool: ThreadPool?, _ body: (Int) -> Void) {
    guard let pool, pool.threadCount > 1, count > 1 else {
        for b in 0..<count { body(b) }
        return
    }
    let chunks = Swift.min(count, pool.threadCount * 2)
    pool.parallelFor(chunks) { c in
        for b in (c * count / chunks)..<((c + 1) * count / chunks) { body(b) }
    }
}

/// Floats of one chunk's column matrix in the convolution's backward pass.
let convBackwardChunkFloats = 1 << 18

/// The valid output range for one kernel offset: outputs o with 0 ≤ o·stride + start < size.
@inline(__always)
func convValidRange(start: Int, size: Int, outputs: Int, stride: Int) -> (Int, Int) {
    let lo = start < 0 ? Swift.min(outputs, (-start + stride - 1) / stride) : 0
    let hi = size - 1 - start >= 0 ? Swift.min(outputs, (size - 1 - start) / stride + 1) : 0
    return (lo, Swift.max(lo, hi))
}

/// Adds the column matrix (row stride `ld`) of one (image, group) back onto the input
/// positions it was gathered from (the adjoint of im2col): dx[c, oy·sh − pt + ky,
/// ox·sw − pl + kx] += columns[(c, ky, kx), (oy, ox)]. `dx` points at the group's first
/// input channel.
func col2im(_ g: ConvGeometry, _ columns: UnsafePointer<Float>, _ ld: Int, _ dx: UnsafeMutablePointer<Float>) {
    let kh = g.kernelHeight, kw = g.kernelWidth
    let ih = g.inputHeight, iw = g.inputWidth
    let oh = g.outputHeight, ow = g.outputWidth
    let sh = g.strideHeight, sw = g.strideWidth
    var row = columns
    for c in 0..<g.inputChannelsPerGroup {
        let plane = dx + c * ih * iw
        for ky in 0..<kh {
            let y0 = ky * g.dilationHeight - g.padTop
            let (top, bottom) = convValidRange(start: y0, size: ih, outputs: oh, stride: sh)
            for kx in 0..<kw {
                let x0 = kx * g.dilationWidth - g.padLeft
                let (lo, hi) = convValidRange(start: x0, size: iw, outputs: ow, stride: sw)
                let inside = hi - lo
                if inside > 0 && bottom > top {
                    if sw == 1 {
                        // The block of rows top ..< bottom at once.
                        addBlock(row + top * ow + lo, srcStride: ow, plane + (top * sh + y0) * iw + lo + x0,
                                 dstStride: sh * iw, rows: bottom - top, width: inside)
                    } else {
                        for oy in top..<bottom {
                            let src = row + oy * ow + lo
                            let dst = plane + (oy * sh + y0) * iw + lo * sw + x0
                            for i in 0..<inside { dst[i * sw] += src[i] }
                        }
                    }
                }
                row += ld
            }
        }
    }
}
