/// Finding a graph input or output by name (`d2l_model_input_index`,
/// `d2l_model_output_index`), with a message that lists what the model has.
extension Model {
    /// The index of the graph input named `name` (compared byte for byte, as C strings).
    /// - Throws: D2L_ERR_INVALID_ARGUMENT naming the model's inputs when none has that name.
    public func inputIndex(named name: String) throws(D2LError) -> Int {
        try index(of: name, in: inputs, kind: "input")
    }

    /// The index of the graph output named `name` (compared byte for byte).
    /// - Throws: D2L_ERR_INVALID_ARGUMENT naming the model's outputs when none has that name.
    public func outputIndex(named name: String) throws(D2LError) -> Int {
        try index(of: name, in: outputs, kind: "output")
    }

    private func index(of name: String, in values: [ValueInfo], kind: String) throws(D2LError) -> Int {
        for (i, value) in values.enumerated() where value.name.utf8.elementsEqual(name.utf8) { return i }
        throw .invalidArgument("the model has no \(kind) \(quoted(name)); \(describeNames(values.map { $0.name }, kind: kind))")
    }
}

/// The most names a lookup message lists before it abbreviates.
let listedNameLimit = 8

/// `its inputs are 'x', 'h'`, `its input is 'x'`, `it has no inputs`, or for many names
/// `its 20 inputs are 'a', 'b', … (12 more)`: the first ``listedNameLimit``, quoted.
func describeNames(_ names: [String], kind: String) -> String {
    if names.isEmpty { return "it has no \(kind)s" }
    if names.count == 1 { return "its \(kind) is \(quoted(names[0]))" }
    var text = names.count > listedNameLimit ? "its \(names.count) \(kind)s are " : "its \(kind)s are "
    for (i, name) in names.prefix(listedNameLimit).enumerated() {
        text += (i > 0 ? ", " : "") + quoted(name)
    }
    if names.count > listedNameLimit { text += ", … (\(names.count - listedNameLimit) more)" }
    return text
}
