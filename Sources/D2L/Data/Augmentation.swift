/// A random image transform, as in torchvision's `transforms`: given the same generator
/// state it makes the same choice, so a seed makes augmentation reproducible.
public protocol ImageTransform {
    /// Transforms one CHW image, drawing any random choices from `rng`.
    func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image
}

extension ImageTransform {
    /// Transforms one image drawing from the toolkit's default generator `Random.generator`.
    public func callAsFunction(_ image: Image) -> Image {
        self(image, using: &Random.generator)
    }
}

/// Applies transforms in order (torchvision's `Compose`).
public struct Compose: ImageTransform {
    /// The transforms, first applied first.
    public var transforms: [any ImageTransform]

    public init(_ transforms: [any ImageTransform]) { self.transforms = transforms }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        var result = image
        for transform in transforms { result = transform(result, using: &rng) }
        return result
    }
}

/// Checks a probability for the flips.
private func checkedProbability(_ p: Double, _ name: String) throws -> Double {
    guard p >= 0 && p <= 1 else {
        throw ToolkitError(.invalidArgument, "\(name): p must be in [0, 1], got \(p)")
    }
    return p
}

/// Mirrors the image left–right with probability `p` (torchvision's
/// `RandomHorizontalFlip`): draws one uniform u and flips when u < p.
public struct RandomHorizontalFlip: ImageTransform {
    /// The probability of flipping.
    public let p: Double

    /// - Throws: `ToolkitError(.invalidArgument)` when `p` is outside [0, 1].
    public init(p: Double = 0.5) throws { self.p = try checkedProbability(p, "RandomHorizontalFlip") }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        guard Double(rng.nextUniform()) < p else { return image }
        return Self.flip(image)
    }

    /// The image mirrored left–right (column x becomes width − 1 − x).
    public static func flip(_ image: Image) -> Image {
        var result = image
        let width = image.width
        for row in 0..<(image.channels * image.height) {
            let start = row * width
            for x in 0..<width { result.pixels[start + x] = image.pixels[start + width - 1 - x] }
        }
        return result
    }
}

/// Mirrors the image top–bottom with probability `p` (torchvision's
/// `RandomVerticalFlip`): draws one uniform u and flips when u < p.
public struct RandomVerticalFlip: ImageTransform {
    /// The probability of flipping.
    public let p: Double

    /// - Throws: `ToolkitError(.invalidArgument)` when `p` is outside [0, 1].
    public init(p: Double = 0.5) throws { self.p = try checkedProbability(p, "RandomVerticalFlip") }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        guard Double(rng.nextUniform()) < p else { return image }
        return Self.flip(image)
    }

    /// The image mirrored top–bottom (row y becomes height − 1 − y).
    public static func flip(_ image: Image) -> Image {
        var result = image
        let (height, width) = (image.height, image.width)
        for c in 0..<image.channels {
            for y in 0..<height {
                let to = (c * height + y) * width
                let from = (c * height + height - 1 - y) * width
                result.pixels.replaceSubrange(to..<(to + width), with: image.pixels[from..<(from + width)])
            }
        }
        return result
    }
}
