import D2LRuntime
import Foundation

/// An ONNX model run through libd2l's runtime (the same code the C API and Python
/// use), with toolkit tensors in and out: for checking an export and for `d2l-cli eval`.
public final class RuntimeModel {
    public let model: D2LRuntime.Model
    private let session: D2LRuntime.Session

    /// Loads and validates `path`.
    public init(path: String, threads: Int = 1) throws {
        do {
            model = try D2LRuntime.Model(path: path)
            session = D2LRuntime.Session(model: model)
            try session.setThreads(threads)
        } catch {
            throw ToolkitError(.invalidData, "\(path): \(error.message)")
        }
    }

    /// Metadata value for `key` (`d2l.labels`, `d2l.input`, …), or nil.
    public func metadata(_ key: String) -> String? { model.metadata(key) }

    /// Runs the model on float32 input 0 and returns output 0.
    public func run(_ input: Tensor) throws -> Tensor {
        guard let first = try runAll(input).first else { throw ToolkitError(.unsupported, "libd2l: the model has no outputs") }
        return first
    }

    /// Runs the model on float32 input 0 and returns every output (float32 only).
    public func runAll(_ input: Tensor) throws -> [Tensor] {
        do {
            try input.withUnsafeValues { values in
                try session.setInput(0, dtype: .float32, data: UnsafeRawPointer(values.baseAddress!), shape: input.shape)
            }
            try session.run()
        } catch let error as D2LError {
            throw ToolkitError(.invalidArgument, "libd2l: \(error.message)")
        }
        return try (0..<model.outputs.count).map { index in
            guard let output = session.output(index), output.type.dtype == .float32 else {
                throw ToolkitError(.unsupported, "libd2l: output \(index) is not float32")
            }
            return Tensor(Array(UnsafeBufferPointer(start: output.floats, count: output.type.count)), shape: output.type.shape)
        }
    }

    /// `d2l.labels` (the class names), if present and a JSON array of strings.
    public var labels: [String]? { metadata("d2l.labels").flatMap(JSONStringArray.parse) }

    /// `d2l.input` read as libd2l reads it for `d2l_session_set_image_u8` (the runtime's
    /// `ImageInputSpec`); nil when the model has none or it is malformed.
    public var inputSpec: ImageInputSpec? {
        guard let text = metadata("d2l.input") else { return nil }
        return try? ImageInputSpec(metadata: text)
    }

    /// The input size from `d2l.input`'s `"size": [H, W]`, if present.
    public var inputSize: (height: Int, width: Int)? {
        guard let spec = inputSpec, let h = spec.height, let w = spec.width else { return nil }
        return (h, w)
    }

    /// `d2l.input`'s `"mean"` and `"std"` for each of `channels` channels (one value stands
    /// for every channel), if the model has a valid `d2l.input`.
    public func inputNormalization(channels: Int) -> (mean: [Float], std: [Float])? {
        guard let spec = inputSpec else { return nil }
        var mean: [Float] = [], std: [Float] = []
        for c in 0..<channels {
            guard let n = try? spec.normalization(channel: c, of: channels) else { return nil }
            mean.append(Float(n.mean))
            std.append(Float(n.std))
        }
        return (mean, std)
    }

    /// The image size the model takes: `d2l.input`'s `"size"`, else input 0's fixed height
    /// and width (`[N, C, H, W]` with H and W numbers), else nil (any size, or not images).
    public var imageSize: (height: Int, width: Int)? {
        if let inputSize { return inputSize }
        guard let dims = model.inputs.first?.type.dims, dims.count == 4, let h = dims[2], let w = dims[3] else { return nil }
        return (h, w)
    }

    /// The channels of input 0 (`[N, C, H, W]`), when declared.
    public var inputChannels: Int? {
        guard let dims = model.inputs.first?.type.dims, dims.count == 4 else { return nil }
        return dims[1]
    }

    /// The pipeline that makes a decoded image this model's input: resize to `size` (by
    /// default ``imageSize``: `d2l.input`'s size, else the input's fixed size; PIL bilinear,
    /// as `classify.c` and Python's `Model.classify` do), then its mean and std when they
    /// are not 0 and 1; with the decoding mode for its channels.
    /// - Throws: `ToolkitError(.invalidData)` when no size is given and the model declares
    ///   none, or its input is not `[N, 1 or 3, H, W]`.
    public func imagePipeline(size: (height: Int, width: Int)? = nil) throws -> (pipeline: ImagePipeline, mode: ImageDecoder.Mode, shape: [Int]) {
        guard let channels = inputChannels, channels == 1 || channels == 3 else {
            throw ToolkitError(.invalidData, "the model's input is not [N, 1 or 3, H, W] images")
        }
        guard let size = size ?? imageSize else {
            throw ToolkitError(.invalidData, "the model declares no input size (d2l.input \"size\" or fixed input dimensions)")
        }
        var normalize: Normalize?
        if let stats = inputNormalization(channels: channels),
           stats.mean.contains(where: { $0 != 0 }) || stats.std.contains(where: { $0 != 1 }) {
            normalize = try Normalize(mean: stats.mean, std: stats.std)
        }
        let pipeline = ImagePipeline(name: "model input", transforms: [try Resize(height: size.height, width: size.width)],
                                     normalize: normalize)
        return (pipeline, channels == 1 ? .gray : .rgb, [channels, size.height, size.width])
    }

    /// Runs the model on `data`'s batches; returns each example's top-1 class with its label,
    /// in the data's order.
    public func predictions(on data: any ClassificationData, batchSize: Int = 64) throws -> [(label: Int, predicted: Int)] {
        var result: [(label: Int, predicted: Int)] = []
        for (images, labels) in try data.batches(batchSize: batchSize, shuffle: false, seed: 0, epoch: 0) {
            let logits = try run(images)
            let predicted = logits.reshaped([labels.count, -1]).argmax(axis: 1).scalars
            for (label, top) in zip(labels, predicted) { result.append((label, Int(top))) }
        }
        return result
    }

    /// Test accuracy on `dataset`, its images resized (bilinear, per batch) to `resize`, or
    /// kept as they are when nil. ``imageSize`` is the model's own size, so that a 32×32
    /// model can be evaluated on 28×28 Fashion-MNIST.
    public func accuracy(on dataset: ImageDataset, batchSize: Int = 256, resize: (height: Int, width: Int)?) throws -> Double {
        var correct = 0, seen = 0
        let resize = resize.flatMap { $0 == (dataset.height, dataset.width) ? nil : $0 }
        for (images, labels) in try ImageBatches(dataset, batchSize: batchSize, shuffle: false, resize: resize) {
            correct += correctCount(try run(images), labels)
            seen += labels.count
        }
        return Double(correct) / Double(max(seen, 1))
    }
}
