import _D2LSystem
import _D2LKernels

/// `Add`, `Sub`, `Mul`, `Div` (13/14) on float32, int64 and int32; `Pow` (13/15: float32,
/// int64 or int32 base, any of those exponents); `Equal` (13/19: any dtype, bool output).
/// Multidirectional (numpy) broadcasting. Integer Add/Sub/Mul wrap, Div truncates toward
/// zero, and an integer division by zero gives 0 instead of trapping.
struct ElementwiseBinary {
    enum Kind { case add, sub, mul, div, pow, equal }
    let kind: Kind
    /// Planned: the output shape with adjacent dimensions merged where both inputs allow,
    /// and each input's element stride per merged dimension (0 where it broadcasts).
    private(set) var dims: [Int] = []
    private(set) var stridesA: [Int] = []
    private(set) var stridesB: [Int] = []
    private(set) var count = 0
    private(set) var typeA: DType = .float32
    private(set) var typeB: DType = .float32

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let a = try required(inputs, 0, label), b = try required(inputs, 1, label)
        var outType: DType
        switch kind {
        case .add, .sub, .mul, .div:
            try requireDType(a, [.float32, .int64, .int32], label, "A")
            guard a.type.dtype == b.type.dtype else {
                throw .invalidModel("\(label): inputs are \(a.type.dtype.name) and \(b.type.dtype.name); they must have the same type")
            }
            outType = a.type.dtype
        case .pow:
            try requireDType(a, [.float32, .int64, .int32], label, "X")
            try requireDType(b, [.float32, .int64, .int32], label, "Y")
            outType = a.type.dtype
        case .equal:
            guard a.type.dtype == b.type.dtype else {
                throw .invalidModel("\(label): inputs are \(a.type.dtype.name) and \(b.type.dtype.name); they must have the same type")
            }
            outType = .bool
        }
        typeA = a.type.dtype
        typeB = b.type.dtype
        let shape = try broadcastShapes(a.type.shape, b.type.shape, label)
        (dims, stridesA, stridesB) = broadcastStrides(out: shape, a.type.shape, b.type.shape)
        count = shape.reduce(1, *)
        return [TensorType(outType, shape)]
    }

    func run(_ io: KernelIO) {
        guard let y = io.outputs[0] else { return }
        let a = io.input(0).pointer, b = io.input(1).pointer
        switch kind {
        case .add, .sub, .mul, .div:
            switch typeA {
            case .float32: arithmetic(a, b, y.pointer, Float.self)
            case .int64: integer(a, b, y.pointer, Int64.self)
            case .int32: integer(a, b, y.pointer, Int32.self)
            default: break
            }
        case .pow:
            switch typeA {
            case .float32: powBase(a, b, y.pointer, Float.self)
            case .int64: powBase(a, b, y.pointer, Int64.self)
            case .int32: powBase(a, b, y.pointer, Int32.self)
            default: break
            }
        case .equal:
            switch typeA {
            case .float32: walk(a, b, y.pointer, Float.self, Float.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .int64: walk(a, b, y.pointer, Int64.self, Int64.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .int32: walk(a, b, y.pointer, Int32.self, Int32.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .uint8, .bool: walk(a, b, y.pointer, UInt8.self, UInt8.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            }
        }
    }

    /// Float Add/Sub/Mul/Div: each row of the planned broadcast through the kernel
    /// variant's `binary`.
    private func arithmetic(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, _ y: UnsafeMutableRawPointer, _: Float.Type) {
        let op: Int32
        switch kind {
        case .add: op = Int32(D2L_K_BINARY_ADD)
        case .sub: op = Int32(D2L_K_BINARY_SUB)
        case .mul: op = Int32(D2L_K_BINARY_MUL)
        default: op = Int32(D2L_K_BINARY_DIV)
        }
        let table = Kernels.active.table
        let af = UnsafePointer(a.assumingMemoryBound(to: Float.self))
        let bf = UnsafePointer(b.assumingMemoryBound(to: Float.self))
        let yf = y.assumingMemoryBound(to: Float.self)
        forEachRow { offA, sa, offB, sb, offY, n in
            table.pointee.binary(op, af + offA, sa, bf + offB, sb, yf + offY, n)
        }
    }

    /// Calls `body(offsetA, stepA, offsetB, stepB, offsetY, count)` for each row of the
    /// planned broadcast (steps are 0 or 1).
    @inline(__always)
    private func forEachRow(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = dims.count
        if rank == 0 {
            if count == 1 { body(0, 0, 0, 0, 0, 1) }
            return
        }
        let inner = dims[rank - 1]
        let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        let rows = inner == 0 ? 0 : count / inner
        for row in 0..<rows {
            let (offA, offB) = rowOffsets(row)
            body(offA, sa, offB, sb, row * inner, inner)
        }
    }

    /// Offsets of row `row` in A and B from its multi-index over the outer dims.
    @inline(__always)
    private func rowOffsets(_ row: Int) -> (Int, Int) {
        var rest = row, offA = 0, offB = 0
        var d = dims.count - 2
        while d >= 0 {
            let i = rest % dims[d]
            rest /= dims[d]
            offA += i * stridesA[d]
            offB += i * stridesB[d]
            d -= 1
        }
        return (offA, offB)
    }

    private func integer<T: FixedWidthInteger>(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer,
                                               _ y: UnsafeMutableRawPointer, _: T.Type) {
        switch kind {
        case .add: walk(a, b, y, T.self, T.self, T.self) { $0 &+ $1 }
        case .sub: walk(a, b, y, T.self, T.self, T.self) { $0 &- $1 }
        case .mul: walk(a, b, y, T.self, T.self, T.self) { $0 &* $1 }
        default:
            walk(a, b, y, T.self, T.self, T.self) { x, z in
                if z == 0 { return 0 }
                let (q, o) = x.dividedReportingOverflow(by: z)
                return o ? x : q // only T.min / -1 overflows; its wrapped quotient is T.min
            }
        }
    }

    private func powBase<X: D2LNumber>(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer,
                                       _ y: UnsafeMutableRawPointer, _: X.Type) {
        switch typeB {
        case .float32: walk(a, b, y, X.self, Float.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        case .int64: walk(a, b, y, X.self, Int64.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        case .int32: walk(a, b, y, X.self, Int32.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        default: break
        }
    }

    /// y = f(a, b) over the planned broadcast, row by row.
    @inline(__always)
    private func walk<A, B, Y>(_ ar: UnsafeMutableRawPointer, _ br: UnsafeMutableRawPointer, _ yr: UnsafeMutableRawPointer,
                               _: A.Type, _: B.Type, _: Y.Type, _ f: (A, B) -> Y) {
        let a = UnsafePointer(ar.assumingMemoryBound(to: A.self))
        let b = UnsafePointer(br.assumingMemoryBound(to: B.self))
        let y = yr.assumingMemoryBound(to: Y.self)
        let rank = dims.count
        if rank == 0 {
            if count == 1 { y[0] = f(a[0], b[0]) }
            return
        }
        let inner = dims[rank - 1]
        let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        let rows = inner == 0 ? 0 : count / inner
        for row in 0..<rows {
            let (offA, offB) = rowOffsets(row)
            rowLoop(a + offA, sa, b + offB, sb, y + row * inner, inner, f)
        }
    }
}

@inline(__always)
func rowLoop<A, B, Y>(_ a: UnsafePointer<A>, _ sa: Int, _ b: UnsafePointer<B>, _ sb: Int,
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

extension ElementwiseBinary {
    /// Add, Sub, Mul, Div, Pow and Equal: one kernel family, no attributes.
    static let schemas: [OperatorSchema] = [
        binary("Add", [1, 6, 7, 13, 14], .add), binary("Sub", [1, 6, 7, 13, 14], .sub),
        binary("Mul", [1, 6, 7, 13, 14], .mul), binary("Div", [1, 6, 7, 13, 14], .div),
        binary("Pow", [1, 7, 12, 13, 15], .pow), binary("Equal", [1, 7, 11, 13, 19], .equal),
    ]

    private static func binary(_ name: String, _ versions: [Int], _ kind: Kind) -> OperatorSchema {
        .noAttributes(name, versions: versions, inputs: (2, 2), .binary(ElementwiseBinary(kind)))
    }
}
