import _D2LSystem

/// `NonMaxSuppression` (10, 11): per batch and class, the boxes in descending score order
/// (equal scores: lower index first), each selected unless its IoU with a box already
/// selected for that class exceeds `iou_threshold`, at most `max_output_boxes_per_class`
/// of them, only those scoring above `score_threshold` when it is given. The output
/// `selected_indices` is int64 `[num_selected, 3]` rows (batch, class, box), by batch, then
/// class, then selection order, as onnx's reference implementation orders them.
///
/// Boxes are `[num_batches, spatial_dimension, 4]`: with `center_point_box` 0 the corners
/// `[y1, x1, y2, x2]` of either diagonal, with 1 `[x_center, y_center, width, height]`;
/// both are turned into corner boxes (x1, y1, x2, y2) for `boxIoU`.
///
/// The output's shape depends on the input values, and a plan fixes every shape, so the
/// selection is made while planning: every input is a plan-time input and must be known
/// then (constants, or graph inputs whose values the plan snapshots; a session re-plans
/// when they change). `run` copies the planned selection.
struct NonMaxSuppression: OperatorKernel {
    let centerPointBox: Bool
    /// The selected (batch, class, box) rows, after `plan`.
    private(set) var selected: [Int64] = []

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["center_point_box"])
        let mode = try a.int("center_point_box", default: 0)
        guard mode == 0 || mode == 1 else {
            throw .invalidModel("\(a.label): center_point_box must be 0 or 1, not \(mode)")
        }
        centerPointBox = mode == 1
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let boxes = try required(inputs, 0, label), scores = try required(inputs, 1, label)
        try requireFloat(boxes, label, "boxes")
        try requireFloat(scores, label, "scores")
        let b = boxes.type.shape, s = scores.type.shape
        guard b.count == 3, b[2] == 4 else {
            throw .shape("\(label): 'boxes' must be [num_batches, spatial_dimension, 4], not \(boxes.type.text)")
        }
        guard s.count == 3 else {
            throw .shape("\(label): 'scores' must be [num_batches, num_classes, spatial_dimension], not \(scores.type.text)")
        }
        guard s[0] == b[0], s[2] == b[1] else {
            throw .shape("\(label): 'scores' \(shapeText(s)) does not match 'boxes' \(shapeText(b)) (num_batches and spatial_dimension must agree)")
        }
        let maxOutput = try Self.scalar(inputs, 2, .int64, "max_output_boxes_per_class", label)
        let iou = try Self.scalar(inputs, 3, .float32, "iou_threshold", label)
        let scoreThreshold = try Self.scalar(inputs, 4, .float32, "score_threshold", label)
        guard let boxData = boxes.constant, let scoreData = scores.constant else {
            throw .unsupported("\(label): 'boxes' and 'scores' must be known when planning (the output's shape depends on their values)")
        }
        // Defaults: no output, IoU threshold 0, no score threshold. A negative maximum
        // selects nothing (onnx's reference and onnxruntime clamp it at 0).
        var perClass = 0
        if let maxOutput { perClass = max(0, Int(clamping: maxOutput.pointer.assumingMemoryBound(to: Int64.self)[0])) }
        var iouThreshold: Float = 0
        if let iou {
            iouThreshold = iou.pointer.assumingMemoryBound(to: Float.self)[0]
            guard iouThreshold >= 0, iouThreshold <= 1 else {
                throw .invalidModel("\(label): iou_threshold \(iouThreshold) must be in [0, 1]")
            }
        }
        let minScore: Float? = scoreThreshold.map { $0.pointer.assumingMemoryBound(to: Float.self)[0] }
        selected = select(boxes: boxData.pointer.assumingMemoryBound(to: Float.self),
                          scores: scoreData.pointer.assumingMemoryBound(to: Float.self),
                          batches: b[0], classes: s[1], spatial: b[1], perClass: perClass,
                          iouThreshold: iouThreshold, minScore: minScore)
        return [TensorType(.int64, [selected.count / 3, 3])]
    }

    /// Optional input `i`: nil when the node omits it (or gives it no element, as the
    /// reference treats it); otherwise one element of `dtype`, known while planning.
    private static func scalar(_ inputs: [PlanInput?], _ i: Int, _ dtype: DType, _ name: String,
                               _ label: String) throws(D2LError) -> ConstantTensor? {
        guard i < inputs.count, let input = inputs[i] else { return nil }
        guard input.type.dtype == dtype else {
            throw .invalidModel("\(label): input \(quoted(name)) must be \(dtype.name), not \(input.type.dtype.name)")
        }
        guard input.type.rank <= 1, input.type.count <= 1 else {
            throw .shape("\(label): input \(quoted(name)) must be a scalar or hold one value, not \(input.type.text)")
        }
        if input.type.count == 0 { return nil }
        guard let c = input.constant else {
            throw .unsupported("\(label): input \(quoted(name)) must be known when planning (the output's shape depends on it)")
        }
        return c
    }

    /// The (batch, class, box) rows, three values each. Sizes come from validated shapes:
    /// `batches · classes · spatial` is the score tensor's element count.
    private func select(boxes: UnsafePointer<Float>, scores: UnsafePointer<Float>, batches: Int, classes: Int,
                        spatial: Int, perClass: Int, iouThreshold: Float, minScore: Float?) -> [Int64] {
        var rows: [Int64] = []
        guard spatial > 0, perClass > 0 else { return rows }
        let limit = min(perClass, spatial)
        let corners = UnsafeMutablePointer<Float>.allocate(capacity: 4 * spatial)
        let order = UnsafeMutablePointer<Int>.allocate(capacity: spatial)
        var keptBoxes = KeptBoxes(capacity: limit)
        defer { corners.deallocate(); order.deallocate(); keptBoxes.deallocate() }
        for n in 0..<batches {
            let batchBoxes = boxes + 4 * spatial * n
            if centerPointBox {
                boxCenterToCorner(batchBoxes, count: spatial, into: corners)
            } else {
                // [y1, x1, y2, x2], either diagonal → (x_min, y_min, x_max, y_max).
                for i in 0..<spatial {
                    let p = batchBoxes + 4 * i, o = corners + 4 * i
                    o[0] = min(p[1], p[3]); o[1] = min(p[0], p[2])
                    o[2] = max(p[1], p[3]); o[3] = max(p[0], p[2])
                }
            }
            for c in 0..<classes {
                let classScores = scores + spatial * (n * classes + c)
                descendingScoreOrder(classScores, count: spatial, into: order)
                keptBoxes.removeAll()
                for r in 0..<spatial {
                    if keptBoxes.count == limit { break }
                    let candidate = order[r]
                    if let minScore, !(classScores[candidate] > minScore) { continue }
                    if keptBoxes.suppresses(corners + 4 * candidate, threshold: iouThreshold) { continue }
                    keptBoxes.append(corners + 4 * candidate)
                    rows.append(Int64(n)); rows.append(Int64(c)); rows.append(Int64(candidate))
                }
            }
        }
        return rows
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0], !selected.isEmpty else { return }
        let count = min(selected.count, y.type.count)
        selected.withUnsafeBytes { raw in
            if let base = raw.baseAddress { memcpy(y.pointer, base, count * 8) }
        }
    }
}

extension NonMaxSuppression {
    /// Every input is read while planning: together they fix the number of selected boxes.
    static let schema = OperatorSchema("NonMaxSuppression", versions: [10, 11], inputs: (2, 5),
                                       planTimeInputs: [0, 1, 2, 3, 4]) { a, _ throws(D2LError) in
        .kernel(AnyOperatorKernel(try NonMaxSuppression(a)))
    }
}
