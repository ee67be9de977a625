import _D2LKernels

/// Numpy broadcasting of two operands, in one place for the runtime's elementwise binary
/// operators (`ElementwiseBinary`, and the shapes of Where, Expand, Sum/Max/Min, MatMul)
/// and the toolkit's tensor arithmetic.

/// The numpy broadcast of two shapes (align trailing dimensions; a dimension of 1
/// stretches), or nil when they do not broadcast.
package func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// The numpy broadcast of two shapes, or D2L_ERR_SHAPE naming both (also when the result
/// would be too large to address).
func broadcastShapes(_ a: [Int], _ b: [Int], _ label: String) throws(D2LError) -> [Int] {
    guard let out = broadcastShape(a, b) else {
        throw .shape("\(label): shapes \(shapeText(a)) and \(shapeText(b)) do not broadcast")
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

/// Two operands of shapes A and B broadcast to `shape`, planned once: the output's
/// dimensions merged where both operands allow, and each operand's element stride per
/// merged dimension (0 where it broadcasts). Walked one output row (the last merged
/// dimension) at a time, each row a contiguous, strided-by-0 or scalar run per operand.
package struct BroadcastPlan {
    /// The output shape.
    package let shape: [Int]
    /// Output elements.
    package let count: Int
    @usableFromInline let dims: [Int]
    @usableFromInline let stridesA: [Int]
    @usableFromInline let stridesB: [Int]

    /// The plan for A and B broadcast to `output` (their broadcast shape, checked by the caller).
    package init(output: [Int], _ a: [Int], _ b: [Int]) {
        shape = output
        count = output.reduce(1, *)
        (dims, stridesA, stridesB) = broadcastStrides(out: output, a, b)
    }

    /// The plan for A and B, or nil when they do not broadcast.
    package init?(_ a: [Int], _ b: [Int]) {
        guard let output = broadcastShape(a, b) else { return nil }
        self.init(output: output, a, b)
    }

    /// Calls `body(offsetA, stepA, offsetB, stepB, offsetY, count)` for each output row
    /// (steps are 0 or 1).
    /// (Inlinable so that the toolkit's closures are specialised into the loop.)
    @inlinable
    package func forEachRow(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = dims.count
        if rank == 0 {
            if count == 1 { body(0, 0, 0, 0, 0, 1) }
            return
        }
        let inner = dims[rank - 1]
        let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        let rows = inner == 0 ? 0 : count / inner
        for row in 0..<rows {
            // The row's offsets in A and B from its multi-index over the outer dims.
            var rest = row, offA = 0, offB = 0
            var d = rank - 2
            while d >= 0 {
                let i = rest % dims[d]
                rest /= dims[d]
                offA += i * stridesA[d]
                offB += i * stridesB[d]
                d -= 1
            }
            body(offA, sa, offB, sb, row * inner, inner)
        }
    }

    /// y = f(a, b) elementwise over the broadcast (any element types).
    @inlinable
    package func map<A, B, Y>(_ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ y: UnsafeMutablePointer<Y>,
                              _ f: (A, B) -> Y) {
        forEachRow { offA, sa, offB, sb, offY, n in
            rowLoop(a + offA, sa, b + offB, sb, y + offY, n, f)
        }
    }
}

/// The float32 arithmetic the kernel variants' `binary` computes.
package enum BinaryArithmetic {
    case add, sub, mul, div

    var kernelCode: Int32 {
        switch self {
        case .add: return Int32(D2L_K_BINARY_ADD)
        case .sub: return Int32(D2L_K_BINARY_SUB)
        case .mul: return Int32(D2L_K_BINARY_MUL)
        case .div: return Int32(D2L_K_BINARY_DIV)
        }
    }
}

/// y = a `op` b over `plan`, each row through the active kernel variant's `binary`.
package func broadcastArithmetic(_ op: BinaryArithmetic, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                 _ y: UnsafeMutablePointer<Float>, _ plan: BroadcastPlan) {
    let table = Kernels.active.table
    let code = op.kernelCode
    plan.forEachRow { offA, sa, offB, sb, offY, n in
        table.pointee.binary(code, a + offA, sa, b + offB, sb, y + offY, n)
    }
}

/// One row of a broadcast: y[i] = f(a[i·sa], b[i·sb]) for i < n, where each step is 0 or 1.
@inlinable
package func rowLoop<A, B, Y>(_ a: UnsafePointer<A>, _ sa: Int, _ b: UnsafePointer<B>, _ sb: Int,
                      _ y: UnsafeMutablePointer<Y>, _ n: Int, _ f: (A, B) -> Y) {
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
