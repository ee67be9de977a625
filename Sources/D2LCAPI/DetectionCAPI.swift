import D2LRuntime

// The detection helpers of include/d2l.h (C API version 3): the book's box_iou,
// multibox_prior, nms and multibox_detection for a C caller, no model needed. Each checks
// every pointer, count and value first (DetectionChecks) and writes its outputs only when
// all pass. Thread-safe: no shared state.

@_cdecl("d2l_box_iou")
public func d2l_box_iou(_ boxes1: UnsafePointer<Float>?, _ count1: Int, _ boxes2: UnsafePointer<Float>?, _ count2: Int,
                        _ outIoU: UnsafeMutablePointer<Float>?) -> Int32 {
    let fn = "d2l_box_iou"
    do {
        let n1 = try DetectionChecks.product(count1, 4, "count1 × 4", fn)
        let n2 = try DetectionChecks.product(count2, 4, "count2 × 4", fn)
        let total = try DetectionChecks.product(count1, count2, "count1 × count2", fn)
        try DetectionChecks.finite(boxes1, count: n1, "boxes1", fn)
        try DetectionChecks.finite(boxes2, count: n2, "boxes2", fn)
        guard total == 0 || outIoU != nil else { return invalidArgument("\(fn): out_iou is NULL") }
        guard total > 0, let boxes1, let boxes2, let outIoU else { return 0 }
        boxIoUMatrix(boxes1, count1: count1, boxes2, count2: count2, into: outIoU)
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_multibox_prior")
public func d2l_multibox_prior(_ height: Int, _ width: Int, _ sizes: UnsafePointer<Float>?, _ sizeCount: Int,
                               _ ratios: UnsafePointer<Float>?, _ ratioCount: Int,
                               _ outAnchors: UnsafeMutablePointer<Float>?) -> Int32 {
    let fn = "d2l_multibox_prior"
    do {
        try DetectionChecks.positive(sizes, count: sizeCount, "sizes", fn)
        try DetectionChecks.positive(ratios, count: ratioCount, "ratios", fn)
        _ = try DetectionChecks.priorValues(height: height, width: width, sizeCount: sizeCount, ratioCount: ratioCount, fn)
        guard let sizes, let ratios, let outAnchors else { return invalidArgument("\(fn): out_anchors is NULL") }
        multiboxPrior(height: height, width: width, sizes: sizes, sizeCount: sizeCount, ratios: ratios,
                      ratioCount: ratioCount, into: outAnchors)
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_nms")
public func d2l_nms(_ boxes: UnsafePointer<Float>?, _ scores: UnsafePointer<Float>?, _ count: Int, _ iouThreshold: Float,
                    _ outKeep: UnsafeMutablePointer<Int>?, _ outKept: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "d2l_nms"
    do {
        let n = try DetectionChecks.product(count, 4, "count × 4", fn)
        try DetectionChecks.finite(boxes, count: n, "boxes", fn)
        try DetectionChecks.finite(scores, count: count, "scores", fn)
        try DetectionChecks.threshold(iouThreshold, "iou_threshold", fn)
        guard let outKept else { return invalidArgument("\(fn): out_kept is NULL") }
        guard count == 0 || outKeep != nil else { return invalidArgument("\(fn): out_keep is NULL") }
        guard count > 0, let boxes, let scores, let outKeep else {
            outKept.pointee = 0
            return 0
        }
        outKept.pointee = nonMaximumSuppression(boxes: boxes, scores: scores, count: count, iouThreshold: iouThreshold,
                                                keep: outKeep)
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_multibox_detection")
public func d2l_multibox_detection(_ classProbs: UnsafePointer<Float>?, _ offsets: UnsafePointer<Float>?,
                                   _ anchors: UnsafePointer<Float>?, _ classCount: Int, _ anchorCount: Int,
                                   _ nmsThreshold: Float, _ posThreshold: Float,
                                   _ outDetections: UnsafeMutablePointer<Float>?) -> Int32 {
    let fn = "d2l_multibox_detection"
    do {
        guard classCount >= 2 else {
            return invalidArgument("\(fn): class_count must be at least 2 (background and one class), got \(classCount)")
        }
        let probabilities = try DetectionChecks.product(classCount, anchorCount, "class_count × anchor_count", fn)
        let boxValues = try DetectionChecks.product(anchorCount, 4, "anchor_count × 4", fn)
        _ = try DetectionChecks.product(anchorCount, 6, "anchor_count × 6", fn)
        try DetectionChecks.finite(classProbs, count: probabilities, "class_probs", fn)
        try DetectionChecks.finite(offsets, count: boxValues, "offsets", fn)
        try DetectionChecks.finite(anchors, count: boxValues, "anchors", fn)
        try DetectionChecks.threshold(nmsThreshold, "nms_threshold", fn)
        try DetectionChecks.threshold(posThreshold, "pos_threshold", fn)
        guard anchorCount == 0 || outDetections != nil else { return invalidArgument("\(fn): out_detections is NULL") }
        guard anchorCount > 0, let classProbs, let offsets, let anchors, let outDetections else { return 0 }
        multiboxDetection(classProbs: classProbs, offsets: offsets, anchors: anchors, classCount: classCount,
                          anchorCount: anchorCount, nmsThreshold: nmsThreshold, posThreshold: posThreshold,
                          into: outDetections)
        return 0
    } catch {
        return fail(error)
    }
}
