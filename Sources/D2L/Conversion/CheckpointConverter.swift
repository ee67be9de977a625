import D2LRuntime
import Foundation

// d2l-export's library side (docs/FORMAT.md, "Command-line names"): a checkpoint (torch.save zip or
// legacy, or the toolkit's safetensors) is loaded strictly into the toolkit's definition of
// the architecture (`Models.make`, the book's state-dict keys) and written with the toolkit's
// exporter. Nothing here builds a graph of its own.

/// What `CheckpointConverter.convert` builds: the architecture and its options.
public struct ConversionOptions: Sendable {
    /// One of `CheckpointConverter.architectures`.
    public var arch: String
    /// `--num-classes` (default: the number of `labels`, else 10).
    public var classes: Int?
    /// `--in-channels` (default 1).
    public var inChannels: Int?
    /// `--image-size` (default: the book's input size of the architecture).
    public var imageSize: Int?
    /// `--hidden`: the MLP's, the `mlp-block`'s or VGG's fully connected width.
    public var hidden: Int?
    /// `--width-divisor`: the reduced-width variants. For `vgg11` the book's `ratio`; when
    /// nil it is inferred from the checkpoint's first convolution (the book trains ratio 4).
    public var widthDivisor: Int?
    /// `d2l.labels` (default: `FashionMNIST.labels` when there are 10 classes).
    public var labels: [String]?
    /// The default-domain opset to write (13…22).
    public var opset: Int
    /// Fold BatchNorm into the preceding convolution or linear layer.
    public var foldBatchNorm: Bool
    /// Run the export through libd2l on a random input and compare with the toolkit's own
    /// forward (`ConversionResult.checkDifference`).
    public var check: Bool

    // Language models (`rnn-lm`, `gru-lm`, `lstm-lm`); `hidden` is their hidden size.
    /// `--layers` (default: inferred from the checkpoint's `rnn.weight_ih_l{k}` keys).
    public var layers: Int?
    /// `--bidirectional` (default: inferred from `_reverse` keys).
    public var bidirectional: Bool?
    /// The vocabulary (`--vocab` or `--vocab-corpus`): required for language models; its
    /// size must be the checkpoint's `linear.weight` rows.
    public var vocab: Vocab?
    /// `--token`: `d2l.task` is `char-lm` or `word-lm`.
    public var token: TokenKind

    public init(arch: String, classes: Int? = nil, inChannels: Int? = nil, imageSize: Int? = nil,
                hidden: Int? = nil, widthDivisor: Int? = nil, labels: [String]? = nil, opset: Int = 17,
                foldBatchNorm: Bool = true, check: Bool = true, layers: Int? = nil, bidirectional: Bool? = nil,
                vocab: Vocab? = nil, token: TokenKind = .char) {
        self.layers = layers
        self.bidirectional = bidirectional
        self.vocab = vocab
        self.token = token
        self.arch = arch
        self.classes = classes
        self.inChannels = inChannels
        self.imageSize = imageSize
        self.hidden = hidden
        self.widthDivisor = widthDivisor
        self.labels = labels
        self.opset = opset
        self.foldBatchNorm = foldBatchNorm
        self.check = check
    }
}

/// A checkpoint's contents in numbers, for messages.
public struct CheckpointSummary: Sendable {
    public var format: PyTorchCheckpoint.Format
    public var tensors: [(name: String, shape: [Int], dtype: CheckpointDType)]
    public var elementCount: Int
    public var dtypes: [CheckpointDType]
    public var convertedDTypes: [CheckpointDType]

    public init(_ checkpoint: PyTorchCheckpoint) {
        format = checkpoint.format
        tensors = checkpoint.tensors.map { ($0.name, $0.tensor.shape, $0.tensor.dtype) }
        elementCount = checkpoint.elementCount
        dtypes = checkpoint.dtypes
        convertedDTypes = checkpoint.convertedDTypes
    }

    /// The same, from a checkpoint's index (no tensor data needed).
    init(_ reader: CheckpointReader) {
        format = reader.format
        tensors = reader.entries
        elementCount = reader.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
        var seen: [CheckpointDType] = []
        for entry in reader.entries where !seen.contains(entry.dtype) { seen.append(entry.dtype) }
        dtypes = seen
        convertedDTypes = seen.filter { $0.isFloatingPoint && $0 != .float32 }
    }

