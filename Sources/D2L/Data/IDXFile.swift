/// A file in the IDX format of MNIST and Fashion-MNIST, unsigned-byte data only.
///
/// Layout (all integers big-endian): a 4-byte magic `0x00 0x00 type rank` (type `0x08`
/// is unsigned byte), then `rank` 4-byte dimension sizes, then the data, row-major,
/// one byte per element. Images are magic `0x00000803` with dimensions
/// `[count, rows, columns]`; labels are magic `0x00000801` with dimensions `[count]`.
public struct IDXFile: Sendable, Equatable {
    /// The magic of an image file: unsigned bytes, rank 3 (`[count, rows, columns]`).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// The magic of a label file: unsigned bytes, rank 1 (`[count]`).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// The magic number as read from the file.
    public var magic: UInt32
    /// The dimension sizes from the header, outermost first.
    public var dimensions: [Int]
    /// The elements, row-major over `dimensions` (`dimensions.reduce(1, *)` bytes).
    public var data: [UInt8]

    /// Parses IDX bytes whose magic must be `expectedMagic`.
    ///
    /// - Parameters:
    ///   - bytes: the whole (decompressed) file.
    ///   - expectedMagic: `IDXFile.imagesMagic`, `IDXFile.labelsMagic`, or another
    ///     unsigned-byte magic `0x000008rr`.
    ///   - path: the file's name, used in error messages only.
    /// - Throws: `ToolkitError(.invalidData)` when the magic differs (message gives the
    ///   expected and found values), a dimension is zero for rows or columns, or the byte
    ///   count differs from what the header claims (message gives both counts).
    public init(bytes: [UInt8], expectedMagic: UInt32, path: String = "<memory>") throws {
        let header = try IDXFile.header(bytes, total: bytes.count, expectedMagic: expectedMagic, path: path)
        try IDXFile.checkSize(header, bytes.count, path: path)
        self.magic = header.magic
        self.dimensions = header.dimensions
        self.data = Array(bytes[header.size...])
    }

    private init(header: Header, data: [UInt8]) {
        magic = header.magic
        dimensions = header.dimensions
        self.data = data
    }

    /// What an IDX header says: the magic, the dimensions, the header's size and the
    /// file's size it implies.
    private struct Header {
        var magic: UInt32
        var dimensions: [Int]
        var size: Int
        var elementCount: Int
        var fileSize: Int
    }

    /// The longest IDX header: the magic and 255 dimensions.
    private static let maxHeaderSize = 4 + 4 * 255

