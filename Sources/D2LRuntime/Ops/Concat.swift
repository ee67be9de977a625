/// `Concat`: joins inputs of one dtype and rank along `axis`.
struct Concat: OperatorKernel {
    let axis: Int
    private(set) var outer = 0
    /// Elements each input contributes per outer index.
    private(set) var blocks: [Int] = []

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        guard a.has("axis") else { throw a.invalid("axis", "is required") }
        axis = try a.int("axis", default: 0)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let first = try required(inputs, 0, label)
        let rank = first.type.rank
        guard rank > 0 else { throw .shape("\(label): cannot concatenate scalars") }
        let k = try normalizeAxis(axis, rank: rank, what: label)
        var shape = first.type.shape
        shape[k] = 0
        blocks = []
        for i in 0..<inputs.count {
            let t = try required(inputs, i, label).type
            guard t.dtype == first.type.dtype else {
                throw .invalidModel("\(label): input #\(i) is \(t.dtype.name), input #0 is \(first.type.dtype.name)")
            }
            guard t.rank == rank else { throw .shape("\(label): input #\(i) is \(t.text), input #0 is \(first.type.text)") }
            for d in 0..<rank where d != k && t.shape[d] != shape[d] {
                throw .shape("\(label): input #\(i) is \(t.text), which does not match \(first.type.text) outside axis \(k)")
            }
            guard let s = checkedAdd(shape[k], t.shape[k]) else { throw .shape("\(label): output too large") }
            shape[k] = s
            blocks.append(t.shape[k...].reduce(1, *))
        }
        outer = shape[..<k].reduce(1, *)
        return [TensorType(first.type.dtype, shape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0] else { return }
        let size = y.type.dtype.size
        var total = 0
        for b in blocks { total += b }
        var column = 0
        for (i, b) in blocks.enumerated() {
            let x = io.input(i).pointer
            for o in 0..<outer { copyElements(x, o * b, y.pointer, o * total + column, b, size) }
            column += b
        }
    }
}

extension Concat {
    static let schema = OperatorSchema("Concat", versions: [1, 4, 11, 13], inputs: (1, Int.max)) { a, _ throws(D2LError) in
        .kernel(AnyOperatorKernel(try Concat(a)))
    }
}
