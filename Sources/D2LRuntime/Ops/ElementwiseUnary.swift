import _D2LSystem

/// `Relu` (14), `Sigmoid` (13), `Tanh` (13) on float32.
struct ElementwiseUnary {
    enum Kind { case relu, sigmoid, tanh }
    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        return [x.type]
    }

    func run(_ io: KernelIO) {
        let xv = io.input(0)
        guard let yv = io.outputs[0] else { return }
        let x = UnsafePointer(xv.floats), y = yv.floats
        let n = xv.type.count
        switch kind {
        case .relu:
            for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : (v.isNaN ? v : 0) }
        case .sigmoid:
            for i in 0..<n { y[i] = sigmoid(x[i]) }
        case .tanh:
            for i in 0..<n { y[i] = tanhf(x[i]) }
        }
    }
}

/// 1 / (1 + e^-x), stable for large |x|.
@inline(__always)
func sigmoid(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + expf(-x))
    }
    let e = expf(x)
    return e / (1 + e)
}
