import Foundation

/// How often a detector's most confident box finds the labelled object: the check behind
/// the book's 13.7.3 picture ("the box above 0.9 is on the banana"), over a whole
/// validation set instead of one image.
///
/// An image counts as *found* when its top detection (the first row of
/// ``multiboxDetection(classProbabilities:offsets:anchors:nmsThreshold:positiveThreshold:)``
/// whose class is not −1) has IoU ≥ ``iouThreshold`` with the image's first labelled box;
/// *found confidently* when that detection's confidence is also ≥ ``confidenceThreshold``.
/// An image without any detection has top confidence 0 and is not found.
public struct DetectionValidation: Equatable, Sendable {
    public var images = 0
    public var found = 0
    public var foundConfidently = 0
    /// The top detection's confidence per image, in image order.
    public var topConfidences: [Float] = []
    public let iouThreshold: Float
    public let confidenceThreshold: Float

    public init(iouThreshold: Float = 0.5, confidenceThreshold: Float = 0.9) {
        self.iouThreshold = iouThreshold
        self.confidenceThreshold = confidenceThreshold
    }

    /// `found / images` (0 for no images).
    public var foundShare: Double { images == 0 ? 0 : Double(found) / Double(images) }

    /// The median of ``topConfidences`` (the mean of the middle two for an even count; 0 for none).
    public var medianTopConfidence: Double {
        let s = topConfidences.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? Double(s[s.count / 2]) : (Double(s[s.count / 2 - 1]) + Double(s[s.count / 2])) / 2
    }

    /// Adds a batch: `detections` `[B, anchors, 6]` as multiboxDetection returns them (rows
    /// class, confidence, x1, y1, x2, y2), `labels` `[B, objects, 5]` (class, x1, y1, x2, y2).
    /// - Throws: `ToolkitError(.shape)` when the two do not fit.
    public mutating func add(detections: Tensor, labels: Tensor) throws {
        guard detections.rank == 3, detections.shape[2] == 6, labels.rank == 3, labels.shape[2] == 5,
              labels.shape[1] >= 1, labels.shape[0] == detections.shape[0] else {
            throw ToolkitError(.shape, "DetectionValidation: detections must be [B, anchors, 6] and labels [B, objects ≥ 1, 5], "
                               + "got \(detections.shape) and \(labels.shape)")
        }
        let (batch, rows, objects) = (detections.shape[0], detections.shape[1], labels.shape[1])
        let d = detections.scalars, l = labels.scalars
        for i in 0..<batch {
            images += 1
            guard let top = (0..<rows).first(where: { d[(i * rows + $0) * 6] != -1 }) else {
                topConfidences.append(0)
                continue
            }
            let row = (i * rows + top) * 6
            let confidence = d[row + 1]
            topConfidences.append(confidence)
            let box = Tensor(Array(d[(row + 2)..<(row + 6)]), shape: [1, 4])
            let truth = Tensor(Array(l[(i * objects * 5 + 1)..<(i * objects * 5 + 5)]), shape: [1, 4])
            if try boxIoU(box, truth).item >= iouThreshold {
                found += 1
                if confidence >= confidenceThreshold { foundConfidently += 1 }
            }
        }
    }

    /// One line: "the top box finds the object (IoU ≥ 0.5) in 78 of 100 images, 12 of them at
    /// confidence ≥ 0.9; median top confidence 0.57".
    public var summary: String {
        String(format: "the top box finds the object (IoU ≥ %.2g) in %d of %@, %d of them at confidence ≥ %.2g; median top confidence %.2f",
               Double(iouThreshold), found, counted(images, "image"), foundConfidently, Double(confidenceThreshold), medianTopConfidence)
    }
}

extension TinySSD {
    /// ``DetectionValidation`` of this model on `data` (the book's `predict` per image, in
    /// evaluation mode, batches of `batchSize`); the modules' training modes are restored.
    public func validate(on data: DetectionDataset, batchSize: Int = 32, iouThreshold: Float = 0.5,
                         confidenceThreshold: Float = 0.9) throws -> DetectionValidation {
        guard batchSize >= 1 else { throw ToolkitError(.invalidArgument, "validate: batchSize must be ≥ 1, got \(batchSize)") }
        return try evaluating {
            var result = DetectionValidation(iouThreshold: iouThreshold, confidenceThreshold: confidenceThreshold)
            for start in stride(from: 0, to: data.count, by: batchSize) {
                let (images, labels) = data.batch(Array(start..<Swift.min(start + batchSize, data.count)))
                let outputs = try withNoGrad { try detect(images) }
                let detections = try multiboxDetection(classProbabilities: outputs.classProbabilities,
                                                       offsets: outputs.boxPredictions, anchors: outputs.anchors)
                try result.add(detections: detections, labels: labels)
            }
            return result
        }
    }
}
