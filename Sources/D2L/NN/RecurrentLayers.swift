import Foundation

/// The state a recurrent layer carries between calls: the hidden state `h`
/// `[layers·directions, batch, hidden]`, and for LSTM the cell state `c` of the same shape
/// (PyTorch's `h_n` and `(h_n, c_n)`).
public struct RecurrentState {
    /// The hidden state.
    public var h: Tensor
    /// The cell state (LSTM only; nil otherwise).
    public var c: Tensor?

    public init(h: Tensor, c: Tensor? = nil) {
        self.h = h
        self.c = c
    }

    /// The same state, untracked by autograd (truncated BPTT between minibatches: the
    /// book's `state.detach_()`).
    public func detached() -> RecurrentState { RecurrentState(h: h.detached(), c: c?.detached()) }

    /// The tensors of the state, in the order of the recurrent-model convention (h, then c).
    public var tensors: [Tensor] { c.map { [h, $0] } ?? [h] }
}

/// A multi-layer, optionally bidirectional recurrent layer with PyTorch's semantics,
/// parameter names, shapes, order and initialisation: the base of `RNN`, `GRU` and `LSTM`.
///
/// Input `[steps, batch, inputSize]` (PyTorch's default `batch_first=False`); output
/// `[steps, batch, directions·hiddenSize]` (both directions' hidden states concatenated,
/// forward first) and the final state `[layers·directions, batch, hiddenSize]` (index
/// layer·directions + direction). Parameters, per layer k, forward direction then reverse
/// (suffix `_reverse`): `weight_ih_l{k}` `[G·H, in]`, `weight_hh_l{k}` `[G·H, H]`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` `[G·H]`, where G is 1 (RNN), 3 (GRU: r, z, n) or
/// 4 (LSTM: i, f, g, o) and `in` is `inputSize` for layer 0, directions·H above. All are
/// initialised U(±1/√H) from the default generator.
///
/// Call it with a state: `let (y, state) = try lstm(x, nil)`; `forward(_:)` (and a call
/// with one argument) returns only the output, from a zero state.
public class RecurrentLayer: Module {
    public let kind: RecurrentCellKind
    public let inputSize: Int
    public let hiddenSize: Int
    public let numLayers: Int
    public let bidirectional: Bool
    /// The parameters of each layer and direction, index layer·directions + direction.
    public let cells: [(weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter)]

