import D2L
import Foundation

/// 3.6 Implementation of Softmax Regression from Scratch: Fashion-MNIST, W [784, 10] and
/// b [10] trained by a hand-written softmax, cross-entropy and minibatch SGD; the book's
/// `Accumulator`, `accuracy`, `evaluate_accuracy`, `train_epoch_ch3`, `train_ch3` and
/// `predict_ch3`.
enum SoftmaxRegressionScratch {
    static let section = BookSection(name: "softmax-regression-scratch", number: "3.6",
                                     title: "Implementation of Softmax Regression from Scratch", run: run)

    /// A model as the book passes it around: a function from a batch of images to outputs.
    typealias Net = (Tensor) throws -> Tensor
    /// The book's `updater(batch_size)`: one parameter update after `l.sum().backward()`.
    typealias Updater = (_ batchSize: Int) -> Void

    /// The book's `Accumulator`: sums over `n` variables.
    struct Accumulator {
        var data: [Double]
        init(_ n: Int) { data = Array(repeating: 0, count: n) }
        mutating func add(_ values: Double...) { for (i, v) in values.enumerated() { data[i] += v } }
        mutating func reset() { data = data.map { _ in 0 } }
        subscript(_ i: Int) -> Double { data[i] }
    }

    /// softmax(X)ᵢⱼ = exp(Xᵢⱼ) / Σₖ exp(Xᵢₖ), written out as the book does (no max subtracted).
    static func softmax(_ x: Tensor) -> Tensor {
        let xExp = x.exp()
        let partition = xExp.sum(axis: 1, keepDims: true)
        return xExp / partition  // broadcasting divides each row by its sum
    }

    /// −log ŷ[i, yᵢ] for each example (the book's `cross_entropy`).
    static func crossEntropy(_ yHat: Tensor, _ y: [Int]) -> Tensor {
        -yHat.picking(y).log()
    }

    /// The number of correct predictions (the book's `accuracy`, before dividing by the count).
    static func accuracy(_ yHat: Tensor, _ y: [Int]) -> Double {
        let predicted = yHat.rank > 1 && yHat.shape[1] > 1 ? yHat.argmax(axis: 1).scalars : yHat.scalars
        return Double(zip(predicted, y).filter { Int($0) == $1 }.count)
    }

    /// The accuracy of `net` over a dataset (the book's `evaluate_accuracy`), without gradients.
    static func evaluateAccuracy(_ net: Net, _ dataIter: ImageBatches) throws -> Double {
        var metric = Accumulator(2)  // correct predictions, predictions
        try withNoGrad {
            for (x, y) in dataIter { metric.add(accuracy(try net(x), y), Double(y.count)) }
        }
        return metric[0] / metric[1]
    }

    /// One epoch (the book's `train_epoch_ch3`): returns the training loss and accuracy.
    static func trainEpochCh3(_ net: Net, _ trainIter: ImageBatches, loss: (Tensor, [Int]) throws -> Tensor,
                              updater: Updater) throws -> (loss: Double, accuracy: Double) {
        var metric = Accumulator(3)  // sum of the training loss, correct predictions, examples
        for (x, y) in trainIter {
            let yHat = try net(x)
            let l = try loss(yHat, y)
            l.sum().backward()
            updater(x.shape[0])
            metric.add(Double(l.sum().item), accuracy(yHat, y), Double(y.count))
        }
        return (metric[0] / metric[2], metric[1] / metric[2])
    }

    /// The book's `train_ch3`: trains for `numEpochs`, drawing the curves like its `Animator`;
    /// the shuffling changes each epoch. Returns (train loss, train acc, test acc) per epoch.
    static func trainCh3(_ net: Net, train: ImageDataset, test: ImageDataset, batchSize: Int,
                         loss: (Tensor, [Int]) throws -> Tensor, numEpochs: Int,
                         updater: Updater) throws -> (history: [(loss: Double, trainAcc: Double, testAcc: Double)], chart: CurveChart) {
        var history: [(loss: Double, trainAcc: Double, testAcc: Double)] = []
        let testIter = try ImageBatches(test, batchSize: batchSize, shuffle: false)
        for epoch in 0..<numEpochs {
            let trainIter = try ImageBatches(train, batchSize: batchSize, shuffle: true, seed: 1, epoch: epoch)
            let trainMetrics = try trainEpochCh3(net, trainIter, loss: loss, updater: updater)
            let testAcc = try evaluateAccuracy(net, testIter)
            history.append((trainMetrics.loss, trainMetrics.accuracy, testAcc))
            print(String(format: "epoch %d, train loss %.3f, train acc %.3f, test acc %.3f",
                         epoch + 1, trainMetrics.loss, trainMetrics.accuracy, testAcc))
        }
        var chart = CurveChart(xLabel: "epoch")
        chart.series = [
            ("train loss", history.enumerated().map { (Double($0.offset + 1), $0.element.loss) }),
            ("train acc", history.enumerated().map { (Double($0.offset + 1), $0.element.trainAcc) }),
            ("test acc", history.enumerated().map { (Double($0.offset + 1), $0.element.testAcc) }),
        ]
        chart.xLimits = (1, Double(max(numEpochs, 2)))
        return (history, chart)
    }

