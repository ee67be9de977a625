import _D2LONNX
import _D2LSystem
import CProtobufC

/// Oldest default-domain opset the runtime accepts.
public let minimumOpset = 13
/// Newest default-domain opset the runtime accepts: the newest of the pinned onnx
/// release (tools/ONNX_VERSION, onnx 1.22.0).
public let maximumOpset = 27
/// Newest IR version the runtime reads: the pinned onnx release's `IR_VERSION` (13).
public let maximumIRVersion: Int64 = 13

/// Reads an ONNX `ModelProto` with protobuf-c into a `ModelDescription`: unpacks the
/// message, copies every initializer once into one aligned weight arena (reading
/// external data from `modelDirectory`), and frees the message before returning.
/// Structural checks of the graph (names, cycles, operators) happen later, in `Graph`.
enum ONNXReader {
    ///
    /// Memory: protobuf-c copies every `bytes` field while unpacking, so `releaseInput` is
    /// called right after unpacking (the caller frees the file's bytes there), and each
    /// initializer's protobuf copy is freed as soon as it is in the arena. Peak memory
    /// stays near the file plus one copy of the weights.
    static func read(_ bytes: UnsafeRawBufferPointer, modelDirectory: String?,
                     releaseInput: () -> Void = {}) throws(D2LError) -> ModelDescription {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw .invalidModel("the model is empty (0 bytes)")
        }
        if let problem = ModelProtoHead.problem(UnsafeRawBufferPointer(rebasing: bytes.prefix(ModelProtoHead.length)),
                                                fileSize: bytes.count) {
            releaseInput()
            throw .invalidModel("not an ONNX model: the \(bytes.count) bytes do not parse as an onnx.ModelProto: \(problem)")
        }
        let message = onnx__model_proto__unpack(nil, bytes.count, base.assumingMemoryBound(to: UInt8.self))
        releaseInput()
        guard let message else {
            throw .invalidModel("not an ONNX model: the \(bytes.count) bytes do not parse as an onnx.ModelProto (truncated or not protobuf)")
        }
        defer { onnx__model_proto__free_unpacked(message, nil) }
        return try makeDescription(message.pointee, modelDirectory: modelDirectory)
    }

    private static func makeDescription(_ model: Onnx__ModelProto, modelDirectory: String?) throws(D2LError) -> ModelDescription {
        guard let graphPointer = model.graph else { throw .invalidModel("the model has no graph") }
        let graph = graphPointer.pointee
        let opset = try defaultOpset(model)

        var metadata: [(key: String, value: String)] = []
        for i in 0..<model.n_metadata_props {
            guard let entry = model.metadata_props[i] else { continue }
            metadata.append((key: string(entry.pointee.key), value: string(entry.pointee.value)))
        }

        if graph.n_sparse_initializer > 0 {
            throw .unsupported("sparse initializers are not supported")
        }

        // Initializers: reserve space for each, allocate the arena once, then copy.
        var builder = WeightArenaBuilder()
        var pending: [(name: String, dtype: DType, shape: [Int], offset: Int, proto: UnsafeMutablePointer<Onnx__TensorProto>)] = []
        var initializerNames = Set<String>()
        for i in 0..<graph.n_initializer {
            guard let proto = graph.initializer[i] else { continue }
            let name = string(proto.pointee.name)
            if name.isEmpty { throw .invalidModel("initializer #\(i) has no name") }
            if initializerNames.contains(name) { throw .invalidModel("two initializers are named \(quoted(name))") }
            initializerNames.insert(name)
            let (dtype, shape) = try tensorHeader(proto.pointee, what: "initializer \(quoted(name))")
            // Check the data is all there before any memory is reserved for it.
            try checkDataLength(proto.pointee, dtype: dtype, shape: shape, what: "initializer \(quoted(name))",
                                modelDirectory: modelDirectory)
            guard let offset = builder.reserve(shape.reduce(1, *) * dtype.size) else {
                throw D2LError(.outOfMemory, "the weights are too large (at initializer \(quoted(name)))")
            }
            pending.append((name: name, dtype: dtype, shape: shape, offset: offset, proto: proto))
        }
        let arena = try WeightArena(byteCount: builder.totalBytes)
        var initializers: [(name: String, tensor: ConstantTensor)] = []
        initializers.reserveCapacity(pending.count)
        for item in pending {
            let tensor = ConstantTensor(dtype: item.dtype, shape: item.shape, storage: arena, offset: item.offset)
            try copyData(item.proto.pointee, into: tensor, what: "initializer \(quoted(item.name))", modelDirectory: modelDirectory)
            releaseRawData(item.proto)
            initializers.append((name: item.name, tensor: tensor))
        }

        var inputs: [ValueInfo] = []
        for i in 0..<graph.n_input {
            guard let info = graph.input[i] else { continue }
            let name = string(info.pointee.name)
            // Before IR 4, initializers were listed as inputs too: those are not the caller's.
            if initializerNames.contains(name) { continue }
            inputs.append(try valueInfo(info.pointee, what: "graph input"))
        }
        var outputs: [ValueInfo] = []
        for i in 0..<graph.n_output {
            guard let info = graph.output[i] else { continue }
            outputs.append(try valueInfo(info.pointee, what: "graph output"))
        }

        var nodes: [NodeDescription] = []
        nodes.reserveCapacity(graph.n_node)
        for i in 0..<graph.n_node {
            guard let node = graph.node[i] else { continue }
            nodes.append(try nodeDescription(node.pointee, index: i))
        }

        if model.has_ir_version != 0 && model.ir_version > maximumIRVersion {
            throw .unsupported("IR version \(model.ir_version) is newer than libd2l reads (up to \(maximumIRVersion))")
        }
        return ModelDescription(
            irVersion: model.has_ir_version != 0 ? Int(clamping: model.ir_version) : 0,
            opset: opset, metadata: metadata, inputs: inputs, outputs: outputs,
            initializers: initializers, nodes: nodes, weights: arena)
    }

    /// The default-domain ("" or "ai.onnx") opset, which must lie in the supported range.
    private static func defaultOpset(_ model: Onnx__ModelProto) throws(D2LError) -> Int {
        var found: Int?
        var declared: Int64 = 0 // as written, for the message (found is clamped into Int)
        for i in 0..<model.n_opset_import {
            guard let entry = model.opset_import[i] else { continue }
            let domain = string(entry.pointee.domain)
            if domain == "" || domain == "ai.onnx" {
                found = entry.pointee.has_version != 0 ? Int(clamping: entry.pointee.version) : 0
                declared = entry.pointee.has_version != 0 ? entry.pointee.version : 0
            }
        }
        guard let opset = found else {
            throw .invalidModel("the model imports no default-domain opset (opset_import is missing 'ai.onnx')")
        }
        guard opset >= minimumOpset && opset <= maximumOpset else {
            throw .unsupported("default-domain opset \(declared) is not supported: libd2l runs opsets \(minimumOpset) to \(maximumOpset)")
        }
        return opset
    }

    // MARK: - Tensors

    /// The dtype and shape of a TensorProto, validated: a supported dtype, non-negative
    /// dimensions, and an element count within `maxTensorElements`.
    static func tensorHeader(_ t: Onnx__TensorProto, what: String) throws(D2LError) -> (DType, [Int]) {
        let code = t.has_data_type != 0 ? t.data_type : 0
        guard let dtype = DType(rawValue: code) else {
            throw .unsupported("\(what) has element type \(DType.onnxName(code)), which libd2l does not support")
        }
        if t.n_dims > 64 { throw .invalidModel("\(what) has \(t.n_dims) dimensions (at most 64 are allowed)") }
        // In int64 against the 64-bit limit first, the same on every platform.
        var dims: [Int64] = []
        var count: Int64 = 1
        var overflow = false
        for i in 0..<t.n_dims {
            let d = t.dims[i]
            if d < 0 { throw .invalidModel("\(what) has a negative dimension (\(d))") }
            guard d <= maxFileTensorElements else { throw .invalidModel("\(what) has a dimension too large (\(d))") }
            dims.append(d)
            let (product, o) = count.multipliedReportingOverflow(by: d)
            overflow = overflow || o || product > maxFileTensorElements
            count = overflow ? 0 : product
        }
        if overflow {
            throw .invalidModel("\(what) is too large: its dimensions \(shapeText(dims)) overflow the element limit")
        }
        // Then this platform's limit (lower on 32-bit). Data that cannot match the shape
        // is named first, as the 64-bit check of the data length would.
        if count > Int64(maxTensorElements) {
            let bytes = count * Int64(dtype.size)
            if t.has_raw_data != 0 && Int64(t.raw_data.len) != bytes {
                throw .invalidModel("\(what) holds \(t.raw_data.len) bytes of data, but its shape \(shapeText(dims)) needs \(bytes)")
            }
            throw .invalidModel("\(what) has \(count) elements, more than a \(Int.bitWidth)-bit build holds (\(maxTensorElements))")
        }
        var shape: [Int] = []
        for d in dims { shape.append(Int(d)) }
        return (dtype, shape)
    }

    /// Checks that a TensorProto holds exactly the data its shape needs (for external data:
    /// a valid location in a long enough file), without copying anything.
    static func checkDataLength(_ t: Onnx__TensorProto, dtype: DType, shape: [Int], what: String,
                                modelDirectory: String?) throws(D2LError) {
        _ = try dataSource(t, dtype: dtype, shape: shape, what: what, modelDirectory: modelDirectory)
    }

    /// Where a TensorProto's elements are, with their length checked against the shape.
    private enum DataSource {
        case external(ExternalData.Location)
        case raw(UnsafeRawPointer?)
        case floats, int64s, int32s, narrowInt32s
    }

    private static func dataSource(_ t: Onnx__TensorProto, dtype: DType, shape: [Int], what: String,
                                   modelDirectory: String?) throws(D2LError) -> DataSource {
        let count = shape.reduce(1, *)
        let bytes = count * dtype.size
        if t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            return .external(try ExternalData.locate(t, byteCount: bytes, what: what, modelDirectory: modelDirectory))
        }
        if t.has_raw_data != 0 {
            guard t.raw_data.len == bytes else {
                throw .invalidModel("\(what) holds \(t.raw_data.len) bytes of data, but its shape \(shapeText(shape)) needs \(bytes)")
            }
            return .raw(t.raw_data.data.map { UnsafeRawPointer($0) })
        }
        func check(_ have: Int) throws(D2LError) {
            guard have == count else {
                throw .invalidModel("\(what) holds \(have) values, but its shape \(shapeText(shape)) needs \(count)")
            }
        }
        switch dtype {
        case .float32: try check(t.n_float_data); return .floats
        case .int64: try check(t.n_int64_data); return .int64s
        case .int32: try check(t.n_int32_data); return .int32s
        case .uint8, .bool: try check(t.n_int32_data); return .narrowInt32s  // one element per int32_data entry
        }
    }

    /// Copies a TensorProto's data (raw_data, a typed field, or external data) into
    /// `tensor`, checking that the length matches the shape.
    static func copyData(_ t: Onnx__TensorProto, into tensor: ConstantTensor, what: String, modelDirectory: String?) throws(D2LError) {
        let count = tensor.elementCount
        let bytes = tensor.byteCount
        let destination = tensor.pointer
        switch try dataSource(t, dtype: tensor.dtype, shape: tensor.shape, what: what, modelDirectory: modelDirectory) {
        case .external(let location):
            try ExternalData.read(location, into: destination, byteCount: bytes, what: what)
        case .raw(let source):
            if bytes > 0, let source { memcpy(destination, source, bytes) }
        case .floats:
            if count > 0 { memcpy(destination, t.float_data, bytes) }
        case .int64s:
            if count > 0 { memcpy(destination, t.int64_data, bytes) }
        case .int32s:
            if count > 0 { memcpy(destination, t.int32_data, bytes) }
        case .narrowInt32s:
            let out = destination.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { out[i] = UInt8(truncatingIfNeeded: t.int32_data[i]) }
        }
    }

    /// Frees a TensorProto's raw_data once it has been copied (protobuf-c's default
    /// allocator is malloc; free_unpacked skips the NULL left behind).
    private static func releaseRawData(_ proto: UnsafeMutablePointer<Onnx__TensorProto>) {
        guard proto.pointee.has_raw_data != 0, let data = proto.pointee.raw_data.data else { return }
        free(data)
        proto.pointee.raw_data.data = nil
        proto.pointee.raw_data.len = 0
        proto.pointee.has_raw_data = 0
    }

    /// A tensor held in an attribute (Constant's `value`), in a buffer of its own.
    static func attributeTensor(_ t: Onnx__TensorProto, what: String) throws(D2LError) -> ConstantTensor {
        let (dtype, shape) = try tensorHeader(t, what: what)
        try checkDataLength(t, dtype: dtype, shape: shape, what: what, modelDirectory: nil)
        let storage = try AlignedBuffer(byteCount: shape.reduce(1, *) * dtype.size)
        let tensor = ConstantTensor(dtype: dtype, shape: shape, storage: storage, offset: 0)
        try copyData(t, into: tensor, what: what, modelDirectory: nil)
        return tensor
    }

    // MARK: - Graph parts

    private static func valueInfo(_ info: Onnx__ValueInfoProto, what: String) throws(D2LError) -> ValueInfo {
        let name = string(info.name)
        if name.isEmpty { throw .invalidModel("a \(what) has no name") }
        guard let type = info.type, type.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tensorType = type.pointee.tensor_type else {
            throw .unsupported("\(what) \(quoted(name)) is not a tensor (sequences, maps and optionals are not supported)")
        }
        let code = tensorType.pointee.has_elem_type != 0 ? tensorType.pointee.elem_type : 0
        guard let dtype = DType(rawValue: code) else {
            throw .unsupported("\(what) \(quoted(name)) has element type \(DType.onnxName(code)), which libd2l does not support")
        }
        guard let shapeProto = tensorType.pointee.shape else {
            throw .unsupported("\(what) \(quoted(name)) has no declared shape (libd2l needs at least its rank)")
        }
        var dims: [Int?] = []
        var dimNames: [String?] = []
        if shapeProto.pointee.n_dim > 64 { throw .invalidModel("\(what) \(quoted(name)) has more than 64 dimensions") }
        for i in 0..<shapeProto.pointee.n_dim {
            guard let dim = shapeProto.pointee.dim[i] else { dims.append(nil); dimNames.append(nil); continue }
            if dim.pointee.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE {
                let v = dim.pointee.dim_value
                guard v >= 0 && v <= Int64(maxTensorElements) else {
                    throw .invalidModel("\(what) \(quoted(name)) has an invalid dimension \(v)")
                }
                dims.append(Int(v))
                dimNames.append(nil)
            } else {
                dims.append(nil)
                let param = dim.pointee.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    ? string(dim.pointee.dim_param) : ""
                dimNames.append(param.isEmpty ? nil : param)
            }
        }
        return ValueInfo(name: name, type: DeclaredType(dtype: dtype, dims: dims, dimNames: dimNames))
    }

    private static func nodeDescription(_ node: Onnx__NodeProto, index: Int) throws(D2LError) -> NodeDescription {
        var inputs: [String] = []
        for i in 0..<node.n_input { inputs.append(string(node.input[i])) }
        var outputs: [String] = []
        for i in 0..<node.n_output { outputs.append(string(node.output[i])) }
        var description = NodeDescription(
            name: string(node.name), opType: string(node.op_type), domain: string(node.domain),
            inputs: inputs, outputs: outputs, attributes: [])
        for i in 0..<node.n_attribute {
            guard let a = node.attribute[i] else { continue }
            let name = string(a.pointee.name)
            description.attributes.append(
                Attribute(name: name, value: try attributeValue(a.pointee, what: "attribute \(quoted(name)) of \(description.label(index))")))
        }
        return description
    }

    private static func attributeValue(_ a: Onnx__AttributeProto, what: String) throws(D2LError) -> AttributeValue {
        if a.ref_attr_name != nil && !string(a.ref_attr_name).isEmpty {
            throw .unsupported("\(what) refers to a function attribute, which is not supported")
        }
        switch a.type {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return .int(a.i)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return .float(a.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            return .string(bytesString(a.s))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            var v: [Int64] = []
            for i in 0..<a.n_ints { v.append(a.ints[i]) }
            return .ints(v)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            var v: [Float] = []
            for i in 0..<a.n_floats { v.append(a.floats[i]) }
            return .floats(v)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else { throw .invalidModel("\(what) is a tensor attribute without a tensor") }
            return .tensor(try attributeTensor(t.pointee, what: what))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return .other("graph")
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            var v: [String] = []
            for i in 0..<a.n_strings { v.append(bytesString(a.strings[i])) }
            return .strings(v)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return .other("tensors")
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return .other("graphs")
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
            return .other("sparse tensor")
        default: return .other("type \(a.type.rawValue)")
        }
    }
}

/// A C string from a protobuf-c field ("" for NULL).
@inline(__always)
func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

/// A protobuf `bytes` field as a UTF-8 string (invalid sequences are repaired).
func bytesString(_ b: ProtobufCBinaryData) -> String {
    guard b.len > 0, let data = b.data else { return "" }
    return String(decoding: UnsafeBufferPointer(start: data, count: b.len), as: UTF8.self)
}
