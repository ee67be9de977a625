import Foundation
import D2LRuntime

/// A recurrent language model over token ids: what `predict` needs.
public protocol RecurrentLanguageModel: AnyObject {
    /// The number of tokens (logits per step).
    var vocabSize: Int { get }
    /// A zero state for `batchSize` sequences.
    func beginState(batchSize: Int) -> RecurrentState
    /// Logits `[steps·batch, vocabSize]` (time-major rows: step t, sequence b at
    /// t·batch + b) for token ids `[batch][steps]`, and the state after the last step.
    func callAsFunction(_ tokens: [[Int]], _ state: RecurrentState?) throws -> (Tensor, RecurrentState)
}

/// Token ids as a `[batch, steps]` tensor of float values (what `forward(_:)` takes) →
/// rows of ints, checked against the vocabulary.
func tokenRows(_ input: Tensor, vocabSize: Int, _ who: String) throws -> [[Int]] {
    guard input.rank == 2 else {
        throw ToolkitError(.shape, "\(who): token ids of shape \(input.shape) must be [batch, steps]")
    }
    let steps = input.shape[1]
    let values = input.scalars
    return try (0..<input.shape[0]).map { b in
        try (0..<steps).map { t in
            let v = values[b * steps + t]
            guard v == v.rounded(), v >= 0, v < Float(vocabSize) else {
                throw ToolkitError(.invalidArgument, "\(who): token id \(v) is not an integer in 0..<\(vocabSize)")
            }
            return Int(v)
        }
    }
}

/// One-hot inputs `[steps, batch, vocabSize]` for token ids `[batch][steps]` (the book's
/// `F.one_hot(inputs.T, vocab_size)`), after checking them.
func oneHotTimeMajor(_ tokens: [[Int]], vocabSize: Int, _ who: String) throws -> Tensor {
    guard let steps = tokens.first?.count, steps >= 1, tokens.allSatisfy({ $0.count == steps }) else {
        throw ToolkitError(.shape, "\(who): token ids must be [batch, steps] with batch, steps ≥ 1 and rows of equal length")
    }
    let batch = tokens.count
    var x = Tensor.zeros([steps, batch, vocabSize])
    try x.withUnsafeMutableValues { v in
        for (b, row) in tokens.enumerated() {
            for (t, id) in row.enumerated() {
                guard id >= 0 && id < vocabSize else {
                    throw ToolkitError(.invalidArgument, "\(who): token id \(id) outside 0..<\(vocabSize)")
                }
                v[(t * batch + b) * vocabSize + id] = 1
            }
        }
    }
    return x
}

/// The book's concise recurrent language model (ch. 9, `d2l.RNNModel`): one-hot token ids
/// through a recurrent layer (`rnn`: `RNN`, `GRU` or `LSTM`, any depth, either direction),
/// then `linear` (`Linear(directions·H, vocabSize)`) on every step's output. State-dict
/// keys are the book's: `rnn.weight_ih_l0`, …, `linear.weight`, `linear.bias`.
///
///     let net = RNNModel(GRU(inputSize: 28, hiddenSize: 256), vocabSize: 28)
///     let (logits, state) = try net(tokens, nil)      // tokens [batch][steps]
public final class RNNModel: Module, RecurrentLanguageModel {
    public let rnn: RecurrentLayer
    public let linear: Linear
    public let vocabSize: Int

    /// Wraps `rnn`, whose `inputSize` must be `vocabSize` (one-hot inputs).
    public init(_ rnn: RecurrentLayer, vocabSize: Int) {
        precondition(rnn.inputSize == vocabSize,
                     "RNNModel: the recurrent layer takes \(rnn.inputSize) inputs, but one-hot tokens have \(vocabSize)")
        self.rnn = rnn
        self.vocabSize = vocabSize
        self.linear = Linear(rnn.hiddenSize * rnn.numDirections, vocabSize)
        super.init()
        registerModule("rnn", rnn)
        registerModule("linear", linear)
    }

    /// The book's `begin_state`: zeros (h, and c for LSTM).
    public func beginState(batchSize: Int) -> RecurrentState { rnn.beginState(batchSize: batchSize) }

