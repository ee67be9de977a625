import XCTest
@testable import D2L

/// Pooling forward and backward by definition (max: first maximal tap, −∞ padding;
/// average: divide by kh·kw, padding included).
func referencePool2d(_ x: Tensor, max isMax: Bool, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                     outputGrad dy: Tensor?) -> (output: Tensor, inputGrad: Tensor?) {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
    let xv = x.scalars, dv = dy?.scalars
    var y = [Float](repeating: 0, count: n * c * oh * ow), dx = [Float](repeating: 0, count: x.count)
    for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
        var best = -Float.infinity, bestIndex = -1, sum: Float = 0
        var taps: [Int] = []
        for ky in 0..<kernel.0 { for kx in 0..<kernel.1 {
            let iy = oy * stride.0 - padding.0 + ky, ix = ox * stride.1 - padding.1 + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
            let i = (p * h + iy) * w + ix
            taps.append(i)
            sum += xv[i]
            if xv[i] > best || bestIndex < 0 { best = xv[i]; bestIndex = i }
        } }
        let o = (p * oh + oy) * ow + ox
        let area = Float(kernel.0 * kernel.1)
        y[o] = isMax ? best : sum / area
        if let dv {
            if isMax { dx[bestIndex] += dv[o] } else { for i in taps { dx[i] += dv[o] / area } }
        }
    } } }
    return (Tensor(y, shape: [n, c, oh, ow]), dy == nil ? nil : Tensor(dx, shape: x.shape))
}

func referenceAdaptiveAvgPool2d(_ x: Tensor, _ size: (Int, Int), outputGrad dy: Tensor) -> (Tensor, Tensor) {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = size
    let xv = x.scalars, dv = dy.scalars
    var y = [Float](repeating: 0, count: n * c * oh * ow), dx = [Float](repeating: 0, count: x.count)
    for p in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
        let r0 = Int((Double(i * h) / Double(oh)).rounded(.down)), r1 = Int((Double((i + 1) * h) / Double(oh)).rounded(.up))
        let c0 = Int((Double(j * w) / Double(ow)).rounded(.down)), c1 = Int((Double((j + 1) * w) / Double(ow)).rounded(.up))
        let area = Float((r1 - r0) * (c1 - c0))
        var s: Float = 0
        let o = (p * oh + i) * ow + j
        for r in r0..<r1 { for q in c0..<c1 { s += xv[(p * h + r) * w + q]; dx[(p * h + r) * w + q] += dv[o] / area } }
        y[o] = s / area
    } } }
    return (Tensor(y, shape: [n, c, oh, ow]), Tensor(dx, shape: x.shape))
}

