import Foundation

/// y = x·Wᵀ + b (`nn.Linear`): input `[…, inFeatures]`, output `[…, outFeatures]`;
/// parameters `weight [out, in]` and `bias [out]`, initialised like PyTorch
/// (U(±1/√in)).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(Foundation.sqrt(Double(Swift.max(inFeatures, 1))))
        weight = Parameter(Tensor.rand([outFeatures, inFeatures], low: -bound, high: bound))
        self.bias = bias ? Parameter(Tensor.rand([outFeatures], low: -bound, high: bound)) : nil
        super.init()
        registerExisting("weight", weight)
        if let b = self.bias { registerExisting("bias", b) }
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 1, input.shape.last == inFeatures else {
            throw ToolkitError(.shape, "Linear(\(inFeatures), \(outFeatures)): input of shape \(input.shape) does not end in \(inFeatures)")
        }
        if input.rank == 2 { return Tensor.linear(input, weight: weight.value, bias: bias?.value) }
        let flat = input.reshaped([-1, inFeatures])
        let y = Tensor.linear(flat, weight: weight.value, bias: bias?.value)
        return y.reshaped(Array(input.shape.dropLast()) + [outFeatures])
    }
}

/// max(x, 0) (`nn.ReLU`).
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.relu() }
}

/// 1 / (1 + e^-x) (`nn.Sigmoid`).
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.sigmoid() }
}

/// tanh(x) (`nn.Tanh`).
public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.tanh() }
}

/// Flattens dimensions `startAxis…` (`nn.Flatten`, default from axis 1: `[N, …] → [N, -1]`).
public final class Flatten: Module {
    public let startAxis: Int
    public init(startAxis: Int = 1) {
        self.startAxis = startAxis
        super.init()
    }
    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank > startAxis else {
            throw ToolkitError(.shape, "Flatten(startAxis: \(startAxis)): input of shape \(input.shape) has too few dimensions")
        }
        return input.flattened(startAxis: startAxis)
    }
}

/// Zeroes each element with probability `p` in training mode and scales the rest by
/// 1/(1-p) (`nn.Dropout`); the identity in evaluation mode.
public final class Dropout: Module {
    public let p: Float
    public init(_ p: Float = 0.5) {
        precondition(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got \(p)")
        self.p = p
        super.init()
    }
    public override func forward(_ input: Tensor) throws -> Tensor {
        guard isTraining, p > 0 else { return input }
        if p == 1 { return input * 0 }
        let keep = 1 - p
        let scale = 1 / keep
        let mask = Tensor.make(shape: input.shape) { m in
            for i in 0..<input.count { m[i] = Random.generator.nextUniform() < keep ? scale : 0 }
        }
        return input * mask
    }
}

extension Module {
    /// Registers an already-created parameter under `name` (layers that keep typed
    /// references to their parameters).
    public func registerExisting(_ name: String, _ parameter: Parameter) {
        registerParameterObject(name, parameter)
    }
}
