import ArgumentParser
import D2L
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report an ONNX classifier's Fashion-MNIST test accuracy, run through libd2l.")

    @Argument(help: "The model file (.onnx).") var model: String
    @Option(help: "Fashion-MNIST folder (default: $D2L_DATA_DIR, then /usr/share/datasets/fashion-mnist).") var data: String?
    @Option(name: .customLong("batch-size"), help: "Images per run.") var batchSize: Int = 256
    @Option(help: "Evaluate on the first N test images only.") var subset: Int?
    @Option(help: "Threads.") var threads: Int = 1

    func run() throws {
        do {
            let runtime = try RuntimeModel(path: model, threads: threads)
            var test = try FashionMNIST.load(train: false, directory: data)
            if let subset { test = try test.prefix(subset) }
            let accuracy = try runtime.accuracy(on: test, batchSize: batchSize)
            print(String(format: "test accuracy %.4f (%d images, libd2l)", accuracy, test.count))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
