import CZlib
import Foundation
import XCTest
@testable import D2L

final class IOPNGWriterTests: XCTestCase {
    /// A PNG taken apart: header fields and the inflated, unfiltered pixel bytes; every
    /// chunk's CRC is checked against zlib's.
    struct Decoded {
        var width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0
        var chunkTypes: [String] = []
        var pixels: [UInt8] = []
    }

    func decode(_ png: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> Decoded {
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], file: file, line: line)
        func u32(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var decoded = Decoded()
        var idat: [UInt8] = []
        var offset = 8
        while offset < png.count {
            let length = u32(offset)
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            let stored = u32(offset + 8 + length)
            let computed = typeAndData.withUnsafeBufferPointer { Int(CZlib.crc32(0, $0.baseAddress, uInt($0.count))) }
            XCTAssertEqual(stored, computed, "CRC of \(type)", file: file, line: line)
            decoded.chunkTypes.append(type)
            let data = Array(typeAndData.dropFirst(4))
            if type == "IHDR" {
                decoded.width = data[0..<4].reduce(0) { $0 << 8 | Int($1) }
                decoded.height = data[4..<8].reduce(0) { $0 << 8 | Int($1) }
                decoded.bitDepth = Int(data[8])
                decoded.colorType = Int(data[9])
                XCTAssertEqual(Array(data[10..<12]), [0, 0], "compression and filter methods", file: file, line: line)
                decoded.interlace = Int(data[12])
            } else if type == "IDAT" {
                idat += data
            }
            offset += 12 + length
        }
        XCTAssertEqual(offset, png.count, "chunks end at the end of the file", file: file, line: line)
        let channels = decoded.colorType == 2 ? 3 : 1
        let rowBytes = decoded.width * channels
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * decoded.height + 1)  // one spare byte: no slack allowed
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            idat.withUnsafeBufferPointer { uncompress(out.baseAddress, &rawLength, $0.baseAddress, uLong($0.count)) }
        }
        XCTAssertEqual(status, Z_OK, "zlib inflates IDAT", file: file, line: line)
        XCTAssertEqual(Int(rawLength), (rowBytes + 1) * decoded.height, "inflated size", file: file, line: line)
        for y in 0..<decoded.height {
            XCTAssertEqual(raw[y * (rowBytes + 1)], 0, "row \(y) uses filter 0", file: file, line: line)
            decoded.pixels += raw[(y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1))]
        }
        return decoded
    }

    func testGrayscaleRoundTrip() throws {
        let width = 7, height = 5
        let pixels = (0..<(width * height)).map { UInt8(($0 * 37) % 256) }
        let png = try PNGWriter.encode(pixels: pixels, width: width, height: height, channels: 1)
        let decoded = try decode(png)
        XCTAssertEqual(decoded.chunkTypes, ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual([decoded.width, decoded.height, decoded.bitDepth, decoded.colorType, decoded.interlace], [7, 5, 8, 0, 0])
        XCTAssertEqual(decoded.pixels, pixels)
    }

    func testRGBFromAFloatImage() throws {
        // CHW floats → interleaved bytes: clamped, ×255, rounded; NaN as 0.
        let image = try Image(channels: 3, height: 1, width: 2, pixels: [0, 1, 0.5, -3, 2, Float.nan])
        let decoded = try decode(try PNGWriter.encode(image))
        XCTAssertEqual([decoded.width, decoded.height, decoded.colorType], [2, 1, 2])
        XCTAssertEqual(decoded.pixels, [0, 128, 255, 255, 0, 0])
        let path = try makeDataTestDirectory(self) + "/rgb.png"
        try PNGWriter.write(image, to: path)
        XCTAssertEqual(try AtomicFile.read(path), try PNGWriter.encode(image))
    }

    func testErrors() {
        assertDataToolkitError(.shape, containing: ["5 bytes", "2×2×1"]) {
            _ = try PNGWriter.encode(pixels: [1, 2, 3, 4, 5], width: 2, height: 2, channels: 1)
        }
        assertDataToolkitError(.invalidArgument, containing: ["channels", "2"]) {
            _ = try PNGWriter.encode(pixels: [1, 2], width: 1, height: 1, channels: 2)
        }
        assertDataToolkitError(.invalidArgument, containing: ["positive", "0×3"]) {
            _ = try PNGWriter.encode(pixels: [], width: 0, height: 3, channels: 1)
        }
    }

    func testGridTilesWithMargins() throws {
        let a = try Image(channels: 1, height: 2, width: 2, pixels: [0.1, 0.2, 0.3, 0.4])
        let b = try Image(channels: 1, height: 2, width: 2, pixels: [0.5, 0.6, 0.7, 0.8])
        let c = try Image(channels: 1, height: 2, width: 2, pixels: [0.9, 0.9, 0.9, 0.9])
        let grid = try ImageGrid.tile([a, b, c], columns: 2, margin: 1, background: 0)
        XCTAssertEqual([grid.channels, grid.height, grid.width], [1, 7, 7])
        XCTAssertEqual(grid[0, 1, 1], 0.1)
        XCTAssertEqual(grid[0, 2, 2], 0.4)
        XCTAssertEqual(grid[0, 1, 4], 0.5)
        XCTAssertEqual(grid[0, 2, 5], 0.8)
        XCTAssertEqual(grid[0, 4, 1], 0.9)
        XCTAssertEqual(grid[0, 4, 4], 0)  // the empty cell
        XCTAssertEqual(grid[0, 0, 0], 0)
        XCTAssertEqual(grid[0, 3, 3], 0)  // margins between cells
        XCTAssertEqual(grid.pixels.filter { $0 != 0 }.count, 12)

        let svg = try ImageGrid.svg([a, b], titles: ["t-shirt", "a < b & c"], columns: 2)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertEqual(svg.components(separatedBy: "<image ").count - 1, 2)
        XCTAssertTrue(svg.contains(">t-shirt</text>"))
        XCTAssertTrue(svg.contains(">a &lt; b &amp; c</text>"))
        XCTAssertFalse(svg.contains("http:") && svg.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        // The embedded PNG is the image's.
        let start = svg.range(of: "data:image/png;base64,")!.upperBound
        let end = svg[start...].firstIndex(of: "\"")!
        let png = [UInt8](Data(base64Encoded: String(svg[start..<end]))!)
        XCTAssertEqual(try decode(png).pixels, PNGWriter.interleavedBytes(a))

        assertDataToolkitError(.shape, containing: ["image 1", "1×3×2", "image 0 is 1×2×2"]) {
            _ = try ImageGrid.tile([a, try Image(channels: 1, height: 3, width: 2, pixels: Array(repeating: 0, count: 6))], columns: 2)
        }
        assertDataToolkitError(.invalidArgument, containing: ["1 titles for 2 images"]) {
            _ = try ImageGrid.svg([a, b], titles: ["x"], columns: 2)
        }
        assertDataToolkitError(.invalidArgument, containing: ["no images"]) { _ = try ImageGrid.tile([], columns: 2) }
    }
}
