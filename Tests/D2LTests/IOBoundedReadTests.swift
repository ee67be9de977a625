import Foundation
import XCTest
@testable import D2L
import D2LRuntime

/// A sparse file of `size` zero bytes (no disk blocks), with `head` written at its start.
private func sparseFile(_ path: String, size: Int, head: [UInt8] = []) throws {
    XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(head)))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: UInt64(size))
}

/// Every reader refuses what cannot be a valid file before reading or allocating for it
/// (issue 14, item 4). The checks are on the messages: each names the size-first check that
/// refused the file, which a reader that read the file whole first would not give.
final class IOBoundedReadTests: XCTestCase {
    private static let twoGiB = 2 << 30

    /// Runs every path-based reader of the toolkit on `path`, expecting `kind` and `parts`.
    private func assertEveryReaderRefuses(_ path: String, _ kind: ToolkitError.Kind, _ parts: [String],
                                          file: StaticString = #filePath, line: UInt = #line) {
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try FileInspection.lines(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try PyTorchCheckpoint.load(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try SafeTensorsFile.read(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try IDXFile.read(path: path, expectedMagic: IDXFile.imagesMagic) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try CSVTable.load(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try ONNXModelSummary(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try MetricsLog.read(path: path) }
        ioAssertThrows(kind, [path] + parts, file: file, line: line) { try readTimeMachine(path: path) }
    }

    /// A metrics log larger than any run writes is refused before it is read.
    func testMetricsLogIsBounded() throws {
        let dir = try ioTemporaryDirectory(self)
        let big = dir + "/metrics.csv"
        try sparseFile(big, size: MetricsLog.maxFileSize + 1, head: Array("epoch,loss\n".utf8))
        ioAssertThrows(.invalidData, [big, "\(MetricsLog.maxFileSize + 1) bytes", "a metrics log", "64 MiB"]) {
            try MetricsLog.read(path: big)
        }
    }

    func testFIFODeviceAndDirectoryAreRefusedWithoutBlocking() throws {
        let dir = try ioTemporaryDirectory(self)
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Nobody writes to the FIFO: a reader that opened it blocking would hang here.
        assertEveryReaderRefuses(fifo, .io, ["FIFO", "not a regular file"])
        ioAssertThrows(.io, [fifo, "FIFO"]) { try readPossiblyGzipped(path: fifo) }
        // /dev/zero never ends: a reader that read it whole would run out of memory.
        assertEveryReaderRefuses("/dev/zero", .io, ["character device", "not a regular file"])
        ioAssertThrows(.io, ["/dev/zero", "character device"]) { try readPossiblyGzipped(path: "/dev/zero") }
        assertEveryReaderRefuses(dir, .io, ["directory"])
        // One line each.
        do { _ = try FileInspection.lines(path: "/dev/zero"); XCTFail("read /dev/zero") } catch let error as ToolkitError {
            XCTAssertFalse(error.message.contains("\n"), error.message)
        }
    }

    func testSparse2GiBOfZerosIsRefusedUnread() throws {
        let dir = try ioTemporaryDirectory(self)
        let zeros = dir + "/zeros.bin"
        try sparseFile(zeros, size: Self.twoGiB)
        // Told from its first 16 bytes: no format starts with zeros.
        let notCheckpoint = ["not a PyTorch checkpoint", "2147483648 bytes"]
        ioAssertThrows(.invalidData, [zeros] + notCheckpoint) { try FileInspection.lines(path: zeros) }
        ioAssertThrows(.invalidData, [zeros] + notCheckpoint) { try PyTorchCheckpoint.load(path: zeros) }
        // A header length of 0 gives an empty header, not a read of the rest.
        ioAssertThrows(.invalidData, [zeros, "not valid JSON"]) { try SafeTensorsFile.read(path: zeros) }
        ioAssertThrows(.invalidData, [zeros, "magic 0x00000000", "expected 0x00000803"]) {
            try IDXFile.read(path: zeros, expectedMagic: IDXFile.imagesMagic)
        }
        ioAssertThrows(.invalidData, [zeros, "2147483648 bytes is more than a CSV file may have", "256 MiB"]) {
            try CSVTable.load(path: zeros)
        }
        let model = dir + "/zeros.onnx"
        try sparseFile(model, size: Self.twoGiB - 1)
        ioAssertThrows(.invalidData, [model, "not an ONNX model", "field number 0"]) { try FileInspection.lines(path: model) }
        let tooLarge = dir + "/large.onnx"
        try sparseFile(tooLarge, size: Self.twoGiB)
        ioAssertThrows(.invalidData, [tooLarge, "larger than an ONNX model can be"]) { try ONNXModelSummary(path: tooLarge) }

        // A zip's start, then zeros: the end record is looked for in the last 64 KiB only.
        let zip = dir + "/zeros.zip"
        try sparseFile(zip, size: Self.twoGiB, head: [0x50, 0x4b, 3, 4])
        ioAssertThrows(.invalidData, [zip, "no end-of-central-directory record", "2147483648 bytes"]) {
            try PyTorchCheckpoint.load(path: zip)
        }
        // A pickle's first byte, then zeros: no torch magic number in the first bytes.
        let legacy = dir + "/zeros.pt"
        try sparseFile(legacy, size: Self.twoGiB, head: [0x80, 0x02])
        ioAssertThrows(.invalidData, [legacy, "no torch magic number", "2147483648 bytes"]) {
            try PyTorchCheckpoint.load(path: legacy)
        }
        // A safetensors header length that the file cannot hold.
        let st = dir + "/zeros.safetensors"
        try sparseFile(st, size: Self.twoGiB, head: [0, 0, 0, 0, 1, 0, 0, 0, UInt8(ascii: "{")])
        ioAssertThrows(.invalidData, [st, "header length 4294967296", "exceeds the limit"]) { try SafeTensorsFile.read(path: st) }
        ioAssertThrows(.invalidData, [st, "header length 4294967296"]) { try PyTorchCheckpoint.load(path: st) }
    }

    func testSafeTensorsHeaderLengthPastTheFile() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/short.safetensors"
        var bytes: [UInt8] = []
        IOBinary.appendLittleEndian(&bytes, UInt64(1000))
        bytes += Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        try AtomicFile.write(bytes, to: path)
        ioAssertThrows(.invalidData, [path, "header length 1000 runs past the end of the file (\(bytes.count) bytes)"]) {
            try SafeTensorsFile.read(path: path)
        }
        ioAssertThrows(.invalidData, [path, "header length 1000 runs past the end"]) { try PyTorchCheckpoint.load(path: path) }
        ioAssertThrows(.invalidData, ["m.st", "header length 1000 runs past the end"]) { try SafeTensorsFile.decode(bytes, source: "m.st") }
    }

    func testIDXDimensionsMustMatchTheFileSize() throws {
        let dir = try ioTemporaryDirectory(self)
        let good = IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [2, 3, 4], data: Array(repeating: 7, count: 24))
        // Plain: too short, too long, and dimensions far larger than the file (not allocated).
        let plain = dir + "/plain"
        try AtomicFile.write(Array(good.dropLast(4)), to: plain)
        ioAssertThrows(.invalidData, [plain, "is truncated", "claims 40 bytes", "the file has 36"]) {
            try IDXFile.read(path: plain, expectedMagic: IDXFile.imagesMagic)
        }
        try AtomicFile.write(good + [1, 2], to: plain)
        ioAssertThrows(.invalidData, [plain, "has trailing bytes", "claims 40 bytes", "the file has 42"]) {
            try IDXFile.read(path: plain, expectedMagic: IDXFile.imagesMagic)
        }
        let huge = IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [60000, 60000, 28], data: [1, 2, 3])
        try AtomicFile.write(huge, to: plain)
        ioAssertThrows(.invalidData, [plain, "is truncated", "claims 100800000016 bytes", "the file has 19"]) {
            try IDXFile.read(path: plain, expectedMagic: IDXFile.imagesMagic)
        }
        XCTAssertEqual(try IDXFile.read(path: dir + "/ok", expectedMagic: IDXFile.imagesMagic, writing: good).data.count, 24)

        // gzip: short, long (decompression stops past the claim), and more than deflate can expand to.
        let gz = dir + "/data.gz"
        try writeGzipped(Array(good.dropLast(4)), path: gz)
        ioAssertThrows(.invalidData, [gz, "is truncated", "claims 40 bytes", "has 36 (decompressed)"]) {
            try IDXFile.read(path: gz, expectedMagic: IDXFile.imagesMagic)
        }
        try writeGzipped(good + Array(repeating: 0, count: 5_000), path: gz)
        ioAssertThrows(.invalidData, [gz, "has trailing bytes", "claims 40 bytes", "decompresses to more"]) {
            try IDXFile.read(path: gz, expectedMagic: IDXFile.imagesMagic)
        }
        try writeGzipped(huge, path: gz)
        ioAssertThrows(.invalidData, [gz, "claims 100800000016 bytes", "compressed bytes can hold"]) {
            try IDXFile.read(path: gz, expectedMagic: IDXFile.imagesMagic)
        }
        try writeGzipped(good, path: gz)
        XCTAssertEqual(try IDXFile.read(path: gz, expectedMagic: IDXFile.imagesMagic).data, Array(repeating: 7, count: 24))
        // A large gzip file read in pieces: the data past the first kilobyte arrives whole.
        let pixels = (0 ..< 10 * 28 * 28).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try writeGzipped(IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [10, 28, 28], data: pixels), path: gz)
        XCTAssertEqual(try IDXFile.read(path: gz, expectedMagic: IDXFile.imagesMagic).data, pixels)
    }

