import D2L

/// 13.4 Anchor Boxes: the anchors of the book's 561 × 728 photo, the 5-anchor / 2-box
/// labelling of 13.4.3 (`multibox_target`) and the 4-anchor prediction of 13.4.4
/// (`multibox_detection` with non-maximum suppression).
enum AnchorBoxesSection {
    static let section = BookSection(name: "anchor-boxes", number: "13.4", title: "Anchor Boxes", run: run)

    static func run(_ book: BookContext) throws {
        // 13.4.1: five anchors per pixel (3 sizes + 3 ratios − 1).
        let (h, w) = (561, 728)
        let y = try multiboxPrior(Tensor.zeros([1, 3, h, w]), sizes: [0.75, 0.5, 0.25], ratios: [1, 2, 0.5])
        print("Y.shape = \(y.shape)")
        let row = ((250 * w + 250) * 5 + 0) * 4
        book.show("boxes[250, 250, 0, :]", Tensor(Array(y.scalars[row..<(row + 4)]), shape: [4]))
        book.check(y.shape == [1, h * w * 5, 4], "h · w · (sizes + ratios − 1) anchors")

        // 13.4.3: labelling anchors with the ground truth (dog class 0, cat class 1).
        let groundTruth = Tensor([0, 0.1, 0.08, 0.52, 0.92, 1, 0.55, 0.2, 0.9, 0.88], shape: [1, 2, 5])
        let anchors = Tensor([0, 0.1, 0.2, 0.3, 0.15, 0.2, 0.4, 0.4, 0.63, 0.05, 0.88, 0.98,
                              0.66, 0.45, 0.8, 0.8, 0.57, 0.3, 0.92, 0.9], shape: [1, 5, 4])
        let labels = try multiboxTarget(anchors: anchors, labels: groundTruth)
        book.show("class labels", Tensor(labels.classLabels.flatMap { $0.map(Float.init) }, shape: [1, 5]))
        book.show("bbox mask", labels.mask)
        book.show("bbox offset", labels.offsets)
        book.check(labels.classLabels == [[0, 1, 2, 0, 2]], "anchors 1, 2 and 4 get the dog (1) or the cat (2), the others background")

        // 13.4.4: predicting with non-maximum suppression.
        let predictionAnchors = Tensor([0.1, 0.08, 0.52, 0.92, 0.08, 0.2, 0.56, 0.95, 0.15, 0.3, 0.62, 0.91,
                                        0.55, 0.2, 0.9, 0.88], shape: [1, 4, 4])
        let offsetPredictions = Tensor.zeros([1, 16])
        let classProbabilities = Tensor([0, 0, 0, 0, 0.9, 0.8, 0.7, 0.1, 0.1, 0.2, 0.3, 0.9], shape: [1, 3, 4])
        let output = try multiboxDetection(classProbabilities: classProbabilities, offsets: offsetPredictions,
                                           anchors: predictionAnchors, nmsThreshold: 0.5)
        book.show("output", output)
        let kept = (0..<4).filter { output.scalars[$0 * 6] >= 0 }
        book.check(kept == [0, 1], "NMS keeps one dog and one cat box; the two other dog boxes are suppressed (class -1)")
    }
}
