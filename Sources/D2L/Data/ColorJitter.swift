/// Randomly changes brightness, contrast, saturation and hue (torchvision's `ColorJitter`
/// on float tensors in [0, 1]).
///
/// Each enabled adjustment draws a factor — brightness, contrast and saturation
/// uniformly from `[max(0, 1 − f), 1 + f]`, hue uniformly from `[−hue, hue]` — and the
/// four are applied in a random order, as torchvision does:
/// - brightness: `clamp(x · b, 0, 1)`;
/// - contrast: `clamp(c · x + (1 − c) · m, 0, 1)` with m the mean grayscale value
///   (`0.2989 R + 0.587 G + 0.114 B` for 3 channels, the pixel mean for 1 channel);
/// - saturation: `clamp(s · x + (1 − s) · gray(x), 0, 1)` per pixel, 3 channels only;
/// - hue: RGB → HSV, `h ← (h + hue) mod 1`, HSV → RGB, 3 channels only.
/// Images with another channel count get brightness and contrast (mean over all values).
/// A factor of 0 disables that adjustment; with all four 0 the image is unchanged.
///
/// The adjustments are torchvision's float-tensor functions (`_functional_tensor.adjust_*`),
/// exact on floats. The book applies `ColorJitter` to PIL images, where torchvision calls
/// PIL instead (`ImageEnhance` blends on 8 bits that truncate, a grayscale with weights
/// 0.299/0.587/0.114 rounded to 8 bits, the contrast mean rounded, `int(mean + 0.5)`): on
/// an 8-bit image brightness, contrast and saturation stay within 1.5 levels of PIL's, but
/// PIL's hue, which quantises H, S and V to 8 bits, can differ by up to ~16 levels.
/// The random draws (the order, the factors) come from the toolkit's generator, so they
/// differ from PyTorch's.
public struct ColorJitter: ImageTransform {
    /// How far the brightness factor may stray from 1.
    public let brightness: Float
    /// How far the contrast factor may stray from 1.
    public let contrast: Float
    /// How far the saturation factor may stray from 1.
    public let saturation: Float
    /// The largest hue shift, as a fraction of the colour wheel (≤ 0.5).
    public let hue: Float

