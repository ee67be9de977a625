import Foundation
import XCTest
@testable import D2L

/// TinySSD (the book's 13.7): shapes and keys, `concat_preds`' order, the loss against a hand computation, and
/// training on a fixed batch bringing the loss down.
final class TinySSDTests: XCTestCase {
    func testOutputsShapesAndBookKeys() throws {
        Random.seed(0)
        let net = TinySSD(classes: 2)
        net.eval()
        let out = try withNoGrad { try net.detect(Tensor.zeros([2, 3, 64, 64])) }
        // Scales of 8², 4², 2², 1², 1² pixels, 4 anchors each.
        let anchors = (64 + 16 + 4 + 1 + 1) * 4
        XCTAssertEqual(out.anchors.shape, [1, anchors, 4])
        XCTAssertEqual(out.classPredictions.shape, [2, anchors, 3])
        XCTAssertEqual(out.boxPredictions.shape, [2, anchors * 4])
        let keys = net.namedStateEntries().map(\.name)
        for key in ["blk_0.0.0.weight", "blk_0.2.4.running_var", "blk_1.3.weight", "blk_3.4.bias", "cls_0.weight", "cls_4.bias",
                    "bbox_0.weight", "bbox_4.bias"] {
            XCTAssertTrue(keys.contains(key), "no \(key) in \(keys.prefix(12))…")
        }
        XCTAssertFalse(keys.contains { $0.hasPrefix("blk_4") }, "the global max pool has no state")
        XCTAssertEqual(try net.child(named: "cls_1").map { ($0 as? Conv2d)?.weight.shape } ?? nil, [4 * 3, 128, 3, 3])
        // The first scale's anchors are multiboxPrior's of an 8 × 8 map.
        let first = try multiboxPrior(height: 8, width: 8, sizes: TinySSD.sizes[0], ratios: TinySSD.ratios[0]).scalars
        XCTAssertEqual(Array(out.anchors.scalars.prefix(first.count)), first)
        XCTAssertThrowsError(try net.detect(Tensor.zeros([1, 3, 32, 32])))
        XCTAssertThrowsError(try net(Tensor.zeros([1, 3, 64, 64])))
    }

    func testConcatPredictionsPutsChannelsLastPerScale() throws {
        // Two scales of one example: [1, 2, 1, 2] (channels a, b at two pixels) and [1, 1, 1, 1].
        let first = Tensor([1, 2, 3, 4], shape: [1, 2, 1, 2]), second = Tensor([9], shape: [1, 1, 1, 1])
        let joined = TinySSD.concatPredictions([first, second])
        XCTAssertEqual(joined.shape, [1, 5])
        XCTAssertEqual(joined.scalars, [1, 3, 2, 4, 9], "pixel by pixel, each pixel's channels together, then the next scale")
        // The book's 13.7.1 shapes.
        XCTAssertEqual(TinySSD.concatPredictions([Tensor.zeros([2, 55, 20, 20]), Tensor.zeros([2, 33, 10, 10])]).shape, [2, 25300])
        Random.seed(0)
        XCTAssertEqual(try TinySSD.baseNet()(Tensor.zeros([1, 3, 64, 48])).shape, [1, 64, 8, 6])
    }

    func testClassProbabilitiesAreEachAnchorsSoftmaxInAColumn() throws {
        // One image, two anchors, three classes: scores (0, 1, 2) and (3, 3, 0).
        let outputs = TinySSD.Outputs(anchors: Tensor.zeros([1, 2, 4]), classPredictions: Tensor([0, 1, 2, 3, 3, 0], shape: [1, 2, 3]),
                                      boxPredictions: Tensor.zeros([1, 8]))
        let p = outputs.classProbabilities
        XCTAssertEqual(p.shape, [1, 3, 2])
        let e = [Float(0), 1, 2].map { exp($0) }, f = [Float(3), 3, 0].map { exp($0) }
        let expected = [e[0], f[0], e[1], f[1], e[2], f[2]].enumerated().map { i, v in v / (i % 2 == 0 ? e.reduce(0, +) : f.reduce(0, +)) }
        for (a, b) in zip(p.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-6, "\(p.scalars) vs \(expected)") }
    }

    func testLossIsMeanCrossEntropyPlusMeanMaskedL1() throws {
        // Two anchors, two classes (background + 1), one image.
        let outputs = TinySSD.Outputs(anchors: Tensor.zeros([1, 2, 4]),
                                      classPredictions: Tensor([1, 0, 0, 2], shape: [1, 2, 2]),
                                      boxPredictions: Tensor([0.5, -1, 0, 2, 9, 9, 9, 9], shape: [1, 8]))
        let targets = MultiboxTargets(offsets: Tensor([1, 1, 0, 0, 0, 0, 0, 0], shape: [1, 8]),
                                      mask: Tensor([1, 1, 1, 1, 0, 0, 0, 0], shape: [1, 8]), classLabels: [[0, 1]])
        let loss = try tinySSDLoss(outputs, targets).scalars
        let ce0 = log(exp(Float(1)) + 1) - 1, ce1 = log(1 + exp(Float(2))) - 2
        let l1 = (0.5 + 2 + 0 + 2) / Float(8)
        XCTAssertEqual(loss.count, 1)
        XCTAssertEqual(loss[0], (ce0 + ce1) / 2 + l1, accuracy: 1e-6)
    }

    func testTrainingOnAFixedBatchBringsTheLossDown() throws {
        Random.seed(1)
        let net = TinySSD(classes: 1)
        // Two 64 × 64 images with a bright square each.
        var pixels = [Float](repeating: 0.1, count: 2 * 3 * 64 * 64)
        for (i, (x0, y0)) in [(8, 12), (30, 26)].enumerated() {
            for c in 0..<3 { for y in y0..<(y0 + 24) { for x in x0..<(x0 + 24) { pixels[((i * 3 + c) * 64 + y) * 64 + x] = 0.9 } } }
        }
        let images = Tensor(pixels, shape: [2, 3, 64, 64])
        let labels = Tensor([0, 8 / 64, 12 / 64, 32 / 64, 36 / 64, 0, 30 / 64, 26 / 64, 54 / 64, 50 / 64], shape: [2, 1, 5])
        let sgd = SGD(net.parameters(), learningRate: 0.2, weightDecay: 5e-4)
        var losses: [Float] = []
        for _ in 0..<6 {
            sgd.zeroGrad()
            let outputs = try net.detect(images)
            let loss = try tinySSDLoss(outputs, try multiboxTarget(anchors: outputs.anchors, labels: labels)).mean()
            losses.append(loss.item)
            loss.backward()
            XCTAssertNotNil(net.parameters().first?.grad)
            sgd.step()
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.8, "losses \(losses)")
    }
}
