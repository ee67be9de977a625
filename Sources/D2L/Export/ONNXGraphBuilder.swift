import D2LRuntime

/// Builds one ONNX model (a single graph in the default domain) and serializes it to
/// `ModelProto` bytes through the package's protobuf-c binding.
///
/// Add graph inputs, initializers and nodes in topological order (every node reads only
/// what was added before it), declare the outputs, then call `serialize()`, which
/// validates the graph and throws `ToolkitError(.invalidArgument)` naming the problem.
///
///     var b = ONNXGraphBuilder()
///     b.addInput(name: "x", elementType: .float, shape: ["batch", 4])
///     let w = b.addInitializer(name: "fc.weight", shape: [3, 4], values: weights)
///     let y = b.addNode("Gemm", inputs: ["x", w], attributes: [.int("transB", 1)])
///     b.addOutput(name: y, elementType: .float, shape: ["batch", 3])
///     let bytes = try b.serialize()
public struct ONNXGraphBuilder: Sendable {
    /// `GraphProto.name`.
    public var graphName: String
    /// The default-domain opset imported.
    public var opset: Int
    /// `ModelProto.ir_version` (8 covers opsets up to 18).
    public var irVersion: Int = 8
    public var producerName: String = "d2l"
    /// `ModelProto.producer_version` (omitted when empty).
    public var producerVersion: String = ""
    /// `ModelProto.doc_string` (omitted when empty).
    public var docString: String = ""
    /// `ModelProto.metadata_props`, in order. Keys must be distinct.
    public var metadata: [(key: String, value: String)] = []

    public private(set) var inputs: [ONNXValueInfo] = []
    public private(set) var outputs: [ONNXValueInfo] = []
    public private(set) var initializers: [ONNXInitializer] = []
    public private(set) var nodes: [ONNXNode] = []

    /// Tensor names given out or used so far, so that `uniqueName` never repeats one.
    private var reservedNames: Set<String> = []
    /// The next suffix to try for each `uniqueName` prefix.
    private var nextSuffix: [String: Int] = [:]

    public init(graphName: String = "d2l", opset: Int = 17) {
        self.graphName = graphName
        self.opset = opset
    }

    // MARK: - Names

    /// A tensor name not used in this graph so far: `prefix_N` with the smallest N from
    /// this prefix's last one (e.g. `"conv1_out_0"`, `"conv1_out_1"`). The name is
    /// reserved: later calls never return it again.
    public mutating func uniqueName(_ prefix: String) -> String {
        var n = nextSuffix[prefix, default: 0]
        var candidate = "\(prefix)_\(n)"
        while reservedNames.contains(candidate) {
            n += 1
            candidate = "\(prefix)_\(n)"
        }
        nextSuffix[prefix] = n + 1
        reservedNames.insert(candidate)
        return candidate
    }

    // MARK: - Graph inputs and outputs

    /// Declares a graph input (in order: the runtime's input index is this call's order).
    public mutating func addInput(name: String, elementType: ONNXElementType = .float, shape: [ONNXDimension]) {
        inputs.append(ONNXValueInfo(name: name, elementType: elementType, shape: shape))
        reservedNames.insert(name)
    }

    /// Declares a graph input whose nil dimensions are symbolic, named by
    /// `symbolicNames` in order (`"batch"` for the first nil without a name).
    public mutating func addInput(name: String, elementType: ONNXElementType = .float, dims: [Int?],
                                  symbolicNames: [String] = []) {
        addInput(name: name, elementType: elementType,
                 shape: ONNXDimension.dimensions(dims, symbolicNames: symbolicNames))
    }

    /// Declares a graph output: a tensor an input, initializer or node produces. `shape`
    /// nil declares no shape (consumers infer it).
    public mutating func addOutput(name: String, elementType: ONNXElementType = .float, shape: [ONNXDimension]?) {
        outputs.append(ONNXValueInfo(name: name, elementType: elementType, shape: shape))
        reservedNames.insert(name)
    }

