/// The ImageNet statistics torchvision's pretrained models expect (the book's 13.2
/// `normalize`): per-channel mean and standard deviation of R, G, B in [0, 1].
public enum ImageNetStatistics {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]
    /// `Normalize(mean: mean, std: std)`.
    public static var normalize: Normalize {
        // The constants are valid, so this cannot throw.
        try! Normalize(mean: mean, std: std)
    }
}

/// An image pipeline as the book writes it with `torchvision.transforms.Compose`: image
/// transforms, then `ToTensor`, then an optional `Normalize`.
public struct ImagePipeline {
    /// The pipeline's name (one of `ImagePipelines.names`, or the caller's).
    public let name: String
    /// The transforms on images, applied in order.
    public let transforms: Compose
    /// Applied to the `[C, H, W]` tensor, or nil.
    public let normalize: Normalize?

    public init(name: String, transforms: [any ImageTransform], normalize: Normalize? = nil) {
        self.name = name
        self.transforms = Compose(transforms)
        self.normalize = normalize
    }

    /// The image transformed (drawing random choices from `rng`), as a `[C, H, W]` tensor.
    /// - Throws: `ToolkitError(.shape)` when `normalize` has another channel count.
    public func callAsFunction(_ image: Image, using rng: inout SeededGenerator) throws -> Tensor {
        let tensor = ToTensor()(transforms(image, using: &rng))
        return try normalize.map { try $0(tensor) } ?? tensor
    }
}

/// The book's named pipelines (chapter 13.1–13.2), for an output of `size × size`:
/// - `none`: `ToTensor()` (13.1.2's `test_augs`); the image keeps its size.
/// - `flip`: `RandomHorizontalFlip()`, `ToTensor()` (13.1.2's `train_augs`).
/// - `book`: 13.1's combined augmentation — `RandomHorizontalFlip()`,
///   `ColorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5)`,
///   `RandomResizedCrop(size, scale: (0.1, 1), ratio: (0.5, 2))`, `ToTensor()`.
/// - `finetune-train`: 13.2's `train_augs` — `RandomResizedCrop(size)` (default scale
///   and ratio), `RandomHorizontalFlip()`, `ToTensor()`, ImageNet `Normalize`.
/// - `finetune-test`: 13.2's `test_augs` — `Resize([256, 256])`, `CenterCrop(224)`,
///   `ToTensor()`, ImageNet `Normalize`; for another `size` the resize is
///   `round(size · 256 / 224)` square (256 for 224).
public enum ImagePipelines {
    /// The names `named(_:size:)` accepts.
    public static let names = ["none", "flip", "book", "finetune-train", "finetune-test"]

    /// The pipeline called `name` for `size × size` outputs.
    /// - Throws: `ToolkitError(.invalidArgument)` for an unknown name (listing the known
    ///   ones) or a non-positive size.
    public static func named(_ name: String, size: Int = 224) throws -> ImagePipeline {
        guard size > 0 else {
            throw ToolkitError(.invalidArgument, "ImagePipelines: size must be positive, got \(size)")
        }
        switch name {
        case "none":
            return ImagePipeline(name: name, transforms: [])
        case "flip":
            return ImagePipeline(name: name, transforms: [try RandomHorizontalFlip()])
        case "book":
            return ImagePipeline(name: name, transforms: [
                try RandomHorizontalFlip(),
                try ColorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5),
                try RandomResizedCrop(height: size, width: size, scale: (0.1, 1), ratio: (0.5, 2)),
            ])
        case "finetune-train":
            return ImagePipeline(
                name: name,
                transforms: [try RandomResizedCrop(height: size, width: size), try RandomHorizontalFlip()],
                normalize: ImageNetStatistics.normalize)
        case "finetune-test":
            let resize = Int((Double(size) * 256 / 224).rounded())
            return ImagePipeline(
                name: name,
                transforms: [try Resize(height: resize, width: resize), try CenterCrop(size)],
                normalize: ImageNetStatistics.normalize)
        default:
            throw ToolkitError(
                .invalidArgument,
                "ImagePipelines: unknown pipeline \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
    }
}

extension ImagePipelines {
    /// `d2l-cli train`'s `--augment` names: the pipelines that train from scratch on
    /// `[0, 1]` inputs.
    public static let scratchNames = ["none", "flip", "book"]

    /// The transforms of the `--augment` pipeline `name` for images already `size × size`
    /// (nil for `none`): `flip` and `book` as in ``named(_:size:)``.
    /// - Throws: `ToolkitError(.invalidArgument)` for a name not in ``scratchNames``.
    public static func scratchAugmentation(_ name: String, size: Int) throws -> (any ImageTransform)? {
        guard scratchNames.contains(name) else {
            throw ToolkitError(.invalidArgument, "unknown augmentation '\(name)'; choose one of: " + scratchNames.joined(separator: ", "))
        }
        return name == "none" ? nil : try named(name, size: size).transforms
    }
}
