import _D2LSystem

/// The operators libd2l runs. One case per kernel family; each payload is a struct in
/// `Ops/` named like the ONNX operator, holding the spec's attributes (parsed and checked
/// at load) and, after `plan`, what its kernel needs for the planned shapes.
///
/// An enum rather than a protocol existential: Embedded Swift has no `any Protocol`.
enum Operator {
    case conv(Conv)
    case gemm(Gemm)
    case matMul(MatMul)
    case binary(ElementwiseBinary)
    case unary(ElementwiseUnary)
    case softmax(Softmax)
    case pool(Pool)
    case flatten(Flatten)
    case reshape(Reshape)
    case identity(Identity)
    case dropout(Dropout)

    /// Every ONNX operator type libd2l accepts, with its default-domain versions (the
    /// `since_version`s of onnx 1.22.0 up to opset 27). The version an opset selects is
    /// the newest one not above it.
    static let versions: [String: [Int]] = [
        "Conv": [1, 11, 22],
        "Gemm": [1, 6, 7, 9, 11, 13],
        "MatMul": [1, 9, 13],
        "Add": [1, 6, 7, 13, 14], "Sub": [1, 6, 7, 13, 14],
        "Mul": [1, 6, 7, 13, 14], "Div": [1, 6, 7, 13, 14],
        "Relu": [1, 6, 13, 14], "Sigmoid": [1, 6, 13], "Tanh": [1, 6, 13],
        "Softmax": [1, 11, 13],
        "AveragePool": [1, 7, 10, 11, 19, 22], "MaxPool": [1, 8, 10, 11, 12, 22],
        "Flatten": [1, 9, 11, 13, 21, 23, 24, 25],
        "Reshape": [1, 5, 13, 14, 19, 21, 23, 24, 25],
        "Identity": [1, 13, 14, 16, 19, 21, 23, 24, 25],
        "Dropout": [1, 6, 7, 10, 12, 13, 22],
        "Constant": [1, 9, 11, 12, 13, 19, 21, 23, 24, 25],
    ]

    /// The operator version `opset` selects for `opType`, or nil when unsupported.
    static func version(of opType: String, opset: Int) -> Int? {
        guard let list = versions[opType] else { return nil }
        var selected: Int?
        for v in list where v <= opset { selected = v }
        return selected
    }

    /// Parses and checks a node's attributes. `Constant` nodes never get here: the graph
    /// builder turns them into constants.
    static func make(_ node: NodeDescription, label: String, opset: Int) throws(D2LError) -> Operator {
        let a = AttributeReader(node, label: label)
        let version = Operator.version(of: node.opType, opset: opset) ?? opset
        switch node.opType {
        case "Conv": return .conv(try Conv(a))
        case "Gemm": return .gemm(try Gemm(a))
        case "MatMul": try a.allowOnly([]); return .matMul(MatMul())
        case "Add": try a.allowOnly([]); return .binary(ElementwiseBinary(.add))
        case "Sub": try a.allowOnly([]); return .binary(ElementwiseBinary(.sub))
        case "Mul": try a.allowOnly([]); return .binary(ElementwiseBinary(.mul))
        case "Div": try a.allowOnly([]); return .binary(ElementwiseBinary(.div))
        case "Relu": try a.allowOnly([]); return .unary(ElementwiseUnary(.relu))
        case "Sigmoid": try a.allowOnly([]); return .unary(ElementwiseUnary(.sigmoid))
        case "Tanh": try a.allowOnly([]); return .unary(ElementwiseUnary(.tanh))
        case "Softmax": return .softmax(try Softmax(a))
        case "AveragePool": return .pool(try Pool(a, kind: .average, version: version))
        case "MaxPool": return .pool(try Pool(a, kind: .max, version: version))
        case "Flatten": return .flatten(try Flatten(a))
        case "Reshape": return .reshape(try Reshape(a, version: version))
        case "Identity": try a.allowOnly([]); return .identity(Identity())
        case "Dropout": return .dropout(try Dropout(a))
        default:
            throw .unsupported("operator '\(node.opType)' (domain '', opset \(opset)) is not supported by libd2l")
        }
    }

