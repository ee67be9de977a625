import Foundation
import XCTest
@testable import D2L

/// A fresh temporary directory, removed at the end of the test.
func makeDataTestDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "d2l-data-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Asserts that `body` throws a `ToolkitError` of `kind` whose message contains every string of `fragments`.
func assertDataToolkitError(
    _ kind: ToolkitError.Kind, containing fragments: [String],
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected a ToolkitError(.\(kind))", file: file, line: line)
    } catch let error as ToolkitError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(
                error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a ToolkitError, got \(error)", file: file, line: line)
    }
}

final class DataFileTests: XCTestCase {
    func testGzipRoundTripAndPlainFiles() throws {
        let dir = try makeDataTestDirectory(self)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 13) }
        try writeGzipped(bytes, path: dir + "/a.gz")
        XCTAssertEqual(try readPossiblyGzipped(path: dir + "/a.gz"), bytes)
        // Plain files are read transparently.
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/a.bin"))
        XCTAssertEqual(try readPossiblyGzipped(path: dir + "/a.bin"), bytes)
        try Data().write(to: URL(fileURLWithPath: dir + "/empty"))
        XCTAssertEqual(try readPossiblyGzipped(path: dir + "/empty"), [])
    }

    func testGzipMissingFileAndDirectory() throws {
        let dir = try makeDataTestDirectory(self)
        assertDataToolkitError(.io, containing: [dir + "/nope.gz", "no such file"]) {
            _ = try readPossiblyGzipped(path: dir + "/nope.gz")
        }
        assertDataToolkitError(.io, containing: [dir, "directory"]) { _ = try readPossiblyGzipped(path: dir) }
    }

    func testCorruptGzipStreams() throws {
        let dir = try makeDataTestDirectory(self)
        let bytes = (0..<50_000).map { UInt8(truncatingIfNeeded: ($0 * $0) >> 3) }
        try writeGzipped(bytes, path: dir + "/good.gz")
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/good.gz")))
        XCTAssertEqual(Array(good.prefix(2)), [0x1F, 0x8B])

        // Garbage deflate data after a valid header.
        var garbage = good
        for i in 12..<min(good.count - 8, 200) { garbage[i] = 0xFF }
        try Data(garbage).write(to: URL(fileURLWithPath: dir + "/garbage.gz"))
        assertDataToolkitError(.invalidData, containing: ["corrupt gzip", dir + "/garbage.gz"]) {
            _ = try readPossiblyGzipped(path: dir + "/garbage.gz")
        }

        // A wrong CRC in the trailer.
        var badCRC = good
        badCRC[good.count - 8] ^= 0xFF
        try Data(badCRC).write(to: URL(fileURLWithPath: dir + "/crc.gz"))
        assertDataToolkitError(.invalidData, containing: ["corrupt gzip", dir + "/crc.gz"]) {
            _ = try readPossiblyGzipped(path: dir + "/crc.gz")
        }

        // A stream cut in half.
        try Data(good.prefix(good.count / 2)).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
        assertDataToolkitError(.invalidData, containing: ["corrupt gzip", dir + "/cut.gz"]) {
            _ = try readPossiblyGzipped(path: dir + "/cut.gz")
        }
    }

    func testIDXParsesImagesAndLabels() throws {
        let dir = try makeDataTestDirectory(self)
        let pixels = (0..<24).map { UInt8($0) }
        try writeGzipped(
            IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [2, 3, 4], data: pixels), path: dir + "/img.gz")
        let images = try IDXFile.readImages(path: dir + "/img.gz")
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(images.rows, 3)
        XCTAssertEqual(images.columns, 4)
        XCTAssertEqual(images.pixels, pixels)

        try Data(IDXFile.encode(magic: IDXFile.labelsMagic, dimensions: [3], data: [7, 0, 9]))
            .write(to: URL(fileURLWithPath: dir + "/lab"))
        XCTAssertEqual(try IDXFile.readLabels(path: dir + "/lab"), [7, 0, 9])
    }

    func testIDXWrongMagic() throws {
        let dir = try makeDataTestDirectory(self)
        let path = dir + "/labels-as-images"
        try Data(IDXFile.encode(magic: IDXFile.labelsMagic, dimensions: [3], data: [1, 2, 3]))
            .write(to: URL(fileURLWithPath: path))
        assertDataToolkitError(.invalidData, containing: [path, "0x00000801", "expected 0x00000803"]) {
            _ = try IDXFile.readImages(path: path)
        }
        assertDataToolkitError(.invalidData, containing: ["fewer than the 4-byte magic"]) {
            _ = try IDXFile(bytes: [0, 0], expectedMagic: IDXFile.labelsMagic)
        }
    }

    func testIDXTruncatedAndTrailingBytes() throws {
        let dir = try makeDataTestDirectory(self)
        let full = IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [2, 3, 4], data: Array(repeating: 5, count: 24))
        let path = dir + "/truncated.gz"
        try writeGzipped(Array(full.dropLast(5)), path: path)
        // Header 16 bytes + 24 pixels = 40 expected; 35 present.
        assertDataToolkitError(.invalidData, containing: [path, "truncated", "40 bytes", "has 35"]) {
            _ = try IDXFile.readImages(path: path)
        }
        assertDataToolkitError(.invalidData, containing: ["trailing", "40 bytes", "has 41"]) {
            _ = try IDXFile(bytes: full + [0], expectedMagic: IDXFile.imagesMagic)
        }
        assertDataToolkitError(.invalidData, containing: ["header needs 16 bytes", "has 10"]) {
            _ = try IDXFile(bytes: Array(full.prefix(10)), expectedMagic: IDXFile.imagesMagic)
        }
        assertDataToolkitError(.invalidData, containing: ["dimension 1 is 0"]) {
            _ = try IDXFile(
                bytes: IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [2, 0, 4], data: []),
                expectedMagic: IDXFile.imagesMagic)
        }
    }
}
