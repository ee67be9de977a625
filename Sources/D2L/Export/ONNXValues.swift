import Foundation

// The values an `ONNXGraphBuilder` holds: element types, dimensions, tensors and node
// attributes, as plain Swift values. Nothing here touches protobuf-c; the builder turns
// them into C structs only while it serializes.

/// An ONNX element type, numbered as `TensorProto.DataType`.
public enum ONNXElementType: Int32, Sendable, CustomStringConvertible {
    case float = 1
    case uint8 = 2
    case int32 = 6
    case int64 = 7
    case bool = 9

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float, .int32: return 4
        case .uint8, .bool: return 1
        case .int64: return 8
        }
    }

    /// The ONNX name (`float`, `int64`, ...).
    public var description: String {
        switch self {
        case .float: return "float"
        case .uint8: return "uint8"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        }
    }
}

/// One dimension of a declared graph input or output: a fixed size (`dim_value`) or a
/// named symbolic size (`dim_param`, e.g. `"batch"`).
///
/// Literals work: `[.symbolic("batch"), 784]` or `["batch", 784]`.
public enum ONNXDimension: Equatable, Hashable, Sendable, CustomStringConvertible,
                           ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case fixed(Int)
    case symbolic(String)

    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .symbolic(value) }

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .symbolic(let name): return name
        }
    }

    /// `shape` with each nil dimension made symbolic: the i-th nil takes `names[i]`, or
    /// `"batch"` (first) and `"dim<axis>"` (others) when `names` has no more entries.
    public static func dimensions(_ shape: [Int?], symbolicNames names: [String] = []) -> [ONNXDimension] {
        var nilIndex = 0
        var result: [ONNXDimension] = []
        for (axis, d) in shape.enumerated() {
            if let d {
                result.append(.fixed(d))
            } else {
                let name = nilIndex < names.count ? names[nilIndex] : (nilIndex == 0 ? "batch" : "dim\(axis)")
                result.append(.symbolic(name))
                nilIndex += 1
            }
        }
        return result
    }
}

/// `[1, batch, 3]`, for messages.
func onnxShapeText(_ dims: [ONNXDimension]) -> String {
    "[" + dims.map(\.description).joined(separator: ", ") + "]"
}

/// A tensor's little-endian element bytes. Immutable once made, so tensors (and builders
/// that hold them) can be copied without copying the data. The bytes are either one
/// malloc'd block, or borrowed from a float array (a toolkit tensor's storage, kept alive
/// here; no copy on little-endian hosts), or computed when written: a float array whose
/// rows are scaled (BatchNorm folded into a convolution's weights), so that the folded
/// weights never exist whole in memory.
final class ONNXRawBytes: @unchecked Sendable {
    enum Source {
        /// malloc'd, freed with the object.
        case owned(UnsafeMutableRawPointer)
        /// A float array's elements (little-endian hosts only).
        case floats([Float])
        /// `Float(Double(values[i]) * scale[i / rowLength])`, computed in chunks.
        case scaledRows([Float], scale: [Double], rowLength: Int)
    }

    let source: Source
    /// The number of bytes.
    let count: Int

    /// A block of `count` bytes that `fill` initializes.
    init(count: Int, fill: (UnsafeMutableRawPointer) -> Void) {
        // malloc(0) may return nil; one byte keeps the pointer valid.
        guard let p = malloc(max(count, 1)) else {
            fatalError("out of memory allocating \(count) bytes for an ONNX tensor")
        }
        source = .owned(p)
        self.count = count
        fill(p)
    }

    /// Borrows `values` (copied only on a big-endian host).
    convenience init(borrowing values: [Float]) {
        #if _endian(little)
        self.init(source: .floats(values), count: values.count * 4)
        #else
        self.init(count: values.count * 4) { p in
            let out = p.bindMemory(to: UInt32.self, capacity: values.count)
            for i in 0..<values.count { out[i] = values[i].bitPattern.littleEndian }
        }
        #endif
    }

    /// `values` with row r (of `rowLength` elements) multiplied by `scale[r]` in double
    /// precision, computed when the bytes are read.
    convenience init(scaling values: [Float], rowsBy scale: [Double], rowLength: Int) {
        precondition(rowLength >= 1 && scale.count * rowLength == values.count,
                     "ONNXRawBytes: \(scale.count) rows of \(rowLength) do not cover \(values.count) values")
        self.init(source: .scaledRows(values, scale: scale, rowLength: rowLength), count: values.count * 4)
    }

    private init(source: Source, count: Int) {
        self.source = source
        self.count = count
    }

    deinit { if case .owned(let p) = source { free(p) } }

    /// Elements computed per chunk of `.scaledRows` (64 KiB).
    static let chunkElements = 1 << 14

    /// Calls `body` with the bytes in order, in one or more consecutive non-empty pieces
    /// (none when `count` is 0). A piece is only valid during its call.
    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard count > 0 else { return }
        switch source {
        case .owned(let p):
            try body(UnsafeRawBufferPointer(start: p, count: count))
        case .floats(let values):
            try values.withUnsafeBytes { try body($0) }
        case .scaledRows(let values, let scale, let rowLength):
            let n = values.count
            var chunk = [UInt32](repeating: 0, count: min(n, Self.chunkElements))
            try values.withUnsafeBufferPointer { v in
                var start = 0
                while start < n {
                    let end = min(n, start + chunk.count)
                    chunk.withUnsafeMutableBufferPointer { out in
                        for i in start..<end {
                            let folded = Float(Double(v[i]) * scale[i / rowLength])
                            out[i - start] = folded.bitPattern.littleEndian
                        }
                    }
                    try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0 ..< 4 * (end - start)])) }
                    start = end
                }
            }
        }
    }

    /// A copy of all the bytes.
    var array: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        forEachChunk { out.append(contentsOf: $0) }
        return out
    }
}

