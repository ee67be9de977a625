import Foundation

/// Exports `module`'s evaluation-mode forward as an ONNX model (docs/FORMAT.md, "ONNX, as
/// libd2l reads and the toolkit writes it"): one float32 graph input `inputName` of shape `inputShape` with the
/// batch dimension (the first) written as the symbolic `batch`, one output `outputName`,
/// every parameter a `raw_data` initializer named by its state-dict key.
///
/// The module is put in evaluation mode for the export and every module's mode is
/// restored afterwards. `metadata` entries are written in order after `d2l.producer`
/// (the caller's own `d2l.producer`, if given, replaces the default); typical keys are
/// `d2l.task`, `d2l.labels` and `d2l.input` (see ``ONNXExportMetadata``). With
/// `foldBatchNorm`, BatchNorm layers right after a convolution (or a linear layer) are
/// folded into its weights. With a `path`, the bytes are also written there atomically.
///
/// - Parameters:
///   - module: the model to export; every layer in it needs an ONNX lowering.
///   - inputShape: one input's shape including the batch dimension, e.g. `[1, 1, 28, 28]`.
///   - inputName: the graph input's name (default `x`).
///   - outputName: the graph output's name (default `logits`); not a name already in the graph.
///   - metadata: `(key, value)` metadata entries, in order, keys unique.
///   - foldBatchNorm: fold each BatchNorm that follows a convolution or linear layer into
///     that layer's weight and bias.
///   - opset: the default-domain opset to import, 13…22 (default 17).
///   - path: when given, the bytes are also written there atomically.
/// - Returns: the serialized `ModelProto`.
/// - Throws: `ToolkitError` `.unsupported` for a layer without an ONNX lowering,
///   `.shape` when `inputShape` does not fit the module, `.invalidArgument` for bad names,
///   shapes, opsets or duplicate metadata keys, `.io` when the file cannot be written.
@discardableResult
public func exportONNX(_ module: Module, inputShape: [Int], inputName: String = "x", outputName: String = "logits",
                       metadata: [(String, String)] = [], foldBatchNorm: Bool = false, opset: Int = 17,
                       path: String? = nil) throws -> [UInt8] {
    let bytes = try onnxGraph(module, inputShape: inputShape, inputName: inputName, outputName: outputName,
                              metadata: metadata, foldBatchNorm: foldBatchNorm, opset: opset).serialize()
    if let path { try AtomicFile.write(bytes, to: path) }
    return bytes
}

