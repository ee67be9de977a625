import D2LRuntime
import Foundation

/// The ONNX names of an exported language model (docs/FORMAT.md's recurrent convention).
public enum LanguageModelONNXNames {
    /// Input 0: int64 token ids `[batch, steps]`.
    public static let tokens = "tokens"
    /// Input 1: the hidden state `[layers·directions, batch, H]`; input 2 (LSTM): the cell state.
    public static let h0 = "h0", c0 = "c0"
    /// Output 0: logits `[steps·batch, vocab]` (time-major rows, like `RNNModel`).
    public static let logits = "logits"
    /// Outputs 1 (and 2): the new hidden (and cell) state.
    public static let hn = "hn", cn = "cn"
}

/// Exports the book's `RNNModel` as an ONNX language model following docs/FORMAT.md's recurrent
/// convention, for libd2l's text generation (and onnxruntime):
///
/// - input 0 `tokens`: int64 `[batch, steps]` (both symbolic: one step or many);
///   input 1 `h0`: float `[layers·directions, batch, H]`; input 2 `c0` (LSTM only), same shape;
/// - output 0 `logits`: `[steps·batch, vocab]`, row t·batch + b (the last row is the next
///   token of the last sequence); output 1 `hn` (and 2 `cn`): the new state, input k's shape;
/// - metadata `d2l.producer`, `d2l.task` (`char-lm` or `word-lm`), `d2l.vocab` (`vocab.json()`).
///
/// The graph: Transpose the ids to `[steps, batch]`, OneHot (depth = vocabulary size) to
/// `[steps, batch, vocab]`, then per layer one ONNX `RNN`/`GRU`/`LSTM` node (direction
/// `bidirectional` for two directions) whose `Y` `[steps, D, batch, H]` becomes
/// `[steps, batch, D·H]` for the next layer (Squeeze, or Transpose + Reshape), a final
/// Reshape to `[steps·batch, D·H]` and `Gemm` with `linear.weight`, `linear.bias`. Layer k
/// reads its slice of `h0` (Slice when there are several layers); the final states are
/// concatenated over layers.
///
/// Weights: PyTorch's gate order becomes ONNX's (GRU r, z, n → z, r, h with
/// `linear_before_reset = 1`; LSTM i, f, g, o → i, o, f, c); per layer `rnn.W_l{k}` =
/// weight_ih `[D, G·H, in]`, `rnn.R_l{k}` = weight_hh `[D, G·H, H]`, `rnn.B_l{k}` =
/// concat(bias_ih, bias_hh) `[D, 2·G·H]`, the forward direction then `_reverse`;
/// `linear.weight` and `linear.bias` keep their state-dict keys. An `RNN` with ReLU sets
/// `activations`.
///
/// - Parameters:
///   - model: the trained ``RNNModel`` (RNN, GRU or LSTM, any layers and directions).
///   - vocab: its vocabulary: `vocab.count` must be the model's vocabulary size; written
///     as `d2l.vocab` for generation to map tokens to text.
///   - task: `char-lm` or `word-lm` (docs/FORMAT.md's `d2l.task`).
///   - opset: the default-domain opset, 14…22 (default 17).
///   - producer: the `d2l.producer` text; nil writes one naming the model and vocabulary size.
///   - path: when given, the bytes are also written there atomically.
/// - Returns: the serialized `ModelProto`.
/// - Throws: `ToolkitError(.invalidArgument)` for a vocabulary whose size is not the
///   model's, an unknown task or opset; `.io` when the file cannot be written.
@discardableResult
public func exportLanguageModel(_ model: RNNModel, vocab: Vocab, task: String = "char-lm", opset: Int = 17,
                                producer: String? = nil, path: String? = nil) throws -> [UInt8] {
    let bytes = try languageModelGraph(model, vocab: vocab, task: task, opset: opset, producer: producer).serialize()
    if let path { try AtomicFile.write(bytes, to: path) }
    return bytes
}

