import D2L
import Foundation

/// 4.4 Model Selection, Underfitting, and Overfitting: polynomial regression. Labels come
/// from a cubic, y = 5 + 1.2x − 3.4x²/2! + 5.6x³/3! + ε; a linear model on the features
/// xⁱ/i! fits it with 4 features (normal), underfits with 2 and overfits with all 20.
enum UnderfitOverfit {
    static let section = BookSection(name: "underfit-overfit", number: "4.4",
                                     title: "Model Selection, Underfitting, and Overfitting", run: run)

    struct Fit {
        var weight: Tensor
        var points: [(epoch: Int, train: Double, test: Double)]
        var trainLoss: Double { points.last!.train }
        var testLoss: Double { points.last!.test }
    }

    /// The book's `train`: `Linear(d, 1, bias: false)`, squared error (`MSELoss(reduction='none')`),
    /// SGD with lr 0.01, batches of min(10, n_train); the losses at epoch 1 and every 20 epochs.
    static func train(_ trainFeatures: Tensor, _ testFeatures: Tensor, _ trainLabels: Tensor, _ testLabels: Tensor,
                      numEpochs: Int = 400, generator: inout SeededGenerator) throws -> Fit {
        let loss: RegressionLoss = { try mseLoss($0, $1, reduction: .none) }
        let inputShape = trainFeatures.shape.last!
        let linear = Linear(inputShape, 1, bias: false)  // no bias: the polynomial features contain one (x⁰)
        let net = Sequential(linear)
        let batchSize = min(10, trainLabels.shape[0])
        let trainer = SGD(net.parameters(), learningRate: 0.01)
        var points: [(epoch: Int, train: Double, test: Double)] = []
        try trainRegression(model: net, features: trainFeatures, labels: trainLabels.reshaped([-1, 1]), loss: loss,
                            optimizer: trainer, epochs: numEpochs, batchSize: batchSize,
                            test: (testFeatures, testLabels.reshaped([-1, 1])), generator: &generator) { e in
            if e.epoch == 1 || e.epoch % 20 == 0 { points.append((e.epoch, e.trainLoss, e.testLoss)) }
        }
        let weight = linear.weight.value.detached()
        print("weight:", bookFormat(weight))
        return Fit(weight: weight, points: points)
    }

    static func run(_ book: BookContext) throws {
        // Generating the data set.
        var generator = SeededGenerator(seed: 42)
        Random.seed(42)  // the Linear layers' initial weights
        let maxDegree = 20          // the maximum degree of the polynomial
        let nTrain = 100, nTest = 100
        var trueW = [Float](repeating: 0, count: maxDegree)
        trueW[0..<4] = [5, 1.2, -3.4, 5.6]
        let features = Tensor.randn([nTrain + nTest, 1], using: &generator)
        // poly_features[:, i] = xⁱ / Γ(i + 1) = xⁱ / i!: rescaled so that large powers stay small.
        let x = features.scalars
        let polyFeatures = Tensor(x.flatMap { v in (0..<maxDegree).map { i in Float(pow(Double(v), Double(i)) / tgamma(Double(i + 1))) } },
                                  shape: [nTrain + nTest, maxDegree])
        let labels = polyFeatures.mv(Tensor(trueW)) + Tensor.randn([nTrain + nTest], std: 0.1, using: &generator)
        book.show("features[:2]", features[0..<2])
        book.show("poly_features[:2, :]", polyFeatures[0..<2], decimals: 4)
        book.show("labels[:2]", labels[0..<2])

        func columns(_ t: Tensor, _ n: Int) -> Tensor { t.slice(axis: 1, start: 0, end: n) }
        let (trainPoly, testPoly) = (polyFeatures[0..<nTrain], polyFeatures[nTrain..<(nTrain + nTest)])
        let (trainLabels, testLabels) = (labels[0..<nTrain], labels[nTrain..<(nTrain + nTest)])
        func figure(_ fit: Fit, _ epochs: Int) -> CurveChart {
            trainTestLossChart(fit.points, xLimits: (1, Double(epochs)), yLimits: (1e-3, 1e2))
        }

        // Third-order polynomial function fitting (normal): the first 4 features.
        print("4 features (normal):")
        let normal = try train(columns(trainPoly, 4), columns(testPoly, 4), trainLabels, testLabels, generator: &generator)
        print("final train loss \(formatDouble(normal.trainLoss, decimals: 6)), test loss \(formatDouble(normal.testLoss, decimals: 6))")
        try book.save(figure(normal, 400), as: "normal")
        // 400 epochs of SGD leave the last coefficient short of converged for some draws of
        // the data (its feature x³/3! is small), in PyTorch as here: it gets a looser bound.
        let error = (normal.weight.reshaped([4]) - Tensor(Array(trueW[0..<4]))).abs().scalars
        print("|weight − true_w| = \(bookFormat(Tensor(error)))")
        book.check(error[0..<3].allSatisfy { $0 < 0.2 }, "4 features: the weights of 1, x, x²/2! are within 0.2 of [5, 1.2, −3.4]")
        book.check(error[3] < 0.5, "4 features: the weight of x³/3! is within 0.5 of 5.6")
        book.check(normal.testLoss < 0.05, "4 features: the test loss is near the noise level (< 0.05; the noise variance is 0.01)")

        // Linear function fitting (underfitting): the first 2 features.
        print("2 features (underfitting):")
        let under = try train(columns(trainPoly, 2), columns(testPoly, 2), trainLabels, testLabels, generator: &generator)
        print("final train loss \(formatDouble(under.trainLoss, decimals: 6)), test loss \(formatDouble(under.testLoss, decimals: 6))")
        try book.save(figure(under, 400), as: "underfitting")
        let lastQuarter = under.points.suffix(max(under.points.count / 4, 1))
        book.check(lastQuarter.allSatisfy { $0.train > 10 * normal.testLoss && $0.test > 10 * normal.testLoss },
                   "2 features underfit: train and test loss stay over 10 times the 4-feature test loss to the end")

        // Higher-order polynomial function fitting (overfitting): all 20 features.
        let overEpochs = 1500
        print("20 features (overfitting):")
        let over = try train(trainPoly, testPoly, trainLabels, testLabels, numEpochs: overEpochs, generator: &generator)
        print("final train loss \(formatDouble(over.trainLoss, decimals: 6)), test loss \(formatDouble(over.testLoss, decimals: 6))")
        try book.save(figure(over, overEpochs), as: "overfitting")
        book.check(over.points.allSatisfy { $0.train.isFinite && $0.test.isFinite }, "20 features: the losses stay finite")
        book.check(over.testLoss > normal.testLoss, "20 features: the test loss is above the 4-feature fit's")
    }
}