    /// Declares a graph output whose nil dimensions are symbolic (see `addInput(name:elementType:dims:symbolicNames:)`).
    public mutating func addOutput(name: String, elementType: ONNXElementType = .float, dims: [Int?],
                                   symbolicNames: [String] = []) {
        addOutput(name: name, elementType: elementType,
                  shape: ONNXDimension.dimensions(dims, symbolicNames: symbolicNames))
    }

    // MARK: - Initializers

    /// Adds a constant tensor as an initializer. Returns `name`.
    @discardableResult
    public mutating func addInitializer(name: String, tensor: ONNXTensor) -> String {
        initializers.append(ONNXInitializer(name: name, tensor: tensor))
        reservedNames.insert(name)
        return name
    }

    /// Adds a float32 initializer (written as little-endian `raw_data`). Returns `name`.
    @discardableResult
    public mutating func addInitializer(name: String, shape: [Int], values: [Float]) -> String {
        addInitializer(name: name, tensor: ONNXTensor(shape: shape, floats: values))
    }

    /// Adds a float32 initializer from memory (copied now). Returns `name`.
    @discardableResult
    public mutating func addInitializer(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) -> String {
        addInitializer(name: name, tensor: ONNXTensor(shape: shape, floats: values))
    }

    /// Adds an int64 initializer (e.g. Reshape's shape). Returns `name`.
    @discardableResult
    public mutating func addInitializer(name: String, shape: [Int], int64s: [Int64]) -> String {
        addInitializer(name: name, tensor: ONNXTensor(shape: shape, int64s: int64s))
    }

    // MARK: - Nodes