    /// `torch zip`, `torch legacy`, `safetensors`.
    public var formatName: String {
        switch format {
        case .zip: return "torch.save zip"
        case .legacy: return "torch.save legacy"
        case .safetensors: return "safetensors"
        }
    }

    /// `12 tensors, 61706 values; dtypes float32, int64` (+ the conversion note).
    public var text: String {
        var s = "\(counted(tensors.count, "tensor")), \(counted(elementCount, "value")); dtypes " + dtypes.map(\.rawValue).joined(separator: ", ")
        if !convertedDTypes.isEmpty {
            s += " (" + convertedDTypes.map(\.rawValue).joined(separator: ", ") + " converted to float32)"
        }
        return s
    }

    /// One line per tensor: `name  shape  dtype`.
    public var tensorLines: [String] {
        let width = min(48, tensors.map { quotedUnlessPlain($0.name).count }.max() ?? 0)
        return tensors.map { t in
            let shown = quotedUnlessPlain(t.name)
            let name = shown.count < width ? shown + String(repeating: " ", count: width - shown.count) : shown
            return "\(name)  [\(t.shape.map(String.init).joined(separator: ", "))]  \(t.dtype.rawValue)"
        }
    }
}

/// What a conversion reports (`CheckpointConverter.convertFile` returns only this: it
/// streams the model to the file and keeps neither the module nor the bytes).
public struct ConversionReport {
    public var checkpoint: CheckpointSummary
    /// The architecture's options with what was inferred (vgg11's ratio).
    public var modelOptions: ModelOptions
    /// The exported input shape, batch 1 first (the batch is symbolic in the file).
    public var inputShape: [Int]
    /// Trainable scalars of the module, and the scalars of its buffers (running statistics).
    public var parameterCount: Int
    public var bufferCount: Int
    /// The metadata written, in order.
    public var metadata: [(key: String, value: String)]
    /// The model's description (`byteCount` is the serialized size).
    public var model: ONNXModelSummary
    /// Max |libd2l − toolkit| on a random batch of two, when `check` was on.
    public var checkDifference: Float?
    /// Lines worth telling the user (labels omitted, ratio inferred).
    public var notes: [String]
    /// A language model's vocabulary (`d2l.vocab`), nil for classifiers.
    public var vocab: Vocab? = nil
}

/// The outcome of an in-memory conversion: the report (its fields read through, as
/// `result.checkDifference`), the module and the serialized model.
@dynamicMemberLookup
public struct ConversionResult {
    public var report: ConversionReport
    /// The toolkit module the checkpoint was loaded into (evaluation mode).
    public var module: Module
    /// The serialized model.
    public var bytes: [UInt8]

    public subscript<T>(dynamicMember keyPath: KeyPath<ConversionReport, T>) -> T { report[keyPath: keyPath] }
}

/// A checkpoint loaded into the toolkit's model, with the graph to write (its initializers
/// share the model's parameter storage).
struct PreparedConversion {
    var checkpoint: CheckpointSummary
    var module: Module
    var modelOptions: ModelOptions
    var inputShape: [Int]
    var metadata: [(key: String, value: String)]
    var graph: ONNXGraphBuilder
    var notes: [String]
    var vocab: Vocab?

    var parameterCount: Int { module.parameterCount }
    var bufferCount: Int { vocab != nil ? 0 : module.namedBuffers().reduce(0) { $0 + $1.parameter.value.count } }

    /// The report of this conversion, with the written model's description.
    func report(model: ONNXModelSummary, checkDifference: Float?) -> ConversionReport {
        ConversionReport(checkpoint: checkpoint, modelOptions: modelOptions, inputShape: inputShape,
                         parameterCount: parameterCount, bufferCount: bufferCount, metadata: metadata,
                         model: model, checkDifference: checkDifference, notes: notes, vocab: vocab)
    }

    /// The check's inputs and the toolkit's outputs for them.
    func checkReference() throws -> CheckpointConverter.CheckReference {
        if let model = module as? RNNModel, vocab != nil {
            return try CheckpointConverter.languageModelReference(model)
        }
        return try CheckpointConverter.classifierReference(module, inputShape: inputShape)
    }
}

/// Converts checkpoints of the book's models into ONNX models (`d2l-export convert`).
///
///     let result = try CheckpointConverter.convert(inputPath: "lenet.params", outputPath: "lenet.onnx",
///                                                  options: ConversionOptions(arch: "lenet"))
public enum CheckpointConverter {
    /// d2l-export's version (D2LRuntime's `d2lVersion`), written into `d2l.producer`.
    public static let version = "\(d2lVersion)"

