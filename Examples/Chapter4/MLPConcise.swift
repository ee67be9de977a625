import D2L

/// 4.3 Concise Implementation of Multilayer Perceptrons: `Sequential(Flatten(), Linear(784, 256),
/// ReLU(), Linear(256, 10))`, weights ~ N(0, 0.01²), SGD with lr 0.1 by the toolkit's `Trainer`.
enum MLPConcise {
    static let section = BookSection(name: "mlp-concise", number: "4.3",
                                     title: "Concise Implementation of Multilayer Perceptrons", run: run)

    static func run(_ book: BookContext) throws {
        // The model: two fully connected layers, a ReLU between them.
        Random.seed(42)
        let net = Sequential(Flatten(), Linear(784, 256), ReLU(), Linear(256, 10))
        net.apply { m in
            if let linear = m as? Linear { Initializer.normal(mean: 0, std: 0.01).apply(to: linear.weight) }
        }
        print("parameters:", net.namedParameters().map { "\($0.name) \($0.parameter.shape)" }.joined(separator: ", "))

        // Reading the data (a subset in quick mode) and training.
        let batchSize = 256, lr: Float = 0.1, numEpochs = book.choose(full: 10, quick: 3)
        let train = try FashionMNIST.load(train: true, directory: book.dataDirectory)
            .prefix(book.choose(full: 60_000, quick: 6_000))
        let test = try FashionMNIST.load(train: false, directory: book.dataDirectory)
            .prefix(book.choose(full: 10_000, quick: 2_000))
        var configuration = TrainingConfiguration(epochs: numEpochs, batchSize: batchSize, learningRate: lr)
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
