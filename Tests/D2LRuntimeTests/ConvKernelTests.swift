import XCTest
@testable import D2LRuntime
import _D2LSystem

/// `conv2d` against `conv2dReference` under every kernel variant the CPU runs: random geometries (groups 1–3, strides 1–2,
/// asymmetric padding through padTop/padLeft and the output size, dilations 1–2, 1×1
/// and rectangular kernels, batch 1 and 3, with and without bias), the in-place 1×1
/// path, the parallel-over-images mode and large products threaded inside gemm, with no
/// pool and a pool of 3 threads — each with the weight plain and in every packed layout
/// it admits (`ConvWeightLayout`), and fused with a residual and an activation. The
/// scratch starts full of NaNs, the output too.
final class ConvKernelTests: XCTestCase {
    func testRandomGeometries() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 11)
            var tested = 0
            while tested < 400 {
                guard let g = randomGeometry(&rng) else { continue }
                let withBias = tested % 3 != 0
                checkConv(g, withBias: withBias, pool: tested % 2 == 0 ? nil : pool, rng: &rng)
                tested += 1
            }
        }
    }

    func testPointwiseNeedsNoScratch() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 12)
            for (batch, groups, ic, oc, h, w) in [(1, 1, 5, 7, 6, 9), (3, 2, 4, 6, 5, 5), (3, 3, 3, 9, 1, 17),
                                                  (2, 1, 64, 40, 12, 12)] {
                let g = ConvGeometry(batch: batch, inputChannels: ic, inputHeight: h, inputWidth: w,
                                     outputChannels: oc, outputHeight: h, outputWidth: w,
                                     kernelHeight: 1, kernelWidth: 1, groups: groups)
                XCTAssertEqual(conv2dScratchElements(g), 0)
                checkConv(g, withBias: true, pool: nil, rng: &rng)
                checkConv(g, withBias: false, pool: pool, rng: &rng)
            }
            // A strided or padded 1×1 convolution needs columns.
            let strided = ConvGeometry(batch: 1, inputChannels: 3, inputHeight: 7, inputWidth: 7,
                                       outputChannels: 4, outputHeight: 4, outputWidth: 4,
                                       kernelHeight: 1, kernelWidth: 1, strideHeight: 2, strideWidth: 2)
            XCTAssertGreaterThan(conv2dScratchElements(strided), 0)
            checkConv(strided, withBias: true, pool: nil, rng: &rng)
        }
    }

    /// LeNet's convolutions at batch 1 and 3 (small products: parallel over images) and
    /// larger ones (threaded inside gemm, columns built in parallel).
    func testLeNetAndLargerShapes() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 13)
            for batch in [1, 3] {
                let conv1 = ConvGeometry(batch: batch, inputChannels: 1, inputHeight: 28, inputWidth: 28,
                                         outputChannels: 6, outputHeight: 28, outputWidth: 28,
                                         kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2)
                let conv2 = ConvGeometry(batch: batch, inputChannels: 6, inputHeight: 14, inputWidth: 14,
                                         outputChannels: 16, outputHeight: 10, outputWidth: 10,
                                         kernelHeight: 5, kernelWidth: 5)
                for g in [conv1, conv2] {
                    checkConv(g, withBias: true, pool: nil, rng: &rng)
                    checkConv(g, withBias: true, pool: pool, rng: &rng)
                }
            }
            let large = ConvGeometry(batch: 2, inputChannels: 32, inputHeight: 20, inputWidth: 20,
                                     outputChannels: 30, outputHeight: 20, outputWidth: 20,
                                     kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
            checkConv(large, withBias: true, pool: pool, rng: &rng)
            let grouped = ConvGeometry(batch: 3, inputChannels: 12, inputHeight: 9, inputWidth: 11,
                                       outputChannels: 6, outputHeight: 5, outputWidth: 6,
                                       kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                       padTop: 1, padLeft: 0, dilationHeight: 1, dilationWidth: 2, groups: 3)
            checkConv(grouped, withBias: false, pool: pool, rng: &rng)
        }
    }

    /// A deliberately wrong result must be reported (the comparison can fail).
    func testComparisonDetectsErrors() {
        var rng = ConvTestRandom(seed: 14)
        let g = ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5,
                             outputChannels: 2, outputHeight: 3, outputWidth: 3,
                             kernelHeight: 3, kernelWidth: 3)
        for layout in [ConvWeightLayout.plain, .rowTiles] {
            XCTAssertNotNil(convMismatch(g, withBias: true, pool: nil, rng: &rng, corrupt: true, layout: layout))
            XCTAssertNil(convMismatch(g, withBias: true, pool: nil, rng: &rng, corrupt: false, layout: layout))
        }
    }

    /// The shapes of deep layers at batch 1 (few positions, many channels: the column-
    /// panel path with tiles of unequal widths, and the narrow-plane im2col), each fused
    /// with a residual and a ReLU too.
    func testDeepNarrowLayers() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 15)
            // (input channels, input size, output channels, kernel, stride, pad)
            for (ic, size, oc, k, s, p) in [(40, 3, 32, 3, 1, 1), (24, 6, 48, 3, 2, 1), (16, 2, 32, 3, 1, 1),
                                            (20, 7, 16, 3, 1, 1), (32, 6, 64, 1, 2, 0), (18, 1, 16, 3, 1, 1),
                                            (15, 12, 32, 3, 1, 1), (9, 20, 16, 5, 1, 2)] {
                let out = (size + 2 * p - k) / s + 1
                let g = ConvGeometry(batch: 1, inputChannels: ic, inputHeight: size, inputWidth: size,
                                     outputChannels: oc, outputHeight: out, outputWidth: out,
                                     kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s,
                                     padTop: p, padLeft: p)
                checkConv(g, withBias: true, pool: nil, rng: &rng)
                checkConv(g, withBias: true, pool: pool, rng: &rng, epilogue: true)
                checkConv(g, withBias: false, pool: nil, rng: &rng, epilogue: true)
            }
        }
    }

    /// Large planes, whose column matrix is gathered and multiplied in blocks of output
    /// rows (more than 2^18 floats of columns), and Winograd over chunks of tile rows (small
    /// weights, large planes), with a residual and a ReLU fused.
    func testLargePlanesInBlocks() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 18)
            let stem = ConvGeometry(batch: 1, inputChannels: 3, inputHeight: 128, inputWidth: 127,
                                    outputChannels: 8, outputHeight: 64, outputWidth: 64,
                                    kernelHeight: 7, kernelWidth: 7, strideHeight: 2, strideWidth: 2, padTop: 3, padLeft: 3)
            let wide = ConvGeometry(batch: 2, inputChannels: 16, inputHeight: 48, inputWidth: 50,
                                    outputChannels: 8, outputHeight: 48, outputWidth: 50,
                                    kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
            XCTAssertGreaterThan(conv2dScratchElements(stem), 0)
            XCTAssertLessThan(conv2dScratchElements(stem), 147 * 64 * 64, "the columns are gathered in blocks")
            XCTAssertLessThan(conv2dScratchElements(wide), 144 * 48 * 50, "the columns are gathered in blocks")
            for g in [stem, wide] {
                checkConv(g, withBias: true, pool: nil, rng: &rng)
                checkConv(g, withBias: false, pool: pool, rng: &rng, epilogue: true)
            }
            let chunked = ConvGeometry(batch: 1, inputChannels: 24, inputHeight: 40, inputWidth: 38,
                                       outputChannels: 32, outputHeight: 40, outputWidth: 38,
                                       kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
            XCTAssertTrue(winogradSupports(chunked))
            XCTAssertLessThan(winogradChunkRows(chunked), 20, "Winograd runs in chunks of tile rows")
            for (withBias, fused, threads) in [(true, true, nil), (false, false, pool)] as [(Bool, Bool, ThreadPool?)] {
                if let message = winogradMismatch(chunked, withBias: withBias, epilogue: fused, pool: threads, rng: &rng) {
                    XCTFail(message)
                }
            }
        }
    }

    /// `conv2dWinograd` (F(2×2, 3×3)) against `conv2dReference`: odd and even output
    /// sizes (partial 2×2 tiles), pads 0–2 (valid and "same"), tile rows wider than 8
    /// lanes and narrower, batch 2, with and without bias, fused with a residual and ReLU.
    func testWinogradMatchesReference() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        forEachKernelVariant { _ in
            var rng = ConvTestRandom(seed: 16)
            // (batch, input channels, height, width, output channels, pad)
            for (batch, ic, h, w, oc, pad) in [(2, 8, 6, 6, 16, 1), (2, 5, 7, 9, 32, 1), (1, 16, 24, 24, 16, 1),
                                               (1, 3, 9, 40, 16, 0), (2, 7, 11, 5, 48, 2), (4, 1, 4, 4, 16, 1),
                                               (2, 4, 6, 6, 16, 1)] {
                let oh = h + 2 * pad - 2, ow = w + 2 * pad - 2
                let g = ConvGeometry(batch: batch, inputChannels: ic, inputHeight: h, inputWidth: w,
                                     outputChannels: oc, outputHeight: oh, outputWidth: ow,
                                     kernelHeight: 3, kernelWidth: 3, padTop: pad, padLeft: pad)
                XCTAssertTrue(winogradSupports(g), convTestDescription(g))
                for (withBias, fused, threads) in [(true, false, nil), (false, true, pool), (true, true, nil)] as [(Bool, Bool, ThreadPool?)] {
                    if let message = winogradMismatch(g, withBias: withBias, epilogue: fused, pool: threads, rng: &rng) {
                        XCTFail(message)
                    }
                }
            }
        }
    }

    /// Which geometries Winograd runs: never strides, groups, channels not a multiple of
    /// 16 or tiny outputs; and only when it pays (enough tiles over the batch, enough
    /// channels for the transforms).
    func testWinogradPolicy() {
        let base = ConvGeometry(batch: 1, inputChannels: 32, inputHeight: 8, inputWidth: 8, outputChannels: 32,
                                outputHeight: 8, outputWidth: 8, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        XCTAssertTrue(winogradApplies(base))
        var strided = base; strided.strideHeight = 2; strided.outputHeight = 4
        var grouped = base; grouped.groups = 2
        var narrow = base; narrow.outputChannels = 8
        var tiny = base; tiny.inputHeight = 3; tiny.outputHeight = 3
        for g in [strided, grouped, narrow, tiny] {
            XCTAssertFalse(winogradSupports(g), convTestDescription(g))
            XCTAssertFalse(winogradApplies(g), convTestDescription(g))
        }
        var fewTiles = base; fewTiles.inputHeight = 6; fewTiles.outputHeight = 6; fewTiles.inputWidth = 6; fewTiles.outputWidth = 6
        var fewTilesBatch = fewTiles; fewTilesBatch.batch = 2
        var fewChannels = base; fewChannels.inputChannels = 8; fewChannels.outputChannels = 16
        for g in [fewTiles, fewChannels] {
            XCTAssertTrue(winogradSupports(g), convTestDescription(g))
            XCTAssertFalse(winogradApplies(g), convTestDescription(g))
        }
        XCTAssertTrue(winogradApplies(fewTilesBatch), "9 tiles twice pay")
    }

    /// The Winograd comparison can fail: a corrupted transformed weight is reported.
    func testWinogradComparisonDetectsErrors() {
        var rng = ConvTestRandom(seed: 17)
        let g = ConvGeometry(batch: 1, inputChannels: 4, inputHeight: 6, inputWidth: 6, outputChannels: 16,
                             outputHeight: 6, outputWidth: 6, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        XCTAssertNotNil(winogradMismatch(g, withBias: true, epilogue: false, pool: nil, rng: &rng, corrupt: true))
    }

    /// `ConvWeightLayout.preferred`: column panels for 16-multiples of channels with depth
    /// ≥ 128 and at most 256 output positions, row tiles otherwise; packing keeps the weight's size and every value.
    func testPreferredLayoutAndPackingIsAPermutation() {
        XCTAssertEqual(ConvWeightLayout.preferred(outputChannelsPerGroup: 64, depth: 576), .columnPanels)
        XCTAssertEqual(ConvWeightLayout.preferred(outputChannelsPerGroup: 64, depth: 49), .rowTiles)
        XCTAssertEqual(ConvWeightLayout.preferred(outputChannelsPerGroup: 6, depth: 150), .rowTiles)
        XCTAssertEqual(ConvWeightLayout.preferred(outputChannelsPerGroup: 64, depth: 576, positions: 144), .columnPanels)
        XCTAssertEqual(ConvWeightLayout.preferred(outputChannelsPerGroup: 64, depth: 576, positions: 676), .rowTiles)
        let g = ConvGeometry(batch: 1, inputChannels: 6, inputHeight: 5, inputWidth: 5, outputChannels: 32,
                             outputHeight: 3, outputWidth: 3, kernelHeight: 3, kernelWidth: 3, groups: 2)
        let count = 32 * 3 * 9
        let weight = (0..<count).map { Float($0) }
        for layout in [ConvWeightLayout.plain, .rowTiles, .columnPanels] {
            var packed = [Float](repeating: -1, count: count)
            weight.withUnsafeBufferPointer { w in
                packed.withUnsafeMutableBufferPointer { packConv2dWeight(g, w.baseAddress!, layout: layout, into: $0.baseAddress!) }
            }
            XCTAssertEqual(packed.sorted(), weight, "\(layout)")
            if layout != .plain { XCTAssertNotEqual(packed, weight, "\(layout) should reorder") }
        }
    }

    // MARK: - Helpers

    /// A random consistent geometry, or nil when the drawn one has an empty output.
    private func randomGeometry(_ rng: inout ConvTestRandom) -> ConvGeometry? {
        let groups = 1 + rng.int(3)
        let icg = 1 + rng.int(3), ocg = [1, 2, 4, 7, 16, 32][rng.int(6)]
        let ih = 1 + rng.int(12), iw = 1 + rng.int(12)
        let kernels = [1, 1, 2, 3, 5]
        let kh = kernels[rng.int(kernels.count)], kw = kernels[rng.int(kernels.count)]
        let sh = 1 + rng.int(2), sw = 1 + rng.int(2)
        let dh = 1 + rng.int(2), dw = 1 + rng.int(2)
        let padTop = rng.int(3), padBottom = rng.int(3), padLeft = rng.int(3), padRight = rng.int(3)
        let spanH = ih + padTop + padBottom - dh * (kh - 1) - 1
        let spanW = iw + padLeft + padRight - dw * (kw - 1) - 1
        if spanH < 0 || spanW < 0 { return nil }
        return ConvGeometry(batch: rng.int(2) == 0 ? 1 : 3, inputChannels: icg * groups, inputHeight: ih,
                            inputWidth: iw, outputChannels: ocg * groups,
                            outputHeight: spanH / sh + 1, outputWidth: spanW / sw + 1,
                            kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                            padTop: padTop, padLeft: padLeft, dilationHeight: dh, dilationWidth: dw,
                            groups: groups)
    }

    /// Every layout `g` admits: plain, row tiles, and column panels when the output
    /// channels per group are a multiple of 16.
    private func checkConv(_ g: ConvGeometry, withBias: Bool, pool: ThreadPool?, rng: inout ConvTestRandom,
                           epilogue: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        var layouts: [ConvWeightLayout] = [.plain, .rowTiles]
        if g.outputChannelsPerGroup % 16 == 0 { layouts.append(.columnPanels) }
        for layout in layouts {
            if let message = convMismatch(g, withBias: withBias, pool: pool, rng: &rng, corrupt: false,
                                          layout: layout, epilogue: epilogue) {
                XCTFail("\(layout): " + message, file: file, line: line)
            }
        }
    }
}

/// Runs `conv2dWinograd` and `conv2dReference` (+ residual, ReLU with `epilogue`); a
/// message on the first difference beyond tolerance or a write past the output.
private func winogradMismatch(_ g: ConvGeometry, withBias: Bool, epilogue: Bool, pool: ThreadPool?,
                              rng: inout ConvTestRandom, corrupt: Bool = false) -> String? {
    let inputCount = g.batch * g.inputChannels * g.inputHeight * g.inputWidth
    let weightCount = g.outputChannels * g.inputChannels * 9
    let outputCount = g.batch * g.outputChannels * g.outputHeight * g.outputWidth
    let input = rng.fill(inputCount), weight = rng.fill(weightCount), bias = rng.fill(g.outputChannels)
    let residual = rng.fill(outputCount)
    var transformed = [Float](repeating: .nan, count: winogradWeightElements(g))
    weight.withUnsafeBufferPointer { w in
        transformed.withUnsafeMutableBufferPointer { packWinogradWeight(g, w.baseAddress!, into: $0.baseAddress!) }
    }
    if corrupt { transformed[transformed.count / 3] += 0.5 }
    let guardCount = 32
    let sentinel: Float = 4321
    var output = [Float](repeating: .nan, count: outputCount + guardCount)
    for i in 0..<guardCount { output[outputCount + i] = sentinel }
    var expected = [Float](repeating: 0, count: outputCount)
    var scratch = [Float](repeating: .nan, count: winogradScratchElements(g))
    input.withUnsafeBufferPointer { ip in
        bias.withUnsafeBufferPointer { bp in
            let b = withBias ? bp.baseAddress : nil
            weight.withUnsafeBufferPointer { wp in
                expected.withUnsafeMutableBufferPointer {
                    conv2dReference(g, input: ip.baseAddress!, weight: wp.baseAddress!, bias: b, output: $0.baseAddress!)
                }
            }
            transformed.withUnsafeBufferPointer { tp in
                residual.withUnsafeBufferPointer { rp in
                    output.withUnsafeMutableBufferPointer { op in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            let fused = epilogue ? Epilogue(residual: rp.baseAddress!, activation: .relu) : .none
                            conv2dWinograd(g, input: ip.baseAddress!, transformedWeight: tp.baseAddress!, bias: b,
                                           output: op.baseAddress!, scratch: sp.baseAddress!, pool: pool, epilogue: fused)
                        }
                    }
                }
            }
        }
    }
    if epilogue {
        for i in 0..<outputCount { expected[i] = max(0, expected[i] + residual[i]) }
    }
    let tolerance = 1e-5 * Float(g.inputChannels * 9 + 3)
    for i in 0..<outputCount where !(abs(output[i] - expected[i]) <= tolerance) {
        return "winograd \(convTestDescription(g)) bias \(withBias): output[\(i)] = \(output[i]), expected \(expected[i])"
    }
    for i in 0..<guardCount where output[outputCount + i] != sentinel {
        return "winograd \(convTestDescription(g)): wrote past the output"
    }
    return nil
}