    /// The recurrent language models of docs/FORMAT.md (`LanguageModels.make`).
    public static let languageModels = ["rnn-lm", "gru-lm", "lstm-lm"]

    /// Every `--arch` name: the image classifiers (and `mlp-block`) of `Models`, then the
    /// language models.
    public static var architectures: [String] { Models.architectures + languageModels }

    /// Reads `inputPath`, converts it, and writes the model to `outputPath` atomically: the
    /// file appears whole or not at all, and on any error nothing is left there.
    /// - Throws: `ToolkitError`: `.io` for unreadable input or an unwritable output path
    ///   (checked before any work), `.invalidArgument` for an unknown architecture or bad
    ///   options, `.shape` for a checkpoint that does not match the architecture (every
    ///   missing, unexpected and mis-shaped key named), `.unsupported`/`.invalidData` from
    ///   the checkpoint reader.
    @discardableResult
    public static func convert(inputPath: String, outputPath: String, options: ConversionOptions) throws -> ConversionResult {
        try checkArchitecture(options.arch)
        try checkWritable(outputPath, input: inputPath)
        let checkpoint = try PyTorchCheckpoint.load(path: inputPath)
        let result = try convert(checkpoint, options: options, source: inputPath)
        try AtomicFile.write(result.bytes, to: outputPath)
        return result
    }

    /// `convert(inputPath:outputPath:options:)` in little memory, for `d2l-export convert`:
    /// the checkpoint is decoded one tensor at a time into the model, the model is streamed
    /// to the file (parameters written from the model's own storage, BatchNorm folded as
    /// they are written), and the check (`options.check`) loads the written file into
    /// libd2l only once the toolkit's model is released, comparing with the toolkit's
    /// outputs computed before. The file appears whole or not at all, after the check.
    /// - Throws: as `convert(inputPath:outputPath:options:)`.
    public static func convertFile(inputPath: String, outputPath: String, options: ConversionOptions) throws -> ConversionReport {
        try checkArchitecture(options.arch)
        try checkWritable(outputPath, input: inputPath)
        let reader = try PyTorchCheckpoint.open(path: inputPath)
        var prepared: PreparedConversion? = try prepare(reader, options: options, source: inputPath)
        var report = prepared!.report(model: ONNXModelSummary(prepared!.graph, byteCount: 0), checkDifference: nil)
        let reference = options.check ? try prepared!.checkReference() : nil
        var offsets: [ObjectIdentifier: Int] = [:]
        try AtomicFile.write(to: outputPath, beforeReplacing: { temporary in
            guard let reference else { return }
            // The same graph with its initializers read from the written file: a small
            // model whose weights libd2l reads straight from the file into its arena.
            let location = AtomicFile.splitPath(temporary).name
            var checkBytes: [UInt8] = []
            let sink = ONNXByteSink { checkBytes.append(contentsOf: $0) }
            try prepared!.graph.write(to: sink, external: ONNXProtoWriter.ExternalData(location: location, offsets: offsets))
            prepared = nil  // the toolkit's model and the graph: their weights are no longer needed
            report.checkDifference = try checkFileThroughRuntime(checkBytes, besides: temporary, reference: reference)
        }) { file in
            let sink = ONNXByteSink { try file.write($0) }
            try prepared!.graph.write(to: sink)
            offsets = sink.offsets
            report.model.byteCount = sink.byteCount
        }
        return report
    }

    /// Converts a checkpoint held in memory; returns the model's bytes without writing them.
    public static func convert(_ checkpoint: PyTorchCheckpoint, options: ConversionOptions,
                               source: String = "checkpoint") throws -> ConversionResult {
        let prepared = try prepare(CheckpointReader(checkpoint), options: options, source: source)
        let bytes = try prepared.graph.serialize()
        let summary = try ONNXModelSummary(bytes: bytes, source: "the exported model")
        let difference = options.check ? try checkThroughRuntime(bytes, reference: prepared.checkReference()) : nil
        return ConversionResult(report: prepared.report(model: summary, checkDifference: difference),
                                module: prepared.module, bytes: bytes)
    }

