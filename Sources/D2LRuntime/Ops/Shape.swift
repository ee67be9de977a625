/// `Shape`: the input's dimensions [start, end) as int64 (15+: `start`, `end`, clamped).
struct Shape: OperatorKernel {
    let start: Int
    let end: Int?
    private(set) var dims: [Int] = []

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(version >= 15 ? ["start", "end"] : [])
        start = try a.clampedInt("start", default: 0)
        end = a.has("end") ? try a.clampedInt("end", default: 0) : nil
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let shape = try required(inputs, 0, label).type.shape
        let r = shape.count
        func clamp(_ v: Int) -> Int { let w = v < 0 ? v + r : v; return min(max(w, 0), r) }
        let s = clamp(start), e = clamp(end ?? r)
        dims = s < e ? Array(shape[s..<e]) : []
        return [TensorType(.int64, [dims.count])]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0]?.typed(Int64.self) else { return }
        for (i, d) in dims.enumerated() { y[i] = Int64(d) }
    }
}

extension Shape {
    static let schema = OperatorSchema("Shape", versions: [1, 13, 15, 19, 21, 23, 24, 25], inputs: (1, 1)) { a, version throws(D2LError) in
        .shape(try Shape(a, version: version))
    }
}
