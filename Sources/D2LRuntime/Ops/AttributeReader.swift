/// Reads a node's attributes by the ONNX spec's names and defaults, refusing attributes
/// the operator does not define and values of the wrong type.
struct AttributeReader {
    let attributes: [Attribute]
    /// `Conv node 'conv1'`, for messages.
    let label: String

    init(_ node: NodeDescription, label: String) {
        attributes = node.attributes
        self.label = label
    }

    /// Throws D2L_ERR_UNSUPPORTED naming the first attribute not in `known`.
    func allowOnly(_ known: [String]) throws(D2LError) {
        for a in attributes where !known.contains(a.name) {
            throw .unsupported("\(label) has attribute \(quoted(a.name)), which libd2l does not support for this operator")
        }
    }

    private func find(_ name: String) -> AttributeValue? {
        for a in attributes where a.name == name { return a.value }
        return nil
    }

    func has(_ name: String) -> Bool { find(name) != nil }

    /// An int attribute. Values outside the 32-bit range are refused on every platform
    /// (no operator attribute the runtime reads needs them, and a model must behave the
    /// same on a 32-bit board as on a PC): `int64` and `clampedInt` read the others.
    func int(_ name: String, default value: Int) throws(D2LError) -> Int {
        let i = try int64(name, default: Int64(value))
        guard let fits = Int32(exactly: i) else { throw invalid(name, "has out-of-range value \(i)") }
        return Int(fits)
    }

    /// An int attribute as the file has it (Constant's `value_int`).
    func int64(_ name: String, default value: Int64) throws(D2LError) -> Int64 {
        guard let v = find(name) else { return value }
        guard case .int(let i) = v else { throw wrongType(name, "an int") }
        return i
    }

    /// An int attribute whose spec clamps it into range (Shape's `start` and `end`):
    /// INT64_MAX stays the largest Int.
    func clampedInt(_ name: String, default value: Int) throws(D2LError) -> Int {
        Int(clamping: try int64(name, default: Int64(value)))
    }

    func float(_ name: String, default value: Float) throws(D2LError) -> Float {
        guard let v = find(name) else { return value }
        guard case .float(let f) = v else { throw wrongType(name, "a float") }
        return f
    }

    func string(_ name: String, default value: String) throws(D2LError) -> String {
        guard let v = find(name) else { return value }
        guard case .string(let s) = v else { throw wrongType(name, "a string") }
        return s
    }

    /// An ints attribute; values outside the 32-bit range are refused, as `int`'s.
    func ints(_ name: String) throws(D2LError) -> [Int]? {
        guard let values = try int64s(name) else { return nil }
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for i in values {
            guard let fits = Int32(exactly: i) else { throw invalid(name, "has out-of-range value \(i)") }
            result.append(Int(fits))
        }
        return result
    }

    /// An ints attribute as the file has it (Constant's `value_ints`).
    func int64s(_ name: String) throws(D2LError) -> [Int64]? {
        guard let v = find(name) else { return nil }
        guard case .ints(let i) = v else { throw wrongType(name, "a list of ints") }
        return i
    }

    func floats(_ name: String) throws(D2LError) -> [Float]? {
        guard let v = find(name) else { return nil }
        guard case .floats(let f) = v else { throw wrongType(name, "a list of floats") }
        return f
    }

    func strings(_ name: String) throws(D2LError) -> [String]? {
        guard let v = find(name) else { return nil }
        guard case .strings(let s) = v else { throw wrongType(name, "a list of strings") }
        return s
    }

    func tensor(_ name: String) throws(D2LError) -> ConstantTensor? {
        guard let v = find(name) else { return nil }
        guard case .tensor(let t) = v else { throw wrongType(name, "a tensor") }
        return t
    }

    /// A 0/1 flag.
    func flag(_ name: String, default value: Bool) throws(D2LError) -> Bool {
        let v = try int(name, default: value ? 1 : 0)
        guard v == 0 || v == 1 else { throw invalid(name, "must be 0 or 1, not \(v)") }
        return v == 1
    }

    func wrongType(_ name: String, _ expected: String) -> D2LError {
        .invalidModel("attribute \(quoted(name)) of \(label) must be \(expected)")
    }

    func invalid(_ name: String, _ problem: String) -> D2LError {
        .invalidModel("attribute \(quoted(name)) of \(label) \(problem)")
    }
}

/// Normalises an axis in [-rank, rank) (or [-rank, rank] when `inclusive`) to [0, rank).
func normalizeAxis(_ axis: Int, rank: Int, inclusive: Bool = false, what: String) throws(D2LError) -> Int {
    let upper = inclusive ? rank : rank - 1
    guard axis >= -rank && axis <= upper else {
        throw .invalidModel("\(what): axis \(axis) is out of range for rank \(rank)")
    }
    return axis < 0 ? axis + rank : axis
}
