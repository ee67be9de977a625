import D2LRuntime
import Foundation

/// Runs an ONNX model through libd2l's runtime (the code the C API and Python use) with
/// raw inputs of any dtype it takes, and returns every output as float values.
enum RuntimeRunner {
    static func runtimeMessage(_ error: Error) -> String { (error as? D2LError)?.message ?? "\(error)" }

    struct Input {
        var dtype: DType
        var shape: [Int]
        var bytes: [UInt8]
    }

    struct Output {
        var name: String
        var dtype: DType
        var shape: [Int]
        /// The elements converted to Float (exact for float32).
        var values: [Float]
    }

    static func run(bytes: [UInt8], source: String, inputs: [Input]) throws -> [Output] {
        let model: D2LRuntime.Model
        do {
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
            defer { copy.deallocate() }
            bytes.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) } }
            model = try D2LRuntime.Model(bytes: UnsafeRawBufferPointer(start: copy, count: bytes.count))
        } catch {
            throw ToolkitError(.invalidData, "\(source): libd2l refuses the model: \(runtimeMessage(error))")
        }
        return try run(model, source: source, inputs: inputs)
    }

    static func run(_ model: D2LRuntime.Model, source: String, inputs: [Input]) throws -> [Output] {
        guard inputs.count == model.inputs.count else {
            throw ToolkitError(.invalidArgument, "\(source): the model takes \(model.inputs.count) inputs (\(model.inputs.map { quoted($0.name) }.joined(separator: ", "))), \(inputs.count) given")
        }
        let session = D2LRuntime.Session(model: model)
        do {
            for (k, input) in inputs.enumerated() {
                // A zero-element input still needs a valid pointer.
                let padded = input.bytes.isEmpty ? [UInt8](repeating: 0, count: 8) : input.bytes
                let pointer = UnsafeMutableRawPointer.allocate(byteCount: padded.count, alignment: 16)
                defer { pointer.deallocate() }
                padded.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: padded.count) }
                try session.setInput(k, dtype: input.dtype, data: UnsafeRawPointer(pointer), shape: input.shape)
            }
            try session.run()
        } catch {
            throw ToolkitError(.invalidArgument, "\(source): libd2l: \(runtimeMessage(error))")
        }
        var outputs: [Output] = []
        for k in 0..<model.outputs.count {
            guard let view = session.output(k) else {
                throw ToolkitError(.invalidData, "\(source): libd2l produced no output \(k)")
            }
            let n = view.type.count
            let raw = UnsafeRawPointer(view.pointer)
            var values = [Float](repeating: 0, count: n)
            for i in 0..<n {
                switch view.type.dtype {
                case .float32: values[i] = raw.load(fromByteOffset: 4 * i, as: Float.self)
                case .int32: values[i] = Float(raw.load(fromByteOffset: 4 * i, as: Int32.self))
                case .int64: values[i] = Float(raw.load(fromByteOffset: 8 * i, as: Int64.self))
                case .uint8, .bool: values[i] = Float(raw.load(fromByteOffset: i, as: UInt8.self))
                }
            }
            outputs.append(Output(name: model.outputs[k].name, dtype: view.type.dtype, shape: view.type.shape, values: values))
        }
        return outputs
    }
}

/// `d2l-export verify`: an ONNX model run through libd2l on an ONNX backend-test-layout
/// folder (`DIR/test_data_set_*/input_<k>.pb` and `output_<k>.pb`, serialized TensorProtos),
/// compared output by output with the references.
public struct ModelVerification {
    /// One output of one data set.
    public struct Comparison: Sendable {
        public var dataSet: String
        public var index: Int
        public var name: String
        public var shape: [Int]
        /// max |libd2l − reference| (infinity when a NaN appears on one side only).
        public var maxDifference: Float
    }

    public var comparisons: [Comparison]

    /// The largest difference over all outputs.
    public var maxDifference: Float { comparisons.map(\.maxDifference).max() ?? 0 }

    /// Runs `modelPath` on every data set of `referenceDirectory`.
    /// - Throws: `ToolkitError` when the model does not load or run, the folder holds no
    ///   `test_data_set_*`, a file is missing or unreadable, or an output's shape or dtype
    ///   differs from its reference.
    public init(modelPath: String, referenceDirectory: String) throws {
        let model: D2LRuntime.Model
        do { model = try D2LRuntime.Model(path: modelPath) } catch {
            throw ToolkitError(.invalidData, "\(modelPath): libd2l refuses the model: \(RuntimeRunner.runtimeMessage(error))")
        }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: referenceDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ToolkitError(.io, "\(referenceDirectory): no such folder (expected DIR/test_data_set_0/input_0.pb, output_0.pb)")
        }
        let sets = ((try? manager.contentsOfDirectory(atPath: referenceDirectory)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }
            .sorted { (Int($0.dropFirst(14)) ?? Int.max, $0) < (Int($1.dropFirst(14)) ?? Int.max, $1) }
        guard !sets.isEmpty else {
            throw ToolkitError(.io, "\(referenceDirectory): no test_data_set_* folder (the ONNX backend-test layout: DIR/test_data_set_0/input_0.pb, output_0.pb)")
        }
        var comparisons: [Comparison] = []
        for set in sets {
            let folder = referenceDirectory + "/" + set
            var inputs: [RuntimeRunner.Input] = []
            for k in 0..<model.inputs.count {
                let t = try Self.tensor(folder + "/input_\(k).pb")
                inputs.append(RuntimeRunner.Input(dtype: t.type.dtype, shape: t.type.shape, bytes: t.bytes))
            }
            let outputs = try RuntimeRunner.run(model, source: modelPath, inputs: inputs)
            var compared = 0
            for (k, output) in outputs.enumerated() {
                let path = folder + "/output_\(k).pb"
                guard manager.fileExists(atPath: path) else { continue }
                let reference = try Self.tensor(path)
                guard reference.type.shape == output.shape else {
                    throw ToolkitError(.shape, "\(set): output \(k) \(quoted(output.name)) has shape \(output.shape) but \(path) holds \(reference.type.shape)")
                }
                guard reference.type.dtype == output.dtype else {
                    throw ToolkitError(.invalidData, "\(set): output \(k) \(quoted(output.name)) is \(output.dtype.name) but \(path) holds \(reference.type.dtype.name)")
                }
                let expected = Self.floats(reference)
                comparisons.append(Comparison(dataSet: set, index: k, name: output.name, shape: output.shape,
                                              maxDifference: D2L.maxDifference(output.values, expected)))
                compared += 1
            }
            guard compared > 0 else {
                throw ToolkitError(.io, "\(folder): no output_<k>.pb to compare with")
            }
        }
        self.comparisons = comparisons
    }

    static func tensor(_ path: String) throws -> TensorFile {
        guard FileManager.default.fileExists(atPath: path) else { throw ToolkitError(.io, "\(path): no such file") }
        do { return try TensorFile(path: path) } catch {
            throw ToolkitError(.invalidData, "\(path): \(RuntimeRunner.runtimeMessage(error))")
        }
    }

    static func floats(_ t: TensorFile) -> [Float] {
        let n = t.type.count
        return t.bytes.withUnsafeBytes { raw in
            (0..<n).map { i -> Float in
                switch t.type.dtype {
                case .float32: return raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                case .int32: return Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                case .int64: return Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                case .uint8, .bool: return Float(raw[i])
                }
            }
        }
    }
}
