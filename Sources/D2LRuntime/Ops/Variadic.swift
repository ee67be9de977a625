/// `Sum` (13, float32), `Max`, `Min` (13: float32, int64, int32, uint8): one or more
/// inputs broadcast together.
struct Variadic: OperatorKernel {
    enum Kind { case sum, max, min }
    let kind: Kind
    private(set) var outShape: [Int] = []
    private(set) var strides: [[Int]] = []

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let first = try required(inputs, 0, label)
        try requireDType(first, kind == .sum ? [.float32] : [.float32, .int64, .int32, .uint8], label, "data_0")
        var shape = first.type.shape
        for i in 0..<inputs.count {
            let t = try required(inputs, i, label).type
            guard t.dtype == first.type.dtype else {
                throw .invalidModel("\(label): input #\(i) is \(t.dtype.name), input #0 is \(first.type.dtype.name)")
            }
            shape = try broadcastShapes(shape, t.shape, label)
        }
        outShape = shape
        strides = []
        for i in 0..<inputs.count { strides.append(broadcastOperandStrides(inputs[i]?.type.shape ?? [], to: shape)) }
        return [TensorType(first.type.dtype, shape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0] else { return }
        switch y.type.dtype {
        case .float32: fold(io, y.typed(Float.self))
        case .int64: fold(io, y.typed(Int64.self))
        case .int32: fold(io, y.typed(Int32.self))
        default: fold(io, y.typed(UInt8.self))
        }
    }

    private func fold<T: D2LNumber>(_ io: KernelIO, _ y: UnsafeMutablePointer<T>) {
        var xs: [UnsafeMutablePointer<T>] = []
        for i in 0..<strides.count { xs.append(io.input(i).typed(T.self)) }
        let kind = self.kind
        forEachIndex(outShape, strides) { n, o in
            var acc = xs[0][o[0]]
            for k in 1..<max(xs.count, 1) {
                let v = xs[k][o[k]]
                switch kind {
                case .sum: acc = acc.plus(v)
                case .max: if v > acc || v != v { acc = v }
                case .min: if v < acc || v != v { acc = v }
                }
            }
            y[n] = acc
        }
    }
}

extension Variadic {
    /// Sum, Max and Min over any number of broadcast inputs.
    static let schemas: [OperatorSchema] = [
        .noAttributes("Sum", versions: [1, 6, 8, 13], inputs: (1, Int.max), .kernel(AnyOperatorKernel(Variadic(.sum)))),
        .noAttributes("Max", versions: [1, 6, 8, 12, 13], inputs: (1, Int.max), .kernel(AnyOperatorKernel(Variadic(.max)))),
        .noAttributes("Min", versions: [1, 6, 8, 12, 13], inputs: (1, Int.max), .kernel(AnyOperatorKernel(Variadic(.min)))),
    ]
}
