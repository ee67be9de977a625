import _D2LSystem

/// `Gemm` (opset 13): Y = alpha · A' · B' + beta · C, where A' is A or Aᵀ (`transA`),
/// B' is B or Bᵀ (`transB`), A' is [M, K], B' is [K, N], and C (optional) broadcasts
/// unidirectionally to [M, N]. float32.
struct Gemm: OperatorKernel {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool
    private(set) var m = 0, n = 0, k = 0
    /// Planned: how C broadcasts over Y (strides in C per row and column; 0 = broadcast).
    private(set) var cRowStride = 0, cColumnStride = 0
    private(set) var hasC = false
    /// Set by fusion: applied to each output value as the product stores it.
    private(set) var activation = FusedActivation.none

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["alpha", "beta", "transA", "transB"])
        alpha = try a.float("alpha", default: 1)
        beta = try a.float("beta", default: 1)
        transA = try a.flag("transA", default: false)
        transB = try a.flag("transB", default: false)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let a = try required(inputs, 0, label), b = try required(inputs, 1, label)
        try requireFloat(a, label, "A")
        try requireFloat(b, label, "B")
        guard a.type.rank == 2, b.type.rank == 2 else {
            throw .shape("\(label): A and B must be 2-D, got \(a.type.text) and \(b.type.text)")
        }
        m = transA ? a.type.shape[1] : a.type.shape[0]
        k = transA ? a.type.shape[0] : a.type.shape[1]
        let kb = transB ? b.type.shape[1] : b.type.shape[0]
        n = transB ? b.type.shape[0] : b.type.shape[1]
        guard k == kb else {
            throw .shape("\(label): A' is [\(m), \(k)] but B' is [\(kb), \(n)] (inner dimensions differ)")
        }
        hasC = false
        if inputs.count > 2, let c = inputs[2] {
            try requireFloat(c, label, "C")
            let s = c.type.shape
            guard s.count <= 2 else { throw .shape("\(label): C must have rank ≤ 2, got \(c.type.text)") }
            let rows = s.count == 2 ? s[0] : 1
            let cols = s.count >= 1 ? s[s.count - 1] : 1
            guard rows == 1 || rows == m, cols == 1 || cols == n else {
                throw .shape("\(label): C \(c.type.text) does not broadcast to [\(m), \(n)]")
            }
            cRowStride = rows == 1 ? 0 : cols
            cColumnStride = cols == 1 ? 0 : 1
            hasC = true
        }
        return [TensorType(.float32, [m, n])]
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        guard let y = io.outputs[0]?.floats else { return }
        let a = UnsafePointer(io.input(0).floats), b = UnsafePointer(io.input(1).floats)
        var betaUsed: Float = 0
        if hasC, beta != 0, io.inputs.count > 2, let cv = io.inputs[2] {
            let c = UnsafePointer(cv.floats)
            for i in 0..<m {
                for j in 0..<n { y[i * n + j] = c[i * cRowStride + j * cColumnStride] }
            }
            betaUsed = beta
        }
        gemmWithRowBias(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n,
                        beta: betaUsed, c: y, ldc: n, rowBias: nil, pool: pool,
                        epilogue: Epilogue(residual: nil, activation: activation))
    }

    /// Fusion (see Fusion.swift): `activation` on each output value.
    mutating func fuse(activation: FusedActivation) {
        self.activation = activation
    }
}

extension Gemm {
    static let schema = OperatorSchema("Gemm", versions: [1, 6, 7, 9, 11, 13], inputs: (2, 3)) { a, _ throws(D2LError) in .gemm(try Gemm(a)) }
}
