import _D2LSystem

/// The operators libd2l runs: the lookup (`registry`, by ONNX name) and the dispatch
/// (`plan`, `run`). Each operator is an `OperatorKernel` struct in `Ops/`, in a file named
/// like the ONNX operator, holding the spec's attributes (parsed and checked at load by its
/// `OperatorSchema`) and, after `plan`, what its kernel needs for the planned shapes.
/// Those that other parts of the runtime inspect have a case of their own; the rest travel
/// as `.kernel(AnyOperatorKernel)`.
///
/// An enum rather than a protocol existential: Embedded Swift has no `any Protocol`.
enum Operator {
    // The operators other parts of the runtime look into: fusion (Conv, Gemm, MatMul,
    // BatchNormalization with a following activation or Add), weight packing (Conv) and
    // plan-time evaluation (Shape).
    case conv(Conv)
    case gemm(Gemm)
    case matMul(MatMul)
    case binary(ElementwiseBinary)
    case unary(ElementwiseUnary)
    case batchNorm(BatchNormalization)
    case shape(Shape)
    /// Every other operator, seen only through its `plan` and `run`: a new operator needs no
    /// case here, only its file and its line in `registry`.
    case kernel(AnyOperatorKernel)

    /// Every ONNX operator libd2l runs, one line per operator (or kernel family); each
    /// schema is declared beside its operator. `Tests/D2LRuntimeTests/OperatorRegistryTests`
    /// checks `tools/dev/conformance/supported-ops.txt` and the README against this list.
    static let registry: [OperatorSchema] = [
        Conv.schema, Gemm.schema, MatMul.schema, Softmax.schema, Flatten.schema, Reshape.schema,
        Identity.schema, Dropout.schema, Constant.schema, BatchNormalization.schema,
        GlobalAveragePool.schema, LRN.schema, ArgMax.schema, Concat.schema, Slice.schema,
        Squeeze.schema, Unsqueeze.schema, Transpose.schema, Cast.schema, Where.schema,
        Expand.schema, Shape.schema, Gather.schema, OneHot.schema, Pad.schema, Clip.schema,
        NonMaxSuppression.schema,
    ] + ElementwiseBinary.schemas + ElementwiseUnary.schemas + Pool.schemas + Reduce.schemas
        + Variadic.schemas + Recurrent.schemas

    /// The registry by ONNX name.
    static let schemasByName: [String: OperatorSchema] = {
        var byName: [String: OperatorSchema] = [:]
        for schema in registry { byName[schema.name] = schema }
        return byName
    }()

    /// The schema of `opType`, or D2L_ERR_UNSUPPORTED naming the operator and the opset.
    static func schema(_ opType: String, opset: Int) throws(D2LError) -> OperatorSchema {
        guard let schema = schemasByName[opType], schema.version(forOpset: opset) != nil else {
            throw .unsupported("operator \(quoted(opType)) (domain '', opset \(opset)) is not supported by libd2l")
        }
        return schema
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
        case .batchNorm(var op): let t = try op.plan(inputs, label); self = .batchNorm(op); return t
        case .shape(var op): let t = try op.plan(inputs, label); self = .shape(op); return t
        case .kernel(let op): let (t, planned) = try op.plan(inputs, label); self = .kernel(planned); return t
        }
    }

    /// Float scratch elements `run` needs (after `plan`).
    var scratchElements: Int {
        switch self {
        case .conv(let op): return op.scratchElements
        case .kernel(let op): return op.scratchElements
        default: return 0
        }
    }

    /// Runs the kernel. Shapes were checked by `plan`; kernels cannot fail.
    func run(_ io: KernelIO, pool: ThreadPool?) {
        switch self {
        case .conv(let op): op.run(io, pool: pool)
        case .gemm(let op): op.run(io, pool: pool)
        case .matMul(let op): op.run(io, pool: pool)
        case .binary(let op): op.run(io, pool: pool)
        case .unary(let op): op.run(io, pool: pool)
        case .batchNorm(let op): op.run(io, pool: pool)
        case .shape(let op): op.run(io, pool: pool)
        case .kernel(let op): op.run(io, pool: pool)
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
        throw .unsupported("\(label): input \(quoted(which)) is \(input.type.dtype.name); this operator runs on float32")
    }
}

/// Input `i`, which planning guarantees present for required inputs.
func required(_ inputs: [PlanInput?], _ i: Int, _ label: String) throws(D2LError) -> PlanInput {
    guard i < inputs.count, let input = inputs[i] else {
        throw .invalidModel("\(label) is missing required input #\(i)")
    }
    return input
}
