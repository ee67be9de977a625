/// Overflow-checked size arithmetic. Everything that comes from a file or a caller goes
/// through these, because Swift traps on overflow and a trap kills the C caller.

/// The product of `dims` as an element count, or nil when a dimension is negative or the
/// product exceeds `limit`.
@inline(__always)
func checkedElementCount(_ dims: [Int], limit: Int = Int.max) -> Int? {
    var count = 1
    for d in dims {
        if d < 0 { return nil }
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        if overflow || p > limit { return nil }
        count = p
    }
    return count
}

@inline(__always)
func checkedMultiply(_ a: Int, _ b: Int) -> Int? {
    let (p, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : p
}

@inline(__always)
func checkedAdd(_ a: Int, _ b: Int) -> Int? {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? nil : s
}

/// Largest tensor the runtime accepts, in elements: 2^40 on 64-bit targets, Int.max / 16 on
/// 32-bit ones (armv7: 2^27), so that byte counts of 8-byte elements and sums of several
/// never overflow `Int`; far above any model this runtime is meant for.
let maxTensorElements = Int.bitWidth >= 64 ? 1 << 40 : Int.max >> 4

/// The 64-bit limit, which files are checked against first on every platform (so that a
/// model is refused for the same reason, with the same message, on a 32-bit board).
let maxFileTensorElements: Int64 = 1 << 40

/// Rounds `value` up to a multiple of `alignment` (a power of two).
@inline(__always)
func alignUp(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) & ~(alignment - 1)
}

/// Formats a shape as `[1, 3, 28, 28]`.
func shapeText(_ shape: [Int]) -> String {
    var wide: [Int64] = []
    for d in shape { wide.append(Int64(d)) }
    return shapeText(wide)
}

/// `shapeText` of dimensions as a file holds them (int64, also on 32-bit platforms).
func shapeText(_ shape: [Int64]) -> String {
    var s = "["
    for (i, d) in shape.enumerated() {
        if i > 0 { s += ", " }
        s += "\(d)"
    }
    return s + "]"
}
