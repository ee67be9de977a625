import D2LRuntime

/// C = op(A) · op(B) through the runtime's GEMM (row-major; see `D2LRuntime.gemm`).
/// `beta` 1 accumulates into C.
func gemmInto(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
              _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
              beta: Float = 0) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { c.initialize(repeating: 0, count: m * n) }
        return
    }
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
         a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n,
         pool: ComputeThreads.pool)
}

/// The thread pool the toolkit's kernels use (nil = the calling thread only). Set with
/// `ComputeThreads.set(_:)`; 1 thread by default.
public enum ComputeThreads {
    nonisolated(unsafe) static var pool: ThreadPool?
    nonisolated(unsafe) public private(set) static var count = 1

    /// Runs kernels on `threads` threads (1 = no extra threads).
    public static func set(_ threads: Int) {
        count = Swift.max(1, threads)
        pool = count > 1 ? ThreadPool(threadCount: count) : nil
    }
}

extension Tensor {
    /// Two matrices' product op(a) · op(b) (untracked).
    static func matrixProduct(_ a: Tensor, transA: Bool, _ b: Tensor, transB: Bool) -> Tensor {
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        return make(shape: [m, n]) { out in
            a.withUnsafeValues { x in
                b.withUnsafeValues { y in
                    gemmInto(transA: transA, transB: transB, m: m, n: n, k: k, x.baseAddress!, y.baseAddress!, out)
                }
            }
        }
    }

    /// Matrix product with PyTorch's `matmul` rules: vector·vector (dot, a scalar),
    /// matrix·vector, vector·matrix, matrix·matrix, and batched `[B, n, k]·[B, k, m]`
    /// (or `[B, n, k]·[k, m]`).
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch (a.rank, b.rank) {
        case (1, 1):
            precondition(a.count == b.count, "matmul: vectors of lengths \(a.count) and \(b.count)")
            return (a * b).sum()
        case (2, 1):
            return matmul(a, b.reshaped([-1, 1])).reshaped([a.shape[0]])
        case (1, 2):
            return matmul(a.reshaped([1, -1]), b).reshaped([b.shape[1]])
        case (2, 2):
            precondition(a.shape[1] == b.shape[0], "matmul: shapes \(a.shape) and \(b.shape) do not multiply")
            let value = matrixProduct(a, transA: false, b, transB: false)
            return record("matmul", value, inputs: [a, b]) { g in
                [a.node == nil ? nil : matrixProduct(g, transA: false, b, transB: true),
                 b.node == nil ? nil : matrixProduct(a, transA: true, g, transB: false)]
            }
        case (3, 2):
            precondition(a.shape[2] == b.shape[0], "matmul: shapes \(a.shape) and \(b.shape) do not multiply")
            return matmul(a.reshaped([-1, a.shape[2]]), b).reshaped([a.shape[0], a.shape[1], b.shape[1]])
        case (3, 3):
            precondition(a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1],
                         "matmul: shapes \(a.shape) and \(b.shape) do not multiply")
            let items = (0..<a.shape[0]).map { matmul(a[$0], b[$0]) }
            return stack(items, axis: 0)
        default:
            preconditionFailure("matmul: shapes \(a.shape) and \(b.shape) are not supported (ranks 1–3)")
        }
    }

    /// Matrix product (`self @ other`).
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
    /// Dot product of two vectors.
    public func dot(_ other: Tensor) -> Tensor {
        precondition(rank == 1 && other.rank == 1, "dot: needs two vectors, got \(shape) and \(other.shape)")
        return Tensor.matmul(self, other)
    }
    /// Matrix–vector product.
    public func mv(_ vector: Tensor) -> Tensor {
        precondition(rank == 2 && vector.rank == 1, "mv: needs a matrix and a vector, got \(shape) and \(vector.shape)")
        return Tensor.matmul(self, vector)
    }
    /// Matrix–matrix product.
    public func mm(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "mm: needs two matrices, got \(shape) and \(other.shape)")
        return Tensor.matmul(self, other)
    }

    /// `x · weightᵀ + bias` for x `[n, in]`, weight `[out, in]`, bias `[out]` — the fully
    /// connected layer (`F.linear`) in one GEMM, with the bias added in the same pass.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) and weight \(weight.shape) do not fit")
        let n = x.shape[0], outputs = weight.shape[0]
        var value = matrixProduct(x, transA: false, weight, transB: true)
        if let bias {
            precondition(bias.shape == [outputs], "linear: bias \(bias.shape) for \(outputs) outputs")
            value.withUnsafeMutableValues { y in
                bias.withUnsafeValues { b in
                    for r in 0..<n { for c in 0..<outputs { y[r * outputs + c] += b[c] } }
                }
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return record("linear", value, inputs: inputs) { g in
            var grads: [Tensor?] = [
                x.node == nil ? nil : matrixProduct(g, transA: false, weight, transB: false),
                weight.node == nil ? nil : matrixProduct(g, transA: true, x, transB: false),
            ]
            if bias != nil { grads.append(g.sum(axis: 0)) }
            return grads
        }
    }
}
