import D2L

/// 3.7 Concise Implementation of Softmax Regression: `Sequential(Flatten(), Linear(784, 10))`
/// with weights ~ N(0, 0.01²), the toolkit's `crossEntropy` (log-sum-exp, stable) and
/// `SGD(lr: 0.1)`, trained by the toolkit's `Trainer` (the book's `train_ch3`).
enum SoftmaxRegressionConcise {
    static let section = BookSection(name: "softmax-regression-concise", number: "3.7",
                                     title: "Concise Implementation of Softmax Regression", run: run)

    static func run(_ book: BookContext) throws {
        // Reading the data (a subset in quick mode).
        let (train, test) = try loadFashionMNIST(book)

        // Initialising the model parameters: flatten each image, then one linear layer;
        // the weights drawn from N(0, 0.01²) (`init_weights`), the bias as PyTorch initialises it.
        Random.seed(42)
        let linear = Linear(784, 10)
        let net = Sequential(Flatten(), linear)
        net.apply { module in
            if let layer = module as? Linear { Initializer.normal(mean: 0, std: 0.01).apply(to: layer.weight) }
        }
        print("parameters:", net.namedParameters().map { "\($0.name) \($0.parameter.shape)" }.joined(separator: ", "))

        // Softmax implementation revisited: the loss takes the logits and computes
        // log-sum-exp stably, so exp never overflows even for large outputs.
        let logits = Tensor([[100, 0, -100], [1000, 1, 0]])
        book.show("crossEntropy(large logits, [0, 1])", try crossEntropy(logits, [0, 1], reduction: .none))

        // Optimization algorithm and training: minibatch SGD with learning rate 0.1.
        let history = try trainCh3Concise(book, net, train: train, test: test, lr: 0.1,
                                     numEpochs: book.choose(full: 10, quick: 2))
        book.check(history.last!.testAccuracy > book.choose(full: 0.8, quick: 0.5),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.5")) (chance is 0.1)")
    }
}
