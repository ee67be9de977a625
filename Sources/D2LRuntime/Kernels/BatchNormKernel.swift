import _D2LSystem
import _D2LKernels

/// Batch normalisation's per-channel affine map, shared by the runtime's
/// `BatchNormalization` and the toolkit's `batchNorm` (training and evaluation):
///
///     scale[c] = gamma[c] / √(variance[c] + epsilon),  shift[c] = beta[c] − mean[c]·scale[c]
///     y[n, c, i] = x[n, c, i]·scale[c] + shift[c]     (then `activation`)
///
/// over x and y `[outer, channels, inner]` row-major (NCHW with inner = H·W, or [N, C] with
/// inner = 1), through the active kernel variant. `gamma`, `beta`, `mean` and `variance` hold
/// `channels` values; x and y may be the same buffer.
package func batchNormAffine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                             outer: Int, channels: Int, inner: Int,
                             gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                             mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
                             activation: FusedActivation = .none) {
    let table = Kernels.active.table
    let code = activation.kernelCode
    for c in 0..<channels {
        let scale = gamma[c] / sqrtf(variance[c] + epsilon)
        let shift = beta[c] - mean[c] * scale
        for n in 0..<outer {
            let base = (n &* channels &+ c) &* inner
            table.pointee.scale_shift(x + base, scale, shift, y + base, inner, code)
        }
    }
}
