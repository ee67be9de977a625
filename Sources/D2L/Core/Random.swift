import Foundation

/// A seeded random number generator (SplitMix64): the same seed gives the same numbers
/// on every platform, so shuffles, initialisations and augmentations are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The generator's state; the next output is a function of it alone.
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in [0, 1) from the top 24 bits of the next output.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal float (Box–Muller; uses two uniforms).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2))
    }
}

/// The toolkit's default generator, used by initialisers, `Tensor.randn`, dropout and
/// shuffling when no generator is passed. `Random.seed(_:)` makes a run reproducible.
/// Not thread-safe: use it from one thread, or pass your own `SeededGenerator`.
public enum Random {
    nonisolated(unsafe) public static var generator = SeededGenerator(seed: 0x5EED)

    /// Resets the default generator.
    public static func seed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }
}
