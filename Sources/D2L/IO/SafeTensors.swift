import Foundation
import D2LRuntime

// The safetensors format (https://github.com/huggingface/safetensors):
//
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    UTF-8 JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
//              ..., "__metadata__": {"key": "value"}}, padded with spaces
//   rest       the data buffer; each tensor's bytes at [b, e), little-endian, row-major
//
// The tensors' byte ranges must cover the data buffer exactly: no holes, no overlaps.

/// The element types of a safetensors file this toolkit reads and writes.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// The reference implementation's order of dtypes (increasing alignment); it lays
    /// tensors out in decreasing rank, then by name.
    var alignmentRank: Int {
        switch self {
        case .BOOL: return 0
        case .U8: return 1
        case .I8: return 2
        case .I16: return 5
        case .F16: return 7
        case .BF16: return 8
        case .I32: return 9
        case .F32: return 11
        case .F64: return 12
        case .I64: return 13
        }
    }
}

/// One tensor of a safetensors file: its element type, shape and raw little-endian bytes.
///
/// The byte count always equals the element count times the dtype's size; the
/// initialisers check it.
public struct SafeTensor: Equatable, Sendable {
    /// The element type.
    public let dtype: SafeTensorsDType
    /// The dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The elements, row-major, little-endian.
    public let bytes: [UInt8]

