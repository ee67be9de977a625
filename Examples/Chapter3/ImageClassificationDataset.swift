import D2L
import Foundation

/// 3.5 The Image Classification Dataset: Fashion-MNIST's sizes, its text labels, the
/// book's grid of the first 18 training images, how long one pass over the minibatches
/// takes, and `load_data_fashion_mnist` with resizing.
enum ImageClassificationDataset {
    static let section = BookSection(name: "image-classification-dataset", number: "3.5",
                                     title: "The Image Classification Dataset", run: run)

    /// The book's `get_fashion_mnist_labels`: the text labels of numeric labels.
    static func getFashionMNISTLabels(_ labels: [Int]) -> [String] { FashionMNIST.textLabels(labels) }

    static func run(_ book: BookContext) throws {
        // Reading the dataset (ToTensor: bytes become floats in [0, 1] batch by batch).
        let mnistTrain = try FashionMNIST.load(train: true, directory: book.dataDirectory)
        let mnistTest = try FashionMNIST.load(train: false, directory: book.dataDirectory)
        print("len(mnist_train), len(mnist_test) = \(mnistTrain.count), \(mnistTest.count)")
        let firstImage = try mnistTrain.image(at: 0)
        print("mnist_train[0][0].shape = \([firstImage.channels, firstImage.height, firstImage.width])")
        book.check(mnistTrain.count == 60_000 && mnistTest.count == 10_000, "60,000 training and 10,000 test images")
        book.check(firstImage.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "pixel values lie in [0, 1]")

        // The first 18 training images with their labels.
        let (X, y) = try ImageBatches(mnistTrain, batchSize: 18, shuffle: false).makeIterator().next()!
        let titles = getFashionMNISTLabels(y)
        print("labels:", titles.joined(separator: ", "))
        try showImages(book, X, numRows: 2, numCols: 9, titles: titles, as: "show_images")

        // Reading a minibatch: one pass over the training set in batches of 256, timed.
        let batchSize = 256
        let timed = try mnistTrain.prefix(book.choose(full: mnistTrain.count, quick: 10_000))
        let start = Date()
        var seen = 0
        for (images, _) in try ImageBatches(timed, batchSize: batchSize, shuffle: true, seed: 1) { seen += images.shape[0] }
        print(String(format: "%.2f sec for %d images", Date().timeIntervalSince(start), seen))
        book.check(seen == timed.count, "one pass sees every training image once")

        // Putting all things together: load_data_fashion_mnist(32, resize=64).
        let trainIter = try ImageBatches(mnistTrain, batchSize: 32, shuffle: true, seed: 1, resize: (64, 64))
        let (xs, ys) = trainIter.makeIterator().next()!
        print("X.shape = \(xs.shape), y.count = \(ys.count)")
        book.check(xs.shape == [32, 1, 64, 64] && ys.count == 32, "a resized minibatch is [32, 1, 64, 64]")
    }
}
