import D2L

/// 3.7 Concise Implementation of Softmax Regression: `Sequential(Flatten(), Linear(784, 10))`
/// with weights ~ N(0, 0.01²), the toolkit's `crossEntropy` (log-sum-exp, stable) and
/// `SGD(lr: 0.1)`, trained by the toolkit's `Trainer` (the book's `train_ch3`).
enum SoftmaxRegressionConcise {
    static let section = BookSection(name: "softmax-regression-concise", number: "3.7",
                                     title: "Concise Implementation of Softmax Regression", run: run)

    static func run(_ book: BookContext) throws {
        // Reading the data (a subset in quick mode).
        let batchSize = 256
        let train = try FashionMNIST.load(train: true, directory: book.dataDirectory)
            .prefix(book.choose(full: 60_000, quick: 6_000))
        let test = try FashionMNIST.load(train: false, directory: book.dataDirectory)
            .prefix(book.choose(full: 10_000, quick: 2_000))

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
        var configuration = TrainingConfiguration(epochs: book.choose(full: 10, quick: 2), batchSize: batchSize,
                                                  learningRate: 0.1)
        configuration.seed = 1
        configuration.showProgress = false
        let trainer = try Trainer(model: net, configuration: configuration)
        trainer.onEpoch = { m in
            print(String(format: "epoch %d, train loss %.3f, train acc %.3f, test acc %.3f",
                         m.epoch, m.trainLoss, m.trainAccuracy, m.testAccuracy))
        }
        let history = try trainer.fit(train: train, test: test)
        var chart = trainer.curves()
        if !book.quick { chart.yLimits = (0.3, 0.9) }  // the book's ylim
        try book.save(chart, as: "train_ch3")

        book.check(history.allSatisfy { $0.trainLoss.isFinite }, "the training loss stays finite")
        book.check(history.last!.trainLoss < history.first!.trainLoss, "the training loss falls")
        if let summary = trainer.lossSummary { print(summary) }
        let quarter = trainer.batchLosses.count / 4
        book.check(quarter > 0 && trainer.batchLosses.suffix(quarter).reduce(0, +) < trainer.batchLosses.prefix(quarter).reduce(0, +),
                   "the minibatch loss of the last quarter is below the first quarter's")
        book.check(history.last!.testAccuracy > book.choose(full: 0.8, quick: 0.5),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.5")) (chance is 0.1)")
    }
}
