/// Exports a trained ``TinySSD`` as an ONNX model for `imageSize` inputs, with three outputs:
///
/// | output | shape | what |
/// |---|---|---|
/// | `anchors` | `[1, A, 4]` | the anchors (corner boxes, fractions of the image): a constant |
/// | `class_probs` | `[batch, classes + 1, A]` | softmax of the class scores, row 0 the background (the book's `F.softmax(cls_preds, dim=2).permute(0, 2, 1)`) |
/// | `offsets` | `[batch, A · 4]` | the predicted offsets |
///
/// so that a caller gets the boxes with `d2l_multibox_detection(class_probs, offsets, anchors, …)`
/// (the book's `predict`). Metadata: `d2l.task` = `detection`, `d2l.labels`, `d2l.input`
/// (range [0, 1], mean 0, std 1, the size) and `d2l.arch` = `tiny-ssd`. Written atomically.
/// - Throws: `ToolkitError(.shape)` for an image size below 64, `.invalidArgument` for a
///   label count other than the model's classes, `.io` when the file cannot be written.
@discardableResult
public func exportTinySSD(_ model: TinySSD, imageSize: (height: Int, width: Int), labels: [String], path: String,
                          opset: Int = 17) throws -> [UInt8] {
    guard imageSize.height >= 64, imageSize.width >= 64 else {
        throw ToolkitError(.shape, "exportTinySSD: TinySSD needs inputs of at least 64×64, got \(imageSize.height)×\(imageSize.width)")
    }
    guard labels.count == model.classes else {
        throw ToolkitError(.invalidArgument, "exportTinySSD: \(labels.count) labels for a model of \(model.classes) classes")
    }
    // Evaluation mode for the export; every module gets its own mode back afterwards.
    return try model.evaluating { () throws -> [UInt8] in
        var builder = ONNXGraphBuilder(graphName: "TinySSD", opset: opset)
        builder.irVersion = opset <= 18 ? 8 : opset <= 20 ? 9 : 10
        builder.producerName = "d2l"
        let shape = [1, 3, imageSize.height, imageSize.width]
        builder.addInput(name: "x", elementType: .float, shape: [.symbolic("batch"), .fixed(3), .fixed(imageSize.height), .fixed(imageSize.width)])
        var context = ONNXExportContext(builder: builder)
        var y = ONNXExportValue(name: "x", shape: shape)
        var anchors: [Tensor] = [], cls: [String] = [], bbox: [String] = []
        var anchorCount = 0
        let flatShape = context.addInitializer("flat_shape", ONNXTensor(shape: [2], int64s: [0, -1]))
        for i in 0..<5 {
            guard let block = model.child(named: "blk_\(i)"), let clsConv = model.child(named: "cls_\(i)") as? Conv2d,
                  let boxConv = model.child(named: "bbox_\(i)") as? Conv2d else {
                throw ToolkitError(.invalidArgument, "exportTinySSD: the model has no blk_\(i), cls_\(i) or bbox_\(i)")
            }
            y = try context.lower(block, y, prefix: "blk_\(i)")
            let (h, w) = (y.shape[2], y.shape[3])
            anchors.append(try multiboxPrior(height: h, width: w, sizes: TinySSD.sizes[i], ratios: TinySSD.ratios[i]))
            anchorCount += h * w * TinySSD.anchorsPerPixel
            for (conv, name, list) in [(clsConv, "cls_\(i)", 0), (boxConv, "bbox_\(i)", 1)] {
                let p = try context.conv(conv, y, prefix: name)
                let nhwc = context.addNode("Transpose", [p.name], prefix: name, attributes: [.ints("perm", [0, 2, 3, 1])])
                let flat = context.addNode("Reshape", [nhwc, flatShape], prefix: name)
                if list == 0 { cls.append(flat) } else { bbox.append(flat) }
            }
        }
        let classes = model.classes + 1
        let clsAll = context.addNode("Concat", cls, prefix: "cls", attributes: [.int("axis", 1)])
        let clsShape = context.addInitializer("cls_shape", ONNXTensor(shape: [3], int64s: [0, -1, Int64(classes)]))
        let scores = context.addNode("Reshape", [clsAll, clsShape], prefix: "cls")
        let probs = context.addNode("Softmax", [scores], prefix: "cls", attributes: [.int("axis", 2)])
        let boxAll = context.addNode("Concat", bbox, prefix: "bbox", attributes: [.int("axis", 1)])
        let anchorName = context.addInitializer("anchor_boxes", Tensor.concat(anchors, axis: 1))
        builder = context.builder
        builder.addNode("Transpose", inputs: [probs], outputs: ["class_probs"], attributes: [.ints("perm", [0, 2, 1])])
        builder.addNode("Identity", inputs: [boxAll], outputs: ["offsets"])
        builder.addNode("Identity", inputs: [anchorName], outputs: ["anchors"])
        builder.addOutput(name: "anchors", elementType: .float, shape: [.fixed(1), .fixed(anchorCount), .fixed(4)])
        builder.addOutput(name: "class_probs", elementType: .float, shape: [.symbolic("batch"), .fixed(classes), .fixed(anchorCount)])
        builder.addOutput(name: "offsets", elementType: .float, shape: [.symbolic("batch"), .fixed(anchorCount * 4)])
        builder.metadata = [(key: "d2l.producer", value: "d2l toolkit exportTinySSD"), (key: "d2l.task", value: "detection"),
                            (key: "d2l.labels", value: ONNXExportMetadata.labels(labels)),
                            (key: "d2l.input", value: ONNXExportMetadata.input(mean: [0, 0, 0], std: [1, 1, 1], size: imageSize)),
                            (key: "d2l.arch", value: "tiny-ssd")]
        let bytes = try builder.serialize()
        try AtomicFile.write(bytes, to: path)
        return bytes
    }
}

extension GlobalMaxPool2d: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        guard input.rank == 4 else {
            throw ToolkitError(.shape, "GlobalMaxPool2d at \(ONNXExportContext.place(prefix)): expected [N, C, H, W], got \(input.shape)")
        }
        return try context.pool("MaxPool", input, kernel: (input.shape[2], input.shape[3]), stride: (1, 1), padding: (0, 0),
                                prefix: prefix, what: "GlobalMaxPool2d")
    }
}
