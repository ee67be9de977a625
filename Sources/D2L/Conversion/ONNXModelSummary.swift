import D2LRuntime
import CProtobufC
import _D2LONNX

/// What an ONNX file holds, for `d2l-export inspect` and for reporting an export: the
/// graph's inputs and outputs with their declared shapes, the operators and how often each
/// occurs, the opsets, the initializers and the metadata. Read with the package's one
/// protobuf binding (protoc-c); nothing is validated beyond parsing, so it also describes
/// models libd2l refuses.
public struct ONNXModelSummary: Sendable {
    /// A graph input or output: its element type and dimensions (`batch` for symbolic ones).
    public struct Value: Sendable, Equatable {
        public var name: String
        public var elementType: String
        public var dims: [String]

        /// `x: float32 [batch, 1, 28, 28]`.
        public var text: String { "\(quotedUnlessPlain(name)): \(elementType) [\(dims.map(quotedUnlessPlain).joined(separator: ", "))]" }
    }

    public var irVersion: Int
    public var producerName: String
    /// Every imported opset: (domain, version); the default domain is "".
    public var opsets: [(domain: String, version: Int)]
    public var inputs: [Value]
    public var outputs: [Value]
    /// Operator types in order of first appearance, with their counts.
    public var opCounts: [(op: String, count: Int)]
    public var nodeCount: Int
    public var initializerCount: Int
    /// Elements of all initializers (as their dims say).
    public var initializerElements: Int
    public var metadata: [(key: String, value: String)]
    /// The file's size in bytes.
    public var byteCount: Int

    /// The default-domain opset, or nil.
    public var opset: Int? { opsets.first(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version }

    /// The value of metadata `key`, or nil.
    public func metadata(_ key: String) -> String? { metadata.first(where: { $0.key == key })?.value }

    /// `Conv×2, Relu×3, Gemm×1`.
    public var opCountText: String { opCounts.map { "\(quotedUnlessPlain($0.op))×\($0.count)" }.joined(separator: ", ") }

    /// Parses serialized `ModelProto` bytes.
    /// - Parameters:
    ///   - bytes: a whole `.onnx` file (a serialized `onnx.ModelProto`).
    ///   - source: what to call the bytes in messages (a path).
    /// - Throws: `ToolkitError(.invalidData)` when they are not an ONNX model.
    public init(bytes: [UInt8], source: String = "model") throws {
        guard !bytes.isEmpty else { throw ToolkitError(.invalidData, "\(source): the file is empty") }
        let parsed = bytes.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }
        guard let message = parsed else {
            throw ToolkitError(.invalidData, "\(source): not an ONNX model (the \(bytes.count) bytes do not parse as an onnx.ModelProto)")
        }
        defer { onnx__model_proto__free_unpacked(message, nil) }
        let model = message.pointee
        guard let graphPointer = model.graph else {
            throw ToolkitError(.invalidData, "\(source): not an ONNX model (a ModelProto without a graph)")
        }
        let graph = graphPointer.pointee
        irVersion = model.has_ir_version != 0 ? Int(model.ir_version) : 0
        producerName = Self.string(model.producer_name)
        byteCount = bytes.count
        opsets = (0..<model.n_opset_import).compactMap { i in
            guard let entry = model.opset_import[i] else { return nil }
            return (Self.string(entry.pointee.domain), Int(entry.pointee.version))
        }
        metadata = (0..<model.n_metadata_props).compactMap { i in
            guard let entry = model.metadata_props[i] else { return nil }
            return (Self.string(entry.pointee.key), Self.string(entry.pointee.value))
        }
        var initializerNames = Set<String>()
        var elements = 0
        for i in 0..<graph.n_initializer {
            guard let t = graph.initializer[i] else { continue }
            initializerNames.insert(Self.string(t.pointee.name))
            var count = 1
            for d in 0..<t.pointee.n_dims { count = count.multipliedReportingOverflow(by: max(0, Int(t.pointee.dims[d]))).partialValue }
            elements = elements.addingReportingOverflow(count).partialValue
        }
        initializerCount = graph.n_initializer
        initializerElements = elements
        inputs = (0..<graph.n_input).compactMap { i in
            guard let info = graph.input[i], !initializerNames.contains(Self.string(info.pointee.name)) else { return nil }
            return Self.value(info.pointee)
        }
        outputs = (0..<graph.n_output).compactMap { i in graph.output[i].map { Self.value($0.pointee) } }
        var counts: [(op: String, count: Int)] = []
        var index: [String: Int] = [:]
        for i in 0..<graph.n_node {
            guard let node = graph.node[i] else { continue }
            var op = Self.string(node.pointee.op_type)
            let domain = Self.string(node.pointee.domain)
            if !domain.isEmpty && domain != "ai.onnx" { op = domain + "." + op }
            if let k = index[op] { counts[k].count += 1 } else { index[op] = counts.count; counts.append((op, 1)) }
        }
        opCounts = counts
        nodeCount = graph.n_node
    }

