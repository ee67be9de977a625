import XCTest
@testable import D2LRuntime
import _D2LKernels

/// Non-maximum suppression's kernel (`first_overlap_above`, through `KeptBoxes`) under every
/// kernel variant the CPU runs against the reference loop over `boxIoU`
/// (`firstOverlapAboveReference`): the same index for random boxes, identical and zero-area
/// boxes, inverted boxes, NaN, IoUs exactly at the threshold, and every count from 0 to 40
/// (each variant's vector body and scalar tail); and `nonMaximumSuppression` against the
/// book's greedy loop written out over `boxIoU`.
final class BoxKernelTests: XCTestCase {
    /// A seeded LCG in [0, 1).
    struct Uniform {
        var state: UInt32
        mutating func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24)
        }
    }

    /// `count` boxes [count, 4]: random corner boxes in a 100 × 100 image (sides 1–40), with
    /// special boxes mixed in (a copy of `box`, zero-area, inverted, NaN, shared edges).
    func boxes(_ count: Int, around box: [Float], _ rng: inout Uniform) -> [Float] {
        var out: [Float] = []
        for i in 0..<count {
            switch i % 9 {
            case 4: out += box                                             // identical: IoU 1
            case 6: out += [box[0], box[1], box[0], box[3]]                 // zero width
            case 7: out += [box[2], box[3], box[0], box[1]]                 // inverted
            case 8 where i % 18 == 17: out += [.nan, box[1], box[2], box[3]]
            default:
                let x = rng.next() * 100, y = rng.next() * 100, w = 1 + rng.next() * 39, h = 1 + rng.next() * 39
                out += [x, y, x + w, y + h]
            }
        }
        return out
    }

    func testFirstOverlapAboveMatchesBoxIoUUnderEveryVariant() {
        forEachKernelVariant { variant in
            var rng = Uniform(state: 7)
            var checked = 0
            for n in 0...40 {
                for trial in 0..<25 {
                    let x = rng.next() * 80, y = rng.next() * 80
                    let box: [Float] = [x, y, x + 5 + rng.next() * 30, y + 5 + rng.next() * 30]
                    let kept = boxes(n, around: box, &rng)
                    // Thresholds: the spec's range, and exactly some pair's IoU (the boundary).
                    var thresholds: [Float] = [0, 0.3, 0.5, 0.7, 1]
                    if n > 0 {
                        let k = trial % n
                        let iou = kept.withUnsafeBufferPointer { kp in box.withUnsafeBufferPointer { boxIoU(kp.baseAddress! + 4 * k, $0.baseAddress!) } }
                        if iou.isFinite, iou >= 0, iou <= 1 { thresholds.append(iou) }
                    }
                    var columns = KeptBoxes(capacity: n)
                    defer { columns.deallocate() }
                    kept.withUnsafeBufferPointer { kp in
                        box.withUnsafeBufferPointer { bp in
                            for k in 0..<n { columns.append(kp.baseAddress! + 4 * k) }
                            for threshold in thresholds {
                                let want = firstOverlapAboveReference(kept: kp.baseAddress!, n: n, box: bp.baseAddress!, threshold: threshold)
                                let got = columns.suppresses(bp.baseAddress!, threshold: threshold)
                                XCTAssertEqual(got, want < n, "\(variant): n \(n), trial \(trial), threshold \(threshold): reference index \(want)")
                                checked += 1
                            }
                        }
                    }
                }
            }
            XCTAssertGreaterThan(checked, 5000)
        }
    }

    func testNonMaximumSuppressionMatchesTheBooksLoopUnderEveryVariant() {
        forEachKernelVariant { variant in
            var rng = Uniform(state: 99)
            for count in [1, 2, 7, 16, 17, 33, 200, 1000] {
                let boxes = boxes(count, around: [10, 10, 40, 40], &rng).map { $0.isNaN ? 5 : $0 }
                // Scores with ties (a coarse grid), so the order's tie rule matters too.
                let scores = (0..<count).map { _ in Float(Int(rng.next() * 20)) / 20 }
                for threshold: Float in [0, 0.25, 0.5, 0.9] {
                    var got = [Int](repeating: -1, count: count)
                    let kept = boxes.withUnsafeBufferPointer { b in
                        scores.withUnsafeBufferPointer { s in
                            got.withUnsafeMutableBufferPointer {
                                nonMaximumSuppression(boxes: b.baseAddress!, scores: s.baseAddress!, count: count,
                                                      iouThreshold: threshold, keep: $0.baseAddress!)
                            }
                        }
                    }
                    // The book: sort by score (stable), keep each box no kept box overlaps by more.
                    let order = (0..<count).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                    var want: [Int] = []
                    boxes.withUnsafeBufferPointer { b in
                        for i in order where !want.contains(where: { boxIoU(b.baseAddress! + 4 * $0, b.baseAddress! + 4 * i) > threshold }) {
                            want.append(i)
                        }
                    }
                    XCTAssertEqual(Array(got.prefix(kept)), want, "\(variant): \(count) boxes, threshold \(threshold)")
                }
            }
        }
    }
}
