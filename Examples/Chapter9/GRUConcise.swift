import D2L

/// 9.1 Gated Recurrent Units (GRU), concise: the toolkit's `GRU` layer (`nn.GRU`) in the
/// book's `RNNModel`, trained with the same settings as the scratch version.
enum GRUConcise {
    static let section = BookSection(name: "gru-concise", number: "9.1",
                                     title: "Gated Recurrent Units (GRU), Concise Implementation", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let vocab = loader.vocab
        let gruLayer = GRU(inputSize: vocab.count, hiddenSize: book.choose(full: 256, quick: 64))
        let net = RNNModel(gruLayer, vocabSize: vocab.count)
        print("state_dict keys: \(net.stateDict().map { "\($0.name) \($0.value.shape)" }.joined(separator: ", "))")
        try trainLanguageModel(book, net, vocab: vocab, loader: loader, lr: 1)
    }
}
