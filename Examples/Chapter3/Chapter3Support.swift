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
