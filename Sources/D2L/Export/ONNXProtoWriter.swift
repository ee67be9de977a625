import Foundation
import CProtobufC
import _D2LONNX

/// Turns a validated `ONNXGraphBuilder` into protobuf-c message structs and packs them
/// with `onnx__model_proto__pack_to_buffer` into an `ONNXByteSink`, piece by piece. Every
/// struct, array and string lives in one arena that is freed when packing is done. Tensor
/// data is never gathered into the message: each `raw_data` field holds a tag address
/// (a distinct arena byte) with the tensor's length, and the sink, when protobuf-c appends
/// that field, streams the tensor's own bytes (borrowed or computed) in its place. The
/// builder keeps the tensors alive for the call.
enum ONNXProtoWriter {
    /// Initializers written as external data (`data_location: EXTERNAL`) in `location`, at
    /// the offsets an earlier write recorded (`ONNXByteSink.offsets`).
    struct ExternalData {
        var location: String
        var offsets: [ObjectIdentifier: Int]
    }

    /// The packed model in one array.
    static func pack(_ builder: ONNXGraphBuilder, nodeNames: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        let sink = ONNXByteSink { bytes.append(contentsOf: $0) }
        // Appending to an array cannot fail.
        try! write(builder, nodeNames: nodeNames, to: sink, reserve: { bytes.reserveCapacity($0) })
        return bytes
    }

    /// Packs the model into `sink`; `reserve` first gets the packed size.
    /// - Throws: the first error `sink`'s output threw (nothing more is written after it).
    static func write(_ builder: ONNXGraphBuilder, nodeNames: [String], external: ExternalData? = nil,
                      to sink: ONNXByteSink, reserve: (Int) -> Void = { _ in }) throws {
        let arena = ProtoArena()
        defer { arena.freeAll() }
        try withExtendedLifetime(builder) {
            let context = MakeContext(arena: arena, sink: sink, external: external)
            var model = makeModel(builder, nodeNames: nodeNames, context: context)
            let size = onnx__model_proto__get_packed_size(&model)
            reserve(size)
            let start = sink.byteCount
            sink.pack(&model)
            if let error = sink.error { throw error }
            precondition(sink.byteCount - start == size, "protobuf-c packed \(sink.byteCount - start) bytes, expected \(size)")
        }
    }

    /// What building the message structs needs besides the builder.
    private struct MakeContext {
        var arena: ProtoArena
        var sink: ONNXByteSink
        var external: ExternalData?
    }

    private static func makeModel(_ b: ONNXGraphBuilder, nodeNames: [String], context: MakeContext) -> Onnx__ModelProto {
        let arena = context.arena
        var graph = Onnx__GraphProto()
        onnx__graph_proto__init(&graph)
        graph.name = arena.string(b.graphName)

        let nodeProtos = zip(b.nodes, nodeNames).map { Optional(makeNode($0, name: $1, context: context)) }
        graph.n_node = nodeProtos.count
        graph.node = arena.array(nodeProtos)

        let initProtos = b.initializers.map { Optional(makeTensor($0.tensor, name: $0.name, context: context, initializer: true)) }
        graph.n_initializer = initProtos.count
        graph.initializer = arena.array(initProtos)

        let inputProtos = b.inputs.map { Optional(makeValueInfo($0, arena: arena)) }
        graph.n_input = inputProtos.count
        graph.input = arena.array(inputProtos)

        let outputProtos = b.outputs.map { Optional(makeValueInfo($0, arena: arena)) }
        graph.n_output = outputProtos.count
        graph.output = arena.array(outputProtos)

        var opsetID = Onnx__OperatorSetIdProto()
        onnx__operator_set_id_proto__init(&opsetID)
        opsetID.domain = arena.string("")
        opsetID.has_version = 1
        opsetID.version = Int64(b.opset)

        var model = Onnx__ModelProto()
        onnx__model_proto__init(&model)
        model.has_ir_version = 1
        model.ir_version = Int64(b.irVersion)
        model.producer_name = arena.string(b.producerName)
        if !b.producerVersion.isEmpty { model.producer_version = arena.string(b.producerVersion) }
        if !b.docString.isEmpty { model.doc_string = arena.string(b.docString) }
        model.n_opset_import = 1
        model.opset_import = arena.array([Optional(arena.new(opsetID))])
        model.graph = arena.new(graph)

        let entries: [UnsafeMutablePointer<Onnx__StringStringEntryProto>?] = b.metadata.map { entry in
            var e = Onnx__StringStringEntryProto()
            onnx__string_string_entry_proto__init(&e)
            e.key = arena.string(entry.key)
            e.value = arena.string(entry.value)
            return arena.new(e)
        }
        model.n_metadata_props = entries.count
        model.metadata_props = arena.array(entries)
        return model
    }

