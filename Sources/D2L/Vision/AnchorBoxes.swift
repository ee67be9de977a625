import D2LRuntime
import Foundation

// The book's anchor boxes (13.4): generating them, labelling them for training, and turning
// predicted offsets back into boxes. Shapes follow the book: anchors `[1, anchors, 4]` (or
// `[anchors, 4]`), labels `[batch, objects, 5]` rows (class, x1, y1, x2, y2).

/// Calls `body` with the base address of `values` (nil only when empty).
@inline(__always)
private func withFloats<R>(_ values: [Float], _ body: (UnsafePointer<Float>) -> R) -> R? {
    values.withUnsafeBufferPointer { $0.baseAddress.map(body) }
}

/// The anchors of `[count, 4]` or `[1, count, 4]`, checked.
private func anchorRows(_ anchors: Tensor, _ fn: String) throws -> (values: [Float], count: Int) {
    let flat = anchors.rank == 3 && anchors.shape[0] == 1 ? anchors.reshaped([anchors.shape[1], 4]) : anchors
    guard flat.rank == 2, flat.shape.last == 4 else {
        throw ToolkitError(.shape, "\(fn): anchors must be [count, 4] or [1, count, 4], got shape \(anchors.shape)")
    }
    return try checkedBoxes(flat, "anchors", fn)
}

/// The book's `multibox_prior(data, sizes, ratios)`: for each pixel of `data`'s last two
/// dimensions (height, width), `sizes.count + ratios.count − 1` anchors centred on the
/// pixel, (s_i, r_0) for every size then (s_0, r_j) for the other ratios, with width
/// s·√r·height/width and height s/√r, as fractions of the image; `[1, h·w·k, 4]`.
/// - Throws: `ToolkitError(.invalidArgument)` for no sizes or ratios, a size or ratio that
///   is not a finite number > 0, or a `data` of rank below 2.
public func multiboxPrior(_ data: Tensor, sizes: [Float], ratios: [Float]) throws -> Tensor {
    guard data.rank >= 2 else {
        throw ToolkitError(.shape, "multiboxPrior: data must have a height and a width, got shape \(data.shape)")
    }
    return try multiboxPrior(height: data.shape[data.rank - 2], width: data.shape[data.rank - 1], sizes: sizes, ratios: ratios)
}

/// ``multiboxPrior(_:sizes:ratios:)`` for a `height × width` feature map.
public func multiboxPrior(height: Int, width: Int, sizes: [Float], ratios: [Float]) throws -> Tensor {
    let fn = "multiboxPrior"
    var total = 0
    try runtimeChecks { () throws(D2LError) in
        try sizes.withUnsafeBufferPointer { s throws(D2LError) in try DetectionChecks.positive(s.baseAddress, count: s.count, "sizes", fn) }
        try ratios.withUnsafeBufferPointer { r throws(D2LError) in try DetectionChecks.positive(r.baseAddress, count: r.count, "ratios", fn) }
        total = try DetectionChecks.priorValues(height: height, width: width, sizeCount: sizes.count, ratioCount: ratios.count, fn)
    }
    guard total <= ConstructionBudget.memoryElements(share: 4) else {
        throw ToolkitError(.invalidArgument, "multiboxPrior: \(total) values for \(height) × \(width) pixels is more than memory allows")
    }
    var out = [Float](repeating: 0, count: total)
    sizes.withUnsafeBufferPointer { s in
        ratios.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { o in
                if let sb = s.baseAddress, let rb = r.baseAddress, let ob = o.baseAddress {
                    D2LRuntime.multiboxPrior(height: height, width: width, sizes: sb, sizeCount: s.count, ratios: rb,
                                             ratioCount: r.count, into: ob)
                }
            }
        }
    }
    return Tensor(out, shape: [1, total / 4, 4])
}

/// The book's `assign_anchor_to_bbox`: for each anchor the index of the ground-truth box
/// assigned to it, or −1. Anchors whose best IoU reaches `iouThreshold` take that box;
/// then, once per box, the largest IoU left in the matrix assigns its anchor and box to
/// each other and removes both (ties: the first in row-major order).
/// - Throws: `ToolkitError(.shape)` for boxes that are not `[count, 4]`.
public func assignAnchorToBox(groundTruth: Tensor, anchors: Tensor, iouThreshold: Float = 0.5) throws -> [Int] {
    let (_, anchorCount) = try anchorRows(anchors, "assignAnchorToBox")
    let flatAnchors = anchors.rank == 3 ? anchors.reshaped([anchorCount, 4]) : anchors
    let boxCount = try checkedBoxes(groundTruth, "groundTruth", "assignAnchorToBox").count
    var jaccard = try boxIoU(flatAnchors, groundTruth).scalars
    var map = [Int](repeating: -1, count: anchorCount)
    guard boxCount > 0 else { return map }
    for i in 0..<anchorCount {
        var best = 0
        for j in 1..<boxCount where jaccard[i * boxCount + j] > jaccard[i * boxCount + best] { best = j }
        if jaccard[i * boxCount + best] >= iouThreshold { map[i] = best }
    }
    for _ in 0..<boxCount {
        guard anchorCount > 0 else { break }
        var maxIndex = 0
        for k in 1..<jaccard.count where jaccard[k] > jaccard[maxIndex] { maxIndex = k }
        let box = maxIndex % boxCount, anchor = maxIndex / boxCount
        map[anchor] = box
        for i in 0..<anchorCount { jaccard[i * boxCount + box] = -1 }
        for j in 0..<boxCount { jaccard[anchor * boxCount + j] = -1 }
    }
    return map
}

