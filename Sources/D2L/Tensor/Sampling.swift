import Foundation

/// Sampling from discrete distributions (the book's 2.6: `torch.distributions.Multinomial`,
/// `torch.multinomial`, `torch.bernoulli`), reproducible with a ``SeededGenerator``.
extension Tensor {
    /// Class indices drawn independently from the categorical distribution
    /// `probabilities / Σ probabilities` (`torch.multinomial(p, count, replacement=True)`),
    /// by inverse-CDF with 53-bit uniforms; a class of probability 0 is never drawn.
    ///
    /// - Parameters:
    ///   - probabilities: `[k]` non-negative, finite weights with a positive sum (need not sum to 1).
    ///   - count: how many draws (≥ 0).
    ///   - generator: the random source, advanced by one 64-bit draw per sample.
    /// - Returns: `count` indices in `0..<k`.
    /// - Throws: `ToolkitError(.invalidArgument)` for a negative count or bad probabilities.
    public static func categorical(probabilities: Tensor, count: Int,
                                   using generator: inout SeededGenerator) throws -> [Int] {
        let cdf = try cumulativeDistribution(probabilities, caller: "categorical")
        guard count >= 0 else { throw ToolkitError(.invalidArgument, "categorical: count must be ≥ 0, got \(count)") }
        return (0..<count).map { _ in draw(cdf, &generator) }
    }

    /// How often each class comes up in `count` draws (`torch.distributions.Multinomial(count,
    /// probs).sample()`): a `[k]` tensor of counts summing to `count`.
    ///
    /// - Parameters:
    ///   - probabilities: `[k]` non-negative, finite weights with a positive sum.
    ///   - count: draws per experiment (the book's `total_count`), ≥ 0.
    ///   - generator: the random source, advanced by one 64-bit draw per sample.
    /// - Throws: `ToolkitError(.invalidArgument)` for a negative count or bad probabilities.
    public static func multinomial(probabilities: Tensor, count: Int,
                                   using generator: inout SeededGenerator) throws -> Tensor {
        try multinomial(probabilities: probabilities, count: count, experiments: 1, using: &generator)
            .reshaped([probabilities.count])
    }

    /// `experiments` independent multinomial experiments of `count` draws each
    /// (`Multinomial(count, probs).sample((experiments,))`): `[experiments, k]` counts, each
    /// row summing to `count`.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for a negative count or number of
    ///   experiments, or bad probabilities (negative, non-finite, zero sum, not a vector).
    public static func multinomial(probabilities: Tensor, count: Int, experiments: Int,
                                   using generator: inout SeededGenerator) throws -> Tensor {
        let cdf = try cumulativeDistribution(probabilities, caller: "multinomial")
        guard count >= 0 else { throw ToolkitError(.invalidArgument, "multinomial: count must be ≥ 0, got \(count)") }
        guard experiments >= 0 else {
            throw ToolkitError(.invalidArgument, "multinomial: experiments must be ≥ 0, got \(experiments)")
        }
        let k = cdf.count
        var counts = [Float](repeating: 0, count: experiments * k)
        for e in 0..<experiments {
            for _ in 0..<count { counts[e * k + draw(cdf, &generator)] += 1 }
        }
        return Tensor(counts, shape: [experiments, k])
    }

    /// Independent 0/1 samples of `shape`, each 1 with probability `p` (`torch.bernoulli`
    /// of a tensor full of `p`).
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` when `p` is not in [0, 1] or a dimension is negative.
    public static func bernoulli(_ p: Float, shape: [Int], using generator: inout SeededGenerator) throws -> Tensor {
        guard p.isFinite, p >= 0, p <= 1 else { throw ToolkitError(.invalidArgument, "bernoulli: p must be in [0, 1], got \(p)") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw ToolkitError(.invalidArgument, "bernoulli: bad shape \(shape)") }
        let threshold = Double(p)
        return Tensor((0..<shape.reduce(1, *)).map { _ in uniform53(&generator) < threshold ? 1 : 0 }, shape: shape)
    }

    /// The normalised cumulative sums of valid probabilities.
    private static func cumulativeDistribution(_ probabilities: Tensor, caller: String) throws -> [Double] {
        guard probabilities.rank == 1, probabilities.count > 0 else {
            throw ToolkitError(.invalidArgument, "\(caller): probabilities must be a non-empty vector, got shape \(probabilities.shape)")
        }
        let p = probabilities.scalars
        if let bad = p.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw ToolkitError(.invalidArgument, "\(caller): probability \(bad) is \(p[bad]); each must be finite and ≥ 0")
        }
        let total = p.reduce(0.0) { $0 + Double($1) }
        guard total > 0 else { throw ToolkitError(.invalidArgument, "\(caller): the probabilities sum to 0") }
        var running = 0.0
        var cdf = p.map { value -> Double in
            running += Double(value)
            return running / total
        }
        // Rounding may leave the last positive class's bound just below 1: make it exactly 1.
        if let last = p.lastIndex(where: { $0 > 0 }) { for i in last..<cdf.count { cdf[i] = 1 } }
        return cdf
    }

    /// The first class whose cumulative bound exceeds a uniform draw in [0, 1).
    private static func draw(_ cdf: [Double], _ generator: inout SeededGenerator) -> Int {
        let u = uniform53(&generator)
        var low = 0, high = cdf.count - 1
        while low < high {  // the first index with u < cdf[index]; cdf[last] = 1 > u
            let mid = (low + high) / 2
            if u < cdf[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    private static func uniform53(_ generator: inout SeededGenerator) -> Double {
        Double(generator.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
