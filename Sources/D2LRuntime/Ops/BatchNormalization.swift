import _D2LSystem
import _D2LKernels

/// `BatchNormalization` (9/14/15) in inference mode: y = (x - mean) / sqrt(var + epsilon)
/// · scale + B per channel (dimension 1). `training_mode` = 1 is refused.
struct BatchNormalization: OperatorKernel {
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
                throw .shape("\(label): \(quoted(names[i])) is \(p.type.text); [\(channels)] expected for X \(x.type.text)")
            }
        }
        outer = x.type.shape[0]
        inner = x.type.shape[2...].reduce(1, *)
        return [x.type]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0).floats
        guard let y = io.outputs[0]?.floats else { return }
        let scale = io.input(1).floats, bias = io.input(2).floats
        let mean = io.input(3).floats, variance = io.input(4).floats
        batchNormAffine(x, y, outer: outer, channels: channels, inner: inner, gamma: scale, beta: bias,
                        mean: mean, variance: variance, epsilon: epsilon, activation: activation)
    }
}

extension BatchNormalization {
    static let schema = OperatorSchema("BatchNormalization", versions: [1, 6, 7, 9, 14, 15], inputs: (5, 5)) { a, version throws(D2LError) in
        .batchNorm(try BatchNormalization(a, version: version))
    }
}
