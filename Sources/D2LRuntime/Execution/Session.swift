import _D2LSystem

/// Per-run state of one model: copies of the inputs, the plan for their shapes, the
/// outputs of the last run, and the thread pool. Use from one thread at a time.
public final class Session {
    public let model: Model
    private var inputBuffers: [AlignedBuffer?]
    private var inputTypes: [TensorType?]
    private var plan: ExecutionPlan?
    /// The last run's node-by-node part, when the plan is partial (its shapes depend on
    /// values only a run computes: `ExecutionPlan.deferredNodes`), and the buffers it reuses.
    private var eager: EagerExecution?
    let eagerBuffers = BufferPool()
    private var pool: ThreadPool?
    /// Whether the outputs of a successful run are available.
    public private(set) var hasOutputs = false
    /// Output shapes as Int64, for the C API's borrowed `int64_t *`: one allocation per
    /// plan, all shapes back to back; `outputShapeOffsets[i]` is where shape i starts.
    private var outputShapeStorage: UnsafeMutablePointer<Int64>?
    private var outputShapeOffsets: [Int] = []

    deinit { outputShapeStorage?.deallocate() }

    public init(model: Model) {
        self.model = model
        inputBuffers = [AlignedBuffer?](repeating: nil, count: model.inputs.count)
        inputTypes = [TensorType?](repeating: nil, count: model.inputs.count)
    }

    /// Threads used by the kernels (1 = the caller's thread only; 0 = one per processor).
    public var threadCount: Int { pool?.threadCount ?? 1 }

    public func setThreads(_ count: Int) throws(D2LError) {
        guard count >= 0 && count <= 256 else {
            throw .invalidArgument("thread count \(count) is out of range (0 to 256)")
        }
        let n = count == 0 ? Int(d2l_sys_cpu_count()) : count
        if n == threadCount { return }
        guard let newPool = ThreadPool(threadCount: n) else {
            throw D2LError(.outOfMemory, "could not start \(n) threads")
        }
        pool = n > 1 ? newPool : nil
        hasOutputs = false
    }

    /// Copies input `index` (row-major elements of `dtype`, shape `shape`) into the
    /// session after checking it against the declared input. On error nothing changes.
    public func setInput(_ index: Int, dtype: DType, data: UnsafeRawPointer, shape: [Int]) throws(D2LError) {
        guard index >= 0 && index < model.inputs.count else {
            throw .invalidArgument("input index \(index) is out of range (the model has \(model.inputs.count) inputs)")
        }
        let declared = model.inputs[index]
        guard dtype == declared.type.dtype else {
            throw .invalidArgument("input \(quoted(declared.name)) takes \(declared.type.dtype.name), not \(dtype.name)")
        }
        guard shape.count == declared.type.dims.count else {
            throw .shape("input \(quoted(declared.name)) has rank \(declared.type.dims.count) (\(describeDeclared(declared.type.dims))), got rank \(shape.count) \(shapeText(shape))")
        }
        for (i, d) in shape.enumerated() {
            if let fixed = declared.type.dims[i] {
                guard d == fixed else {
                    throw .shape("input \(quoted(declared.name)) must have shape \(describeDeclared(declared.type.dims)), got \(shapeText(shape)) (dimension \(i) differs)")
                }
            } else if d < 1 {
                throw .shape("input \(quoted(declared.name)): dimension \(i) must be at least 1, got \(d)")
            }
        }
        guard let count = checkedElementCount(shape, limit: maxTensorElements) else {
            throw .shape("input \(quoted(declared.name)) shape \(shapeText(shape)) is too large")
        }
        let type = TensorType(dtype, shape)
        let bytes = count * dtype.size
        if let buffer = inputBuffers[index], inputTypes[index] == type {
            memcpy(buffer.pointer, data, bytes)
        } else {
            let buffer = try AlignedBuffer(byteCount: bytes)
            memcpy(buffer.pointer, data, bytes)
            inputBuffers[index] = buffer
            inputTypes[index] = type
        }
    }

    /// `setInput`'s allocation-free path, for callers that hold the shape as C integers:
    /// when input `index` already holds a tensor of `dtype` with exactly the dimensions
    /// `shape`, copies `data` into it and returns true. Returns false (changing nothing)
    /// otherwise: then `setInput` validates and stores the new tensor.
    public func refillInput(_ index: Int, dtype: DType, data: UnsafeRawPointer,
                            shape: UnsafeBufferPointer<Int64>) -> Bool {
        guard index >= 0 && index < inputTypes.count, let type = inputTypes[index],
              let buffer = inputBuffers[index], type.dtype == dtype, type.rank == shape.count else { return false }
        for (d, given) in zip(type.shape, shape) where Int64(d) != given { return false }
        memcpy(buffer.pointer, data, type.byteCount)
        return true
    }

    /// Runs the model on the current inputs, planning first when their shapes (or
    /// buffers) changed since the last plan.
    /// The nodes of a graph whose shapes depend on values only a run computes (and the
    /// nodes after them that read their results) run node by node after the plan
    /// (`EagerExecution`), in buffers reused from the run before (`BufferPool`).
    public func run() throws(D2LError) {
        hasOutputs = false
        releaseDeferredOutputs()
        if !planMatchesInputs() {
            plan = nil
            var types: [TensorType] = []
            var pointers: [UnsafeMutableRawPointer] = []
            for i in 0..<model.inputs.count {
                guard let type = inputTypes[i], let buffer = inputBuffers[i] else {
                    throw .invalidArgument("input \(quoted(model.inputs[i].name)) (#\(i)) has not been set")
                }
                types.append(type)
                pointers.append(buffer.pointer)
            }
            let newPlan = try ExecutionPlan(graph: model.graph, inputTypes: types, inputPointers: pointers, deferring: true)
            if newPlan.deferredNodes.isEmpty { storeOutputShapes(newPlan.outputs) }
            plan = newPlan
        }
        guard let plan else { throw D2LError(.internal, "no plan after planning") }
        plan.run(pool: pool)
        try runDeferredNodes(of: plan)
        hasOutputs = true
    }