    /// Logits `[steps·batch, vocabSize]` (row t·batch + b) and the final state.
    public func callAsFunction(_ tokens: [[Int]], _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        let x = try oneHotTimeMajor(tokens, vocabSize: vocabSize, "RNNModel")
        return try run(x, state)
    }

    /// The same for token ids given as a `[batch, steps]` tensor.
    public func callAsFunction(_ tokens: Tensor, _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        try self(tokenRows(tokens, vocabSize: vocabSize, "RNNModel"), state)
    }

    private func run(_ x: Tensor, _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        let (y, newState) = try rnn(x, state)
        let logits = try linear(y.reshaped([-1, y.shape[2]]))
        return (logits, newState)
    }

    /// Logits for token ids `[batch, steps]` (float values) from a zero state.
    public override func forward(_ input: Tensor) throws -> Tensor { try self(input, nil).0 }
}

/// The book's RNN from scratch (ch. 8.5, `RNNModelScratch` with `get_params`, `rnn`):
/// parameters `W_xh` `[V, H]`, `W_hh` `[H, H]`, `b_h` `[H]`, `W_hq` `[H, V]`, `b_q` `[V]`
/// (weights N(0, 0.01²), biases 0), one-hot inputs, and per step
/// H = tanh(X W_xh + H W_hh + b_h), Y = H W_hq + b_q, written with plain tensor ops.
/// The state is `h` `[batch, H]`.
public final class RNNModelScratch: Module, RecurrentLanguageModel {
    public let vocabSize: Int
    public let hiddenSize: Int
    public let wXH: Parameter, wHH: Parameter, bH: Parameter, wHQ: Parameter, bQ: Parameter

    public init(vocabSize: Int, hiddenSize: Int) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        wXH = Parameter(Tensor.randn([vocabSize, hiddenSize]) * 0.01)
        wHH = Parameter(Tensor.randn([hiddenSize, hiddenSize]) * 0.01)
        bH = Parameter(Tensor.zeros([hiddenSize]))
        wHQ = Parameter(Tensor.randn([hiddenSize, vocabSize]) * 0.01)
        bQ = Parameter(Tensor.zeros([vocabSize]))
        super.init()
        registerExisting("W_xh", wXH)
        registerExisting("W_hh", wHH)
        registerExisting("b_h", bH)
        registerExisting("W_hq", wHQ)
        registerExisting("b_q", bQ)
    }

    /// The book's `init_rnn_state`: zeros `[batchSize, H]`.
    public func beginState(batchSize: Int) -> RecurrentState {
        RecurrentState(h: Tensor.zeros([batchSize, hiddenSize]))
    }

    public func callAsFunction(_ tokens: [[Int]], _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        let x = try oneHotTimeMajor(tokens, vocabSize: vocabSize, "RNNModelScratch")
        let batch = x.shape[1]
        var h = state?.h ?? Tensor.zeros([batch, hiddenSize])
        guard h.shape == [batch, hiddenSize], state?.c == nil else {
            throw ToolkitError(.shape, "RNNModelScratch: state of shape \(h.shape) for \(batch) sequences; expected [\(batch), \(hiddenSize)] and no cell state")
        }
        var outputs: [Tensor] = []
        for t in 0..<x.shape[0] {
            let xt = x[.at(t)]
            h = (xt.matmul(wXH.value) + h.matmul(wHH.value) + bH.value).tanh()
            outputs.append(h.matmul(wHQ.value) + bQ.value)
        }
        return (Tensor.concat(outputs, axis: 0), RecurrentState(h: h))
    }

    /// The same for token ids given as a `[batch, steps]` tensor.
    public func callAsFunction(_ tokens: Tensor, _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        try self(tokenRows(tokens, vocabSize: vocabSize, "RNNModelScratch"), state)
    }

    public override func forward(_ input: Tensor) throws -> Tensor { try self(input, nil).0 }
}

// MARK: - Prediction (predict_ch8) and sampling

/// Picks tokens from logits by docs/FORMAT.md's rule, the same in C, Python and the toolkit:
/// temperature 0 is greedy argmax (ties: lowest index); otherwise logits / temperature,
/// top-k kept (k = 0: all), softmax in float64, u = top 53 bits of the next SplitMix64
/// output × 2⁻⁵³, and the first kept token in index order whose cumulative probability
/// exceeds u. It is the runtime's `Sampler` (so libd2l and the toolkit share one code path).
public struct TokenSampler {
    private var sampler: Sampler

