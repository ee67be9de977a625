import _D2LKernels

/// Vectorised elementwise math through the active kernel variant (template/vector.h and
/// template/elementwise.h in Sources/_D2LKernels), tested against the scalar libm
/// versions of the reference kernels (ElementwiseUnary's `reference`). x and y may be
/// the same buffer.

/// y[i] = 1 / (1 + e^-x[i]) for i < n.
public func sigmoidVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_SIGMOID), x, y, n)
}

/// y[i] = max(x[i], 0) for i < n (NaN stays NaN).
public func reluVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_RELU), x, y, n)
}

/// y[i] = tanh x[i] for i < n (within ≈ 2·10⁻⁷ of libm's tanhf).
public func tanhVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_TANH), x, y, n)
}

/// y[i] = e^x[i] for i < n (within 2 ulp of libm's expf; inputs clamped to [-87.3, 88.7]).
public func expVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_EXP), x, y, n)
}

@inline(__always)
private func unaryVector(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if n <= 0 { return }
    Kernels.active.table.pointee.unary(op, x, y, n)
}

/// y[i] = a[i] + b[i] for i < n (y may be a or b).
public func addVector(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      _ n: Int) {
    if n <= 0 { return }
    Kernels.active.table.pointee.binary(Int32(D2L_K_BINARY_ADD), a, 1, b, 1, y, n)
}

/// Σ x[i] for i < n (4·VL partial sums).
public func sumVector(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.sum(x, n)
}

/// Σ (x[i] − mean)² for i < n.
public func sumSquaredDeviationVector(_ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.sum_squared_deviation(x, n, mean)
}

/// Σ a[i] · (x[i] − mean) for i < n.
public func dotCenteredVector(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.dot_centered(a, x, n, mean)
}
