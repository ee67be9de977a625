import XCTest
@testable import D2L

final class TensorTests: XCTestCase {
    func testCreationAndReshape() {
        let x = Tensor.arange(12)
        XCTAssertEqual(x.shape, [12])
        XCTAssertEqual(x.scalars, (0..<12).map(Float.init))
        let m = x.reshaped([3, -1])
        XCTAssertEqual(m.shape, [3, 4])
        XCTAssertEqual(Tensor.zeros([2, 3, 4]).count, 24)
        XCTAssertEqual(Tensor.ones([2]).scalars, [1, 1])
        XCTAssertEqual(Tensor.arange(1, 2, step: 0.25).scalars, [1, 1.25, 1.5, 1.75])
        XCTAssertEqual(Tensor.eye(2).scalars, [1, 0, 0, 1])
        var g = SeededGenerator(seed: 1), h = SeededGenerator(seed: 1)
        XCTAssertEqual(Tensor.randn([5], using: &g).scalars, Tensor.randn([5], using: &h).scalars)
    }

    func testBroadcastingArithmetic() {
        let a = Tensor.arange(3).reshaped([3, 1])
        let b = Tensor.arange(2).reshaped([1, 2])
        XCTAssertEqual((a + b).shape, [3, 2])
        XCTAssertEqual((a + b).scalars, [0, 1, 1, 2, 2, 3])
        XCTAssertEqual((a * 2 - 1).scalars, [-1, 1, 3])
        XCTAssertEqual((Tensor([1, 2, 4]) / Tensor([2])).scalars, [0.5, 1, 2])
        XCTAssertEqual((Tensor([1, 2, 3]) .== Tensor([1, 0, 3])).scalars, [1, 0, 1])
        XCTAssertEqual(Tensor.maximum(Tensor([1, 5]), Tensor([3, 2])).scalars, [3, 5])
    }

    func testReductionsAndIndexing() {
        let x = Tensor.arange(24).reshaped([2, 3, 4])
        XCTAssertEqual(x.sum().item, 276)
        XCTAssertEqual(x.sum(axis: 0).shape, [3, 4])
        XCTAssertEqual(x.sum(axis: 1, keepDims: true).shape, [2, 1, 4])
        XCTAssertEqual(x.sum(alongAxes: [0, 1]).scalars, [60, 66, 72, 78])
        XCTAssertEqual(x.mean(axis: 2).scalars[0], 1.5)
        XCTAssertEqual(x.max(axis: 2).scalars, [3, 7, 11, 15, 19, 23])
        XCTAssertEqual(Tensor([[1, 9, 3], [7, 2, 7]]).argmax(axis: 1).scalars, [1, 0])
        XCTAssertEqual(Tensor([1, 2, 3]).cumsum(axis: 0).scalars, [1, 3, 6])
        XCTAssertEqual(x[1].shape, [3, 4])
        XCTAssertEqual(x[.at(-1), .at(0)].scalars, [12, 13, 14, 15])
        XCTAssertEqual(x[.all, .range(1..<3), .at(0)].scalars, [4, 8, 16, 20])
        var y = Tensor.zeros([2, 3])
        y[1] = Tensor([1, 2, 3])
        y[.all, .at(0)] = Tensor(9)
        XCTAssertEqual(y.scalars, [9, 0, 0, 9, 2, 3])
        XCTAssertEqual(Tensor.concat([Tensor.ones([2, 1]), Tensor.zeros([2, 2])], axis: 1).scalars, [1, 0, 0, 1, 0, 0])
        XCTAssertEqual(Tensor.arange(6).reshaped([2, 3]).T.scalars, [0, 3, 1, 4, 2, 5])
    }

    func testMatmulAndNorms() {
        let a = Tensor([[1, 2], [3, 4]])
        XCTAssertEqual(a.matmul(a).scalars, [7, 10, 15, 22])
        XCTAssertEqual(a.mv(Tensor([1, 1])).scalars, [3, 7])
        XCTAssertEqual(Tensor([1, 2, 3]).dot(Tensor([4, 5, 6])).item, 32)
        XCTAssertEqual(Tensor([3, -4]).norm().item, 5)
        XCTAssertEqual(Tensor([3, -4]).l1Norm().item, 7)
        XCTAssertEqual(Tensor.ones([4, 9]).norm().item, 6)
    }

    func testCopyOnWrite() {
        let x = Tensor([1, 2, 3])
        var y = x
        y[0] = Tensor(5)
        XCTAssertEqual(x.scalars, [1, 2, 3])
        XCTAssertEqual(y.scalars, [5, 2, 3])
    }
}

final class AutogradTests: XCTestCase {
    func testBookExample() {
        // y = 2 xᵀx, dy/dx = 4x (the book's section 2.5).
        let x = Tensor.arange(4).requiringGrad()
        let y = 2 * x.dot(x)
        y.backward()
        XCTAssertEqual(x.grad?.scalars, [0, 4, 8, 12])
        // Gradients accumulate until cleared.
        x.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 5, 9, 13])
        x.zeroGrad()
        XCTAssertNil(x.grad)
        // Non-scalar backward with an explicit gradient.
        let z = x * x
        z.backward(Tensor.ones([4]))
        XCTAssertEqual(x.grad?.scalars, [0, 2, 4, 6])
    }

    func testDetachAndNoGrad() {
        let x = Tensor.arange(4).requiringGrad()
        let y = x * x
        let u = y.detached()
        let z = u * x
        z.sum().backward()
        XCTAssertEqual(x.grad?.scalars, u.scalars)
        let w = withNoGrad { x * 2 }
        XCTAssertFalse(w.requiresGrad)
    }

    func testFiniteDifferences() {
        var g = SeededGenerator(seed: 7)
        let a = Tensor.randn([3, 1, 4], using: &g), b = Tensor.randn([2, 4], using: &g)
        assertGradientsMatchFiniteDifferences([a, b]) { t in (t[0] * t[1] + t[0] / (t[1].abs() + 1) - t[1]).sum() }
        let m = Tensor.randn([3, 4], using: &g), n = Tensor.randn([4, 2], using: &g)
        assertGradientsMatchFiniteDifferences([m, n]) { t in t[0].matmul(t[1]).tanh().sum() }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].softmax(axis: 1).pow(3).sum() }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].logSoftmax(axis: 0)[.at(1)].sum() }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].sigmoid().exp().mean(axis: 0).max() }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].permuted([1, 0]).cumsum(axis: 1).squared().sum() }
        assertGradientsMatchFiniteDifferences([m]) { t in Tensor.concat([t[0], t[0] * 2], axis: 1).slice(axis: 1, start: 1, end: 7, step: 2).sum() }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].indexSelect([2, 0, 2]).logSumExp(axis: 1).sum() }
        assertGradientsMatchFiniteDifferences([m, n]) { t in
            let w = t[1].T  // [2, 4]
            return Tensor.linear(t[0], weight: w, bias: nil).relu().sum()
        }
        assertGradientsMatchFiniteDifferences([m]) { t in (try! crossEntropy(t[0], [1, 3, 0])) }
        assertGradientsMatchFiniteDifferences([m]) { t in t[0].norm() + t[0].l1Norm() }
    }
}
