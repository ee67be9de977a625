import D2LRuntime

// The book's bounding-box functions (13.3, 13.4) on toolkit tensors. The arithmetic is the
// runtime's (D2LRuntime/Detection/BoxGeometry.swift), which the C API and Python share;
// these check shapes and values, then call it. Boxes are `[count, 4]` float32 tensors in
// corner format (x1, y1, x2, y2) unless a name says center (cx, cy, w, h). None of these
// record gradients: the book computes them on data and targets.

/// A runtime argument error as the toolkit's.
func toolkitError(_ error: D2LError) -> ToolkitError {
    ToolkitError(error.status == .invalidArgument ? .invalidArgument : .shape, error.message)
}

/// Runs runtime checks (`DetectionChecks`), turning their error into the toolkit's.
func runtimeChecks(_ body: () throws(D2LError) -> Void) throws {
    do throws(D2LError) { try body() } catch { throw toolkitError(error) }
}

/// `values` must be finite (`DetectionChecks.finite`: `fn: what[i] is nan, not a finite number`).
func checkFinite(_ values: [Float], _ what: String, _ fn: String) throws {
    try runtimeChecks { () throws(D2LError) in
        try values.withUnsafeBufferPointer { v throws(D2LError) in try DetectionChecks.finite(v.baseAddress, count: v.count, what, fn) }
    }
}

/// The rows of `boxes` after checking that it is `[count, 4]` with finite values.
func checkedBoxes(_ boxes: Tensor, _ what: String, _ fn: String) throws -> (values: [Float], count: Int) {
    guard boxes.rank == 2, boxes.shape[1] == 4 else {
        throw ToolkitError(.shape, "\(fn): \(what) must be [count, 4], got shape \(boxes.shape)")
    }
    let values = boxes.scalars
    if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw ToolkitError(.invalidArgument, "\(fn): \(what)[\(i / 4), \(i % 4)] is \(values[i]), not a finite number")
    }
    return (values, boxes.shape[0])
}

/// (x1, y1, x2, y2) → (cx, cy, w, h), the book's `box_corner_to_center`.
/// - Throws: `ToolkitError(.shape)` for a tensor that is not `[count, 4]`.
public func boxCornerToCenter(_ boxes: Tensor) throws -> Tensor {
    try convertBoxes(boxes, "boxCornerToCenter") { D2LRuntime.boxCornerToCenter($0, count: $1, into: $2) }
}

/// (cx, cy, w, h) → (x1, y1, x2, y2), the book's `box_center_to_corner`.
/// - Throws: `ToolkitError(.shape)` for a tensor that is not `[count, 4]`.
public func boxCenterToCorner(_ boxes: Tensor) throws -> Tensor {
    try convertBoxes(boxes, "boxCenterToCorner") { D2LRuntime.boxCenterToCorner($0, count: $1, into: $2) }
}

/// `boxes` (`[count, 4]`) through one of the runtime's row conversions.
private func convertBoxes(_ boxes: Tensor, _ fn: String,
                          _ convert: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void) throws -> Tensor {
    guard boxes.rank == 2, boxes.shape[1] == 4 else {
        throw ToolkitError(.shape, "\(fn): boxes must be [count, 4], got shape \(boxes.shape)")
    }
    let values = boxes.scalars
    var out = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { v in
        out.withUnsafeMutableBufferPointer { o in
            if let vb = v.baseAddress, let ob = o.baseAddress { convert(vb, boxes.shape[0], ob) }
        }
    }
    return Tensor(out, shape: boxes.shape)
}

/// The IoU of every pair, `[count1, count2]` (the book's `box_iou`); 0 for two zero-area
/// boxes, where the book divides 0 by 0.
/// - Throws: `ToolkitError(.shape)` for tensors that are not `[count, 4]`,
///   `.invalidArgument` for a value that is not finite.
public func boxIoU(_ boxes1: Tensor, _ boxes2: Tensor) throws -> Tensor {
    let (a, n1) = try checkedBoxes(boxes1, "boxes1", "boxIoU")
    let (b, n2) = try checkedBoxes(boxes2, "boxes2", "boxIoU")
    var out = [Float](repeating: 0, count: n1 * n2)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                if let x = pa.baseAddress, let y = pb.baseAddress, let z = po.baseAddress {
                    boxIoUMatrix(x, count1: n1, y, count2: n2, into: z)
                }
            }
        }
    }
    return Tensor(out, shape: [n1, n2])
}
