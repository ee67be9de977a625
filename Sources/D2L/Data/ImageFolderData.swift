import Foundation

/// An ``ImageFolder`` as ``ClassificationData``: each batch's files are decoded (in
/// `mode`), transformed by `pipeline` (augmentation, `ToTensor`, `Normalize`) and stacked
/// on `workers` threads, up to `prefetch` batches ahead of training (PyTorch's
/// `DataLoader(ImageFolder(root, transform), batch_size, shuffle, num_workers)`).
///
/// Every image must come out of the pipeline as `imageShape` (`[C, H, W]`), so a pipeline
/// for files of varied sizes ends in a fixed-size step (`Resize(height:width:)`,
/// `CenterCrop`, `RandomResizedCrop`). A file that cannot be decoded, or whose output has
/// another shape, is left out of its batch with one warning line naming it (passed to
/// `warn`, by default written to standard error; an undecodable file once over the
/// folder's life, a shape mismatch each time); a batch with no image left is skipped.
///
/// Random choices: image `i` of epoch `e` draws from its own generator, seeded from
/// (`seed`, `e`, `i`), so a run is the same whatever the number of workers.
///
/// Thread-safety: `batches` may be called from one thread at a time; the batches it
/// returns are made on the worker threads.
public final class ImageFolderData: ClassificationData, @unchecked Sendable {
    public let folder: ImageFolder
    public let pipeline: ImagePipeline
    public let mode: ImageDecoder.Mode
    public let imageShape: [Int]
    /// Loading threads (0: load on the training thread).
    public let workers: Int
    /// Batches made ahead of the one training waits for.
    public let prefetch: Int
    /// Receives each warning line (called on a worker thread, one call at a time).
    public let warn: @Sendable (String) -> Void
    private let warnLock = NSLock()

    /// The most loading threads.
    public static let maxWorkers = 64

    /// - Throws: `ToolkitError(.invalidArgument)` for an `imageShape` that is not three
    ///   positive sizes (or whose channels do not fit `mode`), workers outside
    ///   0…``maxWorkers`` or `prefetch` < 1.
    public init(folder: ImageFolder, pipeline: ImagePipeline, mode: ImageDecoder.Mode = .rgb, imageShape: [Int],
                workers: Int = 2, prefetch: Int = 2,
                warn: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        guard imageShape.count == 3, imageShape.allSatisfy({ $0 > 0 }) else {
            throw ToolkitError(.invalidArgument, "ImageFolderData: imageShape must be [C, H, W] with positive sizes, got \(imageShape)")
        }
        guard (mode == .gray) == (imageShape[0] == 1) || mode == .native else {
            throw ToolkitError(.invalidArgument,
                               "ImageFolderData: \(imageShape[0])-channel images cannot come from decoding in mode \(mode)")
        }
        if let normalize = pipeline.normalize, normalize.mean.count != imageShape[0] {
            throw ToolkitError(.invalidArgument, "ImageFolderData: the pipeline normalises \(normalize.mean.count) channels, "
                               + "the images have \(imageShape[0])")
        }
        guard (0...Self.maxWorkers).contains(workers) else {
            throw ToolkitError(.invalidArgument, "ImageFolderData: workers must be in 0...\(Self.maxWorkers), got \(workers)")
        }
        guard prefetch >= 1 else {
            throw ToolkitError(.invalidArgument, "ImageFolderData: prefetch must be ≥ 1, got \(prefetch)")
        }
        self.folder = folder
        self.pipeline = pipeline
        self.mode = mode
        self.imageShape = imageShape
        self.workers = workers
        self.prefetch = prefetch
        self.warn = warn
    }

    public var count: Int { folder.count }
    /// The class names (the folder's sub-folders, sorted).
    public var classes: [String] { folder.classes }

    public func batches(batchSize: Int, shuffle: Bool, seed: UInt64, epoch: Int) throws -> LabelledBatches {
        let sampler = try MinibatchSampler(count: count, batchSize: batchSize, shuffle: shuffle, seed: seed)
        let order = sampler.batches(epoch: epoch)
        return LabelledBatches(count: order.count) { [self] in
            let prefetcher = OrderedPrefetcher(count: order.count, workers: workers, prefetch: prefetch) { index in
                self.makeBatch(order[index], seed: seed, epoch: epoch)
            }
            return AnyIterator { prefetcher.next() }
        }
    }

    /// The batch of samples `indices`: decoded, transformed and stacked; nil when none loads.
    public func makeBatch(_ indices: [Int], seed: UInt64, epoch: Int) -> LabelledBatch? {
        // The indices come from the sampler, so loading throws only for unreadable files,
        // which skipping turns into warnings.
        guard let loaded = try? folder.loadImages(at: indices, mode: mode) else { return nil }
        report(loaded.warnings)
        let size = imageShape.reduce(1, *)
        var pixels = [Float](repeating: 0, count: loaded.images.count * size)
        var labels: [Int] = []
        var problems: [String] = []
        for (position, image) in loaded.images.enumerated() {
            let sample = loaded.indices[position]
            var rng = SeededGenerator(seed: Self.sampleSeed(seed, epoch: epoch, sample: sample))
            let out = pipeline.transforms(image, using: &rng)
            guard [out.channels, out.height, out.width] == imageShape else {
                problems.append("warning: skipping \(folder.samples[sample].path): the pipeline \(pipeline.name) gave "
                                + "\(out.channels)×\(out.height)×\(out.width), not \(imageShape.map(String.init).joined(separator: "×"))")
                continue
            }
            let base = labels.count * size
            let plane = out.height * out.width
            pixels.withUnsafeMutableBufferPointer { buffer in
                out.pixels.withUnsafeBufferPointer { source in
                    if let normalize = pipeline.normalize {
                        for c in 0..<out.channels {
                            let mean = normalize.mean[c], scale = 1 / normalize.std[c]
                            for i in 0..<plane { buffer[base + c * plane + i] = (source[c * plane + i] - mean) * scale }
                        }
                    } else {
                        for i in 0..<size { buffer[base + i] = source[i] }
                    }
                }
            }
            labels.append(loaded.labels[position])
        }
        report(problems)
        guard !labels.isEmpty else { return nil }
        pixels.removeLast(pixels.count - labels.count * size)
        return (Tensor(pixels, shape: [labels.count] + imageShape), labels)
    }

    /// The generator seed of sample `sample` in epoch `epoch`.
    static func sampleSeed(_ seed: UInt64, epoch: Int, sample: Int) -> UInt64 {
        seed &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: sample) &* 0xBF58_476D_1CE4_E5B9
    }

    private func report(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        warnLock.withLock { for line in lines { warn(line) } }
    }
}