    /// Quoted file text in toolkit messages: control characters and ANSI escapes escaped,
    /// at most 80 characters shown (issue 14, item 5).
    func testStateDictKeysAndVocabularyAreQuoted() throws {
        let hostile = "\u{1b}[2J\n" + String(repeating: "k", count: 200)
        let layer = Linear(2, 3)
        let state = layer.stateDict() + [(name: hostile, value: Tensor([1], shape: [1]))]
        ioAssertThrows(.shape, ["unexpected keys: '\\x1b[2J\\n", "…'", "(205 bytes)"]) { try layer.loadStateDict(state) }
        do { try layer.loadStateDict(state) } catch let error as ToolkitError {
            XCTAssertFalse(error.message.contains("\u{1b}"), error.message)
            XCTAssertFalse(error.message.contains(String(repeating: "k", count: 81)), error.message)
        }
        ioAssertThrows(.invalidData, ["index 0 is '\\x1b[2J\\n"]) { try Vocab(idxToToken: [hostile]) }
    }
}

private extension IDXFile {
    /// Writes `bytes` to `path`, then reads it back.
    static func read(path: String, expectedMagic: UInt32, writing bytes: [UInt8]) throws -> IDXFile {
        try AtomicFile.write(bytes, to: path)
        return try read(path: path, expectedMagic: expectedMagic)
    }
}
