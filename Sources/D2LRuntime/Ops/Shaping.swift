/// Operators that only reinterpret or pass on their input: `Flatten` (13+), `Reshape`
/// (13, and 14+ with `allowzero`), `Identity`, and `Dropout` in inference mode. Their
/// kernel is `copyThrough`.

/// `Flatten`: `[d0, …, dn]` → `[d0·…·d(axis-1), d(axis)·…·dn]`, any dtype.
struct Flatten {
    let axis: Int

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["axis"])
        axis = try a.int("axis", default: 1)
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let shape = x.type.shape
        let k = try normalizeAxis(axis, rank: shape.count, inclusive: true, what: label)
        return [TensorType(x.type.dtype, [shape[..<k].reduce(1, *), shape[k...].reduce(1, *)])]
    }
}

/// `Reshape` with an int64 `shape` input known while planning (a constant, or computed
/// from constants and `Shape`): 0 copies the input's dimension (unless
/// `allowzero`), one -1 is inferred.
struct Reshape {
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

/// `Identity`: output = input, any dtype.
struct Identity {
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        [try required(inputs, 0, label).type]
    }
}

/// `Dropout` (13/22) in inference: output = input, optional mask = all true. A constant
/// `training_mode` of true is refused; `ratio` and `seed` are accepted and unused.
struct Dropout {
    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["seed"])
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        if inputs.count > 2, let mode = inputs[2] {
            guard let c = mode.constant, mode.type.dtype == .bool, mode.type.count == 1 else {
                throw .unsupported("\(label): 'training_mode' must be a constant bool (libd2l runs inference only)")
            }
            if c.integers().first == 1 {
                throw .unsupported("\(label): training_mode is true; libd2l runs inference only")
            }
        }
        return [x.type, TensorType(.bool, x.type.shape)]
    }
}