    /// The number of elements (the product of `shape`; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// A tensor over raw bytes.
    /// - Throws: ``ToolkitError`` `.invalidArgument` for a negative dimension, `.shape` when
    ///   `bytes.count` is not the element count times `dtype.byteSize`.
    public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws {
        let expected = try SafeTensor.byteCount(dtype: dtype, shape: shape)
        guard bytes.count == expected else {
            throw ToolkitError(.shape, "a \(dtype.rawValue) tensor of shape \(shape) needs \(expected) bytes, got \(bytes.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A tensor of `values` stored as `dtype`, which must be `.F32` (the default), `.F64`,
    /// `.F16` or `.BF16` (the last two rounded to nearest, ties to even).
    /// - Throws: ``ToolkitError`` `.shape` when `values.count` does not match `shape`,
    ///   `.unsupported` for an integer dtype.
    public init(floats values: [Float], shape: [Int], dtype: SafeTensorsDType = .F32) throws {
        try SafeTensor.checkCount(values.count, shape: shape)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * dtype.byteSize)
        switch dtype {
        case .F32:
            for v in values { IOBinary.appendLittleEndian(&bytes, v.bitPattern) }
        case .F64:
            for v in values { IOBinary.appendLittleEndian(&bytes, Double(v).bitPattern) }
        case .F16:
            for v in values { IOBinary.appendLittleEndian(&bytes, IOBinary.floatToHalfBits(v)) }
        case .BF16:
            for v in values { IOBinary.appendLittleEndian(&bytes, IOBinary.floatToBFloat16Bits(v)) }
        default:
            throw ToolkitError(.unsupported, "cannot store floats as \(dtype.rawValue); use F32, F64, F16 or BF16")
        }
        try self.init(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// A tensor of `values` stored as I64.
    /// - Throws: ``ToolkitError`` `.shape` when `values.count` does not match `shape`.
    public init(int64s values: [Int64], shape: [Int]) throws {
        try SafeTensor.checkCount(values.count, shape: shape)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for v in values { IOBinary.appendLittleEndian(&bytes, UInt64(bitPattern: v)) }
        try self.init(dtype: .I64, shape: shape, bytes: bytes)
    }

    /// A tensor of `values` stored as U8.
    /// - Throws: ``ToolkitError`` `.shape` when `values.count` does not match `shape`.
    public init(uint8s values: [UInt8], shape: [Int]) throws {
        try SafeTensor.checkCount(values.count, shape: shape)
        try self.init(dtype: .U8, shape: shape, bytes: values)
    }

    /// The elements as `Float`.
    ///
    /// F16 and BF16 convert exactly; F64 and 64/32-bit integers round to the nearest float.
    /// BOOL gives 0 and 1.
    public func floats() throws -> [Float] {
        let n = bytes.count / dtype.byteSize
        var out = [Float](repeating: 0, count: n)
        bytes.withUnsafeBytes { raw in
            switch dtype {
            case .F32:
                for i in 0 ..< n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .F64:
                for i in 0 ..< n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .F16:
                for i in 0 ..< n { out[i] = IOBinary.halfBitsToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .BF16:
                for i in 0 ..< n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .I64:
                for i in 0 ..< n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .I32:
                for i in 0 ..< n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .I16:
                for i in 0 ..< n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .I8:
                for i in 0 ..< n { out[i] = Float(Int8(bitPattern: raw[i])) }
            case .U8:
                for i in 0 ..< n { out[i] = Float(raw[i]) }
            case .BOOL:
                for i in 0 ..< n { out[i] = raw[i] != 0 ? 1 : 0 }
            }
        }
        return out
    }

    /// The elements as `Int64`, for the integer dtypes (I64, I32, I16, I8, U8, BOOL).
    /// - Throws: ``ToolkitError`` `.unsupported` for a floating-point dtype.
    public func int64s() throws -> [Int64] {
        let n = bytes.count / dtype.byteSize
        var out = [Int64](repeating: 0, count: n)
        try bytes.withUnsafeBytes { raw in
            switch dtype {
            case .I64:
                for i in 0 ..< n { out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            case .I32:
                for i in 0 ..< n { out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .I16:
                for i in 0 ..< n { out[i] = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .I8:
                for i in 0 ..< n { out[i] = Int64(Int8(bitPattern: raw[i])) }
            case .U8:
                for i in 0 ..< n { out[i] = Int64(raw[i]) }
            case .BOOL:
                for i in 0 ..< n { out[i] = raw[i] != 0 ? 1 : 0 }
            case .F32, .F64, .F16, .BF16:
                throw ToolkitError(.unsupported, "cannot read a \(dtype.rawValue) tensor as integers; use floats()")
            }
        }
        return out
    }

    // MARK: Helpers

    /// Elements × byte size, checking for negative dimensions and overflow.
    static func byteCount(dtype: SafeTensorsDType, shape: [Int]) throws -> Int {
        var total = dtype.byteSize
        for d in shape {
            guard d >= 0 else {
                throw ToolkitError(.invalidArgument, "tensor shape \(shape) has a negative dimension")
            }
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else { throw ToolkitError(.invalidArgument, "tensor shape \(shape) is too large") }
            total = product
        }
        return total
    }

    static func checkCount(_ count: Int, shape: [Int]) throws {
        _ = try byteCount(dtype: .U8, shape: shape)
        let expected = shape.reduce(1, *)
        guard count == expected else {
            throw ToolkitError(.shape, "shape \(shape) holds \(expected) elements, got \(count) values")
        }
    }
}

/// A safetensors file in memory: named tensors in order, and string metadata.
///
/// ```swift
/// var file = SafeTensorsFile(metadata: ["format": "pt"])
/// file.tensors.append((name: "fc.weight", tensor: try SafeTensor(floats: weights, shape: [3, 4])))
/// try file.write(to: "model.safetensors")
/// let back = try SafeTensorsFile.read(path: "model.safetensors")
/// let w = try back["fc.weight"]?.floats()
/// ```
public struct SafeTensorsFile {
    /// The tensors, in order. Reading gives them in the order of their data in the file;
    /// writing keeps this order in the header but lays the data out as the reference
    /// implementation does (by decreasing dtype alignment, then by name).
    public var tensors: [(name: String, tensor: SafeTensor)]
    /// The header's `__metadata__`, string to string.
    public var metadata: [String: String]

    /// A file of `tensors` and `metadata`.
    public init(tensors: [(name: String, tensor: SafeTensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name` (the first one, should there be several), or nil.
    public subscript(name: String) -> SafeTensor? {
        tensors.first(where: { $0.name == name })?.tensor
    }

    /// The tensors' names, in order.
    public var names: [String] { tensors.map(\.name) }

    /// The largest header the reference implementation accepts.
    static let maxHeaderSize = 100_000_000

    // MARK: Reading

    /// Reads and validates the safetensors file at `path`.
    ///
    /// Reads the 8-byte header length first and refuses a length past the file's end (or
    /// over 100 000 000 bytes, the reference implementation's limit) before reading the
    /// header; the header's offsets must cover the rest of the file exactly before any
    /// tensor is read; each tensor is then read by offset, so a large file is never held
    /// twice. A FIFO, device or directory is refused without reading.
    /// - Throws: ``ToolkitError`` `.io` when the file cannot be read, `.invalidData` naming
    ///   the file (and the tensor) when its contents are not a valid safetensors file.
    public static func read(path: String) throws -> SafeTensorsFile {
        try read(BoundedFile(path: path), source: path)
    }

    /// Reads and validates the safetensors file open as `file` (see ``read(path:)``).
    static func read(_ file: BoundedFile, source: String) throws -> SafeTensorsFile {
        try decode(size: file.size, source: source) { offset, length in try file.read(offset, length) }
    }

    /// Decodes and validates the bytes of a safetensors file.
    /// - Parameters:
    ///   - bytes: the whole file: the 8-byte little-endian header length, the JSON header,
    ///     then the tensors' data.
    ///   - source: what to call the bytes in error messages (a path).
    /// - Throws: ``ToolkitError`` `.invalidData` naming `source` (and the tensor).
    public static func decode(_ bytes: [UInt8], source: String = "safetensors data") throws -> SafeTensorsFile {
        try decode(size: bytes.count, source: source) { offset, length in Array(bytes[offset ..< offset + length]) }
    }

    /// Decodes and validates a safetensors file of `size` bytes, whose bytes
    /// `[offset, offset + length)` `read` returns (only ever asked for ranges within `size`).
    private static func decode(size: Int, source: String,
                               read: (_ offset: Int, _ length: Int) throws -> [UInt8]) throws -> SafeTensorsFile {
        func bad(_ why: String) -> ToolkitError { ToolkitError(.invalidData, "\(source): \(why)") }

        guard size >= 8 else {
            throw bad("only \(size) bytes; a safetensors file starts with an 8-byte header length")
        }
        let lengthBytes = try read(0, 8)
        var n64: UInt64 = 0
        for (i, byte) in lengthBytes.enumerated() { n64 |= UInt64(byte) << (8 * UInt64(i)) }
        guard n64 <= UInt64(maxHeaderSize) else {
            throw bad("header length \(n64) exceeds the limit of \(maxHeaderSize) bytes")
        }
        guard n64 <= UInt64(size - 8) else {
            throw bad("header length \(n64) runs past the end of the file (\(size) bytes)")
        }
        let n = Int(n64)
        let headerBytes = Data(try read(8, n))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes, options: [])
        } catch {
            throw bad("the header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw bad("the header is not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let dict = raw as? [String: Any] else { throw bad("__metadata__ is not an object") }
            for (key, value) in dict {
                guard let text = value as? String else {
                    throw bad("__metadata__ entry \(quoted(key)) is not a string")
                }
                metadata[key] = text
            }
        }

        struct Entry { var name: String; var dtype: SafeTensorsDType; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw bad("tensor \(quoted(name)): entry is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw bad("tensor \(quoted(name)): no dtype") }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw bad("tensor \(quoted(name)): unknown or unsupported dtype \(quoted(dtypeName))")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues) else {
                throw bad("tensor \(quoted(name)): shape is not a list of integers")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues),
                  offsets.count == 2 else {
                throw bad("tensor \(quoted(name)): data_offsets is not a pair of integers")
            }
            if let d = shape.first(where: { $0 < 0 }) {
                throw bad("tensor \(quoted(name)): shape \(shape) has a negative dimension \(d)")
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw bad("tensor \(quoted(name)): data_offsets \(offsets) are not an increasing pair of non-negative integers")
            }
            let expected: Int
            do { expected = try SafeTensor.byteCount(dtype: dtype, shape: shape) } catch {
                throw bad("tensor \(quoted(name)): shape \(shape) is too large")
            }
            guard offsets[1] - offsets[0] == expected else {
                throw bad("tensor \(quoted(name)): \(dtype.rawValue) shape \(shape) needs \(expected) bytes but data_offsets \(offsets) span \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }

        // The data must be covered exactly once: sorted by offsets, each starts where the last ended.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        let bufferStart = 8 + n
        let bufferSize = size - bufferStart
        var position = 0
        for entry in entries {
            if entry.end > bufferSize {
                throw bad("tensor \(quoted(entry.name)): data_offsets [\(entry.begin), \(entry.end)] run past the data buffer (\(bufferSize) bytes)")
            }
            if entry.begin < position {
                throw bad("tensor \(quoted(entry.name)): data_offsets [\(entry.begin), \(entry.end)] overlap another tensor's data (which ends at \(position))")
            }
            if entry.begin > position {
                throw bad("tensor \(quoted(entry.name)): data_offsets [\(entry.begin), \(entry.end)] leave a hole at bytes [\(position), \(entry.begin)) of the data buffer")
            }
            position = entry.end
        }
        guard position == bufferSize else {
            throw bad("the tensors cover \(position) bytes but the data buffer has \(bufferSize) (bytes left over at the end)")
        }

        var file = SafeTensorsFile(metadata: metadata)
        file.tensors.reserveCapacity(entries.count)
        for entry in entries {
            let data = try read(bufferStart + entry.begin, entry.end - entry.begin)
            let tensor = try SafeTensor(dtype: entry.dtype, shape: entry.shape, bytes: data)
            file.tensors.append((name: entry.name, tensor: tensor))
        }
        return file
    }

    /// JSON numbers as Ints: nil if any is not an integer that fits.
    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for value in values {
            // JSON true/false also arrive as NSNumber (type code "c"); refuse them.
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
                  let int = value as? Int else { return nil }
            out.append(int)
        }
        return out
    }

    // MARK: Writing

    /// The bytes of this file in the safetensors format.
    ///
    /// The data buffer is laid out as the reference implementation lays it out (decreasing
    /// dtype alignment, then name), so the same tensors give the same bytes; the JSON header
    /// is padded with spaces to a multiple of 8 bytes.
    /// - Throws: ``ToolkitError`` `.invalidArgument` when two tensors share a name or one is
    ///   called `__metadata__`.
    public func encode() throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw ToolkitError(.invalidArgument, "a tensor cannot be called __metadata__")
            }
            guard seen.insert(name).inserted else {
                throw ToolkitError(.invalidArgument, "two tensors are called \"\(name)\"")
            }
        }
        let order = tensors.indices.sorted { a, b in
            let (ta, tb) = (tensors[a], tensors[b])
            if ta.tensor.dtype.alignmentRank != tb.tensor.dtype.alignmentRank {
                return ta.tensor.dtype.alignmentRank > tb.tensor.dtype.alignmentRank
            }
            return Array(ta.name.utf8).lexicographicallyPrecedes(Array(tb.name.utf8))
        }
        var offsets = [(Int, Int)](repeating: (0, 0), count: tensors.count)
        var position = 0
        for i in order {
            let size = tensors[i].tensor.bytes.count
            offsets[i] = (position, position + size)
            position += size
        }

        // Header: __metadata__ first, then the tensors in data order, as the reference does.
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        for i in order {
            let (name, tensor) = tensors[i]
            if !first { json += "," }
            first = false
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += "\(jsonStringLiteral(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offsets[i].0),\(offsets[i].1)]}"
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + position)
        IOBinary.appendLittleEndian(&out, UInt64(header.count))
        out.append(contentsOf: header)
        for i in order { out.append(contentsOf: tensors[i].tensor.bytes) }
        return out
    }

    /// Writes this file to `path` atomically (see ``AtomicFile``).
    /// - Throws: ``ToolkitError`` `.io` naming `path`, or `.invalidArgument` as ``encode()``.
    public func write(to path: String) throws {
        try AtomicFile.write(encode(), to: path)
    }
}

// MARK: - Bit-level helpers

/// Bit-level conversions for binary file formats.
enum IOBinary {
    /// `value`'s bytes, little-endian, appended to `bytes`.
    @inline(__always)
    static func appendLittleEndian<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    /// IEEE half-precision bits to Float, exactly (every half is a float).
    static func halfBitsToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0x1f {  // infinity or NaN (payload kept)
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        if exponent == 0 {  // zero or subnormal: mantissa × 2^-24
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }

    /// Float to IEEE half-precision bits, rounding to nearest, ties to even; overflow gives infinity.
    static func floatToHalfBits(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        let mantissa = bits & 0x7f_ffff
        if exponent == 0xff {  // infinity or NaN (quiet NaN kept a NaN)
            return sign | 0x7c00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
        }
        let e = exponent - 127 + 15
        if e >= 0x1f { return sign | 0x7c00 }
        if e <= 0 {  // subnormal half, or zero
            if e < -10 { return sign }
            let full = mantissa | 0x80_0000  // implicit bit
            let shift = UInt32(14 - e)  // 13 + (1 - e)
            var half = full >> shift
            let remainder = full & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }  // may carry into the exponent: correct
        return sign | UInt16(half)
    }

    /// Float to bfloat16 bits (the top 16 bits), rounding to nearest, ties to even.
    static func floatToBFloat16Bits(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
