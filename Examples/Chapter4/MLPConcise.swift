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
        let lr: Float = 0.1, numEpochs = book.choose(full: 10, quick: 3)
        let (train, test) = try loadFashionMNIST(book)
        let history = try trainCh3Concise(book, net, train: train, test: test, lr: lr, numEpochs: numEpochs)
        book.check(history.last!.testAccuracy > book.choose(full: 0.8, quick: 0.5),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.5")) (chance is 0.1)")
    }
}
