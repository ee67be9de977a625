import _D2LSystem
import _D2LKernels

// Operator fusion, decided while planning. A producer whose only consumer is an
// elementwise tail absorbs that tail: its kernel applies the tail in place to each block
// of its output as soon as the block is final (in the tiled gemm, each row block of a
// thread's chunk while it is still in L2), so the intermediate tensor is never
// materialised, gets no arena space, and needs no separate kernel or sweep over memory.
//
// Measured on ResNet-18@96 (batch 1 and 64, 1 thread) the elementwise tails were < 1 % of
// the run time before fusion; fusion saves that, the intermediates' arena space and a
// kernel launch each, and is otherwise neutral. Disable it with ExecutionPlan's `fuse`.
//
// Patterns (each intermediate read by exactly one node, once, and not a graph output):
//   Conv → Relu | Sigmoid | Tanh
//   Conv → Add(same-shape residual) [→ Relu | Sigmoid | Tanh]     (ResNet's block tail)
//   Gemm → Relu | Sigmoid | Tanh
//   MatMul [→ Add(addend that broadcasts into the product)] [→ Relu | Sigmoid | Tanh]
//   BatchNormalization → Relu | Sigmoid | Tanh                 (DenseNet's pre-activation)
// The fused node runs where its producer ran; a residual must therefore be computed
// before the producer (otherwise the Add stays separate). Results equal the unfused
// plan's up to float rounding (the same operations in the same order for Conv, Gemm and
// a same-shape Add; the broadcast addend of a MatMul is summed into the product).

/// An activation a fused kernel applies to its output.
package enum FusedActivation {
    case none, relu, sigmoid, tanh

    var name: String {
        switch self {
        case .none: return ""
        case .relu: return "Relu"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        }
    }
}

/// What a fused kernel applies to every output value y after its product and bias:
/// y = activation(y + residual). `residual`, when set, is laid out like the output
/// (same shape and row stride) and does not overlap it.
struct Epilogue {
    var residual: UnsafePointer<Float>?
    var activation: FusedActivation

    static var none: Epilogue { Epilogue(residual: nil, activation: .none) }

    var isEmpty: Bool { residual == nil && activation == .none }

    /// The same epilogue for the output block starting `offset` elements further on.
    @inline(__always)
    func advanced(by offset: Int) -> Epilogue {
        Epilogue(residual: residual.map { $0 + offset }, activation: activation)
    }
}

extension FusedActivation {
    /// The kernels' code for this activation (D2L_K_ACT_*).
    var kernelCode: Int32 {
        switch self {
        case .none: return Int32(D2L_K_ACT_NONE)
        case .relu: return Int32(D2L_K_ACT_RELU)
        case .sigmoid: return Int32(D2L_K_ACT_SIGMOID)
        case .tanh: return Int32(D2L_K_ACT_TANH)
        }
    }
}

/// Applies `epilogue` in place to the m×n block `c` (row stride `ldc`; the residual has
/// the same row stride) with `kernels`' vector code: what the products run on each block
/// of their output right after computing it.
func applyEpilogue(_ kernels: Kernels, m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                   _ epilogue: Epilogue) {
    if epilogue.isEmpty || m <= 0 || n <= 0 { return }
    kernels.table.pointee.epilogue(m, n, c, ldc, epilogue.residual, epilogue.activation.kernelCode)
}

/// A node of the plan after fusion: a graph node as it is, or a producer that absorbed
/// its elementwise tail (then `outputs` are the tail's and `inputs` gain the residual).
struct PlanNode {
    var label: String
    var op: Operator
    var inputs: [Int?]
    var outputs: [Int?]
    /// False for nodes whose results are known while planning (they do not run).
    var runs: Bool
}