/// The book's `offset_boxes`: the offsets (Δx, Δy, Δw, Δh) that move `anchors` onto
/// `assigned` (both `[count, 4]` corner boxes): Δxy = 10·(center − anchor center)/anchor
/// size, Δwh = 5·log(eps + size/anchor size) (μ = 0, σx = σy = 0.1, σw = σh = 0.2).
public func offsetBoxes(anchors: Tensor, assigned: Tensor, eps: Float = 1e-6) throws -> Tensor {
    guard anchors.shape == assigned.shape else {
        throw ToolkitError(.shape, "offsetBoxes: anchors \(anchors.shape) and assigned \(assigned.shape) differ")
    }
    let a = try boxCornerToCenter(anchors).scalars, b = try boxCornerToCenter(assigned).scalars
    var out = [Float](repeating: 0, count: a.count)
    for i in stride(from: 0, to: a.count, by: 4) {
        out[i] = 10 * (b[i] - a[i]) / a[i + 2]
        out[i + 1] = 10 * (b[i + 1] - a[i + 1]) / a[i + 3]
        out[i + 2] = 5 * log(eps + b[i + 2] / a[i + 2])
        out[i + 3] = 5 * log(eps + b[i + 3] / a[i + 3])
    }
    return Tensor(out, shape: anchors.shape)
}

/// What ``multiboxTarget(anchors:labels:)`` gives per image: the book's `bbox_offset`,
/// `bbox_mask` and `class_labels`.
public struct MultiboxTargets {
    /// `[batch, anchors · 4]`: the offsets of each anchor to its assigned box, 0 for
    /// background anchors.
    public var offsets: Tensor
    /// `[batch, anchors · 4]`: 1 for the four values of an anchor with a box, else 0.
    public var mask: Tensor
    /// `[batch][anchors]`: 0 for background, else the box's class + 1.
    public var classLabels: [[Int]]
}

/// The book's `multibox_target(anchors, labels)`: anchors `[1, A, 4]` (or `[A, 4]`),
/// labels `[batch, objects, 5]` rows (class, x1, y1, x2, y2); each anchor is assigned a
/// box by ``assignAnchorToBox(groundTruth:anchors:iouThreshold:)`` (threshold 0.5).
/// - Throws: `ToolkitError(.shape)` for other shapes; `.invalidArgument` for values that
///   are not finite or a class below 0.
public func multiboxTarget(anchors: Tensor, labels: Tensor) throws -> MultiboxTargets {
    let (anchorValues, count) = try anchorRows(anchors, "multiboxTarget")
    let flatAnchors = Tensor(anchorValues, shape: [count, 4])
    guard labels.rank == 3, labels.shape[2] == 5 else {
        throw ToolkitError(.shape, "multiboxTarget: labels must be [batch, objects, 5] (class, x1, y1, x2, y2), got \(labels.shape)")
    }
    let (batch, objects) = (labels.shape[0], labels.shape[1])
    let values = labels.scalars
    if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw ToolkitError(.invalidArgument, "multiboxTarget: labels value \(i) is \(values[i]), not a finite number")
    }
    var offsets: [Float] = [], mask: [Float] = [], classes: [[Int]] = []
    for b in 0..<batch {
        let rows = Array(values[(b * objects * 5)..<((b + 1) * objects * 5)])
        var boxes = [Float](), labelOf = [Int]()
        for o in 0..<objects {
            guard rows[o * 5] >= 0, rows[o * 5] < Float(Int32.max) else {
                throw ToolkitError(.invalidArgument, "multiboxTarget: image \(b), object \(o) has class \(rows[o * 5])")
            }
            labelOf.append(Int(rows[o * 5]))
            boxes += rows[(o * 5 + 1)..<(o * 5 + 5)]
        }
        let map = try assignAnchorToBox(groundTruth: Tensor(boxes, shape: [objects, 4]), anchors: flatAnchors)
        var assigned = [Float](repeating: 0, count: count * 4), imageMask = [Float](repeating: 0, count: count * 4)
        var imageClasses = [Int](repeating: 0, count: count)
        for (a, box) in map.enumerated() where box >= 0 {
            imageClasses[a] = labelOf[box] + 1
            for k in 0..<4 {
                assigned[a * 4 + k] = boxes[box * 4 + k]
                imageMask[a * 4 + k] = 1
            }
        }
        let raw = try offsetBoxes(anchors: flatAnchors, assigned: Tensor(assigned, shape: [count, 4])).scalars
        offsets += zip(raw, imageMask).map { $0 * $1 }
        mask += imageMask
        classes.append(imageClasses)
    }
    return MultiboxTargets(offsets: Tensor(offsets, shape: [batch, count * 4]), mask: Tensor(mask, shape: [batch, count * 4]),
                           classLabels: classes)
}

/// The book's `offset_inverse`: the boxes that `offsets` (`[count, 4]`, Δx, Δy, Δw, Δh)
/// make of `anchors` (`[count, 4]` corner boxes).
public func offsetInverse(anchors: Tensor, offsets: Tensor) throws -> Tensor {
    let (a, count) = try checkedBoxes(anchors, "anchors", "offsetInverse")
    let (d, n) = try checkedBoxes(offsets, "offsets", "offsetInverse")
    guard n == count else { throw ToolkitError(.shape, "offsetInverse: \(count) anchors but \(n) offsets") }
    var out = [Float](repeating: 0, count: count * 4)
    out.withUnsafeMutableBufferPointer { o in
        _ = withFloats(a) { pa in
            withFloats(d) { pd in
                if let ob = o.baseAddress { D2LRuntime.offsetInverse(anchors: pa, offsets: pd, count: count, into: ob) }
            }
        }
    }
    return Tensor(out, shape: [count, 4])
}