    /// Loads the checkpoint strictly into the architecture's model (one tensor decoded at
    /// a time) and builds the graph to write.
    static func prepare(_ checkpoint: CheckpointReader, options: ConversionOptions, source: String) throws -> PreparedConversion {
        try checkArchitecture(options.arch)
        if languageModels.contains(options.arch) {
            return try prepareLanguageModel(checkpoint, options: options, source: source)
        }
        try checkClassifierOptions(options)
        let arch = options.arch
        var notes: [String] = []

        // Options, labels and classes.
        if let labels = options.labels {
            guard !labels.isEmpty else { throw ToolkitError(.invalidArgument, "--labels: the list of labels is empty") }
            if let classes = options.classes, classes != labels.count {
                throw ToolkitError(.invalidArgument,
                                   "--labels lists \(labels.count) labels but --num-classes is \(classes); they must match")
            }
        }
        var modelOptions = ModelOptions(classes: options.classes ?? options.labels?.count, inChannels: options.inChannels,
                                        imageSize: options.imageSize, hidden: options.hidden,
                                        widthDivisor: options.widthDivisor)
        if arch == "vgg11" && options.widthDivisor == nil {
            let ratio = try inferVGGRatio(checkpoint, source: source)
            modelOptions.widthDivisor = ratio
            notes.append("vgg11: ratio \(ratio) inferred from the first convolution (\(64 / ratio) channels)")
        }
        let headline = "\(source) does not match --arch \(arch) \(Models.describe(arch, modelOptions))"
        let keys = checkpoint.entries.map { (name: $0.name, shape: $0.shape) }
        let module: Module
        do {
            module = try withCheckpointBudget(checkpoint, source: source, what: "--arch \(arch) \(Models.describe(arch, modelOptions))") {
                try Models.make(arch: arch, options: modelOptions)
            }
        } catch let error as ToolkitError {
            // A model that cannot be built for this checkpoint (far larger than it, say) of
            // an architecture with other keys: the keys are the news, not the options.
            if let expected = ArchitectureGuess.keys(of: arch) {
                let mismatch = StateDictMismatch(expected: expected, given: keys)
                if !mismatch.isEmpty { throw mismatch.error(headline, hint: ArchitectureGuess.hint(for: keys, notArch: arch)) }
            }
            throw error
        }
        let inputShape = [1] + (try Models.inputShape(arch: arch, options: modelOptions))

        // The state dictionary, strictly.
        try loadStateDict(checkpoint, into: module, headline: headline) { mismatch in
            ArchitectureGuess.hint(for: keys, notArch: arch)
                ?? (mismatch.misShaped.isEmpty ? nil : "check --num-classes, --in-channels, --image-size, --hidden and --width-divisor")
        }
        module.eval()

        // Metadata.
        let classes = try Models.resolved(arch: arch, modelOptions).classes
        var labels = options.labels
        if labels == nil {
            if classes == FashionMNIST.labels.count {
                labels = FashionMNIST.labels
            } else {
                notes.append("no d2l.labels: \(classes) classes and no --labels (classify reports class indices)")
            }
        }
        let producer = "d2l-export \(version) from " + (checkpoint.format == .safetensors ? "safetensors" : "torch state_dict")
        var metadata: [(String, String)] = [("d2l.producer", producer)]
        if inputShape.count == 4 {
            let channels = inputShape[1]
            let size = (height: inputShape[2], width: inputShape[3])
            let imagenet = arch == "torchvision-resnet18" && channels == 3
            metadata += ONNXExportMetadata.classification(
                labels: labels, channels: channels,
                mean: imagenet ? [0.485, 0.456, 0.406] : nil, std: imagenet ? [0.229, 0.224, 0.225] : nil,
                size: size == (28, 28) ? nil : size)
        } else {
            metadata.append(("d2l.task", "classification"))
            if let labels { metadata.append(("d2l.labels", ONNXExportMetadata.labels(labels))) }
        }
        metadata.append(("d2l.arch", arch))

        let graph = try onnxGraph(module, inputShape: inputShape, metadata: metadata,
                                  foldBatchNorm: options.foldBatchNorm, opset: options.opset)
        return PreparedConversion(checkpoint: CheckpointSummary(checkpoint), module: module, modelOptions: modelOptions,
                                  inputShape: inputShape, metadata: metadata.map { (key: $0.0, value: $0.1) },
                                  graph: graph, notes: notes, vocab: nil)
    }

