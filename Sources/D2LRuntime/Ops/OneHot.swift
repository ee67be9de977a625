import _D2LSystem

/// `OneHot` (11): `depth` (a scalar known while planning), `values` = [off, on]; the new
/// axis goes at `axis` (default -1). Negative indices count from `depth`; indices outside
/// [-depth, depth) give an all-off row.
struct OneHot: OperatorKernel {
    let axis: Int
    private(set) var depth = 0
    private(set) var outer = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: -1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let ind = try required(inputs, 0, label), d = try required(inputs, 1, label), v = try required(inputs, 2, label)
        try requireDType(ind, [.float32, .int64, .int32], label, "indices")
        guard d.type.count == 1 else { throw .invalidModel("\(label): 'depth' must hold one value, not \(d.type.text)") }
        guard let c = d.constant else { throw .unsupported("\(label): 'depth' must be known when planning") }
        let value: Int
        if c.dtype == .float32 {
            let f = c.pointer.assumingMemoryBound(to: Float.self)[0]
            guard f >= 1, f < 1e9 else { throw .invalidModel("\(label): depth \(f) must be at least 1") }
            value = Int(f)
        } else {
            value = c.integers().first ?? 0
        }
        guard value >= 1 else { throw .invalidModel("\(label): depth \(value) must be at least 1") }
        depth = value
        guard v.type.count == 2, v.type.rank == 1 else { throw .invalidModel("\(label): 'values' must be [off, on], not \(v.type.text)") }
        let shape = ind.type.shape
        let k = try normalizeAxis(axis, rank: shape.count + 1, what: label)
        outer = shape[..<k].reduce(1, *)
        inner = shape[k...].reduce(1, *)
        var out = shape
        out.insert(depth, at: k)
        guard checkedElementCount(out, limit: maxTensorElements) != nil else { throw .shape("\(label): output too large") }
        return [TensorType(v.type.dtype, out)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let ind = io.input(0), v = io.input(2)
        guard let y = io.outputs[0] else { return }
        let size = v.type.dtype.size
        for o in 0..<outer {
            for i in 0..<inner {
                let j = o * inner + i
                var index: Int
                switch ind.type.dtype {
                case .int64: index = Int(clamping: ind.typed(Int64.self)[j])
                case .int32: index = Int(ind.typed(Int32.self)[j])
                default:
                    let f = ind.typed(Float.self)[j]
                    index = f.isNaN || abs(f) > 1e9 ? Int.max : Int(f)
                }
                if index < 0 && index >= -depth { index += depth }
                for d in 0..<depth {
                    copyElements(v.pointer, d == index ? 1 : 0, y.pointer, (o * depth + d) * inner + i, 1, size)
                }
            }
        }
    }
}

extension OneHot {
    /// Input 1 (`depth`) is read while planning: it fixes the output shape.
    static let schema = OperatorSchema("OneHot", versions: [9, 11], inputs: (3, 3), planTimeInputs: [1]) { a, _ throws(D2LError) in
        .kernel(AnyOperatorKernel(try OneHot(a)))
    }
}
