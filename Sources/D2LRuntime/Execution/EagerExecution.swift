import _D2LSystem

/// The deferred nodes of a partial plan (`ExecutionPlan.deferredNodes`), run node by node
/// after the plan: nodes whose output shapes depend on values only a run computes
/// (`NonMaxSuppression` on a network's own boxes and scores, a `Reshape` to a computed
/// shape), and the nodes that read their results. Each node is planned with the values of
/// its inputs that planning reads (now known: they were just computed), its outputs get
/// buffers from `buffers`, and it runs at once; a value goes back to `buffers` after its
/// last reader. The plan's values (its arena, the inputs, the constants) are read where
/// the plan holds them. The same operators as a plan (`Operator.plan` / `run`), unfused.
/// A session makes one per run (`Session.run`); with the same shapes as the run before,
/// every buffer comes from the pool. Not thread-safe; the outputs stay valid while it
/// lives, and until its `keptBuffers` are given back to the pool.
final class EagerExecution {
    /// Graph outputs, in output order (pointers into this run's buffers, the plan's arena,
    /// the inputs or constants).
    private(set) var outputs: [TensorView] = []
    /// The pool buffers the outputs point into: give them back (`BufferPool.giveBack`)
    /// once the outputs are no longer read.
    private(set) var keptBuffers: [AlignedBuffer] = []
    /// The shape of the last node's first output (for `Session.profile`).
    private(set) var lastNodeOutputShape: [Int] = []

    /// Runs `plan`'s deferred nodes of `graph` after `plan` has run. Throws as planning and
    /// running do: a node that cannot take its inputs' shapes or values (with its label),
    /// `.outOfMemory`.
    init(graph: Graph, after plan: ExecutionPlan, buffers: BufferPool, pool: ThreadPool?) throws(D2LError) {
        let count = graph.values.count
        var views = [TensorView?](repeating: nil, count: count)
        // Values a node's planning may read; `owned`: computed here, in a pool buffer.
        var values = [ConstantTensor?](repeating: nil, count: count)
        var owned = [Bool](repeating: false, count: count)
        for id in 0..<count {
            guard let held = plan.computedValue(id) else { continue }
            views[id] = held.view
            values[id] = held.value
        }
        // The last deferred node that reads each value; graph outputs are never released.
        var lastUse = [Int](repeating: -1, count: count)
        for n in plan.deferredNodes {
            for id in graph.nodes[n].inputs { if let id { lastUse[id] = n } }
        }
        for id in graph.outputValues { lastUse[id] = Int.max }

        for n in plan.deferredNodes {
            let node = graph.nodes[n]
            var planInputs: [PlanInput?] = []
            var inputs: [TensorView?] = []
            for (position, id) in node.inputs.enumerated() {
                guard let id else { planInputs.append(nil); inputs.append(nil); continue }
                guard let view = views[id] else {
                    throw D2LError(.internal, "\(node.label): input \(quoted(graph.values[id].name)) has no value")
                }
                // As a plan sees them: constants, and the values planning reads.
                let readsValue = node.planTimeInputs.contains(position)
                if readsValue && values[id] == nil {
                    // A graph input the plan kept no copy of: copy it now.
                    let copy = try AlignedBuffer(byteCount: view.type.byteCount)
                    memcpy(copy.pointer, view.pointer, view.type.byteCount)
                    values[id] = ConstantTensor(dtype: view.type.dtype, shape: view.type.shape, storage: copy, offset: 0)
                }
                var isConstant = false
                if case .constant = graph.values[id].source { isConstant = true }
                let known = isConstant || readsValue ? values[id] : nil
                planInputs.append(PlanInput(type: view.type, constant: known))
                inputs.append(view)
            }
            var op = node.op
            let outTypes = try op.plan(planInputs, label: node.label)
            lastNodeOutputShape = outTypes.first?.shape ?? []
            var outputs: [TensorView?] = []
            for (i, id) in node.outputs.enumerated() {
                guard let id, i < outTypes.count else { outputs.append(nil); continue }
                let type = outTypes[i]
                guard checkedElementCount(type.shape, limit: maxTensorElements) != nil else {
                    throw .shape("\(node.label): output \(shapeText(type.shape)) is too large")
                }
                let buffer = try buffers.take(byteCount: type.byteCount)
                values[id] = ConstantTensor(dtype: type.dtype, shape: type.shape, storage: buffer, offset: 0)
                views[id] = TensorView(pointer: buffer.pointer, type: type)
                owned[id] = true
                outputs.append(views[id])
            }
            guard let scratchBytes = checkedMultiply(op.scratchElements, 4) else {
                throw D2LError(.outOfMemory, "\(node.label): the scratch space is too large")
            }
            let scratch = try buffers.take(byteCount: scratchBytes)
            op.run(KernelIO(inputs: inputs, outputs: outputs, scratch: scratch.pointer.assumingMemoryBound(to: Float.self)),
                   pool: pool)
            buffers.giveBack(scratch)
            // Release what no later node reads (values computed here only; the plan's, the
            // inputs and the constants belong to the plan, the session and the model).
            for id in node.inputs {
                guard let id, lastUse[id] == n, owned[id] else { continue }
                if let buffer = values[id]?.storage { buffers.giveBack(buffer) }
                owned[id] = false
                values[id] = nil
                views[id] = nil
            }
        }
        for id in graph.outputValues {
            guard let view = views[id] else {
                throw D2LError(.internal, "graph output \(quoted(graph.values[id].name)) has no value")
            }
            outputs.append(view)
            if owned[id], let buffer = values[id]?.storage, !keptBuffers.contains(where: { $0 === buffer }) {
                keptBuffers.append(buffer)
            }
        }
        buffers.endRun()
    }
}
