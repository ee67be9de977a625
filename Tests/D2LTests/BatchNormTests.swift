import XCTest
@testable import D2L

/// Batch normalisation by definition, in double precision: (y, dx, dγ, dβ, batch mean,
/// unbiased batch variance). Training uses batch statistics, evaluation `running`.
func referenceBatchNorm(_ x: Tensor, gamma: [Float], beta: [Float], dy: Tensor, eps: Float,
                        running: (mean: [Float], variance: [Float])?)
    -> (y: Tensor, dx: Tensor, dGamma: [Float], dBeta: [Float], mean: [Float], unbiasedVar: [Float]) {
    let n = x.shape[0], c = x.shape[1], s = x.shape[2...].reduce(1, *), m = n * s
    let xv = x.scalars.map(Double.init), dv = dy.scalars.map(Double.init)
    var y = [Float](repeating: 0, count: x.count), dx = [Float](repeating: 0, count: x.count)
    var dGamma = [Float](repeating: 0, count: c), dBeta = [Float](repeating: 0, count: c)
    var means = [Float](repeating: 0, count: c), unbiased = [Float](repeating: 0, count: c)
    for ch in 0..<c {
        let idx = (0..<n).flatMap { i in (0..<s).map { (i * c + ch) * s + $0 } }
        let mu = idx.reduce(0.0) { $0 + xv[$1] } / Double(m)
        let v = idx.reduce(0.0) { $0 + (xv[$1] - mu) * (xv[$1] - mu) } / Double(m)
        means[ch] = Float(mu)
        unbiased[ch] = m > 1 ? Float(v * Double(m) / Double(m - 1)) : 0
        let useMu = running.map { Double($0.mean[ch]) } ?? mu
        let useVar = running.map { Double($0.variance[ch]) } ?? v
        let inv = 1 / (useVar + Double(eps)).squareRoot()
        var sdy = 0.0, sdyx = 0.0
        for i in idx {
            let xh = (xv[i] - useMu) * inv
            y[i] = Float(Double(gamma[ch]) * xh + Double(beta[ch]))
            sdy += dv[i]
            sdyx += dv[i] * xh
        }
        dGamma[ch] = Float(sdyx)
        dBeta[ch] = Float(sdy)
        for i in idx {
            let xh = (xv[i] - useMu) * inv
            let g = Double(gamma[ch]) * inv
            dx[i] = Float(running == nil ? g * (dv[i] - sdy / Double(m) - xh * sdyx / Double(m)) : g * dv[i])
        }
    }
    return (Tensor(y, shape: x.shape), Tensor(dx, shape: x.shape), dGamma, dBeta, means, unbiased)
}

final class BatchNormTests: XCTestCase {
    func testTrainingMatchesReference() throws {
        Random.seed(31)
        for shape in [[8, 5], [4, 3, 5, 5], [2, 6, 7, 3], [3, 4, 9], [2, 2, 1, 1]] {
            let bn: BatchNormBase = shape.count == 4 ? BatchNorm2d(shape[1]) : BatchNorm1d(shape[1])
            let gamma = Tensor.rand([shape[1]], low: 0.5, high: 1.5), beta = Tensor.randn([shape[1]])
            bn.weight.assign(gamma)
            bn.bias.assign(beta)
            let rm0 = Tensor.randn([shape[1]]), rv0 = Tensor.rand([shape[1]], low: 0.5, high: 2)
            bn.runningMean.assign(rm0)
            bn.runningVar.assign(rv0)
            let x = (Tensor.randn(shape) * 2 + 1).detached().requiringGrad()
            let y = try bn(x)
            let dy = Tensor.randn(shape)
            y.backward(dy)
            let r = referenceBatchNorm(x, gamma: gamma.scalars, beta: beta.scalars, dy: dy, eps: 1e-5, running: nil)
            assertClose(y, r.y, atol: 1e-5, rtol: 1e-4, "\(shape) y")
            assertClose(x.grad!, r.dx, atol: 1e-5, rtol: 1e-4, "\(shape) dx")
            assertClose(bn.weight.grad!, Tensor(r.dGamma), atol: 1e-4, rtol: 1e-4, "\(shape) dγ")
            assertClose(bn.bias.grad!, Tensor(r.dBeta), atol: 1e-4, rtol: 1e-4, "\(shape) dβ")
            let expectedMean = zip(rm0.scalars, r.mean).map { 0.9 * $0 + 0.1 * $1 }
            let expectedVar = zip(rv0.scalars, r.unbiasedVar).map { 0.9 * $0 + 0.1 * $1 }
            assertClose(bn.runningMean.value, Tensor(expectedMean), atol: 1e-5, rtol: 1e-4, "\(shape) running mean")
            assertClose(bn.runningVar.value, Tensor(expectedVar), atol: 1e-5, rtol: 1e-4, "\(shape) running var")
            XCTAssertEqual(bn.numBatchesTracked.value.item, 1)
        }
    }

