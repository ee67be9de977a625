import D2L

/// 4.5 Weight Decay (concise): the same data and model as `weight-decay-scratch`, with the
/// decay given to the optimizer for the weight only (the book's parameter groups
/// `[{"params": net[0].weight, "weight_decay": wd}, {"params": net[0].bias}]`).
enum WeightDecayConcise {
    static let section = BookSection(name: "weight-decay-concise", number: "4.5",
                                     title: "Weight Decay (concise)", run: run)

    /// The book's `train_concise(wd)`: returns ‖w‖ and the (epoch, train, test) losses every 5 epochs.
    static func trainConcise(wd: Float, data: (train: (Tensor, Tensor), test: (Tensor, Tensor)),
                             seed: UInt64) throws -> (wNorm: Float, points: [(epoch: Int, train: Double, test: Double)]) {
        var generator = SeededGenerator(seed: seed)
        let linear = Linear(HighDimensionalRegression.numInputs, 1)
        let net = Sequential(linear)
        for param in net.parameters() { param.assign(Initializer.normal().values(param.shape, using: &generator)) }
        let loss: RegressionLoss = { try mseLoss($0, $1, reduction: .none) }
        let numEpochs = 100, lr: Float = 0.003
        // The bias parameter is not decayed.
        let trainer = try SGD(groups: [ParameterGroup(parameters: [linear.weight], weightDecay: wd),
                                       ParameterGroup(parameters: [linear.bias!])], learningRate: lr)
        var points: [(epoch: Int, train: Double, test: Double)] = []
        try trainRegression(model: net, features: data.train.0, labels: data.train.1, loss: loss, optimizer: trainer,
                            epochs: numEpochs, batchSize: HighDimensionalRegression.batchSize, test: data.test,
                            generator: &generator) { e in
            if e.epoch % 5 == 0 { points.append((e.epoch, e.trainLoss, e.testLoss)) }
        }
        return (linear.weight.value.norm().item, points)
    }

    static func run(_ book: BookContext) throws {
        var generator = SeededGenerator(seed: 42)
        let data = HighDimensionalRegression.data(using: &generator)

        // What the parameter groups do: with a zero gradient, one step multiplies the
        // weight by 1 − lr·wd and leaves the bias alone.
        let probe = Linear(3, 1)
        let (wd, lr): (Float, Float) = (3, 0.003)
        let sgd = try SGD(groups: [ParameterGroup(parameters: [probe.weight], weightDecay: wd),
                                   ParameterGroup(parameters: [probe.bias!])], learningRate: lr)
        let (w0, b0) = (probe.weight.value.detached(), probe.bias!.value.detached())
        (try probe(Tensor.zeros([1, 3])) * 0).sum().backward()  // zero gradients for both
        sgd.step()
        let shrink = (probe.weight.value.detached() - w0 * (1 - lr * wd)).abs().max().item
        print("one step with zero gradient: weight × \(formatNumber(1 - lr * wd)), bias change \(formatNumber((probe.bias!.value - b0).abs().max().item))")
        book.check(shrink < 1e-7 && probe.bias!.value.scalars == b0.scalars,
                   "weight decay shrinks the weight by 1 − lr·wd and leaves the bias unchanged")

        var results: [Float: (wNorm: Float, points: [(epoch: Int, train: Double, test: Double)])] = [:]
        for wd: Float in [0, 3] {
            let result = try trainConcise(wd: wd, data: data, seed: 7)
            results[wd] = result
            let last = result.points.last!
            print("wd = \(Int(wd)): L2 norm of w: \(formatNumber(result.wNorm)), "
                  + "train loss \(formatDouble(last.train, decimals: 6)), test loss \(formatDouble(last.test, decimals: 6))")
            try book.save(trainTestLossChart(result.points, xLabel: "epochs", xLimits: (5, 100)), as: "weight_decay_concise_wd_\(Int(wd))")
            book.check(result.points.allSatisfy { $0.train.isFinite && $0.test.isFinite }, "wd = \(Int(wd)): the losses stay finite")
        }
        let plain = results[0]!, decayed = results[3]!
        book.check(plain.points.last!.train < plain.points.last!.test / 10, "wd = 0 overfits: the train loss is below a tenth of the test loss")
        book.check(decayed.points.last!.test < plain.points.last!.test, "wd = 3 has a lower test loss than wd = 0")
        book.check(decayed.wNorm < plain.wNorm / 2, "wd = 3 has a ‖w‖ under half of wd = 0's")
    }
}
