/// `AveragePool` (opset 11/19/22) and `MaxPool` (opset 12/22) over 1-D or 2-D windows,
/// float32: kernel_shape, strides, pads, dilations (AveragePool from opset 19),
/// ceil_mode, count_include_pad (AveragePool), auto_pad. MaxPool's `Indices` output and
/// `storage_order` are not supported.
struct Pool {
    enum Kind { case average, max }
    let kind: Kind
    let window: SpatialWindow
    let ceilMode: Bool
    let countIncludePad: Bool
    /// Planned geometry, as 2-D (1-D pools use height 1).
    private(set) var g = ConvGeometry(batch: 0, inputChannels: 0, inputHeight: 0, inputWidth: 0,
                                      outputChannels: 0, outputHeight: 0, outputWidth: 0,
                                      kernelHeight: 0, kernelWidth: 0)
    private(set) var padBottom = 0, padRight = 0

    init(_ a: AttributeReader, kind: Kind, version: Int) throws(D2LError) {
        self.kind = kind
        switch kind {
        case .average:
            try a.allowOnly(version >= 19
                ? ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]
                : ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"])
            window = try SpatialWindow(a, dilationsAllowed: version >= 19)
            countIncludePad = try a.flag("count_include_pad", default: false)
        case .max:
            try a.allowOnly(["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"])
            window = try SpatialWindow(a, dilationsAllowed: true)
            countIncludePad = false
            if try a.int("storage_order", default: 0) != 0 {
                throw .unsupported("\(a.label): storage_order 1 is not supported")
            }
        }
        ceilMode = try a.flag("ceil_mode", default: false)
        guard window.kernel != nil else { throw .invalidModel("\(a.label) has no kernel_shape") }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        let xs = x.type.shape
        guard xs.count == 3 || xs.count == 4 else {
            throw .unsupported("\(label): only 1-D and 2-D pooling is supported, X is \(x.type.text)")
        }
        let spatial = Array(xs[2...])
        let kernel = window.kernel ?? []
        guard kernel.count == spatial.count else {
            throw .shape("\(label): kernel_shape \(shapeText(kernel)) does not match X \(x.type.text)")
        }
        let r = try window.resolve(input: spatial, kernelSizes: kernel, ceilMode: ceilMode, label: label)
        let twoD = spatial.count == 2
        g = ConvGeometry(
            batch: xs[0], inputChannels: xs[1],
            inputHeight: twoD ? spatial[0] : 1, inputWidth: spatial[spatial.count - 1],
            outputChannels: xs[1],
            outputHeight: twoD ? r.output[0] : 1, outputWidth: r.output[r.output.count - 1],
            kernelHeight: twoD ? kernel[0] : 1, kernelWidth: kernel[kernel.count - 1],
            strideHeight: twoD ? r.strides[0] : 1, strideWidth: r.strides[r.strides.count - 1],
            padTop: twoD ? r.padBegin[0] : 0, padLeft: r.padBegin[r.padBegin.count - 1],
            dilationHeight: twoD ? r.dilations[0] : 1, dilationWidth: r.dilations[r.dilations.count - 1])
        padBottom = twoD ? r.padEnd[0] : 0
        padRight = r.padEnd[r.padEnd.count - 1]
        return [TensorType(.float32, [xs[0], xs[1]] + r.output)]
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        guard let y = io.outputs[0]?.floats else { return }
        let x = UnsafePointer(io.input(0).floats)
        let planes = g.batch * g.inputChannels
        let work = planes * g.outputHeight * g.outputWidth * g.kernelHeight * g.kernelWidth
        let chunks = pool == nil || work < 200_000 ? 1 : min(planes, 16)
        if chunks == 1 {
            runPlanes(x, y, 0..<planes)
        } else {
            pool?.parallelFor(chunks) { c in
                runPlanes(x, y, (c * planes / chunks)..<((c + 1) * planes / chunks))
            }
        }
    }

    /// Pools planes (image × channel) `range`. Windows that lie wholly inside the input
    /// take a branch-free path; border windows check every tap.
    private func runPlanes(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
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

    /// The 2×2, stride-2, unpadded window of LeNet and most CNNs: every window is inside.
    private func pool2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let width = g.inputWidth, inPlane = g.inputHeight * width
        let outHeight = g.outputHeight, outWidth = g.outputWidth, outPlane = outHeight * outWidth
        let average = kind == .average
        for p in range {
            let xp = x + p * inPlane, yp = y + p * outPlane
            for oy in 0..<outHeight {
                let r0 = xp + 2 * oy * width, r1 = r0 + width
                let out = yp + oy * outWidth
                if average {
                    for ox in 0..<outWidth {
                        let i = 2 * ox
                        out[ox] = ((r0[i] + r0[i + 1]) + (r1[i] + r1[i + 1])) * 0.25
                    }
                } else {
                    for ox in 0..<outWidth {
                        let i = 2 * ox
                        out[ox] = maxPropagatingNaN(maxPropagatingNaN(r0[i], r0[i + 1]),
                                                    maxPropagatingNaN(r1[i], r1[i + 1]))
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
