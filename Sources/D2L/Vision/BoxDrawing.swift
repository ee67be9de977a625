// The book's `bbox_to_rect` and `show_bboxes` (13.3, 13.4): matplotlib rectangles without
// fill, drawn here into an image's pixels so that a figure can be written as PNG.

/// An outline colour for ``drawBoxes(_:on:colors:lineWidth:)``: red, green and blue in [0, 1].
public struct BoxColor: Sendable, Equatable {
    public var red: Float
    public var green: Float
    public var blue: Float

    public init(red: Float, green: Float, blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// matplotlib's `'b'`.
    public static let blue = BoxColor(red: 0, green: 0, blue: 1)
    /// matplotlib's `'g'` (a dark green, 0.5).
    public static let green = BoxColor(red: 0, green: 0.5, blue: 0)
    /// matplotlib's `'r'`.
    public static let red = BoxColor(red: 1, green: 0, blue: 0)
    /// matplotlib's `'m'`.
    public static let magenta = BoxColor(red: 0.75, green: 0, blue: 0.75)
    /// matplotlib's `'c'`.
    public static let cyan = BoxColor(red: 0, green: 0.75, blue: 0.75)
    /// matplotlib's `'w'`.
    public static let white = BoxColor(red: 1, green: 1, blue: 1)
    /// matplotlib's `'k'`.
    public static let black = BoxColor(red: 0, green: 0, blue: 0)

    /// `show_bboxes`' default colours, `['b', 'g', 'r', 'm', 'c']`, taken in turn.
    public static let bookCycle: [BoxColor] = [.blue, .green, .red, .magenta, .cyan]

    /// The value drawn into a grayscale image: the luma 0.299 R + 0.587 G + 0.114 B.
    var luma: Float { 0.299 * red + 0.587 * green + 0.114 * blue }
}

/// `image` with the outlines of `boxes` drawn on it: the book's `show_bboxes(axes, bboxes,
/// colors=colors)` with `bbox_to_rect`'s rectangles (`fill=False`, `linewidth=2`), in pixels.
///
/// A box (x1, y1, x2, y2) covers columns ⌊x1⌋ … ⌈x2⌉ − 1 and rows ⌊y1⌋ … ⌈y2⌉ − 1, so
/// integer pixel edges with x2, y2 exclusive (the banana set's labels) cover exactly the
/// box's pixels. Its outline is the `lineWidth` outermost columns and rows of that
/// rectangle, inside it; the pixels within are left as they are. Whatever lies outside the
/// image is not drawn: a box that sticks out loses those sides (no line appears along the
/// image's border instead). Boxes are drawn in order, later ones over earlier ones; box `i`
/// has colour `colors[i % colors.count]`.
///
/// - Parameters:
///   - boxes: `[count, 4]` corner boxes (x1, y1, x2, y2) in pixels of `image` (the book's
///     `bbox * (w, h, w, h)` for fractions); `count` may be 0.
///   - image: 3 channels (RGB) or 1 (gray: each colour is drawn as its luma).
///   - colors: at least one, components in [0, 1]; default the book's cycle.
///   - lineWidth: pixels, at least 1.
/// - Returns: a copy of `image` with the outlines; `image` itself is not changed.
/// - Throws: `ToolkitError(.shape)` for boxes that are not `[count, 4]` or an image with
///   neither 1 nor 3 channels; `.invalidArgument` for a coordinate that is not finite, a box
///   with x2 < x1 or y2 < y1, no colours or a component outside [0, 1], or `lineWidth` < 1.
public func drawBoxes(_ boxes: Tensor, on image: Image, colors: [BoxColor] = BoxColor.bookCycle,
                      lineWidth: Int = 2) throws -> Image {
    let fn = "drawBoxes"
    let (values, count) = try checkedBoxes(boxes, "boxes", fn)
    guard image.channels == 1 || image.channels == 3 else {
        throw ToolkitError(.shape, "\(fn): the image must have 1 or 3 channels, got \(image.channels)")
    }
    guard !colors.isEmpty else { throw ToolkitError(.invalidArgument, "\(fn): no colours") }
    if let (i, c) = colors.enumerated().first(where: { _, c in ![c.red, c.green, c.blue].allSatisfy({ (0...1).contains($0) }) }) {
        throw ToolkitError(.invalidArgument, "\(fn): colour \(i) (\(c.red), \(c.green), \(c.blue)) has a component outside [0, 1]")
    }
    guard lineWidth >= 1 else { throw ToolkitError(.invalidArgument, "\(fn): the line width must be at least 1, got \(lineWidth)") }
    for b in 0..<count where values[b * 4 + 2] < values[b * 4] || values[b * 4 + 3] < values[b * 4 + 1] {
        throw ToolkitError(.invalidArgument, "\(fn): box \(b) (\(values[b * 4]), \(values[b * 4 + 1]), \(values[b * 4 + 2]), "
                           + "\(values[b * 4 + 3])) has x2 < x1 or y2 < y1")
    }
    var result = image
    let (h, w) = (image.height, image.width)
    // An outline wider than the image is the whole rectangle; coordinates far outside are
    // moved to just beyond the outline's reach, which keeps the pixels drawn and the
    // conversion to Int in range.
    let width = min(lineWidth, max(h, w) + 1)
    func pixel(_ value: Float, _ size: Int) -> Float { min(max(value, -Float(width + 1)), Float(size + width + 1)) }
    result.pixels.withUnsafeMutableBufferPointer { pixels in
        for b in 0..<count {
            let color = colors[b % colors.count]
            let shades = image.channels == 3 ? [color.red, color.green, color.blue] : [color.luma]
            let left = Int(pixel(values[b * 4], w).rounded(.down)), top = Int(pixel(values[b * 4 + 1], h).rounded(.down))
            let right = Int(pixel(values[b * 4 + 2], w).rounded(.up)) - 1, bottom = Int(pixel(values[b * 4 + 3], h).rounded(.up)) - 1
            let (firstRow, lastRow) = (max(top, 0), min(bottom, h - 1))
            guard left <= right, firstRow <= lastRow else { continue }
            /// Sets columns `from...to` of row `y`, clipped to the image.
            func fill(_ y: Int, _ from: Int, _ to: Int) {
                let (a, z) = (max(from, 0), min(to, w - 1))
                guard a <= z else { return }
                for (c, shade) in shades.enumerated() {
                    let row = (c * h + y) * w
                    for x in a...z { pixels[row + x] = shade }
                }
            }
            for y in firstRow...lastRow {
                if y - top < width || bottom - y < width {
                    fill(y, left, right)
                } else {
                    fill(y, left, min(left + width - 1, right))
                    fill(y, max(right - width + 1, left), right)
                }
            }
        }
    }
    return result
}