    /// How many inputs the operator takes: (required, maximum).
    var arity: (required: Int, maximum: Int) {
        switch self {
        case .conv: return (2, 3)
        case .gemm: return (2, 3)
        case .matMul, .binary: return (2, 2)
        case .unary, .softmax, .pool, .flatten, .identity: return (1, 1)
        case .reshape: return (2, 2)
        case .dropout: return (1, 3)
        }
    }

    /// Output count: (required, maximum).
    var outputArity: (required: Int, maximum: Int) {
        switch self {
        case .dropout: return (1, 2)
        default: return (1, 1)
        }
    }

    /// Output types for these input types; also records in `self` what `run` needs for
    /// them. Throws D2L_ERR_SHAPE (or UNSUPPORTED for a dtype the kernel lacks).
    mutating func plan(_ inputs: [PlanInput?], label: String) throws(D2LError) -> [TensorType] {
        switch self {
        case .conv(var op): let t = try op.plan(inputs, label); self = .conv(op); return t
        case .gemm(var op): let t = try op.plan(inputs, label); self = .gemm(op); return t
        case .matMul(var op): let t = try op.plan(inputs, label); self = .matMul(op); return t
        case .binary(var op): let t = try op.plan(inputs, label); self = .binary(op); return t
        case .unary(var op): let t = try op.plan(inputs, label); self = .unary(op); return t
        case .softmax(var op): let t = try op.plan(inputs, label); self = .softmax(op); return t
        case .pool(var op): let t = try op.plan(inputs, label); self = .pool(op); return t
        case .flatten(var op): let t = try op.plan(inputs, label); self = .flatten(op); return t
        case .reshape(var op): let t = try op.plan(inputs, label); self = .reshape(op); return t
        case .identity(var op): let t = try op.plan(inputs, label); self = .identity(op); return t
        case .dropout(var op): let t = try op.plan(inputs, label); self = .dropout(op); return t
        }
    }

    /// Float scratch elements `run` needs (after `plan`).
    var scratchElements: Int {
        switch self {
        case .conv(let op): return op.scratchElements
        default: return 0
        }
    }

    /// Runs the kernel. Shapes were checked by `plan`; kernels cannot fail.
    func run(_ io: KernelIO, pool: ThreadPool?) {
        switch self {
        case .conv(let op): op.run(io, pool: pool)
        case .gemm(let op): op.run(io, pool: pool)
        case .matMul(let op): op.run(io, pool: pool)
        case .binary(let op): op.run(io)
        case .unary(let op): op.run(io, pool: pool)
        case .softmax(let op): op.run(io)
        case .pool(let op): op.run(io, pool: pool)
        case .flatten, .reshape, .identity, .dropout: copyThrough(io)
        }
    }
}

/// Identity-like operators (Identity, Reshape, Flatten, inference Dropout): output 0 is
/// input 0's bytes; Dropout's optional mask output is all true.
func copyThrough(_ io: KernelIO) {
    let x = io.input(0)
    if let y = io.outputs[0], y.pointer != x.pointer {
        memcpy(y.pointer, x.pointer, x.type.byteCount)
    }
    if io.outputs.count > 1, let mask = io.outputs[1] {
        memset(mask.pointer, 1, mask.type.byteCount)
    }
}

/// Throws unless `input` is float32: the kernels of this release compute in float32.
func requireFloat(_ input: PlanInput, _ label: String, _ which: String) throws(D2LError) {
    guard input.type.dtype == .float32 else {
        throw .unsupported("\(label): input '\(which)' is \(input.type.dtype.name); this operator runs on float32")
    }
}

/// Input `i`, which planning guarantees present for required inputs.
func required(_ inputs: [PlanInput?], _ i: Int, _ label: String) throws(D2LError) -> PlanInput {
    guard i < inputs.count, let input = inputs[i] else {
        throw .invalidModel("\(label) is missing required input #\(i)")
    }
    return input
}
