/// What the loader knows about one ONNX operator before planning: its name, the versions
/// libd2l implements, how many inputs and outputs a node may have, which inputs planning
/// reads by value, and how to parse a node's attributes into an `Operator`.
///
/// Each operator declares its schema in its own file (`Conv.schema` in `Conv.swift`);
/// `Operator.registry` lists them, one line each. A struct of values and one function,
/// not a protocol: Embedded Swift has no `any Protocol` existentials.
struct OperatorSchema {
    /// The ONNX `op_type` (default domain).
    let name: String
    /// The operator's default-domain `since_version`s that libd2l implements (onnx
    /// 1.22.0, up to opset 27), ascending. A model's opset selects the newest one not
    /// above it; each operator implements the semantics of every version listed.
    let versions: [Int]
    /// Node inputs: at least `required` (named, not empty), at most `maximum`
    /// (`Int.max`: variadic). Optional inputs between may be empty names.
    let inputs: (required: Int, maximum: Int)
    /// Node outputs: at least `required`, at most `maximum`.
    let outputs: (required: Int, maximum: Int)
    /// Input positions whose values (not only types) `plan` reads, such as Reshape's
    /// shape: they must be known while planning (constants, or small int64 tensors
    /// computed from constants and `Shape`).
    let planTimeInputs: [Int]
    /// Parses and checks a node's attributes (`AttributeReader`, with the spec's names and
    /// defaults) for the operator version the model's opset selects.
    let make: (AttributeReader, _ version: Int) throws(D2LError) -> Operator

    init(_ name: String, versions: [Int], inputs: (required: Int, maximum: Int),
         outputs: (required: Int, maximum: Int) = (1, 1), planTimeInputs: [Int] = [],
         make: @escaping (AttributeReader, _ version: Int) throws(D2LError) -> Operator) {
        self.name = name
        self.versions = versions
        self.inputs = inputs
        self.outputs = outputs
        self.planTimeInputs = planTimeInputs
        self.make = make
    }

    /// The operator version `opset` selects: the newest listed one not above it, or nil.
    func version(forOpset opset: Int) -> Int? {
        var selected: Int?
        for v in versions where v <= opset { selected = v }
        return selected
    }

    /// An operator without attributes: any attribute is refused, by name.
    static func noAttributes(_ name: String, versions: [Int], inputs: (required: Int, maximum: Int),
                             planTimeInputs: [Int] = [], _ op: Operator) -> OperatorSchema {
        OperatorSchema(name, versions: versions, inputs: inputs, planTimeInputs: planTimeInputs) { a, _ throws(D2LError) in
            try a.allowOnly([])
            return op
        }
    }
}
