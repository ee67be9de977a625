/// `Reshape` with an int64 `shape` input known while planning (a constant, or computed
/// from constants and `Shape`): 0 copies the input's dimension (unless
/// `allowzero`), one -1 is inferred.
struct Reshape: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    let allowZero: Bool

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(version >= 14 ? ["allowzero"] : [])
        allowZero = try a.flag("allowzero", default: false)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let s = try required(inputs, 1, label)
        guard s.type.dtype == .int64, s.type.rank == 1 else {
            throw .invalidModel("\(label): 'shape' must be a 1-D int64 tensor, not \(s.type.text)")
        }
        guard let constant = s.constant else {
            throw .unsupported("\(label): 'shape' must be known when planning (a constant, or computed from constants and Shape); this one depends on input data")
        }
        let requested = constant.integers()
        var shape: [Int] = []
        var inferred: Int?
        var known = 1
        for (i, d) in requested.enumerated() {
            if d == -1 {
                if inferred != nil { throw .shape("\(label): more than one -1 in shape \(shapeText(requested))") }
                inferred = i
                shape.append(1)
            } else if d == 0 && !allowZero {
                guard i < x.type.rank else {
                    throw .shape("\(label): shape \(shapeText(requested)) copies dimension \(i) of a rank-\(x.type.rank) input")
                }
                shape.append(x.type.shape[i])
                known *= x.type.shape[i]
            } else if d < 0 {
                throw .shape("\(label): invalid dimension \(d) in shape \(shapeText(requested))")
            } else {
                guard let k = checkedMultiply(known, d), k <= maxTensorElements else {
                    throw .shape("\(label): shape \(shapeText(requested)) is too large")
                }
                shape.append(d)
                known = k
            }
        }
        let count = x.type.count
        if let i = inferred {
            guard known > 0, count % known == 0 else {
                throw .shape("\(label): cannot reshape \(x.type.text) to \(shapeText(requested))")
            }
            shape[i] = count / known
        } else if known != count {
            throw .shape("\(label): cannot reshape \(x.type.text) (\(count) elements) to \(shapeText(requested))")
        }
        return [TensorType(x.type.dtype, shape)]
    }
}

extension Reshape {
    static let schema = OperatorSchema("Reshape", versions: [1, 5, 13, 14, 19, 21, 23, 24, 25], inputs: (2, 2),
                                       planTimeInputs: [1]) { a, version throws(D2LError) in .kernel(AnyOperatorKernel(try Reshape(a, version: version))) }
}
