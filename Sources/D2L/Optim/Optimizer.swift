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
    /// The running state (momentum buffers, Adam's moments and step counts) by name, with
    /// the parameter's index in the name (`momentum_buffer.3`); empty for a stateless
    /// optimizer. Saved with a checkpoint so that a resumed run continues exactly.
    func stateEntries() -> [(name: String, values: [Float])]
    /// Restores what ``stateEntries()`` returned (for the same parameters).
    /// - Throws: `ToolkitError(.invalidData)` naming an unknown entry or one whose size is
    ///   not its parameter's; nothing changes on error.
    func loadStateEntries(_ entries: [(name: String, values: [Float])]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// No state (an optimizer that keeps none).
    public func stateEntries() -> [(name: String, values: [Float])] { [] }

    /// Accepts only an empty state.
    public func loadStateEntries(_ entries: [(name: String, values: [Float])]) throws {
        if let first = entries.first {
            throw ToolkitError(.invalidData, "optimizer state: unexpected entry \(first.name) (this optimizer keeps no state)")
        }
    }

    /// Splits `name` (`<kind>.<index>`) into its kind and a valid parameter index whose
    /// parameter has `values.count` elements (or 1 when `scalar`).
    func stateSlot(_ name: String, _ values: [Float], kinds: Set<String>, scalar: Set<String> = []) throws -> (kind: String, index: Int) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, kinds.contains(String(parts[0])), let index = Int(parts[1]),
              parameters.indices.contains(index) else {
            throw ToolkitError(.invalidData, "optimizer state: unexpected entry \(name)")
        }
        let kind = String(parts[0])
        let expected = scalar.contains(kind) ? 1 : parameters[index].value.count
        guard values.count == expected else {
            throw ToolkitError(.invalidData, "optimizer state: \(name) has \(values.count) values, its parameter needs \(expected)")
        }
        return (kind, index)
    }
}

/// Stochastic gradient descent with optional momentum and weight decay, exactly as
/// `torch.optim.SGD`: d = g + λ·w; with momentum μ, b = μ·b + d (b = d on the first
/// step), d = b; w −= lr·d. Parameter groups (``ParameterGroup``) give some parameters
/// their own learning rate or weight decay λ.
public final class SGD: Optimizer {
    /// Every group's parameters, in group order.
    public let parameters: [Parameter]
    /// The parameter groups (one, with no settings of its own, from the plain initialiser).
    public let groups: [ParameterGroup]
    /// The learning rate of the groups without their own.
    public var learningRate: Float
    public let momentum: Float
    /// The weight decay of the groups without their own.
    public let weightDecay: Float
    private let groupIndex: [Int]
    private var buffers: [[Float]?]

    /// One group: every parameter with `learningRate` and `weightDecay`.
    public convenience init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.init(groups: [ParameterGroup(parameters: parameters)], parameters: parameters,
                  groupIndex: Array(repeating: 0, count: parameters.count),
                  learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    }

