import D2L

/// 9.4 Bidirectional Recurrent Neural Networks, and the book's warning: trained as a
/// language model, a bidirectional LSTM reaches a low perplexity (it sees the next
/// character) yet predicts nonsense, because at prediction time there is no future.
enum BidirectionalRNN {
    static let section = BookSection(name: "bidirectional-rnn", number: "9.4",
                                     title: "Bidirectional Recurrent Neural Networks", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let vocabSize = loader.vocab.count, numHiddens = book.choose(full: 256, quick: 32)
        let lstmLayer = LSTM(inputSize: vocabSize, hiddenSize: numHiddens, numLayers: book.choose(full: 2, quick: 1),
                             bidirectional: true)
        let net = RNNModel(lstmLayer, vocabSize: vocabSize)
        // Both directions' states feed the output layer: [2·H, vocabulary].
        print("linear.weight \(net.linear.namedParameters().first?.parameter.shape ?? [])")
        book.check(net.linear.namedParameters().first?.parameter.shape == [vocabSize, 2 * numHiddens],
                   "the output layer reads both directions' hidden states")
        let history = try trainLanguageModel(book, net, vocab: loader.vocab, loader: loader, lr: 1, quickEpochs: 10)
        print("(the wrong application: a low training perplexity of \(formatNumber(Float(history.last?.perplexity ?? .nan), decimals: 1)), but predictions that make no sense)")
    }
}
