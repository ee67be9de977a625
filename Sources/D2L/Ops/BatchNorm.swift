import D2LRuntime
import Foundation

// Batch normalisation over axis 1 of x [N, C, S…] (S = the product of the trailing
// dimensions, 1 for [N, C]), per channel c over its M = N·S values:
//   training:   μ = mean, σ² = biased variance, x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β;
//               running_mean ← (1 − m)·running_mean + m·μ,
//               running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)
//   evaluation: the same with the running statistics, which stay unchanged.
// Backward (training): dβ = Σ dy, dγ = Σ dy·x̂,
//   dx = γ/(M·√(σ² + ε)) · (M·dy − Σ dy − x̂·Σ dy·x̂);
// (evaluation): dx = γ·dy/√(running_var + ε).

extension Tensor {
    /// Batch normalisation of `x` `[N, C, …]` with per-channel `weight` (γ) and `bias` (β);
    /// updates the running statistics (and `numBatchesTracked`) in training mode. Throws
    /// `ToolkitError(.shape)` for training with one value per channel.
    static func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Parameter, runningVar: Parameter,
                          numBatchesTracked: Parameter?, training: Bool, momentum: Float, eps: Float) throws -> Tensor {
        precondition(x.rank >= 2, "batchNorm: input \(x.shape) needs a channel axis")
        let n = x.shape[0], c = x.shape[1]
        let spatial = x.shape[2...].reduce(1, *)
        let m = n * spatial
        precondition(weight.shape == [c] && bias.shape == [c] && runningMean.shape == [c] && runningVar.shape == [c],
                     "batchNorm: per-channel tensors must have shape [\(c)]")
        if training && m <= 1 {
            throw ToolkitError(.shape, "batchNorm: training needs more than one value per channel, got input of shape \(x.shape)")
        }
        // Per-channel mean and variance used to normalise, and 1/√(var + ε) for the backward.
        var mean = [Float](repeating: 0, count: c)
        var variance = [Float](repeating: 0, count: c)
        var invStd = [Float](repeating: 0, count: c)
        if training {
            x.withUnsafeValues { xb in
                let xp = xb.baseAddress!
                for ch in 0..<c {
                    // Two passes in double precision per channel: mean, then squared deviations.
                    var sum = 0.0
                    for i in 0..<n { sum += Double(channelSum(xp + (i * c + ch) * spatial, spatial)) }
                    let mu = Float(sum / Double(m))
                    var squares = 0.0
                    for i in 0..<n { squares += Double(channelSquaredDeviation(xp + (i * c + ch) * spatial, spatial, mu)) }
                    mean[ch] = mu
                    variance[ch] = Float(squares / Double(m))
                }
            }
            for ch in 0..<c { invStd[ch] = 1 / (variance[ch] + eps).squareRoot() }
            let unbias = Float(m) / Float(m - 1)
            runningMean.update { r in for ch in 0..<c { r[ch] = (1 - momentum) * r[ch] + momentum * mean[ch] } }
            runningVar.update { r in
                for ch in 0..<c { r[ch] = (1 - momentum) * r[ch] + momentum * variance[ch] * unbias }
            }
            numBatchesTracked?.update { t in if t.count == 1 { t[0] += 1 } }
        } else {
            mean = runningMean.value.scalars
            variance = runningVar.value.scalars
            for ch in 0..<c { invStd[ch] = 1 / (variance[ch] + eps).squareRoot() }
        }
        let gamma = weight.scalars, beta = bias.scalars
        // The runtime's BatchNormalization kernel, so that training and the exported model agree.
        let value = make(shape: x.shape) { y in
            x.withUnsafeValues { xb in
                guard let xp = xb.baseAddress else { return }  // no elements
                batchNormAffine(xp, y, outer: n, channels: c, inner: spatial, gamma: gamma, beta: beta,
                                mean: mean, variance: variance, epsilon: eps)
            }
        }
        return record("batchNorm", value, inputs: [x, weight, bias]) { dy in
            var sumDy = [Float](repeating: 0, count: c)
            var sumDyXhat = [Float](repeating: 0, count: c)
            x.withUnsafeValues { xb in
                dy.withUnsafeValues { db in
                    let xp = xb.baseAddress!, dp = db.baseAddress!
                    for ch in 0..<c {
                        var s = 0.0, sx = 0.0
                        for i in 0..<n {
                            let offset = (i * c + ch) * spatial
                            let (a, b) = channelDotCentered(dp + offset, xp + offset, spatial, mean[ch])
                            s += Double(a)
                            sx += Double(b)
                        }
                        sumDy[ch] = Float(s)
                        sumDyXhat[ch] = Float(sx) * invStd[ch]
                    }
                }
            }
            var dx: Tensor? = nil
            if x.node != nil {
                dx = make(shape: x.shape) { out in
                    x.withUnsafeValues { xb in
                        dy.withUnsafeValues { db in
                            let xp = xb.baseAddress!, dp = db.baseAddress!
                            for ch in 0..<c {
                                let k = gamma[ch] * invStd[ch]
                                // training: dx = k·(dy − Σdy/M − x̂·Σdy·x̂/M), x̂ = (x − μ)·invStd;
                                // evaluation: dx = k·dy.
                                let a = training ? sumDy[ch] / Float(m) : 0
                                let b = training ? sumDyXhat[ch] / Float(m) * invStd[ch] : 0
                                for i in 0..<n {
                                    let offset = (i * c + ch) * spatial
                                    let xs = xp + offset, ds = dp + offset, os = out + offset
                                    let mu = mean[ch]
                                    for j in 0..<spatial { os[j] = k * (ds[j] - a - (xs[j] - mu) * b) }
                                }
                            }
                        }
                    }
                }
            }
            return [dx, weight.node == nil ? nil : Tensor(sumDyXhat), bias.node == nil ? nil : Tensor(sumDy)]
        }
    }
}

/// Σ p[0..<count] (the runtime's vector sum).
@inline(__always)
private func channelSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    sumVector(p, count)
}

/// Σ (p[i] − mu)².
@inline(__always)
private func channelSquaredDeviation(_ p: UnsafePointer<Float>, _ count: Int, _ mu: Float) -> Float {
    sumSquaredDeviationVector(p, count, mean: mu)
}

/// (Σ dy, Σ dy·(x − mu)).
@inline(__always)
private func channelDotCentered(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                                _ mu: Float) -> (Float, Float) {
    (sumVector(dy, count), dotCenteredVector(dy, x, count, mean: mu))
}

