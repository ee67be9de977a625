/// Exports a trained Fashion-MNIST classifier as ONNX with the metadata libd2l's
/// `d2l_classify` and the examples use: `d2l.task` = classification, `d2l.labels` (the
/// class names), `d2l.input` (NCHW, pixels scaled to [0, 1], mean 0, std 1, plus the
/// input size when it is not 28×28 so that callers resize) and `d2l.arch`. The file is
/// written atomically.
public func exportClassifier(_ model: Module, arch: String, imageSize: (height: Int, width: Int),
                             channels: Int = 1, labels: [String] = FashionMNIST.labels,
                             path: String, foldBatchNorm: Bool = false) throws {
    let size: (height: Int, width: Int)? = imageSize == (28, 28) ? nil : imageSize
    let metadata = ONNXExportMetadata.classification(labels: labels, channels: channels, size: size)
        + [("d2l.arch", arch)]
    try exportONNX(model, inputShape: [1, channels, imageSize.height, imageSize.width], metadata: metadata,
                   foldBatchNorm: foldBatchNorm, path: path)
}
