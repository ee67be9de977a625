import D2L

/// 4.6 Dropout (concise): the same network as a `Sequential` with the toolkit's `Dropout`
/// layers (identity in evaluation mode), weights ~ N(0, 0.01²).
enum DropoutConcise {
    static let section = BookSection(name: "dropout-concise", number: "4.6", title: "Dropout (concise)", run: run)

    /// Trains `net` on Fashion-MNIST (a subset in quick mode) with SGD, lr 0.5, batch 256,
    /// as the book's `train_ch3`; checks that the loss falls and the accuracy beats chance.
    static func trainAndCheck(_ net: Module, _ book: BookContext) throws {
        let numEpochs = book.choose(full: 10, quick: 3), lr: Float = 0.5
        let (train, test) = try loadFashionMNIST(book)
        let history = try trainCh3Concise(book, net, train: train, test: test, lr: lr, numEpochs: numEpochs,
                                     checkMinibatchQuarters: false)
        // Quick mode: 3 epochs on a tenth of the data, where the small initial weights
        // (N(0, 0.01²) through three layers) have only begun to grow and where the kernel
        // variant's rounding moves the last accuracy a lot (0.39 under avx512, 0.53 under
        // avx2 and sse2): three times chance.
        book.check(history.last!.testAccuracy > book.choose(full: 0.8, quick: 0.3),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.3")) (chance is 0.1)")
    }

    static func run(_ book: BookContext) throws {
        Random.seed(42)
        let dropout1: Float = 0.2, dropout2: Float = 0.5
        let net = Sequential(Flatten(),
                             Linear(784, 256), ReLU(),
                             Dropout(dropout1),  // dropout after the first fully connected layer
                             Linear(256, 256), ReLU(),
                             Dropout(dropout2),  // dropout after the second fully connected layer
                             Linear(256, 10))
        net.apply { m in
            if let linear = m as? Linear { Initializer.normal(mean: 0, std: 0.01).apply(to: linear.weight) }
        }
        let batch = try FashionMNIST.load(train: false, directory: book.dataDirectory).prefix(8)
        let (images, _) = try ImageBatches(batch, batchSize: 8, shuffle: false).makeIterator().next()!
        try DropoutScratch.checkModes(net, images, book)
        try trainAndCheck(net, book)
    }
}
