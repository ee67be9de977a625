import Foundation

/// An image-classification set in the book's hot-dog layout (13.2.1):
///
/// ```
/// DIR/train/<class>/*.jpg|png     training images
/// DIR/test/<class>/*.jpg|png      test images, the same class folders
/// ```
///
/// with the pipelines `d2l-cli train` and `d2l-cli finetune` apply to it.
public struct ImageFolderSplits {
    public let root: String
    public let train: ImageFolder
    public let test: ImageFolder

    /// Whether `root` looks like this layout (it has a `train` folder).
    public static func isSplitFolder(_ root: String) -> Bool {
        ImageFolder.isDirectory(root + "/train")
    }

    /// Lists `root/train` and `root/test`.
    /// - Throws: ``ImageFolder``'s errors; `ToolkitError(.invalidData)` when the two do not
    ///   have the same class folders (naming the ones only one has).
    public init(root: String) throws {
        self.root = root
        guard ImageFolder.isDirectory(root + "/train"), ImageFolder.isDirectory(root + "/test") else {
            throw ToolkitError(.invalidData, "\(root): an image set needs the folders \(root)/train/<class>/ and \(root)/test/<class>/")
        }
        train = try ImageFolder(root: root + "/train")
        test = try ImageFolder(root: root + "/test")
        guard train.classes == test.classes else {
            let onlyTrain = train.classes.filter { !test.classes.contains($0) }
            let onlyTest = test.classes.filter { !train.classes.contains($0) }
            var parts: [String] = []
            if !onlyTrain.isEmpty { parts.append("only in train: " + onlyTrain.joined(separator: ", ")) }
            if !onlyTest.isEmpty { parts.append("only in test: " + onlyTest.joined(separator: ", ")) }
            throw ToolkitError(.invalidData, "\(root): train and test have different class folders (\(parts.joined(separator: "; ")))")
        }
    }

    /// The class names (the sub-folders, sorted).
    public var classes: [String] { train.classes }

    /// The training and test data of `train` for a model of `channels`×`size`×`size`
    /// inputs trained from scratch: train images `Resize([size, size])` then the book's
    /// augmentation `augment` (`none`, `flip`; `book` instead crops to the size itself:
    /// flip, ColorJitter, RandomResizedCrop), test images `Resize([size, size])`; no
    /// normalisation (inputs in [0, 1], as Fashion-MNIST's).
    /// - Throws: `ToolkitError(.invalidArgument)` for an unknown `augment` (listing the
    ///   known ones) or bad sizes.
    public func scratchData(augment: String, size: Int, channels: Int, workers: Int) throws
        -> (train: ImageFolderData, test: ImageFolderData) {
        let resize = try Resize(height: size, width: size)
        let augmentation = try ImagePipelines.scratchAugmentation(augment, size: size)
        // `book` ends in RandomResizedCrop(size), which makes the size; the others resize first.
        let transforms: [any ImageTransform] = (augment == "book" ? [] : [resize]) + (augmentation.map { [$0] } ?? [])
        let trainPipeline = ImagePipeline(name: augment, transforms: transforms)
        let testPipeline = ImagePipeline(name: "test", transforms: [resize])
        return try data(train: trainPipeline, test: testPipeline, size: size, channels: channels, workers: workers)
    }

    /// The book's fine-tuning data (13.2.1): train `RandomResizedCrop(size)` + flip, test
    /// `Resize([r, r])` + `CenterCrop(size)` with r = round(size · 256 / 224), then
    /// `normalize` (nil: none).
    public func fineTuningData(size: Int, channels: Int, normalize: Normalize?, workers: Int) throws
        -> (train: ImageFolderData, test: ImageFolderData) {
        let train = try ImagePipelines.named("finetune-train", size: size)
        let test = try ImagePipelines.named("finetune-test", size: size)
        return try data(train: ImagePipeline(name: train.name, transforms: train.transforms.transforms, normalize: normalize),
                        test: ImagePipeline(name: test.name, transforms: test.transforms.transforms, normalize: normalize),
                        size: size, channels: channels, workers: workers)
    }

    private func data(train trainPipeline: ImagePipeline, test testPipeline: ImagePipeline, size: Int, channels: Int,
                      workers: Int) throws -> (train: ImageFolderData, test: ImageFolderData) {
        guard channels == 1 || channels == 3 else {
            throw ToolkitError(.invalidArgument, "image folders give 1- or 3-channel images, not \(channels)")
        }
        if let normalize = trainPipeline.normalize, normalize.mean.count != channels {
            throw ToolkitError(.invalidArgument, "the normalisation has \(normalize.mean.count) channels, the model \(channels)")
        }
        let mode: ImageDecoder.Mode = channels == 1 ? .gray : .rgb
        return (try ImageFolderData(folder: train, pipeline: trainPipeline, mode: mode, imageShape: [channels, size, size],
                                    workers: workers),
                try ImageFolderData(folder: test, pipeline: testPipeline, mode: mode, imageShape: [channels, size, size],
                                    workers: workers))
    }
}
