import Foundation
import XCTest
@testable import D2L

// MARK: - Plain references (loops over every index)

/// Convolution forward by definition.
func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int), padding: (Int, Int),
                     groups: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + 2 * padding.0 - kh) / stride.0 + 1, ow = (wd + 2 * padding.1 - kw) / stride.1 + 1
    let ocg = o / groups
    let xv = x.scalars, wv = w.scalars, bv = b?.scalars
    var y = [Float](repeating: 0, count: n * o * oh * ow)
    for i in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
        let g = oc / ocg
        var acc = bv?[oc] ?? 0
        for ci in 0..<icg { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy * stride.0 - padding.0 + ky, ix = ox * stride.1 - padding.1 + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            acc += xv[((i * c + g * icg + ci) * h + iy) * wd + ix] * wv[((oc * icg + ci) * kh + ky) * kw + kx]
        } } }
        y[((i * o + oc) * oh + oy) * ow + ox] = acc
    } } } }
    _ = c
    return Tensor(y, shape: [n, o, oh, ow])
}

/// Convolution backward by definition: (dX, dW, db).
func referenceConv2dBackward(_ x: Tensor, _ w: Tensor, _ dy: Tensor, stride: (Int, Int), padding: (Int, Int),
                             groups: Int) -> (Tensor, Tensor, Tensor) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let (oh, ow) = (dy.shape[2], dy.shape[3])
    let ocg = o / groups
    let xv = x.scalars, wv = w.scalars, dv = dy.scalars
    var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
    var db = [Float](repeating: 0, count: o)
    for i in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
        let g = oc / ocg
        let d = dv[((i * o + oc) * oh + oy) * ow + ox]
        db[oc] += d
        for ci in 0..<icg { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy * stride.0 - padding.0 + ky, ix = ox * stride.1 - padding.1 + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            let xi = ((i * c + g * icg + ci) * h + iy) * wd + ix, wi = ((oc * icg + ci) * kh + ky) * kw + kx
            dx[xi] += d * wv[wi]
            dw[wi] += d * xv[xi]
        } } }
    } } } }
    return (Tensor(dx, shape: x.shape), Tensor(dw, shape: w.shape), Tensor(db, shape: [o]))
}

// MARK: - PyTorch layer fixtures

/// A tensor of a fixture file (F32 or integer, as floats).
func layerFixtureTensor(_ file: SafeTensorsFile, _ name: String) throws -> Tensor {
    guard let t = file[name] else { throw ToolkitError(.invalidData, "fixture has no tensor \(name)") }
    return Tensor(try t.floats(), shape: t.shape)
}

