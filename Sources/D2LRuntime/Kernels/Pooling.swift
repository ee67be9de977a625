import _D2LKernels
import _D2LSystem

/// The kind of a pooling window: the average or the maximum of its taps.
package enum PoolKind: Sendable { case average, max }

/// 2-D pooling (ONNX `AveragePool`/`MaxPool`, PyTorch `avg_pool2d`/`max_pool2d`) of
/// `input` `[batch, inputChannels, inputHeight, inputWidth]` into `output` `[batch,
/// inputChannels, outputHeight, outputWidth]` (fully overwritten), with the window,
/// strides, leading pads and dilations of `g` (its `outputChannels` must equal
/// `inputChannels`; weights and groups are ignored). Max pooling treats the padding as
/// −∞ and propagates NaN. Average pooling divides by the taps inside the input, or with
/// `countIncludePad` by the taps inside the padded input, whose trailing pads are
/// `padBottom` and `padRight` (windows past them, with ceil_mode, are clipped). `pool`
/// (nil = the calling thread only) spreads planes over its threads. The geometry is not
/// checked here.
package func pool2d(_ kind: PoolKind, _ g: ConvGeometry, padBottom: Int, padRight: Int, countIncludePad: Bool,
                   input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
    let kernel = PoolKernel(kind: kind, g: g, padBottom: padBottom, padRight: padRight,
                            countIncludePad: countIncludePad)
    let planes = g.batch * g.inputChannels
    let work = planes * g.outputHeight * g.outputWidth * g.kernelHeight * g.kernelWidth
    let chunks = pool == nil || work < 200_000 ? 1 : min(planes, 16)
    if chunks == 1 {
        kernel.runPlanes(x, y, 0..<planes)
    } else {
        pool?.parallelFor(chunks) { c in
            kernel.runPlanes(x, y, (c * planes / chunks)..<((c + 1) * planes / chunks))
        }
    }
}

/// The pooling loops with their parameters.
private struct PoolKernel {
    let kind: PoolKind
    let g: ConvGeometry
    let padBottom: Int, padRight: Int
    let countIncludePad: Bool

    /// Pools planes (image × channel) `range`. Windows that lie wholly inside the input
    /// take a branch-free path; border windows check every tap.
    func runPlanes(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let inPlane = g.inputHeight * g.inputWidth, outPlane = g.outputHeight * g.outputWidth
        // Window positions past the padded input (ceil_mode) are clipped for the divisor.
        let paddedHeight = g.inputHeight + padBottom, paddedWidth = g.inputWidth + padRight
        let extentH = (g.kernelHeight - 1) * g.dilationHeight + 1
        let extentW = (g.kernelWidth - 1) * g.dilationWidth + 1
        let fullWindow = Float(g.kernelHeight * g.kernelWidth)
        // Loop constants as locals, so the interior loops keep them in registers.
        let isMax = kind == .max, width = g.inputWidth
        let kernelHeight = g.kernelHeight, kernelWidth = g.kernelWidth, dilationWidth = g.dilationWidth
        let rowStep = g.dilationHeight * width
        if g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideHeight == 2 && g.strideWidth == 2
            && g.padTop == 0 && g.padLeft == 0 && g.dilationHeight == 1 && g.dilationWidth == 1
            && 2 * g.outputHeight <= g.inputHeight && 2 * g.outputWidth <= g.inputWidth {
            pool2x2(x, y, range)
            return
        }
        if kind == .max && g.dilationHeight == 1 && g.dilationWidth == 1 {
            let table = Kernels.active.table
            let paddedFloats = (g.strideHeight * (g.outputHeight - 1) + g.kernelHeight)
                * (g.strideWidth * (g.outputWidth - 1) + g.kernelWidth)
            // Stride 2 computes every stride-1 window: worth it on small planes only.
            let strided = g.strideHeight > 1 || g.strideWidth > 1
            let limit = strided ? min(1024, table.pointee.pool_plane_floats) : table.pointee.pool_plane_floats
            if g.outputHeight > 0 && g.outputWidth > 0 && paddedFloats <= limit
                && g.padTop < g.kernelHeight && g.padLeft < g.kernelWidth && g.strideHeight <= 2 && g.strideWidth <= 2 {
                // Small planes (GoogLeNet's pools): whole planes in the kernel.
                table.pointee.max_pool_planes(x + range.lowerBound * g.inputHeight * g.inputWidth, range.count,
                                              g.inputHeight, g.inputWidth, g.kernelHeight, g.kernelWidth,
                                              g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
                                              g.outputHeight, g.outputWidth,
                                              y + range.lowerBound * g.outputHeight * g.outputWidth)
                return
            }
            maxPoolSeparable(x, y, range)
            return
        }
        for p in range {
            let xp = x + p * inPlane, yp = y + p * outPlane
            for oy in 0..<g.outputHeight {
                let y0 = oy * g.strideHeight - g.padTop
                let rowInside = y0 >= 0 && y0 + extentH <= g.inputHeight
                for ox in 0..<g.outputWidth {
                    let x0 = ox * g.strideWidth - g.padLeft
                    if rowInside && x0 >= 0 && x0 + extentW <= width {
                        let corner = xp + y0 * width + x0
                        if isMax {
                            var acc = -Float.infinity
                            for ky in 0..<kernelHeight {
                                let row = corner + ky * rowStep
                                for kx in 0..<kernelWidth { acc = maxPropagatingNaN(acc, row[kx * dilationWidth]) }
                            }
                            yp[oy * g.outputWidth + ox] = acc
                        } else {
                            var acc: Float = 0
                            for ky in 0..<kernelHeight {
                                let row = corner + ky * rowStep
                                for kx in 0..<kernelWidth { acc += row[kx * dilationWidth] }
                            }
                            yp[oy * g.outputWidth + ox] = acc / fullWindow
                        }
                        continue
                    }
                    var acc: Float = kind == .max ? -Float.infinity : 0
                    var valid = 0, inPadded = 0
                    for ky in 0..<g.kernelHeight {
                        let iy = y0 + ky * g.dilationHeight
                        if iy >= paddedHeight { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = x0 + kx * g.dilationWidth
                            if ix >= paddedWidth { continue }
                            inPadded += 1
                            if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth { continue }
                            let v = xp[iy * g.inputWidth + ix]
                            valid += 1
                            if kind == .max { if v > acc || v.isNaN { acc = v } } else { acc += v }
                        }
                    }
                    if kind == .average {
                        let divisor = countIncludePad ? inPadded : valid
                        acc = divisor > 0 ? acc / Float(divisor) : 0
                    }
                    yp[oy * g.outputWidth + ox] = acc
                }
            }
        }
    }

