/// A validated ONNX graph: every tensor name resolved to a value, nodes in topological
/// order, every operator parsed, Constant nodes and all-constant subgraphs folded.
final class Graph {
    enum Source {
        /// Graph input `index` (the caller sets it).
        case input(Int)
        /// Known at load: an initializer, a Constant node, or a folded node's output.
        case constant(ConstantTensor)
        /// Output of `nodes[index]`.
        case node(Int)
    }

    struct Value {
        var name: String
        var source: Source
    }

    struct Node {
        /// `Conv node 'conv1'`, for messages.
        var label: String
        var op: Operator
        /// Value ids; nil for an omitted optional input.
        var inputs: [Int?]
        /// Value ids; nil for an omitted optional output.
        var outputs: [Int?]
        /// Input positions whose values planning reads (`OperatorSchema.planTimeInputs`).
        var planTimeInputs: [Int]
    }

    private(set) var values: [Value] = []
    private(set) var nodes: [Node] = []
    /// Value id of each graph input, in input order.
    private(set) var inputValues: [Int] = []
    /// Value id of each graph output, in output order.
    private(set) var outputValues: [Int] = []

    init(_ description: ModelDescription) throws(D2LError) {
        var ids: [String: Int] = [:]

        func define(_ name: String, _ source: Source, _ what: String) throws(D2LError) -> Int {
            if ids[name] != nil {
                throw .invalidModel("tensor \(quoted(name)) is defined twice (again as \(what))")
            }
            let id = values.count
            values.append(Value(name: name, source: source))
            ids[name] = id
            return id
        }

        for (i, input) in description.inputs.enumerated() {
            inputValues.append(try define(input.name, .input(i), "graph input"))
        }
        for initializer in description.initializers {
            _ = try define(initializer.name, .constant(initializer.tensor), "an initializer")
        }

        let order = try Graph.topologicalOrder(description, known: ids)
        let opset = description.opset
        for index in order {
            let node = description.nodes[index]
            let label = node.label(index)
            guard node.domain == "" || node.domain == "ai.onnx" else {
                throw .unsupported("operator \(quoted(node.opType)) in domain \(quoted(node.domain)) (\(label)) is not supported: libd2l runs the default ONNX domain only")
            }
            if node.opType == Constant.schema.name {
                let tensor = try Constant.value(node, label: label)
                guard node.outputs.count == 1, !node.outputs[0].isEmpty else {
                    throw .invalidModel("\(label) must have exactly one output")
                }
                _ = try define(node.outputs[0], .constant(tensor), "the output of \(label)")
                continue
            }
            let schema = try Operator.schema(node.opType, opset: opset)
            let op = try schema.make(AttributeReader(node, label: label), schema.version(forOpset: opset) ?? opset)
            let arity = schema.inputs, outputArity = schema.outputs
            guard node.inputs.count <= arity.maximum else {
                throw .invalidModel("\(label) has \(node.inputs.count) inputs; \(node.opType) takes at most \(arity.maximum)")
            }
            var inputs: [Int?] = []
            for (i, name) in node.inputs.enumerated() {
                if name.isEmpty {
                    if i < arity.required { throw .invalidModel("\(label) omits required input #\(i)") }
                    inputs.append(nil)
                } else {
                    // Resolved by topologicalOrder; a miss here would be an internal error.
                    guard let id = ids[name] else { throw D2LError(.internal, "\(label): input \(quoted(name)) unresolved") }
                    inputs.append(id)
                }
            }
            guard inputs.count >= arity.required else {
                throw .invalidModel("\(label) has \(inputs.count) inputs; \(node.opType) needs \(arity.required)")
            }
            if node.opType == "MaxPool" && node.outputs.count == 2 && !node.outputs[1].isEmpty {
                throw .unsupported("\(label) asks for MaxPool's optional 'Indices' output, which libd2l does not support")
            }
            // Every output may be optional (a recurrent op's Y); at least one must be named.
            guard node.outputs.count >= outputArity.required, node.outputs.count <= outputArity.maximum,
                  node.outputs.contains(where: { !$0.isEmpty }),
                  outputArity.required == 0 || !node.outputs[0].isEmpty else {
                throw .invalidModel("\(label) has \(node.outputs.count) outputs; \(node.opType) produces \(outputArity.required) to \(outputArity.maximum)")
            }
            let nodeIndex = nodes.count
            var outputs: [Int?] = []
            for name in node.outputs {
                outputs.append(name.isEmpty ? nil : try define(name, .node(nodeIndex), "the output of \(label)"))
            }
            nodes.append(Node(label: label, op: op, inputs: inputs, outputs: outputs,
                              planTimeInputs: schema.planTimeInputs))
        }

        for output in description.outputs {
            guard let id = ids[output.name] else {
                throw .invalidModel("graph output \(quoted(output.name)) is not produced by any node, input or initializer")
            }
            outputValues.append(id)
        }
        try foldConstants()
    }

