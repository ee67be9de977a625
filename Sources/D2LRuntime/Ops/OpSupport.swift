import _D2LSystem

/// Helpers shared by the operators of `Ops/`: numeric element types for generic kernels,
/// plan-time integer inputs, axes, strides and dtype dispatch.

/// An element type a generic kernel computes in. Protocol constraints (not existentials)
/// are fine in Embedded Swift; bool tensors are computed as `UInt8`.
protocol D2LNumber: Comparable {
    var asDouble: Double { get }
    /// The value converted from `d`: integers truncate toward zero, saturate at their range
    /// and take 0 for NaN (Swift's initializers would trap).
    static func fromDouble(_ d: Double) -> Self
    static var zero: Self { get }
    /// The smallest value (-infinity for floats): the start of a max reduction.
    static var lowest: Self { get }
    /// Addition that wraps for integers (never traps).
    func plus(_ o: Self) -> Self
}

extension Float: D2LNumber {
    var asDouble: Double { Double(self) }
    static func fromDouble(_ d: Double) -> Float { Float(d) }
    func plus(_ o: Float) -> Float { self + o }
    static var lowest: Float { -.infinity }
}

extension Int64: D2LNumber {
    var asDouble: Double { Double(self) }
    static func fromDouble(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9.2233720368547748e18 { return .max }
        if d <= -9.2233720368547758e18 { return .min }
        return Int64(d)
    }
    func plus(_ o: Int64) -> Int64 { self &+ o }
    static var lowest: Int64 { .min }
}

extension Int32: D2LNumber {
    var asDouble: Double { Double(self) }
    static func fromDouble(_ d: Double) -> Int32 {
        if d.isNaN { return 0 }
        if d >= 2147483647 { return .max }
        if d <= -2147483648 { return .min }
        return Int32(d)
    }
    func plus(_ o: Int32) -> Int32 { self &+ o }
    static var lowest: Int32 { .min }
}

extension UInt8: D2LNumber {
    var asDouble: Double { Double(self) }
    static func fromDouble(_ d: Double) -> UInt8 {
        if d.isNaN || d <= 0 { return 0 }
        if d >= 255 { return 255 }
        return UInt8(d)
    }
    func plus(_ o: UInt8) -> UInt8 { self &+ o }
    static var lowest: UInt8 { .min }
}

extension TensorView {
    @inline(__always) func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> { pointer.assumingMemoryBound(to: T.self) }
}

/// Row-major strides of `shape`, in elements.
package func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    var i = shape.count - 1
    while i >= 0 { s[i] = acc; acc *= shape[i]; i -= 1 }
    return s
}

/// The values of an optional integer input that must be known while planning (a
/// constant, or computed from constants and shapes); nil when the input is omitted.
func planTimeInts(_ inputs: [PlanInput?], _ i: Int, _ label: String, _ what: String) throws(D2LError) -> [Int]? {
    guard i < inputs.count, let input = inputs[i] else { return nil }
    guard input.type.dtype == .int64 || input.type.dtype == .int32 else {
        throw .invalidModel("\(label): \(quoted(what)) must be int64, not \(input.type.dtype.name)")
    }
    guard let c = input.constant else {
        throw .unsupported("\(label): \(quoted(what)) must be known when planning (a constant or computed from constants and shapes)")
    }
    return c.integers()
}

/// Normalised, duplicate-free axes for a tensor of `rank`.
func normalizeAxes(_ axes: [Int], rank: Int, _ label: String) throws(D2LError) -> [Int] {
    var out: [Int] = []
    for a in axes {
        let k = try normalizeAxis(a, rank: rank, what: label)
        if out.contains(k) { throw .invalidModel("\(label): axis \(a) is repeated in \(shapeText(axes))") }
        out.append(k)
    }
    return out
}

/// Throws unless `t` is one of `allowed`.
func requireDType(_ t: PlanInput, _ allowed: [DType], _ label: String, _ which: String) throws(D2LError) {
    guard allowed.contains(t.type.dtype) else {
        var names = ""
        for (i, d) in allowed.enumerated() { names += (i > 0 ? ", " : "") + d.name }
        throw .unsupported("\(label): input \(quoted(which)) is \(t.type.dtype.name); this operator takes \(names)")
    }
}

/// Copies `count` elements of `size` bytes from x[xi...] to y[yi...] (element indices).
@inline(__always)
func copyElements(_ x: UnsafeRawPointer, _ xi: Int, _ y: UnsafeMutableRawPointer, _ yi: Int, _ count: Int, _ size: Int) {
    if count > 0 { memcpy(y + yi * size, x + xi * size, count * size) }
}

/// Walks every element of `shape` in row-major order, keeping for each of `strides`
/// (one list per operand, one stride per dimension) the operand's element offset.
/// `body(outputIndex, offsets)`. The plain reference way to broadcast N operands. Its
/// counters live on the stack: a run allocates nothing.
func forEachIndex(_ shape: [Int], _ strides: [[Int]], _ body: (Int, UnsafeMutableBufferPointer<Int>) -> Void) {
    let rank = shape.count
    let count = shape.reduce(1, *)
    if count == 0 { return }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: rank &+ strides.count) { counters in
        counters.initialize(repeating: 0)
        let index = UnsafeMutableBufferPointer(rebasing: counters[0..<rank])
        let offsets = UnsafeMutableBufferPointer(rebasing: counters[rank...])
        for n in 0..<count {
            body(n, offsets)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                for k in 0..<strides.count { offsets[k] += strides[k][d] }
                if index[d] < shape[d] { break }
                for k in 0..<strides.count { offsets[k] -= strides[k][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// Strides of an operand of `shape` broadcast to `out` (0 along broadcast dimensions),
/// one per dimension of `out`.
package func broadcastOperandStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let own = rowMajorStrides(shape)
    var s = [Int](repeating: 0, count: out.count)
    for i in 0..<out.count {
        let j = i - (out.count - shape.count)
        if j >= 0 && shape[j] != 1 { s[i] = own[j] }
    }
    return s
}

/// y[n] = x[base + offset(n)] for every element n of `shape`, where the offset walks
/// `strides` (elements, per output dimension; negative and zero allowed). Any dtype.
func stridedCopy(_ x: UnsafeRawPointer, base: Int, strides: [Int], _ y: UnsafeMutableRawPointer, shape: [Int], size: Int) {
    func go<T>(_: T.Type) {
        let xs = x.assumingMemoryBound(to: T.self) + base, ys = y.assumingMemoryBound(to: T.self)
        let rank = shape.count
        let count = shape.reduce(1, *)
        if count == 0 { return }
        // The output index, one counter per dimension, on the stack.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(rank, 1)) { index in
            index.initialize(repeating: 0)
            var offset = 0
            for n in 0..<count {
                ys[n] = xs[offset]
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    offset += strides[d]
                    if index[d] < shape[d] { break }
                    offset -= strides[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }
    switch size {
    case 1: go(UInt8.self)
    case 4: go(UInt32.self)
    default: go(UInt64.self)
    }
}
