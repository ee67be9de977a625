import D2L

/// 7.1 Deep Convolutional Neural Networks (AlexNet): AlexNet for one-channel 224×224
/// images, its layer shapes, and training on Fashion-MNIST resized to 224×224.
enum AlexNet {
    static let section = BookSection(name: "alexnet", number: "7.1",
                                     title: "Deep Convolutional Neural Networks (AlexNet)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(71)
        // AlexNet: an 11×11 convolution with stride 4, a 5×5 and three 3×3 convolutions with
        // ReLU, three 3×3 max pools with stride 2, and two 4096-wide fully connected layers
        // with dropout (the toolkit's `Models.alexnet`, the book's layers in the book's order).
        let net = try Models.alexnet()
        let shapes = try printLayerShapes(net, Tensor.randn([1, 1, 224, 224]))
        book.check(shapes[0] == [1, 96, 54, 54] && shapes[13] == [1, 6400] && shapes.last == [1, 10],
                   "the layer shapes are the book's: [1, 96, 54, 54] first, 6400 flattened, [1, 10] out")

        // Training: lr 0.01, 10 epochs, batch size 128, images resized to 224×224 (quick: 1/32
        // of the channels on 96×96 images).
        let lr: Float = 0.01, numEpochs = 10, batchSize = 128
        let resize = book.choose(full: 224, quick: 96)
        let trainNet = book.quick ? try Models.alexnet(imageSize: resize, widthDivisor: 32) : net
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: !book.quick, accuracy: 0.8)
    }
}
