import _D2LSystem

/// `Where`: y = condition ? X : Y, all three broadcast together.
struct Where: OperatorKernel {
    private(set) var outShape: [Int] = []
    private(set) var strides: [[Int]] = []

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let c = try required(inputs, 0, label), x = try required(inputs, 1, label), y = try required(inputs, 2, label)
        try requireDType(c, [.bool], label, "condition")
        guard x.type.dtype == y.type.dtype else {
            throw .invalidModel("\(label): X is \(x.type.dtype.name) and Y is \(y.type.dtype.name); they must have the same type")
        }
        outShape = try broadcastShapes(try broadcastShapes(c.type.shape, x.type.shape, label), y.type.shape, label)
        strides = [c.type.shape, x.type.shape, y.type.shape].map { broadcastOperandStrides($0, to: outShape) }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let out = io.outputs[0] else { return }
        let c = io.input(0).typed(UInt8.self)
        let x = io.input(1).pointer, y = io.input(2).pointer
        func go<T>(_: T.Type) {
            let xs = x.assumingMemoryBound(to: T.self), ys = y.assumingMemoryBound(to: T.self)
            let o = out.typed(T.self)
            forEachIndex(outShape, strides) { n, off in o[n] = c[off[0]] != 0 ? xs[off[1]] : ys[off[2]] }
        }
        switch out.type.dtype.size {
        case 1: go(UInt8.self)
        case 4: go(UInt32.self)
        default: go(UInt64.self)
        }
    }
}

extension Where {
    static let schema = OperatorSchema.noAttributes("Where", versions: [9, 16], inputs: (3, 3), .kernel(AnyOperatorKernel(Where())))
}
