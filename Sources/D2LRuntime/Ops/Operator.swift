import _D2LSystem

/// The operators libd2l runs: the lookup (`registry`, by ONNX name) and the dispatch
/// (`plan`, `run`). One case per kernel family; each payload is a struct in `Ops/`, in a
/// file named like the ONNX operator, holding the spec's attributes (parsed and checked at
/// load by its `OperatorSchema`) and, after `plan`, what its kernel needs for the planned
/// shapes.
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

    /// Every ONNX operator libd2l runs, one line per operator (or kernel family); each
    /// schema is declared beside its operator. `Tests/D2LRuntimeTests/OperatorRegistryTests`
    /// checks `tools/dev/conformance/supported-ops.txt` and the README against this list.
    static let registry: [OperatorSchema] = [
        Conv.schema, Gemm.schema, MatMul.schema, Softmax.schema, Flatten.schema, Reshape.schema,
        Identity.schema, Dropout.schema, Constant.schema, BatchNormalization.schema,
        GlobalAveragePool.schema, LRN.schema, ArgMax.schema, Concat.schema, Slice.schema,
        Squeeze.schema, Unsqueeze.schema, Transpose.schema, Cast.schema, Where.schema,
        Expand.schema, Shape.schema, Gather.schema, OneHot.schema, Pad.schema, Clip.schema,
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
            throw .unsupported("operator '\(opType)' (domain '', opset \(opset)) is not supported by libd2l")
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
