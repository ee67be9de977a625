import _D2LSystem

/// `Relu` (14), `Sigmoid` (13), `Tanh` (13), `Exp`, `Log`, `Sqrt`, `Erf` (13) on float32;
/// `Neg` (13) on float32, int64 and int32 (integers wrap: -Int.min is Int.min).
struct ElementwiseUnary: OperatorKernel {
    enum Kind { case relu, sigmoid, tanh, neg, exp, log, sqrt, erf }
    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        if kind == .neg {
            try requireDType(x, [.float32, .int64, .int32], label, "X")
        } else {
            try requireFloat(x, label, "X")
        }
        return [x.type]
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        let xv = io.input(0)
        guard let yv = io.outputs[0] else { return }
        if xv.type.dtype != .float32 {
            let n = xv.type.count
            if xv.type.dtype == .int64 {
                let x = xv.typed(Int64.self), y = yv.typed(Int64.self)
                for i in 0..<n { y[i] = 0 &- x[i] }
            } else if xv.type.dtype == .int32 {
                let x = xv.typed(Int32.self), y = yv.typed(Int32.self)
                for i in 0..<n { y[i] = 0 &- x[i] }
            }
            return
        }
        let x = UnsafePointer(xv.floats), y = yv.floats
        let n = xv.type.count
        // Large tensors are split into chunks of whole SIMD blocks across the pool.
        let chunks = pool == nil || n < 32_768 ? 1 : min(16, n / 16_384)
        let chunk = (n / chunks + 15) & ~15
        let kind = self.kind
        func apply(_ c: Int) {
            let start = c * chunk
            let count = min(n - start, chunk)
            if count <= 0 { return }
            switch kind {
            case .relu: reluVector(x + start, y + start, count)
            case .sigmoid: sigmoidVector(x + start, y + start, count)
            case .tanh: tanhVector(x + start, y + start, count)
            case .exp: expVector(x + start, y + start, count)
            default: ElementwiseUnary.reference(kind, x + start, y + start, count)
            }
        }
        if chunks == 1 { apply(0) } else { pool?.parallelFor(chunks, apply) }
    }

    /// The plain scalar kernel, the oracle of the vector kernels above.
    static func reference(_ kind: Kind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .relu:
            for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : (v.isNaN ? v : 0) }
        case .sigmoid:
            for i in 0..<n { y[i] = sigmoid(x[i]) }
        case .tanh:
            for i in 0..<n { y[i] = tanhf(x[i]) }
        case .neg:
            for i in 0..<n { y[i] = -x[i] }
        case .exp:
            for i in 0..<n { y[i] = expf(x[i]) }
        case .log:
            for i in 0..<n { y[i] = logf(x[i]) }
        case .sqrt:
            for i in 0..<n { y[i] = sqrtf(x[i]) }
        case .erf:
            for i in 0..<n { y[i] = erff(x[i]) }
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

extension ElementwiseUnary {
    /// Relu, Sigmoid, Tanh, Neg, Exp, Log, Sqrt and Erf: one kernel family, no attributes.
    static let schemas: [OperatorSchema] = [
        unary("Relu", [1, 6, 13, 14], .relu), unary("Sigmoid", [1, 6, 13], .sigmoid),
        unary("Tanh", [1, 6, 13], .tanh), unary("Neg", [1, 6, 13], .neg), unary("Exp", [1, 6, 13], .exp),
        unary("Log", [1, 6, 13], .log), unary("Sqrt", [1, 6, 13], .sqrt), unary("Erf", [9, 13], .erf),
    ]

    private static func unary(_ name: String, _ versions: [Int], _ kind: Kind) -> OperatorSchema {
        .noAttributes(name, versions: versions, inputs: (1, 1), .unary(ElementwiseUnary(kind)))
    }
}
