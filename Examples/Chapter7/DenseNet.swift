import D2L

/// 7.7 Densely Connected Networks (DenseNet): the dense block (outputs concatenated to
/// inputs on the channels), the transition block that shrinks it, DenseNet's layer
/// shapes for a 96×96 image, and training on Fashion-MNIST resized to 96×96.
enum DenseNet {
    static let section = BookSection(name: "densenet", number: "7.7",
                                     title: "Densely Connected Networks (DenseNet)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(77)
        // A dense block of 2 convolution blocks with 10 output channels each: 3 + 2·10 = 23 channels.
        let blk = DenseBlock(numConvs: 2, inputChannels: 3, numChannels: 10)
        let X = Tensor.rand([4, 3, 8, 8])
        let Y = try blk(X)
        print("DenseBlock(2, 3, 10)(X).shape = \(Y.shape)")
        book.check(Y.shape == [4, 23, 8, 8] && blk.outputChannels == 23, "the dense block gives [4, 23, 8, 8]")
        // A transition block: a 1×1 convolution to 10 channels and a stride-2 average pool.
        let transition = Models.transitionBlock(inputChannels: 23, numChannels: 10)
        let shrunk = try transition(Y).shape
        print("transition_block(23, 10)(Y).shape = \(shrunk)")
        book.check(shrunk == [4, 10, 4, 4], "the transition block gives [4, 10, 4, 4]")

        // DenseNet: b1 as ResNet's, four dense blocks of 4 convolutions (growth rate 32) with
        // transition blocks halving the channels between them, BatchNorm, ReLU, global
        // average pooling and the classifier.
        let net = try Models.densenet()
        let shapes = try printLayerShapes(net, Tensor.rand([1, 1, 96, 96]))
        book.check(shapes[1] == [1, 192, 24, 24] && shapes[7] == [1, 248, 3, 3] && shapes.last == [1, 10],
                   "the layer shapes are the book's: 192 channels after the first dense block, 248 after the last")

        // Training: lr 0.1, 10 epochs, batch size 256, images resized to 96×96 (quick: 1/8
        // of the channels on 48×48 images).
        let lr: Float = 0.1, numEpochs = 10, batchSize = 256
        let trainNet = book.quick ? try Models.densenet(widthDivisor: 8) : net
        let resize = book.choose(full: 96, quick: 48)
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: true, accuracy: 0.85)
    }
}
