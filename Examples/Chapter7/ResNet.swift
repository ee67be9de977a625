import D2L

/// 7.6 Residual Networks (ResNet): the residual block (with and without a 1×1
/// convolution on the shortcut), ResNet-18's layer shapes for a 224×224 image, and
/// training on Fashion-MNIST resized to 96×96.
enum ResNet {
    static let section = BookSection(name: "resnet", number: "7.6", title: "Residual Networks (ResNet)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(76)
        // The residual block (the book's `Residual`, the toolkit's): the input keeps its shape…
        let X = Tensor.rand([4, 3, 6, 6])
        var blk = Residual(inputChannels: 3, numChannels: 3)
        let same = try blk(X).shape
        print("Residual(3, 3)(X).shape = \(same)")
        book.check(same == [4, 3, 6, 6], "Residual(3, 3) keeps [4, 3, 6, 6]")
        // …or, with a strided 1×1 convolution on the shortcut, halves the size and changes the channels.
        blk = Residual(inputChannels: 3, numChannels: 6, use1x1Conv: true, strides: 2)
        let halved = try blk(X).shape
        print("Residual(3, 6, use1x1Conv: true, strides: 2)(X).shape = \(halved)")
        book.check(halved == [4, 6, 3, 3], "Residual(3, 6, use1x1Conv: true, strides: 2) gives [4, 6, 3, 3]")

        // ResNet-18: b1 (7×7 convolution, BatchNorm, ReLU, max pool), four modules of two
        // residual blocks (`Models.resnetBlock`), global average pooling and the classifier.
        let net = try Models.resnet18()
        let shapes = try printLayerShapes(net, Tensor.rand([1, 1, 224, 224]))
        book.check(shapes[0] == [1, 64, 56, 56] && shapes[4] == [1, 512, 7, 7] && shapes.last == [1, 10],
                   "the layer shapes are the book's: [1, 64, 56, 56] after b1, [1, 512, 7, 7] after b5, [1, 10]")

        // Training: lr 0.05, 10 epochs, batch size 256, images resized to 96×96 (quick: a
        // network with 1/8 of the channels on 48×48 images).
        let lr: Float = 0.05, numEpochs = 10, batchSize = 256
        let trainNet = book.quick ? try Models.resnet18(widthDivisor: 8) : net
        let resize = book.choose(full: 96, quick: 48)
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: true, accuracy: 0.85)
    }
}
