import _D2LSystem

/// `Pad` (13, 18+ with `axes`): `pads` known while planning ([begin..., end...], negative
/// values crop), optional scalar `constant_value`; modes constant, reflect, edge, wrap.
struct Pad: OperatorKernel {
    enum Mode { case constant, reflect, edge, wrap }
    let mode: Mode
    private(set) var begins: [Int] = []
    private(set) var inShape: [Int] = []
    private(set) var outShape: [Int] = []

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(["mode"])
        switch try a.string("mode", default: "constant") {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        case "wrap" where version >= 19: mode = .wrap
        case let m: throw a.invalid("mode", "is \(quoted(m)); libd2l pads with constant, reflect, edge or wrap")
        }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        let rank = x.type.rank
        let pads = try planTimeInts(inputs, 1, label, "pads") ?? []
        let axes = try normalizeAxes(try planTimeInts(inputs, 3, label, "axes") ?? Array(0..<rank), rank: rank, label)
        guard pads.count == 2 * axes.count else {
            throw .invalidModel("\(label): 'pads' has \(pads.count) values; \(2 * axes.count) expected")
        }
        if inputs.count > 2, let c = inputs[2] {
            guard c.type.dtype == x.type.dtype, c.type.count == 1 else {
                throw .invalidModel("\(label): 'constant_value' must be one \(x.type.dtype.name), not \(c.type.text)")
            }
        }
        inShape = x.type.shape
        begins = [Int](repeating: 0, count: rank)
        outShape = inShape
        for (j, k) in axes.enumerated() {
            let b = pads[j], e = pads[j + axes.count]
            guard b > -maxTensorElements, b < maxTensorElements, e > -maxTensorElements, e < maxTensorElements,
                  inShape[k] + b + e >= 0 else {
                throw .shape("\(label): pads \(b), \(e) do not fit axis \(k) of \(x.type.text)")
            }
            begins[k] = b
            outShape[k] = inShape[k] + b + e
            if mode != .constant && inShape[k] == 0 && outShape[k] > 0 {
                throw .shape("\(label): cannot pad an empty axis in this mode")
            }
        }
        guard checkedElementCount(outShape, limit: maxTensorElements) != nil else { throw .shape("\(label): output too large") }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        let size = x.type.dtype.size
        let rank = outShape.count
        let count = outShape.reduce(1, *)
        if count == 0 { return }
        let inStrides = rowMajorStrides(inShape)
        let zero = [UInt64](repeating: 0, count: 1)
        if io.inputs.count > 2, let c = io.inputs[2] {
            fill(x, y, UnsafeRawPointer(c.pointer), size, rank, count, inStrides)
        } else {
            zero.withUnsafeBytes { raw in
                if let p = raw.baseAddress { fill(x, y, p, size, rank, count, inStrides) }
            }
        }
    }

    private func fill(_ x: TensorView, _ y: TensorView, _ fill: UnsafeRawPointer, _ size: Int, _ rank: Int,
                      _ count: Int, _ inStrides: [Int]) {
        var index = [Int](repeating: 0, count: rank)
        for n in 0..<count {
            var offset = 0, inside = true
            for d in 0..<rank {
                var i = index[d] - begins[d]
                let s = inShape[d]
                if i < 0 || i >= s {
                    switch mode {
                    case .constant: inside = false
                    case .edge: i = i < 0 ? 0 : s - 1
                    case .wrap: i = ((i % s) + s) % s
                    case .reflect:
                        if s == 1 { i = 0 } else {
                            let period = 2 * (s - 1)
                            i = ((i % period) + period) % period
                            if i >= s { i = period - i }
                        }
                    }
                }
                offset += i * inStrides[d]
            }
            if inside { copyElements(x.pointer, offset, y.pointer, n, 1, size) }
            else { copyElements(fill, 0, y.pointer, n, 1, size) }
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < outShape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension Pad {
    /// Inputs 1 (`pads`) and 3 (`axes`) are read while planning.
    static let schema = OperatorSchema("Pad", versions: [1, 2, 11, 13, 18, 19, 21, 23, 24, 25], inputs: (2, 4),
                                       planTimeInputs: [1, 3]) { a, version throws(D2LError) in .kernel(AnyOperatorKernel(try Pad(a, version: version))) }
}