/// A small deterministic generator.
private struct ConvTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 7 }
    mutating func bits() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    /// Uniform in 0..<bound.
    mutating func int(_ bound: Int) -> Int { Int(bits() % UInt64(bound)) }
    /// Uniform in [-1, 1].
    mutating func fill(_ count: Int) -> [Float] { (0..<count).map { _ in Float(Int(bits() % 2001) - 1000) / 1000 } }
}

private func convTestDescription(_ g: ConvGeometry) -> String {
    "[\(kernelISA)] N\(g.batch) C\(g.inputChannels) \(g.inputHeight)x\(g.inputWidth) -> M\(g.outputChannels) "
        + "\(g.outputHeight)x\(g.outputWidth) k\(g.kernelHeight)x\(g.kernelWidth) "
        + "s\(g.strideHeight),\(g.strideWidth) p\(g.padTop),\(g.padLeft) "
        + "d\(g.dilationHeight),\(g.dilationWidth) groups \(g.groups)"
}

/// Runs one convolution with `conv2d` (the weight packed in `layout`; with `epilogue`,
/// fused with a residual and a ReLU) and `conv2dReference` (then the same residual and
/// ReLU); a message on the first difference beyond tolerance or on a write past the output.
private func convMismatch(_ g: ConvGeometry, withBias: Bool, pool: ThreadPool?, rng: inout ConvTestRandom,
                          corrupt: Bool, layout: ConvWeightLayout = .plain, epilogue: Bool = false) -> String? {
    let inputCount = g.batch * g.inputChannels * g.inputHeight * g.inputWidth
    let depth = g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth
    let weightCount = g.outputChannels * depth
    let outputCount = g.batch * g.outputChannels * g.outputHeight * g.outputWidth
    let input = rng.fill(inputCount), weight = rng.fill(weightCount), bias = rng.fill(g.outputChannels)
    let residual = rng.fill(outputCount)
    var packed = [Float](repeating: .nan, count: max(weightCount, 1))
    weight.withUnsafeBufferPointer { w in
        packed.withUnsafeMutableBufferPointer { packConv2dWeight(g, w.baseAddress!, layout: layout, into: $0.baseAddress!) }
    }
    let guardCount = 32
    let sentinel: Float = 4321
    var output = [Float](repeating: .nan, count: outputCount + guardCount)
    for i in 0..<guardCount { output[outputCount + i] = sentinel }
    var expected = [Float](repeating: 0, count: max(outputCount, 1))
    var scratch = [Float](repeating: .nan, count: max(conv2dScratchElements(g), 1))
    input.withUnsafeBufferPointer { ip in
        packed.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                let b = withBias ? bp.baseAddress : nil
                weight.withUnsafeBufferPointer { plain in
                    expected.withUnsafeMutableBufferPointer { ep in
                        conv2dReference(g, input: ip.baseAddress!, weight: plain.baseAddress!, bias: b,
                                        output: ep.baseAddress!)
                    }
                }
                residual.withUnsafeBufferPointer { rp in
                    output.withUnsafeMutableBufferPointer { op in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            let fused = epilogue ? Epilogue(residual: rp.baseAddress!, activation: .relu) : .none
                            conv2dFused(g, input: ip.baseAddress!, weight: wp.baseAddress!, bias: b,
                                        output: op.baseAddress!, scratch: sp.baseAddress!, pool: pool,
                                        epilogue: fused, weightLayout: layout)
                        }
                    }
                }
            }
        }
    }
    if epilogue {
        for i in 0..<outputCount { expected[i] = max(0, expected[i] + residual[i]) }
    }
    if corrupt, outputCount > 0 { output[outputCount / 2] += 0.01 }
    // Inputs lie in [-1, 1]: each output sums `depth` products plus the bias.
    let tolerance = 1e-5 * Float(depth + 3)
    for i in 0..<outputCount where !(abs(output[i] - expected[i]) <= tolerance) {
        return "\(convTestDescription(g)) bias \(withBias): output[\(i)] = \(output[i]), expected \(expected[i])"
    }
    for i in 0..<guardCount where output[outputCount + i] != sentinel {
        return "\(convTestDescription(g)): wrote past the output"
    }
    return nil
}
