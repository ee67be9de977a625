import _D2LSystem

// Bounding-box arithmetic of the book's 13.3–13.4 (object detection), shared by the C API
// (`d2l_box_iou`, `d2l_multibox_prior`, `d2l_nms`, `d2l_multibox_detection`), the
// `NonMaxSuppression` operator and the toolkit's `D2L/Vision`. Boxes are float32 corner
// format (x1, y1, x2, y2), row-major `[count, 4]`, x to the right and y down; a box is
// given by a pointer to its 4 values. Callers check sizes and values first
// (`DetectionChecks`); these functions do not check and do not allocate.

/// The area of the corner box at `b`: (x2 − x1)·(y2 − y1) (negative for an inverted box,
/// as the book computes it).
@inline(__always)
package func boxArea(_ b: UnsafePointer<Float>) -> Float { (b[2] - b[0]) * (b[3] - b[1]) }

/// Intersection over union of the corner boxes at `a` and `b` (the book's `box_iou` for one
/// pair): intersection / (area a + area b − intersection), the intersection clamped at 0;
/// 0 when the union is not positive (two zero-area boxes, where the book divides 0 by 0).
@inline(__always)
package func boxIoU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
    let w = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    let h = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    let inter = w * h
    let union = boxArea(a) + boxArea(b) - inter
    return union > 0 ? inter / union : 0
}

/// `out[i·count2 + j]` = IoU of `boxes1[i]` and `boxes2[j]` (the book's `box_iou`).
package func boxIoUMatrix(_ boxes1: UnsafePointer<Float>, count1: Int, _ boxes2: UnsafePointer<Float>, count2: Int,
                          into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count1 {
        for j in 0..<count2 { out[i * count2 + j] = boxIoU(boxes1 + 4 * i, boxes2 + 4 * j) }
    }
}

/// Corner (x1, y1, x2, y2) → center (cx, cy, w, h) for `count` boxes (`box_corner_to_center`).
package func boxCornerToCenter(_ boxes: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let b = boxes + 4 * i, o = out + 4 * i
        let (x1, y1, x2, y2) = (b[0], b[1], b[2], b[3])
        o[0] = (x1 + x2) / 2
        o[1] = (y1 + y2) / 2
        o[2] = x2 - x1
        o[3] = y2 - y1
    }
}

/// Center (cx, cy, w, h) → corner (x1, y1, x2, y2) for `count` boxes (`box_center_to_corner`).
package func boxCenterToCorner(_ boxes: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let b = boxes + 4 * i, o = out + 4 * i
        let (cx, cy, w, h) = (b[0], b[1], b[2], b[3])
        o[0] = cx - 0.5 * w
        o[1] = cy - 0.5 * h
        o[2] = cx + 0.5 * w
        o[3] = cy + 0.5 * h
    }
}

/// The number of anchors `multiboxPrior` makes per pixel: sizes + ratios − 1.
package func anchorsPerPixel(sizes: Int, ratios: Int) -> Int { sizes + ratios - 1 }

/// The book's `multibox_prior` for an `height × width` feature map: per pixel (row-major),
/// anchors centred on ((x + 0.5)/width, (y + 0.5)/height) with, in this order, (s_i, r_0)
/// for every size and (s_0, r_j) for the other ratios: width s·√r·height/width, height
/// s/√r, in [0, 1] image coordinates. `out` holds `height·width·(sizes + ratios − 1)·4`.
package func multiboxPrior(height: Int, width: Int, sizes: UnsafePointer<Float>, sizeCount: Int,
                           ratios: UnsafePointer<Float>, ratioCount: Int, into out: UnsafeMutablePointer<Float>) {
    let perPixel = anchorsPerPixel(sizes: sizeCount, ratios: ratioCount)
    // Half widths and heights, as the book: w = cat(s·√r0, s0·√r[1:])·h/w, h = cat(s/√r0, s0/√r[1:]).
    var halfW = [Float](repeating: 0, count: perPixel), halfH = [Float](repeating: 0, count: perPixel)
    let rootR0 = sqrtf(ratios[0])
    for k in 0..<perPixel {
        let (s, root) = k < sizeCount ? (sizes[k], rootR0) : (sizes[0], sqrtf(ratios[k - sizeCount + 1]))
        halfW[k] = s * root * Float(height) / Float(width) / 2
        halfH[k] = s / root / 2
    }
    let stepH = 1 / Float(height), stepW = 1 / Float(width)
    var o = out
    for y in 0..<height {
        let cy = (Float(y) + 0.5) * stepH
        for x in 0..<width {
            let cx = (Float(x) + 0.5) * stepW
            for k in 0..<perPixel {
                o[0] = cx + -halfW[k]
                o[1] = cy + -halfH[k]
                o[2] = cx + halfW[k]
                o[3] = cy + halfH[k]
                o += 4
            }
        }
    }
}

/// The book's `offset_inverse`: boxes predicted from anchors (corner) and offsets
/// (Δx, Δy, Δw, Δh, with the book's σx = σy = 0.1, σw = σh = 0.2): center
/// = Δxy·anchor_wh/10 + anchor_center, size = exp(Δwh/5)·anchor_wh; corner boxes out.
package func offsetInverse(anchors: UnsafePointer<Float>, offsets: UnsafePointer<Float>, count: Int,
                           into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let a = anchors + 4 * i, d = offsets + 4 * i, o = out + 4 * i
        let aw = a[2] - a[0], ah = a[3] - a[1]
        let acx = (a[0] + a[2]) / 2, acy = (a[1] + a[3]) / 2
        let cx = d[0] * aw / 10 + acx, cy = d[1] * ah / 10 + acy
        let w = expf(d[2] / 5) * aw, h = expf(d[3] / 5) * ah
        o[0] = cx - 0.5 * w
        o[1] = cy - 0.5 * h
        o[2] = cx + 0.5 * w
        o[3] = cy + 0.5 * h
    }
}

