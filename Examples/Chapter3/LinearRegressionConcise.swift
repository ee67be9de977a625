import D2L

/// 3.3 Concise Implementation of Linear Regression: the same data as 3.2, with the
/// toolkit's `Sequential(Linear(2, 1))`, `mseLoss`, `SGD` and its regression loop.
enum LinearRegressionConcise {
    static let section = BookSection(name: "linear-regression-concise", number: "3.3",
                                     title: "Concise Implementation of Linear Regression", run: run)

    static func run(_ book: BookContext) throws {
        // Generating the data set.
        var generator = SeededGenerator(seed: 42)
        let trueW = Tensor([2, -3.4]), trueB: Float = 4.2
        let (features, labels) = syntheticLinearData(weights: trueW, bias: trueB, count: 1000, using: &generator)

        // Reading the data set: the first minibatch.
        let batchSize = 10
        let first = tensorMinibatches(features, labels, batchSize: batchSize, using: &generator)[0]
        print("first minibatch:", first.features.shape, first.labels.shape)

        // Defining the model and initialising its parameters: w ~ N(0, 0.01²), b = 0.
        let linear = Linear(2, 1)
        let net = Sequential(linear)
        linear.weight.assign(Initializer.normal(mean: 0, std: 0.01).values(linear.weight.shape, using: &generator))
        linear.bias!.assign(Tensor.zeros([1]))

        // The loss (nn.MSELoss) and the optimization algorithm (torch.optim.SGD).
        let loss: RegressionLoss = { try mseLoss($0, $1) }
        let trainer = SGD(net.parameters(), learningRate: 0.03)

        let initialLoss = try evaluateLoss(net, on: features, labels: labels, loss: loss)
        print("loss before training \(formatNumber(Float(initialLoss), decimals: 6))")

        // Training: per epoch, one pass over the minibatches, then the loss on all the features.
        let numEpochs = 3
        let history = try trainRegression(model: net, features: features, labels: labels, loss: loss,
                                          optimizer: trainer, epochs: numEpochs, batchSize: batchSize,
                                          generator: &generator) { epoch in
            print("epoch \(epoch.epoch), loss \(formatNumber(Float(epoch.trainLoss), decimals: 6))")
        }
        book.check(history.last!.trainLoss < initialLoss / 100, "the loss falls at least 100-fold in training")
        book.check(history.last!.trainLoss < 1e-3, "the final training loss is near the noise level (< 0.001)")

        // Comparing the learned parameters with the ones that made the data.
        let w = linear.weight.value.detached()
        let errorW = trueW - w.reshaped(trueW.shape)
        let errorB = trueB - linear.bias!.value.detached()
        print("error in estimating w:", bookFormat(errorW))
        print("error in estimating b:", bookFormat(errorB))
        book.check(errorW.abs().max().item < 0.05, "the error in estimating w is below 0.05")
        book.check(errorB.abs().max().item < 0.05, "the error in estimating b is below 0.05")
    }
}
