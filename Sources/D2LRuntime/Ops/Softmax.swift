import _D2LSystem
import _D2LKernels

/// `Softmax` (opset 13): softmax along one axis (default -1), float32.
struct Softmax: OperatorKernel {
    let axis: Int
    private(set) var outer = 0
    private(set) var length = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: -1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "input")
        let shape = x.type.shape
        if shape.isEmpty {
            outer = 1; length = 1; inner = 1
            return [x.type]
        }
        let k = try normalizeAxis(axis, rank: shape.count, what: label)
        outer = shape[..<k].reduce(1, *)
        length = shape[k]
        inner = shape[(k + 1)...].reduce(1, *)
        return [x.type]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = UnsafePointer(io.input(0).floats)
        guard let y = io.outputs[0]?.floats else { return }
        softmaxVector(x, y, outer: outer, length: length, inner: inner)
    }

    /// The plain scalar kernel (libm expf), the oracle of the variants' `softmax`:
    /// x and y are [outer, length, inner], the softmax along the middle axis.
    static func reference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          outer: Int, length: Int, inner: Int) {
        if length == 0 { return }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                for j in 0..<length { m = max(m, x[base + j * inner]) }
                var sum: Float = 0
                for j in 0..<length {
                    let e = expf(x[base + j * inner] - m)
                    y[base + j * inner] = e
                    sum += e
                }
                let scale = 1 / sum
                for j in 0..<length { y[base + j * inner] *= scale }
            }
        }
    }
}

extension Softmax {
    static let schema = OperatorSchema("Softmax", versions: [1, 11, 13], inputs: (1, 1)) { a, _ throws(D2LError) in .kernel(AnyOperatorKernel(try Softmax(a))) }
}
