/// One image as floats, channels first: `pixels` is `channels × height × width`,
/// row-major (CHW), normally in [0, 1] (the output of `ToTensor()`).
public struct Image: Sendable, Equatable {
    /// The number of channels (1 for grayscale, 3 for RGB in R, G, B order).
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int
    /// `channels × height × width` floats, row-major (CHW).
    public var pixels: [Float]

    /// Makes an image after checking the sizes.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for a non-positive size and
    ///   `ToolkitError(.shape)` when `pixels.count != channels · height · width`.
    public init(channels: Int, height: Int, width: Int, pixels: [Float]) throws {
        guard channels > 0, height > 0, width > 0 else {
            throw ToolkitError(
                .invalidArgument, "Image: sizes must be positive, got \(channels)×\(height)×\(width)")
        }
        guard pixels.count == channels * height * width else {
            throw ToolkitError(
                .shape, "Image: \(pixels.count) values do not make \(channels)×\(height)×\(width)")
        }
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// Sizes already checked by the caller.
    init(unchecked channels: Int, _ height: Int, _ width: Int, _ pixels: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// The value at channel `c`, row `y`, column `x`.
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// The rectangle of rows `top..<top+height` and columns `left..<left+width`, all channels.
    /// The caller keeps the rectangle inside the image.
    func cropped(top: Int, left: Int, height cropHeight: Int, width cropWidth: Int) -> Image {
        var result = [Float]()
        result.reserveCapacity(channels * cropHeight * cropWidth)
        for c in 0..<channels {
            for y in top..<(top + cropHeight) {
                let start = (c * height + y) * width + left
                result += pixels[start..<(start + cropWidth)]
            }
        }
        return Image(unchecked: channels, cropHeight, cropWidth, result)
    }
}
