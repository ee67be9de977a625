import Foundation
import XCTest
import _D2LONNX
@testable import D2LRuntime

/// Builds tiny ONNX models in memory through the protobuf-c structs of _D2LONNX
/// (`onnx__model_proto__pack`), for operator tests.

/// A tensor given to or expected from a test model: elements as Doubles, whatever the dtype.
struct TestTensor {
    var name: String
    var dtype: DType
    var shape: [Int]
    var values: [Double]

    init(_ name: String, _ dtype: DType, _ shape: [Int], _ values: [Double]) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.values = values
    }

    /// The elements in the dtype's little-endian memory layout.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        for v in values {
            switch dtype {
            case .float32: withUnsafeBytes(of: Float(v)) { out += $0 }
            case .int64: withUnsafeBytes(of: Int64(v)) { out += $0 }
            case .int32: withUnsafeBytes(of: Int32(v)) { out += $0 }
            case .uint8, .bool: out.append(UInt8(v))
            }
        }
        return out
    }
}

enum TestAttribute {
    case int(String, Int)
    case float(String, Float)
    case ints(String, [Int])
    case string(String, String)
}

struct TestNode {
    var op: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [TestAttribute] = []
    /// The node's name; nil names it `n<index>`.
    var name: String? = nil
}

/// Owns every C allocation of one message tree; frees them when done.
private final class CArena {
    var pointers: [UnsafeMutableRawPointer] = []
    deinit { for p in pointers { free(p) } }

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        pointers.append(UnsafeMutableRawPointer(p))
        return p
    }

    func array<T>(_ items: [T]) -> UnsafeMutablePointer<T> {
        let p = malloc(max(1, items.count) * MemoryLayout<T>.stride)!.assumingMemoryBound(to: T.self)
        pointers.append(UnsafeMutableRawPointer(p))
        for (i, item) in items.enumerated() { (p + i).initialize(to: item) }
        return p
    }

    func new<T>(_ value: T) -> UnsafeMutablePointer<T> { array([value]) }
}

