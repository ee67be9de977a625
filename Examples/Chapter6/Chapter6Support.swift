import D2L

// Helpers that several chapter 6 and 7 sections share, as the book's `d2l.corr2d` is
// defined in 6.2 and used again in 6.4.

/// The book's 2-D cross-correlation (6.2), a plain loop over the output: `Y[i, j]` is
/// the sum of the window of `X` at (i, j) times `K`. X `[h, w]`, K `[kh, kw]` →
/// `[h − kh + 1, w − kw + 1]`. Each output is a recorded sum (stacked at the end), so
/// gradients flow back to X and K.
func corr2d(_ X: Tensor, _ K: Tensor) -> Tensor {
    let (h, w) = (K.shape[0], K.shape[1])
    let (outH, outW) = (X.shape[0] - h + 1, X.shape[1] - w + 1)
    var Y: [Tensor] = []
    for i in 0..<outH {
        for j in 0..<outW {
            Y.append((X[.range(i..<(i + h)), .range(j..<(j + w))] * K).sum())
        }
    }
    return Tensor.stack(Y).reshaped([outH, outW])
}

/// `layer output shape: [1, 6, 28, 28]` for every layer of `net` applied in turn to `X`
/// (the book's `for layer in net: X = layer(X); print(layer.__class__.__name__, ...)`);
/// returns the shapes. Runs without gradients.
@discardableResult
func printLayerShapes(_ net: Sequential, _ X: Tensor) throws -> [[Int]] {
    var X = X, shapes: [[Int]] = []
    try withNoGrad {
        for layer in net.layers {
            X = try layer(X)
            shapes.append(X.shape)
            print("\(type(of: layer)) output shape: \(X.shape)")
        }
    }
    return shapes
}

/// The book's `train_ch6`: Xavier-uniform initialisation of every Linear and Conv2d
/// weight, minibatch SGD with learning rate `lr` on the cross-entropy loss, test accuracy
/// after each epoch, on Fashion-MNIST resized to `resize` (nil: 28×28). `quick` gives the
/// subset sizes, the epochs and the batch size of a `--quick` run. Prints each epoch's
/// figures and the book's closing lines (`loss 0.469, train acc 0.823, test acc 0.779`,
/// `N examples/sec`), the minibatch-loss summary, and saves the book's curves as
/// `FIGURE.svg`; checks that the first layer's weights changed. Returns the trainer
/// (its history and `batchLosses`) for the section's checks.
@discardableResult
func trainCh6(_ book: BookContext, _ net: Module, numEpochs: Int, lr: Float, batchSize: Int,
              resize: Int? = nil, figure: String = "curves",
              quick: (train: Int, test: Int, epochs: Int, batchSize: Int)) throws -> Trainer {
    net.apply { module in  // the book's init_weights
        if let linear = module as? Linear { Initializer.xavierUniform().apply(to: linear.weight) }
        if let conv = module as? Conv2d { Initializer.xavierUniform().apply(to: conv.weight) }
    }
    let firstWeights = net.parameters().first?.value.scalars
    var train = try FashionMNIST.load(train: true, directory: book.dataDirectory)
    var test = try FashionMNIST.load(train: false, directory: book.dataDirectory)
    if book.quick {
        train = try train.prefix(quick.train)
        test = try test.prefix(quick.test)
    }
    var configuration = TrainingConfiguration(epochs: book.choose(full: numEpochs, quick: quick.epochs),
                                              batchSize: book.choose(full: batchSize, quick: quick.batchSize),
                                              learningRate: lr)
    configuration.resize = resize.map { ($0, $0) }
    configuration.showProgress = !book.quick
    print("training on \(train.count) images (test \(test.count)), \(configuration.epochs) epochs, batch size "
          + "\(configuration.batchSize), lr \(lr)" + (resize.map { ", resized to \($0)×\($0)" } ?? ""))
    let trainer = try Trainer(model: net, configuration: configuration)
    if book.quick {  // (the full run's progress report prints the same after every epoch)
        trainer.onEpoch = { m in
            print(String(format: "epoch %d: loss %.3f, train acc %.3f, test acc %.3f", m.epoch, m.trainLoss,
                         m.trainAccuracy, m.testAccuracy))
        }
    }
    let history = try trainer.fit(train: train, test: test)
    if let last = history.last {
        print(String(format: "loss %.3f, train acc %.3f, test acc %.3f", last.trainLoss, last.trainAccuracy,
                     last.testAccuracy))
        print(String(format: "%.1f examples/sec on the CPU", last.examplesPerSecond))
    }
    if let summary = trainer.lossSummary { print(summary) }
    try book.save(trainer.curves(), as: figure)
    if let firstWeights {
        book.check(net.parameters().first!.value.scalars != firstWeights,
                   "training changed the first layer's weights (the gradient reached the input layer)")
    }
    return trainer
}
