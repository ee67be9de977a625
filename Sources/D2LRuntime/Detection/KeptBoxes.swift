import _D2LKernels

/// The boxes greedy non-maximum suppression has kept so far, as five columns (x1, y1, x2,
/// y2, area; corner format), so that testing a candidate against all of them is one call of
/// the active kernel variant's `first_overlap_above` (AVX-512, AVX2, SSE2, NEON or scalar),
/// whose result is `boxIoU(kept, candidate) > threshold` for some kept box, exactly.
/// Shared by `nonMaximumSuppression` (the C API's `d2l_nms`, `d2l_multibox_detection`, the
/// toolkit's `nms`) and the `NonMaxSuppression` operator. Owns its storage: call
/// `deallocate()` once done. Not thread-safe (one suppression pass at a time).
struct KeptBoxes {
    let capacity: Int
    private(set) var count = 0
    private let columns: UnsafeMutablePointer<Float>

    /// Room for `capacity` boxes (at least 1).
    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        columns = UnsafeMutablePointer<Float>.allocate(capacity: 5 * self.capacity)
    }

    func deallocate() { columns.deallocate() }

    /// Forgets the kept boxes (for the next class or image).
    mutating func removeAll() { count = 0 }

    /// Whether some kept box's IoU with the corner box at `box` exceeds `threshold`.
    func suppresses(_ box: UnsafePointer<Float>, threshold: Float) -> Bool {
        guard count > 0 else { return false }
        let c = columns, n = capacity
        return Kernels.active.table.pointee.first_overlap_above(
            c, c + n, c + 2 * n, c + 3 * n, c + 4 * n, count, box, boxArea(box), threshold) < count
    }

    /// Keeps the corner box at `box` (count < capacity).
    mutating func append(_ box: UnsafePointer<Float>) {
        let c = columns, n = capacity
        c[count] = box[0]; c[n + count] = box[1]; c[2 * n + count] = box[2]; c[3 * n + count] = box[3]
        c[4 * n + count] = boxArea(box)
        count += 1
    }
}
