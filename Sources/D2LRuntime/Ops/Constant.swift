/// `Constant`: a node that holds one tensor (`value`, `value_float(s)`, `value_int(s)`;
/// string and sparse values are refused). The graph builder turns each Constant node into
/// a constant value at load, so it never reaches planning or a kernel.
enum Constant {
    static let schema = OperatorSchema("Constant", versions: [1, 9, 11, 12, 13, 19, 21, 23, 24, 25], inputs: (0, 0)) {
        _, _ throws(D2LError) in throw D2LError(.internal, "Constant nodes are folded by the graph builder")
    }

    /// The tensor a `Constant` node holds (value, value_float(s), value_int(s)).
    static func value(_ node: NodeDescription, label: String) throws(D2LError) -> ConstantTensor {
        let a = AttributeReader(node, label: label)
        try a.allowOnly(["value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value"])
        guard node.attributes.count == 1 else {
            throw .invalidModel("\(label) must have exactly one value attribute")
        }
        if let t = try a.tensor("value") { return t }
        if a.has("value_float") { return try makeConstant(.float32, [], floats: [try a.float("value_float", default: 0)]) }
        if let v = try a.floats("value_floats") { return try makeConstant(.float32, [v.count], floats: v) }
        if a.has("value_int") { return try makeConstant(.int64, [], ints: [try a.int64("value_int", default: 0)]) }
        if let v = try a.int64s("value_ints") { return try makeConstant(.int64, [v.count], ints: v) }
        throw .unsupported("\(label): string and sparse constants are not supported")
    }
}
