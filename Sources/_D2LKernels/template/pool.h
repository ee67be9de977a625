/* Pooling rows (contracts in include/d2l_kernels.h; Kernels/Pooling.swift has the
 * loops around them). The maximum propagates NaN: max(a, b) is NaN when either is. */

/** max(a, b) lane-wise, NaN when either lane is NaN. */
static inline __attribute__((always_inline)) vf v_max_nan(vf a, vf b) {
    return v_select((a > b) | (a != a), a, b);
}

static inline __attribute__((always_inline)) float max_nan(float a, float b) {
    if (a != a || b != b) return a != a ? a : b;
    return a > b ? a : b;
}

static void pool2x2_row(const float *r0, const float *r1, size_t ow, float *out, int average) {
    size_t ox = 0;
    if (average) {
        for (; ox + VL <= ow; ox += VL) {
            vf a0 = v_load(r0 + 2 * ox), a1 = v_load(r0 + 2 * ox + VL);
            vf b0 = v_load(r1 + 2 * ox), b1 = v_load(r1 + 2 * ox + VL);
            vf s = (v_even(a0, a1) + v_odd(a0, a1)) + (v_even(b0, b1) + v_odd(b0, b1));
            v_store(out + ox, s * 0.25f);
        }
        for (; ox < ow; ox++) {
            size_t i = 2 * ox;
            out[ox] = ((r0[i] + r0[i + 1]) + (r1[i] + r1[i + 1])) * 0.25f;
        }
        return;
    }
    for (; ox + VL <= ow; ox += VL) {
        vf a0 = v_load(r0 + 2 * ox), a1 = v_load(r0 + 2 * ox + VL);
        vf b0 = v_load(r1 + 2 * ox), b1 = v_load(r1 + 2 * ox + VL);
        vf m = v_max_nan(v_max_nan(v_even(a0, a1), v_odd(a0, a1)), v_max_nan(v_even(b0, b1), v_odd(b0, b1)));
        v_store(out + ox, m);
    }
    for (; ox < ow; ox++) {
        size_t i = 2 * ox;
        out[ox] = max_nan(max_nan(r0[i], r0[i + 1]), max_nan(r1[i], r1[i + 1]));
    }
}

static void max_rows(const float *x, ptrdiff_t row_stride, size_t rows, size_t n, float *out) {
    size_t c = 0;
    for (; c + VL <= n; c += VL) {
        vf m = v_load(x + c);
        for (size_t r = 1; r < rows; r++) m = v_max_nan(m, v_load(x + (ptrdiff_t)r * row_stride + c));
        v_store(out + c, m);
    }
    for (; c < n; c++) {
        float m = x[c];
        for (size_t r = 1; r < rows; r++) m = max_nan(m, x[(ptrdiff_t)r * row_stride + c]);
        out[c] = m;
    }
}

static void max_window(const float *padded, size_t kw, size_t ow, float *out) {
    size_t ox = 0;
    for (; ox + VL <= ow; ox += VL) {
        vf m = v_load(padded + ox);
        for (size_t k = 1; k < kw; k++) m = v_max_nan(m, v_load(padded + ox + k));
        v_store(out + ox, m);
    }
    for (; ox < ow; ox++) {
        float m = padded[ox];
        for (size_t k = 1; k < kw; k++) m = max_nan(m, padded[ox + k]);
        out[ox] = m;
    }
}

static void max_window_strided(const float *padded, size_t kw, size_t stride, size_t ow, float *out) {
    size_t ox = 0;
    if (stride == 2) {
        /* Tap k of VL outputs: lanes of parity k % 2 of the 2·VL floats at 2·ox + 2·(k / 2). */
        for (; ox + VL <= ow; ox += VL) {
            vf m = v_splat(-__builtin_inff());
            for (size_t k = 0; k < kw; k++) {
                const float *p = padded + 2 * ox + (k & ~(size_t)1);
                vf lo = v_load(p), hi = v_load(p + VL);
                m = v_max_nan(m, (k & 1) ? v_odd(lo, hi) : v_even(lo, hi));
            }
            v_store(out + ox, m);
        }
    }
    for (; ox < ow; ox++) {
        float m = padded[ox * stride];
        for (size_t k = 1; k < kw; k++) m = max_nan(m, padded[ox * stride + k]);
        out[ox] = m;
    }
}

/** Most floats of the padded plane max_pool_planes keeps on the stack. */
#define K_POOL_PLANE_FLOATS 4096

static void max_pool_planes(const float *x, size_t planes, size_t ih, size_t iw, size_t kh, size_t kw, size_t sh,
                            size_t sw, size_t pad_top, size_t pad_left, size_t oh, size_t ow, float *y) {
    /* The padded plane P, sh·(oh − 1) + kh rows of W = sw·(ow − 1) + kw floats with −∞
     * outside the input (written once: each plane overwrites only the input's cells), then
     * the stride-1 column maxima over kh rows and row maxima over kw columns, each one pass
     * over the flattened plane with whole vectors (values past a row's end, and between
     * strided outputs, are computed and never read), then the outputs picked out. Small
     * planes: per-row work would cost more than the extra maxima. */
    size_t height = sh * (oh - 1) + kh, width = sw * (ow - 1) + kw;
    size_t total = height * width;
    float padded[K_POOL_PLANE_FLOATS + 2 * 16] __attribute__((aligned(64)));
    float columns[K_POOL_PLANE_FLOATS + 2 * 16] __attribute__((aligned(64)));
    float rows[K_POOL_PLANE_FLOATS + 2 * 16] __attribute__((aligned(64)));
    size_t flat = (sh * (oh - 1) + 1) * width;
    size_t in_rows = ih < height - pad_top ? ih : height - pad_top;
    size_t in_cols = iw < width - pad_left ? iw : width - pad_left;
    for (size_t i = 0; i < total + 2 * VL; i += VL) v_store(padded + i, v_splat(-__builtin_inff()));
    for (size_t i = flat; i < flat + 2 * VL; i++) columns[i] = -__builtin_inff();
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * ih * iw;
        float *yp = y + p * oh * ow;
        for (size_t r = 0; r < in_rows; r++) {
            float *dst = padded + (r + pad_top) * width + pad_left;
            const float *src = xp + r * iw;
            for (size_t c = 0; c < in_cols; c++) dst[c] = src[c];
        }
        for (size_t i = 0; i < flat; i += VL) {
            vf m = v_load(padded + i);
            for (size_t k = 1; k < kh; k++) m = v_max_nan(m, v_load(padded + i + k * width));
            v_store(columns + i, m);
        }
        for (size_t i = 0; i < flat; i += VL) {
            vf m = v_load(columns + i);
            for (size_t k = 1; k < kw; k++) m = v_max_nan(m, v_load(columns + i + k));
            v_store(rows + i, m);
        }
        for (size_t oy = 0; oy < oh; oy++) {
            const float *src = rows + oy * sh * width;
            float *out = yp + oy * ow;
            for (size_t ox = 0; ox < ow; ox++) out[ox] = src[ox * sw];
        }
    }
}