    /// Parameter groups (`torch.optim.SGD([{"params": …, "weight_decay": 3}, {"params": …}], lr=…)`):
    /// `learningRate` and `weightDecay` are the defaults of the groups that set none.
    /// - Throws: `ToolkitError(.invalidArgument)` when a parameter is in two groups or a
    ///   group's setting is negative or not finite.
    public convenience init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0,
                            weightDecay: Float = 0) throws {
        let (parameters, groupIndex) = try flattenGroups(groups)
        self.init(groups: groups, parameters: parameters, groupIndex: groupIndex,
                  learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    }

    private init(groups: [ParameterGroup], parameters: [Parameter], groupIndex: [Int],
                 learningRate: Float, momentum: Float, weightDecay: Float) {
        self.parameters = parameters
        self.groups = groups
        self.groupIndex = groupIndex
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let g = grad.scalars
            let group = groups[groupIndex[index]]
            let lr = group.learningRate ?? learningRate, mu = momentum, wd = group.weightDecay ?? weightDecay
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

    /// `momentum_buffer.<i>` for every parameter that has one (PyTorch's name).
    public func stateEntries() -> [(name: String, values: [Float])] {
        buffers.enumerated().compactMap { index, buffer in buffer.map { ("momentum_buffer.\(index)", $0) } }
    }

    public func loadStateEntries(_ entries: [(name: String, values: [Float])]) throws {
        var restored = [[Float]?](repeating: nil, count: parameters.count)
        for (name, values) in entries {
            restored[try stateSlot(name, values, kinds: ["momentum_buffer"]).index] = values
        }
        buffers = restored
    }
}

/// Adam (`torch.optim.Adam`, no amsgrad): m = β₁m + (1−β₁)d, v = β₂v + (1−β₂)d²,
/// w −= lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε), with d = g + λ·w. Parameter groups
/// (``ParameterGroup``) give some parameters their own learning rate or weight decay λ.
public final class Adam: Optimizer {
    /// Every group's parameters, in group order.
    public let parameters: [Parameter]
    /// The parameter groups (one, with no settings of its own, from the plain initialiser).
    public let groups: [ParameterGroup]
    /// The learning rate of the groups without their own.
    public var learningRate: Float
    /// `weightDecay`: that of the groups without their own.
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private let groupIndex: [Int]
    private var m: [[Float]], v: [[Float]]
    private var steps: [Int]

    /// One group: every parameter with `learningRate` and `weightDecay`.
    public convenience init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.init(groups: [ParameterGroup(parameters: parameters)], parameters: parameters,
                  groupIndex: Array(repeating: 0, count: parameters.count), learningRate: learningRate,
                  beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    /// Parameter groups (`torch.optim.Adam([{"params": …, "lr": …}, …], lr=…)`): `learningRate`
    /// and `weightDecay` are the defaults of the groups that set none.
    /// - Throws: `ToolkitError(.invalidArgument)` when a parameter is in two groups or a
    ///   group's setting is negative or not finite.
    public convenience init(groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9,
                            beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) throws {
        let (parameters, groupIndex) = try flattenGroups(groups)
        self.init(groups: groups, parameters: parameters, groupIndex: groupIndex, learningRate: learningRate,
                  beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    private init(groups: [ParameterGroup], parameters: [Parameter], groupIndex: [Int], learningRate: Float,
                 beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float) {
        self.parameters = parameters
        self.groups = groups
        self.groupIndex = groupIndex
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
            let group = groups[groupIndex[index]]
            steps[index] += 1
            let t = Float(steps[index])
            let c1 = 1 - Foundation.pow(beta1, t), c2 = 1 - Foundation.pow(beta2, t)
            let stepSize = (group.learningRate ?? learningRate) / c1
            let c2Root = c2.squareRoot()
            var mi = m[index], vi = v[index]
            let b1 = beta1, b2 = beta2, eps = epsilon, wd = group.weightDecay ?? weightDecay
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

    /// `exp_avg.<i>`, `exp_avg_sq.<i>` and `step.<i>` for every parameter that has taken a step.
    public func stateEntries() -> [(name: String, values: [Float])] {
        parameters.indices.filter { steps[$0] > 0 }.flatMap { i in
            [("exp_avg.\(i)", m[i]), ("exp_avg_sq.\(i)", v[i]), ("step.\(i)", [Float(steps[i])])]
        }
    }

    public func loadStateEntries(_ entries: [(name: String, values: [Float])]) throws {
        var m = parameters.map { [Float](repeating: 0, count: $0.value.count) }, v = m
        var steps = [Int](repeating: 0, count: parameters.count)
        for (name, values) in entries {
            let (kind, index) = try stateSlot(name, values, kinds: ["exp_avg", "exp_avg_sq", "step"], scalar: ["step"])
            switch kind {
            case "exp_avg": m[index] = values
            case "exp_avg_sq": v[index] = values
            default:
                guard let count = values.first, count >= 0, count == count.rounded(), count < 16_777_216 else {
                    throw ToolkitError(.invalidData, "optimizer state: \(name) is not a step count")
                }
                steps[index] = Int(count)
            }
        }
        (self.m, self.v, self.steps) = (m, v, steps)
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
