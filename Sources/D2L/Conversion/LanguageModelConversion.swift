import D2LRuntime
import Foundation

// d2l-export's language models (docs/FORMAT.md, "Command-line names", the recurrent convention): a
// state dict of the book's `RNNModel` (`rnn.weight_ih_l0`, …, `linear.weight`,
// `linear.bias`) is loaded strictly into `LanguageModels.make` and written with
// `exportLanguageModel`, with the vocabulary given as a token list or rebuilt from the
// corpus exactly as the book does.

/// Where a language model's vocabulary comes from (`--vocab`, `--vocab-corpus`).
public enum LanguageModelVocabulary {
    /// A JSON array of tokens in index order (`vocab.idx_to_token`, `d2l.vocab`), index 0 `<unk>`.
    /// - Throws: `ToolkitError(.io)` when unreadable, `.invalidData` when not such an array.
    public static func load(json path: String) throws -> Vocab {
        let bytes: [UInt8]
        do { bytes = try BoundedFile.read(path: path, limit: 64 << 20, what: "a vocabulary") } catch let error as ToolkitError {
            throw ToolkitError(error.kind, "--vocab: \(error.message)")
        }
        guard let tokens = try? JSONDecoder().decode([String].self, from: Data(bytes)) else {
            throw ToolkitError(.invalidData, "--vocab: \(path) is not a JSON array of strings (the tokens in index order, e.g. [\"<unk>\", \" \", \"e\"])")
        }
        do { return try Vocab(idxToToken: tokens) } catch let error as ToolkitError {
            throw ToolkitError(.invalidData, "--vocab: \(path): \(error.message)")
        }
    }

    /// The book's vocabulary of a corpus: its lines cleaned as `read_time_machine` does
    /// (`re.sub('[^A-Za-z]+', ' ', line).strip().lower()`), `tokenize(lines, token)`, then
    /// `Vocab(tokens)` (no minimum frequency, no reserved tokens).
    /// - Throws: `ToolkitError(.io)` when unreadable, `.invalidData` when empty or not text.
    public static func rebuild(corpus path: String, token: TokenKind) throws -> Vocab {
        let bytes: [UInt8]
        do { bytes = try BoundedFile.read(path: path, limit: 1 << 30, what: "a corpus") } catch let error as ToolkitError {
            throw ToolkitError(error.kind, "--vocab-corpus: \(error.message)")
        }
        let lines = try TimeMachine.cleanLines(bytes, what: "--vocab-corpus \(path)")
        return Vocab(tokens: tokenize(lines, token: token))
    }
}

extension CheckpointConverter {
    /// What a language-model checkpoint says about its shape.
    struct LanguageModelShape {
        var vocabSize: Int
        var hidden: Int
        var layers: Int
        var bidirectional: Bool
        /// weight_hh_l0's rows / H: 1 (RNN), 3 (GRU), 4 (LSTM).
        var gates: Int
    }

    /// Infers vocabulary size, hidden size, layers and directions from the book's keys.
    static func languageModelShape(_ checkpoint: CheckpointReader, source: String) throws -> LanguageModelShape {
        let names = checkpoint.entries.map(\.name)
        guard let hh = checkpoint.shape("rnn.weight_hh_l0"), hh.count == 2, hh[1] >= 1,
              let linear = checkpoint.shape("linear.weight"), linear.count == 2 else {
            let missing = ["rnn.weight_hh_l0", "linear.weight"].filter { checkpoint.shape($0) == nil }
            throw ToolkitError(.shape, "\(source) is not a checkpoint of the book's RNNModel"
                + (missing.isEmpty ? " (rnn.weight_hh_l0 or linear.weight is not 2-D)" : " (no \(missing.joined(separator: ", ")))")
                + "; its keys: " + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
                + (ArchitectureGuess.hint(for: checkpoint.entries.map { ($0.name, $0.shape) }).map { "; " + $0 } ?? ""))
        }
        var layers = 0
        while names.contains("rnn.weight_ih_l\(layers)") { layers += 1 }
        let hidden = hh[1]
        return LanguageModelShape(vocabSize: linear[0], hidden: hidden, layers: max(layers, 1),
                                  bidirectional: names.contains { $0.hasPrefix("rnn.") && $0.hasSuffix("_reverse") },
                                  gates: hh[0] % hidden == 0 ? hh[0] / hidden : 0)
    }

    /// The classifier-only options, refused for language models.
    static func checkLanguageModelOptions(_ options: ConversionOptions) throws {
        var given: [String] = []
        if options.classes != nil { given.append("--num-classes") }
        if options.inChannels != nil { given.append("--in-channels") }
        if options.imageSize != nil { given.append("--image-size") }
        if options.widthDivisor != nil { given.append("--width-divisor") }
        if options.labels != nil { given.append("--labels") }
        guard given.isEmpty else {
            throw ToolkitError(.invalidArgument, "\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to the classifiers, not to --arch \(options.arch) (a language model takes --vocab or --vocab-corpus, --token, --hidden, --layers, --bidirectional)")
        }
    }

