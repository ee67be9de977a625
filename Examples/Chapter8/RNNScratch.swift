import D2L

/// 8.5 Implementation of Recurrent Neural Networks from Scratch: one-hot inputs, the
/// hidden state H = tanh(X W_xh + H W_hh + b_h), gradient clipping, `train_ch8` on *The
/// Time Machine* (characters) and `predict_ch8`.
enum RNNScratch {
    static let section = BookSection(name: "rnn-scratch", number: "8.5",
                                     title: "Implementation of Recurrent Neural Networks from Scratch", run: run)

    static func run(_ book: BookContext) throws {
        Random.seed(0)
        let loader = try timeMachineLoader(book)
        let vocab = loader.vocab

        // One-hot encoding: index 0 and 2 of a 28-token vocabulary.
        book.show("F.one_hot(torch.tensor([0, 2]), len(vocab))", Tensor.oneHot([0, 2], classes: vocab.count), decimals: 0)
        // A minibatch [batch 2, steps 5] becomes [steps, batch, vocabulary] (time major).
        let x = (0..<2).map { b in (0..<5).map { b * 5 + $0 } }
        let steps = (0..<5).map { t in Tensor.oneHot(x.map { $0[t] }, classes: vocab.count) }
        print("F.one_hot(X.T, 28).shape = \(Tensor.stack(steps).shape)")

        // The model: the book's get_params (N(0, 0.01) weights, zero biases) and rnn.
        let numHiddens = book.choose(full: 512, quick: 64)
        let net = RNNModelScratch(vocabSize: vocab.count, hiddenSize: numHiddens)
        let (y, newState) = try net(x, net.beginState(batchSize: 2))
        print("Y.shape = \(y.shape), len(new_state) = 1, new_state[0].shape = \(newState.h.shape)")
        book.check(y.shape == [10, vocab.count] && newState.h.shape == [2, numHiddens],
                   "outputs are [steps·batch, vocabulary], the state [batch, hidden]")

        // Prediction before training: gibberish.
        print(try net.predict(prefix: "time traveller ", numTokens: 10, idxToToken: vocab.idxToToken))

        // Training with gradient clipping (θ = 1), lr 1, sequential partitioning.
        try trainLanguageModel(book, net, vocab: vocab, loader: loader, lr: 1)

        // The same with random sampling (a fresh model).
        let random = RNNModelScratch(vocabSize: vocab.count, hiddenSize: numHiddens)
        try trainLanguageModel(book, random, vocab: vocab, loader: try timeMachineLoader(book, useRandomIter: true),
                               lr: 1, figure: "perplexity-random-sampling")
    }
}
