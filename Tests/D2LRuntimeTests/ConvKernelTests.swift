import XCTest
@testable import D2LRuntime
import _D2LSystem

/// `conv2d` against `conv2dReference`: random geometries (groups 1–3, strides 1–2,
/// asymmetric padding through padTop/padLeft and the output size, dilations 1–2, 1×1
/// and rectangular kernels, batch 1 and 3, with and without bias), the in-place 1×1
/// path, the parallel-over-images mode and large products threaded inside gemm, with no
/// pool and a pool of 3 threads. The scratch starts full of NaNs, the output too.
final class ConvKernelTests: XCTestCase {
    func testRandomGeometries() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
        var rng = ConvTestRandom(seed: 11)
        var tested = 0
        while tested < 400 {
            guard let g = randomGeometry(&rng) else { continue }
            let withBias = tested % 3 != 0
            checkConv(g, withBias: withBias, pool: tested % 2 == 0 ? nil : pool, rng: &rng)
            tested += 1
        }
    }

    func testPointwiseNeedsNoScratch() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
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

    /// LeNet's convolutions at batch 1 and 3 (small products: parallel over images) and
    /// larger ones (threaded inside gemm, columns built in parallel).
    func testLeNetAndLargerShapes() {
        guard let pool = ThreadPool(threadCount: 3) else { return XCTFail("no thread pool") }
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

    /// A deliberately wrong result must be reported (the comparison can fail).
    func testComparisonDetectsErrors() {
        var rng = ConvTestRandom(seed: 14)
        let g = ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5,
                             outputChannels: 2, outputHeight: 3, outputWidth: 3,
                             kernelHeight: 3, kernelWidth: 3)
        XCTAssertNotNil(convMismatch(g, withBias: true, pool: nil, rng: &rng, corrupt: true))
        XCTAssertNil(convMismatch(g, withBias: true, pool: nil, rng: &rng, corrupt: false))
    }

    // MARK: - Helpers

    /// A random consistent geometry, or nil when the drawn one has an empty output.
    private func randomGeometry(_ rng: inout ConvTestRandom) -> ConvGeometry? {
        let groups = 1 + rng.int(3)
        let icg = 1 + rng.int(3), ocg = [1, 2, 4, 7][rng.int(4)]
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

    private func checkConv(_ g: ConvGeometry, withBias: Bool, pool: ThreadPool?, rng: inout ConvTestRandom,
                           file: StaticString = #filePath, line: UInt = #line) {
        if let message = convMismatch(g, withBias: withBias, pool: pool, rng: &rng, corrupt: false) {
            XCTFail(message, file: file, line: line)
        }
    }
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
    "N\(g.batch) C\(g.inputChannels) \(g.inputHeight)x\(g.inputWidth) -> M\(g.outputChannels) "
        + "\(g.outputHeight)x\(g.outputWidth) k\(g.kernelHeight)x\(g.kernelWidth) "
        + "s\(g.strideHeight),\(g.strideWidth) p\(g.padTop),\(g.padLeft) "
        + "d\(g.dilationHeight),\(g.dilationWidth) groups \(g.groups)"
}

/// Runs one convolution with `conv2d` and `conv2dReference`; a message on the first
/// difference beyond tolerance or on a write past the output.
private func convMismatch(_ g: ConvGeometry, withBias: Bool, pool: ThreadPool?, rng: inout ConvTestRandom,
                          corrupt: Bool) -> String? {
    let inputCount = g.batch * g.inputChannels * g.inputHeight * g.inputWidth
    let depth = g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth
    let weightCount = g.outputChannels * depth
    let outputCount = g.batch * g.outputChannels * g.outputHeight * g.outputWidth
    let input = rng.fill(inputCount), weight = rng.fill(weightCount), bias = rng.fill(g.outputChannels)
    let guardCount = 32
    let sentinel: Float = 4321
    var output = [Float](repeating: .nan, count: outputCount + guardCount)
    for i in 0..<guardCount { output[outputCount + i] = sentinel }
    var expected = [Float](repeating: 0, count: max(outputCount, 1))
    var scratch = [Float](repeating: .nan, count: max(conv2dScratchElements(g), 1))
    input.withUnsafeBufferPointer { ip in
        weight.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                let b = withBias ? bp.baseAddress : nil
                expected.withUnsafeMutableBufferPointer { ep in
                    conv2dReference(g, input: ip.baseAddress!, weight: wp.baseAddress!, bias: b,
                                    output: ep.baseAddress!)
                }
                output.withUnsafeMutableBufferPointer { op in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        conv2d(g, input: ip.baseAddress!, weight: wp.baseAddress!, bias: b,
                               output: op.baseAddress!, scratch: sp.baseAddress!, pool: pool)
                    }
                }
            }
        }
    }
    if corrupt, outputCount > 0 { output[outputCount / 2] += 0.01 }
    // Inputs lie in [-1, 1]: each output sums `depth` products plus the bias.
    let tolerance = 1e-5 * Float(depth + 2)
    for i in 0..<outputCount where !(abs(output[i] - expected[i]) <= tolerance) {
        return "\(convTestDescription(g)) bias \(withBias): output[\(i)] = \(output[i]), expected \(expected[i])"
    }
    for i in 0..<guardCount where output[outputCount + i] != sentinel {
        return "\(convTestDescription(g)): wrote past the output"
    }
    return nil
}
