import D2L

/// 3.2 Linear Regression Implementation from Scratch: synthetic data from w = [2, −3.4],
/// b = 4.2, a hand-written model, loss and minibatch SGD, and the estimation error.
enum LinearRegressionScratch {
    static let section = BookSection(name: "linear-regression-scratch", number: "3.2",
                                     title: "Linear Regression Implementation from Scratch", run: run)

    /// The model: X·w + b.
    static func linreg(_ x: Tensor, _ w: Parameter, _ b: Parameter) -> Tensor {
        x.matmul(w.value) + b.value
    }

    /// Minibatch stochastic gradient descent: param −= lr · grad / batchSize.
    static func sgd(_ params: [Parameter], lr: Float, batchSize: Int) {
        for param in params {
            guard let grad = param.grad?.scalars else { continue }
            param.update { values in
                for i in values.indices { values[i] -= lr * grad[i] / Float(batchSize) }
            }
            param.zeroGrad()
        }
    }

    static func run(_ book: BookContext) throws {
        // Generating the data set.
        var generator = SeededGenerator(seed: 42)
        let trueW = Tensor([2, -3.4]), trueB: Float = 4.2
        let (features, labels) = syntheticLinearData(weights: trueW, bias: trueB, count: 1000, using: &generator)
        print("features:", bookFormat(features[0]), "\nlabel:", bookFormat(labels[0]))

        // Initialising the parameters.
        let w = Parameter(Tensor.randn([2, 1], std: 0.01, using: &generator))
        let b = Parameter(Tensor.zeros([1]))

        // Training.
        let batchSize = 10, lr: Float = 0.03, numEpochs = 3
        for epoch in 0..<numEpochs {
            for (x, y) in tensorMinibatches(features, labels, batchSize: batchSize, using: &generator) {
                let l = try squaredLoss(linreg(x, w, b), y)  // the minibatch loss of x and y
                l.sum().backward()                           // gradients of l with respect to w and b
                sgd([w, b], lr: lr, batchSize: batchSize)    // update the parameters by their gradient
            }
            let trainLoss = try withNoGrad { try squaredLoss(linreg(features, w, b), labels) }
            print("epoch \(epoch + 1), loss \(formatNumber(trainLoss.mean().item, decimals: 6))")
        }

        // Evaluating: how close the learned parameters are to the ones that made the data.
        let errorW = trueW - w.value.detached().reshaped(trueW.shape)
        let errorB = trueB - b.value.detached()
        print("error in estimating w:", bookFormat(errorW))
        print("error in estimating b:", bookFormat(errorB))
        book.check(errorW.abs().max().item < 0.05 && errorB.abs().max().item < 0.05,
                   "the estimation error of w and b is below 0.05")
    }
}
