import D2L

/// 9.2 Long Short-Term Memory (LSTM), from scratch: input, forget and output gates, the
/// candidate memory cell, the memory cell C and the hidden state H = O ⊙ tanh(C).
enum LSTMScratch {
    static let section = BookSection(name: "lstm-scratch", number: "9.2",
                                     title: "Long Short-Term Memory (LSTM) from Scratch", run: run)

    /// The book's `RNNModelScratch(len(vocab), num_hiddens, device, get_lstm_params, init_lstm_state, lstm)`.
    final class LSTMModelScratch: Module, RecurrentLanguageModel {
        let vocabSize: Int, numHiddens: Int
        /// (W_x·, W_h·, b_·) for the input gate, forget gate, output gate and candidate cell.
        let gates: [(wX: Parameter, wH: Parameter, b: Parameter)]
        let wHQ: Parameter, bQ: Parameter

        init(vocabSize: Int, numHiddens: Int) {
            self.vocabSize = vocabSize
            self.numHiddens = numHiddens
            func normal(_ shape: [Int]) -> Tensor { Tensor.randn(shape) * 0.01 }
            gates = (0..<4).map { _ in
                (Parameter(normal([vocabSize, numHiddens])), Parameter(normal([numHiddens, numHiddens])),
                 Parameter(Tensor.zeros([numHiddens])))
            }
            wHQ = Parameter(normal([numHiddens, vocabSize]))
            bQ = Parameter(Tensor.zeros([vocabSize]))
            super.init()
            for (gate, p) in zip(["i", "f", "o", "c"], gates) {
                registerExisting("W_x\(gate)", p.wX)
                registerExisting("W_h\(gate)", p.wH)
                registerExisting("b_\(gate)", p.b)
            }
            registerExisting("W_hq", wHQ)
            registerExisting("b_q", bQ)
        }

        /// The book's `init_lstm_state`: (H, C), both zeros [batch, hidden].
        func beginState(batchSize: Int) -> RecurrentState {
            RecurrentState(h: Tensor.zeros([batchSize, numHiddens]), c: Tensor.zeros([batchSize, numHiddens]))
        }

        /// The book's `lstm(inputs, state, params)`.
        func callAsFunction(_ tokens: [[Int]], _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
            let start = state ?? beginState(batchSize: tokens.count)
            var h = start.h, c = start.c ?? Tensor.zeros(start.h.shape)
            var outputs: [Tensor] = []
            for t in 0..<(tokens.first?.count ?? 0) {
                let x = Tensor.oneHot(tokens.map { $0[t] }, classes: vocabSize)
                func affine(_ g: Int) -> Tensor { x.matmul(gates[g].wX.value) + h.matmul(gates[g].wH.value) + gates[g].b.value }
                let i = affine(0).sigmoid(), f = affine(1).sigmoid(), o = affine(2).sigmoid()
                let cTilda = affine(3).tanh()
                c = f * c + i * cTilda
                h = o * c.tanh()
                outputs.append(h.matmul(wHQ.value) + bQ.value)
            }
            return (Tensor.concat(outputs, axis: 0), RecurrentState(h: h, c: c))
        }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let net = LSTMModelScratch(vocabSize: loader.vocab.count, numHiddens: book.choose(full: 256, quick: 64))
        book.check(net.parameters().count == 14, "the LSTM has 14 parameter tensors (3 per gate and candidate, 2 for the output)")
        try trainLanguageModel(book, net, vocab: loader.vocab, loader: loader, lr: 1)
    }
}
