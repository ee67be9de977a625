/// Plain reference kernels: the oracle every faster kernel is tested against.
/// Straightforward loops, no SIMD, no threads. Layouts are row-major.

/// C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k and op(B) is k×n.
/// A is stored m×k with row stride `lda` (k×m when `transA`), B is stored k×n with row
/// stride `ldb` (n×k when `transB`), C has row stride `ldc`. When beta is 0, C is not
/// read (so it may hold NaNs).
func gemmReference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += av * bv
            }
            let old: Float = beta == 0 ? 0 : beta * c[i * ldc + j]
            c[i * ldc + j] = alpha * sum + old
        }
    }
}

/// Direct convolution (cross-correlation, as ONNX and PyTorch define it) with zero
/// padding, strides, dilations and groups. `bias` may be nil.
func conv2dReference(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
    let icPerGroup = g.inputChannelsPerGroup
    let ocPerGroup = g.outputChannelsPerGroup
    for nb in 0..<g.batch {
        for oc in 0..<g.outputChannels {
            let group = oc / ocPerGroup
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var sum: Float = bias?[oc] ?? 0
                    for icg in 0..<icPerGroup {
                        let ic = group * icPerGroup + icg
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
                            if iy < 0 || iy >= g.inputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
                                if ix < 0 || ix >= g.inputWidth { continue }
                                let iv = input[((nb * g.inputChannels + ic) * g.inputHeight + iy) * g.inputWidth + ix]
                                let wv = weight[((oc * icPerGroup + icg) * g.kernelHeight + ky) * g.kernelWidth + kx]
                                sum += iv * wv
                            }
                        }
                    }
                    output[((nb * g.outputChannels + oc) * g.outputHeight + oy) * g.outputWidth + ox] = sum
                }
            }
        }
    }
}

/// The first k < n whose `boxIoU(kept k, box)` exceeds `threshold`, or n: the oracle of the
/// kernel variants' `first_overlap_above` (`KeptBoxes`, which holds the same boxes as
/// columns). `kept` is `[n, 4]`, corner format.
func firstOverlapAboveReference(kept: UnsafePointer<Float>, n: Int, box: UnsafePointer<Float>, threshold: Float) -> Int {
    for k in 0..<n where boxIoU(kept + 4 * k, box) > threshold { return k }
    return n
}
