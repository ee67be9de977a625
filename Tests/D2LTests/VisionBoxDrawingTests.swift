import XCTest
@testable import D2L

/// `drawBoxes` pixel by pixel on small images: the outline (and only it) is drawn, the
/// inside and outside are untouched, boxes sticking out of the image are clipped, colours
/// cycle, gray images get the luma, and bad input is a `ToolkitError`.
final class VisionBoxDrawingTests: XCTestCase {
    /// A `channels × height × width` image of `background`.
    func blank(_ height: Int, _ width: Int, channels: Int = 3, background: Float = 0.5) throws -> Image {
        try Image(channels: channels, height: height, width: width, pixels: [Float](repeating: background, count: channels * height * width))
    }

    /// The image's channel-0 plane as text, one character per pixel: `legend[value]`, `?` otherwise.
    func picture(_ image: Image, channel: Int = 0, _ legend: [Float: Character]) -> [String] {
        (0..<image.height).map { y in String((0..<image.width).map { x in legend[image[channel, y, x]] ?? "?" }) }
    }

    func testOutlineOnlyWithTheBookPixelRule() throws {
        // (1, 1, 5, 4): columns 1…4, rows 1…3; one pixel wide, red.
        let out = try drawBoxes(Tensor([1, 1, 5, 4], shape: [1, 4]), on: try blank(6, 7), colors: [.red], lineWidth: 1)
        XCTAssertEqual(picture(out, [0.5: ".", 1: "#"]), [
            ".......",
            ".####..",
            ".#..#..",
            ".####..",
            ".......",
            ".......",
        ])
        XCTAssertEqual(picture(out, channel: 1, [0.5: ".", 0: "#"]), picture(out, [0.5: ".", 1: "#"]), "green is 0 on the outline")
        XCTAssertEqual(picture(out, channel: 2, [0.5: ".", 0: "#"]), picture(out, [0.5: ".", 1: "#"]), "blue is 0 on the outline")
    }

    func testFractionalCornersAndTheDefaultWidth() throws {
        // (0.5, 0.2, 6.1, 5.9) covers columns 0…6 and rows 0…5; two pixels wide, the inside a 3 × 2 hole.
        let out = try drawBoxes(Tensor([0.5, 0.2, 6.1, 5.9], shape: [1, 4]), on: try blank(7, 8), colors: [.white])
        XCTAssertEqual(picture(out, [0.5: ".", 1: "#"]), [
            "#######.",
            "#######.",
            "##...##.",
            "##...##.",
            "#######.",
            "#######.",
            "........",
        ])
    }

    func testBoxesAreClippedAtTheEdges() throws {
        // Sticking out left and below: columns −2…2, rows 3…9 of a 6 × 7 image. The left and
        // bottom sides are outside and not drawn; no line runs along the image's border.
        // A second box covers more than the image: nothing of it is inside but its inside.
        let boxes = Tensor([-2, 3, 3, 10, -1e30, -5, 1e30, 1e9], shape: [2, 4])
        let out = try drawBoxes(boxes, on: try blank(6, 7), colors: [.red, .blue], lineWidth: 1)
        XCTAssertEqual(picture(out, [0.5: ".", 1: "#", 0: "o"]), [
            ".......",
            ".......",
            ".......",
            "###....",
            "..#....",
            "..#....",
        ])
        XCTAssertEqual(out.pixels[(2 * 6 + 4) * 7 + 0], 0.5, "the second box's outline lies outside: blue stays 0.5")
        // Entirely outside: the image is unchanged.
        let away = try drawBoxes(Tensor([20, 20, 30, 30, -9, -9, -1, -1], shape: [2, 4]), on: try blank(6, 7))
        XCTAssertEqual(away, try blank(6, 7))
    }

    func testColoursCycleAndLaterBoxesDrawOver() throws {
        let boxes = Tensor([0, 0, 3, 3, 2, 0, 5, 3, 0, 3, 2, 5], shape: [3, 4])
        let out = try drawBoxes(boxes, on: try blank(5, 5, background: 0.25), colors: [.red, .green], lineWidth: 1)
        // Red (1, 0, 0) for boxes 0 and 2, green (0, 0.5, 0) for box 1, which covers column 2 of box 0.
        XCTAssertEqual(picture(out, [0.25: ".", 1: "r", 0: "g"]), [
            "rrggg",
            "r.g.g",
            "rrggg",
            "rr...",
            "rr...",
        ])
        XCTAssertEqual(out[1, 1, 2], 0.5, "green channel of box 1's outline is 0.5")
        XCTAssertEqual(out[1, 0, 0], 0, "green channel of box 0's outline is 0")
    }

    func testGrayImagesGetTheLumaAndTheInputIsNotChanged() throws {
        let image = try blank(4, 4, channels: 1, background: 0)
        let out = try drawBoxes(Tensor([0, 0, 4, 4], shape: [1, 4]), on: image, colors: [.cyan], lineWidth: 1)
        XCTAssertEqual(out[0, 0, 0], 0.587 * 0.75 + 0.114 * 0.75, accuracy: 1e-6)
        XCTAssertEqual(out[0, 1, 1], 0)
        XCTAssertEqual(image.pixels, [Float](repeating: 0, count: 16), "the input image is a value")
        let none = try drawBoxes(Tensor.zeros([0, 4]), on: image)
        XCTAssertEqual(none, image)
    }

    func testBadInputIsAToolkitError() throws {
        let image = try blank(4, 4)
        func fails(_ kind: ToolkitError.Kind, _ what: String, _ body: () throws -> Image) {
            XCTAssertThrowsError(try body(), what) { error in
                XCTAssertEqual((error as? ToolkitError)?.kind, kind, "\(what): \(error)")
            }
        }
        fails(.shape, "boxes [4]") { try drawBoxes(Tensor([0, 0, 1, 1], shape: [4]), on: image) }
        fails(.shape, "boxes [1, 5]") { try drawBoxes(Tensor([0, 0, 1, 1, 1], shape: [1, 5]), on: image) }
        fails(.invalidArgument, "nan") { try drawBoxes(Tensor([0, .nan, 1, 1], shape: [1, 4]), on: image) }
        fails(.invalidArgument, "infinity") { try drawBoxes(Tensor([0, 0, .infinity, 1], shape: [1, 4]), on: image) }
        fails(.invalidArgument, "x2 < x1") { try drawBoxes(Tensor([2, 0, 1, 1], shape: [1, 4]), on: image) }
        fails(.invalidArgument, "y2 < y1") { try drawBoxes(Tensor([0, 2, 1, 1], shape: [1, 4]), on: image) }
        fails(.invalidArgument, "no colours") { try drawBoxes(Tensor([0, 0, 1, 1], shape: [1, 4]), on: image, colors: []) }
        fails(.invalidArgument, "colour above 1") {
            try drawBoxes(Tensor([0, 0, 1, 1], shape: [1, 4]), on: image, colors: [BoxColor(red: 2, green: 0, blue: 0)])
        }
        fails(.invalidArgument, "line width 0") { try drawBoxes(Tensor([0, 0, 1, 1], shape: [1, 4]), on: image, lineWidth: 0) }
        let twoChannels = try Image(channels: 2, height: 2, width: 2, pixels: [Float](repeating: 0, count: 8))
        fails(.shape, "two channels") { try drawBoxes(Tensor([0, 0, 1, 1], shape: [1, 4]), on: twoChannels) }
    }
}