/// Serialized ModelProto bytes for a one-graph model.
func buildModel(opset: Int = 17, inputs: [(String, DType, [Int])], outputs: [(String, DType)],
                initializers: [TestTensor] = [], nodes: [TestNode]) -> [UInt8] {
    let arena = CArena()

    func valueInfo(_ name: String, _ dtype: DType, _ shape: [Int]?) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        var tensorType = Onnx__TypeProto__Tensor()
        onnx__type_proto__tensor__init(&tensorType)
        tensorType.has_elem_type = 1
        tensorType.elem_type = dtype.rawValue
        if let shape {
            var dims: [UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension>?] = []
            for d in shape {
                var dim = Onnx__TensorShapeProto__Dimension()
                onnx__tensor_shape_proto__dimension__init(&dim)
                dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dim.dim_value = Int64(d)
                dims.append(arena.new(dim))
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
        var info = Onnx__ValueInfoProto()
        onnx__value_info_proto__init(&info)
        info.name = arena.string(name)
        info.type = arena.new(type)
        return arena.new(info)
    }

    func tensor(_ t: TestTensor) -> UnsafeMutablePointer<Onnx__TensorProto> {
        var p = Onnx__TensorProto()
        onnx__tensor_proto__init(&p)
        p.name = arena.string(t.name)
        p.n_dims = t.shape.count
        p.dims = arena.array(t.shape.map { Int64($0) })
        p.has_data_type = 1
        p.data_type = t.dtype.rawValue
        let bytes = t.bytes
        p.has_raw_data = 1
        p.raw_data.len = bytes.count
        p.raw_data.data = arena.array(bytes)
        return arena.new(p)
    }

    var nodeProtos: [UnsafeMutablePointer<Onnx__NodeProto>?] = []
    for (index, n) in nodes.enumerated() {
        var attrs: [UnsafeMutablePointer<Onnx__AttributeProto>?] = []
        for a in n.attributes {
            var ap = Onnx__AttributeProto()
            onnx__attribute_proto__init(&ap)
            ap.has_type = 1
            switch a {
            case .int(let name, let v):
                ap.name = arena.string(name); ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                ap.has_i = 1; ap.i = Int64(v)
            case .float(let name, let v):
                ap.name = arena.string(name); ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
                ap.has_f = 1; ap.f = v
            case .ints(let name, let v):
                ap.name = arena.string(name); ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
                ap.n_ints = v.count; ap.ints = arena.array(v.map { Int64($0) })
            case .string(let name, let v):
                ap.name = arena.string(name); ap.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
                let bytes = Array(v.utf8)
                ap.has_s = 1; ap.s.len = bytes.count; ap.s.data = arena.array(bytes)
            }
            attrs.append(arena.new(ap))
        }
        var np = Onnx__NodeProto()
        onnx__node_proto__init(&np)
        np.name = arena.string(n.name ?? "n\(index)")
        np.op_type = arena.string(n.op)
        np.domain = arena.string("")
        np.n_input = n.inputs.count
        np.input = arena.array(n.inputs.map { Optional(arena.string($0)) })
        np.n_output = n.outputs.count
        np.output = arena.array(n.outputs.map { Optional(arena.string($0)) })
        np.n_attribute = attrs.count
        np.attribute = arena.array(attrs)
        nodeProtos.append(arena.new(np))
    }

    var graph = Onnx__GraphProto()
    onnx__graph_proto__init(&graph)
    graph.name = arena.string("test")
    graph.n_node = nodeProtos.count
    graph.node = arena.array(nodeProtos)
    let inputInfos: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = inputs.map { valueInfo($0.0, $0.1, $0.2) }
    graph.n_input = inputInfos.count
    graph.input = arena.array(inputInfos)
    // Outputs: a shape proto with no dimensions (the runtime reads output shapes from the plan).
    let outputInfos: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = outputs.map { valueInfo($0.0, $0.1, []) }
    graph.n_output = outputInfos.count
    graph.output = arena.array(outputInfos)
    let inits: [UnsafeMutablePointer<Onnx__TensorProto>?] = initializers.map { tensor($0) }
    graph.n_initializer = inits.count
    graph.initializer = arena.array(inits)

    var opsetID = Onnx__OperatorSetIdProto()
    onnx__operator_set_id_proto__init(&opsetID)
    opsetID.domain = arena.string("")
    opsetID.has_version = 1
    opsetID.version = Int64(opset)

    var model = Onnx__ModelProto()
    onnx__model_proto__init(&model)
    model.has_ir_version = 1
    model.ir_version = 8
    let opsets: [UnsafeMutablePointer<Onnx__OperatorSetIdProto>?] = [arena.new(opsetID)]
    model.n_opset_import = 1
    model.opset_import = arena.array(opsets)
    model.graph = arena.new(graph)

    let size = onnx__model_proto__get_packed_size(&model)
    var bytes = [UInt8](repeating: 0, count: size)
    _ = bytes.withUnsafeMutableBufferPointer { onnx__model_proto__pack(&model, $0.baseAddress!) }
    return bytes
}

/// Loads `bytes`, sets `inputs` (in graph-input order), runs, and returns every output.
func runModel(_ bytes: [UInt8], _ inputs: [TestTensor]) throws -> [TestTensor] {
    let model = try bytes.withUnsafeBytes { raw throws(D2LError) in try Model(bytes: raw) }
    let session = Session(model: model)
    for (i, t) in inputs.enumerated() {
        let data = t.bytes + [0, 0, 0, 0, 0, 0, 0, 0]
        try data.withUnsafeBytes { raw in try session.setInput(i, dtype: t.dtype, data: raw.baseAddress!, shape: t.shape) }
    }
    try session.run()
    var results: [TestTensor] = []
    var i = 0
    while let y = session.output(i) {
        var values: [Double] = []
        for j in 0..<y.type.count {
            switch y.type.dtype {
            case .float32: values.append(Double(y.pointer.assumingMemoryBound(to: Float.self)[j]))
            case .int64: values.append(Double(y.pointer.assumingMemoryBound(to: Int64.self)[j]))
            case .int32: values.append(Double(y.pointer.assumingMemoryBound(to: Int32.self)[j]))
            case .uint8, .bool: values.append(Double(y.pointer.assumingMemoryBound(to: UInt8.self)[j]))
            }
        }
        results.append(TestTensor("output\(i)", y.type.dtype, y.type.shape, values))
        i += 1
    }
    return results
}

/// One-node model: graph inputs `inputs` (fed at run time), initializers `constants`,
/// outputs named `y0`, `y1`, ...
func runNode(_ op: String, opset: Int = 17, inputs: [TestTensor], constants: [TestTensor] = [],
             nodeInputs: [String]? = nil, outputs: [DType] = [.float32], attributes: [TestAttribute] = []) throws -> [TestTensor] {
    let outputNames = outputs.indices.map { "y\($0)" }
    let bytes = buildModel(opset: opset, inputs: inputs.map { ($0.name, $0.dtype, $0.shape) },
                           outputs: outputs.enumerated().map { ("y\($0.offset)", $0.element) },
                           initializers: constants,
                           nodes: [TestNode(op: op, inputs: nodeInputs ?? (inputs + constants).map { $0.name },
                                            outputs: outputNames, attributes: attributes)])
    return try runModel(bytes, inputs)
}

/// Checks shape, dtype and values (within `tolerance`) of `actual` against `expected`.
func assertTensor(_ actual: TestTensor?, _ expected: TestTensor, tolerance: Double = 1e-5,
                  file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { XCTFail("no output", file: file, line: line); return }
    XCTAssertEqual(actual.dtype, expected.dtype, "dtype", file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, "shape", file: file, line: line)
    guard actual.values.count == expected.values.count else {
        XCTFail("\(actual.values) != \(expected.values)", file: file, line: line); return
    }
    for (a, e) in zip(actual.values, expected.values) where !(abs(a - e) <= tolerance * max(1, abs(e)) || (a.isNaN && e.isNaN)) {
        XCTFail("\(actual.values) != \(expected.values)", file: file, line: line)
        return
    }
}

/// Asserts that `body` throws a D2LError with `status` whose message contains `substring`.
func assertRefused(_ status: D2LStatus, _ substring: String, file: StaticString = #filePath, line: UInt = #line,
                   _ body: () throws -> Any) {
    do {
        _ = try body()
        XCTFail("accepted; expected \(status.name)", file: file, line: line)
    } catch let e as D2LError {
        XCTAssertEqual(e.status, status, e.message, file: file, line: line)
        XCTAssertTrue(e.message.lowercased().contains(substring.lowercased()), "'\(e.message)' lacks '\(substring)'", file: file, line: line)
    } catch {
        XCTFail("\(error)", file: file, line: line)
    }
}

func f32(_ name: String, _ shape: [Int], _ v: [Double]) -> TestTensor { TestTensor(name, .float32, shape, v) }
func i64(_ name: String, _ shape: [Int], _ v: [Double]) -> TestTensor { TestTensor(name, .int64, shape, v) }
