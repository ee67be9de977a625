import _D2LSystem
import _D2LKernels

/// `BatchNormalization` (9/14/15) in inference mode: y = (x - mean) / sqrt(var + epsilon)
/// · scale + B per channel (dimension 1). `training_mode` = 1 is refused.
struct BatchNormalization {
    let epsilon: Float
    private(set) var channels = 0
    private(set) var outer = 0
    private(set) var inner = 0
    /// Set by fusion (BatchNormalization+Relu, as DenseNet's pre-activation blocks have):
    /// applied to every output value.
    private(set) var activation = FusedActivation.none

    mutating func fuse(activation: FusedActivation) {
        self.activation = activation
    }

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(version >= 14 ? ["epsilon", "momentum", "training_mode"] : ["epsilon", "momentum"])
        epsilon = try a.float("epsilon", default: 1e-5)
        guard epsilon >= 0, epsilon.isFinite else { throw a.invalid("epsilon", "must be a finite value ≥ 0, not \(epsilon)") }
        if try a.flag("training_mode", default: false) {
            throw .unsupported("\(a.label): training_mode is 1; libd2l runs inference only")
        }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        guard x.type.rank >= 2 else { throw .shape("\(label): X must have at least 2 dimensions, not \(x.type.text)") }
        channels = x.type.shape[1]
        let names = ["X", "scale", "B", "input_mean", "input_var"]
        for i in 1..<5 {
            let p = try required(inputs, i, label)
            try requireFloat(p, label, names[i])
            guard p.type.shape == [channels] else {
                throw .shape("\(label): '\(names[i])' is \(p.type.text); [\(channels)] expected for X \(x.type.text)")
            }
        }
        outer = x.type.shape[0]
        inner = x.type.shape[2...].reduce(1, *)
        return [x.type]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0).floats
        guard let y = io.outputs[0]?.floats else { return }
        let scale = io.input(1).floats, bias = io.input(2).floats
        let mean = io.input(3).floats, variance = io.input(4).floats
        let table = Kernels.active.table
        let act = activation.kernelCode
        for c in 0..<channels {
            let s = scale[c] / sqrtf(variance[c] + epsilon)
            let b = bias[c] - mean[c] * s
            for n in 0..<outer {
                let base = (n * channels + c) * inner
                table.pointee.scale_shift(x + base, s, b, y + base, inner, act)
            }
        }
    }
}

/// `GlobalAveragePool` (1/22): mean over every spatial dimension of [N, C, ...].
struct GlobalAveragePool {
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

    func run(_ io: KernelIO) {
        let x = io.input(0).floats
        guard let y = io.outputs[0]?.floats else { return }
        let table = Kernels.active.table
        for p in 0..<planes {
            y[p] = (size == 0 ? 0 : table.pointee.sum(x + p * size, size)) / Float(size)
        }
    }
}

/// `LRN` (13): y = x / (bias + alpha / size · Σ x²)^beta over the channels
/// [c - ⌊(size-1)/2⌋, c + ⌈(size-1)/2⌉].
struct LRN {
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

    func run(_ io: KernelIO) {
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
