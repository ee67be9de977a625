/// `ArgMax` (13): index of the largest value along `axis` (first, or last with
/// `select_last_index`), as int64.
///
/// The toolkit's `max(axis:)` keeps a loop of its own (value and position in one pass, for
/// its backward): `D2L/Ops/Reductions.swift`, `extreme(axis:keepDims:largest:)`.
struct ArgMax: OperatorKernel {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool
    private(set) var outer = 0
    private(set) var length = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis", "keepdims", "select_last_index"])
        axis = try a.int("axis", default: 0)
        keepDims = try a.flag("keepdims", default: true)
        selectLast = try a.flag("select_last_index", default: false)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireDType(x, [.float32, .int64, .int32, .uint8], label, "data")
        let shape = x.type.shape
        guard !shape.isEmpty else { throw .shape("\(label): ArgMax of a scalar") }
        let k = try normalizeAxis(axis, rank: shape.count, what: label)
        guard shape[k] > 0 else { throw .shape("\(label): ArgMax along an empty axis") }
        outer = shape[..<k].reduce(1, *)
        length = shape[k]
        inner = shape[(k + 1)...].reduce(1, *)
        var out = shape
        if keepDims { out[k] = 1 } else { out.remove(at: k) }
        return [TensorType(.int64, out)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0]?.typed(Int64.self) else { return }
        switch x.type.dtype {
        case .float32: argmax(x.typed(Float.self), y)
        case .int64: argmax(x.typed(Int64.self), y)
        case .int32: argmax(x.typed(Int32.self), y)
        default: argmax(x.typed(UInt8.self), y)
        }
    }

    private func argmax<T: Comparable>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<Int64>) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = 0
                for j in 1..<max(length, 1) {
                    let v = x[base + j * inner], b = x[base + best * inner]
                    if v > b || (selectLast && v == b) { best = j }
                }
                y[o * inner + i] = Int64(best)
            }
        }
    }
}

extension ArgMax {
    static let schema = OperatorSchema("ArgMax", versions: [1, 11, 12, 13], inputs: (1, 1)) { a, _ throws(D2LError) in .kernel(AnyOperatorKernel(try ArgMax(a))) }
}
