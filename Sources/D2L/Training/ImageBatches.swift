/// Minibatches of an image dataset as tensors (the book's `DataLoader` over
/// `load_data_fashion_mnist`): images `[batch, channels, height, width]` in [0, 1],
/// resized per batch when `resize` is set, with their labels.
public struct ImageBatches: Sequence {
    public let dataset: ImageDataset
    public let sampler: MinibatchSampler
    public let resize: (height: Int, width: Int)?
    /// Applied to each image after resizing (training augmentation), or nil.
    public let augmentation: (any ImageTransform)?
    public let epoch: Int

    /// Batches of `batchSize` examples (the last may be smaller), shuffled with a
    /// generator derived from `seed` and `epoch` when `shuffle`.
    public init(_ dataset: ImageDataset, batchSize: Int, shuffle: Bool, seed: UInt64 = 0, epoch: Int = 0,
                resize: (height: Int, width: Int)? = nil, augmentation: (any ImageTransform)? = nil) throws {
        self.dataset = dataset
        self.sampler = try MinibatchSampler(count: dataset.count, batchSize: batchSize, shuffle: shuffle, seed: seed)
        self.resize = resize
        self.augmentation = augmentation
        self.epoch = epoch
    }

    /// The number of batches.
    public var count: Int { sampler.batchCount }

    public func makeIterator() -> AnyIterator<(images: Tensor, labels: [Int])> {
        let batches = sampler.batches(epoch: epoch)
        var index = 0
        var generator = SeededGenerator(seed: sampler.seed ?? 0 &+ UInt64(epoch) &* 0x9E37)
        return AnyIterator {
            guard index < batches.count else { return nil }
            defer { index += 1 }
            let indices = batches[index]
            // The indices come from the sampler, so they are in range.
            guard let batch = try? dataset.batch(indices: indices, resize: resize) else { return nil }
            let height = resize?.height ?? dataset.height, width = resize?.width ?? dataset.width
            var pixels = batch.pixels
            if let augmentation {
                let size = dataset.channels * height * width
                for i in 0..<indices.count {
                    let slice = Array(pixels[i * size ..< (i + 1) * size])
                    if let image = try? Image(channels: dataset.channels, height: height, width: width, pixels: slice) {
                        let out = augmentation(image, using: &generator)
                        if out.pixels.count == size { pixels.replaceSubrange(i * size ..< (i + 1) * size, with: out.pixels) }
                    }
                }
            }
            let images = Tensor(pixels, shape: [indices.count, dataset.channels, height, width])
            return (images, batch.labels)
        }
    }
}

extension ImageDataset {
    /// The first `count` examples (or all, when fewer), e.g. a subset for quick runs.
    public func prefix(_ count: Int) throws -> ImageDataset {
        let n = Swift.min(count, self.count)
        let size = channels * height * width
        return try ImageDataset(images: Array(images[0..<(n * size)]), labels: Array(labels[0..<n]),
                                channels: channels, height: height, width: width)
    }
}
