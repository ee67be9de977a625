import ArgumentParser
import D2L
import Foundation

/// `d2l-cli augment IMAGE --out GRID.png [--augment book]`: the book's `apply(img, aug)`
/// figure (13.1): the image and eight augmented copies in a 3 × 3 grid, as PNG.
struct Augment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the book's apply() figure: an image (PNG or JPEG) and 8 augmented copies in a grid (PNG).",
        discussion: """
            Pipelines: none, flip (RandomHorizontalFlip), book (13.1: RandomHorizontalFlip, \
            ColorJitter(0.5, 0.5, 0.5, 0.5), RandomResizedCrop(SIZE, scale (0.1, 1), ratio (0.5, 2))), \
            finetune-train (13.2: RandomResizedCrop(SIZE), RandomHorizontalFlip), finetune-test \
            (Resize, CenterCrop(SIZE)); the normalisation of the fine-tuning pipelines is not drawn. \
            The first cell is the image itself, resized to the copies' size when they differ.
            """)

    @Argument(help: "The image (PNG or JPEG).") var image: String
    @Option(help: "The grid to write (PNG).") var out: String
    @Option(help: "The pipeline: \(ImagePipelines.names.joined(separator: ", ")).") var augment = "book"
    @Option(help: "The output size of the cropping pipelines (book, finetune-*).") var size = 200
    @Option(help: "Seed of the random augmentations.") var seed: UInt64 = 0

    func run() throws {
        do {
            let pipeline = try ImagePipelines.named(augment, size: size)
            let original = try ImageDecoder.decode(path: image)
            var rng = SeededGenerator(seed: seed)
            let copies = (0..<8).map { _ in pipeline.transforms(original, using: &rng) }
            let first = copies[0]
            let shown = first.height == original.height && first.width == original.width
                ? original : try Resize(height: first.height, width: first.width)(original)
            try PNGWriter.write(try ImageGrid.tile([shown] + copies, columns: 3), to: out)
            print("\(out): \(image) and 8 copies through \(augment) (\(first.width)×\(first.height) each)")
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
