import _D2LSystem

/// A graph planned for concrete input shapes: every tensor's type, one activation arena
/// laid out by liveness, one scratch buffer, and the kernel calls with their pointers
/// resolved. Running a plan allocates nothing.
///
/// Planned with `deferring`, a graph whose shapes depend on values only a run computes
/// (NonMaxSuppression on a network's own boxes) gets a partial plan: every node that does
/// not depend on such a value is planned as usual (fused, in the arena), and the others
/// (`deferredNodes`) are left to `EagerExecution`, which runs them node by node after the
/// plan, reading the plan's values (`computedValue`); those values stay live to the end.
final class ExecutionPlan {
    struct Step {
        var op: Operator
        var io: KernelIO
        /// The node's description ("Conv node 'n3'", "Conv+Add+Relu at …" after fusion).
        var label: String
    }

    /// The input shapes and buffers this plan was made for.
    let inputTypes: [TensorType]
    let inputPointers: [UnsafeMutableRawPointer]
    private(set) var steps: [Step] = []
    /// Graph outputs, in output order (pointers into the arena, the inputs or constants).
    private(set) var outputs: [TensorView] = []
    /// Bytes of the activation arena (for tests and diagnostics).
    let arenaBytes: Int
    private let arena: AlignedBuffer
    private let scratch: AlignedBuffer
    /// Values known while planning (small int64 tensors computed from constants and
    /// `Shape`), kept alive for the steps that read them.
    private(set) var planTimeValues: [ConstantTensor] = []

    /// Largest int64 result (in elements) computed while planning; also the largest int64
    /// graph input whose values planning reads (shape-like inputs such as Reshape's
    /// `shape` fed by the caller). The plan holds a copy of those values, and a session
    /// re-plans when they change (`inputValuesMatch`).
    static let planTimeElementLimit = 64
    /// Largest graph input (in bytes) of another dtype whose values planning reads: an
    /// input at a plan-time position (`OperatorSchema.planTimeInputs`), such as
    /// NonMaxSuppression's boxes and scores, whose values fix an output's shape. The plan
    /// snapshots it like the int64 inputs above, and a session re-plans when it changes.
    static let planTimeInputByteLimit = 1 << 24
    /// (graph input index, the values this plan was made for).
    private(set) var inputSnapshots: [(index: Int, values: ConstantTensor)] = []
    /// The fusions made (Fusion.swift), one description each: "Conv+Add+Relu at Conv node 'n5'".
    private(set) var fusions: [String] = []
    /// Every graph node's operator as planned (shapes resolved), in graph node order,
    /// before fusion: what load-time preparation reads (WeightPacking.swift). A deferred
    /// node's entry is its graph operator, unplanned.
    private(set) var plannedOperators: [Operator] = []
    /// Graph node indices (in graph order) that the plan does not run, because they read
    /// values only a run computes, or the outputs of such nodes (empty unless `deferring`).
    /// When not empty, `outputs` is empty: the node-by-node run after the plan makes them.
    private(set) var deferredNodes: [Int] = []
    /// Every value as this plan holds it, by value id (`computedValue`); empty when the
    /// plan was made without `allocate`.
    private var held: [(view: TensorView, value: ConstantTensor?)?] = []

    /// Whether the small int64 inputs at `pointers` still hold the values this plan read.
    func inputValuesMatch(_ pointers: [UnsafeMutableRawPointer]) -> Bool {
        for (i, snapshot) in inputSnapshots {
            guard i < pointers.count else { return false }
            if memcmp(pointers[i], snapshot.pointer, snapshot.byteCount) != 0 { return false }
        }
        return true
    }