    /// `module.loadStateDict` over a checkpoint read one tensor at a time: every key
    /// must be present with the module's shape and no other key may appear (checked from
    /// the index before any data is decoded; the error is `StateDictMismatch`'s, under
    /// `headline`, with `hint`'s guess at the cause); then each tensor is decoded and assigned
    /// (sharing its storage), so the module's initial values are released as the checkpoint's arrive.
    static func loadStateDict(_ checkpoint: CheckpointReader, into module: Module, headline: String,
                              hint: (StateDictMismatch) -> String? = { _ in nil }) throws {
        let entries = module.namedStateEntries()
        let given = Dictionary(checkpoint.entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { _, last in last })
        let mismatch = StateDictMismatch(entries, given: checkpoint.entries.map { ($0.name, $0.shape) })
        if !mismatch.isEmpty { throw mismatch.error(headline, hint: hint(mismatch)) }
        for (name, parameter) in entries {
            let index = given[name]!
            let tensor = try checkpoint.tensor(index)
            parameter.assign(Tensor(tensor.values, shape: checkpoint.entries[index].shape))
        }
    }

    /// Throws for a name that is not an architecture (listing the valid ones).
    public static func checkArchitecture(_ arch: String) throws {
        guard architectures.contains(arch) else {
            throw ToolkitError(.invalidArgument,
                               "unknown architecture '\(arch)'; valid names: " + architectures.joined(separator: ", "))
        }
    }

    /// The book's VGG `ratio` from the first convolution `0.0.weight` ([64 / ratio, C, 3, 3]).
    static func inferVGGRatio(_ checkpoint: CheckpointReader, source: String) throws -> Int {
        guard let shape = checkpoint.shape("0.0.weight"), shape.count == 4, shape[0] >= 1 else {
            throw ToolkitError(.shape, "\(source): no 4-D '0.0.weight' (VGG's first convolution) to infer the ratio from; is it a vgg11 checkpoint? Pass --width-divisor to set the ratio")
        }
        let channels = shape[0]
        guard 64 % channels == 0 else {
            throw ToolkitError(.shape, "\(source): VGG's first convolution has \(channels) output channels, which is not 64 / ratio for any ratio; pass --width-divisor")
        }
        return 64 / channels
    }

    /// Builds a model for `checkpoint` with `build`, refusing one that would hold more than
    /// twice the checkpoint's values (at least 2^16) before it is allocated: options such as
    /// `--image-size 20000` are checked against the checkpoint's tensors, not against memory.
    /// (Twice, so that a near miss still reaches the strict load, whose message names the
    /// mis-shaped tensors.)
    /// `options` names the options to check in the message.
    static func withCheckpointBudget<M>(_ checkpoint: CheckpointReader, source: String, what: String,
                                        options: String = "--num-classes, --in-channels, --image-size, --hidden and --width-divisor",
                                        _ build: () throws -> M) throws -> M {
        var values = 0
        for entry in checkpoint.entries {
            var n = 1
            for d in entry.shape { n = n.multipliedReportingOverflow(by: max(d, 0)).overflow ? Int.max : n * max(d, 0) }
            values = values.addingReportingOverflow(n).overflow ? Int.max : values + n
        }
        let limit = max(values.multipliedReportingOverflow(by: 2).overflow ? Int.max : 2 * values, 1 << 16)
        return try ConstructionBudget.withLimit(
            limit, what: what,
            advice: ", but \(source) holds \(values); check \(options)",
            build)
    }

