/* The transforms of Winograd's F(2×2, 3×3) (Kernels/Winograd.swift has the algorithm and
 * the layouts; contracts in include/d2l_kernels.h):
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]     V = Bᵀ d B, per 4×4 input patch d
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1]                         Y = Aᵀ m A, per 4×4 product m
 * The input transform runs VL tiles of a tile row at a time, one per lane, from the
 * channel's zero-padded plane split into even and odd columns (so column j of VL
 * neighbouring patches is one contiguous load); the output transform VL output channels
 * of one tile at a time (the products are stored channel-minor). Additions and
 * subtractions only, so every variant rounds alike. */

static void winograd_input(const float *plane, size_t ih, size_t iw, ptrdiff_t pad_top, ptrdiff_t pad_left,
                           size_t tiles_h, size_t tiles_w, float *split, size_t half, float *v, ptrdiff_t stride) {
    size_t rows = 2 * tiles_h + 2;
    /* split[r][0][q] = padded[r][2q], split[r][1][q] = padded[r][2q + 1], q < half (a
     * multiple of 16): each input row goes zero-padded into the spare row after the
     * split rows, which deinterleaves with whole vectors. */
    float *line = split + rows * 2 * half;
    size_t width = 2 * half;
    for (size_t r = 0; r < rows; r++) {
        float *even = split + r * 2 * half, *odd = even + half;
        ptrdiff_t yy = (ptrdiff_t)r - pad_top;
        if (yy < 0 || yy >= (ptrdiff_t)ih) {
            for (size_t q = 0; q < half; q += VL) {
                v_store(even + q, v_zero());
                v_store(odd + q, v_zero());
            }
            continue;
        }
        for (size_t x = 0; x < width; x += VL) v_store(line + x, v_zero());
        size_t lead = (size_t)pad_left < width ? (size_t)pad_left : width;
        size_t count = iw < width - lead ? iw : width - lead;
        __builtin_memcpy(line + lead, plane + (size_t)yy * iw, count * sizeof(float));
        for (size_t q = 0; q < half; q += VL) {
            vf lo = v_load(line + 2 * q), hi = v_load(line + 2 * q + VL);
            v_store(even + q, v_even(lo, hi));
            v_store(odd + q, v_odd(lo, hi));
        }
    }
    for (size_t ty = 0; ty < tiles_h; ty++) {
        for (size_t tx0 = 0; tx0 < tiles_w; tx0 += VL) {
            /* Row i of the patches: columns 0, 1, 2, 3 = even[q], odd[q], even[q+1], odd[q+1]. */
            vf d[4][4];
            K_UNROLL for (size_t i = 0; i < 4; i++) {
                const float *even = split + ((2 * ty + i) * 2 * half + tx0), *odd = even + half;
                d[i][0] = v_load(even);
                d[i][1] = v_load(odd);
                d[i][2] = v_load(even + 1);
                d[i][3] = v_load(odd + 1);
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

static void winograd_output(const float *m, ptrdiff_t stride, size_t oc, size_t tiles_h, size_t tiles_w, size_t o0,
                            size_t o1, const float *bias, float *y, size_t oh, size_t ow) {
    size_t plane = oh * ow;
    for (size_t o = o0; o + VL <= o1; o += VL) {
        vf b = bias ? v_load(bias + o) : v_zero();
        float *planes = y + o * plane;
        for (size_t ty = 0; ty < tiles_h; ty++) {
            size_t oy = 2 * ty;
            int below = oy + 1 < oh;
            for (size_t tx = 0; tx < tiles_w; tx++) {
                const float *src = m + (ty * tiles_w + tx) * oc + o;
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