/// `exportLanguageModel`'s graph, not yet serialized.
func languageModelGraph(_ model: RNNModel, vocab: Vocab, task: String = "char-lm", opset: Int = 17,
                        producer: String? = nil) throws -> ONNXGraphBuilder {
    guard vocab.count == model.vocabSize else {
        throw ToolkitError(.invalidArgument,
                           "exportLanguageModel: the vocabulary has \(vocab.count) tokens, but the model predicts \(model.vocabSize)")
    }
    guard task == "char-lm" || task == "word-lm" else {
        throw ToolkitError(.invalidArgument, "exportLanguageModel: task '\(task)' must be char-lm or word-lm")
    }
    guard (14...22).contains(opset) else {
        throw ToolkitError(.invalidArgument, "exportLanguageModel: opset \(opset) is not supported (14…22)")
    }
    typealias Names = LanguageModelONNXNames
    let rnn = model.rnn
    let V = model.vocabSize, H = rnn.hiddenSize, L = rnn.numLayers, D = rnn.numDirections
    let isLSTM = rnn.kind == .lstm
    let stateShape: [ONNXDimension] = [.fixed(L * D), .symbolic("batch"), .fixed(H)]

    var b = ONNXGraphBuilder(graphName: "RNNModel", opset: opset)
    b.irVersion = opset <= 18 ? 8 : opset <= 20 ? 9 : 10
    b.producerName = "d2l"
    b.addInput(name: Names.tokens, elementType: .int64, shape: [.symbolic("batch"), .symbolic("steps")])
    b.addInput(name: Names.h0, elementType: .float, shape: stateShape)
    if isLSTM { b.addInput(name: Names.c0, elementType: .float, shape: stateShape) }

    // One-hot inputs [steps, batch, V] (the book's F.one_hot(inputs.T, vocab_size)).
    let ids = b.addNode("Transpose", inputs: [Names.tokens], outputPrefix: "tokens_T", attributes: [.ints("perm", [1, 0])])
    let depth = b.addInitializer(name: "one_hot.depth", shape: [1], int64s: [Int64(V)])
    let onOff = b.addInitializer(name: "one_hot.values", shape: [2], values: [0, 1])
    var x = b.addNode("OneHot", inputs: [ids, depth, onOff], outputPrefix: "one_hot", attributes: [.int("axis", -1)])

    let (opType, gateOrder): (String, [Int]) = switch rnn.kind {
    case .gru: ("GRU", [1, 0, 2])          // PyTorch r, z, n → ONNX z, r, h
    case .lstm: ("LSTM", [0, 3, 1, 2])     // PyTorch i, f, g, o → ONNX i, o, f, c
    case .rnnTanh, .rnnReLU: ("RNN", [0])
    }
    /// `t`'s rows, blocks of H in `gateOrder`.
    func reordered(_ t: Tensor) -> [Float] {
        let values = t.scalars
        let rowLength = t.rank == 2 ? t.shape[1] : 1
        let block = H * rowLength
        return gateOrder.flatMap { g in values[(g * block)..<((g + 1) * block)] }
    }
    let sliceAxes = L > 1 ? b.addInitializer(name: "state.axes", shape: [1], int64s: [0]) : ""
    var finalH: [String] = [], finalC: [String] = []
    for k in 0..<L {
        let cells = (0..<D).map { rnn.cells[k * D + $0] }
        let inputSize = cells[0].weightIH.shape[1]
        let G = rnn.kind.gateCount
        let w = b.addInitializer(name: "rnn.W_l\(k)", shape: [D, G * H, inputSize],
                                 values: cells.flatMap { reordered($0.weightIH.value) })
        let r = b.addInitializer(name: "rnn.R_l\(k)", shape: [D, G * H, H],
                                 values: cells.flatMap { reordered($0.weightHH.value) })
        let bias = b.addInitializer(name: "rnn.B_l\(k)", shape: [D, 2 * G * H],
                                    values: cells.flatMap { reordered($0.biasIH.value) + reordered($0.biasHH.value) })
        let starts = L > 1 ? b.addInitializer(name: "state.starts_l\(k)", shape: [1], int64s: [Int64(k * D)]) : ""
        let ends = L > 1 ? b.addInitializer(name: "state.ends_l\(k)", shape: [1], int64s: [Int64((k + 1) * D)]) : ""
        func layerState(_ name: String) -> String {
            guard L > 1 else { return name }
            return b.addNode("Slice", inputs: [name, starts, ends, sliceAxes], outputPrefix: "\(name)_l\(k)")
        }
        let hStart = layerState(Names.h0)
        let cStart = isLSTM ? layerState(Names.c0) : nil
        var attributes: [ONNXAttribute] = [.int("hidden_size", H)]
        if D == 2 { attributes.append(.string("direction", "bidirectional")) }
        switch rnn.kind {
        case .gru: attributes.append(.int("linear_before_reset", 1))
        case .rnnReLU: attributes.append(.strings("activations", Array(repeating: "Relu", count: D)))
        default: break
        }
        let y = b.uniqueName("rnn/Y_l\(k)")
        let yh = L == 1 ? Names.hn : b.uniqueName("rnn/Y_h_l\(k)")
        let yc = isLSTM ? (L == 1 ? Names.cn : b.uniqueName("rnn/Y_c_l\(k)")) : nil
        var inputs = [x, w, r, bias, "", hStart]
        if let cStart { inputs.append(cStart) }
        b.addNode(opType, inputs: inputs, outputs: [y, yh] + (yc.map { [$0] } ?? []), name: "rnn/\(opType)_l\(k)",
                  attributes: attributes)
        finalH.append(yh)
        if let yc { finalC.append(yc) }
        // Y [steps, D, batch, H] → [steps, batch, D·H].
        if D == 1 {
            let axes = b.addInitializer(name: "rnn/squeeze_axes_l\(k)", shape: [1], int64s: [1])
            x = b.addNode("Squeeze", inputs: [y, axes], outputPrefix: "rnn/out_l\(k)")
        } else {
            let t = b.addNode("Transpose", inputs: [y], outputPrefix: "rnn/Y_T_l\(k)", attributes: [.ints("perm", [0, 2, 1, 3])])
            let shape = b.addInitializer(name: "rnn/concat_shape_l\(k)", shape: [3], int64s: [0, 0, Int64(D * H)])
            x = b.addNode("Reshape", inputs: [t, shape], outputPrefix: "rnn/out_l\(k)")
        }
    }
    if L > 1 {
        b.addNode("Concat", inputs: finalH, outputs: [Names.hn], attributes: [.int("axis", 0)])
        if isLSTM { b.addNode("Concat", inputs: finalC, outputs: [Names.cn], attributes: [.int("axis", 0)]) }
    }
    // linear(Y.reshape(-1, D·H)).
    let flatShape = b.addInitializer(name: "linear/input_shape", shape: [2], int64s: [-1, Int64(D * H)])
    let flat = b.addNode("Reshape", inputs: [x, flatShape], outputPrefix: "linear/input")
    let weight = model.linear.weight.value, linearBias = model.linear.bias?.value ?? Tensor.zeros([V])
    b.addInitializer(name: "linear.weight", shape: weight.shape, values: weight.scalars)
    b.addInitializer(name: "linear.bias", shape: linearBias.shape, values: linearBias.scalars)
    b.addNode("Gemm", inputs: [flat, "linear.weight", "linear.bias"], outputs: [Names.logits], name: "linear/Gemm",
              attributes: [.int("transB", 1)])

    b.addOutput(name: Names.logits, elementType: .float, shape: [.symbolic("steps_x_batch"), .fixed(V)])
    b.addOutput(name: Names.hn, elementType: .float, shape: stateShape)
    if isLSTM { b.addOutput(name: Names.cn, elementType: .float, shape: stateShape) }
    b.metadata = [
        (key: "d2l.producer", value: producer ?? "d2l toolkit exportLanguageModel from RNNModel(\(rnn.summary), vocab_size=\(V))"),
        (key: "d2l.task", value: task),
        (key: "d2l.vocab", value: vocab.json()),
    ]
    return b
}

