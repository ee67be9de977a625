import Foundation
import XCTest
@testable import D2L

/// Tests/Fixtures/images (tools/fixtures/make-image-fixtures): each decodable file with
/// PIL's `Image.open(f).convert("RGB")` as `NAME.rgb` (uint8, HWC), listed in manifest.json.
let imageFixtures = repositoryRoot + "/Tests/Fixtures/images"

struct ImageFixture: Decodable {
    var name: String
    var format: String
    var width: Int
    var height: Int
    var native_channels: Int
}

struct ImageManifest: Decodable {
    var images: [ImageFixture]
    var bad: [String]
}

func loadImageManifest() throws -> ImageManifest {
    let data = try Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/manifest.json"))
    return try JSONDecoder().decode(ImageManifest.self, from: data)
}

final class DataImageDecodingTests: XCTestCase {
    /// The largest |decoded − PIL| in levels (0–255) over `image`, RGB HWC reference.
    private func maxDifference(_ image: Image, _ reference: [UInt8]) -> Int {
        var worst = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 {
                    let level = Int((image[c, y, x] * 255).rounded())
                    worst = max(worst, abs(level - Int(reference[(y * image.width + x) * 3 + c])))
                }
            }
        }
        return worst
    }

    func testEveryFixtureMatchesPIL() throws {
        let manifest = try loadImageManifest()
        XCTAssertGreaterThanOrEqual(manifest.images.count, 20)
        var worstJPEG = 0
        for fixture in manifest.images {
            let path = imageFixtures + "/" + fixture.name
            let image = try ImageDecoder.decode(path: path)
            XCTAssertEqual(image.channels, 3, fixture.name)
            XCTAssertEqual(image.height, fixture.height, fixture.name)
            XCTAssertEqual(image.width, fixture.width, fixture.name)
            let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".rgb")))
            XCTAssertEqual(reference.count, fixture.height * fixture.width * 3, fixture.name)
            guard image.height == fixture.height, image.width == fixture.width,
                  reference.count == image.height * image.width * 3 else { continue }
            let difference = maxDifference(image, reference)
            if fixture.format == "PNG" {
                XCTAssertEqual(difference, 0, "\(fixture.name): PNG must equal PIL exactly")
            } else {
                XCTAssertLessThanOrEqual(difference, 2, "\(fixture.name): JPEG within 2 levels of PIL")
                worstJPEG = max(worstJPEG, difference)
            }
        }
        print("DataImageDecodingTests: largest JPEG difference from PIL: \(worstJPEG) levels")
    }

    func testNativeModeKeepsGrayscaleAsOneChannel() throws {
        for fixture in try loadImageManifest().images {
            let path = imageFixtures + "/" + fixture.name
            let native = try ImageDecoder.decode(path: path, mode: .native)
            XCTAssertEqual(native.channels, fixture.native_channels, fixture.name)
            let rgb = try ImageDecoder.decode(path: path)
            if native.channels == 1 {
                // The one channel is what RGB repeats three times.
                let plane = native.height * native.width
                for c in 0..<3 {
                    XCTAssertEqual(Array(rgb.pixels[(c * plane)..<((c + 1) * plane)]), native.pixels, fixture.name)
                }
            } else {
                XCTAssertEqual(native, rgb, fixture.name)
            }
        }
    }

    func testSixteenBitRules() throws {
        // 16-bit gray is clipped to 255 (PIL's I;16 → RGB): the fixture's samples go to 1000.
        let gray = try ImageDecoder.decode(path: imageFixtures + "/gray16.png", mode: .native)
        XCTAssertTrue(gray.pixels.contains(1), "some samples above 255 clip to white")
        XCTAssertTrue(gray.pixels.contains { $0 > 0 && $0 < 1 }, "samples below 255 keep their value")
    }

    func testFormatIsToldBySignatureNotName() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/rgb.png")))
        XCTAssertEqual(ImageDecoder.format(of: bytes), .png)
        let asJPEGName = try ImageDecoder.decode(bytes: bytes, name: "mislabelled.jpg")
        XCTAssertEqual(asJPEGName, try ImageDecoder.decode(path: imageFixtures + "/rgb.png"))
        let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/rgb.jpg")))
        XCTAssertEqual(ImageDecoder.format(of: jpeg), .jpeg)
        XCTAssertNil(ImageDecoder.format(of: Array("GIF89a".utf8)))
    }

    func testBadFilesThrowNamingTheFile() throws {
        let manifest = try loadImageManifest()
        XCTAssertEqual(Set(manifest.bad), ["corrupt.jpg", "corrupt.png", "empty.png", "text.jpg", "truncated.jpg", "truncated.png"])
        for name in manifest.bad {
            let path = imageFixtures + "/" + name
            XCTAssertThrowsError(try ImageDecoder.decode(path: path), name) { error in
                guard let error = error as? ToolkitError else { return XCTFail("\(name): \(error) is not a ToolkitError") }
                XCTAssertEqual(error.kind, .invalidData, name)
                XCTAssertTrue(error.message.contains(path), "\(name): \(error.message)")
                XCTAssertFalse(error.message.contains("\n"), "\(name): one line")
            }
        }
    }

    func testEveryTruncationOfAPNGAndAJPEGThrows() throws {
        // Every prefix that cuts into the image data fails cleanly (no crash, no exit, no
        // gray fill): only the trailer (PNG's IEND, JPEG's EOI) may be missing, as for PIL.
        for name in ["rgb-interlaced.png", "palette1.png", "progressive.jpg", "rgb.jpg", "cmyk.jpg"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/" + name)))
            for length in 0..<(bytes.count - 12) {
                XCTAssertThrowsError(try ImageDecoder.decode(bytes: Array(bytes[0..<length]), name: "prefix"),
                                     "\(name)[0..<\(length)]") { error in
                    XCTAssertTrue((error as? ToolkitError)?.message.hasPrefix("prefix: ") ?? false, "\(error)")
                }
            }
        }
    }

    func testFlippedBytesNeverCrash() throws {
        var state: UInt64 = 16
        func next(_ n: Int) -> Int {  // a fixed LCG: the same corruptions every run
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for name in ["rgb.png", "palette4.png", "rgb.jpg", "progressive.jpg"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/" + name)))
            for _ in 0..<100 {
                var copy = bytes
                for _ in 0..<3 { copy[next(copy.count)] = UInt8(next(256)) }
                if let image = try? ImageDecoder.decode(bytes: copy, name: name) {
                    XCTAssertEqual(image.pixels.count, image.channels * image.height * image.width)
                }
            }
        }
    }

    func testOversizedImageIsRefusedBeforeAllocating() throws {
        // A PNG header claiming 100000 × 100000 RGBA (4·10^10 bytes).
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = Array("IHDR".utf8)
        for v in [UInt32(100_000), 100_000] { ihdr += withUnsafeBytes(of: v.bigEndian, Array.init) }
        ihdr += [8, 6, 0, 0, 0]
        bytes += withUnsafeBytes(of: UInt32(13).bigEndian, Array.init) + ihdr
        bytes += withUnsafeBytes(of: crc32(ihdr).bigEndian, Array.init)
        // An empty IDAT: libpng stops reading the header there.
        bytes += [0, 0, 0, 0] + Array("IDAT".utf8) + withUnsafeBytes(of: crc32(Array("IDAT".utf8)).bigEndian, Array.init)
        XCTAssertThrowsError(try ImageDecoder.decode(bytes: bytes, name: "huge.png")) { error in
            let message = (error as? ToolkitError)?.message ?? ""
            XCTAssertTrue(message.contains("huge.png") && message.contains("limit"), message)
        }
    }

    func testDirectoryAndMissingFileAreIOErrors() {
        XCTAssertThrowsError(try ImageDecoder.decode(path: imageFixtures)) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .io)
        }
        XCTAssertThrowsError(try ImageDecoder.decode(path: imageFixtures + "/missing.png")) { error in
            XCTAssertTrue((error as? ToolkitError)?.message.contains("missing.png") ?? false)
        }
    }
}

/// The CRC-32 of PNG chunks (kind + data).
private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
