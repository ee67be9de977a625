import D2L

/// 13.6 The Object Detection Dataset: the banana set read as the book's
/// `load_data_bananas(batch_size)` reads it (one box per image, labels (class, x1, y1, x2, y2)
/// divided by the image size), the shapes of a shuffled first batch, and the book's figure of
/// ten images with their boxes in white. The book downloads its set; here it is
/// `DATA/banana-detection` (see ``BookContext/bananaFolder``): the unzipped real set or
/// `tools/make-bananas`' stand-in in the same layout.
enum ObjectDetectionDataset {
    static let section = BookSection(name: "object-detection-dataset", number: "13.6", title: "The Object Detection Dataset",
                                     run: run)

    static func run(_ book: BookContext) throws {
        let batchSize = 32
        let (train, _) = try book.loadDataBananas()
        // `next(iter(train_iter))`: the first batch of a shuffled epoch (smaller for a set of fewer images).
        let sampler = try MinibatchSampler(count: train.count, batchSize: batchSize, shuffle: true, seed: 0)
        guard let first = sampler.batches(epoch: 1).first else { throw ToolkitError(.invalidData, "the training set is empty") }
        let batch = train.batch(first)
        print("batch[0].shape = \(batch.images.shape)")
        print("batch[1].shape = \(batch.labels.shape)")
        book.check(batch.images.shape == [min(batchSize, train.count), 3, train.height, train.width] && batch.labels.shape == [first.count, 1, 5],
                   "a batch is [batch, 3, h, w] images and [batch, 1, 5] labels (one box per image)")
        let labels = batch.labels.scalars
        let wellFormed = (0..<first.count).allSatisfy { i in
            let row = Array(labels[(i * 5)..<(i * 5 + 5)])
            return row[0] == 0 && (1...4).allSatisfy { (0...1).contains(row[$0]) } && row[1] < row[3] && row[2] < row[4]
        }
        book.check(wellFormed, "every label is the banana class 0 with a box inside the image, as fractions of its size")
        book.check(batch.images.scalars.allSatisfy { (0...1).contains($0) }, "pixel values lie in [0, 1]")

        // The book's figure: the batch's first ten images, each with its box (show_bboxes, colors=['w']).
        let shown = try (0..<min(10, first.count)).map { i -> Image in
            let image = try bananaImage(train, first[i])
            let box = pixelBoxes(Tensor(Array(labels[(i * 5 + 1)..<(i * 5 + 5)]), shape: [1, 4]), width: train.width, height: train.height)
            return try drawBoxes(box, on: image, colors: [.white])
        }
        let path = try book.outputPath("bananas.png")
        try PNGWriter.write(try ImageGrid.tile(shown, columns: 5), to: path)
        print("figure: \(path)")
    }
}
