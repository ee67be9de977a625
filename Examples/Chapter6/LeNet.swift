import D2L

/// 6.6 Convolutional Neural Networks (LeNet): LeNet-5 with sigmoid activations and
/// average pooling, its layer-by-layer output shapes for one 28×28 image, and training on
/// Fashion-MNIST with the book's `train_ch6`.
enum LeNet {
    static let section = BookSection(name: "lenet", number: "6.6",
                                     title: "Convolutional Neural Networks (LeNet)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(6)
        // LeNet: two convolutional blocks (convolution, sigmoid, average pooling) and three
        // fully connected layers.
        let net = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Flatten(),
            Linear(16 * 5 * 5, 120), Sigmoid(),
            Linear(120, 84), Sigmoid(),
            Linear(84, 10))

        // The output shape of every layer for a single-channel 28×28 image.
        let X = Tensor.rand([1, 1, 28, 28])
        let shapes = try printLayerShapes(net, X)
        book.check(shapes[2] == [1, 6, 14, 14] && shapes[5] == [1, 16, 5, 5] && shapes[6] == [1, 400]
                   && shapes.last == [1, 10], "the layer shapes are the book's, [1, 10] at the end")
        // The toolkit's LeNet is the same network.
        let zoo = try Models.lenet()
        book.check(zoo.namedParameters().map(\.parameter.shape) == net.namedParameters().map(\.parameter.shape),
                   "Models.lenet() has the same parameters")

        // Training: batch size 256, learning rate 0.9, 10 epochs.
        let batchSize = 256, lr: Float = 0.9, numEpochs = 10
        let trainer = try trainCh6(book, net, numEpochs: numEpochs, lr: lr, batchSize: batchSize,
                                   quick: (train: 2000, test: 500, epochs: 2, batchSize: 64))
        book.check(trainer.batchLosses.allSatisfy(\.isFinite) && trainer.lossFell,
                   "the minibatch loss is finite and falls (last quarter below the first)")
        if !book.quick {
            book.check(trainer.history.last!.testAccuracy > 0.7, "the test accuracy is above 0.7 (the book: about 0.8)")
        }
    }
}
