import Foundation

/// Updates parameters from their gradients (`torch.optim`). `step()` reads each
/// trainable parameter's `grad` (parameters without one are skipped) and updates the
/// values in place; `zeroGrad()` clears the gradients.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates.
    var parameters: [Parameter] { get }
    /// The learning rate (may be changed between steps, e.g. by a schedule).
    var learningRate: Float { get set }
    /// One update.
    func step()
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Stochastic gradient descent with optional momentum and weight decay, exactly as
/// `torch.optim.SGD`: d = g + λ·w; with momentum μ, b = μ·b + d (b = d on the first
/// step), d = b; w −= lr·d.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var buffers: [[Float]?]

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let g = grad.scalars
            let lr = learningRate, mu = momentum, wd = weightDecay
            var buffer = buffers[index]
            p.update { w in
                if mu == 0 {
                    for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) }
                    return
                }
                if buffer == nil {
                    buffer = (0..<w.count).map { g[$0] + wd * w[$0] }
                } else {
                    for i in 0..<w.count { buffer![i] = mu * buffer![i] + g[i] + wd * w[i] }
                }
                for i in 0..<w.count { w[i] -= lr * buffer![i] }
            }
            buffers[index] = buffer
        }
    }
}

/// Adam (`torch.optim.Adam`, no amsgrad): m = β₁m + (1−β₁)d, v = β₂v + (1−β₂)d²,
/// w −= lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε), with d = g + λ·w.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var m: [[Float]], v: [[Float]]
    private var steps: [Int]

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
        steps = Array(repeating: 0, count: parameters.count)
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let g = grad.scalars
            steps[index] += 1
            let t = Float(steps[index])
            let c1 = 1 - Foundation.pow(beta1, t), c2 = 1 - Foundation.pow(beta2, t)
            let stepSize = learningRate / c1
            let c2Root = c2.squareRoot()
            var mi = m[index], vi = v[index]
            let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
            p.update { w in
                for i in 0..<w.count {
                    let d = g[i] + wd * w[i]
                    mi[i] = b1 * mi[i] + (1 - b1) * d
                    vi[i] = b2 * vi[i] + (1 - b2) * d * d
                    w[i] -= stepSize * mi[i] / (vi[i].squareRoot() / c2Root + eps)
                }
            }
            m[index] = mi
            v[index] = vi
        }
    }
}

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`
/// (`clip_grad_norm_`: factor maxNorm / (norm + 1e-6) when below 1). Returns the norm
/// before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters { if let g = p.grad { for x in g.scalars { total += Double(x) * Double(x) } } }
    let norm = Float(total.squareRoot())
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 {
        for p in parameters {
            guard let g = p.grad else { continue }
            p.value.grad = withNoGrad { g * factor }
        }
    }
    return norm
}
