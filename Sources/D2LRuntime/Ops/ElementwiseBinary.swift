import _D2LSystem

/// `Add`, `Sub`, `Mul`, `Div` (opset 13/14) on float32 with multidirectional (numpy)
/// broadcasting.
struct ElementwiseBinary {
    enum Kind { case add, sub, mul, div }
    let kind: Kind
    /// Planned: the output shape with adjacent dimensions merged where both inputs allow,
    /// and each input's element stride per merged dimension (0 where it broadcasts).
    private(set) var dims: [Int] = []
    private(set) var stridesA: [Int] = []
    private(set) var stridesB: [Int] = []
    private(set) var count = 0

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let a = try required(inputs, 0, label), b = try required(inputs, 1, label)
        try requireFloat(a, label, "A")
        try requireFloat(b, label, "B")
        let shape = try broadcastShapes(a.type.shape, b.type.shape, label)
        (dims, stridesA, stridesB) = broadcastStrides(out: shape, a.type.shape, b.type.shape)
        count = shape.reduce(1, *)
        return [TensorType(.float32, shape)]
    }

    func run(_ io: KernelIO) {
        let a = UnsafePointer(io.input(0).floats), b = UnsafePointer(io.input(1).floats)
        guard let yView = io.outputs[0] else { return }
        let y = yView.floats
        let rank = dims.count
        if rank == 0 {
            if count == 1 { y[0] = apply(a[0], b[0]) }
            return
        }
        let inner = dims[rank - 1]
        let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        let rows = inner == 0 ? 0 : count / inner
        for row in 0..<rows {
            // Offsets of this row in A and B from its multi-index over the outer dims.
            var rest = row, offA = 0, offB = 0
            var d = rank - 2
            while d >= 0 {
                let i = rest % dims[d]
                rest /= dims[d]
                offA += i * stridesA[d]
                offB += i * stridesB[d]
                d -= 1
            }
            applyRow(a + offA, sa, b + offB, sb, y + row * inner, inner)
        }
    }

    @inline(__always)
    private func apply(_ x: Float, _ z: Float) -> Float {
        switch kind {
        case .add: return x + z
        case .sub: return x - z
        case .mul: return x * z
        case .div: return x / z
        }
    }

    /// y[i] = a[i·sa] ∘ b[i·sb] for i < n, with sa, sb ∈ {0, 1}.
    @inline(__always)
    private func applyRow(_ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                          _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .add: rowLoop(a, sa, b, sb, y, n) { $0 + $1 }
        case .sub: rowLoop(a, sa, b, sb, y, n) { $0 - $1 }
        case .mul: rowLoop(a, sa, b, sb, y, n) { $0 * $1 }
        case .div: rowLoop(a, sa, b, sb, y, n) { $0 / $1 }
        }
    }
}

@inline(__always)
private func rowLoop(_ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ y: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float, Float) -> Float) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { y[i] = f(a[i], b[i]) }
    } else if sa == 1 {
        let bv = b[0]
        for i in 0..<n { y[i] = f(a[i], bv) }
    } else if sb == 1 {
        let av = a[0]
        for i in 0..<n { y[i] = f(av, b[i]) }
    } else {
        let v = f(a[0], b[0])
        for i in 0..<n { y[i] = v }
    }
}

/// The numpy broadcast of two shapes, or D2L_ERR_SHAPE.
func broadcastShapes(_ a: [Int], _ b: [Int], _ label: String) throws(D2LError) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da }
        else if da == 1 { out[i] = db }
        else { throw .shape("\(label): shapes \(shapeText(a)) and \(shapeText(b)) do not broadcast") }
    }
    guard checkedElementCount(out, limit: maxTensorElements) != nil else {
        throw .shape("\(label): broadcasting \(shapeText(a)) and \(shapeText(b)) gives a tensor that is too large")
    }
    return out
}

/// Merged output dims and per-input strides (0 where broadcast) for iterating `out`
/// row-major. Adjacent dims merge when each input is either contiguous across both or
/// broadcast across both.
func broadcastStrides(out: [Int], _ a: [Int], _ b: [Int]) -> ([Int], [Int], [Int]) {
    let rank = out.count
    func strides(_ s: [Int]) -> [Int] {
        var result = [Int](repeating: 0, count: rank)
        var stride = 1
        var i = rank - 1
        while i >= 0 {
            let j = i - (rank - s.count)
            let d = j >= 0 ? s[j] : 1
            result[i] = (d == 1 && out[i] != 1) ? 0 : stride
            stride *= d
            i -= 1
        }
        return result
    }
    let sa = strides(a), sb = strides(b)
    var dims: [Int] = [], ma: [Int] = [], mb: [Int] = []
    for i in 0..<rank {
        if out[i] == 1 { continue }
        if let last = dims.last,
           let la = ma.last, let lb = mb.last,
           la == sa[i] * out[i] || (la == 0 && sa[i] == 0),
           lb == sb[i] * out[i] || (lb == 0 && sb[i] == 0) {
            dims[dims.count - 1] = last * out[i]
            ma[ma.count - 1] = sa[i]
            mb[mb.count - 1] = sb[i]
        } else {
            dims.append(out[i]); ma.append(sa[i]); mb.append(sb[i])
        }
    }
    if dims.isEmpty { return ([1], [0], [0]) }
    return (dims, ma, mb)
}
