import D2LRuntime

// 2-D pooling for training. Max and average pooling run the runtime's pooling kernel
// forward; the backward passes are plain loops over the windows. Adaptive average
// pooling (PyTorch's window rule) is the toolkit's own, both ways.

extension Tensor {
    /// Max pooling (`F.max_pool2d`, floor mode): x `[N, C, H, W]`, windows `kernelSize`
    /// moved by `stride` over the input padded with −∞ by `padding` on each side. The
    /// gradient of each output goes to the first maximal tap of its window (row-major).
    public static func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int),
                                 padding: (Int, Int)) -> Tensor {
        let g = poolGeometry(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, name: "maxPool2d")
        let value = runPool(.max, g, x)
        return record("maxPool2d", value, inputs: [x]) { dy in [maxPool2dBackward(g, x: x, y: value, dy: dy)] }
    }

    /// Average pooling (`F.avg_pool2d`, floor mode, `count_include_pad=True`): every window
    /// divides by kh·kw, zero padding included.
    public static func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int),
                                 padding: (Int, Int)) -> Tensor {
        let g = poolGeometry(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, name: "avgPool2d")
        let value = runPool(.average, g, x)
        return record("avgPool2d", value, inputs: [x]) { dy in [avgPool2dBackward(g, dy: dy)] }
    }

    /// Adaptive average pooling (`F.adaptive_avg_pool2d`) to `outputSize` (oh, ow): output
    /// (i, j) averages rows ⌊i·H/oh⌋ ..< ⌈(i+1)·H/oh⌉ and columns ⌊j·W/ow⌋ ..< ⌈(j+1)·W/ow⌉.
    public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
        precondition(x.rank == 4 && outputSize.0 >= 1 && outputSize.1 >= 1,
                     "adaptiveAvgPool2d: input \(x.shape) must be [N, C, H, W], output size \(outputSize) positive")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize
        precondition(h >= 1 && w >= 1, "adaptiveAvgPool2d: empty input plane \(x.shape)")
        let rows = adaptiveWindows(h, oh), cols = adaptiveWindows(w, ow)
        let planes = n * c
        let value = make(shape: [n, c, oh, ow]) { y in
            x.withUnsafeValues { xb in
                let xp = xb.baseAddress!
                for p in 0..<planes {
                    let src = xp + p * h * w, dst = y + p * oh * ow
                    for i in 0..<oh {
                        let (r0, r1) = rows[i]
                        for j in 0..<ow {
                            let (c0, c1) = cols[j]
                            var acc: Float = 0
                            for r in r0..<r1 {
                                let line = src + r * w
                                for q in c0..<c1 { acc += line[q] }
                            }
                            dst[i * ow + j] = acc / Float((r1 - r0) * (c1 - c0))
                        }
                    }
                }
            }
        }
        return record("adaptiveAvgPool2d", value, inputs: [x]) { dy in
            [make(shape: x.shape) { dx in
                dx.initialize(repeating: 0, count: planes * h * w)
                dy.withUnsafeValues { db in
                    let dyp = db.baseAddress!
                    for p in 0..<planes {
                        let src = dyp + p * oh * ow, dst = dx + p * h * w
                        for i in 0..<oh {
                            let (r0, r1) = rows[i]
                            for j in 0..<ow {
                                let (c0, c1) = cols[j]
                                let share = src[i * ow + j] / Float((r1 - r0) * (c1 - c0))
                                for r in r0..<r1 {
                                    let line = dst + r * w
                                    for q in c0..<c1 { line[q] += share }
                                }
                            }
                        }
                    }
                }
            }]
        }
    }

    /// The pooling geometry (as a convolution's, channels in = out), after checks.
    static func poolGeometry(_ xs: [Int], kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                             name: String) -> ConvGeometry {
        precondition(xs.count == 4, "\(name): input \(xs) must be [N, C, H, W]")
        precondition(kernelSize.0 >= 1 && kernelSize.1 >= 1 && stride.0 >= 1 && stride.1 >= 1
                     && padding.0 >= 0 && padding.1 >= 0
                     && 2 * padding.0 <= kernelSize.0 && 2 * padding.1 <= kernelSize.1,
                     "\(name): invalid kernel \(kernelSize), stride \(stride) or padding \(padding) (padding at most half the kernel)")
        let ph = xs[2] + 2 * padding.0 - kernelSize.0, pw = xs[3] + 2 * padding.1 - kernelSize.1
        precondition(ph >= 0 && pw >= 0, "\(name): input \(xs) with padding \(padding) is smaller than the window \(kernelSize)")
        return ConvGeometry(batch: xs[0], inputChannels: xs[1], inputHeight: xs[2], inputWidth: xs[3],
                            outputChannels: xs[1], outputHeight: ph / stride.0 + 1, outputWidth: pw / stride.1 + 1,
                            kernelHeight: kernelSize.0, kernelWidth: kernelSize.1,
                            strideHeight: stride.0, strideWidth: stride.1, padTop: padding.0, padLeft: padding.1)
    }

    /// The runtime's pooling kernel on `x`.
    static func runPool(_ kind: PoolKind, _ g: ConvGeometry, _ x: Tensor) -> Tensor {
        make(shape: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]) { y in
            x.withUnsafeValues { xb in
                pool2d(kind, g, padBottom: g.padTop, padRight: g.padLeft, countIncludePad: true,
                       input: xb.baseAddress!, output: y, pool: ComputeThreads.pool)
            }
        }
    }

    /// Max pooling's input gradient: each output's gradient to the first tap of its
    /// window (row-major) that equals the output.
    static func maxPool2dBackward(_ g: ConvGeometry, x: Tensor, y: Tensor, dy: Tensor) -> Tensor {
        let planes = g.batch * g.inputChannels
        let ih = g.inputHeight, iw = g.inputWidth, oh = g.outputHeight, ow = g.outputWidth
        let kh = g.kernelHeight, kw = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let pt = g.padTop, pl = g.padLeft
        return make(shape: x.shape) { dx in
            dx.initialize(repeating: 0, count: planes * ih * iw)
            x.withUnsafeValues { xb in
                y.withUnsafeValues { yb in
                    dy.withUnsafeValues { db in
                        let xp = xb.baseAddress!, yp = yb.baseAddress!, dyp = db.baseAddress!
                        for p in 0..<planes {
                            let xs = xp + p * ih * iw, dxs = dx + p * ih * iw
                            let ys = yp + p * oh * ow, dys = dyp + p * oh * ow
                            for oy in 0..<oh {
                                let y0 = oy * sh - pt
                                let r0 = Swift.max(0, y0), r1 = Swift.min(ih, y0 + kh)
                                for ox in 0..<ow {
                                    let x0 = ox * sw - pl
                                    let c0 = Swift.max(0, x0), c1 = Swift.min(iw, x0 + kw)
                                    let target = ys[oy * ow + ox]
                                    var found = -1
                                    search: for r in r0..<r1 {
                                        for c in c0..<c1 {
                                            let v = xs[r * iw + c]
                                            if v == target || (v.isNaN && target.isNaN) { found = r * iw + c; break search }
                                        }
                                    }
                                    if found >= 0 { dxs[found] += dys[oy * ow + ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Average pooling's input gradient: each output's gradient / (kh·kw) to every tap
    /// of its window inside the input.
    static func avgPool2dBackward(_ g: ConvGeometry, dy: Tensor) -> Tensor {
        let planes = g.batch * g.inputChannels
        let ih = g.inputHeight, iw = g.inputWidth, oh = g.outputHeight, ow = g.outputWidth
        let kh = g.kernelHeight, kw = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let pt = g.padTop, pl = g.padLeft
        let scale = 1 / Float(kh * kw)
        return make(shape: [g.batch, g.inputChannels, ih, iw]) { dx in
            dx.initialize(repeating: 0, count: planes * ih * iw)
            dy.withUnsafeValues { db in
                let dyp = db.baseAddress!
                if kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 {
                    // LeNet's window: disjoint 2×2 blocks.
                    for p in 0..<planes {
                        let dxs = dx + p * ih * iw, dys = dyp + p * oh * ow
                        for oy in 0..<oh {
                            let r0 = dxs + 2 * oy * iw, r1 = r0 + iw, src = dys + oy * ow
                            for ox in 0..<ow {
                                let v = src[ox] * 0.25
                                r0[2 * ox] = v; r0[2 * ox + 1] = v; r1[2 * ox] = v; r1[2 * ox + 1] = v
                            }
                        }
                    }
                    return
                }
                for p in 0..<planes {
                    let dxs = dx + p * ih * iw, dys = dyp + p * oh * ow
                    for oy in 0..<oh {
                        let y0 = oy * sh - pt
                        let r0 = Swift.max(0, y0), r1 = Swift.min(ih, y0 + kh)
                        for ox in 0..<ow {
                            let x0 = ox * sw - pl
                            let c0 = Swift.max(0, x0), c1 = Swift.min(iw, x0 + kw)
                            let v = dys[oy * ow + ox] * scale
                            for r in r0..<r1 {
                                let line = dxs + r * iw
                                for c in c0..<c1 { line[c] += v }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// PyTorch's adaptive windows: for each of `outputs` cells, rows ⌊i·n/o⌋ ..< ⌈(i+1)·n/o⌉.
func adaptiveWindows(_ n: Int, _ outputs: Int) -> [(Int, Int)] {
    (0..<outputs).map { i in (i * n / outputs, ((i + 1) * n + outputs - 1) / outputs) }
}
