/// Reductions: `ReduceMean`, `ReduceMax` (axes attribute before opset 18, input from 18),
/// `ReduceSum` (axes input from 13), with `keepdims` and `noop_with_empty_axes`; and
/// `ArgMax` (13). float32, int64 and int32 (ReduceMax 20+ also uint8 and bool).
struct Reduce: OperatorKernel {
    enum Kind { case mean, sum, max }
    let kind: Kind
    let keepDims: Bool
    let noopWithEmptyAxes: Bool
    /// The `axes` attribute (versions that take it), else nil: read from input 1.
    let attributeAxes: [Int]?
    let axesFromInput: Bool
    private(set) var inShape: [Int] = []
    private(set) var outStrides: [Int] = []
    /// The input's own strides and `outStrides`, for `forEachIndex` (set while planning,
    /// so that a run allocates nothing).
    private(set) var walkStrides: [[Int]] = []
    private(set) var reducedCount = 1
    private(set) var noop = false
    /// Float sums and means over one run of adjacent axes: x seen as [outer, length, inner]
    /// (`sumAlongAxis`); nil for anything else (the general walk).
    private(set) var contiguous: (outer: Int, length: Int, inner: Int)?

    init(_ a: AttributeReader, kind: Kind, version: Int) throws(D2LError) {
        self.kind = kind
        axesFromInput = kind == .sum ? true : version >= 18
        try a.allowOnly(axesFromInput ? ["keepdims", "noop_with_empty_axes"] : ["keepdims", "axes"])
        keepDims = try a.flag("keepdims", default: true)
        noopWithEmptyAxes = try a.flag("noop_with_empty_axes", default: false)
        attributeAxes = axesFromInput ? nil : try a.ints("axes")
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireDType(x, kind == .max ? [.float32, .int64, .int32, .uint8, .bool] : [.float32, .int64, .int32], label, "data")
        let rank = x.type.rank
        let given = axesFromInput ? try planTimeInts(inputs, 1, label, "axes") : attributeAxes
        var axes = try normalizeAxes(given ?? [], rank: rank, label)
        inShape = x.type.shape
        noop = axes.isEmpty && noopWithEmptyAxes
        if noop { outStrides = rowMajorStrides(inShape); return [x.type] }
        if axes.isEmpty { axes = Array(0..<rank) }
        let sortedAxes = axes.sorted()
        if x.type.dtype == .float32, kind != .max, let first = sortedAxes.first, let last = sortedAxes.last,
           last - first + 1 == sortedAxes.count {
            contiguous = (inShape[..<first].reduce(1, *), inShape[first...last].reduce(1, *), inShape[(last + 1)...].reduce(1, *))
        } else {
            contiguous = nil
        }
        var kept: [Int] = []
        reducedCount = 1
        for (k, d) in inShape.enumerated() {
            if axes.contains(k) { reducedCount *= d; if keepDims { kept.append(1) } } else { kept.append(d) }
        }
        if kind == .max && reducedCount == 0 && x.type.dtype != .float32 {
            throw .shape("\(label): ReduceMax over an empty set of \(x.type.dtype.name) values has no result")
        }
        // Strides of the output, per input dimension; 0 along reduced axes.
        var full: [Int] = []
        for (k, d) in inShape.enumerated() { full.append(axes.contains(k) ? 1 : d) }
        let s = rowMajorStrides(full)
        outStrides = []
        for k in 0..<rank { outStrides.append(axes.contains(k) ? 0 : s[k]) }
        walkStrides = [rowMajorStrides(inShape), outStrides]
        return [TensorType(x.type.dtype, kept)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        if noop { copyThrough(io); return }
        if let c = contiguous {
            let yf = y.typed(Float.self)
            sumAlongAxis(x.typed(Float.self), yf, outer: c.outer, length: c.length, inner: c.inner)
            if kind == .mean {
                let count = Double(reducedCount)
                for i in 0..<y.type.count { yf[i] = Float(Double(yf[i]) / count) }
            }
            return
        }
        switch x.type.dtype {
        case .float32: reduce(x.typed(Float.self), y.typed(Float.self), y.type.count)
        case .int64: reduce(x.typed(Int64.self), y.typed(Int64.self), y.type.count)
        case .int32: reduce(x.typed(Int32.self), y.typed(Int32.self), y.type.count)
        case .uint8, .bool: reduce(x.typed(UInt8.self), y.typed(UInt8.self), y.type.count)
        }
    }

    private func reduce<T: D2LNumber>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        let start: T = kind == .max ? T.lowest : T.zero
        for i in 0..<n { y[i] = start }
        if kind == .max {
            forEachIndex(inShape, walkStrides) { _, o in
                let v = x[o[0]]
                if v > y[o[1]] || v != v { y[o[1]] = v } // NaN propagates
            }
        } else {
            forEachIndex(inShape, walkStrides) { _, o in y[o[1]] = y[o[1]].plus(x[o[0]]) }
        }
        if kind == .mean {
            let c = Double(reducedCount)
            for i in 0..<n { y[i] = T.fromDouble(y[i].asDouble / c) }
        }
    }
}

extension Reduce {
    /// ReduceMean, ReduceSum and ReduceMax; input 1 (`axes`, where the version takes it as an
    /// input) is read while planning.
    static let schemas: [OperatorSchema] = [
        reduce("ReduceMean", [1, 11, 13, 18], .mean), reduce("ReduceSum", [1, 11, 13], .sum),
        reduce("ReduceMax", [1, 11, 12, 13, 18, 20], .max),
    ]

    private static func reduce(_ name: String, _ versions: [Int], _ kind: Kind) -> OperatorSchema {
        OperatorSchema(name, versions: versions, inputs: (1, 2), planTimeInputs: [1]) { a, version throws(D2LError) in
            .kernel(AnyOperatorKernel(try Reduce(a, kind: kind, version: version)))
        }
    }
}
