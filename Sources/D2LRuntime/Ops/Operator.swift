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
    case shape(Shape)
    case squeeze(Squeeze)
    case unsqueeze(Unsqueeze)
    case expand(Expand)
    case concat(Concat)
    case transpose(Transpose)
    case slice(Slice)
    case cast(Cast)
    case whereOp(Where)
    case gather(Gather)
    case oneHot(OneHot)
    case pad(Pad)
    case reduce(Reduce)
    case argMax(ArgMax)
    case variadic(Variadic)
    case clip(Clip)
    case batchNorm(BatchNormalization)
    case globalAveragePool(GlobalAveragePool)
    case lrn(LRN)
    case recurrent(Recurrent)

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
        "RNN": [1, 7, 14, 22], "GRU": [1, 3, 7, 14, 22], "LSTM": [1, 7, 14, 22],
        "Constant": [1, 9, 11, 12, 13, 19, 21, 23, 24, 25],
        "BatchNormalization": [1, 6, 7, 9, 14, 15], "GlobalAveragePool": [1, 22], "LRN": [1, 13],
        "ReduceMean": [1, 11, 13, 18], "ReduceSum": [1, 11, 13], "ReduceMax": [1, 11, 12, 13, 18, 20],
        "ArgMax": [1, 11, 12, 13],
        "Concat": [1, 4, 11, 13], "Slice": [1, 10, 11, 13],
        "Squeeze": [1, 11, 13, 21, 23, 24, 25], "Unsqueeze": [1, 11, 13, 21, 23, 24, 25],
        "Transpose": [1, 13, 21, 23, 24, 25], "Cast": [1, 6, 9, 13, 19, 21, 23, 24, 25],
        "Equal": [1, 7, 11, 13, 19], "Where": [9, 16], "Expand": [8, 13],
        "Shape": [1, 13, 15, 19, 21, 23, 24, 25], "Gather": [1, 11, 13], "OneHot": [9, 11],
        "Pad": [1, 2, 11, 13, 18, 19, 21, 23, 24, 25], "Clip": [1, 6, 11, 12, 13],
        "Neg": [1, 6, 13], "Exp": [1, 6, 13], "Log": [1, 6, 13], "Sqrt": [1, 6, 13], "Erf": [9, 13],
        "Pow": [1, 7, 12, 13, 15], "Sum": [1, 6, 8, 13], "Max": [1, 6, 8, 12, 13], "Min": [1, 6, 8, 12, 13],
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
        case "Shape": return .shape(try Shape(a, version: version))
        case "Squeeze": try a.allowOnly([]); return .squeeze(Squeeze())
        case "Unsqueeze": try a.allowOnly([]); return .unsqueeze(Unsqueeze())
        case "Expand": try a.allowOnly([]); return .expand(Expand())
        case "Concat": return .concat(try Concat(a))
        case "Transpose": return .transpose(try Transpose(a))
        case "Slice": try a.allowOnly([]); return .slice(Slice())
        case "Cast": return .cast(try Cast(a, version: version))
        case "Where": try a.allowOnly([]); return .whereOp(Where())
        case "Gather": return .gather(try Gather(a))
        case "OneHot": return .oneHot(try OneHot(a))
        case "Pad": return .pad(try Pad(a, version: version))
        case "ReduceMean": return .reduce(try Reduce(a, kind: .mean, version: version))
        case "ReduceSum": return .reduce(try Reduce(a, kind: .sum, version: version))
        case "ReduceMax": return .reduce(try Reduce(a, kind: .max, version: version))
        case "ArgMax": return .argMax(try ArgMax(a))
        case "Sum": try a.allowOnly([]); return .variadic(Variadic(.sum))
        case "Max": try a.allowOnly([]); return .variadic(Variadic(.max))
        case "Min": try a.allowOnly([]); return .variadic(Variadic(.min))
        case "Clip": try a.allowOnly([]); return .clip(Clip())
        case "BatchNormalization": return .batchNorm(try BatchNormalization(a, version: version))
        case "GlobalAveragePool": try a.allowOnly([]); return .globalAveragePool(GlobalAveragePool())
        case "LRN": return .lrn(try LRN(a))
        case "Equal": try a.allowOnly([]); return .binary(ElementwiseBinary(.equal))
        case "Pow": try a.allowOnly([]); return .binary(ElementwiseBinary(.pow))
        case "Neg": try a.allowOnly([]); return .unary(ElementwiseUnary(.neg))
        case "Exp": try a.allowOnly([]); return .unary(ElementwiseUnary(.exp))
        case "Log": try a.allowOnly([]); return .unary(ElementwiseUnary(.log))
        case "Sqrt": try a.allowOnly([]); return .unary(ElementwiseUnary(.sqrt))
        case "Erf": try a.allowOnly([]); return .unary(ElementwiseUnary(.erf))
        case "RNN": return .recurrent(try Recurrent(a, kind: .rnn, version: version))
        case "GRU": return .recurrent(try Recurrent(a, kind: .gru, version: version))
        case "LSTM": return .recurrent(try Recurrent(a, kind: .lstm, version: version))
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
        case .shape, .cast, .transpose, .argMax, .globalAveragePool, .lrn: return (1, 1)
        case .squeeze: return (1, 2)
        case .unsqueeze, .expand, .gather: return (2, 2)
        case .concat, .variadic: return (1, Int.max)
        case .slice: return (3, 5)
        case .whereOp, .oneHot: return (3, 3)
        case .pad: return (2, 4)
        case .reduce: return (1, 2)
        case .clip: return (1, 3)
        case .batchNorm: return (5, 5)
        case .recurrent(let op): return op.kind.arity
        }
    }

    /// Whether `plan` reads the value (not only the type) of input `position`: such
    /// inputs must be known while planning (constants, or small int64 values).
    func planReadsValue(_ position: Int) -> Bool {
        switch self {
        case .reshape, .squeeze, .unsqueeze, .expand, .reduce, .oneHot: return position == 1
        case .slice: return position >= 1
        case .pad: return position == 1 || position == 3
        case .dropout: return position == 2
        default: return false
        }
    }

    /// Output count: (required, maximum).
    var outputArity: (required: Int, maximum: Int) {
        switch self {
        case .dropout: return (1, 2)
        case .recurrent(let op): return op.kind.outputArity
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
        case .shape(var op): let t = try op.plan(inputs, label); self = .shape(op); return t
        case .squeeze(var op): let t = try op.plan(inputs, label); self = .squeeze(op); return t
        case .unsqueeze(var op): let t = try op.plan(inputs, label); self = .unsqueeze(op); return t
        case .expand(var op): let t = try op.plan(inputs, label); self = .expand(op); return t
        case .concat(var op): let t = try op.plan(inputs, label); self = .concat(op); return t
        case .transpose(var op): let t = try op.plan(inputs, label); self = .transpose(op); return t
        case .slice(var op): let t = try op.plan(inputs, label); self = .slice(op); return t
        case .cast(var op): let t = try op.plan(inputs, label); self = .cast(op); return t
        case .whereOp(var op): let t = try op.plan(inputs, label); self = .whereOp(op); return t
        case .gather(var op): let t = try op.plan(inputs, label); self = .gather(op); return t
        case .oneHot(var op): let t = try op.plan(inputs, label); self = .oneHot(op); return t
        case .pad(var op): let t = try op.plan(inputs, label); self = .pad(op); return t
        case .reduce(var op): let t = try op.plan(inputs, label); self = .reduce(op); return t
        case .argMax(var op): let t = try op.plan(inputs, label); self = .argMax(op); return t
        case .variadic(var op): let t = try op.plan(inputs, label); self = .variadic(op); return t
        case .clip(var op): let t = try op.plan(inputs, label); self = .clip(op); return t
        case .batchNorm(var op): let t = try op.plan(inputs, label); self = .batchNorm(op); return t
        case .globalAveragePool(var op): let t = try op.plan(inputs, label); self = .globalAveragePool(op); return t
        case .lrn(var op): let t = try op.plan(inputs, label); self = .lrn(op); return t
        case .recurrent(var op): let t = try op.plan(inputs, label); self = .recurrent(op); return t
        }
    }

    /// Float scratch elements `run` needs (after `plan`).
    var scratchElements: Int {
        switch self {
        case .conv(let op): return op.scratchElements
        case .recurrent(let op): return op.scratchElements
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
        case .flatten, .reshape, .identity, .dropout, .squeeze, .unsqueeze: copyThrough(io)
        case .shape(let op): op.run(io)
        case .expand(let op): op.run(io)
        case .concat(let op): op.run(io)
        case .transpose(let op): op.run(io)
        case .slice(let op): op.run(io)
        case .cast(let op): op.run(io)
        case .whereOp(let op): op.run(io)
        case .gather(let op): op.run(io)
        case .oneHot(let op): op.run(io)
        case .pad(let op): op.run(io)
        case .reduce(let op): op.run(io)
        case .argMax(let op): op.run(io)
        case .variadic(let op): op.run(io)
        case .clip(let op): op.run(io)
        case .batchNorm(let op): op.run(io)
        case .globalAveragePool(let op): op.run(io)
        case .lrn(let op): op.run(io)
        case .recurrent(let op): op.run(io, pool: pool)
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