/// A constant tensor: an initializer's value or a `tensor` attribute (Constant's
/// `value`). Data is kept as little-endian bytes, written as `raw_data`.
public struct ONNXTensor: Sendable {
    public let elementType: ONNXElementType
    public let shape: [Int]
    /// Number of values given (checked against `shape` when the model is serialized).
    public let valueCount: Int
    let bytes: ONNXRawBytes

    /// A float32 tensor of `values` (row-major).
    public init(shape: [Int], floats values: UnsafeBufferPointer<Float>) {
        elementType = .float
        self.shape = shape
        valueCount = values.count
        bytes = ONNXRawBytes(count: values.count * 4) { p in
            let out = p.bindMemory(to: UInt32.self, capacity: values.count)
            for i in 0..<values.count { out[i] = values[i].bitPattern.littleEndian }
        }
    }

    /// A float32 tensor of `values` (row-major). The array's storage is shared, not copied.
    public init(shape: [Int], floats values: [Float]) {
        elementType = .float
        self.shape = shape
        valueCount = values.count
        bytes = ONNXRawBytes(borrowing: values)
    }

    /// A float32 tensor whose row r (`rowLength` consecutive values) is `values`' row r
    /// times `scale[r]`, rounded from double precision: BatchNorm folded into a weight. The
    /// products are computed while the model is written, never held whole.
    init(shape: [Int], scaling values: [Float], rowsBy scale: [Double]) {
        elementType = .float
        self.shape = shape
        valueCount = values.count
        if values.isEmpty || scale.isEmpty {
            bytes = ONNXRawBytes(borrowing: values)
        } else {
            bytes = ONNXRawBytes(scaling: values, rowsBy: scale, rowLength: values.count / scale.count)
        }
    }

    /// An int64 tensor of `values` (row-major).
    public init(shape: [Int], int64s values: [Int64]) {
        elementType = .int64
        self.shape = shape
        valueCount = values.count
        bytes = ONNXRawBytes(count: values.count * 8) { p in
            let out = p.bindMemory(to: Int64.self, capacity: values.count)
            for i in 0..<values.count { out[i] = values[i].littleEndian }
        }
    }

    /// A float32 scalar (shape `[]`).
    public static func scalar(_ value: Float) -> ONNXTensor { ONNXTensor(shape: [], floats: [value]) }

    /// An int64 vector (shape `[values.count]`), e.g. Reshape's shape.
    public static func vector(_ values: [Int64]) -> ONNXTensor { ONNXTensor(shape: [values.count], int64s: values) }

    /// The values as Floats (float tensors) or nil.
    public var floatValues: [Float]? {
        guard elementType == .float else { return nil }
        return bytes.array.withUnsafeBytes { raw in
            (0..<valueCount).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// The values as Int64s (int64 tensors) or nil.
    public var int64Values: [Int64]? {
        guard elementType == .int64 else { return nil }
        return bytes.array.withUnsafeBytes { raw in
            (0..<valueCount).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        }
    }

    /// Checks that the shape is non-negative and holds exactly `valueCount` elements;
    /// `what` names the tensor in the message.
    func validate(_ what: String) throws {
        var expected = 1
        for d in shape {
            guard d >= 0 else {
                throw ToolkitError(.invalidArgument, "\(what) has a negative dimension in shape \(shape)")
            }
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw ToolkitError(.invalidArgument, "\(what) shape \(shape) is too large") }
            expected = product
        }
        guard expected == valueCount else {
            throw ToolkitError(.invalidArgument,
                               "\(what) has shape \(shape) (\(expected) elements) but \(valueCount) values")
        }
    }
}

/// A typed node attribute.
public enum ONNXAttribute: Sendable {
    case int(String, Int)
    case ints(String, [Int])
    case float(String, Float)
    case floats(String, [Float])
    case string(String, String)
    case strings(String, [String])
    case tensor(String, ONNXTensor)

    /// The attribute's name.
    public var name: String {
        switch self {
        case .int(let n, _), .ints(let n, _), .float(let n, _), .floats(let n, _),
             .string(let n, _), .strings(let n, _), .tensor(let n, _):
            return n
        }
    }
}

/// A declared graph input or output.
public struct ONNXValueInfo: Sendable {
    public var name: String
    public var elementType: ONNXElementType
    /// The declared shape, or nil for none (rank unknown).
    public var shape: [ONNXDimension]?
}

/// One initializer: a named constant tensor.
public struct ONNXInitializer: Sendable {
    public var name: String
    public var tensor: ONNXTensor
}

/// One node of the graph, in the order it was added (which must be a topological order).
public struct ONNXNode: Sendable {
    public var opType: String
    /// The node's name; nil gets `<opType>_<index>` when serialized.
    public var name: String?
    /// Tensor names read; "" for an omitted optional input.
    public var inputs: [String]
    /// Tensor names written; "" for an omitted optional output.
    public var outputs: [String]
    public var attributes: [ONNXAttribute]
}