    /// Plans `graph` for inputs of `inputTypes` stored at `inputPointers`. Throws
    /// D2L_ERR_SHAPE (or another status) when a node cannot take the shapes it gets.
    /// With `allocate` false only shapes and the layout are computed (a load-time check):
    /// no arena is allocated and no steps are built. With `fuse` false no operators are
    /// fused (the reference for the fused plan). Without `deferring`, a node that needs a
    /// value only a run computes throws (an error with `needsRunTimeValues`); with it, that
    /// node and every node after it that reads its results are deferred (see above).
    init(graph: Graph, inputTypes: [TensorType], inputPointers: [UnsafeMutableRawPointer],
         allocate: Bool = true, fuse: Bool = true, deferring: Bool = false) throws(D2LError) {
        self.inputTypes = inputTypes
        self.inputPointers = inputPointers
        let valueCount = graph.values.count
        var types = [TensorType?](repeating: nil, count: valueCount)
        // Constants, and values computed while planning: what later nodes see as constant.
        var known = [ConstantTensor?](repeating: nil, count: valueCount)
        var knownNode = [Bool](repeating: false, count: graph.nodes.count)
        var computed: [ConstantTensor] = []
        var snapshots: [(index: Int, values: ConstantTensor)] = []
        // For each known value, the graph inputs its value derives from (empty: constant).
        // Only an input whose value reaches a position an operator reads while planning
        // (Reshape's shape, Slice's starts, ...) is snapshotted; other consumers (a token
        // index into Gather) still read it at run time, so new values need no new plan.
        var deps = [[Int]](repeating: [], count: valueCount)
        var usedInputs: [Int] = []
        var planned: [Operator] = []
        var scratchElements = 0
        // Nodes left to the node-by-node run, and the values they compute.
        var deferred = [Bool](repeating: false, count: graph.nodes.count)
        var deferredValue = [Bool](repeating: false, count: valueCount)
        func deferNode(_ n: Int) {
            deferred[n] = true
            for id in graph.nodes[n].outputs { if let id { deferredValue[id] = true } }
            planned.append(graph.nodes[n].op)
        }

        let readAtPlanTime = ExecutionPlan.valuesReadAtPlanTime(graph)

        // 1. Shapes: infer every value's type in node order.
        for (id, value) in graph.values.enumerated() {
            switch value.source {
            case .input(let i):
                let t = inputTypes[i]
                types[id] = t
                // Small int64 inputs, and inputs read at a plan-time position: their values
                // are known while planning (see above).
                let smallInt64 = t.dtype == .int64 && t.count <= ExecutionPlan.planTimeElementLimit
                let read = readAtPlanTime[id] && t.byteCount <= ExecutionPlan.planTimeInputByteLimit
                if allocate, smallInt64 || read {
                    let buffer = try AlignedBuffer(byteCount: t.byteCount)
                    memcpy(buffer.pointer, inputPointers[i], t.byteCount)
                    let c = ConstantTensor(dtype: t.dtype, shape: t.shape, storage: buffer, offset: 0)
                    snapshots.append((index: i, values: c))
                    known[id] = c
                    deps[id] = [i]
                }
            case .constant(let t): types[id] = TensorType(t.dtype, t.shape); known[id] = t
            case .node: break
            }
        }
        for (n, node) in graph.nodes.enumerated() {
            if node.inputs.contains(where: { $0.map { deferredValue[$0] } ?? false }) {
                deferNode(n)
                continue
            }
            var inputs: [PlanInput?] = []
            var allKnown: [PlanInput?] = []
            var nodeDeps: [Int] = []
            for (position, id) in node.inputs.enumerated() {
                guard let id else { inputs.append(nil); allKnown.append(nil); continue }
                guard let type = types[id] else {
                    throw D2LError(.internal, "\(node.label): input \(quoted(graph.values[id].name)) has no planned type")
                }
                let readsValue = node.planTimeInputs.contains(position)
                inputs.append(PlanInput(type: type, constant: deps[id].isEmpty || readsValue ? known[id] : nil))
                allKnown.append(PlanInput(type: type, constant: known[id]))
                for d in deps[id] where !nodeDeps.contains(d) { nodeDeps.append(d) }
                if readsValue && known[id] != nil {
                    for d in deps[id] where !usedInputs.contains(d) { usedInputs.append(d) }
                }
            }
            // A value planning must read that only a run computes: the node is deferred, or
            // no plan can be made.
            if let position = node.planTimeInputs.first(where: { position in
                position < inputs.count && inputs[position].map { $0.constant == nil } ?? false
            }) {
                if deferring {
                    deferNode(n)
                    continue
                }
                var error = D2LError(.unsupported, "\(node.label): input \(position + 1) must be known when planning, "
                                     + "and only a run computes it")
                error.needsRunTimeValues = true
                throw error
            }
            var op = node.op
            let outTypes = try op.plan(inputs, label: node.label)
            if let results = try ExecutionPlan.evaluateAtPlanTime(op, allKnown, outTypes, node.outputs.count) {
                for (i, id) in node.outputs.enumerated() {
                    if let id, i < results.count { known[id] = results[i]; deps[id] = nodeDeps; computed.append(results[i]) }
                }
                // Values that depend on no input replace the node; others still run with the
                // graph (their plan-time value only serves planning).
                knownNode[n] = nodeDeps.isEmpty
            }
            for (i, id) in node.outputs.enumerated() {
                guard let id, i < outTypes.count else { continue }
                guard checkedElementCount(outTypes[i].shape, limit: maxTensorElements) != nil else {
                    throw .shape("\(node.label): output \(shapeText(outTypes[i].shape)) is too large")
                }
                types[id] = outTypes[i]
            }
            scratchElements = max(scratchElements, op.scratchElements)
            planned.append(op)
        }

        // 2. Fusion, then liveness: the last node that reads each value; graph outputs
        //    live to the end.
        plannedOperators = planned
        let runs = (0..<graph.nodes.count).map { !knownNode[$0] && !deferred[$0] }
        let (nodes, fusionList) = Fusion.nodes(graph: graph, planned: planned, types: types,
                                               runs: runs, enabled: fuse)
        fusions = fusionList
        let forever = nodes.count
        var lastUse = [Int](repeating: -1, count: valueCount)
        for (n, node) in nodes.enumerated() {
            for id in node.inputs { if let id { lastUse[id] = n } }
        }
        for id in graph.outputValues { lastUse[id] = forever }
        // What the deferred nodes read is read after the plan's last step.
        deferredNodes = (0..<graph.nodes.count).filter { deferred[$0] }
        for n in deferredNodes {
            for id in graph.nodes[n].inputs { if let id { lastUse[id] = forever } }
        }

        // 3. Layout: first fit among gaps between live blocks, outputs allocated before
        //    the node's dead inputs are released (so no kernel reads and writes one block).
        var offsets = [Int](repeating: -1, count: valueCount)
        var live: [(offset: Int, size: Int, id: Int)] = []
        var arenaEnd = 0
        for (n, node) in nodes.enumerated() {
            for id in node.outputs {
                guard let id, let type = types[id], !(known[id] != nil && deps[id].isEmpty) else { continue }
                let size = alignUp(type.byteCount, tensorAlignment)
                var offset = 0
                var slot = live.count
                for (j, block) in live.enumerated() {
                    if block.offset - offset >= size { slot = j; break }
                    offset = alignUp(block.offset + block.size, tensorAlignment)
                }
                guard let end = checkedAdd(offset, size), end <= Int.max / 4 else {
                    throw D2LError(.outOfMemory, "the activations are too large")
                }
                live.insert((offset: offset, size: size, id: id), at: slot)
                offsets[id] = offset
                arenaEnd = max(arenaEnd, end)
                if lastUse[id] < 0 { lastUse[id] = n } // never read: free right after the node
            }
            live.removeAll { lastUse[$0.id] <= n }
        }
        arenaBytes = arenaEnd
        planTimeValues = computed
        inputSnapshots = snapshots.filter { usedInputs.contains($0.index) }
        guard let scratchBytes = checkedMultiply(scratchElements, 4) else {
            throw D2LError(.outOfMemory, "the scratch space is too large")
        }
        arena = try AlignedBuffer(byteCount: allocate ? arenaEnd : 0)
        scratch = try AlignedBuffer(byteCount: allocate ? scratchBytes : 0)
        if !allocate { return }

        // 4. Where every value is (nil: computed by a deferred node), then the steps with
        //    resolved pointers.
        held = graph.values.indices.map { id -> (view: TensorView, value: ConstantTensor?)? in
            guard let type = types[id] else { return nil }
            if let k = known[id], deps[id].isEmpty, case .node = graph.values[id].source {
                return (TensorView(pointer: k.pointer, type: type), k)
            }
            switch graph.values[id].source {
            case .input(let i): return (TensorView(pointer: inputPointers[i], type: type), known[id])
            case .constant(let t): return (TensorView(pointer: t.pointer, type: type), t)
            case .node:
                guard offsets[id] >= 0 else { return nil }
                return (TensorView(pointer: arena.pointer + offsets[id], type: type),
                        ConstantTensor(dtype: type.dtype, shape: type.shape, storage: arena, offset: offsets[id]))
            }
        }
        func view(_ id: Int) -> TensorView? { computedValue(id)?.view }
        let scratchPointer = scratch.pointer.assumingMemoryBound(to: Float.self)
        steps.reserveCapacity(nodes.count)
        for node in nodes where node.runs {
            let io = KernelIO(inputs: node.inputs.map { $0.flatMap(view) },
                              outputs: node.outputs.map { $0.flatMap(view) },
                              scratch: scratchPointer)
            steps.append(Step(op: node.op, io: io, label: node.label))
        }
        if !deferredNodes.isEmpty { return }
        for id in graph.outputValues {
            guard let v = view(id) else { throw D2LError(.internal, "graph output \(quoted(graph.values[id].name)) has no planned type") }
            outputs.append(v)
        }
    }

