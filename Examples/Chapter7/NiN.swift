import D2L

/// 7.3 Network in Network (NiN): the NiN block (a convolution and two 1×1
/// convolutions), the network ending in global average pooling instead of fully
/// connected layers, its layer shapes for a 224×224 image, and training.
enum NiN {
    static let section = BookSection(name: "nin", number: "7.3", title: "Network in Network (NiN)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(73)
        // Four NiN blocks (`Models.ninBlock`) with 11×11, 5×5 and 3×3 first convolutions and
        // max pools between them; the last block has one channel per class, averaged over
        // the whole image.
        let net = try Models.nin()
        let shapes = try printLayerShapes(net, Tensor.rand([1, 1, 224, 224]))
        book.check(shapes[0] == [1, 96, 54, 54] && shapes[7] == [1, 10, 5, 5] && shapes.last == [1, 10],
                   "the layer shapes are the book's: [1, 10, 5, 5] from the last block, [1, 10] out")

        // Training: lr 0.1, 10 epochs, batch size 128, images resized to 224×224 (quick: 1/16
        // of the channels on 96×96 images).
        let lr: Float = 0.1, numEpochs = 10, batchSize = 128
        let resize = book.choose(full: 224, quick: 96)
        let trainNet = book.quick ? try Models.nin(widthDivisor: 16) : net
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: !book.quick, accuracy: 0.8)
    }
}
