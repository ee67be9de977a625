/// A labelled set of images held as bytes, converted to floats one minibatch at a time.
///
/// `images` is `count × channels × height × width`, row-major (NCHW), one byte per value
/// (0–255); `labels[i]` is the class of image `i`.
public struct ImageDataset: Sendable, Equatable {
    /// `count × channels × height × width` bytes, row-major (NCHW), 0–255.
    public var images: [UInt8]
    /// One class index per image.
    public var labels: [Int]
    /// The number of images.
    public var count: Int
    /// Channels per image (1 for Fashion-MNIST).
    public var channels: Int
    /// Rows per image.
    public var height: Int
    /// Columns per image.
    public var width: Int

    /// Makes a data set after checking that the sizes agree.
    ///
    /// - Parameters:
    ///   - images: `labels.count × channels × height × width` bytes, NCHW.
    ///   - labels: one class index per image.
    ///   - channels: channels per image (1 for grayscale, 3 for RGB); positive.
    ///   - height: rows per image; positive.
    ///   - width: columns per image; positive.
    /// - Throws: `ToolkitError(.invalidArgument)` for a non-positive channel count or
    ///   size, `ToolkitError(.shape)` when `images.count` is not
    ///   `labels.count · channels · height · width`.
    public init(images: [UInt8], labels: [Int], channels: Int, height: Int, width: Int) throws {
        guard channels > 0, height > 0, width > 0 else {
            throw ToolkitError(
                .invalidArgument,
                "ImageDataset: channels, height and width must be positive, got \(channels)×\(height)×\(width)")
        }
        let expected = labels.count * channels * height * width
        guard images.count == expected else {
            throw ToolkitError(
                .shape,
                "ImageDataset: \(images.count) bytes do not make \(labels.count) images of \(channels)×\(height)×\(width) (\(expected) bytes)")
        }
        self.images = images
        self.labels = labels
        self.count = labels.count
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Converts some images to floats, like torchvision's `ToTensor()` followed, when
    /// `resize` is given, by `Resize` with bilinear interpolation (`F.interpolate`,
    /// `align_corners=False`, no antialiasing). Only the selected images are converted
    /// and resized.
    ///
    /// - Parameters:
    ///   - indices: the images to take, in order (repeats allowed).
    ///   - resize: the output `(height, width)`, or `nil` to keep the stored size.
    /// - Returns: `pixels`, `indices.count × channels × H × W` floats in [0, 1], row-major
    ///   (NCHW, with `H × W` the output size), and the matching `labels`.
    /// - Throws: `ToolkitError(.invalidArgument)` when an index is outside `0..<count` or
    ///   a resize size is not positive.
    public func batch(
        indices: some Collection<Int>, resize: (height: Int, width: Int)? = nil
    ) throws -> (pixels: [Float], labels: [Int]) {
        let imageSize = channels * height * width
        var pixels = [Float](repeating: 0, count: indices.count * imageSize)
        var batchLabels: [Int] = []
        batchLabels.reserveCapacity(indices.count)
        try pixels.withUnsafeMutableBufferPointer { target in
            try images.withUnsafeBufferPointer { source in
                for (position, index) in indices.enumerated() {
                    guard index >= 0 && index < count else {
                        throw ToolkitError(
                            .invalidArgument, "ImageDataset.batch: index \(index) is outside 0..<\(count)")
                    }
                    let from = index * imageSize
                    let to = position * imageSize
                    for offset in 0..<imageSize {
                        target[to + offset] = Float(source[from + offset]) * (1 / 255)
                    }
                    batchLabels.append(labels[index])
                }
            }
        }
        if let resize {
            pixels = try resizeBilinear(
                pixels, planes: indices.count * channels, height: height, width: width,
                outputHeight: resize.height, outputWidth: resize.width)
        }
        return (pixels, batchLabels)
    }

    /// One image as floats in [0, 1] (`ToTensor()`), for augmentation.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` when `index` is outside `0..<count`.
    public func image(at index: Int) throws -> Image {
        let pixels = try batch(indices: CollectionOfOne(index)).pixels
        return try Image(channels: channels, height: height, width: width, pixels: pixels)
    }
}