/// A recurrent language model (docs/FORMAT.md's convention) run through libd2l's runtime: the
/// same `Session.generate` the C API and Python use, for `d2l-cli generate` and for checking
/// an export against the toolkit's `predict`.
public final class RuntimeLanguageModel {
    public let model: D2LRuntime.Model
    private let session: D2LRuntime.Session
    private let path: String

    /// Loads and validates `path`.
    /// - Throws: `ToolkitError(.invalidData)` with the runtime's message.
    public init(path: String, threads: Int = 1) throws {
        self.path = path
        do {
            model = try D2LRuntime.Model(path: path)
            session = D2LRuntime.Session(model: model)
            try session.setThreads(threads)
        } catch {
            throw ToolkitError(.invalidData, "\(path): \(error.message)")
        }
    }

    /// Metadata value for `key` (`d2l.vocab`, `d2l.task`, …), or nil.
    public func metadata(_ key: String) -> String? { model.metadata(key) }

    /// The book's `predict_ch8` through libd2l: `prefix`, then `numTokens` tokens, greedy
    /// (temperature 0) or sampled by docs/FORMAT.md's rule with `topK` and `seed`.
    /// - Throws: `ToolkitError(.invalidArgument)` for bad arguments, `.invalidData` for a
    ///   model that does not follow the recurrent convention or lacks `d2l.vocab`.
    public func generate(prefix: String, numTokens: Int, temperature: Float = 0, topK: Int = 0,
                         seed: UInt64 = 0) throws -> String {
        do {
            return try session.generate(prefix: prefix, count: numTokens, temperature: temperature, topK: topK, seed: seed)
        } catch {
            let kind: ToolkitError.Kind = error.status == .invalidArgument ? .invalidArgument : .invalidData
            throw ToolkitError(kind, "\(path): \(error.message)")
        }
    }
}