    /// - Throws: `ToolkitError(.invalidArgument)` when a factor is negative or not finite,
    ///   or `hue` exceeds 0.5.
    public init(brightness: Float = 0, contrast: Float = 0, saturation: Float = 0, hue: Float = 0) throws {
        for (name, value) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation), ("hue", hue)] {
            guard value.isFinite && value >= 0 else {
                throw ToolkitError(.invalidArgument, "ColorJitter: \(name) must be a non-negative number, got \(value)")
            }
        }
        guard hue <= 0.5 else {
            throw ToolkitError(.invalidArgument, "ColorJitter: hue must be in [0, 0.5], got \(hue)")
        }
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        var order = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        let factors: [Float?] = [
            brightness > 0 ? uniform(max(0, 1 - brightness), 1 + brightness, &rng) : nil,
            contrast > 0 ? uniform(max(0, 1 - contrast), 1 + contrast, &rng) : nil,
            saturation > 0 ? uniform(max(0, 1 - saturation), 1 + saturation, &rng) : nil,
            hue > 0 ? uniform(-hue, hue, &rng) : nil,
        ]
        var result = image
        for which in order {
            guard let factor = factors[which] else { continue }
            switch which {
            case 0: result = Self.adjustBrightness(result, factor: factor)
            case 1: result = Self.adjustContrast(result, factor: factor)
            case 2: result = Self.adjustSaturation(result, factor: factor)
            default: result = Self.adjustHue(result, shift: factor)
            }
        }
        return result
    }

    private func uniform(_ lower: Float, _ upper: Float, _ rng: inout SeededGenerator) -> Float {
        lower + (upper - lower) * rng.nextUniform()
    }

    /// `clamp(x · factor, 0, 1)` (torchvision `adjust_brightness`).
    public static func adjustBrightness(_ image: Image, factor: Float) -> Image {
        var result = image
        for i in result.pixels.indices { result.pixels[i] = clamp01(image.pixels[i] * factor) }
        return result
    }

    /// `clamp(factor · x + (1 − factor) · mean(gray), 0, 1)` (torchvision `adjust_contrast`).
    public static func adjustContrast(_ image: Image, factor: Float) -> Image {
        var sum: Double = 0
        if image.channels == 3 {
            for value in grayscale(image) { sum += Double(value) }
        } else {
            for value in image.pixels { sum += Double(value) }
        }
        let count = image.channels == 3 ? image.height * image.width : image.pixels.count
        let mean = Float(sum / Double(count))
        var result = image
        for i in result.pixels.indices {
            result.pixels[i] = clamp01(factor * image.pixels[i] + (1 - factor) * mean)
        }
        return result
    }

    /// `clamp(factor · x + (1 − factor) · gray(x), 0, 1)` per pixel (torchvision
    /// `adjust_saturation`); images without 3 channels are returned unchanged.
    public static func adjustSaturation(_ image: Image, factor: Float) -> Image {
        guard image.channels == 3 else { return image }
        let gray = grayscale(image)
        let plane = image.height * image.width
        var result = image
        for c in 0..<3 {
            for i in 0..<plane {
                result.pixels[c * plane + i] = clamp01(factor * image.pixels[c * plane + i] + (1 - factor) * gray[i])
            }
        }
        return result
    }

    /// Rotates the hue by `shift` turns (torchvision `adjust_hue`, `shift` in [−0.5, 0.5]);
    /// images without 3 channels are returned unchanged.
    public static func adjustHue(_ image: Image, shift: Float) -> Image {
        guard image.channels == 3 else { return image }
        let plane = image.height * image.width
        var result = image
        for i in 0..<plane {
            let (h, s, v) = rgbToHSV(image.pixels[i], image.pixels[plane + i], image.pixels[2 * plane + i])
            var shifted = (h + shift).truncatingRemainder(dividingBy: 1)
            if shifted < 0 { shifted += 1 }
            let (r, g, b) = hsvToRGB(shifted, s, v)
            result.pixels[i] = r
            result.pixels[plane + i] = g
            result.pixels[2 * plane + i] = b
        }
        return result
    }

    /// ITU-R 601 luma, `0.2989 R + 0.587 G + 0.114 B`, one value per pixel (H × W).
    static func grayscale(_ image: Image) -> [Float] {
        let plane = image.height * image.width
        return (0..<plane).map { i in
            0.2989 * image.pixels[i] + 0.587 * image.pixels[plane + i] + 0.114 * image.pixels[2 * plane + i]
        }
    }

    /// RGB in [0, 1] to (hue in [0, 1), saturation, value), as torchvision's `_rgb2hsv`.
    public static func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (h: Float, s: Float, v: Float) {
        let maxc = max(r, g, b)
        let minc = min(r, g, b)
        let equal = maxc == minc
        let chroma = maxc - minc
        let s = chroma / (equal ? 1 : maxc)
        let divisor = equal ? 1 : chroma
        let rc = (maxc - r) / divisor
        let gc = (maxc - g) / divisor
        let bc = (maxc - b) / divisor
        var h: Float
        if maxc == r {
            h = bc - gc
        } else if maxc == g {
            h = 2 + rc - bc
        } else {
            h = 4 + gc - rc
        }
        h = (h / 6 + 1).truncatingRemainder(dividingBy: 1)
        return (h, s, maxc)
    }

    /// (hue in [0, 1), saturation, value) to RGB, as torchvision's `_hsv2rgb`.
    public static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (r: Float, g: Float, b: Float) {
        let scaled = h * 6
        let sector = scaled.rounded(.down)
        let f = scaled - sector
        let p = clamp01(v * (1 - s))
        let q = clamp01(v * (1 - s * f))
        let t = clamp01(v * (1 - s * (1 - f)))
        var i = Int(sector) % 6
        if i < 0 { i += 6 }
        switch i {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}

@inline(__always)
private func clamp01(_ x: Float) -> Float { min(max(x, 0), 1) }
