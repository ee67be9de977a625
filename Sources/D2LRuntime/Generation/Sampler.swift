import _D2LSystem

/// SplitMix64 (Steele, Lea and Flood), the generator of docs/FORMAT.md's sampling rule.
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// u in [0, 1): the top 53 bits of the next output times 2⁻⁵³.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// Picks the next token from logits, as docs/FORMAT.md specifies (the same in C, Python and
/// the toolkit): temperature 0 is greedy argmax (ties: lowest index); otherwise the
/// logits are divided by the temperature, the top-k kept (all when k is 0; ties at the
/// k-th value keep the lower index), softmaxed in float64, and the first kept token in
/// index order whose cumulative probability exceeds one SplitMix64 draw is taken.
public struct Sampler {
    public let temperature: Float
    public let topK: Int
    public var random: SplitMix64
    private var order: [Int] = []
    private var kept: [Bool] = []
    private var scaled: [Double] = []

    /// Checks the settings against a vocabulary of `classCount` tokens.
    public init(temperature: Float, topK: Int, seed: UInt64, classCount: Int) throws(D2LError) {
        guard temperature >= 0 else {  // also refuses NaN
            throw .invalidArgument("temperature must be 0 (greedy) or positive, got \(Double(temperature))")
        }
        guard temperature.isFinite else { throw .invalidArgument("temperature must be finite") }
        guard topK >= 0 && topK <= classCount else {
            throw .invalidArgument("top_k \(topK) is larger than the vocabulary (\(classCount) tokens)")
        }
        self.temperature = temperature
        self.topK = topK
        random = SplitMix64(seed: seed)
    }

    /// Index of the highest value; ties (and NaNs) keep the lowest index.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        guard logits.count > 0 else { return 0 }
        var bestValue = logits[0]
        for i in 1..<logits.count where logits[i] > bestValue || (bestValue.isNaN && !logits[i].isNaN) {
            best = i
            bestValue = logits[i]
        }
        return best
    }

    /// The next token for `logits` (one SplitMix64 draw unless greedy).
    public mutating func pick(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let n = logits.count
        guard n > 0 else { return 0 }
        if temperature == 0 { return Sampler.argmax(logits) }
        let t = Double(temperature)
        scaled.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let v = Double(logits[i]) / t
            scaled.append(v.isNaN ? -Double.infinity : v)
        }
        kept.removeAll(keepingCapacity: true)
        let k = topK == 0 || topK > n ? n : topK
        if k == n {
            for _ in 0..<n { kept.append(true) }
        } else {
            for _ in 0..<n { kept.append(false) }
            order.removeAll(keepingCapacity: true)
            for i in 0..<n { order.append(i) }
            let s = scaled
            order.sort { a, b in s[a] > s[b] || (s[a] == s[b] && a < b) }
            for j in 0..<k { kept[order[j]] = true }
        }
        var m = -Double.infinity
        for i in 0..<n where kept[i] && scaled[i] > m { m = scaled[i] }
        var sum = 0.0
        for i in 0..<n where kept[i] {
            let e = exp(scaled[i] - m)
            scaled[i] = e
            sum += e
        }
        let u = random.nextUnit()
        var cumulative = 0.0
        var last = 0
        for i in 0..<n where kept[i] {
            cumulative += scaled[i] / sum
            if cumulative > u { return i }
            last = i
        }
        return last
    }
}