    /// Adds a node of the default domain reading `inputs` and writing `outputs` ("" for an
    /// omitted optional input or output; trailing ones are left out of the file). Returns `outputs`.
    @discardableResult
    public mutating func addNode(_ opType: String, inputs: [String], outputs: [String], name: String? = nil,
                                 attributes: [ONNXAttribute] = []) -> [String] {
        nodes.append(ONNXNode(opType: opType, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
        for output in outputs where !output.isEmpty { reservedNames.insert(output) }
        return outputs
    }

    /// Adds a node with one output, named `uniqueName(outputPrefix)` (default: the
    /// lower-cased op type, e.g. `relu_0`). Returns the output's name.
    @discardableResult
    public mutating func addNode(_ opType: String, inputs: [String], outputPrefix: String? = nil, name: String? = nil,
                                 attributes: [ONNXAttribute] = []) -> String {
        let output = uniqueName(outputPrefix ?? opType.lowercased())
        addNode(opType, inputs: inputs, outputs: [output], name: name, attributes: attributes)
        return output
    }

    // MARK: - Validation

    /// Checks the graph: names are non-empty and unique (tensors, node names, metadata
    /// keys, attributes of a node); every node input is "" or produced by a graph input,
    /// an initializer or an earlier node; every graph output is produced; every tensor's
    /// shape holds as many elements as it has values. Throws `ToolkitError(.invalidArgument)`.
    public func validate() throws {
        func fail(_ message: String) -> ToolkitError { ToolkitError(.invalidArgument, message) }

        guard !graphName.isEmpty else { throw fail("the graph name is empty") }
        guard opset >= 1 else { throw fail("opset \(opset) is not a valid ONNX opset version") }
        guard irVersion >= 4 else { throw fail("IR version \(irVersion) is too old (initializers need 4 or later)") }

        var keys: Set<String> = []
        for entry in metadata {
            guard !entry.key.isEmpty else { throw fail("a metadata entry has an empty key") }
            guard keys.insert(entry.key).inserted else { throw fail("metadata key \(quoted(entry.key)) appears twice") }
        }

        // Where each tensor name comes from, for messages about duplicates.
        var defined: [String: String] = [:]
        func define(_ name: String, _ what: String) throws {
            guard !name.isEmpty else { throw fail("\(what) has an empty name") }
            if let earlier = defined[name] {
                throw fail("tensor name \(quoted(name)) is used twice: by \(earlier) and by \(what)")
            }
            defined[name] = what
        }
        func checkShape(_ shape: [ONNXDimension]?, _ what: String) throws {
            for d in shape ?? [] {
                switch d {
                case .fixed(let n) where n < 0:
                    throw fail("\(what) has a negative dimension in shape \(onnxShapeText(shape ?? []))")
                case .symbolic(let s) where s.isEmpty:
                    throw fail("\(what) has a symbolic dimension with an empty name")
                default: break
                }
            }
        }

        for input in inputs {
            let what = "graph input \(quoted(input.name))"
            try define(input.name, what)
            try checkShape(input.shape, what)
            guard input.shape != nil else { throw fail("\(what) has no shape") }
        }
        for initializer in initializers {
            let what = "initializer \(quoted(initializer.name))"
            try define(initializer.name, what)
            try initializer.tensor.validate(what)
        }
        var nodeNames: Set<String> = []
        for (index, node) in nodes.enumerated() {
            let what = "node \(index) (\(node.opType)\(node.name.map { " \(quoted($0))" } ?? ""))"
            guard !node.opType.isEmpty else { throw fail("\(what) has an empty op type") }
            if let name = node.name {
                guard !name.isEmpty else { throw fail("\(what) has an empty name (pass nil for none)") }
                guard nodeNames.insert(name).inserted else { throw fail("node name \(quoted(name)) is used twice") }
            }
            for input in node.inputs where !input.isEmpty && defined[input] == nil {
                throw fail("\(what) reads \(quoted(input)), which no graph input, initializer or earlier node produces")
            }
            var attributeNames: Set<String> = []
            for attribute in node.attributes {
                guard !attribute.name.isEmpty else { throw fail("\(what) has an attribute with an empty name") }
                guard attributeNames.insert(attribute.name).inserted else {
                    throw fail("\(what) has attribute \(quoted(attribute.name)) twice")
                }
                if case .tensor(let name, let tensor) = attribute {
                    try tensor.validate("attribute \(quoted(name)) of \(what)")
                }
            }
            guard node.outputs.contains(where: { !$0.isEmpty }) else { throw fail("\(what) has no outputs") }
            for output in node.outputs where !output.isEmpty {
                try define(output, "the output of \(what)")
            }
        }
        guard !outputs.isEmpty else { throw fail("the graph declares no outputs") }
        var outputNames: Set<String> = []
        for output in outputs {
            let what = "graph output \(quoted(output.name))"
            guard !output.name.isEmpty else { throw fail("a graph output has an empty name") }
            guard outputNames.insert(output.name).inserted else { throw fail("\(what) is declared twice") }
            guard defined[output.name] != nil else {
                throw fail("\(what) is not produced by any graph input, initializer or node")
            }
            try checkShape(output.shape, what)
        }
    }

    // MARK: - Serialization

    /// Validates the graph and serializes it to `ModelProto` bytes: IR version
    /// `irVersion`, the default-domain opset `opset`, initializers as `raw_data`.
    public func serialize() throws -> [UInt8] {
        try validate()
        return ONNXProtoWriter.pack(self, nodeNames: resolvedNodeNames())
    }

    /// Validates the graph and writes the serialized `ModelProto` into `sink` piece by
    /// piece (tensor data streamed from the tensors' own storage, never gathered), or with
    /// `external`, the same model whose initializers refer to the data an earlier write
    /// put in a file. Throws the validation's error or the sink's output's.
    func write(to sink: ONNXByteSink, external: ONNXProtoWriter.ExternalData? = nil) throws {
        try validate()
        try ONNXProtoWriter.write(self, nodeNames: resolvedNodeNames(), external: external, to: sink)
    }

    /// Node names for the file: the given ones, and `<opType>_<index>` (made unique) for
    /// nodes without one.
    private func resolvedNodeNames() -> [String] {
        var used = Set(nodes.compactMap(\.name))
        return nodes.enumerated().map { index, node in
            if let name = node.name { return name }
            var candidate = "\(node.opType)_\(index)"
            var k = 1
            while used.contains(candidate) {
                candidate = "\(node.opType)_\(index)_\(k)"
                k += 1
            }
            used.insert(candidate)
            return candidate
        }
    }
}
