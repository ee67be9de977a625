import Foundation

/// Weight initialisers (`torch.nn.init`), applied in place to a parameter.
/// Fan-in/fan-out follow PyTorch: for a weight `[out, in, k…]`, fanIn = in·Πk and
/// fanOut = out·Πk.
public enum Initializer {
    /// N(mean, std²) (`normal_`).
    case normal(mean: Float = 0, std: Float = 1)
    /// U(low, high) (`uniform_`).
    case uniform(low: Float, high: Float)
    /// U(±gain·√(6 / (fanIn + fanOut))) (`xavier_uniform_`).
    case xavierUniform(gain: Float = 1)
    /// N(0, gain²·2 / (fanIn + fanOut)) (`xavier_normal_`).
    case xavierNormal(gain: Float = 1)
    /// N(0, 2 / fanIn) (`kaiming_normal_`, ReLU gain).
    case kaimingNormal
    /// All zeros (`zeros_`).
    case zeros
    /// All `value` (`constant_`).
    case constant(Float)

    /// (fanIn, fanOut) of a weight of `shape`.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        if shape.count < 2 { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape[2...].reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Fresh values of `shape`.
    public func values(_ shape: [Int], using generator: inout SeededGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .normal(let mean, let std): return Tensor.randn(shape, mean: mean, std: std, using: &generator)
        case .uniform(let low, let high): return Tensor.rand(shape, low: low, high: high, using: &generator)
        case .xavierUniform(let gain):
            let bound = gain * Float(Foundation.sqrt(6.0 / Double(fanIn + fanOut)))
            return Tensor.rand(shape, low: -bound, high: bound, using: &generator)
        case .xavierNormal(let gain):
            let std = gain * Float(Foundation.sqrt(2.0 / Double(fanIn + fanOut)))
            return Tensor.randn(shape, std: std, using: &generator)
        case .kaimingNormal:
            return Tensor.randn(shape, std: Float(Foundation.sqrt(2.0 / Double(fanIn))), using: &generator)
        case .zeros: return Tensor.zeros(shape)
        case .constant(let v): return Tensor.full(shape, v)
        }
    }

    /// Overwrites `parameter` with fresh values (default generator unless one is given).
    /// Inside a `ConstructionBudget` scope that is used up the values come back empty and the
    /// parameter is left as it is (the half-built model is discarded).
    public func apply(to parameter: Parameter) {
        let fresh = values(parameter.shape, using: &Random.generator)
        guard fresh.shape == parameter.shape else { return }
        parameter.assign(fresh)
    }
}