/// Runs `Tests/Fixtures/toolkit/layers/<caseName>.safetensors`: builds the module from the
/// config's args with `make`, loads `param.*`, sets the mode, runs forward and
/// `backward(grad_output)`, and compares output, grad_input, `grad.*` and `after.*`.
func checkLayerFixture(_ caseName: String, file: StaticString = #filePath, line: UInt = #line,
                       make: ([String: Any]) throws -> Module) throws {
    let path = toolkitFixture("layers/\(caseName).safetensors")
    guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("fixture \(path) not generated yet") }
    let f = try SafeTensorsFile.read(path: path)
    let configText = f.metadata["config"] ?? "{}"
    let config = try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any] ?? [:]
    let args = config["args"] as? [String: Any] ?? [:]
    let module = try make(args)
    if (config["mode"] as? String) == "eval" { module.eval() } else { module.train() }
    let entries = Dictionary(uniqueKeysWithValues: module.namedStateEntries().map { ($0.name, $0.parameter) })
    for name in f.names where name.hasPrefix("param.") {
        let key = String(name.dropFirst("param.".count))
        guard let p = entries[key] else { XCTFail("\(caseName): module has no entry \(key)", file: file, line: line); continue }
        p.assign(try layerFixtureTensor(f, name))
    }
    let input = try layerFixtureTensor(f, "input").requiringGrad()
    let output = try module(input)
    assertClose(output, try layerFixtureTensor(f, "output"), atol: 1e-5, rtol: 1e-4, "\(caseName) output", file: file, line: line)
    output.backward(try layerFixtureTensor(f, "grad_output"))
    if f["grad_input"] != nil {
        guard let gi = input.grad else { XCTFail("\(caseName): no input gradient", file: file, line: line); return }
        assertClose(gi, try layerFixtureTensor(f, "grad_input"), atol: 1e-5, rtol: 1e-4, "\(caseName) grad_input",
                    file: file, line: line)
    }
    let params = Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.parameter) })
    var checked = 0
    for name in f.names where name.hasPrefix("grad.") {
        let key = String(name.dropFirst("grad.".count))
        guard let p = params[key], let g = p.grad else {
            XCTFail("\(caseName): no gradient for \(key)", file: file, line: line); continue
        }
        assertClose(g, try layerFixtureTensor(f, name), atol: 1e-5, rtol: 1e-4, "\(caseName) grad.\(key)", file: file, line: line)
        checked += 1
    }
    XCTAssertEqual(checked, params.count, "\(caseName): every parameter's gradient is in the fixture", file: file, line: line)
    for name in f.names where name.hasPrefix("after.") {
        let key = String(name.dropFirst("after.".count))
        guard let p = entries[key] else { XCTFail("\(caseName): module has no buffer \(key)", file: file, line: line); continue }
        assertClose(p.value, try layerFixtureTensor(f, name), atol: 1e-5, rtol: 1e-4, "\(caseName) after.\(key)",
                    file: file, line: line)
    }
}

/// An int or [int, int] argument as a pair.
func fixturePair(_ value: Any?, default d: Int) -> (Int, Int) {
    if let v = value as? Int { return (v, v) }
    if let v = value as? [Int], v.count == 2 { return (v[0], v[1]) }
    return (d, d)
}

// MARK: - Tests

