import D2L

/// 4.2 Implementation of Multilayer Perceptrons from Scratch: Fashion-MNIST through one
/// hidden layer of 256 ReLU units, the parameters, ReLU and the model written by hand,
/// trained with the book's `train_ch3` (3.6).
enum MLPScratch {
    static let section = BookSection(name: "mlp-scratch", number: "4.2",
                                     title: "Implementation of Multilayer Perceptrons from Scratch", run: run)

    /// max(X, 0), as the book writes it.
    static func relu(_ X: Tensor) -> Tensor {
        let a = Tensor.zeros(like: X)
        return Tensor.maximum(X, a)
    }

    static func run(_ book: BookContext) throws {
        // Reading the data (a subset in quick mode).
        let batchSize = 256
        let (train, test) = try loadFashionMNIST(book)

        // Initialising the model parameters: weights ~ N(0, 0.01²), biases 0.
        var generator = SeededGenerator(seed: 42)
        let numInputs = 784, numOutputs = 10, numHiddens = 256
        let W1 = Parameter(Tensor.randn([numInputs, numHiddens], using: &generator) * 0.01)
        let b1 = Parameter(Tensor.zeros([numHiddens]))
        let W2 = Parameter(Tensor.randn([numHiddens, numOutputs], using: &generator) * 0.01)
        let b2 = Parameter(Tensor.zeros([numOutputs]))
        let params = [W1, b1, W2, b2]

        // The activation function.
        let x = Tensor([-2, -0.5, 0, 1.5])
        book.show("relu([-2, -0.5, 0, 1.5])", relu(x))
        book.check(relu(x).scalars == [0, 0, 0, 1.5], "relu keeps positive inputs and zeroes the rest")

        // The model: flatten each image into 784 inputs, one hidden layer, the output layer.
        let net: SoftmaxRegressionScratch.Net = { X in
            let X = X.reshaped([-1, numInputs])
            let H = relu(X.matmul(W1.value) + b1.value)  // here "matmul" is the book's "@"
            return H.matmul(W2.value) + b2.value
        }

        // The loss: the toolkit's cross-entropy on the logits, one value per example.
        let loss: (Tensor, [Int]) throws -> Tensor = { try crossEntropy($0, $1, reduction: .none) }

        // Training: the book's torch.optim.SGD(params, lr=0.1) on the batch's mean loss,
        // which is minibatch SGD on the summed loss divided by the batch size.
        let numEpochs = book.choose(full: 10, quick: 3), lr: Float = 0.1
        let updater: SoftmaxRegressionScratch.Updater = { n in LinearRegressionScratch.sgd(params, lr: lr, batchSize: n) }
        let (history, chart) = try SoftmaxRegressionScratch.trainCh3(net, train: train, test: test, batchSize: batchSize,
                                                                     loss: loss, numEpochs: numEpochs, updater: updater)
        var figure = chart
        if !book.quick { figure.yLimits = (0.3, 0.9) }  // the book's ylim
        try book.save(figure, as: "train_ch3")
        book.check(history.allSatisfy { $0.loss.isFinite }, "the training loss stays finite")
        book.check(history.last!.loss < history.first!.loss, "the training loss falls")
        book.check(history.last!.testAcc > book.choose(full: 0.8, quick: 0.5),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.5")) (chance is 0.1)")

        // Prediction on the first test images.
        let (_, trues, preds) = try SoftmaxRegressionScratch.predictCh3(net, test)
        for (t, p) in zip(trues, preds) { print("true \(t), predicted \(p)") }
        book.check(zip(trues, preds).filter { $0 == $1 }.count >= 3, "at least 3 of the first 6 test images are labelled correctly")
    }
}
