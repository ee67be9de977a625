import ArgumentParser
import D2L
import D2LRuntime
import Foundation

/// `d2l-cli bench-train`: the toolkit side of tools/bench/train (one JSON line).
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train",
        abstract: "Measure training examples/second of a model on Fashion-MNIST batches in memory (prints JSON).")

    @Argument(help: "The model (lenet, mlp, …).") var model: String
    @Option(name: .customLong("batch-size")) var batchSize: Int = 256
    @Option(help: "Timed steps.") var steps: Int = 20
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 3
    @Option(help: "Kernel threads.") var threads: Int = 1
    @Option(help: "Fashion-MNIST folder.") var data: String?

    func run() throws {
        do {
            let recipe = try TrainingRecipe.book(model)
            Random.seed(0)
            let net = try recipe.makeModel()
            let train = try FashionMNIST.load(train: true, directory: data).prefix(batchSize * 8)
            let all = try train.batch(indices: 0..<train.count, resize: recipe.resize)
            let size = recipe.resize ?? (train.height, train.width)
            let images = Tensor(all.pixels, shape: [train.count, train.channels, size.0, size.1])
            let result = try TrainingBenchmark.run(model: net, images: images, labels: all.labels, batchSize: batchSize,
                                                   steps: steps, warmup: warmup, learningRate: recipe.learningRate,
                                                   threads: threads)
            print(String(format: "{\"model\": \"%@\", \"batch_size\": %d, \"threads\": %d, \"steps\": %d, \"examples_per_sec\": %.1f, \"median_step_ms\": %.3f, \"kernel_isa\": \"%@\"}",
                         model, batchSize, threads, steps, result.examplesPerSecond, result.medianStepSeconds * 1000, kernelISA))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
