/// Turns images into tensors (torchvision's `transforms.ToTensor`, after the image is
/// already floats in [0, 1]: an `Image`'s CHW pixels become a `Tensor` as they are).
public struct ToTensor: Sendable {
    public init() {}

    /// One image as a `[C, H, W]` tensor.
    public func callAsFunction(_ image: Image) -> Tensor {
        Tensor(image.pixels, shape: [image.channels, image.height, image.width])
    }

    /// Images of one size stacked into an `[N, C, H, W]` tensor (the default collate of a
    /// `DataLoader`).
    /// - Throws: `ToolkitError(.invalidArgument)` for no images and `ToolkitError(.shape)`
    ///   when the images differ in channels or size (naming the first that differs).
    public func batch(_ images: [Image]) throws -> Tensor {
        guard let first = images.first else {
            throw ToolkitError(.invalidArgument, "ToTensor.batch: no images")
        }
        var values = [Float]()
        values.reserveCapacity(images.count * first.pixels.count)
        for (index, image) in images.enumerated() {
            guard image.channels == first.channels, image.height == first.height, image.width == first.width else {
                throw ToolkitError(
                    .shape,
                    "ToTensor.batch: image \(index) is \(image.channels)×\(image.height)×\(image.width), image 0 is \(first.channels)×\(first.height)×\(first.width)")
            }
            values += image.pixels
        }
        return Tensor(values, shape: [images.count, first.channels, first.height, first.width])
    }
}

/// Standardises each channel, `(x − mean[c]) / std[c]` (torchvision's
/// `transforms.Normalize`, applied after `ToTensor`).
public struct Normalize: Sendable {
    /// One mean per channel.
    public let mean: [Float]
    /// One standard deviation per channel, all > 0.
    public let std: [Float]

    /// - Throws: `ToolkitError(.invalidArgument)` when `mean` is empty, the counts differ,
    ///   a value is not finite, or a standard deviation is not positive.
    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, mean.count == std.count else {
            throw ToolkitError(
                .invalidArgument,
                "Normalize: mean and std need one value per channel, got \(mean.count) and \(std.count)")
        }
        guard mean.allSatisfy(\.isFinite) else {
            throw ToolkitError(.invalidArgument, "Normalize: mean must be finite, got \(mean)")
        }
        guard std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ToolkitError(.invalidArgument, "Normalize: std must be positive, got \(std)")
        }
        self.mean = mean
        self.std = std
    }

    /// The normalised tensor, `[C, H, W]` or `[N, C, H, W]` with `C == mean.count`.
    /// - Throws: `ToolkitError(.shape)` for another rank or channel count.
    public func callAsFunction(_ tensor: Tensor) throws -> Tensor {
        let shape = tensor.shape
        guard shape.count == 3 || shape.count == 4, shape[shape.count - 3] == mean.count else {
            throw ToolkitError(
                .shape,
                "Normalize: expected [C, H, W] or [N, C, H, W] with C = \(mean.count), got \(shape)")
        }
        let plane = shape[shape.count - 2] * shape[shape.count - 1]
        var values = tensor.scalars
        for i in values.indices {
            let c = (i / plane) % mean.count
            values[i] = (values[i] - mean[c]) / std[c]
        }
        return Tensor(values, shape: shape)
    }
}