    /// The 2×2, stride-2, unpadded window of LeNet and most CNNs: every window is inside
    /// (the kernel variant's `pool2x2_row`, a row of windows at a time).
    private func pool2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let table = Kernels.active.table
        let width = g.inputWidth, inPlane = g.inputHeight * width
        let outHeight = g.outputHeight, outWidth = g.outputWidth, outPlane = outHeight * outWidth
        let average: Int32 = kind == .average ? 1 : 0
        for p in range {
            let xp = x + p * inPlane, yp = y + p * outPlane
            for oy in 0..<outHeight {
                let r0 = xp + 2 * oy * width
                table.pointee.pool2x2_row(r0, r0 + width, outWidth, yp + oy * outWidth, average)
            }
        }
    }
}

extension PoolKernel {
    /// Max pooling with dilation 1 as two passes per output row: the maximum down the
    /// window's rows inside the input (`max_rows`), then across each window's columns
    /// inside the input (`max_window` for stride 1, `max_window_strided` for 2). Taps in
    /// the padding are skipped
    /// (−∞), as in `runPlanes`.
    fileprivate func maxPoolSeparable(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                      _ range: Range<Int>) {
        let table = Kernels.active.table
        let ih = g.inputHeight, iw = g.inputWidth, oh = g.outputHeight, ow = g.outputWidth
        let kh = g.kernelHeight, kw = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        // The column maxima sit at `lead` in a buffer of −∞, so that stride-1 windows read
        // their taps with plain loads (taps outside the input meet −∞).
        let lead = g.padLeft
        let length = max(lead + iw, sw * ow + kw) + 32
        withThreadScratch(Int(D2L_SYS_SCRATCH_POOL), floats: length) { padded in
            for i in 0..<length { padded[i] = -.infinity }
            let columnMax = padded + lead
            for p in range {
                let xp = x + p * ih * iw, yp = y + p * oh * ow
                for oy in 0..<oh {
                    let y0 = oy * sh - g.padTop
                    let r0 = max(0, y0), r1 = min(ih, y0 + kh)
                    let out = yp + oy * ow
                    if r0 >= r1 {
                        for ox in 0..<ow { out[ox] = -.infinity }
                        continue
                    }
                    // columnMax[c] = max over rows r0..<r1 of input[r][c].
                    table.pointee.max_rows(xp + r0 * iw, iw, r1 - r0, iw, columnMax)
                    if sw == 1 && lead < kw {
                        // Output ox's taps are padded[ox ..< ox + kw].
                        table.pointee.max_window(padded, kw, ow, out)
                        continue
                    }
                    if sw == 2 && lead < kw {
                        // Output ox's taps are padded[2·ox ..< 2·ox + kw] (ResNet's 3×3/2).
                        table.pointee.max_window_strided(padded, kw, 2, ow, out)
                        continue
                    }
                    for ox in 0..<ow {
                        let x0 = ox * sw - g.padLeft
                        let c0 = max(0, x0), c1 = min(iw, x0 + kw)
                        var acc = -Float.infinity
                        var cc = c0
                        while cc < c1 { acc = maxPropagatingNaN(acc, columnMax[cc]); cc += 1 }
                        out[ox] = acc
                    }
                }
            }
        }
    }
}

/// The larger of two values; NaN when either is NaN (as MaxPool propagates NaN).
@inline(__always)
private func maxPropagatingNaN(_ a: Float, _ b: Float) -> Float {
    if a.isNaN || b.isNaN { return .nan }
    return a > b ? a : b
}