    /// Value `id` as this plan holds it after a run: where its elements are, and the same
    /// as a tensor that keeps its storage alive (for a deferred node's planning, which may
    /// read it; nil for a graph input the plan took no copy of). Nil for a value a deferred
    /// node computes. Graph inputs are at the session's buffers, constants in the model.
    func computedValue(_ id: Int) -> (view: TensorView, value: ConstantTensor?)? {
        id >= 0 && id < held.count ? held[id] : nil
    }

    /// For each value, whether some node reads it at a plan-time position.
    static func valuesReadAtPlanTime(_ graph: Graph) -> [Bool] {
        var read = [Bool](repeating: false, count: graph.values.count)
        for node in graph.nodes {
            for p in node.planTimeInputs where p < node.inputs.count {
                if let id = node.inputs[p], id < read.count { read[id] = true }
            }
        }
        return read
    }

    /// Runs `op` now when its results are known while planning: every output a small
    /// int64 tensor, and every input known (or the op is `Shape`, which reads only its
    /// input's type). Returns the results, or nil when the op runs with the graph.
    private static func evaluateAtPlanTime(_ op: Operator, _ inputs: [PlanInput?], _ outTypes: [TensorType],
                                           _ outputCount: Int) throws(D2LError) -> [ConstantTensor]? {
        var isShape = false
        if case .shape = op { isShape = true }
        guard outputCount == outTypes.count, !outTypes.isEmpty else { return nil }
        for t in outTypes where t.dtype != .int64 || t.count > planTimeElementLimit { return nil }
        var inputViews: [TensorView?] = []
        for input in inputs {
            guard let input else { inputViews.append(nil); continue }
            if let c = input.constant {
                inputViews.append(TensorView(pointer: c.pointer, type: input.type))
            } else if isShape {
                inputViews.append(nil) // Shape never reads its input's data
            } else {
                return nil
            }
        }
        var results: [ConstantTensor] = []
        var outputViews: [TensorView?] = []
        for t in outTypes {
            let buffer = try AlignedBuffer(byteCount: t.byteCount)
            results.append(ConstantTensor(dtype: t.dtype, shape: t.shape, storage: buffer, offset: 0))
            outputViews.append(TensorView(pointer: buffer.pointer, type: t))
        }
        let scratch = try AlignedBuffer(byteCount: op.scratchElements * 4)
        op.run(KernelIO(inputs: inputViews, outputs: outputViews, scratch: scratch.pointer.assumingMemoryBound(to: Float.self)), pool: nil)
        return results
    }

    /// Runs every step in order.
    func run(pool: ThreadPool?) {
        for step in steps { step.op.run(step.io, pool: pool) }
    }

    /// Runs every step in order, adding each step's time in nanoseconds to `times[step]`
    /// (steps.count values).
    func runTimed(pool: ThreadPool?, times: UnsafeMutablePointer<UInt64>) {
        for (i, step) in steps.enumerated() {
            let start = d2l_sys_now_ns()
            step.op.run(step.io, pool: pool)
            times[i] &+= d2l_sys_now_ns() &- start
        }
    }
}
