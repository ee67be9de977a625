import _D2LSystem

/// A loaded, validated model: the graph, its weights, its declared inputs and outputs,
/// and its metadata. Immutable after loading; safe to share between threads.
public final class Model {
    public let opset: Int
    public let irVersion: Int
    /// Graph inputs the caller provides, in order.
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]
    /// `ModelProto.metadata_props`, in file order.
    public let metadata: [(key: String, value: String)]
    let graph: Graph
    /// Keeps the weights alive (constants point into it).
    let weights: WeightArena

    /// Largest model file accepted (2 GiB − 1, protobuf's own limit; also an `Int` on 32-bit targets).
    public static let maximumFileSize = Int(Int32.max)

    /// Loads the ONNX file at `path`; external data is read from the file's folder.
    ///
    /// Before reading the file whole, checks that it is a regular file (a FIFO, device or
    /// directory is refused without reading), that it is at most ``maximumFileSize``
    /// bytes, and that its first bytes can begin an ONNX ModelProto (``ModelProtoHead``),
    /// so that a large file that is not a model fails in milliseconds.
    public convenience init(path: String) throws(D2LError) {
        var head = [UInt8](repeating: 0, count: ModelProtoHead.length)
        var headCount = 0
        var fileSize: Int64 = 0
        let headStatus = head.withUnsafeMutableBytes { raw in
            d2l_sys_read_file_head(path, raw.baseAddress, raw.count, &headCount, &fileSize)
        }
        guard headStatus == 0 else { throw D2LError(.io, "cannot read '\(path)': \(errnoText(headStatus))") }
        if fileSize > Int64(Model.maximumFileSize) {
            throw D2LError(.io, "'\(path)' is larger than 2 GiB (\(fileSize) bytes); ONNX models are at most 2 GiB − 1 (larger weights go in external data)")
        }
        if fileSize == 0 { throw .invalidModel("the model is empty (0 bytes)") }
        let problem = head.withUnsafeBytes { raw in
            ModelProtoHead.problem(UnsafeRawBufferPointer(rebasing: raw.prefix(headCount)), fileSize: Int(fileSize))
        }
        if let problem {
            throw .invalidModel("not an ONNX model: the \(fileSize) bytes do not parse as an onnx.ModelProto: \(problem)")
        }
        var data: UnsafeMutableRawPointer?
        var size = 0
        let status = d2l_sys_read_file(path, Model.maximumFileSize, &data, &size)
        if status == EFBIG { throw D2LError(.io, "'\(path)' is larger than 2 GiB") }
        guard status == 0, let data else {
            throw D2LError(.io, "cannot read '\(path)': \(errnoText(status))")
        }
        // The reader frees the file's bytes as soon as they are unpacked.
        var owned: UnsafeMutableRawPointer? = data
        defer { free(owned) }
        try self.init(bytes: UnsafeRawBufferPointer(start: data, count: size), modelDirectory: directory(of: path),
                      releaseInput: { free(owned); owned = nil })
    }

    /// Loads an ONNX model from memory. The bytes are only read during the call. A model
    /// with external data is refused (D2L_ERR_INVALID_MODEL).
    public convenience init(bytes: UnsafeRawBufferPointer) throws(D2LError) {
        try self.init(bytes: bytes, modelDirectory: nil)
    }

    init(bytes: UnsafeRawBufferPointer, modelDirectory: String?, releaseInput: () -> Void = {}) throws(D2LError) {
        let description = try ONNXReader.read(bytes, modelDirectory: modelDirectory, releaseInput: releaseInput)
        opset = description.opset
        irVersion = description.irVersion
        inputs = description.inputs
        outputs = description.outputs
        metadata = description.metadata
        weights = description.weights
        graph = try Graph(description)
        let planned = try checkShapes()
        try graph.prepareConvolutionWeights(planned: planned)
    }

    /// The value of metadata `key`, or nil.
    public func metadata(_ key: String) -> String? {
        for entry in metadata where entry.key == key { return entry.value }
        return nil
    }

    /// Plans once at load with symbolic dimensions set to 1, so that weights that do not
    /// fit the graph are reported now rather than at the first run. Models with symbolic
    /// dimensions are only checked when planning succeeds for size 1 (their real sizes
    /// are checked at run time). Nodes whose shapes depend on values only a run has are
    /// left unplanned (`ExecutionPlan`'s `deferring`). Returns the planned operators (a
    /// deferred node's unplanned; nil when planning could not run at load).
    private func checkShapes() throws(D2LError) -> [Operator]? {
        var types: [TensorType] = []
        var hasSymbolic = false
        // Small int64 inputs may be shape-like values (Reshape's shape, Slice's starts):
        // planning then needs their values, which only a run has.
        var hasValueInputs = false
        var buffers: [AlignedBuffer] = []
        var readInputs: [Int] = []
        for (id, read) in ExecutionPlan.valuesReadAtPlanTime(graph).enumerated() where read {
            if case .input(let i) = graph.values[id].source { readInputs.append(i) }
        }
        for (index, input) in inputs.enumerated() {
            var shape: [Int] = []
            for d in input.type.dims {
                if let d { shape.append(d) } else { shape.append(1); hasSymbolic = true }
            }
            let type = TensorType(input.type.dtype, shape)
            guard checkedElementCount(shape, limit: maxTensorElements) != nil else {
                throw .invalidModel("graph input \(quoted(input.name)) is too large: \(shapeText(shape))")
            }
            if type.dtype == .int64 && (checkedElementCount(shape) ?? Int.max) <= ExecutionPlan.planTimeElementLimit {
                hasValueInputs = true
            }
            if readInputs.contains(index) { hasValueInputs = true }
            types.append(type)
            buffers.append(try AlignedBuffer(byteCount: 0))
        }
        do {
            // Nodes that need values only a run computes (and those after them) are deferred:
            // the rest is checked, and its planned operators prepare the weights.
            let plan = try ExecutionPlan(graph: graph, inputTypes: types, inputPointers: buffers.map { $0.pointer },
                                         allocate: false, deferring: true)
            return plan.plannedOperators
        } catch {
            // Shapes that depend on the inputs' values are only known at run time.
            if hasValueInputs { return nil }
            if !hasSymbolic || error.status != .shape { throw error }
            return nil
        }
    }
}

/// The folder part of `path` ("" when it has none).
func directory(of path: String) -> String {
    var bytes = Array(path.utf8)
    while let last = bytes.last, last != UInt8(ascii: "/") { bytes.removeLast() }
    if bytes.isEmpty { return "" }
    if bytes.count > 1 { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
}
