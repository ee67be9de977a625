import _D2LSystem

/// Operators that select elements: `Where` (9/16), `Gather` (13), `OneHot` (11), `Pad`
/// (13/18+). Any dtype for the data.

/// `Where`: y = condition ? X : Y, all three broadcast together.
struct Where {
    private(set) var outShape: [Int] = []
    private(set) var strides: [[Int]] = []

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let c = try required(inputs, 0, label), x = try required(inputs, 1, label), y = try required(inputs, 2, label)
        try requireDType(c, [.bool], label, "condition")
        guard x.type.dtype == y.type.dtype else {
            throw .invalidModel("\(label): X is \(x.type.dtype.name) and Y is \(y.type.dtype.name); they must have the same type")
        }
        outShape = try broadcastShapes(try broadcastShapes(c.type.shape, x.type.shape, label), y.type.shape, label)
        strides = [c.type.shape, x.type.shape, y.type.shape].map { broadcastOperandStrides($0, to: outShape) }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO) {
        guard let out = io.outputs[0] else { return }
        let c = io.input(0).typed(UInt8.self)
        let x = io.input(1).pointer, y = io.input(2).pointer
        func go<T>(_: T.Type) {
            let xs = x.assumingMemoryBound(to: T.self), ys = y.assumingMemoryBound(to: T.self)
            let o = out.typed(T.self)
            forEachIndex(outShape, strides) { n, off in o[n] = c[off[0]] != 0 ? xs[off[1]] : ys[off[2]] }
        }
        switch out.type.dtype.size {
        case 1: go(UInt8.self)
        case 4: go(UInt32.self)
        default: go(UInt64.self)
        }
    }
}

/// `Gather`: picks slices of `data` along `axis` by int64/int32 `indices` (negative
/// counts from the end). Constant indices are checked while planning; an out-of-range
/// index computed at run time yields zeros (a kernel cannot fail).
struct Gather {
    let axis: Int
    private(set) var outer = 0
    private(set) var axisSize = 0
    private(set) var inner = 0
    private(set) var indexCount = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: 0)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label), ind = try required(inputs, 1, label)
        try requireDType(ind, [.int64, .int32], label, "indices")
        let shape = x.type.shape
        guard !shape.isEmpty else { throw .shape("\(label): cannot gather from a scalar") }
        let k = try normalizeAxis(axis, rank: shape.count, what: label)
        axisSize = shape[k]
        if let c = ind.constant {
            for i in c.integers() where i < -axisSize || i >= axisSize {
                throw .shape("\(label): index \(i) is out of range for axis \(k) of size \(axisSize)")
            }
        }
        outer = shape[..<k].reduce(1, *)
        inner = shape[(k + 1)...].reduce(1, *)
        indexCount = ind.type.count
        let out = Array(shape[..<k]) + ind.type.shape + Array(shape[(k + 1)...])
        guard checkedElementCount(out, limit: maxTensorElements) != nil else { throw .shape("\(label): output too large") }
        return [TensorType(x.type.dtype, out)]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0), ind = io.input(1)
        guard let y = io.outputs[0] else { return }
        let size = x.type.dtype.size
        for j in 0..<indexCount {
            var i = ind.type.dtype == .int64 ? Int(truncatingIfNeeded: ind.typed(Int64.self)[j]) : Int(ind.typed(Int32.self)[j])
            if i < 0 { i += axisSize }
            let valid = i >= 0 && i < axisSize
            for o in 0..<outer {
                let dst = (o * indexCount + j) * inner
                if valid {
                    copyElements(x.pointer, (o * axisSize + i) * inner, y.pointer, dst, inner, size)
                } else if inner > 0 {
                    memset(y.pointer + dst * size, 0, inner * size)
                }
            }
        }
    }
}

/// `OneHot` (11): `depth` (a scalar known while planning), `values` = [off, on]; the new
/// axis goes at `axis` (default -1). Negative indices count from `depth`; indices outside
/// [-depth, depth) give an all-off row.
struct OneHot {
    let axis: Int
    private(set) var depth = 0
    private(set) var outer = 0
    private(set) var inner = 0

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: -1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let ind = try required(inputs, 0, label), d = try required(inputs, 1, label), v = try required(inputs, 2, label)
        try requireDType(ind, [.float32, .int64, .int32], label, "indices")
        guard d.type.count == 1 else { throw .invalidModel("\(label): 'depth' must hold one value, not \(d.type.text)") }
        guard let c = d.constant else { throw .unsupported("\(label): 'depth' must be known when planning") }
        let value: Int
        if c.dtype == .float32 {
            let f = c.pointer.assumingMemoryBound(to: Float.self)[0]
            guard f >= 1, f < 1e9 else { throw .invalidModel("\(label): depth \(f) must be at least 1") }
            value = Int(f)
        } else {
            value = c.integers().first ?? 0
        }
        guard value >= 1 else { throw .invalidModel("\(label): depth \(value) must be at least 1") }
        depth = value
        guard v.type.count == 2, v.type.rank == 1 else { throw .invalidModel("\(label): 'values' must be [off, on], not \(v.type.text)") }
        let shape = ind.type.shape
        let k = try normalizeAxis(axis, rank: shape.count + 1, what: label)
        outer = shape[..<k].reduce(1, *)
        inner = shape[k...].reduce(1, *)
        var out = shape
        out.insert(depth, at: k)
        guard checkedElementCount(out, limit: maxTensorElements) != nil else { throw .shape("\(label): output too large") }
        return [TensorType(v.type.dtype, out)]
    }

    func run(_ io: KernelIO) {
        let ind = io.input(0), v = io.input(2)
        guard let y = io.outputs[0] else { return }
        let size = v.type.dtype.size
        for o in 0..<outer {
            for i in 0..<inner {
                let j = o * inner + i
                var index: Int
                switch ind.type.dtype {
                case .int64: index = Int(truncatingIfNeeded: ind.typed(Int64.self)[j])
                case .int32: index = Int(ind.typed(Int32.self)[j])
                default:
                    let f = ind.typed(Float.self)[j]
                    index = f.isNaN || abs(f) > 1e9 ? Int.max : Int(f)
                }
                if index < 0 && index >= -depth { index += depth }
                for d in 0..<depth {
                    copyElements(v.pointer, d == index ? 1 : 0, y.pointer, (o * depth + d) * inner + i, 1, size)
                }
            }
        }
    }
}

/// `Pad` (13, 18+ with `axes`): `pads` known while planning ([begin..., end...], negative
/// values crop), optional scalar `constant_value`; modes constant, reflect, edge, wrap.
struct Pad {
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
        case let m: throw a.invalid("mode", "is '\(m)'; libd2l pads with constant, reflect, edge or wrap")
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

    func run(_ io: KernelIO) {
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
