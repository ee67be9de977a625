import _D2LSystem

/// `LRN` (13): y = x / (bias + alpha / size · Σ x²)^beta over the channels
/// [c - ⌊(size-1)/2⌋, c + ⌈(size-1)/2⌉].
struct LRN: OperatorKernel {
    let size: Int
    let alpha: Float, beta: Float, bias: Float
    private(set) var channels = 0
    private(set) var outer = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["size", "alpha", "beta", "bias"])
        guard a.has("size") else { throw a.invalid("size", "is required") }
        size = try a.int("size", default: 1)
        guard size >= 1, size <= 1 << 20 else { throw a.invalid("size", "must be at least 1, not \(size)") }
        alpha = try a.float("alpha", default: 1e-4)
        beta = try a.float("beta", default: 0.75)
        bias = try a.float("bias", default: 1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        guard x.type.rank >= 2 else { throw .shape("\(label): X must be [N, C, ...], not \(x.type.text)") }
        outer = x.type.shape[0]
        channels = x.type.shape[1]
        inner = x.type.shape[2...].reduce(1, *)
        return [x.type]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0).floats
        guard let y = io.outputs[0]?.floats else { return }
        let below = (size - 1) / 2, above = size / 2
        for n in 0..<outer {
            for c in 0..<channels {
                let lo = max(0, c - below), hi = min(channels - 1, c + above)
                for i in 0..<inner {
                    var sum: Float = 0
                    for k in lo...hi { let v = x[(n * channels + k) * inner + i]; sum += v * v }
                    let j = (n * channels + c) * inner + i
                    y[j] = x[j] / powf(bias + alpha / Float(size) * sum, beta)
                }
            }
        }
    }
}

extension LRN {
    static let schema = OperatorSchema("LRN", versions: [1, 13], inputs: (1, 1)) { a, _ throws(D2LError) in .kernel(AnyOperatorKernel(try LRN(a))) }
}
