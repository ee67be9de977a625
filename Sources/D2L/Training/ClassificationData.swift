/// One minibatch of a classifier's data: images `[B, C, H, W]` (float32) and their class
/// indices (`labels.count == B`).
public typealias LabelledBatch = (images: Tensor, labels: [Int])

/// The minibatches of one epoch, in order, with how many there are (for progress bars).
/// Iterating twice makes the batches twice (the same ones for the same arguments).
public struct LabelledBatches: Sequence {
    /// The number of batches iteration yields at most (a batch whose images all fail to
    /// load is left out, so there may be fewer).
    public let count: Int
    private let make: () -> AnyIterator<LabelledBatch>

    public init(count: Int, _ make: @escaping () -> AnyIterator<LabelledBatch>) {
        self.count = count
        self.make = make
    }

    public func makeIterator() -> AnyIterator<LabelledBatch> { make() }
}

/// Labelled images that a classifier trains or is evaluated on, as minibatches (the book's
/// `DataLoader`): ``InMemoryImageData`` (Fashion-MNIST in memory) and ``ImageFolderData``
/// (JPEG and PNG files decoded and transformed on worker threads).
public protocol ClassificationData {
    /// Examples per epoch.
    var count: Int { get }
    /// `[C, H, W]` of every image in a batch.
    var imageShape: [Int] { get }
    /// One epoch's batches of `batchSize` examples (the last may be smaller), shuffled
    /// when `shuffle` in an order that depends on `seed` and `epoch` only; random
    /// augmentation draws from generators derived from the same.
    /// - Throws: `ToolkitError(.invalidArgument)` for a batch size below 1.
    func batches(batchSize: Int, shuffle: Bool, seed: UInt64, epoch: Int) throws -> LabelledBatches
}

/// An ``ImageDataset`` in memory (Fashion-MNIST) as ``ClassificationData``: batches of
/// ``ImageBatches``, resized to `resize` per batch and then augmented when given.
public struct InMemoryImageData: ClassificationData {
    public let dataset: ImageDataset
    public let resize: (height: Int, width: Int)?
    public let augmentation: (any ImageTransform)?

    public init(_ dataset: ImageDataset, resize: (height: Int, width: Int)? = nil,
                augmentation: (any ImageTransform)? = nil) {
        self.dataset = dataset
        self.resize = resize
        self.augmentation = augmentation
    }

    public var count: Int { dataset.count }
    public var imageShape: [Int] {
        [dataset.channels, resize?.height ?? dataset.height, resize?.width ?? dataset.width]
    }

    public func batches(batchSize: Int, shuffle: Bool, seed: UInt64, epoch: Int) throws -> LabelledBatches {
        let batches = try ImageBatches(dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, epoch: epoch,
                                       resize: resize, augmentation: augmentation)
        return LabelledBatches(count: batches.count) { batches.makeIterator() }
    }
}
