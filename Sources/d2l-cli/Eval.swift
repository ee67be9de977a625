import ArgumentParser
import D2L
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report an ONNX classifier's test accuracy on Fashion-MNIST or an image folder, run through libd2l.",
        discussion: """
            --data DIR with class folders (DIR/<class>/*.jpg|png, or DIR/test/<class>/… of the hot-dog layout) \
            evaluates on those images as classify.c and Python's Model.classify prepare them: grayscale (PIL's L) \
            for a 1-channel model, resized to the model's d2l.input size (PIL bilinear), normalised with its mean \
            and std. Labels are matched by the class folders' order.

            Fashion-MNIST's 28×28 images are resized (bilinear) to the model's input size: d2l.input's \
            "size", else the fixed height and width of its input (--resize auto, the default), so a model \
            trained at 32×32 evaluates as it is. --resize N or HxW resizes to that size instead; --resize none \
            feeds the images as they are, and a model of another size is refused.
            """)

    @Argument(help: "The model file (.onnx).") var model: String
    @Option(help: "Fashion-MNIST folder (default: $D2L_DATA_DIR, then /usr/share/datasets/fashion-mnist), or an image folder.") var data: String?
    @Option(name: .customLong("batch-size"), help: "Images per run.") var batchSize: Int = 256
    @Option(help: "Evaluate on the first N test images only (Fashion-MNIST).") var subset: Int?
    @Option(help: "Threads.") var threads: Int = 1
    @Option(help: "Resize the images to: auto (the model's input size), none (as they are), N or HxW.")
    var resize: String = "auto"
    @Flag(help: "Image folders: print each image's path, label and top-1 class (tab-separated) before the accuracy.")
    var list = false

    func run() throws {
        do {
            try TrainingOptionChecks.check("--batch-size", batchSize, in: 1...Int.max)
            try TrainingOptionChecks.check("--threads", threads, in: 1...TrainingOptionChecks.maxThreads)
            let requested = try Self.parseResize(resize)
            let runtime = try RuntimeModel(path: model, threads: threads)
            if let data, ImageFolder.isDirectory(data), !FashionMNIST.isFolder(data) {
                return try evalImageFolder(runtime, data, size: try requested.map {
                    guard let size = $0 else {
                        throw ToolkitError(.invalidArgument, "--resize none: the images of a folder are always resized (to the model's input size, or --resize N)")
                    }
                    return size
                })
            }
            var test = try FashionMNIST.load(train: false, directory: data)
            if let subset { test = try test.prefix(subset) }
            let size = requested ?? runtime.imageSize
            let accuracy = try runtime.accuracy(on: test, batchSize: batchSize, resize: size)
            let resized = size.flatMap { $0 == (test.height, test.width) ? nil : ", resized to \($0.height)×\($0.width)" } ?? ""
            print(String(format: "test accuracy %.4f (%@%@, libd2l)", accuracy, counted(test.count, "image"), resized))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }

    /// `--resize`: nil for auto (the model's size), `.some(nil)` for none, else the size.
    static func parseResize(_ text: String) throws -> (height: Int, width: Int)?? {
        switch text.lowercased() {
        case "auto": return nil
        case "none": return .some(nil)
        default:
            let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "X" || $0 == "×" })
            let numbers = parts.compactMap { Int($0) }
            guard numbers.count == parts.count, (1...2).contains(numbers.count),
                  numbers.allSatisfy({ (1...TrainingOptionChecks.maxImageSize).contains($0) }) else {
                throw ToolkitError(.invalidArgument, "--resize \(text): expected auto, none, N or HxW with sizes in 1…\(TrainingOptionChecks.maxImageSize)")
            }
            return .some((numbers[0], numbers[numbers.count - 1]))
        }
    }

    /// `size`: the images' size (nil: the model's).
    private func evalImageFolder(_ runtime: RuntimeModel, _ data: String, size: (height: Int, width: Int)?) throws {
        let root = ImageFolderSplits.isSplitFolder(data) ? data + "/test" : data
        let folder = try ImageFolder(root: root)
        let (pipeline, mode, shape) = try runtime.imagePipeline(size: size)
        let images = try ImageFolderData(folder: folder, pipeline: pipeline, mode: mode, imageShape: shape, workers: 0)
        let results = try runtime.predictions(on: images, batchSize: batchSize)
        let labels = runtime.labels
        if list {
            // Unreadable files were left out (with a warning), so match results to samples by
            // the readable ones in order.
            let unreadable = Set(folder.unreadablePaths)
            let readable = folder.samples.filter { !unreadable.contains($0.path) }
            for (sample, result) in zip(readable, results) {
                let name = labels.flatMap { result.predicted < $0.count ? $0[result.predicted] : nil } ?? String(result.predicted)
                print("\(sample.path)\t\(folder.classes[sample.label])\t\(name)")
            }
        }
        let correct = results.filter { $0.label == $0.predicted }.count
        print(String(format: "test accuracy %.4f (%@ of %@, libd2l)", Double(correct) / Double(max(results.count, 1)),
                     counted(results.count, "image"), root))
    }
}
