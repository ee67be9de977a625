/// The parts of an ONNX `ModelProto` the runtime uses, as plain Swift values. Built by
/// `ONNXReader` while the protobuf message is alive; owns no protobuf memory.

/// A tensor's element type and dimensions as declared in a `ValueInfoProto`; `nil`
/// dimensions are symbolic (`dim_param`) or unknown.
public struct DeclaredType: Sendable {
    public var dtype: DType
    public var dims: [Int?]
    /// One entry per dimension: the `dim_param` name of a symbolic dimension (`"batch"`),
    /// nil for a fixed one (`dim_value`) or one with neither (or an empty `dim_param`).
    public var dimNames: [String?]
}

/// A graph input or output.
public struct ValueInfo: Sendable {
    public var name: String
    public var type: DeclaredType
}

/// An attribute value of a node, by the ONNX attribute types the runtime reads.
/// Integers stay int64, as in the file: `AttributeReader` says which fit.
package enum AttributeValue {
    case int(Int64)
    case float(Float)
    case string(String)
    case ints([Int64])
    case floats([Float])
    case strings([String])
    case tensor(ConstantTensor)
    /// A type the runtime never reads (graphs, sparse tensors, ...): kept by name for messages.
    case other(String)
}

/// One attribute of a node.
package struct Attribute {
    package var name: String
    package var value: AttributeValue
}

/// A node as written in the file.
package struct NodeDescription {
    package var name: String
    package var opType: String
    package var domain: String
    /// Input tensor names; "" marks an omitted optional input.
    package var inputs: [String]
    package var outputs: [String]
    package var attributes: [Attribute]

    /// A name for messages: `Conv node 'conv1'` or `Conv node #3`.
    func label(_ index: Int) -> String {
        name.isEmpty ? "\(quotedUnlessPlain(opType)) node #\(index)" : "\(quotedUnlessPlain(opType)) node \(quoted(name))"
    }
}

/// Everything the graph builder needs from a model file.
package struct ModelDescription {
    package var irVersion: Int
    /// The default-domain opset.
    package var opset: Int
    package var metadata: [(key: String, value: String)]
    package var inputs: [ValueInfo]
    package var outputs: [ValueInfo]
    /// Initializers, with their data already in `weights`.
    package var initializers: [(name: String, tensor: ConstantTensor)]
    package var nodes: [NodeDescription]
    /// The arena holding every initializer's (and Constant node's) data.
    package var weights: WeightArena
}
