/// PIL's `Image.resize(size, Image.BILINEAR)` for 8-bit images, the resize of
/// `d2l_session_set_image_u8` (and so of the C examples and Python's `Model.classify`):
/// a separable triangle filter, antialiased when shrinking. Output sample i of an axis is
/// centred on input coordinate (i + 0.5) · scale (scale = in / out); the triangle's
/// support is max(scale, 1) input samples each side, its weights normalised to sum 1.
/// The horizontal pass, then the vertical one, run in double precision and round once,
/// half away from zero, to 0…255 (PIL rounds after each pass in fixed point: results
/// agree with PIL within one level). A plain loop: the reference implementation.

/// The filter taps of one axis: output sample i reads input samples
/// `first[i] ..< first[i] + count[i]` with weights `weights[offset[i] ..< offset[i] + count[i]]`.
/// Also the taps of the toolkit's `resizeAntialiased` (D2L/Data/PILResize.swift), which
/// resizes float images with them.
package struct ResampleTaps {
    package var first: [Int] = []
    package var count: [Int] = []
    package var offset: [Int] = []
    package var weights: [Double] = []

    /// The taps for resizing `inSize` samples to `outSize` (both ≥ 1).
    package init(inSize: Int, outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = scale > 1 ? scale : 1
        let support = filterScale  // the triangle's support is 1, widened by the scale
        first.reserveCapacity(outSize)
        count.reserveCapacity(outSize)
        offset.reserveCapacity(outSize)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            let lo = center - support + 0.5, hi = center + support + 0.5
            var start = lo > 0 ? Int(lo) : 0
            if start > inSize - 1 { start = inSize - 1 }
            var end = hi < Double(inSize) ? Int(hi) : inSize
            if end <= start { end = start + 1 }
            first.append(start)
            count.append(end - start)
            offset.append(weights.count)
            var total = 0.0
            for k in start..<end {
                let x = (Double(k) - center + 0.5) / filterScale
                let w = x < 0 ? 1 + x : 1 - x
                let weight = w > 0 ? w : 0
                weights.append(weight)
                total += weight
            }
            let n = end - start
            for j in weights.count - n ..< weights.count {
                weights[j] = total > 0 ? weights[j] / total : 1 / Double(n)
            }
        }
    }
}

/// Resizes `source` (height × width × channels bytes, channels interleaved) to
/// `outHeight` × `outWidth` × channels bytes in `destination`, through `middle`
/// (height × outWidth × channels doubles of scratch). All sizes ≥ 1; the caller checked
/// that the products fit.
func resizeBilinear(_ source: UnsafePointer<UInt8>, height: Int, width: Int, channels: Int,
                    outHeight: Int, outWidth: Int, middle: UnsafeMutablePointer<Double>,
                    into destination: UnsafeMutablePointer<UInt8>) {
    let columns = ResampleTaps(inSize: width, outSize: outWidth)
    let rows = ResampleTaps(inSize: height, outSize: outHeight)
    for y in 0..<height {
        for x in 0..<outWidth {
            let first = columns.first[x], n = columns.count[x], w = columns.offset[x]
            for c in 0..<channels {
                var sum = 0.0
                for k in 0..<n {
                    sum += columns.weights[w + k] * Double(source[(y * width + first + k) * channels + c])
                }
                middle[(y * outWidth + x) * channels + c] = sum
            }
        }
    }
    for y in 0..<outHeight {
        let first = rows.first[y], n = rows.count[y], w = rows.offset[y]
        for x in 0..<outWidth {
            for c in 0..<channels {
                var sum = 0.0
                for k in 0..<n {
                    sum += rows.weights[w + k] * middle[((first + k) * outWidth + x) * channels + c]
                }
                let v = sum.rounded(.toNearestOrAwayFromZero)
                destination[(y * outWidth + x) * channels + c] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
            }
        }
    }
}