    func testEvalUsesRunningStatisticsAndLeavesThem() throws {
        Random.seed(32)
        let bn = BatchNorm2d(3, eps: 1e-3)
        let rm = Tensor.randn([3]), rv = Tensor.rand([3], low: 0.5, high: 2)
        let gamma = Tensor.rand([3], low: 0.5, high: 1.5), beta = Tensor.randn([3])
        bn.runningMean.assign(rm); bn.runningVar.assign(rv)
        bn.weight.assign(gamma); bn.bias.assign(beta)
        bn.eval()
        let x = Tensor.randn([2, 3, 4, 4]).requiringGrad()
        let y = try bn(x)
        let dy = Tensor.randn(y.shape)
        y.backward(dy)
        let r = referenceBatchNorm(x, gamma: gamma.scalars, beta: beta.scalars, dy: dy, eps: 1e-3,
                                   running: (rm.scalars, rv.scalars))
        assertClose(y, r.y, "y")
        assertClose(x.grad!, r.dx, "dx")
        assertClose(bn.weight.grad!, Tensor(r.dGamma), atol: 1e-4, "dγ")
        assertClose(bn.bias.grad!, Tensor(r.dBeta), atol: 1e-4, "dβ")
        XCTAssertEqual(bn.runningMean.value.scalars, rm.scalars)
        XCTAssertEqual(bn.runningVar.value.scalars, rv.scalars)
        XCTAssertEqual(bn.numBatchesTracked.value.item, 0)
    }

    func testFiniteDifferences() {
        Random.seed(33)
        let rm = Parameter(Tensor.zeros([3]), trainable: false), rv = Parameter(Tensor.ones([3]), trainable: false)
        let x = Tensor.randn([4, 3, 2, 2]), gamma = Tensor.rand([3], low: 0.5, high: 1.5), beta = Tensor.randn([3])
        let probe = Tensor.randn([4, 3, 2, 2])
        for training in [true, false] {
            assertGradientsMatchFiniteDifferences([x, gamma, beta], eps: 1e-2, tolerance: 3e-2) { t in
                let y = try! Tensor.batchNorm(t[0], weight: t[1], bias: t[2], runningMean: rm, runningVar: rv,
                                              numBatchesTracked: nil, training: training, momentum: 0.1, eps: 1e-5)
                return (y * probe).sum()
            }
        }
    }

    func testRegistrationOrderAndDefaults() {
        let bn = BatchNorm2d(4)
        XCTAssertEqual(bn.namedStateEntries().map(\.name),
                       ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.namedParameters().map(\.name), ["weight", "bias"])
        XCTAssertEqual(bn.weight.value.scalars, [1, 1, 1, 1])
        XCTAssertEqual(bn.bias.value.scalars, [0, 0, 0, 0])
        XCTAssertEqual(bn.runningMean.value.scalars, [0, 0, 0, 0])
        XCTAssertEqual(bn.runningVar.value.scalars, [1, 1, 1, 1])
        XCTAssertTrue(bn.numBatchesTracked.isIntegral)
        XCTAssertEqual(bn.numBatchesTracked.shape, [])
        XCTAssertEqual(bn.eps, 1e-5); XCTAssertEqual(bn.momentum, 0.1); XCTAssertEqual(bn.numFeatures, 4)
    }

    func testShapeErrors() {
        let cases: [(Module, [Int], String)] = [
            (BatchNorm2d(3), [2, 3, 4], "BatchNorm2d"),
            (BatchNorm2d(3), [2, 4, 4, 4], "BatchNorm2d"),
            (BatchNorm1d(5), [2, 4], "BatchNorm1d"),
            (BatchNorm1d(5), [2, 5, 3, 3], "BatchNorm1d"),
            (BatchNorm1d(5), [1, 5], "batchNorm"),   // one value per channel in training
        ]
        for (layer, shape, name) in cases {
            XCTAssertThrowsError(try layer(Tensor.zeros(shape))) { error in
                guard let e = error as? ToolkitError else { return XCTFail("not a ToolkitError: \(error)") }
                XCTAssertEqual(e.kind, .shape)
                XCTAssertTrue(e.message.contains(name) && e.message.contains("\(shape)"), e.message)
            }
        }
        let bn = BatchNorm1d(5)
        bn.eval()
        XCTAssertNoThrow(try bn(Tensor.zeros([1, 5])))
    }

    func testPyTorchFixtures() throws {
        for name in ["batchnorm2d-train", "batchnorm2d-eval"] {
            try checkLayerFixture(name) { a in BatchNorm2d(a["num_features"] as! Int) }
        }
        for name in ["batchnorm1d-train", "batchnorm1d-eval"] {
            try checkLayerFixture(name) { a in BatchNorm1d(a["num_features"] as! Int) }
        }
    }
}
