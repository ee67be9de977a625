/// Reductions: `ReduceMean`, `ReduceMax` (axes attribute before opset 18, input from 18),
/// `ReduceSum` (axes input from 13), with `keepdims` and `noop_with_empty_axes`; and
/// `ArgMax` (13). float32, int64 and int32 (ReduceMax 20+ also uint8 and bool).
struct Reduce {
    enum Kind { case mean, sum, max }
    let kind: Kind
    let keepDims: Bool
    let noopWithEmptyAxes: Bool
    /// The `axes` attribute (versions that take it), else nil: read from input 1.
    let attributeAxes: [Int]?
    let axesFromInput: Bool
    private(set) var inShape: [Int] = []
    private(set) var outStrides: [Int] = []
    private(set) var reducedCount = 1
    private(set) var noop = false

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
        return [TensorType(x.type.dtype, kept)]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        if noop { copyThrough(io); return }
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
        let own = rowMajorStrides(inShape)
        if kind == .max {
            forEachIndex(inShape, [own, outStrides]) { _, o in
                let v = x[o[0]]
                if v > y[o[1]] || v != v { y[o[1]] = v } // NaN propagates
            }
        } else {
            forEachIndex(inShape, [own, outStrides]) { _, o in y[o[1]] = y[o[1]].plus(x[o[0]]) }
        }
        if kind == .mean {
            let c = Double(reducedCount)
            for i in 0..<n { y[i] = T.fromDouble(y[i].asDouble / c) }
        }
    }
}

/// `ArgMax` (13): index of the largest value along `axis` (first, or last with
/// `select_last_index`), as int64.
struct ArgMax {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool
    private(set) var outer = 0
    private(set) var length = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis", "keepdims", "select_last_index"])
        axis = try a.int("axis", default: 0)
        keepDims = try a.flag("keepdims", default: true)
        selectLast = try a.flag("select_last_index", default: false)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireDType(x, [.float32, .int64, .int32, .uint8], label, "data")
        let shape = x.type.shape
        guard !shape.isEmpty else { throw .shape("\(label): ArgMax of a scalar") }
        let k = try normalizeAxis(axis, rank: shape.count, what: label)
        guard shape[k] > 0 else { throw .shape("\(label): ArgMax along an empty axis") }
        outer = shape[..<k].reduce(1, *)
        length = shape[k]
        inner = shape[(k + 1)...].reduce(1, *)
        var out = shape
        if keepDims { out[k] = 1 } else { out.remove(at: k) }
        return [TensorType(.int64, out)]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0)
        guard let y = io.outputs[0]?.typed(Int64.self) else { return }
        switch x.type.dtype {
        case .float32: argmax(x.typed(Float.self), y)
        case .int64: argmax(x.typed(Int64.self), y)
        case .int32: argmax(x.typed(Int32.self), y)
        default: argmax(x.typed(UInt8.self), y)
        }
    }

    private func argmax<T: Comparable>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<Int64>) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = 0
                for j in 1..<max(length, 1) {
                    let v = x[base + j * inner], b = x[base + best * inner]
                    if v > b || (selectLast && v == b) { best = j }
                }
                y[o * inner + i] = Int64(best)
            }
        }
    }
}

/// `Sum` (13, float32), `Max`, `Min` (13: float32, int64, int32, uint8): one or more
/// inputs broadcast together.
struct Variadic {
    enum Kind { case sum, max, min }
    let kind: Kind
    private(set) var outShape: [Int] = []
    private(set) var strides: [[Int]] = []

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let first = try required(inputs, 0, label)
        try requireDType(first, kind == .sum ? [.float32] : [.float32, .int64, .int32, .uint8], label, "data_0")
        var shape = first.type.shape
        for i in 0..<inputs.count {
            let t = try required(inputs, i, label).type
            guard t.dtype == first.type.dtype else {
                throw .invalidModel("\(label): input #\(i) is \(t.dtype.name), input #0 is \(first.type.dtype.name)")
            }
            shape = try broadcastShapes(shape, t.shape, label)
        }
        outShape = shape
        strides = []
        for i in 0..<inputs.count { strides.append(broadcastOperandStrides(inputs[i]?.type.shape ?? [], to: shape)) }
        return [TensorType(first.type.dtype, shape)]
    }

    func run(_ io: KernelIO) {
        guard let y = io.outputs[0] else { return }
        switch y.type.dtype {
        case .float32: fold(io, y.typed(Float.self))
        case .int64: fold(io, y.typed(Int64.self))
        case .int32: fold(io, y.typed(Int32.self))
        default: fold(io, y.typed(UInt8.self))
        }
    }

    private func fold<T: D2LNumber>(_ io: KernelIO, _ y: UnsafeMutablePointer<T>) {
        var xs: [UnsafeMutablePointer<T>] = []
        for i in 0..<strides.count { xs.append(io.input(i).typed(T.self)) }
        let kind = self.kind
        forEachIndex(outShape, strides) { n, o in
            var acc = xs[0][o[0]]
            for k in 1..<max(xs.count, 1) {
                let v = xs[k][o[k]]
                switch kind {
                case .sum: acc = acc.plus(v)
                case .max: if v > acc || v != v { acc = v }
                case .min: if v < acc || v != v { acc = v }
                }
            }
            y[n] = acc
        }
    }
}

/// `Clip` (13): clamps to the optional scalar inputs `min` and `max` (float32, int64, int32).
struct Clip {
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireDType(x, [.float32, .int64, .int32, .uint8], label, "input")
        for i in 1..<3 where i < inputs.count {
            if let b = inputs[i], b.type.dtype != x.type.dtype || b.type.count != 1 {
                throw .invalidModel("\(label): '\(i == 1 ? "min" : "max")' must be one \(x.type.dtype.name), not \(b.type.text)")
            }
        }
        return [x.type]
    }

    func run(_ io: KernelIO) {
        guard let y = io.outputs[0] else { return }
        switch y.type.dtype {
        case .float32: clip(io, y.typed(Float.self))
        case .int64: clip(io, y.typed(Int64.self))
        case .int32: clip(io, y.typed(Int32.self))
        default: clip(io, y.typed(UInt8.self))
        }
    }

    private func clip<T: D2LNumber>(_ io: KernelIO, _ y: UnsafeMutablePointer<T>) {
        let x = io.input(0).typed(T.self)
        let lo: T? = io.inputs.count > 1 ? io.inputs[1]?.typed(T.self)[0] : nil
        let hi: T? = io.inputs.count > 2 ? io.inputs[2]?.typed(T.self)[0] : nil
        for i in 0..<io.input(0).type.count {
            var v = x[i]
            if let lo, v < lo { v = lo }
            if let hi, v > hi { v = hi }
            y[i] = v
        }
    }
}