    /// Replaces node `index`'s operator (load-time rewrites such as weight packing).
    func replaceOperator(at index: Int, with op: Operator) {
        nodes[index].op = op
    }

    // MARK: - Ordering

    /// Kahn's algorithm over the nodes. Throws for a name nothing produces and for cycles.
    private static func topologicalOrder(_ d: ModelDescription, known: [String: Int]) throws(D2LError) -> [Int] {
        var producer: [String: Int] = [:]
        for (i, node) in d.nodes.enumerated() {
            for name in node.outputs where !name.isEmpty {
                if producer[name] != nil || known[name] != nil {
                    throw .invalidModel("tensor \(quoted(name)) is produced twice (again by \(node.label(i)))")
                }
                producer[name] = i
            }
        }
        var pending = [Int](repeating: 0, count: d.nodes.count)
        var consumers = [[Int]](repeating: [], count: d.nodes.count)
        for (i, node) in d.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty {
                if known[name] != nil { continue }
                guard let p = producer[name] else {
                    throw .invalidModel("\(node.label(i)) reads tensor \(quoted(name)), which no node, input or initializer produces")
                }
                pending[i] += 1
                consumers[p].append(i)
            }
        }
        var ready: [Int] = []
        for i in 0..<d.nodes.count where pending[i] == 0 { ready.append(i) }
        var order: [Int] = []
        order.reserveCapacity(d.nodes.count)
        var head = 0
        while head < ready.count {
            let i = ready[head]
            head += 1
            order.append(i)
            for c in consumers[i] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        if order.count < d.nodes.count {
            var stuck = 0
            for i in 0..<d.nodes.count where pending[i] > 0 { stuck = i; break }
            throw .invalidModel("the graph has a cycle: \(d.nodes[stuck].label(stuck)) depends on its own output")
        }
        return order
    }

    // MARK: - Constants

    /// Folds every node whose inputs are all constants: runs it once at load and turns its
    /// outputs into constants. Later nodes see folded values as constants.
    private func foldConstants() throws(D2LError) {
        var kept: [Node] = []
        var newIndex = [Int](repeating: -1, count: nodes.count)
        for (index, node) in nodes.enumerated() {
            var inputs: [PlanInput?] = []
            var allConstant = true
            for id in node.inputs {
                guard let id else { inputs.append(nil); continue }
                if case .constant(let t) = values[id].source {
                    inputs.append(PlanInput(type: TensorType(t.dtype, t.shape), constant: t))
                } else {
                    allConstant = false
                    break
                }
            }
            if !allConstant {
                newIndex[index] = kept.count
                kept.append(node)
                continue
            }
            var op = node.op
            let types = try op.plan(inputs, label: node.label)
            var outputViews: [TensorView?] = []
            var results: [ConstantTensor?] = []
            for (i, id) in node.outputs.enumerated() {
                guard id != nil, i < types.count else { outputViews.append(nil); results.append(nil); continue }
                let buffer = try AlignedBuffer(byteCount: types[i].byteCount)
                outputViews.append(TensorView(pointer: buffer.pointer, type: types[i]))
                results.append(ConstantTensor(dtype: types[i].dtype, shape: types[i].shape, storage: buffer, offset: 0))
            }
            var inputViews: [TensorView?] = []
            for input in inputs {
                inputViews.append(input.flatMap { p in p.constant.map { TensorView(pointer: $0.pointer, type: p.type) } })
            }
            let scratch = try AlignedBuffer(byteCount: op.scratchElements * 4)
            op.run(KernelIO(inputs: inputViews, outputs: outputViews, scratch: scratch.pointer.assumingMemoryBound(to: Float.self)), pool: nil)
            for (i, id) in node.outputs.enumerated() {
                if let id, let result = results[i] { values[id].source = .constant(result) }
            }
        }
        // Renumber the producers of the remaining nodes' outputs.
        for id in 0..<values.count {
            if case .node(let old) = values[id].source {
                let replacement = newIndex[old]
                if replacement >= 0 { values[id].source = .node(replacement) }
            }
        }
        nodes = kept
    }
}

/// A constant tensor built from Swift values.
func makeConstant(_ dtype: DType, _ shape: [Int], floats: [Float] = [], ints: [Int64] = []) throws(D2LError) -> ConstantTensor {
    let count = shape.reduce(1, *)
    let buffer = try AlignedBuffer(byteCount: count * dtype.size)
    switch dtype {
    case .float32:
        let p = buffer.pointer.assumingMemoryBound(to: Float.self)
        for i in 0..<min(count, floats.count) { p[i] = floats[i] }
    case .int64:
        let p = buffer.pointer.assumingMemoryBound(to: Int64.self)
        for i in 0..<min(count, ints.count) { p[i] = ints[i] }
    default:
        break
    }
    return ConstantTensor(dtype: dtype, shape: shape, storage: buffer, offset: 0)
}