    /// Runs a partial plan's deferred nodes after it (nothing when the plan is whole).
    private func runDeferredNodes(of plan: ExecutionPlan) throws(D2LError) {
        if plan.deferredNodes.isEmpty { return }
        releaseDeferredOutputs()
        let rest = try EagerExecution(graph: model.graph, after: plan, buffers: eagerBuffers, pool: pool)
        storeOutputShapes(rest.outputs)
        eager = rest
    }

    /// Gives the last node-by-node run's output buffers back to the pool (its outputs are
    /// no longer available).
    private func releaseDeferredOutputs() {
        guard let previous = eager else { return }
        eager = nil
        for buffer in previous.keptBuffers { eagerBuffers.giveBack(buffer) }
    }

    /// One step of the plan and the time it took, for `profile`.
    public struct StepTime {
        /// The node (or fused chain) the step runs, e.g. "Conv node 'n3'".
        public var label: String
        /// Its first output's shape.
        public var outputShape: [Int]
        /// Its mean time per run, in microseconds.
        public var microseconds: Double
    }

    /// Runs the model `runs` times on the current inputs (after one untimed run, which
    /// plans) and returns each step's mean time, in plan order: where a model's time
    /// goes. A partial plan's node-by-node part is one last step ("N nodes run node by
    /// node", with its last node's first output shape). The outputs are those of the last run.
    public func profile(runs: Int) throws(D2LError) -> [StepTime] {
        try run()
        guard let plan else { throw D2LError(.internal, "no plan after planning") }
        let count = plan.steps.count
        var times = [UInt64](repeating: 0, count: count)
        var restTime: UInt64 = 0
        let repeats = max(1, runs)
        for _ in 0..<repeats {
            hasOutputs = false
            times.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                plan.runTimed(pool: pool, times: base)
            }
            let start = d2l_sys_now_ns()
            try runDeferredNodes(of: plan)
            restTime &+= d2l_sys_now_ns() &- start
            hasOutputs = true
        }
        var steps = (0..<count).map { i in
            let step = plan.steps[i]
            let shape = step.io.outputs.first.flatMap { $0?.type.shape } ?? []
            return StepTime(label: step.label, outputShape: shape, microseconds: Double(times[i]) / Double(repeats) / 1000)
        }
        if !plan.deferredNodes.isEmpty {
            steps.append(StepTime(label: "\(plan.deferredNodes.count) nodes run node by node (their shapes depend on computed values)",
                                  outputShape: eager?.lastNodeOutputShape ?? [],
                                  microseconds: Double(restTime) / Double(repeats) / 1000))
        }
        return steps
    }

    /// Whether the current plan was made for the current inputs' shapes and buffers
    /// (checked without allocating, so repeated runs allocate nothing).
    private func planMatchesInputs() -> Bool {
        guard let plan else { return false }
        for i in 0..<model.inputs.count {
            guard let type = inputTypes[i], let buffer = inputBuffers[i],
                  plan.inputTypes[i] == type, plan.inputPointers[i] == buffer.pointer else { return false }
        }
        return plan.inputValuesMatch(plan.inputPointers)
    }

    /// The type of input `index` as last set, or nil (unset or out of range).
    public func inputType(_ index: Int) -> TensorType? {
        guard index >= 0 && index < inputTypes.count else { return nil }
        return inputTypes[index]
    }

    /// Output `index` of the last successful run, or nil (no run, or out of range).
    /// Borrowed: valid until the next run.
    public func output(_ index: Int) -> TensorView? {
        guard hasOutputs else { return nil }
        let outputs = eager?.outputs ?? plan?.outputs ?? []
        guard index >= 0, index < outputs.count else { return nil }
        return outputs[index]
    }

    private func storeOutputShapes(_ outputs: [TensorView]) {
        outputShapeStorage?.deallocate()
        var total = 0
        outputShapeOffsets = []
        for output in outputs {
            outputShapeOffsets.append(total)
            total += output.type.rank
        }
        let storage = UnsafeMutablePointer<Int64>.allocate(capacity: max(total, 1))
        for (i, output) in outputs.enumerated() {
            for (j, d) in output.type.shape.enumerated() { storage[outputShapeOffsets[i] + j] = Int64(d) }
        }
        outputShapeStorage = storage
    }

    /// Output `index`'s shape as Int64s (borrowed, valid until the next plan), or nil.
    package func outputShape64(_ index: Int) -> UnsafePointer<Int64>? {
        guard hasOutputs, let storage = outputShapeStorage, index >= 0, index < outputShapeOffsets.count else { return nil }
        return UnsafePointer(storage + outputShapeOffsets[index])
    }

    /// Bytes of the activation arena of the current plan (0 before the first run).
    package var plannedArenaBytes: Int { plan?.arenaBytes ?? 0 }
}

func describeDeclared(_ dims: [Int?]) -> String {
    var s = "["
    for (i, d) in dims.enumerated() {
        if i > 0 { s += ", " }
        if let d { s += "\(d)" } else { s += "?" }
    }
    return s + "]"
}
