/// `Slice` (13): `starts`, `ends`, optional `axes` and `steps`; negative values count
/// from the end and out-of-range values are clamped, as the spec says.
struct Slice: OperatorKernel {
    private(set) var base = 0
    private(set) var strides: [Int] = []
    private(set) var outShape: [Int] = []

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        _ = try required(inputs, 2, label)
        let shape = x.type.shape, rank = shape.count
        let starts = try planTimeInts(inputs, 1, label, "starts") ?? []
        let ends = try planTimeInts(inputs, 2, label, "ends") ?? []
        let axes = try planTimeInts(inputs, 3, label, "axes") ?? Array(0..<starts.count)
        let steps = try planTimeInts(inputs, 4, label, "steps") ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw .invalidModel("\(label): starts, ends, axes and steps must have the same length")
        }
        let normalized = try normalizeAxes(axes, rank: rank, label)
        let inStrides = rowMajorStrides(shape)
        outShape = shape
        strides = inStrides
        base = 0
        for (j, k) in normalized.enumerated() {
            let d = shape[k], step = steps[j]
            guard step != 0 else { throw .invalidModel("\(label): step 0 on axis \(k)") }
            var s = starts[j], e = ends[j]
            if s < 0 { s = s < -d ? -d - 1 : s + d } // stays above Int.min
            if e < 0 { e = e < -d ? -d - 1 : e + d }
            let count: Int
            if step > 0 {
                s = min(max(s, 0), d); e = min(max(e, 0), d)
                count = e <= s ? 0 : (e - s - 1) / step + 1
            } else {
                s = min(max(s, 0), d - 1); e = min(max(e, -1), d - 1)
                count = s <= e ? 0 : Int((UInt(s - e - 1)) / step.magnitude) + 1
            }
            outShape[k] = count
            if count > 0 {
                base += s * inStrides[k]
                strides[k] = step > 0 ? inStrides[k] * min(step, d) : -inStrides[k] * Int(min(step.magnitude, UInt(d)))
            }
        }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: base, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}

extension Slice {
    /// starts, ends, axes and steps are read while planning.
    static let schema = OperatorSchema.noAttributes("Slice", versions: [1, 10, 11, 13], inputs: (3, 5),
                                                    planTimeInputs: [1, 2, 3, 4], .kernel(AnyOperatorKernel(Slice())))
}
