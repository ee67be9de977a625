import D2LRuntime

// The book's prediction side of anchor boxes (13.4.4): non-maximum suppression and
// multibox_detection, on toolkit tensors, through the runtime's functions (which the C
// API's d2l_nms and d2l_multibox_detection call too).

/// The indices of the boxes the book's `nms` keeps: by descending score (ties: the lower
/// index first), each unless its IoU with a box already kept exceeds `iouThreshold`.
/// - Throws: `ToolkitError(.shape)` for boxes that are not `[count, 4]` or a score count
///   that differs; `.invalidArgument` for values that are not finite or a threshold
///   outside [0, 1].
public func nms(boxes: Tensor, scores: Tensor, iouThreshold: Float) throws -> [Int] {
    let fn = "nms"
    let (b, count) = try checkedBoxes(boxes, "boxes", fn)
    let s = scores.scalars
    guard s.count == count else { throw ToolkitError(.shape, "nms: \(count) boxes but \(s.count) scores") }
    try checkFinite(s, "scores", fn)
    try runtimeChecks { () throws(D2LError) in try DetectionChecks.threshold(iouThreshold, "iouThreshold", fn) }
    var keep = [Int](repeating: 0, count: count)
    let kept = b.withUnsafeBufferPointer { pb in
        s.withUnsafeBufferPointer { ps in
            keep.withUnsafeMutableBufferPointer { pk -> Int in
                guard let x = pb.baseAddress, let y = ps.baseAddress, let z = pk.baseAddress else { return 0 }
                return nonMaximumSuppression(boxes: x, scores: y, count: count, iouThreshold: iouThreshold, keep: z)
            }
        }
    }
    return Array(keep.prefix(kept))
}

/// The book's `multibox_detection(cls_probs, offset_preds, anchors, nms_threshold,
/// pos_threshold)`: `classProbabilities` `[batch, classes, anchors]` (row 0 background),
/// `offsets` `[batch, anchors · 4]`, `anchors` `[1, anchors, 4]`; `[batch, anchors, 6]` rows
/// (class, confidence, x1, y1, x2, y2): the boxes NMS keeps by confidence with their class
/// (0-based, background excluded), then the rest with class −1; a confidence below
/// `positiveThreshold` becomes class −1 with confidence 1 − confidence.
/// - Throws: `ToolkitError(.shape)` for shapes that do not fit; `.invalidArgument` for
///   values that are not finite or thresholds outside [0, 1].
public func multiboxDetection(classProbabilities: Tensor, offsets: Tensor, anchors: Tensor, nmsThreshold: Float = 0.5,
                              positiveThreshold: Float = 0.009999999) throws -> Tensor {
    let fn = "multiboxDetection"
    let flatAnchors = anchors.rank == 3 && anchors.shape[0] == 1 ? anchors.reshaped([anchors.shape[1], anchors.shape[2]]) : anchors
    let (a, count) = try checkedBoxes(flatAnchors, "anchors", fn)
    guard classProbabilities.rank == 3, classProbabilities.shape[1] >= 2, classProbabilities.shape[2] == count else {
        throw ToolkitError(.shape, "\(fn): classProbabilities must be [batch, classes ≥ 2, \(count)], got \(classProbabilities.shape)")
    }
    let (batch, classes) = (classProbabilities.shape[0], classProbabilities.shape[1])
    guard offsets.count == batch * count * 4 else {
        throw ToolkitError(.shape, "\(fn): offsets must hold batch × anchors × 4 = \(batch * count * 4) values, got \(offsets.shape)")
    }
    let p = classProbabilities.scalars, d = offsets.scalars
    try checkFinite(p, "classProbabilities", fn)
    try checkFinite(d, "offsets", fn)
    try runtimeChecks { () throws(D2LError) in
        try DetectionChecks.threshold(nmsThreshold, "nmsThreshold", fn)
        try DetectionChecks.threshold(positiveThreshold, "positiveThreshold", fn)
    }
    var out = [Float](repeating: 0, count: batch * count * 6)
    guard count > 0 else { return Tensor(out, shape: [batch, 0, 6]) }
    p.withUnsafeBufferPointer { pp in
        d.withUnsafeBufferPointer { pd in
            a.withUnsafeBufferPointer { pa in
                out.withUnsafeMutableBufferPointer { po in
                    guard let probs = pp.baseAddress, let offs = pd.baseAddress, let anch = pa.baseAddress, let o = po.baseAddress else { return }
                    for i in 0..<batch {
                        D2LRuntime.multiboxDetection(classProbs: probs + i * classes * count, offsets: offs + i * count * 4,
                                                     anchors: anch, classCount: classes, anchorCount: count,
                                                     nmsThreshold: nmsThreshold, posThreshold: positiveThreshold,
                                                     into: o + i * count * 6)
                    }
                }
            }
        }
    }
    return Tensor(out, shape: [batch, count, 6])
}
