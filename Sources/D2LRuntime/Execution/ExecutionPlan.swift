/// A graph planned for concrete input shapes: every tensor's type, one activation arena
/// laid out by liveness, one scratch buffer, and the kernel calls with their pointers
/// resolved. Running a plan allocates nothing.
final class ExecutionPlan {
    struct Step {
        var op: Operator
        var io: KernelIO
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

    /// Plans `graph` for inputs of `inputTypes` stored at `inputPointers`. Throws
    /// D2L_ERR_SHAPE (or another status) when a node cannot take the shapes it gets.
    /// With `allocate` false only shapes and the layout are computed (a load-time check):
    /// no arena is allocated and no steps are built.
    init(graph: Graph, inputTypes: [TensorType], inputPointers: [UnsafeMutableRawPointer],
         allocate: Bool = true) throws(D2LError) {
        self.inputTypes = inputTypes
        self.inputPointers = inputPointers
        let valueCount = graph.values.count
        var types = [TensorType?](repeating: nil, count: valueCount)
        var planned: [Operator] = []
        var scratchElements = 0

        // 1. Shapes: infer every value's type in node order.
        for (id, value) in graph.values.enumerated() {
            switch value.source {
            case .input(let i): types[id] = inputTypes[i]
            case .constant(let t): types[id] = TensorType(t.dtype, t.shape)
            case .node: break
            }
        }
        for node in graph.nodes {
            var inputs: [PlanInput?] = []
            for id in node.inputs {
                guard let id else { inputs.append(nil); continue }
                guard let type = types[id] else {
                    throw D2LError(.internal, "\(node.label): input '\(graph.values[id].name)' has no planned type")
                }
                var constant: ConstantTensor?
                if case .constant(let t) = graph.values[id].source { constant = t }
                inputs.append(PlanInput(type: type, constant: constant))
            }
            var op = node.op
            let outTypes = try op.plan(inputs, label: node.label)
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

        // 2. Liveness: the last node that reads each value; graph outputs live to the end.
        let forever = graph.nodes.count
        var lastUse = [Int](repeating: -1, count: valueCount)
        for (n, node) in graph.nodes.enumerated() {
            for id in node.inputs { if let id { lastUse[id] = n } }
        }
        for id in graph.outputValues { lastUse[id] = forever }

        // 3. Layout: first fit among gaps between live blocks, outputs allocated before
        //    the node's dead inputs are released (so no kernel reads and writes one block).
        var offsets = [Int](repeating: -1, count: valueCount)
        var live: [(offset: Int, size: Int, id: Int)] = []
        var arenaEnd = 0
        for (n, node) in graph.nodes.enumerated() {
            for id in node.outputs {
                guard let id, let type = types[id] else { continue }
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
        guard let scratchBytes = checkedMultiply(scratchElements, 4) else {
            throw D2LError(.outOfMemory, "the scratch space is too large")
        }
        arena = try AlignedBuffer(byteCount: allocate ? arenaEnd : 0)
        scratch = try AlignedBuffer(byteCount: allocate ? scratchBytes : 0)
        if !allocate { return }

        // 4. Steps with resolved pointers.
        func view(_ id: Int) -> TensorView? {
            guard let type = types[id] else { return nil }
            switch graph.values[id].source {
            case .input(let i): return TensorView(pointer: inputPointers[i], type: type)
            case .constant(let t): return TensorView(pointer: t.pointer, type: type)
            case .node: return TensorView(pointer: arena.pointer + offsets[id], type: type)
            }
        }
        let scratchPointer = scratch.pointer.assumingMemoryBound(to: Float.self)
        steps.reserveCapacity(graph.nodes.count)
        for (n, node) in graph.nodes.enumerated() {
            let io = KernelIO(inputs: node.inputs.map { $0.flatMap(view) },
                              outputs: node.outputs.map { $0.flatMap(view) },
                              scratch: scratchPointer)
            steps.append(Step(op: planned[n], io: io))
        }
        for id in graph.outputValues {
            guard let v = view(id) else { throw D2LError(.internal, "graph output '\(graph.values[id].name)' has no planned type") }
            outputs.append(v)
        }
    }

    /// Runs every step in order.
    func run(pool: ThreadPool?) {
        for step in steps { step.op.run(step.io, pool: pool) }
    }
}
