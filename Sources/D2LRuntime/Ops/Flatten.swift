/// `Flatten`: `[d0, …, dn]` → `[d0·…·d(axis-1), d(axis)·…·dn]`, any dtype.
struct Flatten: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    let axis: Int

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: 1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let shape = x.type.shape
        let k = try normalizeAxis(axis, rank: shape.count, inclusive: true, what: label)
        return [TensorType(x.type.dtype, [shape[..<k].reduce(1, *), shape[k...].reduce(1, *)])]
    }
}

extension Flatten {
    static let schema = OperatorSchema("Flatten", versions: [1, 9, 11, 13, 21, 23, 24, 25], inputs: (1, 1)) { a, _ throws(D2LError) in
        .kernel(AnyOperatorKernel(try Flatten(a)))
    }
}
