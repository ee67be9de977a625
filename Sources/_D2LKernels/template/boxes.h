/* Non-maximum suppression's inner loop (D2LRuntime's Detection/KeptBoxes.swift): which of the
 * boxes kept so far, held as columns, overlaps a candidate by more than the IoU threshold.
 *
 * Lane by lane the arithmetic is the runtime's boxIoU(kept, candidate) (BoxGeometry.swift),
 * operation for operation, with Swift's min and max (min(a, b) = b < a ? b : a,
 * max(a, b) = b >= a ? b : a, so NaN behaves as there):
 *   w = max(min(x2k, x2) − max(x1k, x1), 0), h likewise, inter = w · h,
 *   union = area_k + area − inter, iou = union > 0 ? inter / union : 0,
 * so every variant returns what the reference loop over boxIoU returns. */

/** Swift's min(a, b) lane-wise: b where b < a, else a. */
static inline __attribute__((always_inline)) vf v_swift_min(vf a, vf b) {
    return v_select((vi)(b < a), b, a);
}

/** Swift's max(a, b) lane-wise: b where b >= a, else a. */
static inline __attribute__((always_inline)) vf v_swift_max(vf a, vf b) {
    return v_select((vi)(b >= a), b, a);
}

static inline __attribute__((always_inline)) float swift_min(float a, float b) { return b < a ? b : a; }
static inline __attribute__((always_inline)) float swift_max(float a, float b) { return b >= a ? b : a; }

static size_t first_overlap_above(const float *x1, const float *y1, const float *x2, const float *y2,
                                  const float *area, size_t n, const float *box, float box_area, float threshold) {
    const vf bx1 = v_splat(box[0]), by1 = v_splat(box[1]), bx2 = v_splat(box[2]), by2 = v_splat(box[3]);
    const vf barea = v_splat(box_area), thr = v_splat(threshold), zero = v_zero();
    size_t j = 0;
    for (; j + VL <= n; j += VL) {
        vf w = v_swift_min(v_load(x2 + j), bx2) - v_swift_max(v_load(x1 + j), bx1);
        vf h = v_swift_min(v_load(y2 + j), by2) - v_swift_max(v_load(y1 + j), by1);
        w = v_swift_max(w, zero);
        h = v_swift_max(h, zero);
        vf inter = w * h;
        vf total = v_load(area + j) + barea;
        vf uni = total - inter;
        vi positive = (vi)(uni > zero);
        /* Lanes whose union is not positive divide by it harmlessly and are masked to 0. */
        vf iou = v_select(positive, inter / v_select(positive, uni, v_splat(1.0f)), zero);
        vi above = (vi)(iou > thr);
        int any = 0;
        for (size_t l = 0; l < VL; l++) any |= above[l];
        if (any) {
            for (size_t l = 0; l < VL; l++) if (above[l]) return j + l;
        }
    }
    for (; j < n; j++) {
        float w = swift_max(swift_min(x2[j], box[2]) - swift_max(x1[j], box[0]), 0.0f);
        float h = swift_max(swift_min(y2[j], box[3]) - swift_max(y1[j], box[1]), 0.0f);
        float inter = w * h;
        float total = area[j] + box_area;
        float uni = total - inter;
        float iou = uni > 0.0f ? inter / uni : 0.0f;
        if (iou > threshold) return j;
    }
    return n;
}
