import D2L

/// 7.4 Networks with Parallel Concatenations (GoogLeNet): the Inception block, GoogLeNet's
/// five modules and their output shapes for a 96×96 image, and training.
enum GoogLeNet {
    static let section = BookSection(name: "googlenet", number: "7.4",
                                     title: "Networks with Parallel Concatenations (GoogLeNet)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(74)
        // The Inception block: four parallel paths (1×1; 1×1 then 3×3; 1×1 then 5×5; 3×3 max
        // pool then 1×1) concatenated on the channels: 64 + 128 + 32 + 32 = 256 for the first one.
        let inception = Inception(inChannels: 192, c1: 64, c2: (96, 128), c3: (16, 32), c4: 32)
        let inceptionShape = try inception(Tensor.rand([1, 192, 12, 12])).shape
        print("Inception(192, 64, (96, 128), (16, 32), 32)(X).shape = \(inceptionShape)")
        book.check(inceptionShape == [1, 256, 12, 12], "the first Inception block gives 256 channels of the same size")

        // GoogLeNet: b1 (7×7 convolution, max pool), b2 (1×1 and 3×3 convolutions, max pool),
        // b3 (two Inception blocks), b4 (five), b5 (two, global average pooling), a classifier.
        let net = try Models.googlenet()
        let shapes = try printLayerShapes(net, Tensor.rand([1, 1, 96, 96]))
        book.check(shapes[2] == [1, 480, 6, 6] && shapes[4] == [1, 1024] && shapes.last == [1, 10],
                   "the layer shapes are the book's: [1, 480, 6, 6] after b3, 1024 after b5, [1, 10] out")

        // Training: lr 0.1, 10 epochs, batch size 128, images resized to 96×96 (quick: 1/16 of
        // the channels on 64×64 images).
        let lr: Float = 0.1, numEpochs = 10, batchSize = 128
        let resize = book.choose(full: 96, quick: 64)
        let trainNet = book.quick ? try Models.googlenet(widthDivisor: 16) : net
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: !book.quick, accuracy: 0.85)
    }
}
