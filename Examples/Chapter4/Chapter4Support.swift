import D2L

/// Train and test loss against the epoch on a log scale (the book's
/// `Animator(xlabel='epoch', ylabel='loss', yscale='log', legend=['train', 'test'])`).
func trainTestLossChart(_ points: [(epoch: Int, train: Double, test: Double)], xLabel: String = "epoch",
                        xLimits: (Double, Double)? = nil, yLimits: (Double, Double)? = nil) -> CurveChart {
    CurveChart(xLabel: xLabel, yLabel: "loss",
               series: [("train", points.map { (Double($0.epoch), $0.train) }),
                        ("test", points.map { (Double($0.epoch), $0.test) })],
               xLimits: xLimits, yLimits: yLimits, logY: true)
}

/// `value` with `decimals` digits (a Double, printed as the book's Python floats are rounded here).
func formatDouble(_ value: Double, decimals: Int = 4) -> String { formatNumber(Float(value), decimals: decimals) }

/// The book's high-dimensional linear regression of 4.5 (weight decay): y = 0.05 + Σᵢ 0.01·xᵢ + ε,
/// 200 inputs, 20 training and 100 test examples, ε ~ N(0, 0.01²).
enum HighDimensionalRegression {
    static let numInputs = 200, nTrain = 20, nTest = 100, batchSize = 5
    static let trueB: Float = 0.05
    static var trueW: Tensor { Tensor.ones([numInputs]) * 0.01 }

    /// (train features [20, 200], train labels [20, 1]), (test features [100, 200], test labels [100, 1]).
    static func data(using generator: inout SeededGenerator) -> (train: (Tensor, Tensor), test: (Tensor, Tensor)) {
        let train = syntheticLinearData(weights: trueW, bias: trueB, count: nTrain, using: &generator)
        let test = syntheticLinearData(weights: trueW, bias: trueB, count: nTest, using: &generator)
        return ((train.features, train.labels), (test.features, test.labels))
    }
}