final class PoolingTests: XCTestCase {
    /// (N, C, H, W, kh, kw, sh, sw, ph, pw)
    let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 3, 6, 6, 2, 2, 2, 2, 0, 0),
        (2, 3, 7, 7, 2, 2, 2, 2, 0, 0),     // odd size: last row/column dropped
        (2, 3, 7, 7, 3, 3, 2, 2, 1, 1),
        (1, 2, 5, 5, 3, 3, 1, 1, 1, 1),
        (2, 2, 9, 6, 3, 2, 2, 1, 1, 0),     // non-square
        (1, 4, 8, 8, 1, 1, 2, 2, 0, 0),     // 1×1 subsampling
        (2, 1, 10, 13, 4, 5, 3, 4, 2, 2),
    ]

    func testMaxAndAverageMatchReference() {
        Random.seed(21)
        for s in shapes {
            for isMax in [true, false] {
                let x = Tensor.randn([s.0, s.1, s.2, s.3]).requiringGrad()
                let k = (s.4, s.5), st = (s.6, s.7), pd = (s.8, s.9)
                let y = isMax ? Tensor.maxPool2d(x, kernelSize: k, stride: st, padding: pd)
                              : Tensor.avgPool2d(x, kernelSize: k, stride: st, padding: pd)
                let dy = Tensor.randn(y.shape)
                y.backward(dy)
                let r = referencePool2d(x, max: isMax, kernel: k, stride: st, padding: pd, outputGrad: dy)
                assertClose(y, r.output, atol: 1e-6, rtol: 1e-5, "\(isMax ? "max" : "avg") \(s) output")
                assertClose(x.grad!, r.inputGrad!, atol: 1e-6, rtol: 1e-5, "\(isMax ? "max" : "avg") \(s) grad")
            }
        }
    }

    func testMaxPoolTiesGoToFirstTap() {
        let x = Tensor([1, 3, 3, 3, 0, 3, 1, 3, 1], shape: [1, 1, 3, 3]).requiringGrad()
        let y = Tensor.maxPool2d(x, kernelSize: (2, 2), stride: (1, 1), padding: (0, 0))
        XCTAssertEqual(y.scalars, [3, 3, 3, 3])
        y.backward(Tensor([1, 10, 100, 1000], shape: [1, 1, 2, 2]))
        // Windows (every one has two 3s): (0,0) → index 1, (0,1) → index 1, (1,0) → index 3,
        // (1,1) → index 5.
        XCTAssertEqual(x.grad!.scalars, [0, 11, 0, 100, 0, 1000, 0, 0, 0])
    }

    func testMaxPoolPadsWithNegativeInfinity() {
        let x = Tensor([-5, -6, -7, -8], shape: [1, 1, 2, 2])
        let y = Tensor.maxPool2d(x, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(y.scalars, [-5])
        let a = Tensor.avgPool2d(x, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(a.item, -26 / 9, accuracy: 1e-6)
    }

    func testAdaptiveAvgPoolMatchesReference() {
        Random.seed(22)
        for (shape, size) in [([2, 3, 5, 5], (2, 2)), ([2, 3, 4, 5], (1, 1)), ([1, 2, 7, 10], (3, 4)),
                              ([1, 1, 3, 3], (5, 4)), ([2, 2, 6, 6], (6, 6))] as [([Int], (Int, Int))] {
            let x = Tensor.randn(shape).requiringGrad()
            let y = Tensor.adaptiveAvgPool2d(x, outputSize: size)
            let dy = Tensor.randn(y.shape)
            y.backward(dy)
            let (ry, rdx) = referenceAdaptiveAvgPool2d(x, size, outputGrad: dy)
            assertClose(y, ry, atol: 1e-6, rtol: 1e-5, "adaptive \(shape) → \(size)")
            assertClose(x.grad!, rdx, atol: 1e-6, rtol: 1e-5, "adaptive grad \(shape) → \(size)")
        }
    }

    func testFiniteDifferences() {
        Random.seed(23)
        // Distinct values, so max pooling has no ties within a finite-difference step.
        let x = Tensor((0..<50).map { Float(($0 * 37) % 50) * 0.1 - 2.5 }, shape: [1, 2, 5, 5])
        let probe = Tensor.randn([1, 2, 3, 3])
        assertGradientsMatchFiniteDifferences([x], eps: 1e-2) { t in
            (Tensor.maxPool2d(t[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)) * probe).sum()
        }
        assertGradientsMatchFiniteDifferences([x]) { t in
            (Tensor.avgPool2d(t[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)) * probe).sum()
        }
        let probe2 = Tensor.randn([1, 2, 2, 3])
        assertGradientsMatchFiniteDifferences([x]) { t in
            (Tensor.adaptiveAvgPool2d(t[0], outputSize: (2, 3)) * probe2).sum()
        }
    }

    func testLayers() throws {
        let m = MaxPool2d(kernelSize: 3)
        XCTAssertEqual(m.stride.0, 3); XCTAssertEqual(m.stride.1, 3)
        XCTAssertEqual(m.padding.0, 0); XCTAssertEqual(m.padding.1, 0)
        let a = AvgPool2d(kernelSize: 2, stride: 1, padding: 1)
        XCTAssertTrue(a.kernelSize == (2, 2) && a.stride == (1, 1) && a.padding == (1, 1))
        XCTAssertEqual(try a(Tensor.zeros([1, 1, 4, 4])).shape, [1, 1, 5, 5])
        let g = AdaptiveAvgPool2d(1)
        XCTAssertEqual(g.outputSize.0, 1); XCTAssertEqual(g.outputSize.1, 1)
        XCTAssertEqual(try g(Tensor.zeros([2, 5, 3, 7])).shape, [2, 5, 1, 1])
        XCTAssertTrue(m.namedParameters().isEmpty && a.namedStateEntries().isEmpty)
    }

    /// Rectangular windows, strides and padding, against PyTorch on arange(16) as 1×1×4×4
    /// (the book's 6.5 `nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))` gives
    /// [[5, 7], [13, 15]]).
    func testRectangularLayersMatchPyTorch() throws {
        let x = Tensor.arange(16).reshaped([1, 1, 4, 4])
        let m = MaxPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1))
        XCTAssertTrue(m.kernelSize == (2, 3) && m.stride == (2, 3) && m.padding == (0, 1))
        XCTAssertEqual(try m(x).shape, [1, 1, 2, 2])
        XCTAssertEqual(try m(x).scalars, [5, 7, 13, 15])
        // nn.AvgPool2d((2, 3), stride=(2, 3), padding=(0, 1)): padding counts in the divisor.
        assertClose(try AvgPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1))(x),
                    Tensor([5.0 / 3, 3, 7, 25.0 / 3], shape: [1, 1, 2, 2]), atol: 1e-6, rtol: 1e-6, "avg (2, 3)")
        // nn.MaxPool2d((3, 2), stride=(1, 2), padding=(1, 0)) and the AvgPool2d of the same.
        let tall = MaxPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0))
        XCTAssertEqual(try tall(x).shape, [1, 1, 4, 2])
        XCTAssertEqual(try tall(x).scalars, [5, 7, 9, 11, 13, 15, 13, 15])
        assertClose(try AvgPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0))(x),
                    Tensor([5.0 / 3, 3, 4.5, 6.5, 8.5, 10.5, 7, 25.0 / 3], shape: [1, 1, 4, 2]),
                    atol: 1e-6, rtol: 1e-6, "avg (3, 2)")
        // The stride defaults to the kernel; the book's spelling MaxPool2d(3, padding: 1, stride: 2).
        XCTAssertTrue(MaxPool2d(kernelSize: (2, 3)).stride == (2, 3))
        let book = MaxPool2d(3, padding: 1, stride: 2)
        XCTAssertTrue(book.kernelSize == (3, 3) && book.stride == (2, 2) && book.padding == (1, 1))
        XCTAssertEqual(try book(x).scalars, [5, 7, 13, 15])
        // A window larger than the padded input is a shape error naming both.
        XCTAssertThrowsError(try MaxPool2d(kernelSize: (5, 2))(x)) { error in
            XCTAssertTrue("\(error)".contains("5×2 window"), "\(error)")
        }
    }

    func testLayerShapeErrors() {
        let cases: [(Module, [Int], String)] = [
            (MaxPool2d(kernelSize: 2), [2, 3, 4], "MaxPool2d"),
            (MaxPool2d(kernelSize: 5), [1, 1, 4, 4], "MaxPool2d"),
            (AvgPool2d(kernelSize: 2), [4, 4], "AvgPool2d"),
            (AdaptiveAvgPool2d(outputSize: (2, 2)), [3, 4, 4], "AdaptiveAvgPool2d"),
        ]
        for (layer, shape, name) in cases {
            XCTAssertThrowsError(try layer(Tensor.zeros(shape))) { error in
                guard let e = error as? ToolkitError else { return XCTFail("not a ToolkitError: \(error)") }
                XCTAssertEqual(e.kind, .shape)
                XCTAssertTrue(e.message.contains(name) && e.message.contains("\(shape)"), e.message)
            }
        }
    }

    func testPyTorchFixtures() throws {
        for name in ["maxpool2d-k3-s2-p1", "maxpool2d-k2-s2", "maxpool2d-k3-s1-p1"] {
            try checkLayerFixture(name) { a in
                MaxPool2d(kernelSize: a["kernel_size"] as! Int, stride: a["stride"] as? Int, padding: a["padding"] as? Int ?? 0)
            }
        }
        for name in ["avgpool2d-k2-s2", "avgpool2d-k3-s1-p1"] {
            try checkLayerFixture(name) { a in
                AvgPool2d(kernelSize: a["kernel_size"] as! Int, stride: a["stride"] as? Int, padding: a["padding"] as? Int ?? 0)
            }
        }
        for name in ["adaptiveavgpool2d-1x1", "adaptiveavgpool2d-2x2-from-5x5"] {
            try checkLayerFixture(name) { a in AdaptiveAvgPool2d(outputSize: fixturePair(a["output_size"], default: 1)) }
        }
    }
}