/// `exportONNX`'s graph, not yet serialized. Its initializers share the module's parameter
/// storage (folded weights are computed when written), so nothing is copied until it is
/// serialized or written.
func onnxGraph(_ module: Module, inputShape: [Int], inputName: String = "x", outputName: String = "logits",
               metadata: [(String, String)] = [], foldBatchNorm: Bool = false, opset: Int = 17) throws -> ONNXGraphBuilder {
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 >= 1 }) else {
        throw ToolkitError(.invalidArgument,
                           "exportONNX: the input shape \(inputShape) needs a batch dimension and positive sizes")
    }
    guard (13...22).contains(opset) else {
        throw ToolkitError(.invalidArgument, "exportONNX: opset \(opset) is not supported (13…22)")
    }
    guard !inputName.isEmpty, !outputName.isEmpty, inputName != outputName else {
        throw ToolkitError(.invalidArgument,
                           "exportONNX: the input and output names must be distinct and non-empty, got '\(inputName)' and '\(outputName)'")
    }

    // Evaluation mode for the export; every module gets its own mode back afterwards.
    return try module.evaluating { () throws -> ONNXGraphBuilder in
        var builder = ONNXGraphBuilder(graphName: String(describing: type(of: module)), opset: opset)
        builder.irVersion = opset <= 18 ? 8 : opset <= 20 ? 9 : 10
        builder.addInput(name: inputName, elementType: .float,
                         shape: [.symbolic("batch")] + inputShape.dropFirst().map { .fixed($0) })
        var context = ONNXExportContext(builder: builder, foldBatchNorm: foldBatchNorm)
        let result = try context.lower(module, ONNXExportValue(name: inputName, shape: inputShape), prefix: "")
        builder = context.builder

        // Name the result `outputName`: rename the node output that makes it, or add an
        // Identity when the result is the graph input or an initializer.
        var final = ONNXGraphBuilder(graphName: builder.graphName, opset: opset)
        final.irVersion = builder.irVersion
        final.producerName = "d2l"
        for input in builder.inputs { final.addInput(name: input.name, elementType: input.elementType, shape: input.shape ?? []) }
        let used = Set(builder.initializers.map(\.name) + builder.nodes.flatMap(\.outputs))
        guard !used.contains(outputName) else {
            throw ToolkitError(.invalidArgument, "exportONNX: the output name '\(outputName)' is already a tensor of the graph")
        }
        for initializer in builder.initializers { final.addInitializer(name: initializer.name, tensor: initializer.tensor) }
        let producedByNode = builder.nodes.contains { $0.outputs.contains(result.name) }
        for node in builder.nodes {
            let rename = { (name: String) in producedByNode && name == result.name ? outputName : name }
            final.addNode(node.opType, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename), name: node.name,
                          attributes: node.attributes)
        }
        if !producedByNode {
            final.addNode("Identity", inputs: [result.name], outputs: [outputName])
        }
        final.addOutput(name: outputName, elementType: .float,
                        shape: [.symbolic("batch")] + result.shape.dropFirst().map { .fixed($0) })

        let producer = "d2l toolkit exportONNX from \(type(of: module))"
        if !metadata.contains(where: { $0.0 == "d2l.producer" }) { final.metadata.append((key: "d2l.producer", value: producer)) }
        for (key, value) in metadata { final.metadata.append((key: key, value: value)) }
        return final
    }
}

/// JSON values for the `d2l.*` metadata keys of docs/FORMAT.md.
public enum ONNXExportMetadata {
    /// `d2l.labels`: a JSON array of the class names, index order.
    public static func labels(_ names: [String]) -> String {
        "[" + names.map(jsonStringLiteral).joined(separator: ", ") + "]"
    }

    /// `d2l.input`: `{"layout": …, "range": [lo, hi], "mean": […], "std": […]}` plus
    /// `"size": [H, W]` when given: how raw pixels (0–255) become inputs.
    public static func input(layout: String = "NCHW", range: (Float, Float) = (0, 1), mean: [Float], std: [Float],
                             size: (height: Int, width: Int)? = nil) -> String {
        var text = "{\"layout\": \(jsonStringLiteral(layout)), \"range\": [\(jsonNumber(range.0)), \(jsonNumber(range.1))], "
            + "\"mean\": [\(mean.map(jsonNumber).joined(separator: ", "))], "
            + "\"std\": [\(std.map(jsonNumber).joined(separator: ", "))]"
        if let size { text += ", \"size\": [\(size.height), \(size.width)]" }
        return text + "}"
    }

    /// The classification entries for an image classifier: `d2l.task`, `d2l.labels`
    /// (when given) and `d2l.input` (range [0, 1], `mean` and `std` per channel).
    public static func classification(labels: [String]?, channels: Int = 1, mean: [Float]? = nil, std: [Float]? = nil,
                                      size: (height: Int, width: Int)? = nil) -> [(String, String)] {
        var entries: [(String, String)] = [("d2l.task", "classification")]
        if let labels { entries.append(("d2l.labels", Self.labels(labels))) }
        entries.append(("d2l.input", input(mean: mean ?? Array(repeating: 0, count: channels),
                                           std: std ?? Array(repeating: 1, count: channels), size: size)))
        return entries
    }

    /// The shortest decimal that reads back as `value` (`0.5`, `0.2860`→`0.286`).
    static func jsonNumber(_ value: Float) -> String {
        value == value.rounded() && Swift.abs(value) < 1e7 ? String(format: "%.1f", Double(value)) : "\(value)"
    }
}