    /// Refuses an output path whose folder is missing or not writable, that names a
    /// folder, or that is the input itself, before any work is done.
    public static func checkWritable(_ path: String, input: String? = nil) throws {
        guard !path.isEmpty else { throw ToolkitError(.io, "the output path is empty") }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (manager.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw ToolkitError(.io, "cannot write \(path): it is a folder; give a file name such as \(path.hasSuffix("/") ? path : path + "/")model.onnx")
        }
        if let input, URL(fileURLWithPath: input).standardizedFileURL.path == URL(fileURLWithPath: path).standardizedFileURL.path {
            throw ToolkitError(.io, "cannot write \(path): it is the input checkpoint; choose another output path")
        }
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        guard manager.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw ToolkitError(.io, "cannot write \(path): the folder \(folder) does not exist")
        }
        guard isDirectory.boolValue else { throw ToolkitError(.io, "cannot write \(path): \(folder) is not a folder") }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw ToolkitError(.io, "cannot write \(path): the folder \(folder) is not writable")
        }
    }

    /// The inputs of the built-in check and the toolkit's outputs for them.
    struct CheckReference {
        var inputs: [RuntimeRunner.Input]
        var expected: [Tensor]
        /// Language models: several outputs (logits and state), named in messages.
        var languageModel: Bool
    }

    /// A deterministic random batch of two for an image classifier (`inputShape` with batch
    /// 2) and the toolkit's own evaluation-mode forward.
    static func classifierReference(_ module: Module, inputShape: [Int]) throws -> CheckReference {
        var shape = inputShape
        shape[0] = 2
        // The book's networks keep at most a few dozen input-sized activations alive in a
        // forward pass (16 for ResNet-18's first 64-channel map of a 1-channel input): refuse
        // a check that could not fit in memory before allocating any of it.
        let elements = shape.reduce(1, *), activationFactor = 64
        let available = ConstructionBudget.memoryElements(share: 2)
        if elements > available / activationFactor {
            let gib = Double(elements) * Double(activationFactor) * 4 / Double(1 << 30)
            throw ToolkitError(.invalidArgument, String(
                format: "checking the export on a batch of 2 inputs of %@ would need about %.0f GiB of memory; choose a smaller --image-size or pass --no-check",
                inputShape.dropFirst().map(String.init).joined(separator: "×"), gib))
        }
        var generator = SeededGenerator(seed: 0x9E37_79B9_7F4A_7C15)
        let values = (0..<shape.reduce(1, *)).map { _ in Float(generator.next() >> 40) / Float(1 << 24) }
        let input = Tensor(values, shape: shape)
        module.eval()
        let ours = try withNoGrad { try module(input) }
        return CheckReference(inputs: [RuntimeRunner.Input(dtype: .float32, shape: shape, bytes: floatBytes(values))],
                              expected: [ours], languageModel: false)
    }

    /// Runs `bytes` through libd2l on `reference`'s inputs; the max |difference| from its outputs.
    static func checkThroughRuntime(_ bytes: [UInt8], reference: CheckReference) throws -> Float {
        let outputs = try RuntimeRunner.run(bytes: bytes, source: "the exported model", inputs: reference.inputs)
        return try compare(outputs, reference)
    }

    /// Loads `model` (a serialized graph whose initializers are external data in the
    /// file `besides`, in that file's folder) into libd2l from a temporary file next to
    /// `besides`, runs it on `reference`'s inputs and returns the max |difference|.
    static func checkFileThroughRuntime(_ model: [UInt8], besides path: String, reference: CheckReference) throws -> Float {
        let (directory, name) = AtomicFile.splitPath(path)
        let checkPath = directory + name + ".check-\(UInt32.random(in: 0 ... .max)).onnx"
        defer { unlink(checkPath) }
        try AtomicFile.write(model, to: checkPath)
        let loaded: D2LRuntime.Model
        do { loaded = try D2LRuntime.Model(path: checkPath) } catch {
            throw ToolkitError(.invalidData, "the exported model: libd2l refuses the model: \(RuntimeRunner.runtimeMessage(error))")
        }
        let outputs = try RuntimeRunner.run(loaded, source: "the exported model", inputs: reference.inputs)
        return try compare(outputs, reference)
    }

    /// The max |difference| of libd2l's outputs from the toolkit's, after checking their shapes.
    static func compare(_ outputs: [RuntimeRunner.Output], _ reference: CheckReference) throws -> Float {
        if !reference.languageModel {
            let ours = reference.expected[0]
            guard let first = outputs.first, first.shape == ours.shape else {
                throw ToolkitError(.shape, "the exported model's output has shape \(outputs.first?.shape ?? []) but the toolkit's is \(ours.shape)")
            }
            return maxDifference(first.values, ours.scalars)
        }
        guard outputs.count == reference.expected.count else {
            throw ToolkitError(.shape, "the exported model has \(outputs.count) outputs, the toolkit's \(reference.expected.count)")
        }
        var worst: Float = 0
        for (theirs, mine) in zip(outputs, reference.expected) {
            guard theirs.shape == mine.shape else {
                throw ToolkitError(.shape, "the exported model's output \(theirs.name) has shape \(theirs.shape) but the toolkit's is \(mine.shape)")
            }
            worst = max(worst, maxDifference(theirs.values, mine.scalars))
        }
        return worst
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}

/// max |a − b| (infinity where exactly one is NaN or the counts differ).
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN {
            if x.isNaN != y.isNaN { return .infinity }
            continue
        }
        if x == y { continue }  // equal infinities
        worst = max(worst, Swift.abs(x - y))
    }
    return worst
}
