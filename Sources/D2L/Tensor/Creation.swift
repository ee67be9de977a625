extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        guard let n = ConstructionBudget.admit(shape) else { return Tensor([Float](), shape: [0]) }
        return Tensor([Float](repeating: value, count: n), shape: shape)
    }
    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
    /// Zeros with `other`'s shape.
    public static func zeros(like other: Tensor) -> Tensor { full(other.shape, 0) }
    /// Ones with `other`'s shape.
    public static func ones(like other: Tensor) -> Tensor { full(other.shape, 1) }

    /// `[start, start + step, …]` below `end` (`torch.arange`), as a 1-D tensor.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "Tensor.arange: step must not be 0")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Float($0) * step })
    }
    /// `[0, 1, …, n - 1]`.
    public static func arange(_ n: Int) -> Tensor { Tensor((0..<n).map(Float.init)) }

    /// Standard normal samples of `shape`, times `std`, plus `mean`.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1,
                             using generator: inout SeededGenerator) -> Tensor {
        make(shape: shape) { p in
            for i in 0..<shape.reduce(1, *) { p[i] = mean + std * generator.nextNormal() }
        }
    }
    /// Standard normal samples from the default generator (`Random.generator`).
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        randn(shape, mean: mean, std: std, using: &Random.generator)
    }
    /// Uniform samples in [low, high).
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1,
                            using generator: inout SeededGenerator) -> Tensor {
        make(shape: shape) { p in
            for i in 0..<shape.reduce(1, *) { p[i] = low + (high - low) * generator.nextUniform() }
        }
    }
    /// Uniform samples in [low, high) from the default generator.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        rand(shape, low: low, high: high, using: &Random.generator)
    }
    /// The n×n identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        var t = zeros([n, n])
        t.withUnsafeMutableValues { v in for i in 0..<n { v[i * n + i] = 1 } }
        return t
    }
    /// Class indices as a one-hot matrix `[indices.count, classes]`.
    public static func oneHot(_ indices: [Int], classes: Int) -> Tensor {
        var t = zeros([indices.count, classes])
        t.withUnsafeMutableValues { v in
            for (row, index) in indices.enumerated() {
                precondition(index >= 0 && index < classes, "Tensor.oneHot: index \(index) outside 0..<\(classes)")
                v[row * classes + index] = 1
            }
        }
        return t
    }
}