/// `order[0..<count]` = 0..<count sorted by descending `scores`, equal scores by
/// ascending index (a stable sort).
package func descendingScoreOrder(_ scores: UnsafePointer<Float>, count: Int, into order: UnsafeMutablePointer<Int>) {
    for i in 0..<count { order[i] = i }
    // Merge sort (stable, n log n) with a scratch buffer.
    guard count > 1 else { return }
    let scratch = UnsafeMutablePointer<Int>.allocate(capacity: count)
    defer { scratch.deallocate() }
    var width = 1
    var from = order, to = scratch
    while width < count {
        var start = 0
        while start < count {
            let mid = min(start + width, count), end = min(start + 2 * width, count)
            var i = start, j = mid, k = start
            while i < mid && j < end {
                // Take from the right only when strictly greater: ties keep the left (lower index).
                if scores[from[j]] > scores[from[i]] { to[k] = from[j]; j += 1 } else { to[k] = from[i]; i += 1 }
                k += 1
            }
            while i < mid { to[k] = from[i]; i += 1; k += 1 }
            while j < end { to[k] = from[j]; j += 1; k += 1 }
            start = end
        }
        swap(&from, &to)
        width *= 2
    }
    if from != order { order.update(from: from, count: count) }
}

/// The book's `nms`: boxes in descending score order (ties: lower index first), each kept
/// unless its IoU with a box already kept exceeds `iouThreshold` (`KeptBoxes`). Writes the
/// kept indices to `keep` (room for `count`) in that order and returns how many.
package func nonMaximumSuppression(boxes: UnsafePointer<Float>, scores: UnsafePointer<Float>, count: Int,
                                   iouThreshold: Float, keep: UnsafeMutablePointer<Int>) -> Int {
    guard count > 0 else { return 0 }
    let order = UnsafeMutablePointer<Int>.allocate(capacity: count)
    var kept = KeptBoxes(capacity: count)
    defer { order.deallocate(); kept.deallocate() }
    descendingScoreOrder(scores, count: count, into: order)
    for r in 0..<count {
        let candidate = order[r]
        if kept.suppresses(boxes + 4 * candidate, threshold: iouThreshold) { continue }
        keep[kept.count] = candidate
        kept.append(boxes + 4 * candidate)
    }
    return kept.count
}

/// The book's `multibox_detection` for one image. `classProbs` is `[classCount,
/// anchorCount]` (row 0 background), `offsets` `[anchorCount, 4]`, `anchors` `[anchorCount,
/// 4]`; `out` gets `anchorCount` rows of 6: (class, confidence, x1, y1, x2, y2). Each
/// anchor's class is the most probable non-background one (0-based among them; the first
/// on ties) with that probability as confidence; boxes are `offsetInverse`'s; rows are the
/// boxes `nonMaximumSuppression` keeps (by confidence), then the others in anchor order with
/// class −1; a row whose confidence is below `posThreshold` gets class −1 and confidence
/// 1 − confidence. Needs `classCount ≥ 2`.
package func multiboxDetection(classProbs: UnsafePointer<Float>, offsets: UnsafePointer<Float>, anchors: UnsafePointer<Float>,
                               classCount: Int, anchorCount: Int, nmsThreshold: Float, posThreshold: Float,
                               into out: UnsafeMutablePointer<Float>) {
    guard anchorCount > 0 else { return }
    let boxes = UnsafeMutablePointer<Float>.allocate(capacity: anchorCount * 4)
    let confidence = UnsafeMutablePointer<Float>.allocate(capacity: anchorCount)
    let classes = UnsafeMutablePointer<Int>.allocate(capacity: anchorCount)
    let keep = UnsafeMutablePointer<Int>.allocate(capacity: anchorCount)
    let isKept = UnsafeMutablePointer<Bool>.allocate(capacity: anchorCount)
    defer {
        boxes.deallocate(); confidence.deallocate(); classes.deallocate(); keep.deallocate(); isKept.deallocate()
    }
    for a in 0..<anchorCount {
        var best = 1
        for c in 2..<max(classCount, 2) where classProbs[c * anchorCount + a] > classProbs[best * anchorCount + a] { best = c }
        classes[a] = best - 1
        confidence[a] = classProbs[best * anchorCount + a]
        isKept[a] = false
    }
    offsetInverse(anchors: anchors, offsets: offsets, count: anchorCount, into: boxes)
    let kept = nonMaximumSuppression(boxes: boxes, scores: confidence, count: anchorCount, iouThreshold: nmsThreshold, keep: keep)
    for k in 0..<kept { isKept[keep[k]] = true }
    var row = 0
    func write(_ a: Int, keptBox: Bool) {
        var cls = keptBox ? Float(classes[a]) : -1
        var conf = confidence[a]
        if conf < posThreshold { cls = -1; conf = 1 - conf }
        let o = out + 6 * row
        o[0] = cls
        o[1] = conf
        for j in 0..<4 { o[2 + j] = boxes[4 * a + j] }
        row += 1
    }
    for k in 0..<kept { write(keep[k], keptBox: true) }
    for a in 0..<anchorCount where !isKept[a] { write(a, keptBox: false) }
}
