import D2L

/// 13.5 Multiscale Object Detection: the book's `display_anchors(fmap_w, fmap_h, s)`, the
/// anchors of a `fmap_h × fmap_w` feature map (only its size matters) with sizes `s` and
/// ratios [1, 2, 0.5], centred on the map's grid and drawn on the image scaled by
/// (w, h, w, h): small anchors on a 4 × 4 grid, larger ones on 2 × 2, the largest on 1 × 1.
/// The book draws on its cat-and-dog photo; here on 13.1's picture (ImageAugmentation).
enum MultiscaleObjectDetection {
    static let section = BookSection(name: "multiscale-object-detection", number: "13.5", title: "Multiscale Object Detection",
                                     run: run)

    static let ratios: [Float] = [1, 2, 0.5]

    /// The book's `display_anchors`: prints the anchors' shape and first anchor, checks
    /// their number and centres, and writes `anchors-WxH.png`.
    static func displayAnchors(_ book: BookContext, _ img: Image, fmapW: Int, fmapH: Int, s: [Float]) throws {
        // Values on the first two dimensions do not affect the output.
        let fmap = Tensor.zeros([1, 10, fmapH, fmapW])
        let anchors = try multiboxPrior(fmap, sizes: s, ratios: ratios)
        let label = "display_anchors(fmap_w=\(fmapW), fmap_h=\(fmapH), s=\(s))"
        print("\(label): anchors.shape = \(anchors.shape)")
        book.show("\(label): anchors[0, 0]", Tensor(Array(anchors.scalars[0..<4]), shape: [4]))

        let perCentre = s.count + ratios.count - 1
        book.check(anchors.shape == [1, fmapH * fmapW * perCentre, 4],
                   "\(fmapW)x\(fmapH) map: \(perCentre) anchors at each of its \(fmapH * fmapW) centres")
        let a = anchors.scalars
        let onGrid = (0..<(anchors.shape[1])).allSatisfy { k in
            let (row, column) = ((k / perCentre) / fmapW, (k / perCentre) % fmapW)
            let (cx, cy) = ((a[k * 4] + a[k * 4 + 2]) / 2, (a[k * 4 + 1] + a[k * 4 + 3]) / 2)
            return abs(cx - (Float(column) + 0.5) / Float(fmapW)) < 1e-6 && abs(cy - (Float(row) + 0.5) / Float(fmapH)) < 1e-6
        }
        book.check(onGrid, "\(fmapW)x\(fmapH) map: every anchor is centred on a cell of the map's grid, ((j + 0.5)/\(fmapW), (i + 0.5)/\(fmapH))")

        let boxes = pixelBoxes(anchors.reshaped([-1, 4]), width: img.width, height: img.height)
        let path = try book.outputPath("anchors-\(fmapW)x\(fmapH).png")
        try PNGWriter.write(try drawBoxes(boxes, on: img), to: path)
        print("figure: \(path)")
    }

    static func run(_ book: BookContext) throws {
        let img = try ImageAugmentation.picture()
        print("h, w = \(img.height), \(img.width)")
        try displayAnchors(book, img, fmapW: 4, fmapH: 4, s: [0.15])
        try displayAnchors(book, img, fmapW: 2, fmapH: 2, s: [0.4])
        try displayAnchors(book, img, fmapW: 1, fmapH: 1, s: [0.8])
    }
}
