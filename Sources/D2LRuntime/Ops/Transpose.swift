/// `Transpose`: permutes dimensions by `perm` (reversed when absent).
struct Transpose: OperatorKernel {
    let perm: [Int]?
    private(set) var strides: [Int] = []
    private(set) var outShape: [Int] = []

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["perm"])
        perm = try a.ints("perm")
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let rank = x.type.rank
        var p: [Int] = perm ?? Array((0..<rank).reversed())
        guard p.count == rank else {
            throw .invalidModel("\(label): perm \(shapeText(p)) does not list the \(rank) axes of \(x.type.text)")
        }
        p = try normalizeAxes(p, rank: rank, label)
        let inStrides = rowMajorStrides(x.type.shape)
        outShape = p.map { x.type.shape[$0] }
        strides = p.map { inStrides[$0] }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: 0, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}

extension Transpose {
    static let schema = OperatorSchema("Transpose", versions: [1, 13, 21, 23, 24, 25], inputs: (1, 1)) { a, _ throws(D2LError) in
        .kernel(AnyOperatorKernel(try Transpose(a)))
    }
}