    init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int, bidirectional: Bool) {
        precondition(inputSize >= 1 && hiddenSize >= 1 && numLayers >= 1,
                     "\(kind.torchName): inputSize, hiddenSize and numLayers must be positive, got \(inputSize), \(hiddenSize), \(numLayers)")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bidirectional = bidirectional
        let directions = bidirectional ? 2 : 1
        let width = kind.gateCount * hiddenSize
        let bound = 1 / Float(Foundation.sqrt(Double(hiddenSize)))
        var cells: [(Parameter, Parameter, Parameter, Parameter)] = []
        var names: [(String, Parameter)] = []
        for layer in 0..<numLayers {
            let layerInput = layer == 0 ? inputSize : directions * hiddenSize
            for direction in 0..<directions {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let wih = Parameter(Tensor.rand([width, layerInput], low: -bound, high: bound))
                let whh = Parameter(Tensor.rand([width, hiddenSize], low: -bound, high: bound))
                let bih = Parameter(Tensor.rand([width], low: -bound, high: bound))
                let bhh = Parameter(Tensor.rand([width], low: -bound, high: bound))
                cells.append((wih, whh, bih, bhh))
                names += [("weight_ih" + suffix, wih), ("weight_hh" + suffix, whh),
                          ("bias_ih" + suffix, bih), ("bias_hh" + suffix, bhh)]
            }
        }
        self.cells = cells.map { (weightIH: $0.0, weightHH: $0.1, biasIH: $0.2, biasHH: $0.3) }
        super.init()
        for (name, parameter) in names { registerExisting(name, parameter) }
    }

    /// 2 when bidirectional, else 1.
    public var numDirections: Int { bidirectional ? 2 : 1 }

    /// The layer as written in PyTorch (`GRU(28, 256, num_layers=2)`), for messages.
    public var summary: String {
        var text = "\(kind.torchName)(\(inputSize), \(hiddenSize)"
        if numLayers != 1 { text += ", num_layers=\(numLayers)" }
        if kind == .rnnReLU { text += ", nonlinearity='relu'" }
        if bidirectional { text += ", bidirectional=True" }
        return text + ")"
    }

    /// The shape of `h` (and `c`) for `batchSize`: `[layers·directions, batchSize, hiddenSize]`.
    public func stateShape(batchSize: Int) -> [Int] { [numLayers * numDirections, batchSize, hiddenSize] }

    /// A zero state for `batchSize` sequences (the book's `begin_state`).
    public func beginState(batchSize: Int) -> RecurrentState {
        let zeros = Tensor.zeros(stateShape(batchSize: batchSize))
        return RecurrentState(h: zeros, c: kind == .lstm ? zeros : nil)
    }

    /// Runs the layer over `input` `[steps, batch, inputSize]` from `state` (zeros when
    /// nil); returns the output `[steps, batch, directions·hiddenSize]` and the final state.
    /// Throws `ToolkitError(.shape)` naming the shapes when the input or the state does
    /// not fit, and `.invalidArgument` for an LSTM state without `c` or another layer's
    /// state with one.
    public func callAsFunction(_ input: Tensor, _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
        try run(input, state, weights: cells.map { [$0.weightIH.value, $0.weightHH.value, $0.biasIH.value, $0.biasHH.value] })
    }

    /// The layer's function with `weights` (per cell: weight_ih, weight_hh, bias_ih,
    /// bias_hh) in place of the parameters' values (tests differentiate through them).
    func run(_ input: Tensor, _ state: RecurrentState?, weights: [[Tensor]]) throws -> (Tensor, RecurrentState) {
        precondition(weights.count == cells.count && weights.allSatisfy { $0.count == 4 })
        guard input.rank == 3, input.shape[2] == inputSize, input.shape[0] >= 1, input.shape[1] >= 1 else {
            throw ToolkitError(.shape, "\(summary): input of shape \(input.shape) must be [steps, batch, \(inputSize)] with steps and batch ≥ 1")
        }
        let steps = input.shape[0], batch = input.shape[1], H = hiddenSize
        let expected = stateShape(batchSize: batch)
        let h0: Tensor, c0: Tensor?
        if let state {
            guard state.h.shape == expected else {
                throw ToolkitError(.shape, "\(summary): hidden state of shape \(state.h.shape) for input \(input.shape); expected \(expected)")
            }
            if kind == .lstm {
                guard let c = state.c else {
                    throw ToolkitError(.invalidArgument, "\(summary): the state has no cell state c (an LSTM needs (h, c))")
                }
                guard c.shape == expected else {
                    throw ToolkitError(.shape, "\(summary): cell state of shape \(c.shape) for input \(input.shape); expected \(expected)")
                }
                c0 = c
            } else {
                guard state.c == nil else {
                    throw ToolkitError(.invalidArgument, "\(summary): the state has a cell state c, but only an LSTM takes one")
                }
                c0 = nil
            }
            h0 = state.h
        } else {
            h0 = Tensor.zeros(expected)
            c0 = kind == .lstm ? h0 : nil
        }

        let directions = numDirections
        var layerInput = input.reshaped([steps * batch, inputSize])
        var layerOutput = input
        var finalH: [Tensor] = [], finalC: [Tensor] = []
        for layer in 0..<numLayers {
            var outputs: [Tensor] = []
            for direction in 0..<directions {
                let index = layer * directions + direction
                let w = weights[index]
                let reverse = direction == 1
                let projection = Tensor.linear(layerInput, weight: w[0], bias: w[2])
                let hStart = stateSlice(h0, index, batch)
                let cStart = c0.map { stateSlice($0, index, batch) }
                let packed = Tensor.recurrentSequence(
                    kind, projection: projection, hiddenWeight: w[1], hiddenBias: w[3],
                    h0: hStart, c0: cStart, steps: steps, batch: batch, reverse: reverse)
                let last = reverse ? 0 : steps - 1
                finalH.append(packed.slice(axis: 0, start: last, end: last + 1))
                if kind == .lstm {
                    finalC.append(packed.slice(axis: 0, start: steps, end: steps + 1))
                    outputs.append(packed.slice(axis: 0, start: 0, end: steps))
                } else {
                    outputs.append(packed)
                }
            }
            layerOutput = directions == 1 ? outputs[0] : Tensor.concat(outputs, axis: 2)
            layerInput = layerOutput.reshaped([steps * batch, directions * H])
        }
        let hn = finalH.count == 1 ? finalH[0] : Tensor.concat(finalH, axis: 0)
        let cn: Tensor? = kind == .lstm ? (finalC.count == 1 ? finalC[0] : Tensor.concat(finalC, axis: 0)) : nil
        return (layerOutput, RecurrentState(h: hn, c: cn))
    }

    /// `state[index]` as `[batch, H]`.
    private func stateSlice(_ state: Tensor, _ index: Int, _ batch: Int) -> Tensor {
        if state.shape[0] == 1 { return state.reshaped([batch, hiddenSize]) }
        return state.slice(axis: 0, start: index, end: index + 1).reshaped([batch, hiddenSize])
    }

    /// The output for `input` from a zero state.
    public override func forward(_ input: Tensor) throws -> Tensor { try self(input, nil).0 }
}

/// An Elman RNN (`nn.RNN`): h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or ReLU).
public final class RNN: RecurrentLayer {
    /// The activation of `nn.RNN(nonlinearity=…)`.
    public enum Nonlinearity: String, Sendable { case tanh, relu }

    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bidirectional: Bool = false,
                nonlinearity: Nonlinearity = .tanh) {
        super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnReLU, inputSize: inputSize,
                   hiddenSize: hiddenSize, numLayers: numLayers, bidirectional: bidirectional)
    }
}

/// A gated recurrent unit (`nn.GRU`), gates r, z, n in PyTorch's order:
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
public final class GRU: RecurrentLayer {
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bidirectional: Bool = false) {
        super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bidirectional: bidirectional)
    }
}

/// Long short-term memory (`nn.LSTM`), gates i, f, g, o in PyTorch's order; the state is
/// (h, c).
public final class LSTM: RecurrentLayer {
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bidirectional: Bool = false) {
        super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bidirectional: bidirectional)
    }
}