    /// Throws `.invalidArgument` for a negative or non-finite temperature, or top-k
    /// larger than the vocabulary.
    public init(temperature: Float = 0, topK: Int = 0, seed: UInt64 = 0, vocabSize: Int) throws {
        do {
            sampler = try Sampler(temperature: temperature, topK: topK, seed: seed, classCount: vocabSize)
        } catch {
            throw ToolkitError(.invalidArgument, "sampling: \(error.message)")
        }
    }

    /// The next token for one row of logits (consumes one SplitMix64 draw unless greedy).
    public mutating func pick(_ logits: [Float]) -> Int {
        logits.withUnsafeBufferPointer { sampler.pick($0) }
    }

    /// The next token for the last row of `logits` (`[rows, vocab]` or `[vocab]`).
    public mutating func pick(lastRowOf logits: Tensor) -> Int {
        let v = logits.shape.last ?? 1
        return logits.withUnsafeValues { all in
            sampler.pick(UnsafeBufferPointer(rebasing: all[(all.count - v)...]))
        }
    }
}

extension RecurrentLanguageModel {
    /// The book's `predict_ch8` over token ids: starting from a zero state with batch 1,
    /// feeds `prefix[0]`, warms up over the rest of the prefix (their outputs ignored), then
    /// `numTokens` times feeds the last token and picks the next with `sampler`. Returns
    /// the prefix followed by the picked ids. Runs without recording gradients.
    public func predict(prefixIDs prefix: [Int], numTokens: Int, sampler: inout TokenSampler) throws -> [Int] {
        guard let first = prefix.first else {
            throw ToolkitError(.invalidArgument, "predict: the prefix is empty (it needs at least one token)")
        }
        guard numTokens >= 0 else { throw ToolkitError(.invalidArgument, "predict: numTokens \(numTokens) is negative") }
        return try withNoGrad {
            var state = beginState(batchSize: 1)
            var outputs = [first]
            for y in prefix.dropFirst() {
                state = try self([[outputs[outputs.count - 1]]], state).1
                outputs.append(y)
            }
            for _ in 0..<numTokens {
                let (logits, next) = try self([[outputs[outputs.count - 1]]], state)
                state = next
                outputs.append(sampler.pick(lastRowOf: logits))
            }
            return outputs
        }
    }

    /// The book's `predict_ch8` on characters: the prefix split into Unicode scalars, each
    /// mapped by `tokenToIndex` (the book's `vocab[ch]`: unknown → 0, `<unk>`), then
    /// `numTokens` tokens picked greedily (temperature 0) or sampled by docs/FORMAT.md's rule
    /// with `temperature`, `topK` and `seed`; returns `indexToToken` of every id joined
    /// (the prefix included, as the book does).
    public func predict(prefix: String, numTokens: Int,
                        tokenToIndex: (String) -> Int, indexToToken: (Int) -> String,
                        temperature: Float = 0, topK: Int = 0, seed: UInt64 = 0) throws -> String {
        var sampler = try TokenSampler(temperature: temperature, topK: topK, seed: seed, vocabSize: vocabSize)
        let ids = prefix.unicodeScalars.map { tokenToIndex(String($0)) }
        let out = try predict(prefixIDs: ids, numTokens: numTokens, sampler: &sampler)
        return out.map(indexToToken).joined()
    }

    /// `predict` with the vocabulary as its token list (`vocab.idx_to_token`; index 0 is
    /// `<unk>`, which unknown characters map to).
    public func predict(prefix: String, numTokens: Int, idxToToken: [String],
                        temperature: Float = 0, topK: Int = 0, seed: UInt64 = 0) throws -> String {
        guard idxToToken.count == vocabSize else {
            throw ToolkitError(.invalidArgument, "predict: a vocabulary of \(idxToToken.count) tokens for a model of \(vocabSize)")
        }
        var index: [String: Int] = [:]
        for (i, t) in idxToToken.enumerated() where index[t] == nil { index[t] = i }
        return try predict(prefix: prefix, numTokens: numTokens,
                           tokenToIndex: { index[$0] ?? 0 }, indexToToken: { idxToToken[$0] },
                           temperature: temperature, topK: topK, seed: seed)
    }
}
