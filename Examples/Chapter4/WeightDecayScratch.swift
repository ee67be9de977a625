import D2L

/// 4.5 Weight Decay (from scratch): a linear model on 200 inputs and only 20 training
/// examples overfits; adding the L2 penalty λ‖w‖²/2 to the loss (λ = 3) keeps w small
/// and lowers the test loss.
enum WeightDecayScratch {
    static let section = BookSection(name: "weight-decay-scratch", number: "4.5",
                                     title: "Weight Decay (from scratch)", run: run)

    /// ‖w‖² / 2.
    static func l2Penalty(_ w: Parameter) -> Tensor { w.value.squared().sum() / 2 }

    struct Result {
        var wNorm: Float
        var points: [(epoch: Int, train: Double, test: Double)]
        var trainLoss: Double { points.last!.train }
        var testLoss: Double { points.last!.test }
    }

    /// The book's `train(lambd)`: minibatch SGD on squared loss + λ·l2_penalty(w), the
    /// train and test loss every 5 epochs. The same `seed` gives both runs the same
    /// initial w and minibatch order, so they differ by λ alone.
    static func train(lambd: Float, data: (train: (Tensor, Tensor), test: (Tensor, Tensor)), seed: UInt64) throws -> Result {
        var generator = SeededGenerator(seed: seed)
        let numInputs = HighDimensionalRegression.numInputs, batchSize = HighDimensionalRegression.batchSize
        // Initialising the model parameters: w ~ N(0, 1), b = 0.
        let w = Parameter(Tensor.randn([numInputs, 1], using: &generator))
        let b = Parameter(Tensor.zeros([1]))
        let net: (Tensor) throws -> Tensor = { LinearRegressionScratch.linreg($0, w, b) }
        let loss: RegressionLoss = { try squaredLoss($0, $1) }
        let numEpochs = 100, lr: Float = 0.003
        var points: [(epoch: Int, train: Double, test: Double)] = []
        for epoch in 0..<numEpochs {
            for (X, y) in tensorMinibatches(data.train.0, data.train.1, batchSize: batchSize, using: &generator) {
                // The L2 penalty is added to every example's loss (broadcast), as in the book.
                let l = try loss(try net(X), y) + lambd * l2Penalty(w)
                l.sum().backward()
                LinearRegressionScratch.sgd([w, b], lr: lr, batchSize: batchSize)
            }
            if (epoch + 1) % 5 == 0 {
                points.append((epoch + 1, try evaluateLoss(net, on: data.train.0, labels: data.train.1, loss: loss),
                               try evaluateLoss(net, on: data.test.0, labels: data.test.1, loss: loss)))
            }
        }
        return Result(wNorm: w.value.norm().item, points: points)
    }

    static func run(_ book: BookContext) throws {
        // High-dimensional linear regression: the data (the book's settings are tiny; quick mode keeps them).
        var generator = SeededGenerator(seed: 42)
        let data = HighDimensionalRegression.data(using: &generator)
        print("train features \(data.train.0.shape), test features \(data.test.0.shape)")

        var results: [Float: Result] = [:]
        for lambd: Float in [0, 3] {
            let result = try train(lambd: lambd, data: data, seed: 7)
            results[lambd] = result
            // Training without regularisation (λ = 0), then with weight decay (λ = 3).
            print("λ = \(Int(lambd)): L2 norm of w: \(formatNumber(result.wNorm)), "
                  + "train loss \(formatDouble(result.trainLoss, decimals: 6)), test loss \(formatDouble(result.testLoss, decimals: 6))")
            try book.save(trainTestLossChart(result.points, xLabel: "epochs", xLimits: (5, 100)), as: "weight_decay_lambd_\(Int(lambd))")
            book.check(result.points.allSatisfy { $0.train.isFinite && $0.test.isFinite }, "λ = \(Int(lambd)): the losses stay finite")
        }
        let plain = results[0]!, decayed = results[3]!
        book.check(plain.trainLoss < plain.testLoss / 10, "λ = 0 overfits: the train loss is below a tenth of the test loss")
        book.check(decayed.testLoss < plain.testLoss, "λ = 3 has a lower test loss than λ = 0")
        book.check(decayed.wNorm < plain.wNorm / 2, "λ = 3 has a ‖w‖ under half of λ = 0's")
    }
}
