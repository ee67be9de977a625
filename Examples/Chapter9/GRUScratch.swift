import D2L

/// 9.1 Gated Recurrent Units (GRU), from scratch: the book's `get_params` (update gate
/// Z, reset gate R, candidate H̃, output layer) and `gru`, trained with `train_ch8`.
enum GRUScratch {
    static let section = BookSection(name: "gru-scratch", number: "9.1",
                                     title: "Gated Recurrent Units (GRU) from Scratch", run: run)

    /// The book's `RNNModelScratch(len(vocab), num_hiddens, device, get_params, init_gru_state, gru)`.
    final class GRUModelScratch: Module, RecurrentLanguageModel {
        let vocabSize: Int, numHiddens: Int
        let wXZ: Parameter, wHZ: Parameter, bZ: Parameter   // update gate
        let wXR: Parameter, wHR: Parameter, bR: Parameter   // reset gate
        let wXH: Parameter, wHH: Parameter, bH: Parameter   // candidate hidden state
        let wHQ: Parameter, bQ: Parameter                   // output layer

        init(vocabSize: Int, numHiddens: Int) {
            self.vocabSize = vocabSize
            self.numHiddens = numHiddens
            let (i, h, o) = (vocabSize, numHiddens, vocabSize)
            func normal(_ shape: [Int]) -> Tensor { Tensor.randn(shape) * 0.01 }
            func three() -> (Parameter, Parameter, Parameter) {
                (Parameter(normal([i, h])), Parameter(normal([h, h])), Parameter(Tensor.zeros([h])))
            }
            (wXZ, wHZ, bZ) = three()
            (wXR, wHR, bR) = three()
            (wXH, wHH, bH) = three()
            wHQ = Parameter(normal([h, o]))
            bQ = Parameter(Tensor.zeros([o]))
            super.init()
            for (name, p) in [("W_xz", wXZ), ("W_hz", wHZ), ("b_z", bZ), ("W_xr", wXR), ("W_hr", wHR), ("b_r", bR),
                              ("W_xh", wXH), ("W_hh", wHH), ("b_h", bH), ("W_hq", wHQ), ("b_q", bQ)] {
                registerExisting(name, p)
            }
        }

        /// The book's `init_gru_state`: zeros [batch, hidden].
        func beginState(batchSize: Int) -> RecurrentState { RecurrentState(h: Tensor.zeros([batchSize, numHiddens])) }

        /// The book's `gru(inputs, state, params)` over one-hot inputs, time major.
        func callAsFunction(_ tokens: [[Int]], _ state: RecurrentState?) throws -> (Tensor, RecurrentState) {
            var h = state?.h ?? beginState(batchSize: tokens.count).h
            var outputs: [Tensor] = []
            for t in 0..<(tokens.first?.count ?? 0) {
                let x = Tensor.oneHot(tokens.map { $0[t] }, classes: vocabSize)
                let z = (x.matmul(wXZ.value) + h.matmul(wHZ.value) + bZ.value).sigmoid()
                let r = (x.matmul(wXR.value) + h.matmul(wHR.value) + bR.value).sigmoid()
                let hTilda = (x.matmul(wXH.value) + (r * h).matmul(wHH.value) + bH.value).tanh()
                h = z * h + (1 - z) * hTilda
                outputs.append(h.matmul(wHQ.value) + bQ.value)
            }
            return (Tensor.concat(outputs, axis: 0), RecurrentState(h: h))
        }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let net = GRUModelScratch(vocabSize: loader.vocab.count, numHiddens: book.choose(full: 256, quick: 64))
        print("parameters: \(net.namedParameters().map { "\($0.name) \($0.parameter.shape)" }.joined(separator: ", "))")
        book.check(net.parameters().count == 11, "the GRU has 11 parameter tensors (3 per gate and candidate, 2 for the output)")
        try trainLanguageModel(book, net, vocab: loader.vocab, loader: loader, lr: 1)
    }
}
