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
        do {
            try input.withUnsafeValues { values in
                try session.setInput(0, dtype: .float32, data: UnsafeRawPointer(values.baseAddress!), shape: input.shape)
            }
            try session.run()
        } catch let error as D2LError {
            throw ToolkitError(.invalidArgument, "libd2l: \(error.message)")
        }
        guard let output = session.output(0), output.type.dtype == .float32 else {
            throw ToolkitError(.unsupported, "libd2l: output 0 is not float32")
        }
        let values = Array(UnsafeBufferPointer(start: output.floats, count: output.type.count))
        return Tensor(values, shape: output.type.shape)
    }

    /// The input size from `d2l.input`'s `"size": [H, W]`, if present.
    public var inputSize: (height: Int, width: Int)? {
        guard let text = metadata("d2l.input"), let range = text.range(of: "\"size\"") else { return nil }
        let rest = text[range.upperBound...]
        guard let open = rest.firstIndex(of: "["), let close = rest.firstIndex(of: "]") else { return nil }
        let numbers = rest[rest.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    /// Test accuracy on `dataset` (resized to the model's `d2l.input` size when given).
    public func accuracy(on dataset: ImageDataset, batchSize: Int = 256) throws -> Double {
        var correct = 0, seen = 0
        for (images, labels) in try ImageBatches(dataset, batchSize: batchSize, shuffle: false, resize: inputSize) {
            correct += correctCount(try run(images), labels)
            seen += labels.count
        }
        return Double(correct) / Double(max(seen, 1))
    }
}
