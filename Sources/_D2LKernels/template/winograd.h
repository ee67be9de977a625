/* The transforms of Winograd's F(2×2, 3×3) (Kernels/Winograd.swift has the algorithm and
 * the layouts; contracts in include/d2l_kernels.h):
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]     V = Bᵀ d B, per 4×4 input patch d
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1]                         Y = Aᵀ m A, per 4×4 product m
 * The input transform runs VL tiles of a tile row at a time, one per lane, from the
 * channel's zero-padded plane (column j of VL neighbouring patches: the even or odd
 * lanes of two loads); the output transform VL output channels
 * of one tile at a time (the products are stored channel-minor). Additions and
 * subtractions only, so every variant rounds alike. */

static void winograd_input(const float *plane, size_t ih, size_t iw, ptrdiff_t pad_top, ptrdiff_t pad_left,
                           size_t ty0, size_t ty1, size_t tiles_w, float *split, size_t half, float *v,
                           ptrdiff_t stride) {
    size_t rows = 2 * (ty1 - ty0) + 2, width = 2 * half;
    /* The zero-padded rows of these tile rows first (rows × width, width a multiple of
     * 32), so that the loads below come long after the stores that wrote their data. */
    for (size_t r = 0; r < rows; r++) {
        float *line = split + r * width;
        for (size_t x = 0; x < width; x += VL) v_store(line + x, v_zero());
        ptrdiff_t yy = (ptrdiff_t)(r + 2 * ty0) - pad_top;
        if (yy < 0 || yy >= (ptrdiff_t)ih) continue;
        size_t lead = (size_t)pad_left < width ? (size_t)pad_left : width;
        size_t count = iw < width - lead ? iw : width - lead;
        __builtin_memcpy(line + lead, plane + (size_t)yy * iw, count * sizeof(float));
    }
    for (size_t ty = 0; ty < ty1 - ty0; ty++) {
        for (size_t tx0 = 0; tx0 < tiles_w; tx0 += VL) {
            /* Row i of VL neighbouring patches (columns 2tx … 2tx + 3): columns 0 and 1
             * are the even and odd lanes of the 2·VL floats at 2·tx0, columns 2 and 3
             * those at 2·tx0 + 2. */
            vf d[4][4];
            K_UNROLL for (size_t i = 0; i < 4; i++) {
                const float *row = split + (2 * ty + i) * width + 2 * tx0;
                vf lo = v_load(row), hi = v_load(row + VL);
                vf lo2 = v_load(row + 2), hi2 = v_load(row + 2 + VL);
                d[i][0] = v_even(lo, hi);
                d[i][1] = v_odd(lo, hi);
                d[i][2] = v_even(lo2, hi2);
                d[i][3] = v_odd(lo2, hi2);
            }
            /* t = Bᵀ d (rows), then V = t B (columns). */
            vf t[4][4];
            K_UNROLL for (size_t j = 0; j < 4; j++) {
                t[0][j] = d[0][j] - d[2][j];
                t[1][j] = d[1][j] + d[2][j];
                t[2][j] = d[2][j] - d[1][j];
                t[3][j] = d[1][j] - d[3][j];
            }
            /* Whole vectors: lanes past this tile row's last tile land on the next tile
             * row's (rewritten when it is done) or, after the last row, in the padding. */
            float *out = v + ty * tiles_w + tx0;
            K_UNROLL for (size_t i = 0; i < 4; i++) {
                float *base = out + (ptrdiff_t)(i * 4) * stride;
                v_store(base, t[i][0] - t[i][2]);
                v_store(base + stride, t[i][1] + t[i][2]);
                v_store(base + 2 * stride, t[i][2] - t[i][1]);
                v_store(base + 3 * stride, t[i][1] - t[i][3]);
            }
        }
    }
}

static void winograd_output(const float *m, ptrdiff_t stride, size_t oc, size_t ty0, size_t ty1, size_t tiles_w,
                            size_t o0, size_t o1, const float *bias, float *y, size_t oh, size_t ow) {
    size_t plane = oh * ow;
    for (size_t o = o0; o + VL <= o1; o += VL) {
        vf b = bias ? v_load(bias + o) : v_zero();
        float *planes = y + o * plane;
        for (size_t ty = ty0; ty < ty1; ty++) {
            size_t oy = 2 * ty;
            int below = oy + 1 < oh;
            for (size_t tx = 0; tx < tiles_w; tx++) {
                const float *src = m + ((ty - ty0) * tiles_w + tx) * oc + o;
                vf r[4][4];
                K_UNROLL for (size_t i = 0; i < 4; i++)
                    K_UNROLL for (size_t j = 0; j < 4; j++) r[i][j] = v_load(src + (ptrdiff_t)(i * 4 + j) * stride);
                /* s = Aᵀ m (rows), then Y = s A (columns). */
                vf s0[4], s1[4];
                K_UNROLL for (size_t j = 0; j < 4; j++) {
                    s0[j] = r[0][j] + r[1][j] + r[2][j];
                    s1[j] = r[1][j] - r[2][j] - r[3][j];
                }
                vf y00 = s0[0] + s0[1] + s0[2] + b, y01 = s0[1] - s0[2] - s0[3] + b;
                vf y10 = s1[0] + s1[1] + s1[2] + b, y11 = s1[1] - s1[2] - s1[3] + b;
                size_t ox = 2 * tx;
                int right = ox + 1 < ow;
                float *out = planes + oy * ow + ox;
                for (size_t l = 0; l < VL; l++) {
                    out[0] = y00[l];
                    if (right) out[1] = y01[l];
                    if (below) {
                        out[ow] = y10[l];
                        if (right) out[ow + 1] = y11[l];
                    }
                    out += plane;
                }
            }
        }
    }
}
