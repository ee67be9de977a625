import D2L

/// The book's `show_images(imgs, num_rows, num_cols, titles)`: `images` `[n, channels, H, W]`
/// in [0, 1] as a grid of `numRows × numCols` written twice in the section's folder:
/// NAME.png (the images tiled with a 2-pixel margin) and NAME.svg (the same images with
/// their titles as text). Prints `figure: PATH` for each.
func showImages(_ book: BookContext, _ images: Tensor, numRows: Int, numCols: Int, titles: [String]? = nil,
                scale: Double = 1.5, as name: String) throws {
    let n = min(images.shape[0], numRows * numCols)
    let c = images.shape[1], h = images.shape[2], w = images.shape[3]
    let values = images.scalars
    let list = try (0..<n).map { i in
        try Image(channels: c, height: h, width: w, pixels: Array(values[(i * c * h * w)..<((i + 1) * c * h * w)]))
    }
    let pngPath = try book.outputPath(name + ".png")
    try PNGWriter.write(try ImageGrid.tile(list, columns: numCols, margin: 2, background: 1), to: pngPath)
    print("figure: \(pngPath)")
    let svgPath = try book.outputPath(name + ".svg")
    try AtomicFile.write(text: try ImageGrid.svg(list, titles: titles.map { Array($0.prefix(n)) }, columns: numCols, scale: scale),
                         to: svgPath)
    print("figure: \(svgPath)")
}

/// The book's `load_data_fashion_mnist` for chapters 3–4: the training and test sets,
/// the first 6,000 and 2,000 images in quick mode.
func loadFashionMNIST(_ book: BookContext) throws -> (train: ImageDataset, test: ImageDataset) {
    let train = try FashionMNIST.load(train: true, directory: book.dataDirectory)
        .prefix(book.choose(full: 60_000, quick: 6_000))
    let test = try FashionMNIST.load(train: false, directory: book.dataDirectory)
        .prefix(book.choose(full: 10_000, quick: 2_000))
    return (train, test)
}

/// The book's `train_ch3` for the concise sections (3.7, 4.3, 4.6) through the toolkit's
/// `Trainer`: SGD with `lr`, batch 256, shuffling seed 1; prints one line per epoch, writes
/// `train_ch3.svg` (the book's ylim (0.3, 0.9) in full mode) and checks that the loss stays
/// finite and falls (and, with `checkMinibatchQuarters`, that the last quarter's minibatch
/// loss is below the first quarter's). Returns the history, for the section's own accuracy
/// check.
@discardableResult
func trainCh3Concise(_ book: BookContext, _ net: Module, train: ImageDataset, test: ImageDataset, lr: Float,
                     numEpochs: Int, checkMinibatchQuarters: Bool = true) throws -> [EpochMetrics] {
    var configuration = TrainingConfiguration(epochs: numEpochs, batchSize: 256, learningRate: lr)
    configuration.seed = 1
    configuration.showProgress = false
    let trainer = try Trainer(model: net, configuration: configuration)
    trainer.onEpoch = { m in
        print(String(format: "epoch %d, train loss %.3f, train acc %.3f, test acc %.3f",
                     m.epoch, m.trainLoss, m.trainAccuracy, m.testAccuracy))
    }
    let history = try trainer.fit(train: train, test: test)
    var chart = trainer.curves()
    if !book.quick { chart.yLimits = (0.3, 0.9) }  // the book's ylim
    try book.save(chart, as: "train_ch3")

    book.check(history.allSatisfy { $0.trainLoss.isFinite }, "the training loss stays finite")
    book.check(history.last!.trainLoss < history.first!.trainLoss, "the training loss falls")
    if checkMinibatchQuarters {
        if let summary = trainer.lossSummary { print(summary) }
        book.check(trainer.lossFell, "the minibatch loss of the last quarter is below the first quarter's")
    }
    return history
}
