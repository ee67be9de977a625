/// Exports a trained Fashion-MNIST classifier as ONNX with the metadata libd2l's
/// `d2l_classify` and the examples use: `d2l.task` = classification, `d2l.labels` (the
/// class names), `d2l.input` (NCHW, pixels scaled to [0, 1], mean 0, std 1, plus the
/// input size when it is not 28×28 or `declaresSize`, so that callers resize) and
/// `d2l.arch`; `mean` and `std` (one per channel; default 0 and 1) are the normalisation
/// the model was trained with. The file is written atomically.
public func exportClassifier(_ model: Module, arch: String, imageSize: (height: Int, width: Int),
                             channels: Int = 1, labels: [String] = FashionMNIST.labels,
                             mean: [Float]? = nil, std: [Float]? = nil, declaresSize: Bool = false,
                             path: String, foldBatchNorm: Bool = false) throws {
    let size: (height: Int, width: Int)? = imageSize == (28, 28) && !declaresSize ? nil : imageSize
    let metadata = ONNXExportMetadata.classification(labels: labels, channels: channels, mean: mean, std: std, size: size)
        + [("d2l.arch", arch)]
    try exportONNX(model, inputShape: [1, channels, imageSize.height, imageSize.width], metadata: metadata,
                   foldBatchNorm: foldBatchNorm, path: path)
}

/// Runs the exported classifier at `path` through libd2l on `images` ([N, C, H, W]) and
/// returns the max |difference| from `model`'s own evaluation-mode outputs (`d2l-cli
/// train`'s export check). Puts `model` in evaluation mode.
public func exportedClassifierDifference(_ model: Module, path: String, images: Tensor, threads: Int = 1) throws -> Float {
    model.eval()
    let ours = try withNoGrad { try model(images) }
    let theirs = try RuntimeModel(path: path, threads: threads).run(images)
    guard ours.shape == theirs.shape else {
        throw ToolkitError(.shape, "\(path): libd2l's output has shape \(theirs.shape) but the toolkit's is \(ours.shape)")
    }
    return zip(ours.scalars, theirs.scalars).map { abs($0 - $1) }.max() ?? 0
}
