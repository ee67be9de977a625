import D2LRuntime
import Foundation

/// A seeded random number generator (SplitMix64): the same seed gives the same numbers
/// on every platform, so shuffles, initialisations and augmentations are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The runtime's SplitMix64, so the toolkit and libd2l's sampler share one generator.
    private var splitMix: SplitMix64

    public init(seed: UInt64) { splitMix = SplitMix64(seed: seed) }

    /// The generator's state; the next output is a function of it alone.
    public var state: UInt64 {
        get { splitMix.state }
        set { splitMix.state = newValue }
    }

    public mutating func next() -> UInt64 { splitMix.next() }

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
