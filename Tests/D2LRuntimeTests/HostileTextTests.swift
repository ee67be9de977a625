import Foundation
import XCTest
@testable import D2LRuntime

/// Names and types a model file holds reach messages quoted: one line, bounded, no
/// terminal escapes, whatever bytes the file has.
final class HostileTextTests: XCTestCase {
    /// 1000 bytes that are neither printable nor UTF-8 (no NUL: protobuf-c strings end there).
    static let binary: [UInt8] = (0 ..< 1000).map { i in UInt8(truncatingIfNeeded: [0x01, 0x1b, 0x0a, 0x9b, 0xff, 0xc3][i % 6]) }
    static let placeholder = String(repeating: "Q", count: 1000)

    /// `bytes` with the only run of the placeholder replaced by `binary` (same length, so the
    /// protobuf stays valid).
    func withBinary(_ bytes: [UInt8]) throws -> [UInt8] {
        let needle = Array(Self.placeholder.utf8)
        var found: Int?
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], Array(bytes[i ..< i + needle.count]) == needle { found = i; break }
            i += 1
        }
        let start = try XCTUnwrap(found, "placeholder not found")
        var out = bytes
        out.replaceSubrange(start ..< start + needle.count, with: Self.binary)
        return out
    }

    /// Loads `bytes` from memory and from a file; returns both messages.
    func refusals(_ bytes: [UInt8]) throws -> [D2LError] {
        var errors: [D2LError] = []
        do {
            _ = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
            XCTFail("accepted from memory")
        } catch let error as D2LError { errors.append(error) }
        let path = NSTemporaryDirectory() + "d2l-hostile-\(UUID().uuidString).onnx"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try Model(path: path)
            XCTFail("accepted from a file")
        } catch let error as D2LError { errors.append(error) }
        return errors
    }

    func assertSafe(_ error: D2LError, file: StaticString = #filePath, line: UInt = #line) {
        let message = error.message
        XCTAssertFalse(message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || (0x80 ... 0x9f).contains($0.value) },
                       "control characters in: \(message.debugDescription)", file: file, line: line)
        XCTAssertLessThanOrEqual(message.count, 220, message, file: file, line: line)
    }

    func testOperatorTypeWithEscapesAndBinaryGivesOneBoundedLine() throws {
        let op = "Foo\n\u{1b}[31m" + Self.placeholder
        let bytes = try withBinary(buildModel(inputs: [("x", .float32, [1])], outputs: [("y", .float32)],
                                              nodes: [TestNode(op: op, inputs: ["x"], outputs: ["y"])]))
        for error in try refusals(bytes) {
            XCTAssertEqual(error.status, .unsupported, error.message)
            XCTAssertTrue(error.message.contains("'Foo\\n\\x1b[31m"), error.message)
            // The runtime reads names as UTF-8, invalid bytes becoming U+FFFD (3 bytes each).
            XCTAssertTrue(error.message.contains("\\x01\\x1b\\n\u{fffd}"), error.message)
            XCTAssertTrue(error.message.contains("…' (2007 bytes)"), error.message)
            assertSafe(error)
        }
    }

    func testNodeNameWithEscapesAndBinaryGivesOneBoundedLine() throws {
        // Relu with two inputs: refused, naming the node.
        let name = "relu\n\u{1b}[31m" + Self.placeholder
        let bytes = try withBinary(buildModel(inputs: [("x", .float32, [1])], outputs: [("y", .float32)],
                                              nodes: [TestNode(op: "Relu", inputs: ["x", "x"], outputs: ["y"], name: name)]))
        for error in try refusals(bytes) {
            XCTAssertEqual(error.status, .invalidModel, error.message)
            XCTAssertTrue(error.message.hasPrefix("Relu node 'relu\\n\\x1b[31m"), error.message)
            assertSafe(error)
        }
    }

    func testTensorNameWithBinaryGivesOneBoundedLine() throws {
        // The node reads a tensor nothing produces, whose name is binary.
        let bytes = try withBinary(buildModel(inputs: [("x", .float32, [1])], outputs: [("y", .float32)],
                                              nodes: [TestNode(op: "Add", inputs: ["x", Self.placeholder], outputs: ["y"])]))
        for error in try refusals(bytes) {
            XCTAssertEqual(error.status, .invalidModel, error.message)
            XCTAssertTrue(error.message.contains("…' (1998 bytes)"), error.message)
            assertSafe(error)
        }
    }
}
