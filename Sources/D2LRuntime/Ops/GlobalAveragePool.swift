import _D2LSystem
import _D2LKernels

/// `GlobalAveragePool` (1/22): mean over every spatial dimension of [N, C, ...].
struct GlobalAveragePool: OperatorKernel {
    private(set) var planes = 0
    private(set) var size = 0

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        guard x.type.rank >= 3 else { throw .shape("\(label): X must be [N, C, D1, ...], not \(x.type.text)") }
        planes = x.type.shape[0] * x.type.shape[1]
        size = x.type.shape[2...].reduce(1, *)
        var out = x.type.shape
        for k in 2..<out.count { out[k] = 1 }
        return [TensorType(.float32, out)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0).floats
        guard let y = io.outputs[0]?.floats else { return }
        let table = Kernels.active.table
        for p in 0..<planes {
            y[p] = (size == 0 ? 0 : table.pointee.sum(x + p * size, size)) / Float(size)
        }
    }
}

extension GlobalAveragePool {
    static let schema = OperatorSchema.noAttributes("GlobalAveragePool", versions: [1, 22], inputs: (1, 1),
                                                    .kernel(AnyOperatorKernel(GlobalAveragePool())))
}
