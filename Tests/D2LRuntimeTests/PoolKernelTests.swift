import XCTest
@testable import D2LRuntime

/// `pool2d(.max, …)` against a plain loop over every tap: random geometries that take
/// the separable fast path (dilation 1, inputs at least 8 wide) and the general one
/// (dilations 2, narrow inputs), with padding, strides, ceil-mode outputs (windows past
/// the input) and NaNs, which must propagate.
final class PoolKernelTests: XCTestCase {
    func testMaxPoolMatchesEveryTapLoop() {
        forEachKernelVariant { _ in maxPoolMatchesEveryTapLoop() }
    }

    /// The 2×2 stride-2 path (average and max, the kernel variant's `pool2x2_row`) against
    /// the every-tap loop, on widths around every vector width, with NaNs.
    func testTwoByTwoMatchesEveryTapLoop() {
        forEachKernelVariant { _ in
            var state: UInt64 = 99
            func next(_ bound: Int) -> Int {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((state >> 33) % UInt64(bound))
            }
            for (ih, iw) in [(2, 2), (4, 6), (6, 17), (8, 32), (5, 34), (10, 66), (28, 28)] {
                let oh = ih / 2, ow = iw / 2
                let g = ConvGeometry(batch: 2, inputChannels: 3, inputHeight: ih, inputWidth: iw,
                                     outputChannels: 3, outputHeight: oh, outputWidth: ow,
                                     kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
                var input = (0..<(6 * ih * iw)).map { _ in Float(next(2001) - 1000) / 100 }
                input[next(input.count)] = .nan
                for kind in [PoolKind.average, .max] {
                    var output = [Float](repeating: 12345, count: 6 * oh * ow)
                    input.withUnsafeBufferPointer { x in
                        output.withUnsafeMutableBufferPointer { y in
                            pool2d(kind, g, padBottom: 0, padRight: 0, countIncludePad: false,
                                   input: x.baseAddress!, output: y.baseAddress!, pool: nil)
                        }
                    }
                    for p in 0..<6 {
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                let taps = [input[(p * ih + 2 * oy) * iw + 2 * ox], input[(p * ih + 2 * oy) * iw + 2 * ox + 1],
                                            input[(p * ih + 2 * oy + 1) * iw + 2 * ox], input[(p * ih + 2 * oy + 1) * iw + 2 * ox + 1]]
                                let want: Float = kind == .average ? ((taps[0] + taps[1]) + (taps[2] + taps[3])) * 0.25
                                    : (taps.contains { $0.isNaN } ? .nan : taps.max()!)
                                let got = output[(p * oh + oy) * ow + ox]
                                if !(got == want || (got.isNaN && want.isNaN)) {
                                    return XCTFail("[\(kernelISA)] \(kind) \(ih)x\(iw) [\(p), \(oy), \(ox)] = \(got), expected \(want)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func maxPoolMatchesEveryTapLoop() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var tested = 0
        while tested < 300 {
            let kh = 1 + next(4), kw = 1 + next(4)
            let sh = 1 + next(3), sw = 1 + next(3)
            let dh = next(4) == 0 ? 2 : 1, dw = next(4) == 0 ? 2 : 1
            let ih = 1 + next(14), iw = [3, 8, 9, 16, 23, 48][next(6)]
            let padTop = next(min(kh, 3)), padLeft = next(min(kw, 3))
            let extra = next(2) // ceil-mode: one more output row/column may start past the input
            let spanH = ih + 2 * padTop - dh * (kh - 1) - 1, spanW = iw + 2 * padLeft - dw * (kw - 1) - 1
            if spanH < 0 || spanW < 0 { continue }
            let oh = spanH / sh + 1 + (extra == 1 && spanH % sh != 0 ? 1 : 0)
            let ow = spanW / sw + 1 + (extra == 1 && spanW % sw != 0 ? 1 : 0)
            let planes = 1 + next(3)
            let g = ConvGeometry(batch: 1, inputChannels: planes, inputHeight: ih, inputWidth: iw,
                                 outputChannels: planes, outputHeight: oh, outputWidth: ow,
                                 kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                 padTop: padTop, padLeft: padLeft, dilationHeight: dh, dilationWidth: dw)
            var input = (0..<(planes * ih * iw)).map { _ in Float(next(2001) - 1000) / 100 }
            if next(3) == 0 { input[next(input.count)] = .nan }
            var output = [Float](repeating: 12345, count: planes * oh * ow)
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    pool2d(.max, g, padBottom: padTop, padRight: padLeft, countIncludePad: false,
                           input: x.baseAddress!, output: y.baseAddress!, pool: nil)
                }
            }
            for p in 0..<planes {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var expected = -Float.infinity
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let y = oy * sh - padTop + ky * dh, x = ox * sw - padLeft + kx * dw
                                if y < 0 || y >= ih || x < 0 || x >= iw { continue }
                                let v = input[(p * ih + y) * iw + x]
                                if v.isNaN || expected.isNaN { expected = .nan } else { expected = max(expected, v) }
                            }
                        }
                        let got = output[(p * oh + oy) * ow + ox]
                        let same = got == expected || (got.isNaN && expected.isNaN)
                        if !same {
                            return XCTFail("[\(kernelISA)] k\(kh)x\(kw) s\(sh),\(sw) d\(dh),\(dw) p\(padTop),\(padLeft) in \(ih)x\(iw) "
                                + "out \(oh)x\(ow): [\(p), \(oy), \(ox)] = \(got), expected \(expected)")
                        }
                    }
                }
            }
            tested += 1
        }
    }
}