    /// The language-model-only options, refused for classifiers.
    static func checkClassifierOptions(_ options: ConversionOptions) throws {
        var given: [String] = []
        if options.layers != nil { given.append("--layers") }
        if options.bidirectional != nil { given.append("--bidirectional") }
        if options.vocab != nil { given.append("--vocab") }
        guard given.isEmpty else {
            throw ToolkitError(.invalidArgument, "\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to the language models (\(languageModels.joined(separator: ", "))), not to --arch \(options.arch)")
        }
    }

    /// `prepare` for `rnn-lm`, `gru-lm`, `lstm-lm`.
    static func prepareLanguageModel(_ checkpoint: CheckpointReader, options: ConversionOptions,
                                     source: String) throws -> PreparedConversion {
        let arch = options.arch
        try checkLanguageModelOptions(options)
        guard let vocab = options.vocab else {
            throw ToolkitError(.invalidArgument, "--arch \(arch) needs the vocabulary: --vocab FILE.json (the tokens in index order) or --vocab-corpus TEXT with --token char|word (rebuilt as the book does)")
        }
        let shape = try languageModelShape(checkpoint, source: source)
        guard vocab.count == shape.vocabSize else {
            throw ToolkitError(.shape, "the vocabulary has \(vocab.count) tokens but \(source) predicts \(shape.vocabSize) (linear.weight has \(shape.vocabSize) rows); give the vocabulary the model was trained with")
        }
        var notes: [String] = []
        let hidden = options.hidden ?? shape.hidden
        let layers = options.layers ?? shape.layers
        let bidirectional = options.bidirectional ?? shape.bidirectional
        guard hidden >= 1, layers >= 1 else {
            throw ToolkitError(.invalidArgument, "--hidden and --layers must be positive, got \(hidden) and \(layers)")
        }
        var inferred: [String] = []
        if options.hidden == nil { inferred.append("hidden \(hidden)") }
        if options.layers == nil { inferred.append(counted(layers, "layer")) }
        if options.bidirectional == nil { inferred.append(bidirectional ? "bidirectional" : "one direction") }
        if !inferred.isEmpty { notes.append("\(arch): " + inferred.joined(separator: ", ") + " inferred from the checkpoint") }

        let model = try withCheckpointBudget(checkpoint, source: source, what: "--arch \(arch) with hidden \(hidden) and \(counted(layers, "layer"))",
                                         options: "--hidden and --layers") {
            try LanguageModels.make(arch, vocabSize: vocab.count, hidden: hidden, layers: layers,
                                    bidirectional: bidirectional)
        }
        let described = "--arch \(arch) (vocabulary \(vocab.count), hidden \(hidden), \(counted(layers, "layer"))\(bidirectional ? ", bidirectional" : ""))"
        try loadStateDict(checkpoint, into: model, headline: "\(source) does not match \(described)") { mismatch in
            if shape.gates != model.rnn.kind.gateCount, let other = [1: "rnn-lm", 3: "gru-lm", 4: "lstm-lm"][shape.gates] {
                return "rnn.weight_hh_l0 has \(shape.gates)·H rows: a checkpoint of --arch \(other)?"
            }
            return mismatch.misShaped.isEmpty ? nil : "check --hidden, --layers and --bidirectional"
        }
        model.eval()

        let task = options.token == .word ? "word-lm" : "char-lm"
        let producer = "d2l-export \(version) from " + (checkpoint.format == .safetensors ? "safetensors" : "torch state_dict")
        let graph = try languageModelGraph(model, vocab: vocab, task: task, opset: options.opset, producer: producer)
        return PreparedConversion(
            checkpoint: CheckpointSummary(checkpoint), module: model, modelOptions: ModelOptions(hidden: hidden),
            inputShape: [1, 1], metadata: graph.metadata, graph: graph, notes: notes, vocab: vocab)
    }

    /// Two deterministic random sequences of four tokens from a random state, and the
    /// toolkit's logits and new state(s) for them.
    static func languageModelReference(_ model: RNNModel) throws -> CheckReference {
        let batch = 2, steps = 4, V = model.vocabSize
        let rnn = model.rnn
        let stateShape = [rnn.numLayers * rnn.numDirections, batch, rnn.hiddenSize]
        var generator = SeededGenerator(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { generator.next() }
        let tokens = (0..<batch).map { _ in (0..<steps).map { _ in Int(next() % UInt64(V)) } }
        func randomState() -> [Float] {
            (0..<stateShape.reduce(1, *)).map { _ in Float(next() % 2001) / 1000 - 1 }
        }
        let isLSTM = rnn.kind == .lstm
        let h0 = randomState(), c0 = isLSTM ? randomState() : nil
        let start = RecurrentState(h: Tensor(h0, shape: stateShape), c: c0.map { Tensor($0, shape: stateShape) })
        let (logits, state) = try withNoGrad { try model(tokens, start) }
        var inputs = [RuntimeRunner.Input(dtype: .int64, shape: [batch, steps],
                                          bytes: tokens.flatMap { $0 }.map(Int64.init).withUnsafeBytes { Array($0) }),
                      RuntimeRunner.Input(dtype: .float32, shape: stateShape, bytes: floatBytes(h0))]
        if let c0 { inputs.append(RuntimeRunner.Input(dtype: .float32, shape: stateShape, bytes: floatBytes(c0))) }
        return CheckReference(inputs: inputs, expected: [logits] + state.tensors, languageModel: true)
    }
}
