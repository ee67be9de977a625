import Foundation
import XCTest
@testable import D2L

/// D2L/Vision against the book's PyTorch functions on the book's examples and seeded random
/// cases: Tests/Fixtures/toolkit/detection/detection.json (tools/fixtures/make-detection-fixtures).
final class VisionDetectionTests: XCTestCase {
    private static let fixtures: [String: [[String: Any]]] = {
        let url = URL(fileURLWithPath: toolkitFixture("detection/detection.json"))
        let data = (try? Data(contentsOf: url)) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: [[String: Any]]]) ?? [:]
    }()

    private func cases(_ key: String) throws -> [[String: Any]] {
        let list = Self.fixtures[key] ?? []
        XCTAssertFalse(list.isEmpty, "no \(key) cases in detection.json")
        return list
    }

    private func floats(_ value: Any?) -> [Float] {
        (value as? [Any] ?? []).map { item in
            if let s = item as? String, s == "nan" { return .nan }
            return (item as? NSNumber)?.floatValue ?? .nan
        }
    }

    private func ints(_ value: Any?) -> [Int] { (value as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }
    private func int(_ c: [String: Any], _ key: String) -> Int { (c[key] as? NSNumber)?.intValue ?? -1 }
    private func float(_ c: [String: Any], _ key: String) -> Float { (c[key] as? NSNumber)?.floatValue ?? .nan }

    private func assertClose(_ got: [Float], _ want: [Float], _ tolerance: Float, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): largest difference \(worst)", file: file, line: line)
    }

    private func boxes(_ values: [Float]) -> Tensor { Tensor(values, shape: [values.count / 4, 4]) }

    func testCornerAndCenterConversions() throws {
        for c in try cases("corner_to_center") {
            assertClose(try boxCornerToCenter(boxes(floats(c["boxes"]))).scalars, floats(c["center"]), 1e-5, "\(c["name"]!)")
        }
        for c in try cases("center_to_corner") {
            assertClose(try boxCenterToCorner(boxes(floats(c["boxes"]))).scalars, floats(c["corner"]), 1e-5, "\(c["name"]!)")
        }
    }

    func testMultiboxPrior() throws {
        for c in try cases("multibox_prior") {
            let anchors = try multiboxPrior(height: int(c, "height"), width: int(c, "width"), sizes: floats(c["sizes"]),
                                            ratios: floats(c["ratios"]))
            XCTAssertEqual(anchors.shape, [1, int(c, "anchor_count"), 4], "\(c["name"]!)")
            let values = anchors.scalars
            if c["anchors"] != nil {
                assertClose(values, floats(c["anchors"]), 1e-6, "\(c["name"]!)")
            } else if let sample = c["sample"] as? [String: Any] {
                let rows = ints(sample["indices"])
                XCTAssertGreaterThan(rows.count, 10)
                assertClose(rows.flatMap { Array(values[($0 * 4)..<($0 * 4 + 4)]) }, floats(sample["values"]), 1e-6, "\(c["name"]!)")
            }
        }
        // The book's shape: [1, h·w·k, 4] from data's last two dimensions.
        XCTAssertEqual(try multiboxPrior(Tensor.zeros([1, 3, 4, 5]), sizes: [0.75, 0.5, 0.25], ratios: [1, 2, 0.5]).shape, [1, 100, 4])
    }

    func testBoxIoU() throws {
        for c in try cases("box_iou") {
            let want = floats(c["iou"]).map { $0.isNaN ? 0 : $0 }  // the book's 0/0 is NaN; ours 0
            let got = try boxIoU(boxes(floats(c["boxes1"])), boxes(floats(c["boxes2"])))
            XCTAssertEqual(got.shape, [int(c, "count1"), int(c, "count2")])
            assertClose(got.scalars, want, 1e-6, "\(c["name"]!)")
        }
    }

    func testAssignAnchorToBox() throws {
        for c in try cases("assign_anchor_to_bbox") {
            let map = try assignAnchorToBox(groundTruth: boxes(floats(c["ground_truth"])), anchors: boxes(floats(c["anchors"])),
                                            iouThreshold: float(c, "iou_threshold"))
            XCTAssertEqual(map, ints(c["map"]), "\(c["name"]!)")
        }
    }

    func testOffsetsBothWays() throws {
        for c in try cases("offset_boxes") {
            let got = try offsetBoxes(anchors: boxes(floats(c["anchors"])), assigned: boxes(floats(c["assigned"])))
            assertClose(got.scalars, floats(c["offsets"]), 2e-5, "\(c["name"]!)")
        }
        for c in try cases("offset_inverse") {
            let got = try offsetInverse(anchors: boxes(floats(c["anchors"])), offsets: boxes(floats(c["offsets"])))
            assertClose(got.scalars, floats(c["boxes"]), 1e-5, "\(c["name"]!)")
        }
    }

    func testMultiboxTarget() throws {
        for c in try cases("multibox_target") {
            let (b, g, a) = (int(c, "batch"), int(c, "g"), int(c, "a"))
            let targets = try multiboxTarget(anchors: Tensor(floats(c["anchors"]), shape: [1, a, 4]),
                                             labels: Tensor(floats(c["labels"]), shape: [b, g, 5]))
            XCTAssertEqual(targets.classLabels.flatMap { $0 }, ints(c["class_labels"]), "\(c["name"]!)")
            XCTAssertEqual(targets.mask.scalars, floats(c["bbox_mask"]), "\(c["name"]!)")
            XCTAssertEqual(targets.offsets.shape, [b, a * 4])
            assertClose(targets.offsets.scalars, floats(c["bbox_offset"]), 2e-5, "\(c["name"]!)")
        }
    }

    func testNMS() throws {
        for c in try cases("nms") {
            let scores = floats(c["scores"])
            let keep = try nms(boxes: boxes(floats(c["boxes"])), scores: Tensor(scores, shape: [scores.count]),
                               iouThreshold: float(c, "iou_threshold"))
            XCTAssertEqual(keep, ints(c["keep"]), "\(c["name"]!)")
        }
    }

    func testMultiboxDetection() throws {
        for c in try cases("multibox_detection") {
            let (b, k, a) = (int(c, "batch"), int(c, "classes"), int(c, "anchor_count"))
            let got = try multiboxDetection(classProbabilities: Tensor(floats(c["cls_probs"]), shape: [b, k, a]),
                                            offsets: Tensor(floats(c["offsets"]), shape: [b, a * 4]),
                                            anchors: Tensor(floats(c["anchors"]), shape: [1, a, 4]),
                                            nmsThreshold: float(c, "nms_threshold"), positiveThreshold: float(c, "pos_threshold"))
            XCTAssertEqual(got.shape, [b, a, 6])
            assertClose(got.scalars, floats(c["output"]), 2e-6, "\(c["name"]!)")
        }
    }

    func testBadArgumentsAreOneLineErrors() throws {
        XCTAssertThrowsError(try boxIoU(Tensor.zeros([2, 3]), Tensor.zeros([1, 4])))
        XCTAssertThrowsError(try boxIoU(Tensor([0, 0, .nan, 1], shape: [1, 4]), Tensor.zeros([1, 4]))) { error in
            XCTAssertTrue("\(error)".contains("boxes1[0, 2]"), "\(error)")
        }
        XCTAssertThrowsError(try multiboxPrior(height: 2, width: 2, sizes: [], ratios: [1]))
        XCTAssertThrowsError(try multiboxPrior(height: 2, width: 2, sizes: [0.5], ratios: [-1])) { error in
            XCTAssertTrue("\(error)".contains("ratios[0]"), "\(error)")
        }
        XCTAssertThrowsError(try multiboxPrior(height: Int.max, width: 2, sizes: [0.5], ratios: [1]))
        XCTAssertThrowsError(try nms(boxes: Tensor.zeros([2, 4]), scores: Tensor.zeros([2]), iouThreshold: 1.5)) { error in
            XCTAssertTrue("\(error)".contains("iouThreshold"), "\(error)")
        }
        XCTAssertThrowsError(try nms(boxes: Tensor.zeros([2, 4]), scores: Tensor.zeros([3]), iouThreshold: 0.5))
        XCTAssertThrowsError(try multiboxDetection(classProbabilities: Tensor.zeros([1, 1, 3]), offsets: Tensor.zeros([1, 12]),
                                                   anchors: Tensor.zeros([1, 3, 4])))
        XCTAssertThrowsError(try multiboxTarget(anchors: Tensor.zeros([1, 3, 4]), labels: Tensor([-1, 0, 0, 1, 1], shape: [1, 1, 5])))
    }
}
