import _D2LKernels

/// Vectorised elementwise math through the active kernel variant (template/vector.h and
/// template/elementwise.h in Sources/_D2LKernels), tested against the scalar libm
/// versions of the reference kernels (ElementwiseUnary's `reference`). x and y may be
/// the same buffer.

/// y[i] = 1 / (1 + e^-x[i]) for i < n.
package func sigmoidVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_SIGMOID), x, y, n)
}

/// y[i] = max(x[i], 0) for i < n (NaN stays NaN).
package func reluVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_RELU), x, y, n)
}

/// y[i] = tanh x[i] for i < n (within ≈ 2·10⁻⁷ of libm's tanhf).
package func tanhVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_TANH), x, y, n)
}

/// y[i] = e^x[i] for i < n (within 2 ulp of libm's expf; inputs clamped to [-87.3, 88.7]).
package func expVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    unaryVector(Int32(D2L_K_UNARY_EXP), x, y, n)
}

@inline(__always)
private func unaryVector(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if n <= 0 { return }
    Kernels.active.table.pointee.unary(op, x, y, n)
}

/// y[i] = a[i] + b[i] for i < n (y may be a or b).
package func addVector(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      _ n: Int) {
    if n <= 0 { return }
    Kernels.active.table.pointee.binary(Int32(D2L_K_BINARY_ADD), a, 1, b, 1, y, n)
}

/// Softmax along the middle axis of x and y `[outer, length, inner]` row-major (max
/// subtracted first), the runtime's `Softmax` and the toolkit's `softmax(axis:)`. x and y
/// may be the same buffer.
package func softmaxVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           outer: Int, length: Int, inner: Int) {
    if outer <= 0 || length <= 0 || inner <= 0 { return }
    Kernels.active.table.pointee.softmax(x, y, outer, length, inner)
}

/// y[o, i] = Σ_l x[o, l, i] over x `[outer, length, inner]` row-major into y
/// `[outer, inner]`: the toolkit's `sum(axis:)` and the runtime's float ReduceSum and
/// ReduceMean over one run of adjacent axes. Rows of `inner` are added with the kernel
/// variant's `binary`, runs of `length` (inner = 1) with its `sum`. x and y must not overlap.
package func sumAlongAxis(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          outer: Int, length: Int, inner: Int) {
    if outer <= 0 || inner <= 0 { return }
    if inner == 1 {
        for o in 0..<outer { y[o] = sumVector(x + o &* length, length) }
        return
    }
    for o in 0..<outer {
        let dst = y + o &* inner
        if length <= 0 { dst.initialize(repeating: 0, count: inner); continue }
        dst.update(from: x + o &* length &* inner, count: inner)
        for l in 1..<length { addVector(dst, x + (o &* length &+ l) &* inner, dst, inner) }
    }
}

/// Σ x[i] for i < n (4·VL partial sums).
package func sumVector(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.sum(x, n)
}

/// Σ (x[i] − mean)² for i < n.
package func sumSquaredDeviationVector(_ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.sum_squared_deviation(x, n, mean)
}

/// Σ a[i] · (x[i] − mean) for i < n.
package func dotCenteredVector(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    n <= 0 ? 0 : Kernels.active.table.pointee.dot_centered(a, x, n, mean)
}

/// dst[r·dstStride + j] += src[r·srcStride + j] for r < rows, j < width (not overlapping).
package func addBlock(_ src: UnsafePointer<Float>, srcStride: Int, _ dst: UnsafeMutablePointer<Float>, dstStride: Int,
                     rows: Int, width: Int) {
    if rows <= 0 || width <= 0 { return }
    Kernels.active.table.pointee.add_block(src, srcStride, dst, dstStride, rows, width)
}

/// dst[r·dstStride + j] = src[r·srcStride + j] for r < rows, j < width (not overlapping).
package func copyBlock(_ src: UnsafePointer<Float>, srcStride: Int, _ dst: UnsafeMutablePointer<Float>, dstStride: Int,
                      rows: Int, width: Int) {
    if rows <= 0 || width <= 0 { return }
    Kernels.active.table.pointee.copy_block(src, srcStride, dst, dstStride, rows, width)
}

/// An activation whose forward and backward the toolkit runs through the kernels.
package enum VectorActivation: Sendable {
    case relu, sigmoid, tanh

    var kernelCode: Int32 {
        switch self {
        case .relu: return Int32(D2L_K_ACT_RELU)
        case .sigmoid: return Int32(D2L_K_ACT_SIGMOID)
        case .tanh: return Int32(D2L_K_ACT_TANH)
        }
    }
}

/// y[i] = act(x[i]) for i < n, split over `pool`'s threads when n is large (x may be y).
package func activationVector(_ activation: VectorActivation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                             _ n: Int, pool: ThreadPool? = nil) {
    let op: Int32
    switch activation {
    case .relu: op = Int32(D2L_K_UNARY_RELU)
    case .sigmoid: op = Int32(D2L_K_UNARY_SIGMOID)
    case .tanh: op = Int32(D2L_K_UNARY_TANH)
    }
    let table = Kernels.active.table
    forEachVectorChunk(n, pool) { start, count in table.pointee.unary(op, x + start, y + start, count) }
}

/// dx[i] = dy[i] · act'(y[i]) for i < n, with y the activation's output (ReLU: dy·[y > 0],
/// sigmoid: dy·y·(1 − y), tanh: dy·(1 − y²)), split over `pool`'s threads when n is large.
package func activationBackwardVector(_ activation: VectorActivation, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                     dx: UnsafeMutablePointer<Float>, _ n: Int, pool: ThreadPool? = nil) {
    let table = Kernels.active.table
    let code = activation.kernelCode
    forEachVectorChunk(n, pool) { start, count in
        table.pointee.activation_backward(code, dy + start, y + start, dx + start, count)
    }
}

/// Elements below which an elementwise loop runs on the calling thread.
private let vectorParallelThreshold = 1 << 15

/// body(start, count) over [0, n) in chunks of whole 16-float blocks: spread over `pool`
/// when n ≥ 32 K and the pool has threads, else one call.
@inline(__always)
func forEachVectorChunk(_ n: Int, _ pool: ThreadPool?, _ body: (Int, Int) -> Void) {
    if n <= 0 { return }
    guard let pool, pool.threadCount > 1, n >= vectorParallelThreshold else {
        body(0, n)
        return
    }
    let chunks = min(pool.threadCount &* 2, n / 8192)
    let step = (n / chunks &+ 15) & ~15
    pool.parallelFor(chunks) { c in
        let start = c &* step
        if start < n { body(start, min(step, n &- start)) }
    }
}
