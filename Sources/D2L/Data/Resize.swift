/// Resizes images (torchvision's `transforms.Resize` on PIL images: PIL's antialiased
/// bilinear `resize`, here on floats through `resizeAntialiased`).
///
/// `Resize(256)` scales the shorter side to 256 keeping the aspect ratio, with the longer
/// side truncated as torchvision computes it: `Int(256 · long / short)` (so a 17 × 23
/// image becomes 256 × 346). `Resize(height:width:)` resizes to exactly that size
/// (torchvision's `Resize([h, w])`). An image already of the output size is unchanged.
public struct Resize: ImageTransform {
    /// What the output size is made from.
    public enum Size: Sendable, Equatable {
        /// The shorter side becomes this; the longer keeps the aspect ratio (truncated).
        case shorterSide(Int)
        /// Exactly `height × width`.
        case exact(height: Int, width: Int)
    }

    /// The requested size.
    public let size: Size

    /// Scales the shorter side to `shorterSide` (torchvision's `Resize(int)`).
    /// - Throws: `ToolkitError(.invalidArgument)` when `shorterSide` is not positive.
    public init(_ shorterSide: Int) throws {
        guard shorterSide > 0 else {
            throw ToolkitError(.invalidArgument, "Resize: size must be positive, got \(shorterSide)")
        }
        size = .shorterSide(shorterSide)
    }

    /// Resizes to exactly `height × width` (torchvision's `Resize([h, w])`).
    /// - Throws: `ToolkitError(.invalidArgument)` when a size is not positive.
    public init(height: Int, width: Int) throws {
        guard height > 0, width > 0 else {
            throw ToolkitError(.invalidArgument, "Resize: size must be positive, got \(height)×\(width)")
        }
        size = .exact(height: height, width: width)
    }

    /// The output `(height, width)` for an image of `imageHeight × imageWidth`
    /// (torchvision's `_compute_resized_output_size` without `max_size`).
    public func outputSize(imageHeight: Int, imageWidth: Int) -> (height: Int, width: Int) {
        switch size {
        case let .exact(height, width):
            return (height, width)
        case let .shorterSide(short):
            let (shorter, longer) = imageWidth <= imageHeight ? (imageWidth, imageHeight) : (imageHeight, imageWidth)
            let long = Int(Double(short * longer) / Double(shorter))
            return imageWidth <= imageHeight ? (long, short) : (short, long)
        }
    }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        let (height, width) = outputSize(imageHeight: image.height, imageWidth: image.width)
        return image.resampled(height: height, width: width)
    }
}

/// Crops the centre of the image (torchvision's `transforms.CenterCrop`).
///
/// The crop starts at row `round((H − h) / 2)` and column `round((W − w) / 2)` (rounding
/// half to even, as Python's `round`). A crop larger than the image first pads it with 0
/// — `(h − H) / 2` rows above (integer division) and the rest below, likewise left and
/// right — as torchvision's `F.center_crop` does.
public struct CenterCrop: ImageTransform {
    /// The output rows.
    public let height: Int
    /// The output columns.
    public let width: Int

    /// A square `size × size` crop.
    /// - Throws: `ToolkitError(.invalidArgument)` when `size` is not positive.
    public init(_ size: Int) throws { try self.init(height: size, width: size) }

    /// A `height × width` crop.
    /// - Throws: `ToolkitError(.invalidArgument)` when a size is not positive.
    public init(height: Int, width: Int) throws {
        guard height > 0, width > 0 else {
            throw ToolkitError(.invalidArgument, "CenterCrop: size must be positive, got \(height)×\(width)")
        }
        self.height = height
        self.width = width
    }

    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) -> Image {
        var source = image
        if width > image.width || height > image.height {
            source = Self.padded(
                image, top: height > image.height ? (height - image.height) / 2 : 0,
                left: width > image.width ? (width - image.width) / 2 : 0,
                height: max(height, image.height), width: max(width, image.width))
            if source.height == height && source.width == width { return source }
        }
        let top = Int((Double(source.height - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(source.width - width) / 2).rounded(.toNearestOrEven))
        return source.cropped(top: top, left: left, height: height, width: width)
    }

    /// `image` placed at (`top`, `left`) in a zero `height × width` image.
    static func padded(_ image: Image, top: Int, left: Int, height: Int, width: Int) -> Image {
        var result = Image(
            unchecked: image.channels, height, width,
            [Float](repeating: 0, count: image.channels * height * width))
        for c in 0..<image.channels {
            for y in 0..<image.height {
                let from = (c * image.height + y) * image.width
                let to = (c * height + top + y) * width + left
                result.pixels.replaceSubrange(to..<(to + image.width), with: image.pixels[from..<(from + image.width)])
            }
        }
        return result
    }
}