    /// The description of the model `builder` serializes to (what `init(bytes:)` reads back
    /// from its bytes, without parsing them), `byteCount` bytes long.
    init(_ builder: ONNXGraphBuilder, byteCount: Int) {
        irVersion = builder.irVersion
        producerName = builder.producerName
        self.byteCount = byteCount
        opsets = [("", builder.opset)]
        metadata = builder.metadata
        let initializerNames = Set(builder.initializers.map(\.name))
        initializerCount = builder.initializers.count
        initializerElements = builder.initializers.reduce(0) { total, initializer in
            let count = initializer.tensor.shape.reduce(1) { $0.multipliedReportingOverflow(by: max(0, $1)).partialValue }
            return total.addingReportingOverflow(count).partialValue
        }
        func value(_ info: ONNXValueInfo) -> Value {
            Value(name: info.name, elementType: DType.onnxName(info.elementType.rawValue),
                  dims: (info.shape ?? []).map(\.description))
        }
        inputs = builder.inputs.filter { !initializerNames.contains($0.name) }.map(value)
        outputs = builder.outputs.map(value)
        var counts: [(op: String, count: Int)] = []
        var index: [String: Int] = [:]
        for node in builder.nodes {
            if let k = index[node.opType] { counts[k].count += 1 } else { index[node.opType] = counts.count; counts.append((node.opType, 1)) }
        }
        opCounts = counts
        nodeCount = builder.nodes.count
    }

    /// Reads and parses the ONNX file at `path`.
    ///
    /// As the runtime's loader does, checks before reading the file whole that it is a
    /// regular file of at most 2 GiB − 1 bytes whose first bytes can begin an ONNX
    /// ModelProto (D2LRuntime's `ModelProtoHead`), so that a large file that is not a model is
    /// refused after reading 64 bytes.
    public init(path: String) throws {
        let file = try BoundedFile(path: path)
        guard file.size <= Model.maximumFileSize else {
            throw ToolkitError(.invalidData, "\(path): \(file.size) bytes is larger than an ONNX model can be (at most 2 GiB − 1; larger weights go in external data)")
        }
        let head = try file.head(ModelProtoHead.length)
        if file.size > 0, let problem = head.withUnsafeBytes({ ModelProtoHead.problem($0, fileSize: file.size) }) {
            throw ToolkitError(.invalidData, "\(path): not an ONNX model: the \(file.size) bytes do not parse as an onnx.ModelProto: \(problem)")
        }
        try self.init(bytes: file.read(0, file.size), source: path)
    }

    /// Lines describing the model (inputs, outputs, operators, opset, initializers, metadata).
    public var lines: [String] {
        var out: [String] = []
        out.append("ONNX model, \(byteCount) bytes, IR version \(irVersion)"
                   + (producerName.isEmpty ? "" : ", producer \(quoted(producerName))"))
        out.append("opset: " + opsets.map { ($0.domain.isEmpty ? "ai.onnx" : quotedUnlessPlain($0.domain)) + " \($0.version)" }.joined(separator: ", "))
        for v in inputs { out.append("input  " + v.text) }
        for v in outputs { out.append("output " + v.text) }
        out.append("\(nodeCount) nodes: \(opCountText)")
        out.append("\(initializerCount) initializers, \(initializerElements) values")
        for (key, value) in metadata { out.append("metadata \(quotedUnlessPlain(key)) = \(ONNXModelSummary.shown(value))") }
        return out
    }

    static func value(_ info: Onnx__ValueInfoProto) -> Value {
        let name = string(info.name)
        guard let type = info.type, type.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tensorType = type.pointee.tensor_type else {
            return Value(name: name, elementType: "non-tensor", dims: [])
        }
        let code = tensorType.pointee.has_elem_type != 0 ? tensorType.pointee.elem_type : 0
        var dims: [String] = []
        if let shape = tensorType.pointee.shape {
            for i in 0..<shape.pointee.n_dim {
                guard let dim = shape.pointee.dim[i] else { dims.append("?"); continue }
                if dim.pointee.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE {
                    dims.append(String(dim.pointee.dim_value))
                } else if dim.pointee.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM {
                    dims.append(string(dim.pointee.dim_param))
                } else {
                    dims.append("?")
                }
            }
        }
        return Value(name: name, elementType: DType.onnxName(code), dims: dims)
    }

    /// A metadata value as the summary shows it: bare when quoting would only add the quote
    /// marks (printable, at most ``quotedTextLimit`` characters), else ``quoted(_:)``.
    static func shown(_ text: String) -> String {
        let q = quoted(text)
        return q == "'" + text + "'" ? text : q
    }

    static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    /// Whether `bytes` (a file's first bytes) look like an ONNX `ModelProto` rather than a
    /// checkpoint: a protobuf field 1 varint (`ir_version`) first.
    public static func looksLikeONNX(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.first == 0x08
    }
}
