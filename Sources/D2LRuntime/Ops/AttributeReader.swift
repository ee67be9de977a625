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
            throw .unsupported("\(label) has attribute '\(a.name)', which libd2l does not support for this operator")
        }
    }

    private func find(_ name: String) -> AttributeValue? {
        for a in attributes where a.name == name { return a.value }
        return nil
    }

    func has(_ name: String) -> Bool { find(name) != nil }

    func int(_ name: String, default value: Int) throws(D2LError) -> Int {
        guard let v = find(name) else { return value }
        guard case .int(let i) = v else { throw wrongType(name, "an int") }
        return i
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

    func ints(_ name: String) throws(D2LError) -> [Int]? {
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
        .invalidModel("attribute '\(name)' of \(label) must be \(expected)")
    }

    func invalid(_ name: String, _ problem: String) -> D2LError {
        .invalidModel("attribute '\(name)' of \(label) \(problem)")
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
