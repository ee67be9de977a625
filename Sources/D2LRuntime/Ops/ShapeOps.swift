/// Operators that compute or rearrange shapes without arithmetic: `Shape` (13/15+),
/// `Squeeze`, `Unsqueeze` (13/21+), `Expand` (13), `Concat` (13), `Transpose` (13/21+),
/// `Slice` (13). Any dtype. Shape-like inputs (axes, starts, ...) must be known while
/// planning: constants, or small int64 tensors computed from constants and `Shape`.

/// `Shape`: the input's dimensions [start, end) as int64 (15+: `start`, `end`, clamped).
struct Shape {
    let start: Int
    let end: Int?
    private(set) var dims: [Int] = []

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(version >= 15 ? ["start", "end"] : [])
        start = try a.int("start", default: 0)
        end = a.has("end") ? try a.int("end", default: 0) : nil
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let shape = try required(inputs, 0, label).type.shape
        let r = shape.count
        func clamp(_ v: Int) -> Int { let w = v < 0 ? v + r : v; return min(max(w, 0), r) }
        let s = clamp(start), e = clamp(end ?? r)
        dims = s < e ? Array(shape[s..<e]) : []
        return [TensorType(.int64, [dims.count])]
    }

    func run(_ io: KernelIO) {
        guard let y = io.outputs[0]?.typed(Int64.self) else { return }
        for (i, d) in dims.enumerated() { y[i] = Int64(d) }
    }
}

/// `Squeeze`: removes the size-1 dimensions listed in `axes` (all of them when omitted).
struct Squeeze {
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let shape = x.type.shape
        var drop: [Int]
        if let axes = try planTimeInts(inputs, 1, label, "axes") {
            drop = try normalizeAxes(axes, rank: shape.count, label)
            for k in drop where shape[k] != 1 {
                throw .shape("\(label): cannot squeeze axis \(k) of \(x.type.text): its size is not 1")
            }
        } else {
            drop = []
            for (k, d) in shape.enumerated() where d == 1 { drop.append(k) }
        }
        var out: [Int] = []
        for (k, d) in shape.enumerated() where !drop.contains(k) { out.append(d) }
        return [TensorType(x.type.dtype, out)]
    }
}

/// `Unsqueeze`: inserts size-1 dimensions at `axes` (positions in the output).
struct Unsqueeze {
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        let axes = try planTimeInts(inputs, 1, label, "axes") ?? []
        let rank = x.type.rank + axes.count
        let positions = try normalizeAxes(axes, rank: rank, label)
        var out: [Int] = []
        var next = 0
        for k in 0..<rank {
            if positions.contains(k) { out.append(1) } else { out.append(x.type.shape[next]); next += 1 }
        }
        return [TensorType(x.type.dtype, out)]
    }
}

/// `Expand`: broadcasts the input against `shape` (numpy rules, both ways).
struct Expand {
    private(set) var strides: [Int] = []
    private(set) var outShape: [Int] = []

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        let requested = try planTimeInts(inputs, 1, label, "shape") ?? []
        guard inputs[1]?.type.rank == 1 else { throw .invalidModel("\(label): 'shape' must be 1-D") }
        for d in requested where d < 0 {
            throw .shape("\(label): invalid dimension \(d) in shape \(shapeText(requested))")
        }
        outShape = try broadcastShapes(x.type.shape, requested, label)
        strides = broadcastOperandStrides(x.type.shape, to: outShape)
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: 0, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}

/// `Concat`: joins inputs of one dtype and rank along `axis`.
struct Concat {
    let axis: Int
    private(set) var outer = 0
    /// Elements each input contributes per outer index.
    private(set) var blocks: [Int] = []

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        guard a.has("axis") else { throw a.invalid("axis", "is required") }
        axis = try a.int("axis", default: 0)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let first = try required(inputs, 0, label)
        let rank = first.type.rank
        guard rank > 0 else { throw .shape("\(label): cannot concatenate scalars") }
        let k = try normalizeAxis(axis, rank: rank, what: label)
        var shape = first.type.shape
        shape[k] = 0
        blocks = []
        for i in 0..<inputs.count {
            let t = try required(inputs, i, label).type
            guard t.dtype == first.type.dtype else {
                throw .invalidModel("\(label): input #\(i) is \(t.dtype.name), input #0 is \(first.type.dtype.name)")
            }
            guard t.rank == rank else { throw .shape("\(label): input #\(i) is \(t.text), input #0 is \(first.type.text)") }
            for d in 0..<rank where d != k && t.shape[d] != shape[d] {
                throw .shape("\(label): input #\(i) is \(t.text), which does not match \(first.type.text) outside axis \(k)")
            }
            guard let s = checkedAdd(shape[k], t.shape[k]) else { throw .shape("\(label): output too large") }
            shape[k] = s
            blocks.append(t.shape[k...].reduce(1, *))
        }
        outer = shape[..<k].reduce(1, *)
        return [TensorType(first.type.dtype, shape)]
    }

    func run(_ io: KernelIO) {
        guard let y = io.outputs[0] else { return }
        let size = y.type.dtype.size
        var total = 0
        for b in blocks { total += b }
        var column = 0
        for (i, b) in blocks.enumerated() {
            let x = io.input(i).pointer
            for o in 0..<outer { copyElements(x, o * b, y.pointer, o * total + column, b, size) }
            column += b
        }
    }
}

/// `Transpose`: permutes dimensions by `perm` (reversed when absent).
struct Transpose {
    let perm: [Int]?
    private(set) var strides: [Int] = []
    private(set) var outShape: [Int] = []

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["perm"])
        perm = try a.ints("perm")
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let rank = x.type.rank
        var p: [Int] = perm ?? Array((0..<rank).reversed())
        guard p.count == rank else {
            throw .invalidModel("\(label): perm \(shapeText(p)) does not list the \(rank) axes of \(x.type.text)")
        }
        p = try normalizeAxes(p, rank: rank, label)
        let inStrides = rowMajorStrides(x.type.shape)
        outShape = p.map { x.type.shape[$0] }
        strides = p.map { inStrides[$0] }
        return [TensorType(x.type.dtype, outShape)]
    }

    func run(_ io: KernelIO) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: 0, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}

/// `Slice` (13): `starts`, `ends`, optional `axes` and `steps`; negative values count
/// from the end and out-of-range values are clamped, as the spec says.
struct Slice {
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

    func run(_ io: KernelIO) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        stridedCopy(x.pointer, base: base, strides: strides, y.pointer, shape: outShape, size: x.type.dtype.size)
    }
}