    /// The book's `predict_ch3`: true and predicted labels of the first `n` test images.
    static func predictCh3(_ net: Net, _ test: ImageDataset, n: Int = 6) throws -> (images: Tensor, trues: [String], preds: [String]) {
        let (x, y) = try ImageBatches(test, batchSize: 256, shuffle: false).makeIterator().next()!
        let trues = FashionMNIST.textLabels(y.prefix(n))
        let predicted = try withNoGrad { try net(x).argmax(axis: 1).scalars.prefix(n).map { Int($0) } }
        return (x.slice(axis: 0, start: 0, end: n), trues, FashionMNIST.textLabels(predicted))
    }

    static func run(_ book: BookContext) throws {
        // Reading the data (a subset in quick mode).
        let batchSize = 256
        let (train, test) = try loadFashionMNIST(book)

        // Initialising the model parameters: each 28 × 28 image is a vector of 784 inputs, 10 outputs.
        var generator = SeededGenerator(seed: 42)
        let numInputs = 784, numOutputs = 10
        let W = Parameter(Tensor.randn([numInputs, numOutputs], std: 0.01, using: &generator))
        let b = Parameter(Tensor.zeros([numOutputs]))

        // Defining the softmax operation: sums along each axis, then a row-wise normalisation.
        let X = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        book.show("X.sum(axis: 0, keepDims: true)", X.sum(axis: 0, keepDims: true))
        book.show("X.sum(axis: 1, keepDims: true)", X.sum(axis: 1, keepDims: true))
        let xRandom = Tensor.randn([2, 5], using: &generator)
        let xProb = softmax(xRandom)
        book.show("X_prob", xProb)
        book.show("X_prob.sum(axis: 1)", xProb.sum(axis: 1))
        book.check((xProb.sum(axis: 1) - 1).abs().max().item < 1e-5 && xProb.min().item > 0,
                   "softmax gives positive rows that sum to 1")

        // Defining the model.
        let net: Net = { x in softmax(x.reshaped([-1, W.shape[0]]).matmul(W.value) + b.value) }

        // Defining the loss function: pick the predicted probability of the true class.
        let y = [0, 2]
        let yHat = Tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
        book.show("y_hat[[0, 1], y]", yHat.picking(y))
        let ce = crossEntropy(yHat, y)
        book.show("cross_entropy(y_hat, y)", ce)
        book.check(abs(ce[0].item - Float(-Foundation.log(0.1))) < 1e-5, "cross-entropy of the first example is −log 0.1")

        // Classification accuracy.
        let acc = accuracy(yHat, y) / Double(y.count)
        print("accuracy(y_hat, y) = \(formatNumber(Float(acc)))")
        book.check(acc == 0.5, "one of the two examples is classified correctly")
        let testIter = try ImageBatches(test, batchSize: batchSize, shuffle: false)
        let initialAccuracy = try evaluateAccuracy(net, testIter)
        print(String(format: "evaluate_accuracy(net, test_iter) before training = %.4f", initialAccuracy))

        // Training, with the book's updater: minibatch SGD on [W, b].
        let lr: Float = 0.1
        let updater: Updater = { batchSize in LinearRegressionScratch.sgd([W, b], lr: lr, batchSize: batchSize) }
        let numEpochs = book.choose(full: 10, quick: 2)
        let (history, chart) = try trainCh3(net, train: train, test: test, batchSize: batchSize,
                                            loss: { crossEntropy($0, $1) }, numEpochs: numEpochs, updater: updater)
        var figure = chart
        if !book.quick { figure.yLimits = (0.3, 0.9) }  // the book's ylim
        try book.save(figure, as: "train_ch3")
        let final = history.last!
        book.check(history.allSatisfy { $0.loss.isFinite }, "the training loss stays finite")
        book.check(final.loss < history.first!.loss || numEpochs == 1, "the training loss falls")
        book.check(final.testAcc > book.choose(full: 0.8, quick: 0.5),
                   "test accuracy is above \(book.choose(full: "0.8", quick: "0.5")) (chance is 0.1)")

        // Prediction: the first test images, their true and predicted labels.
        let (images, trues, preds) = try predictCh3(net, test)
        for (t, p) in zip(trues, preds) { print("true \(t), predicted \(p)") }
        try showImages(book, images, numRows: 1, numCols: images.shape[0],
                       titles: zip(trues, preds).map { "\($0) → \($1)" }, as: "predict_ch3")
        book.check(zip(trues, preds).filter { $0 == $1 }.count >= 3, "at least 3 of the first 6 test images are labelled correctly")
    }
}
