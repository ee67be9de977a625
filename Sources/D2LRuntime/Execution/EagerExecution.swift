import _D2LSystem

/// A graph run node by node, for graphs no plan can be made for: a node whose output
/// shapes depend on values only a run computes (`NonMaxSuppression` on a network's own
/// boxes and scores, a `Reshape` to a computed shape). Each node is planned with the values
/// of its inputs that planning reads (now known: they were just computed), its outputs get
/// their own buffers, and it runs at once; a value is released after its last reader.
/// The same operators as a plan (`Operator.plan` / `run`), unfused. Unlike an
/// `ExecutionPlan`, every run allocates, and is one of these: a session makes a new one per
/// run (`Session.run`). Not thread-safe; the outputs stay valid while it lives.
final class EagerExecution {
    /// Graph outputs, in output order (pointers into this run's buffers, the inputs or
    /// constants).
    private(set) var outputs: [TensorView] = []
    /// The buffers the outputs point into.
    private var kept: [AlignedBuffer] = []

    /// Runs `graph` on inputs of `inputTypes` at `inputPointers` (the session's buffers,
    /// which must outlive this). Throws as planning and running do: a node that cannot
    /// take its inputs' shapes or values (with its label), `.outOfMemory`.
    init(graph: Graph, inputTypes: [TensorType], inputPointers: [UnsafeMutableRawPointer],
         pool: ThreadPool?) throws(D2LError) {
        let count = graph.values.count
        var views = [TensorView?](repeating: nil, count: count)
        // Values planning may read: constants, and every computed value (in its buffer).
        var values = [ConstantTensor?](repeating: nil, count: count)
        var isConstant = [Bool](repeating: false, count: count)
        let readAtPlanTime = ExecutionPlan.valuesReadAtPlanTime(graph)
        for (id, value) in graph.values.enumerated() {
            switch value.source {
            case .input(let i):
                guard i < inputTypes.count, i < inputPointers.count else {
                    throw D2LError(.internal, "graph input \(i) has no buffer")
                }
                let type = inputTypes[i]
                views[id] = TensorView(pointer: inputPointers[i], type: type)
                if readAtPlanTime[id] {
                    let copy = try AlignedBuffer(byteCount: type.byteCount)
                    memcpy(copy.pointer, inputPointers[i], type.byteCount)
                    values[id] = ConstantTensor(dtype: type.dtype, shape: type.shape, storage: copy, offset: 0)
                }
            case .constant(let t):
                views[id] = TensorView(pointer: t.pointer, type: TensorType(t.dtype, t.shape))
                values[id] = t
                isConstant[id] = true
            case .node: break
            }
        }
        // The last node that reads each value; graph outputs are never released.
        var lastUse = [Int](repeating: -1, count: count)
        for (n, node) in graph.nodes.enumerated() {
            for id in node.inputs { if let id { lastUse[id] = n } }
        }
        for id in graph.outputValues { lastUse[id] = Int.max }

        for (n, node) in graph.nodes.enumerated() {
            var planInputs: [PlanInput?] = []
            var inputs: [TensorView?] = []
            for (position, id) in node.inputs.enumerated() {
                guard let id else { planInputs.append(nil); inputs.append(nil); continue }
                guard let view = views[id] else {
                    throw D2LError(.internal, "\(node.label): input \(quoted(graph.values[id].name)) has no value")
                }
                // As a plan sees them: constants, and the values planning reads.
                let known = isConstant[id] || node.planTimeInputs.contains(position) ? values[id] : nil
                planInputs.append(PlanInput(type: view.type, constant: known))
                inputs.append(view)
            }
            var op = node.op
            let outTypes = try op.plan(planInputs, label: node.label)
            var outputs: [TensorView?] = []
            for (i, id) in node.outputs.enumerated() {
                guard let id, i < outTypes.count else { outputs.append(nil); continue }
                let type = outTypes[i]
                guard checkedElementCount(type.shape, limit: maxTensorElements) != nil else {
                    throw .shape("\(node.label): output \(shapeText(type.shape)) is too large")
                }
                let buffer = try AlignedBuffer(byteCount: type.byteCount)
                values[id] = ConstantTensor(dtype: type.dtype, shape: type.shape, storage: buffer, offset: 0)
                views[id] = TensorView(pointer: buffer.pointer, type: type)
                outputs.append(views[id])
            }
            guard let scratchBytes = checkedMultiply(op.scratchElements, 4) else {
                throw D2LError(.outOfMemory, "\(node.label): the scratch space is too large")
            }
            let scratch = try AlignedBuffer(byteCount: scratchBytes)
            op.run(KernelIO(inputs: inputs, outputs: outputs, scratch: scratch.pointer.assumingMemoryBound(to: Float.self)),
                   pool: pool)
            // Release what no later node reads (computed values only; inputs and constants
            // belong to the session and the model).
            for id in node.inputs {
                guard let id, lastUse[id] == n, case .node = graph.values[id].source else { continue }
                values[id] = nil
                views[id] = nil
            }
        }
        for id in graph.outputValues {
            guard let view = views[id] else {
                throw D2LError(.internal, "graph output \(quoted(graph.values[id].name)) has no value")
            }
            outputs.append(view)
            if let buffer = values[id]?.storage, case .node = graph.values[id].source { kept.append(buffer) }
        }
    }
}
