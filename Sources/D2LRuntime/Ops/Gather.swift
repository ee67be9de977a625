import _D2LSystem

/// `Gather`: picks slices of `data` along `axis` by int64/int32 `indices` (negative
/// counts from the end). Constant indices are checked while planning; an out-of-range
/// index computed at run time yields zeros (a kernel cannot fail).
struct Gather: OperatorKernel {
    let axis: Int
    private(set) var outer = 0
    private(set) var axisSize = 0
    private(set) var inner = 0
    private(set) var indexCount = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: 0)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label), ind = try required(inputs, 1, label)
        try requireDType(ind, [.int64, .int32], label, "indices")
        let shape = x.type.shape
        guard !shape.isEmpty else { throw .shape("\(label): cannot gather from a scalar") }
        let k = try normalizeAxis(axis, rank: shape.count, what: label)
        axisSize = shape[k]
        if let c = ind.constant {
            for i in c.integers() where i < -axisSize || i >= axisSize {
                throw .shape("\(label): index \(i) is out of range for axis \(k) of size \(axisSize)")
            }
        }
        outer = shape[..<k].reduce(1, *)
        inner = shape[(k + 1)...].reduce(1, *)
        indexCount = ind.type.count
        let out = Array(shape[..<k]) + ind.type.shape + Array(shape[(k + 1)...])
        guard checkedElementCount(out, limit: maxTensorElements) != nil else { throw .shape("\(label): output too large") }
        return [TensorType(x.type.dtype, out)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0), ind = io.input(1)
        guard let y = io.outputs[0] else { return }
        let size = x.type.dtype.size
        for j in 0..<indexCount {
            var i = ind.type.dtype == .int64 ? Int(clamping: ind.typed(Int64.self)[j]) : Int(ind.typed(Int32.self)[j])
            if i < 0 { i += axisSize }
            let valid = i >= 0 && i < axisSize
            for o in 0..<outer {
                let dst = (o * indexCount + j) * inner
                if valid {
                    copyElements(x.pointer, (o * axisSize + i) * inner, y.pointer, dst, inner, size)
                } else if inner > 0 {
                    memset(y.pointer + dst * size, 0, inner * size)
                }
            }
        }
    }
}

extension Gather {
    static let schema = OperatorSchema("Gather", versions: [1, 11, 13], inputs: (2, 2)) { a, _ throws(D2LError) in .kernel(AnyOperatorKernel(try Gather(a))) }
}
