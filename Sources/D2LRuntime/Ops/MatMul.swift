import _D2LSystem

/// `MatMul` (opset 13): numpy matrix product with 1-D promotion and broadcast batch
/// dimensions, float32.
struct MatMul: OperatorKernel {
    private(set) var m = 0, n = 0, k = 0
    /// Planned: broadcast batch dims and each side's matrix stride per batch dim.
    private(set) var batchDims: [Int] = []
    private(set) var strideA: [Int] = []
    private(set) var strideB: [Int] = []
    private(set) var batchCount = 1
    /// Set by fusion: input 2 (the addend) is added to the product, then `activation`
    /// applied. An addend of the output's shape is added by the gemm's epilogue; one that
    /// broadcasts is written into Y first (merged dims and strides below) and the
    /// product accumulated onto it.
    private(set) var activation = FusedActivation.none
    private(set) var fusedAddend = false
    private(set) var addendSameShape = false
    private(set) var addendDims: [Int] = []
    private(set) var addendStrides: [Int] = []

    /// Fusion (see Fusion.swift): `addend` is the shape of input 2 (nil: none), which
    /// broadcasts into `output`, the planned output shape.
    mutating func fuse(addend: [Int]?, output: [Int], activation: FusedActivation) {
        self.activation = activation
        fusedAddend = addend != nil
        guard let addend else { return }
        addendSameShape = addend.reduce(1, *) == output.reduce(1, *)
        if !addendSameShape {
            (addendDims, addendStrides, _) = broadcastStrides(out: output, addend, output)
        }
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let a = try required(inputs, 0, label), b = try required(inputs, 1, label)
        try requireFloat(a, label, "A")
        try requireFloat(b, label, "B")
        var sa = a.type.shape, sb = b.type.shape
        guard !sa.isEmpty, !sb.isEmpty else { throw .shape("\(label): MatMul inputs must have rank ≥ 1") }
        let promoteA = sa.count == 1, promoteB = sb.count == 1
        if promoteA { sa.insert(1, at: 0) }
        if promoteB { sb.append(1) }
        m = sa[sa.count - 2]; k = sa[sa.count - 1]
        n = sb[sb.count - 1]
        guard sb[sb.count - 2] == k else {
            throw .shape("\(label): cannot multiply \(a.type.text) by \(b.type.text) (inner dimensions differ)")
        }
        let batchA = Array(sa[..<(sa.count - 2)]), batchB = Array(sb[..<(sb.count - 2)])
        let batch = try broadcastShapes(batchA, batchB, label)
        var out = batch
        if !promoteA { out.append(m) }
        if !promoteB { out.append(n) }
        guard checkedElementCount(batch + [m, n], limit: maxTensorElements) != nil else {
            throw .shape("\(label): the product of \(a.type.text) and \(b.type.text) is too large")
        }
        batchDims = batch
        strideA = matrixStrides(batch, batchA, m * k)
        strideB = matrixStrides(batch, batchB, k * n)
        batchCount = batch.reduce(1, *)
        return [TensorType(.float32, out)]
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        guard let y = io.outputs[0]?.floats else { return }
        let a = UnsafePointer(io.input(0).floats), b = UnsafePointer(io.input(1).floats)
        var addend: UnsafePointer<Float>?
        if fusedAddend, io.inputs.count > 2, let v = io.inputs[2] { addend = UnsafePointer(v.floats) }
        var residual: UnsafePointer<Float>?
        var beta: Float = 0
        if let addend {
            if addendSameShape {
                residual = addend
            } else {
                broadcastInto(y, addend)
                beta = 1
            }
        }
        for batch in 0..<batchCount {
            var rest = batch, offA = 0, offB = 0
            var d = batchDims.count - 1
            while d >= 0 {
                let i = rest % batchDims[d]
                rest /= batchDims[d]
                offA += i * strideA[d]
                offB += i * strideB[d]
                d -= 1
            }
            gemmWithRowBias(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                            a: a + offA, lda: k, b: b + offB, ldb: n, beta: beta,
                            c: y + batch * m * n, ldc: n, rowBias: nil, pool: pool,
                            epilogue: Epilogue(residual: residual.map { $0 + batch * m * n }, activation: activation))
        }
    }

    /// y = the addend broadcast to the output (merged dims from `fuse`).
    private func broadcastInto(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>) {
        let rank = addendDims.count
        guard rank > 0 else { return }
        let inner = addendDims[rank - 1], stride = addendStrides[rank - 1]
        let total = addendDims.reduce(1, *)
        let rows = inner == 0 ? 0 : total / inner
        for row in 0..<rows {
            var rest = row, offset = 0
            var d = rank - 2
            while d >= 0 {
                offset += (rest % addendDims[d]) * addendStrides[d]
                rest /= addendDims[d]
                d -= 1
            }
            let source = x + offset, target = y + row * inner
            if stride == 0 {
                let v = source[0]
                for i in 0..<inner { target[i] = v }
            } else {
                for i in 0..<inner { target[i] = source[i] }
            }
        }
    }
}

/// Per broadcast batch dim, the element stride between consecutive matrices of an input
/// with batch shape `own` (0 where it broadcasts).
private func matrixStrides(_ batch: [Int], _ own: [Int], _ matrixSize: Int) -> [Int] {
    var result = [Int](repeating: 0, count: batch.count)
    var stride = matrixSize
    var i = batch.count - 1
    while i >= 0 {
        let j = i - (batch.count - own.count)
        let d = j >= 0 ? own[j] : 1
        result[i] = d == 1 ? 0 : stride
        stride *= d
        i -= 1
    }
    return result
}

extension MatMul {
    static let schema = OperatorSchema.noAttributes("MatMul", versions: [1, 9, 13], inputs: (2, 2), .matMul(MatMul()))
}
