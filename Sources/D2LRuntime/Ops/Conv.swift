/// `Conv` (opset 11/22) for 1-D and 2-D inputs, float32: X [N, C, (H,) W], W [M, C/group,
/// (kH,) kW], optional B [M]; pads, strides, dilations, group, auto_pad.
struct Conv: OperatorKernel {
    let window: SpatialWindow
    let group: Int
    private(set) var geometry = ConvGeometry(batch: 0, inputChannels: 0, inputHeight: 0, inputWidth: 0,
                                             outputChannels: 0, outputHeight: 0, outputWidth: 0,
                                             kernelHeight: 0, kernelWidth: 0)
    private(set) var scratchElements = 0
    /// Set by fusion: input 3 (same shape as Y) is added to Y, then `activation` applied.
    private(set) var fusedResidual = false
    private(set) var activation = FusedActivation.none
    /// How W is stored: set at load (WeightPacking.swift) when W is a constant the
    /// loader packed; `.plain` otherwise.
    var weightLayout = ConvWeightLayout.plain
    /// W transformed by `packWinogradWeight`, made at load (WeightPacking.swift) for 3×3
    /// stride-1 convolutions whose load-time output is large enough; shared by copies.
    var winogradWeight: AlignedBuffer?
    /// Whether this plan runs `conv2dWinograd` (a transformed weight and a geometry it takes).
    private(set) var useWinograd = false

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        window = try SpatialWindow(a, dilationsAllowed: true)
        group = try a.int("group", default: 1)
        guard group >= 1 else { throw a.invalid("group", "must be ≥ 1, not \(group)") }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label), w = try required(inputs, 1, label)
        try requireFloat(x, label, "X")
        try requireFloat(w, label, "W")
        let xs = x.type.shape, ws = w.type.shape
        guard xs.count == 3 || xs.count == 4 else {
            throw .unsupported("\(label): only 1-D and 2-D convolutions are supported, X is \(x.type.text)")
        }
        guard ws.count == xs.count else { throw .shape("\(label): W \(w.type.text) does not match X \(x.type.text)") }
        let spatial = Array(xs[2...]), kernelSizes = Array(ws[2...])
        if let k = window.kernel, k != kernelSizes {
            throw .shape("\(label): kernel_shape \(shapeText(k)) differs from W's \(shapeText(kernelSizes))")
        }
        guard xs[1] % group == 0, ws[0] % group == 0, xs[1] / group == ws[1] else {
            throw .shape("\(label): X has \(xs[1]) channels, W \(w.type.text), group \(group): channels do not match")
        }
        for k in kernelSizes where k < 1 { throw .shape("\(label): W has an empty kernel") }
        if inputs.count > 2, let b = inputs[2] {
            try requireFloat(b, label, "B")
            guard b.type.shape == [ws[0]] else { throw .shape("\(label): B is \(b.type.text), expected [\(ws[0])]") }
        }
        let r = try window.resolve(input: spatial, kernelSizes: kernelSizes, ceilMode: false, label: label)
        let twoD = spatial.count == 2
        geometry = ConvGeometry(
            batch: xs[0], inputChannels: xs[1],
            inputHeight: twoD ? spatial[0] : 1, inputWidth: spatial[spatial.count - 1],
            outputChannels: ws[0],
            outputHeight: twoD ? r.output[0] : 1, outputWidth: r.output[r.output.count - 1],
            kernelHeight: twoD ? kernelSizes[0] : 1, kernelWidth: kernelSizes[kernelSizes.count - 1],
            strideHeight: twoD ? r.strides[0] : 1, strideWidth: r.strides[r.strides.count - 1],
            padTop: twoD ? r.padBegin[0] : 0, padLeft: r.padBegin[r.padBegin.count - 1],
            dilationHeight: twoD ? r.dilations[0] : 1, dilationWidth: r.dilations[r.dilations.count - 1],
            groups: group)
        guard checkedElementCount([xs[0], ws[0]] + r.output, limit: maxTensorElements) != nil else {
            throw .shape("\(label): the output is too large")
        }
        useWinograd = winogradWeight != nil && winogradApplies(geometry)
            && (winogradWeight?.byteCount ?? 0) == winogradWeightElements(geometry) * 4
        scratchElements = useWinograd ? winogradScratchElements(geometry) : conv2dScratchElements(geometry)
        return [TensorType(.float32, [xs[0], ws[0]] + r.output)]
    }

    /// Fusion (see Fusion.swift): the node also adds its input 3 (when `residual`) and
    /// applies `activation` to each output value inside the convolution's gemm.
    mutating func fuse(residual: Bool, activation: FusedActivation) {
        fusedResidual = residual
        self.activation = activation
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        guard let y = io.outputs[0]?.floats else { return }
        let bias: UnsafePointer<Float>? = io.inputs.count > 2 ? io.inputs[2].map { UnsafePointer($0.floats) } : nil
        var epilogue = Epilogue(residual: nil, activation: activation)
        if fusedResidual, io.inputs.count > 3, let r = io.inputs[3] { epilogue.residual = UnsafePointer(r.floats) }
        if useWinograd, let transformed = winogradWeight {
            conv2dWinograd(geometry, input: io.input(0).floats,
                           transformedWeight: transformed.pointer.assumingMemoryBound(to: Float.self),
                           bias: bias, output: y, scratch: io.scratch, pool: pool, epilogue: epilogue)
            return
        }
        conv2dFused(geometry, input: io.input(0).floats, weight: io.input(1).floats, bias: bias,
                    output: y, scratch: io.scratch, pool: pool, epilogue: epilogue, weightLayout: weightLayout)
    }
}

extension Conv {
    static let schema = OperatorSchema("Conv", versions: [1, 11, 22], inputs: (2, 3)) { a, _ throws(D2LError) in .conv(try Conv(a)) }
}
