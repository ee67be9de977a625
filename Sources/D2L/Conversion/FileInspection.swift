import Foundation

/// `d2l-export inspect`: what a checkpoint or an ONNX model holds, as lines of text.
public enum FileInspection {
    /// What kind of file `inspect` found.
    public enum Kind: Sendable { case checkpoint, onnx }

    /// Whether `path` is an ONNX model (by the `.onnx` extension, else by content) or a
    /// checkpoint (torch.save zip or legacy, safetensors).
    ///
    /// Only the first 16 bytes are read, and only from a regular file: a FIFO, a device
    /// (`/dev/zero`) or a directory is refused in one line without reading or blocking.
    public static func kind(of path: String) throws -> Kind {
        let file = try BoundedFile(path: path)
        if path.lowercased().hasSuffix(".onnx") { return .onnx }
        let head = try file.head(16)
        return ONNXModelSummary.looksLikeONNX(head[...]) ? .onnx : .checkpoint
    }

    /// The lines `d2l-export inspect` prints for `path`.
    /// - Throws: `ToolkitError` when the file is unreadable or neither a checkpoint nor a model.
    public static func lines(path: String) throws -> [String] {
        switch try kind(of: path) {
        case .onnx:
            return try ONNXModelSummary(path: path).lines
        case .checkpoint:
            let summary = CheckpointSummary(try PyTorchCheckpoint.load(path: path))
            return ["\(path): \(summary.formatName) checkpoint"] + summary.tensorLines + ["total: " + summary.text]
        }
    }
}
