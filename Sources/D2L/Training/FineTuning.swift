/// Starting a fine-tuning run (the book's 13.2): a pretrained checkpoint of an
/// architecture, loaded except its output layer, which is replaced for the new classes.
public enum FineTuning {
    /// A pretrained model ready to fine-tune: the new head in place.
    public struct Pretrained {
        public let model: Module
        /// The replaced output layer (Xavier-uniform weight, as the book's `fc`).
        public let head: Linear
        /// The checkpoint's input channels (1 or 3).
        public let channels: Int
        /// The classes the checkpoint was trained on (its head's rows).
        public let checkpointClasses: Int
        /// The checkpoint's format and its metadata (safetensors only; empty for torch files).
        public let format: PyTorchCheckpoint.Format
        public let metadata: [String: String]
        /// The head's parameters, then every other parameter (the two parameter groups).
        public var bodyParameters: [Parameter] {
            let head = Set(self.head.parameters().map(ObjectIdentifier.init))
            return model.parameters().filter { !head.contains(ObjectIdentifier($0)) }
        }
    }

    /// Builds `arch` at `imageSize` with the channels and class count of the checkpoint at
    /// `path` (a torch `state_dict` file or a toolkit checkpoint), loads every tensor but
    /// the output layer's (``Models/classifierHeadName(arch:)``), and replaces the output
    /// layer with a new one of `classes` outputs.
    /// - Throws: ``ToolkitError`` `.invalidArgument` for an unknown architecture or one
    ///   without a linear head; the reader's `.io` / `.invalidData` / `.unsupported` errors;
    ///   `.shape` when the checkpoint does not fit `arch` (missing, unexpected or mis-shaped
    ///   keys outside the output layer: `StateDictMismatch`'s message, with the architecture
    ///   its keys look like).
    public static func loadPretrained(arch: String, from path: String, imageSize: Int, classes: Int) throws -> Pretrained {
        let headName = try Models.classifierHeadName(arch: arch)
        let checkpoint = try PyTorchCheckpoint.load(path: path)
        let metadata = checkpoint.format == .safetensors ? try SafeTensorsFile.read(path: path).metadata : [:]
        let tensors = Dictionary(checkpoint.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { _, last in last })
        guard let headWeight = tensors[headName + ".weight"], headWeight.shape.count == 2, headWeight.shape[0] >= 1 else {
            throw ToolkitError(.shape, "\(path) does not fit \(arch): it has no output layer '\(headName).weight' "
                               + "of shape [classes, features]" + keysHint(checkpoint.tensors.map(\.name))
                               + (ArchitectureGuess.hint(for: checkpoint.tensors.map { ($0.name, $0.tensor.shape) }, notArch: arch)
                                   .map { "; " + $0 } ?? ""))
        }
        // The input channels are those of the first convolution's (or linear layer's) weight.
        var options = ModelOptions(classes: headWeight.shape[0], imageSize: imageSize)
        let probe = try Models.make(arch: arch, options: options)
        if let first = probe.namedParameters().first(where: { $0.parameter.shape.count == 4 }),
           let given = tensors[first.name], given.shape.count == 4, given.shape[1] != first.parameter.shape[1] {
            options.inChannels = given.shape[1]
        }
        let model = options.inChannels == nil ? probe : try Models.make(arch: arch, options: options)
        let channels = model.namedParameters().first(where: { $0.parameter.shape.count == 4 })?.parameter.shape[1] ?? 1

        // Everything but the head must fit.
        let isHead = { (name: String) in name.hasPrefix(headName + ".") }
        var mismatch = StateDictMismatch(model.namedStateEntries(), given: checkpoint.tensors.map { ($0.name, $0.tensor.shape) })
        mismatch.missing.removeAll(where: isHead)
        mismatch.misShaped.removeAll { isHead($0.name) }
        if !mismatch.isEmpty {
            let keys = checkpoint.tensors.map { (name: $0.name, shape: $0.tensor.shape) }
            throw mismatch.error("\(path) does not fit \(arch) at \(imageSize)×\(imageSize)",
                                 hint: ArchitectureGuess.hint(for: keys, notArch: arch))
        }
        let state = checkpoint.tensors.filter { !isHead($0.name) }.map { (name: $0.name, value: Tensor($0.tensor.values, shape: $0.tensor.shape)) }
        try model.loadStateDict(state, strict: false)
        let head = try Models.replaceClassifierHead(of: model, arch: arch, classes: classes)
        return Pretrained(model: model, head: head, channels: channels, checkpointClasses: headWeight.shape[0],
                          format: checkpoint.format, metadata: metadata)
    }

    /// ` (its keys: a, b …)` for an error about a checkpoint's keys.
    static func keysHint(_ names: [String]) -> String {
        names.isEmpty ? " (it holds no tensors)" : " (its keys: \(StateDictMismatch.listed(names)))"
    }
}