    /// Parses the header at the start of `bytes`, the first bytes (at least
    /// ``maxHeaderSize`` of them, or all) of a file of `total` bytes.
    private static func header(_ bytes: [UInt8], total: Int, expectedMagic: UInt32, path: String) throws -> Header {
        guard bytes.count >= 4 else {
            throw ToolkitError(
                .invalidData,
                "'\(path)' is not an IDX file: \(total) bytes, fewer than the 4-byte magic")
        }
        let magic = IDXFile.bigEndianUInt32(bytes, at: 0)
        guard magic == expectedMagic else {
            throw ToolkitError(
                .invalidData,
                "'\(path)' has IDX magic \(IDXFile.hex(magic)), expected \(IDXFile.hex(expectedMagic))")
        }
        guard (magic >> 8) & 0xFF == 0x08 else {
            throw ToolkitError(
                .unsupported, "'\(path)': IDX element type \(IDXFile.hex((magic >> 8) & 0xFF)) is not unsigned byte (0x08)")
        }
        let rank = Int(magic & 0xFF)
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw ToolkitError(
                .invalidData,
                "'\(path)' is truncated: its header needs \(headerSize) bytes, the file has \(total)")
        }
        var dimensions: [Int] = []
        var elementCount = 1
        for axis in 0..<rank {
            let size = Int(IDXFile.bigEndianUInt32(bytes, at: 4 + 4 * axis))
            if axis > 0 && size == 0 {
                throw ToolkitError(.invalidData, "'\(path)': IDX dimension \(axis) is 0")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw ToolkitError(.invalidData, "'\(path)': IDX dimensions \(dimensions + [size]) are too large")
            }
            elementCount = product
            dimensions.append(size)
        }
        let (fileSize, overflow) = headerSize.addingReportingOverflow(elementCount)
        guard !overflow else {
            throw ToolkitError(.invalidData, "'\(path)': IDX dimensions \(dimensions) are too large")
        }
        return Header(magic: magic, dimensions: dimensions, size: headerSize, elementCount: elementCount, fileSize: fileSize)
    }

    /// Checks that a file of `count` (decompressed) bytes is what `header` claims.
    private static func checkSize(_ header: Header, _ count: Int, path: String, decompressed: Bool = false) throws {
        guard count == header.fileSize else {
            let problem = count < header.fileSize ? "is truncated" : "has trailing bytes"
            let has = !decompressed ? "has \(count)"
                : count > header.fileSize ? "decompresses to more" : "has \(count) (decompressed)"
            throw ToolkitError(
                .invalidData,
                "'\(path)' \(problem): the header \(header.dimensions) claims \(header.fileSize) bytes, the file \(has)")
        }
    }

    /// Reads and parses an IDX file, gzip-compressed or plain.
    ///
    /// The header is read first and its dimensions checked against the file's size before
    /// the data is read: a plain file must be exactly the header's size; a gzip file must
    /// be able to decompress to it (deflate expands at most 1032:1), and decompression
    /// stops one byte past it. A FIFO, device or directory is refused without reading.
    ///
    /// - Throws: `ToolkitError(.io)` when the file cannot be read, `.invalidData` as
    ///   `init(bytes:expectedMagic:path:)` does or when the gzip stream is corrupt.
    public static func read(path: String, expectedMagic: UInt32) throws -> IDXFile {
        let file = try BoundedFile(path: path)
        if try !GzipStream.isGzip(file) {
            let header = try IDXFile.header(try file.head(maxHeaderSize), total: file.size,
                                            expectedMagic: expectedMagic, path: path)
            try checkSize(header, file.size, path: path)
            return IDXFile(header: header, data: try file.read(header.size, header.elementCount))
        }
        let stream = try GzipStream(file)
        var head = try stream.read(upTo: maxHeaderSize)
        if head.count < maxHeaderSize { try stream.finish() }  // the whole stream: report corruption first
        let header = try IDXFile.header(head, total: head.count, expectedMagic: expectedMagic, path: path)
        let (most, overflow) = file.size.multipliedReportingOverflow(by: 1032)
        guard overflow || header.fileSize <= most + 1024 else {
            throw ToolkitError(
                .invalidData,
                "'\(path)' is truncated: the header \(header.dimensions) claims \(header.fileSize) bytes, more than its \(file.size) compressed bytes can hold")
        }
        if head.count > header.fileSize {
            try checkSize(header, head.count, path: path, decompressed: true)
        }
        if head.count == maxHeaderSize {
            // At most one byte past what the header claims: enough to tell trailing bytes.
            head += try stream.read(upTo: header.fileSize - head.count + 1)
            if head.count <= header.fileSize { try stream.finish() }
        }
        try checkSize(header, head.count, path: path, decompressed: true)
        head.removeSubrange(0 ..< header.size)
        return IDXFile(header: header, data: head)
    }

    /// Reads an image file (magic `0x00000803`).
    ///
    /// - Returns: `count` images of `rows × columns`; `pixels` is `[count, rows, columns]`
    ///   row-major, one byte per pixel (0–255).
    public static func readImages(path: String) throws -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        let file = try read(path: path, expectedMagic: imagesMagic)
        return (file.dimensions[0], file.dimensions[1], file.dimensions[2], file.data)
    }

    /// Reads a label file (magic `0x00000801`).
    ///
    /// - Returns: the labels, `[count]`, one byte each.
    public static func readLabels(path: String) throws -> [UInt8] {
        try read(path: path, expectedMagic: labelsMagic).data
    }

    /// Serialises `dimensions` and `data` with the given unsigned-byte magic (for tests and
    /// for writing small data sets). The caller keeps `data.count == dimensions.product`.
    public static func encode(magic: UInt32, dimensions: [Int], data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + 4 * dimensions.count + data.count)
        for value in [magic] + dimensions.map({ UInt32(truncatingIfNeeded: $0) }) {
            bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        bytes += data
        return bytes
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
