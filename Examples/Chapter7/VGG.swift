import D2L

/// 7.2 Networks Using Blocks (VGG): the VGG block, VGG-11 from its `conv_arch`, its
/// layer shapes for a 224×224 image, and training the book's narrower network (a quarter
/// of the channels) on Fashion-MNIST resized to 224×224.
enum VGG {
    static let section = BookSection(name: "vgg", number: "7.2", title: "Networks Using Blocks (VGG)", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(72)
        // A VGG block: `numConvs` 3×3 convolutions (padding 1) with ReLU, then a 2×2 max pool.
        let block = Models.vggBlock(numConvs: 2, inChannels: 1, outChannels: 4)
        let blockShape = try block(Tensor.rand([1, 1, 8, 8])).shape
        print("vgg_block(2, 1, 4)(X).shape = \(blockShape)")
        book.check(blockShape == [1, 4, 4, 4], "a VGG block halves the height and width")

        // VGG-11: five blocks with (convolutions, channels) (1, 64), (1, 128), (2, 256),
        // (2, 512), (2, 512), then three fully connected layers.
        let convArch = Models.vgg11ConvArch
        let net = try Models.vgg(convArch: convArch)
        let shapes = try printLayerShapes(net, Tensor.randn([1, 1, 224, 224]))
        book.check(shapes[4] == [1, 512, 7, 7] && shapes[5] == [1, 25088] && shapes.last == [1, 10],
                   "the layer shapes are the book's: [1, 512, 7, 7] after the blocks, [1, 10] out")

        // Training the book's small_conv_arch (channels divided by 4): lr 0.05, 10 epochs,
        // batch size 128, images resized to 224×224 (quick: channels divided by 32, 128-wide
        // fully connected layers, 64×64 images).
        let ratio = 4
        let smallConvArch = convArch.map { ($0.0, $0.1 / ratio) }
        let lr: Float = 0.05, numEpochs = 10, batchSize = 128
        let resize = book.choose(full: 224, quick: 64)
        let trainNet = book.quick ? try Models.vgg11(ratio: 32, fc: 128, imageSize: resize)
                                  : try Models.vgg(convArch: smallConvArch)
        let trainer = try trainCh6(book, trainNet, numEpochs: numEpochs, lr: lr, batchSize: batchSize, resize: resize,
                                   quick: (train: 256, test: 256, epochs: 1, batchSize: 32))
        try checkTraining(book, trainer, trainNet, imageSize: resize, lossFalls: !book.quick, accuracy: 0.85)
    }
}
