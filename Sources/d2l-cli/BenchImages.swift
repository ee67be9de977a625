import ArgumentParser
import D2L
import Foundation

/// `d2l-cli bench-images`: the toolkit side of tools/bench/images.
struct BenchImages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-images",
        abstract: "Measure image loading + augmentation throughput on a folder (decode, RandomResizedCrop, flip, normalise).",
        discussion: "Prints: bench-images: N images in S s, R images/s (W workers, batch B)")

    @Argument(help: "An image folder (DIR/<class>/*.jpg|png).") var folder: String
    @Option(name: .customLong("batch-size"), parsing: .unconditional) var batchSize: Int = 32
    @Option(parsing: .unconditional, help: "Loading threads (0: the main thread).") var workers: Int = 2
    @Option(parsing: .unconditional, help: "Output height and width.") var size: Int = 224
    @Option(parsing: .unconditional, help: "Epochs (passes over the folder) to time.") var epochs: Int = 1
    @Option(parsing: .unconditional) var seed: UInt64 = 0

    func run() throws {
        do {
            try TrainingOptionChecks.check("--batch-size", batchSize, in: 1...Int.max)
            try TrainingOptionChecks.check("--workers", workers, in: 0...ImageFolderData.maxWorkers)
            try TrainingOptionChecks.check("--size", size, in: 1...TrainingOptionChecks.maxImageSize)
            try TrainingOptionChecks.check("--epochs", epochs, in: 1...Int.max)
            let images = try ImageFolder(root: folder)
            let data = try ImageFolderData(folder: images, pipeline: ImagePipelines.named("finetune-train", size: size),
                                           imageShape: [3, size, size], workers: workers)
            let start = DispatchTime.now().uptimeNanoseconds
            var count = 0
            var checksum: Float = 0
            for epoch in 1...epochs {
                for (batch, labels) in try data.batches(batchSize: batchSize, shuffle: true, seed: seed, epoch: epoch) {
                    count += labels.count
                    checksum += batch.withUnsafeValues { $0.first ?? 0 }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print(String(format: "bench-images: %@ in %.2f s, %.1f images/s (%@, batch %d)",
                         counted(count, "image"), seconds, Double(count) / max(seconds, 1e-9), counted(workers, "worker"), batchSize))
            _ = checksum
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