final class ConvolutionTests: XCTestCase {
    /// (N, C, H, W, O, kh, kw, sh, sw, ph, pw, groups)
    let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1),
        (2, 3, 9, 7, 4, 5, 5, 2, 2, 2, 2, 1),
        (3, 3, 4, 5, 5, 1, 1, 1, 1, 0, 0, 1),     // pointwise
        (2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 2),     // groups
        (2, 6, 7, 6, 6, 3, 3, 2, 1, 1, 1, 6),     // depthwise, mixed strides
        (1, 2, 8, 11, 3, 2, 4, 3, 2, 0, 1, 1),    // non-square kernel, strides, pads
        (2, 4, 6, 6, 4, 1, 1, 2, 2, 0, 0, 1),     // strided 1×1
        (1, 3, 5, 5, 2, 5, 5, 1, 1, 0, 0, 1),     // kernel = input
        (2, 1, 12, 12, 3, 11, 11, 4, 4, 1, 1, 1),
        (4, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 4),
        (5, 16, 24, 24, 4, 3, 3, 1, 1, 1, 1, 1),  // backward in chunks of 3 + 2 images
    ]

    func testForwardMatchesReference() {
        Random.seed(11)
        for s in shapes {
            let x = Tensor.randn([s.0, s.1, s.2, s.3])
            let w = Tensor.randn([s.4, s.1 / s.11, s.5, s.6])
            let b = Tensor.randn([s.4])
            for bias in [b, nil] as [Tensor?] {
                let y = Tensor.conv2d(x, weight: w, bias: bias, stride: (s.7, s.8), padding: (s.9, s.10), groups: s.11)
                let r = referenceConv2d(x, w, bias, stride: (s.7, s.8), padding: (s.9, s.10), groups: s.11)
                assertClose(y, r, atol: 1e-4, rtol: 1e-4, "conv \(s) bias \(bias != nil)")
            }
        }
    }

    func testBackwardMatchesReference() {
        Random.seed(12)
        for s in shapes {
            let x = Tensor.randn([s.0, s.1, s.2, s.3]).requiringGrad()
            let w = Tensor.randn([s.4, s.1 / s.11, s.5, s.6]).requiringGrad()
            let b = Tensor.randn([s.4]).requiringGrad()
            let y = Tensor.conv2d(x, weight: w, bias: b, stride: (s.7, s.8), padding: (s.9, s.10), groups: s.11)
            let dy = Tensor.randn(y.shape)
            y.backward(dy)
            let (dx, dw, db) = referenceConv2dBackward(x, w, dy, stride: (s.7, s.8), padding: (s.9, s.10), groups: s.11)
            assertClose(x.grad!, dx, atol: 1e-4, rtol: 1e-4, "dx \(s)")
            assertClose(w.grad!, dw, atol: 1e-4, rtol: 1e-4, "dw \(s)")
            assertClose(b.grad!, db, atol: 1e-4, rtol: 1e-4, "db \(s)")
        }
    }

    func testBackwardOnlyForTrackedInputs() {
        Random.seed(13)
        let x = Tensor.randn([2, 3, 5, 5])
        let w = Tensor.randn([4, 3, 3, 3]).requiringGrad()
        let y = Tensor.conv2d(x, weight: w, bias: nil, stride: (1, 1), padding: (1, 1), groups: 1)
        let dy = Tensor.randn(y.shape)
        y.backward(dy)
        let (_, dw, _) = referenceConv2dBackward(x, w, dy, stride: (1, 1), padding: (1, 1), groups: 1)
        assertClose(w.grad!, dw, atol: 1e-4, rtol: 1e-4, "dw")
        XCTAssertNil(x.grad)
    }

    func testFiniteDifferences() {
        Random.seed(14)
        let configs: [(stride: (Int, Int), padding: (Int, Int), groups: Int, c: Int, o: Int, k: (Int, Int))] = [
            ((1, 1), (1, 1), 1, 2, 3, (3, 3)),
            ((2, 1), (0, 1), 2, 4, 2, (2, 3)),
            ((1, 1), (0, 0), 1, 3, 2, (1, 1)),
        ]
        for cfg in configs {
            let x = Tensor.randn([2, cfg.c, 5, 4])
            let w = Tensor.randn([cfg.o, cfg.c / cfg.groups, cfg.k.0, cfg.k.1])
            let b = Tensor.randn([cfg.o])
            let probe = Tensor.randn(Tensor.conv2d(x, weight: w, bias: b, stride: cfg.stride, padding: cfg.padding,
                                                   groups: cfg.groups).shape)
            assertGradientsMatchFiniteDifferences([x, w, b]) { t in
                (Tensor.conv2d(t[0], weight: t[1], bias: t[2], stride: cfg.stride, padding: cfg.padding,
                               groups: cfg.groups) * probe).sum()
            }
        }
    }

    func testLayerParametersAndInit() {
        let conv = Conv2d(inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2, padding: 1, groups: 2)
        XCTAssertEqual(conv.weight.shape, [6, 2, 3, 3])
        XCTAssertEqual(conv.bias?.shape, [6])
        XCTAssertEqual(conv.namedParameters().map(\.name), ["weight", "bias"])
        XCTAssertEqual(conv.kernelSize.0, 3); XCTAssertEqual(conv.kernelSize.1, 3)
        XCTAssertEqual(conv.stride.0, 2); XCTAssertEqual(conv.padding.1, 1)
        XCTAssertEqual(conv.groups, 2)
        let bound: Float = 1 / Float(18).squareRoot()
        XCTAssertTrue(conv.weight.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        XCTAssertTrue(conv.bias!.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        XCTAssertGreaterThan(conv.weight.value.scalars.map { Swift.abs($0) }.max()!, bound * 0.5)

        let rect = Conv2d(inputChannels: 3, outputChannels: 2, kernelSize: (1, 5), stride: (1, 2), padding: (0, 2), bias: false)
        XCTAssertNil(rect.bias)
        XCTAssertEqual(rect.namedParameters().map(\.name), ["weight"])
        XCTAssertEqual(rect.weight.shape, [2, 3, 1, 5])
        let y = try! rect(Tensor.randn([2, 3, 4, 9]))
        XCTAssertEqual(y.shape, [2, 2, 4, 5])
    }

    func testLayerShapeErrors() {
        let conv = Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 5)
        for bad in [[2, 3, 8], [2, 4, 8, 8], [2, 3, 4, 8]] {
            XCTAssertThrowsError(try conv(Tensor.zeros(bad))) { error in
                guard let e = error as? ToolkitError else { return XCTFail("not a ToolkitError: \(error)") }
                XCTAssertEqual(e.kind, .shape)
                XCTAssertTrue(e.message.contains("Conv2d"), e.message)
                XCTAssertTrue(e.message.contains("\(bad)"), e.message)
            }
        }
    }

    func testPyTorchFixtures() throws {
        for name in ["conv2d-k3-p1", "conv2d-k5-s2-p2", "conv2d-groups2", "conv2d-1x1", "conv2d-k11-s4-p1"] {
            try checkLayerFixture(name) { a in
                Conv2d(inputChannels: a["in_channels"] as! Int, outputChannels: a["out_channels"] as! Int,
                       kernelSize: fixturePair(a["kernel_size"], default: 1), stride: fixturePair(a["stride"], default: 1),
                       padding: fixturePair(a["padding"], default: 0), groups: a["groups"] as? Int ?? 1,
                       bias: a["bias"] as? Bool ?? true)
            }
        }
    }

    /// LeNet forward + backward at batch 256; runs only with D2L_BENCH set (use a release build).
    func testLeNetTrainingSpeed() throws {
        guard ProcessInfo.processInfo.environment["D2L_BENCH"] != nil else { throw XCTSkip("set D2L_BENCH=1 to time LeNet") }
        Random.seed(1)
        let net = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Flatten(), Linear(400, 120), Sigmoid(), Linear(120, 84), Sigmoid(), Linear(84, 10))
        let x = Tensor.randn([256, 1, 28, 28])
        let labels = (0..<256).map { $0 % 10 }
        func step() throws {
            net.zeroGrad()
            let loss = try crossEntropy(try net(x), labels)
            loss.backward()
        }
        for _ in 0..<3 { try step() }
        let runs = Int(ProcessInfo.processInfo.environment["D2L_BENCH_RUNS"] ?? "") ?? 20
        // Wall time and this thread's CPU time (the latter is less disturbed by other processes).
        func cpuNanoseconds() -> UInt64 {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
        }
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = cpuNanoseconds()
            try step()
            cpuTimes.append(Double(cpuNanoseconds() - cpuStart) / 1e6)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        cpuTimes.sort()
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        print("LeNet batch 256 forward+backward: wall median \(f(times[runs / 2])) ms/batch, best \(f(times[0])) ms; "
              + "thread CPU median \(f(cpuTimes[runs / 2])) ms, best \(f(cpuTimes[0])) ms (\(ComputeThreads.count) thread(s))")

        // Per-layer breakdown (forward, then backward of that layer alone) with D2L_BENCH=2.
        guard ProcessInfo.processInfo.environment["D2L_BENCH"] == "2" else { return }
        var h = x
        for layer in net.layers {
            let input = h.detached().requiringGrad()
            func time(_ body: () throws -> Void) rethrows -> Double {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<10 { try body() }
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e7
            }
            var out = try layer(input)
            let fwd = try time { out = try layer(input) }
            let g = Tensor.ones(out.shape)
            let bwd = time { out.backward(g) }
            print("  \(type(of: layer)) \(input.shape) → \(out.shape): forward \(String(format: "%.2f", fwd)) ms, backward \(String(format: "%.2f", bwd)) ms")
            h = out.detached()
        }
    }
}