enum Fusion {
    /// The plan's nodes in execution order, fusing where the patterns above apply
    /// (`enabled` false: the graph's nodes unchanged), and a description of each fusion
    /// ("Conv+Add+Relu at Conv node 'n3'").
    static func nodes(graph: Graph, planned: [Operator], types: [TensorType?], runs: [Bool],
                      enabled: Bool) -> (nodes: [PlanNode], fusions: [String]) {
        let count = graph.nodes.count
        var result: [PlanNode] = []
        result.reserveCapacity(count)
        guard enabled else {
            for (n, node) in graph.nodes.enumerated() {
                result.append(PlanNode(label: node.label, op: planned[n], inputs: node.inputs,
                                       outputs: node.outputs, runs: runs[n]))
            }
            return (result, [])
        }

        // Readers of each value: how many reads, and the (last) node that reads it.
        var reads = [Int](repeating: 0, count: graph.values.count)
        var reader = [Int](repeating: -1, count: graph.values.count)
        for (n, node) in graph.nodes.enumerated() {
            for id in node.inputs { if let id { reads[id] += 1; reader[id] = n } }
        }
        for id in graph.outputValues { reads[id] += 1_000_000 } // never an intermediate

        /// The node that alone reads `id` (once), when it may be absorbed.
        func soleConsumer(_ id: Int?) -> Int? {
            guard let id, reads[id] == 1 else { return nil }
            let n = reader[id]
            guard n >= 0, runs[n], graph.nodes[n].outputs.count == 1, graph.nodes[n].outputs[0] != nil else { return nil }
            return n
        }
        func isFloat(_ id: Int?) -> Bool {
            guard let id, let t = types[id] else { return false }
            return t.dtype == .float32
        }
        /// Whether value `id` exists before node `n` runs (a graph input, a constant, or
        /// the output of an earlier node; fused chains only ever move work earlier).
        func availableBefore(_ id: Int, _ n: Int) -> Bool {
            switch graph.values[id].source {
            case .input, .constant: return true
            case .node(let p): return p < n
            }
        }
        /// The activation of a Relu/Sigmoid/Tanh node, else nil.
        func activation(_ n: Int) -> FusedActivation? {
            guard case .unary(let u) = planned[n] else { return nil }
            switch u.kind {
            case .relu: return .relu
            case .sigmoid: return .sigmoid
            case .tanh: return .tanh
            default: return nil
            }
        }
        /// For an Add node reading `id`: its other operand.
        func addOperand(_ n: Int, besides id: Int) -> Int? {
            guard case .binary(let b) = planned[n], b.kind == .add else { return nil }
            let inputs = graph.nodes[n].inputs
            guard inputs.count == 2, let x = inputs[0], let y = inputs[1] else { return nil }
            if x == id && y != id { return y }
            if y == id && x != id { return x }
            return nil
        }

        var absorbed = [Bool](repeating: false, count: count)
        var fusions: [String] = []
        for (n, node) in graph.nodes.enumerated() {
            if absorbed[n] { continue }
            var op = planned[n]
            var inputs = node.inputs
            var outputs = node.outputs
            var pattern = ""
            fuse: if runs[n], node.outputs.count == 1, let produced = node.outputs[0], isFloat(produced) {
                let kind: String
                switch op {
                case .conv: kind = "Conv"
                case .gemm: kind = "Gemm"
                case .matMul: kind = "MatMul"
                case .batchNorm: kind = "BatchNormalization"
                default: break fuse
                }
                guard let next = soleConsumer(produced) else { break fuse }
                var tail = produced
                var residual: Int?
                var act = FusedActivation.none
                var chain: [Int] = []
                var names = kind
                if kind == "Conv" || kind == "MatMul", let other = addOperand(next, besides: produced), isFloat(other),
                   availableBefore(other, n), let sum = graph.nodes[next].outputs[0],
                   types[sum] == types[produced], let otherType = types[other],
                   kind == "MatMul" || otherType == types[produced] {
                    residual = other
                    chain.append(next)
                    tail = sum
                    names += "+Add"
                }
                let actNode = chain.isEmpty ? next : soleConsumer(tail)
                if let actNode, let a = activation(actNode), let out = graph.nodes[actNode].outputs[0],
                   types[out] == types[tail] {
                    act = a
                    chain.append(actNode)
                    tail = out
                    names += "+" + a.name
                }
                if chain.isEmpty { break fuse }
                switch op {
                case .conv(var c):
                    c.fuse(residual: residual != nil, activation: act)
                    op = .conv(c)
                    while inputs.count < 3 { inputs.append(nil) }
                    if let residual { inputs.append(residual) }
                case .gemm(var g):
                    g.fuse(activation: act)
                    op = .gemm(g)
                case .batchNorm(var b):
                    b.fuse(activation: act)
                    op = .batchNorm(b)
                case .matMul(var m):
                    guard let productType = types[produced] else { break fuse }
                    if let residual, let t = types[residual] {
                        m.fuse(addend: t.shape, output: productType.shape, activation: act)
                        inputs.append(residual)
                    } else {
                        m.fuse(addend: nil, output: productType.shape, activation: act)
                    }
                    op = .matMul(m)
                default:
                    break fuse
                }
                for c in chain { absorbed[c] = true }
                outputs = [tail]
                pattern = names
            }
            if !pattern.isEmpty { fusions.append("\(pattern) at \(node.label)") }
            result.append(PlanNode(label: node.label, op: op, inputs: inputs, outputs: outputs, runs: runs[n]))
        }
        return (result, fusions)
    }
}
