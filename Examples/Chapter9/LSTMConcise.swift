import D2L

/// 9.2 Long Short-Term Memory (LSTM), concise: the toolkit's `LSTM` layer (`nn.LSTM`) in
/// the book's `RNNModel`.
enum LSTMConcise {
    static let section = BookSection(name: "lstm-concise", number: "9.2",
                                     title: "Long Short-Term Memory (LSTM), Concise Implementation", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let lstmLayer = LSTM(inputSize: loader.vocab.count, hiddenSize: book.choose(full: 256, quick: 64))
        let state = lstmLayer.beginState(batchSize: 32)
        print("state: h \(state.h.shape), c \(state.c?.shape ?? [])")
        book.check(state.c?.shape == state.h.shape, "the LSTM's state holds a memory cell beside the hidden state")
        let net = RNNModel(lstmLayer, vocabSize: loader.vocab.count)
        try trainLanguageModel(book, net, vocab: loader.vocab, loader: loader, lr: 1)
    }
}
