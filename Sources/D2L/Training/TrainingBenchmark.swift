import Foundation

/// Training throughput of one model: SGD steps (forward, cross-entropy, backward,
/// update) on minibatches already in memory, so that only the computation is timed
/// (the same protocol `tools/bench/train` uses for PyTorch).
public struct TrainingBenchmark {
    /// Examples per second over the timed steps.
    public var examplesPerSecond: Double
    /// Seconds per step (median over the timed steps).
    public var medianStepSeconds: Double
    public var batchSize: Int
    public var steps: Int
    public var threads: Int

    /// Runs `warmup` untimed steps, then `steps` timed ones, on consecutive batches of
    /// `images` `[N, C, H, W]` (wrapping around).
    public static func run(model: Module, images: Tensor, labels: [Int], batchSize: Int, steps: Int,
                           warmup: Int = 2, learningRate: Float = 0.1, threads: Int = 1) throws -> TrainingBenchmark {
        guard batchSize > 0, steps > 0, images.shape.first ?? 0 >= batchSize, labels.count == images.shape[0] else {
            throw ToolkitError(.invalidArgument, "TrainingBenchmark: need at least one batch of \(batchSize) images with labels")
        }
        ComputeThreads.set(threads)
        MemoryTuning.keepFreedMemory()
        model.train()
        let optimizer = SGD(model.parameters(), learningRate: learningRate)
        let batches = images.shape[0] / batchSize
        var times: [Double] = []
        for step in 0..<(warmup + steps) {
            let b = step % batches
            let x = images[.range(b * batchSize ..< (b + 1) * batchSize)]
            let y = Array(labels[b * batchSize ..< (b + 1) * batchSize])
            let start = DispatchTime.now().uptimeNanoseconds
            optimizer.zeroGrad()
            let loss = try crossEntropy(try model(x), y)
            loss.backward()
            optimizer.step()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step >= warmup { times.append(seconds) }
        }
        let total = times.reduce(0, +)
        let median = times.sorted()[times.count / 2]
        return TrainingBenchmark(examplesPerSecond: Double(steps * batchSize) / total, medianStepSeconds: median,
                                 batchSize: batchSize, steps: steps, threads: threads)
    }
}