    private static func makeNode(_ node: ONNXNode, name: String, context: MakeContext) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let arena = context.arena
        var np = Onnx__NodeProto()
        onnx__node_proto__init(&np)
        np.name = arena.string(name)
        np.op_type = arena.string(node.opType)
        np.domain = arena.string("")
        // Trailing omitted ("") inputs and outputs are left out, as ONNX allows: readers
        // then see the shorter, equivalent list.
        let inputs = droppingTrailingEmpty(node.inputs)
        let outputs = droppingTrailingEmpty(node.outputs)
        np.n_input = inputs.count
        np.input = arena.array(inputs.map { Optional(arena.string($0)) })
        np.n_output = outputs.count
        np.output = arena.array(outputs.map { Optional(arena.string($0)) })
        let attributes = node.attributes.map { Optional(makeAttribute($0, context: context)) }
        np.n_attribute = attributes.count
        np.attribute = arena.array(attributes)
        return arena.new(np)
    }

    private static func droppingTrailingEmpty(_ names: [String]) -> [String] {
        var names = names
        while names.last?.isEmpty == true { names.removeLast() }
        return names
    }

    private static func makeAttribute(_ attribute: ONNXAttribute, context: MakeContext) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let arena = context.arena
        var ap = Onnx__AttributeProto()
        onnx__attribute_proto__init(&ap)
        ap.name = arena.string(attribute.name)
        ap.has_type = 1
        switch attribute {
        case .int(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            ap.has_i = 1
            ap.i = Int64(v)
        case .ints(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            ap.n_ints = v.count
            ap.ints = arena.array(v.map { Int64($0) })
        case .float(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            ap.has_f = 1
            ap.f = v
        case .floats(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            ap.n_floats = v.count
            ap.floats = arena.array(v)
        case .string(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            ap.has_s = 1
            ap.s = arena.binary(Array(v.utf8))
        case .strings(_, let v):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            ap.n_strings = v.count
            ap.strings = arena.array(v.map { arena.binary(Array($0.utf8)) })
        case .tensor(_, let t):
            ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            ap.t = makeTensor(t, name: nil, context: context, initializer: false)
        }
        return arena.new(ap)
    }

    /// A TensorProto whose `raw_data` is a tag the sink replaces with `tensor`'s bytes (the
    /// caller keeps `tensor` alive), or, for an initializer with an external offset, an
    /// external data reference.
    private static func makeTensor(_ tensor: ONNXTensor, name: String?, context: MakeContext,
                                   initializer: Bool) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let arena = context.arena
        var p = Onnx__TensorProto()
        onnx__tensor_proto__init(&p)
        if let name { p.name = arena.string(name) }
        p.n_dims = tensor.shape.count
        p.dims = arena.array(tensor.shape.map { Int64($0) })
        p.has_data_type = 1
        p.data_type = tensor.elementType.rawValue
        if initializer, let external = context.external, let offset = external.offsets[ObjectIdentifier(tensor.bytes)] {
            p.has_data_location = 1
            p.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
            let entries: [UnsafeMutablePointer<Onnx__StringStringEntryProto>?] = [
                ("location", external.location), ("offset", String(offset)), ("length", String(tensor.bytes.count)),
            ].map { key, value in
                var e = Onnx__StringStringEntryProto()
                onnx__string_string_entry_proto__init(&e)
                e.key = arena.string(key)
                e.value = arena.string(value)
                return arena.new(e)
            }
            p.n_external_data = entries.count
            p.external_data = arena.array(entries)
            return arena.new(p)
        }
        p.has_raw_data = 1
        p.raw_data.len = tensor.bytes.count
        p.raw_data.data = context.sink.tag(for: tensor.bytes, arena: arena)
        return arena.new(p)
    }

    private static func makeValueInfo(_ info: ONNXValueInfo, arena: ProtoArena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        var tensorType = Onnx__TypeProto__Tensor()
        onnx__type_proto__tensor__init(&tensorType)
        tensorType.has_elem_type = 1
        tensorType.elem_type = info.elementType.rawValue
        if let shape = info.shape {
            let dims: [UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension>?] = shape.map { d in
                var dim = Onnx__TensorShapeProto__Dimension()
                onnx__tensor_shape_proto__dimension__init(&dim)
                switch d {
                case .fixed(let n):
                    dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    dim.dim_value = Int64(n)
                case .symbolic(let s):
                    dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    dim.dim_param = arena.string(s)
                }
                return arena.new(dim)
            }
            var s = Onnx__TensorShapeProto()
            onnx__tensor_shape_proto__init(&s)
            s.n_dim = dims.count
            s.dim = arena.array(dims)
            tensorType.shape = arena.new(s)
        }
        var type = Onnx__TypeProto()
        onnx__type_proto__init(&type)
        type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.tensor_type = arena.new(tensorType)
        var info_ = Onnx__ValueInfoProto()
        onnx__value_info_proto__init(&info_)
        info_.name = arena.string(info.name)
        info_.type = arena.new(type)
        return arena.new(info_)
    }
}

/// Receives a packed model in order, piece by piece (`output`), substituting each tensor's
/// bytes for its `raw_data` tag, and records where each tensor's bytes start.
final class ONNXByteSink {
    private let output: (UnsafeRawBufferPointer) throws -> Void
    /// Tensor data by the tag address its `raw_data` field holds.
    private var tagged: [UnsafeRawPointer: ONNXRawBytes] = [:]
    /// Where each tensor's bytes start in the output (by `ObjectIdentifier` of its bytes).
    private(set) var offsets: [ObjectIdentifier: Int] = [:]
    /// Bytes passed to `output` so far.
    private(set) var byteCount = 0
    /// The first error `output` threw; nothing is written after it.
    private(set) var error: Error?

    init(_ output: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.output = output }

    /// A distinct address (one arena byte) standing for `bytes` in a `raw_data` field.
    fileprivate func tag(for bytes: ONNXRawBytes, arena: ProtoArena) -> UnsafeMutablePointer<UInt8> {
        let tag = arena.array([UInt8(0)])
        tagged[UnsafeRawPointer(tag)] = bytes
        return tag
    }

    /// Runs `onnx__model_proto__pack_to_buffer` with this sink as the buffer.
    fileprivate func pack(_ model: inout Onnx__ModelProto) {
        // A ProtobufCBuffer followed by this sink's address: the C callback finds the sink there.
        let stride = MemoryLayout<ProtobufCBuffer>.stride
        let block = UnsafeMutableRawPointer.allocate(byteCount: stride + MemoryLayout<UnsafeRawPointer>.size,
                                                     alignment: max(MemoryLayout<ProtobufCBuffer>.alignment, MemoryLayout<UnsafeRawPointer>.alignment))
        defer { block.deallocate() }
        let buffer = block.bindMemory(to: ProtobufCBuffer.self, capacity: 1)
        buffer.initialize(to: ProtobufCBuffer(append: { buffer, length, data in
            guard let buffer else { return }
            let sinkAddress = UnsafeRawPointer(buffer).load(fromByteOffset: MemoryLayout<ProtobufCBuffer>.stride,
                                                            as: UnsafeRawPointer.self)
            Unmanaged<ONNXByteSink>.fromOpaque(sinkAddress).takeUnretainedValue().append(length, data)
        }))
        (block + stride).storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()), as: UnsafeRawPointer.self)
        withExtendedLifetime(self) { _ = onnx__model_proto__pack_to_buffer(&model, buffer) }
    }

    private func append(_ length: Int, _ data: UnsafePointer<UInt8>?) {
        guard error == nil else { return }
        do {
            if let data, let bytes = tagged[UnsafeRawPointer(data)] {
                precondition(length == bytes.count, "raw_data of \(length) bytes for a tensor of \(bytes.count)")
                offsets[ObjectIdentifier(bytes)] = byteCount
                try bytes.forEachChunk { piece in
                    try output(piece)
                    byteCount += piece.count
                }
            } else if length > 0, let data {
                try output(UnsafeRawBufferPointer(start: data, count: length))
                byteCount += length
            }
        } catch {
            self.error = error
        }
    }
}

/// Owns the malloc'd blocks of one message tree until `freeAll()`.
private final class ProtoArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { freeAll() }

    func freeAll() {
        for block in blocks { free(block) }
        blocks.removeAll()
    }

    private func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        guard let p = malloc(max(byteCount, 1)) else { fatalError("out of memory serializing an ONNX model") }
        blocks.append(p)
        return p
    }

    /// A NUL-terminated copy of `s`.
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(s.utf8CString)
        let p = allocate(utf8.count).bindMemory(to: CChar.self, capacity: utf8.count)
        p.initialize(from: utf8, count: utf8.count)
        return p
    }

    /// A C array holding `items` (a valid pointer even when empty).
    func array<T>(_ items: [T]) -> UnsafeMutablePointer<T> {
        let p = allocate(items.count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: max(items.count, 1))
        p.initialize(from: items, count: items.count)
        return p
    }

    /// One heap copy of `value`.
    func new<T>(_ value: T) -> UnsafeMutablePointer<T> { array([value]) }

    /// Binary data (bytes fields) holding a copy of `bytes`.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: array(bytes))
    }
}
