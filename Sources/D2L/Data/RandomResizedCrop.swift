import Foundation

/// Crops a random part of the image and resizes it to a fixed size (torchvision's
/// `RandomResizedCrop` on PIL images: `F.resized_crop` with PIL's antialiased bilinear
/// resize, here `resizeAntialiased` on floats).
///
/// The crop is chosen as torchvision's `get_params` does: up to 10 attempts, each
/// drawing an area fraction uniformly from `scale` and a log-uniform aspect ratio
/// (width / height) from `ratio`, `w = round(√(area·ratio))`, `h = round(√(area/ratio))`
/// (round half to even), accepted when `0 < w ≤ width` and `0 < h ≤ height`, placed
/// uniformly; otherwise a centre crop of the whole image clamped to `ratio`. The crop
/// is then resized to `height × width` with `resizeAntialiased`. The random draws come
/// from the toolkit's generator, so they differ from PyTorch's; the rectangle rule and
/// the resize of a given rectangle are torchvision's.
public struct RandomResizedCrop: ImageTransform {
    /// The output rows.
    public let height: Int
    /// The output columns.
    public let width: Int
    /// The range of the crop's area as a fraction of the image's.
    public let scale: (lower: Double, upper: Double)
    /// The range of the crop's aspect ratio, width / height.
    public let ratio: (lower: Double, upper: Double)

    /// - Throws: `ToolkitError(.invalidArgument)` for a non-positive output size, or a
    ///   `scale` or `ratio` range that is empty or not positive.
    public init(
        height: Int, width: Int,
        scale: (Double, Double) = (0.08, 1.0), ratio: (Double, Double) = (3.0 / 4.0, 4.0 / 3.0)
    ) throws {
        guard height > 0, width > 0 else {
            throw ToolkitError(.invalidArgument, "RandomResizedCrop: size must be positive, got \(height)×\(width)")
        }
        guard scale.0 > 0, scale.0 <= scale.1 else {
            throw ToolkitError(.invalidArgument, "RandomResizedCrop: scale must satisfy 0 < lower ≤ upper, got \(scale)")
        }
        guard ratio.0 > 0, ratio.0 <= ratio.1 else {
            throw ToolkitError(.invalidArgument, "RandomResizedCrop: ratio must satisfy 0 < lower ≤ upper, got \(ratio)")
        }
        self.height = height
        self.width = width
        self.scale = scale
        self.ratio = ratio
    }

    /// Draws the crop rectangle for an image of `imageHeight × imageWidth`.
    public func cropRectangle(
        imageHeight: Int, imageWidth: Int, using rng: inout SeededGenerator
    ) -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Double(imageHeight * imageWidth)
        let logRatio = (Foundation.log(ratio.lower), Foundation.log(ratio.upper))
        for _ in 0..<10 {
            let targetArea = area * uniform(scale.lower, scale.upper, &rng)
            let aspect = Foundation.exp(uniform(logRatio.0, logRatio.1, &rng))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= imageWidth && h > 0 && h <= imageHeight {
                let top = Int(rng.next() % UInt64(imageHeight - h + 1))
                let left = Int(rng.next() % UInt64(imageWidth - w + 1))
                return (top, left, h, w)
            }
        }
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var (w, h) = (imageWidth, imageHeight)
        if inRatio < ratio.lower {
            h = max(1, min(imageHeight, Int((Double(w) / ratio.lower).rounded(.toNearestOrEven))))
        } else if inRatio > ratio.upper {
            w = max(1, min(imageWidth, Int((Double(h) * ratio.upper).rounded(.toNearestOrEven))))
        }
        return ((imageHeight - h) / 2, (imageWidth - w) / 2, h, w)
    }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        let box = cropRectangle(imageHeight: image.height, imageWidth: image.width, using: &rng)
        return image.cropped(top: box.top, left: box.left, height: box.height, width: box.width)
            .resampled(height: height, width: width)
    }

    private func uniform(_ lower: Double, _ upper: Double, _ rng: inout SeededGenerator) -> Double {
        lower + (upper - lower) * Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
