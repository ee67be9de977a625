import Foundation

/// A grid of images, as the book's `show_images(imgs, num_rows, num_cols, titles)` draws
/// them: ``tile(_:columns:margin:background:)`` makes one image (for ``PNGWriter``), and
/// ``svg(_:titles:columns:scale:)`` a standalone SVG with each image embedded as a PNG
/// data URI and its title written above it as text.
public enum ImageGrid {
    /// The images in rows of `columns`, left to right then top to bottom, `margin` pixels
    /// of `background` between them and around; the last row may be partly empty.
    ///
    /// - Parameters:
    ///   - images: at least one, all with the same channels, height and width.
    ///   - columns: images per row (≥ 1; more than there are images means one row).
    ///   - margin: pixels between the images and around the grid (≥ 0, default 2).
    ///   - background: the value of every margin pixel in every channel (default 1, white
    ///     for images in [0, 1]).
    /// - Returns: an image of `rows · (height + margin) + margin` by `columns · (width + margin) + margin`.
    /// - Throws: `ToolkitError(.invalidArgument)` for no images, `columns` < 1 or `margin` < 0;
    ///   `.shape` when the images differ in size or channels (the message names both).
    public static func tile(_ images: [Image], columns: Int, margin: Int = 2, background: Float = 1) throws -> Image {
        let first = try check(images, columns: columns)
        guard margin >= 0 else { throw ToolkitError(.invalidArgument, "ImageGrid: the margin must be ≥ 0, got \(margin)") }
        let columns = min(columns, images.count), rows = (images.count + columns - 1) / columns
        let h = first.height, w = first.width, c = first.channels
        let height = rows * (h + margin) + margin, width = columns * (w + margin) + margin
        var pixels = [Float](repeating: background, count: c * height * width)
        for (index, image) in images.enumerated() {
            let top = margin + (index / columns) * (h + margin), left = margin + (index % columns) * (w + margin)
            for channel in 0..<c {
                for y in 0..<h {
                    let target = (channel * height + top + y) * width + left, source = (channel * h + y) * w
                    pixels.replaceSubrange(target..<(target + w), with: image.pixels[source..<(source + w)])
                }
            }
        }
        return try Image(channels: c, height: height, width: width, pixels: pixels)
    }

    /// An SVG document of the grid: each image a PNG data URI `<image>` drawn `scale` times
    /// its size (nearest-neighbour, `image-rendering: pixelated`), its title (if any) above
    /// it; nothing external is referenced.
    ///
    /// - Parameters:
    ///   - images: at least one, all with the same channels, height and width.
    ///   - titles: nil, or one per image.
    ///   - columns: images per row (≥ 1; more than there are images means one row).
    ///   - scale: how many SVG units each image pixel is drawn as (positive, default 1.5).
    /// - Throws: as ``tile(_:columns:margin:background:)``, and `.invalidArgument` when the
    ///   titles do not match the images in number or `scale` is not positive.
    public static func svg(_ images: [Image], titles: [String]? = nil, columns: Int, scale: Double = 1.5) throws -> String {
        let first = try check(images, columns: columns)
        if let titles, titles.count != images.count {
            throw ToolkitError(.invalidArgument, "ImageGrid: \(titles.count) titles for \(images.count) images")
        }
        guard scale > 0, scale.isFinite else { throw ToolkitError(.invalidArgument, "ImageGrid: the scale must be positive, got \(scale)") }
        let columns = min(columns, images.count), rows = (images.count + columns - 1) / columns
        let cellWidth = Double(first.width) * scale, cellHeight = Double(first.height) * scale
        let titleHeight = titles == nil ? 0.0 : 14, gap = 6.0
        let maxTitle = titles?.map(\.count).max() ?? 0
        let columnWidth = max(cellWidth, Double(maxTitle) * 6.2) + gap
        let rowHeight = cellHeight + titleHeight + gap
        let width = Double(columns) * columnWidth + gap, height = Double(rows) * rowHeight + gap
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" \
            viewBox="0 0 \(format(width)) \(format(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (index, image) in images.enumerated() {
            let x = gap + Double(index % columns) * columnWidth + (columnWidth - gap - cellWidth) / 2
            let y = gap + Double(index / columns) * rowHeight
            if let title = titles?[index] {
                svg += "<text x=\"\(format(x + cellWidth / 2))\" y=\"\(format(y + 10))\" text-anchor=\"middle\">\(escape(title))</text>\n"
            }
            let data = Data(try PNGWriter.encode(image)).base64EncodedString()
            svg += "<image x=\"\(format(x))\" y=\"\(format(y + titleHeight))\" width=\"\(format(cellWidth))\" "
                + "height=\"\(format(cellHeight))\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(data)\"/>\n"
        }
        return svg + "</svg>\n"
    }

    /// The first image, after checking the list and that all share its size.
    private static func check(_ images: [Image], columns: Int) throws -> Image {
        guard let first = images.first else { throw ToolkitError(.invalidArgument, "ImageGrid: no images") }
        guard columns >= 1 else { throw ToolkitError(.invalidArgument, "ImageGrid: columns must be ≥ 1, got \(columns)") }
        if let (index, other) = images.enumerated().first(where: {
            $0.element.channels != first.channels || $0.element.height != first.height || $0.element.width != first.width
        }) {
            throw ToolkitError(.shape, "ImageGrid: image \(index) is \(other.channels)×\(other.height)×\(other.width), "
                + "image 0 is \(first.channels)×\(first.height)×\(first.width)")
        }
        return first
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
