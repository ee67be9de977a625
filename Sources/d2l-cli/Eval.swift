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
            """)

    @Argument(help: "The model file (.onnx).") var model: String
    @Option(help: "Fashion-MNIST folder (default: $D2L_DATA_DIR, then /usr/share/datasets/fashion-mnist), or an image folder.") var data: String?
    @Option(name: .customLong("batch-size"), help: "Images per run.") var batchSize: Int = 256
    @Option(help: "Evaluate on the first N test images only (Fashion-MNIST).") var subset: Int?
    @Option(help: "Threads.") var threads: Int = 1
    @Flag(help: "Image folders: print each image's path, label and top-1 class (tab-separated) before the accuracy.")
    var list = false

    func run() throws {
        do {
            try TrainingOptionChecks.check("--batch-size", batchSize, in: 1...Int.max)
            try TrainingOptionChecks.check("--threads", threads, in: 1...TrainingOptionChecks.maxThreads)
            let runtime = try RuntimeModel(path: model, threads: threads)
            if let data, ImageFolder.isDirectory(data), !FashionMNIST.isFolder(data) {
                return try evalImageFolder(runtime, data)
            }
            var test = try FashionMNIST.load(train: false, directory: data)
            if let subset { test = try test.prefix(subset) }
            let accuracy = try runtime.accuracy(on: test, batchSize: batchSize)
            print(String(format: "test accuracy %.4f (%d images, libd2l)", accuracy, test.count))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }

    private func evalImageFolder(_ runtime: RuntimeModel, _ data: String) throws {
        let root = ImageFolderSplits.isSplitFolder(data) ? data + "/test" : data
        let folder = try ImageFolder(root: root)
        let (pipeline, mode, shape) = try runtime.imagePipeline()
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
        print(String(format: "test accuracy %.4f (%d images of %@, libd2l)", Double(correct) / Double(max(results.count, 1)),
                     results.count, root))
    }
}
