import D2L

/// 9.3 Deep Recurrent Neural Networks: an LSTM of two layers (`num_layers = 2`), each
/// layer's hidden states the next one's inputs.
enum DeepRNN {
    static let section = BookSection(name: "deep-rnn", number: "9.3", title: "Deep Recurrent Neural Networks", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let vocabSize = loader.vocab.count, numHiddens = book.choose(full: 256, quick: 32), numLayers = 2
        let lstmLayer = LSTM(inputSize: vocabSize, hiddenSize: numHiddens, numLayers: numLayers)
        print(lstmLayer.summary)
        let state = lstmLayer.beginState(batchSize: 32)
        print("state: h \(state.h.shape)")
        book.check(state.h.shape == [numLayers, 32, numHiddens], "one hidden state per layer")
        let net = RNNModel(lstmLayer, vocabSize: vocabSize)
        // The book trains deep LSTMs with lr 2.
        try trainLanguageModel(book, net, vocab: loader.vocab, loader: loader, lr: 2, quickEpochs: 12)
    }
}
