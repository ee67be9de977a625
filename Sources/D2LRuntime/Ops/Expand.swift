/// `Expand`: broadcasts the input against `shape` (numpy rules, both ways).
struct Expand: OperatorKernel {
    private(set) var strides: [Int] = []
    private(set) var outShape: [Int] = []

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        let requested = try planTimeInts(inputs, 1, label, "shape") ?? []
        guard inputs[1]?.type.rank == 1 else { throw .invalidModel("\(label): 'shape' must be 1-D") }
        for d in requested where d < 0 {
            throw .shape("\(label): invalid dimension \(d) in shape \(shapeText(requested))")
        }
        outShape = try broadcastShapes(x.type.shape, requested, label)
        strides = broadcastOperandStrides(x.type.shape, to: outShape)
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: 0, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}

extension Expand {
    static let schema = OperatorSchema.noAttributes("Expand", versions: [8, 13], inputs: (2, 2), planTimeInputs: [1],
                                                    .kernel(AnyOperatorKernel(Expand())))
}
