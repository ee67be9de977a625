/// `AveragePool` (opset 11/19/22) and `MaxPool` (opset 12/22) over 1-D or 2-D windows,
/// float32: kernel_shape, strides, pads, dilations (AveragePool from opset 19),
/// ceil_mode, count_include_pad (AveragePool), auto_pad. MaxPool's `Indices` output and
/// `storage_order` are not supported.
struct Pool: OperatorKernel {
    typealias Kind = PoolKind
    let kind: Kind
    let window: SpatialWindow
    let ceilMode: Bool
    let countIncludePad: Bool
    /// Planned geometry, as 2-D (1-D pools use height 1).
    private(set) var g = ConvGeometry(batch: 0, inputChannels: 0, inputHeight: 0, inputWidth: 0,
                                      outputChannels: 0, outputHeight: 0, outputWidth: 0,
                                      kernelHeight: 0, kernelWidth: 0)
    private(set) var padBottom = 0, padRight = 0

    init(_ a: AttributeReader, kind: Kind, version: Int) throws(D2LError) {
        self.kind = kind
        switch kind {
        case .average:
            try a.allowOnly(version >= 19
                ? ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]
                : ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"])
            window = try SpatialWindow(a, dilationsAllowed: version >= 19)
            countIncludePad = try a.flag("count_include_pad", default: false)
        case .max:
            try a.allowOnly(["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"])
            window = try SpatialWindow(a, dilationsAllowed: true)
            countIncludePad = false
            if try a.int("storage_order", default: 0) != 0 {
                throw .unsupported("\(a.label): storage_order 1 is not supported")
            }
        }
        ceilMode = try a.flag("ceil_mode", default: false)
        guard window.kernel != nil else { throw .invalidModel("\(a.label) has no kernel_shape") }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireFloat(x, label, "X")
        let xs = x.type.shape
        guard xs.count == 3 || xs.count == 4 else {
            throw .unsupported("\(label): only 1-D and 2-D pooling is supported, X is \(x.type.text)")
        }
        let spatial = Array(xs[2...])
        let kernel = window.kernel ?? []
        guard kernel.count == spatial.count else {
            throw .shape("\(label): kernel_shape \(shapeText(kernel)) does not match X \(x.type.text)")
        }
        let r = try window.resolve(input: spatial, kernelSizes: kernel, ceilMode: ceilMode, label: label)
        let twoD = spatial.count == 2
        g = ConvGeometry(
            batch: xs[0], inputChannels: xs[1],
            inputHeight: twoD ? spatial[0] : 1, inputWidth: spatial[spatial.count - 1],
            outputChannels: xs[1],
            outputHeight: twoD ? r.output[0] : 1, outputWidth: r.output[r.output.count - 1],
            kernelHeight: twoD ? kernel[0] : 1, kernelWidth: kernel[kernel.count - 1],
            strideHeight: twoD ? r.strides[0] : 1, strideWidth: r.strides[r.strides.count - 1],
            padTop: twoD ? r.padBegin[0] : 0, padLeft: r.padBegin[r.padBegin.count - 1],
            dilationHeight: twoD ? r.dilations[0] : 1, dilationWidth: r.dilations[r.dilations.count - 1])
        padBottom = twoD ? r.padEnd[0] : 0
        padRight = r.padEnd[r.padEnd.count - 1]
        return [TensorType(.float32, [xs[0], xs[1]] + r.output)]
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        guard let y = io.outputs[0]?.floats else { return }
        pool2d(kind, g, padBottom: padBottom, padRight: padRight, countIncludePad: countIncludePad,
               input: UnsafePointer(io.input(0).floats), output: y, pool: pool)
    }
}

extension Pool {
    static let schemas: [OperatorSchema] = [
        OperatorSchema("AveragePool", versions: [1, 7, 10, 11, 19, 22], inputs: (1, 1)) { a, version throws(D2LError) in
            .kernel(AnyOperatorKernel(try Pool(a, kind: .average, version: version)))
        },
        // The optional output `Indices` is not supported: the graph builder says so by name.
        OperatorSchema("MaxPool", versions: [1, 8, 10, 11, 12, 22], inputs: (1, 1)) { a, version throws(D2LError) in
            .kernel(AnyOperatorKernel(try Pool(a, kind: .max, version: version)))
        },
    ]
}
