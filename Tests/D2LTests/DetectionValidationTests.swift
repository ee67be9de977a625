import Foundation
import XCTest
@testable import D2L

/// DetectionValidation: which image counts as found, the median, bad shapes; TinySSD.validate's
/// batching and modes; Module.evaluating.
final class DetectionValidationTests: XCTestCase {
    /// Three images, two detection rows each, labels [3, 1, 5]:
    /// 0: top row (0.95) on the box (IoU 1) → found confidently;
    /// 1: the first row is background, the top real row (0.6) is half off the box (IoU 1/3) → not found;
    /// 2: no detection at all → top confidence 0.
    func testFoundOnlyWhenTheTopDetectionOverlapsEnough() throws {
        let detections = Tensor([
            0, 0.95, 0.1, 0.1, 0.5, 0.5, /**/ 0, 0.3, 0.6, 0.6, 0.9, 0.9,
            -1, 0.99, 0.2, 0.2, 0.6, 0.6, /**/ 0, 0.6, 0.4, 0.2, 0.8, 0.6,
            -1, 0.9, 0.1, 0.1, 0.5, 0.5, /**/ -1, 0.8, 0.1, 0.1, 0.5, 0.5,
        ], shape: [3, 2, 6])
        let labels = Tensor([0, 0.1, 0.1, 0.5, 0.5, /**/ 0, 0.2, 0.2, 0.6, 0.6, /**/ 0, 0.1, 0.1, 0.5, 0.5], shape: [3, 1, 5])
        var v = DetectionValidation()
        try v.add(detections: detections, labels: labels)
        XCTAssertEqual(v.images, 3)
        XCTAssertEqual(v.found, 1)
        XCTAssertEqual(v.foundConfidently, 1)
        XCTAssertEqual(v.topConfidences, [0.95, 0.6, 0])
        XCTAssertEqual(v.medianTopConfidence, 0.6, accuracy: 1e-6)
        XCTAssertEqual(v.foundShare, 1.0 / 3, accuracy: 1e-12)
        XCTAssertTrue(v.summary.contains("in 1 of 3 images, 1 of them at confidence ≥ 0.9"), v.summary)

        // A lower IoU threshold finds image 1 too (IoU 1/3), not confidently; the median of an even count.
        var loose = DetectionValidation(iouThreshold: 0.3, confidenceThreshold: 0.9)
        try loose.add(detections: detections, labels: labels)
        XCTAssertEqual(loose.found, 2)
        XCTAssertEqual(loose.foundConfidently, 1)
        try loose.add(detections: Tensor([0, 0.2, 0, 0, 1, 1], shape: [1, 1, 6]), labels: Tensor([0, 0, 0, 1, 1], shape: [1, 1, 5]))
        XCTAssertEqual(loose.images, 4)
        XCTAssertEqual(loose.medianTopConfidence, (0.2 + 0.6) / 2, accuracy: 1e-6)
    }

    func testMismatchedShapesAreRefused() {
        var v = DetectionValidation()
        XCTAssertThrowsError(try v.add(detections: Tensor.zeros([2, 3, 6]), labels: Tensor.zeros([1, 1, 5])))
        XCTAssertThrowsError(try v.add(detections: Tensor.zeros([1, 3, 5]), labels: Tensor.zeros([1, 1, 5])))
        XCTAssertThrowsError(try v.add(detections: Tensor.zeros([1, 3, 6]), labels: Tensor.zeros([1, 0, 5])))
        XCTAssertEqual(v.images, 0)
        XCTAssertEqual(v.medianTopConfidence, 0)
    }

    /// validate over batches equals one whole-set pass, runs in evaluation mode and leaves the
    /// modules' own modes as they were.
    func testTinySSDValidateBatchesAndRestoresModes() throws {
        Random.seed(3)
        let net = TinySSD(classes: 1)
        var pixels = [UInt8](), labels = [Float]()
        for i in 0..<5 {
            pixels += (0..<(3 * 64 * 64)).map { UInt8(($0 * 7 + i * 31) % 256) }
            labels += [0, 0.1, 0.1 + Float(i) * 0.05, 0.5, 0.6]
        }
        let data = DetectionDataset(images: pixels, labels: labels, height: 64, width: 64)
        net.train()
        let bn = net.child(named: "blk_1")?.child(named: "1")
        bn?.eval()
        let whole = try net.validate(on: data, batchSize: 5)
        let batched = try net.validate(on: data, batchSize: 2)
        XCTAssertEqual(whole, batched)
        XCTAssertEqual(whole.images, 5)
        XCTAssertTrue(net.isTraining)
        XCTAssertEqual(bn?.isTraining, false)
        XCTAssertThrowsError(try net.validate(on: data, batchSize: 0))
    }

    func testEvaluatingRestoresEachModulesMode() throws {
        let net = Sequential([Linear(2, 2), Dropout(0.5), Linear(2, 1)])
        net.train()
        net.child(named: "2")?.eval()
        let seen: [Bool] = net.evaluating { net.children.map(\.module.isTraining) + [net.isTraining] }
        XCTAssertEqual(seen, [false, false, false, false])
        XCTAssertEqual(net.children.map(\.module.isTraining), [true, true, false])
        XCTAssertTrue(net.isTraining)
        XCTAssertThrowsError(try net.evaluating { throw ToolkitError(.invalidArgument, "stop") })
        XCTAssertEqual(net.children.map(\.module.isTraining), [true, true, false])
    }
}
