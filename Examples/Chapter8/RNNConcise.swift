import D2L

/// 8.6 Concise Implementation of Recurrent Neural Networks: `RNN` (the toolkit's
/// `nn.RNN`) and the book's `RNNModel` (a linear output layer on every step).
enum RNNConcise {
    static let section = BookSection(name: "rnn-concise", number: "8.6",
                                     title: "Concise Implementation of Recurrent Neural Networks", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let vocab = loader.vocab
        let numHiddens = book.choose(full: 256, quick: 64)
        let rnnLayer = RNN(inputSize: vocab.count, hiddenSize: numHiddens)
        let state = rnnLayer.beginState(batchSize: 32)
        print("state.shape = \(state.h.shape)")
        let x = Tensor.rand([35, 32, vocab.count])
        let (y, newState) = try rnnLayer(x, state)
        print("Y.shape = \(y.shape), state_new.shape = \(newState.h.shape)")
        book.check(state.h.shape == [1, 32, numHiddens] && y.shape == [35, 32, numHiddens],
                   "the layer's state is [layers, batch, hidden] and its output [steps, batch, hidden]")

        let net = RNNModel(rnnLayer, vocabSize: vocab.count)
        print(try net.predict(prefix: "time traveller", numTokens: 10, idxToToken: vocab.idxToToken))
        try trainLanguageModel(book, net, vocab: vocab, loader: loader, lr: 1)
    }
}
