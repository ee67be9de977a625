/* GEMM micro-kernels: the register tile, the B-panel packing, the matrix-vector forms and
 * the small dot-product blocks (contracts in include/d2l_kernels.h).
 *
 * Variant defines:
 *   K_GEMM_ROWS, K_GEMM_COLS   the register tile (MR × NR), NR a multiple of K_VL
 *   K_GEMM_SUB_ROWS, K_GEMM_SUB_VECS
 *                              the part of the tile kept in registers at once: the tile
 *                              is swept in sub-tiles of SUB_ROWS rows × SUB_VECS vectors
 *                              (the whole tile where registers allow: AVX2, AVX-512, NEON)
 *   K_DOT_ROWS, K_DOT_COLS     the dot-product block */

#define K_TILE_VECS (K_GEMM_COLS / K_VL)

/** Writes one sub-tile row: alpha · acc + beta · C (+ bias) into columns lo ..< hi of the
 *  SUB_VECS·VL columns at `out` (hi − lo < SUB_VECS·VL: lane by lane). */
static inline __attribute__((always_inline)) void gemm_store_row(const float *acc, float *out, size_t lo, size_t hi,
                                                                 float alpha, float beta, float bias) {
    if (lo == 0 && hi == K_GEMM_SUB_VECS * VL) {
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) {
            vf r = v_load(acc + v * VL) * alpha;
            if (beta != 0) r = r + v_load(out + v * VL) * beta;
            v_store(out + v * VL, r + bias);
        }
        return;
    }
    K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) {
        for (size_t l = 0; l < VL; l++) {
            size_t j = v * VL + l;
            if (j < lo || j >= hi) continue;
            float r = alpha * acc[j];
            if (beta != 0) r += beta * out[j];
            out[j] = r + bias;
        }
    }
}

/** The product of R rows of one sub-tile: out[(r·SUB_VECS + v)·VL + l] = Σ_{p<kc}
 *  A(row r, p) · B(p, v·VL + l) for r < R, with row r of A at rows[r] (depth steps a_col
 *  apart) and B's vectors at b (rows b_row apart). Inlined into functions of their own
 *  (below), so that the accumulators get the registers; they go to memory once, after
 *  the loop (local, not the caller's buffer, which could alias A or B). */
static inline __attribute__((always_inline)) void gemm_rows_product(size_t kc, const float *const *rows,
                                                                    ptrdiff_t a_col, const float *b,
                                                                    ptrdiff_t b_row, float *out, const size_t R) {
    vf acc[K_GEMM_SUB_ROWS][K_GEMM_SUB_VECS];
    K_UNROLL for (size_t r = 0; r < R; r++)
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) acc[r][v] = v_zero();
    const float *row[K_GEMM_SUB_ROWS];
    K_UNROLL for (size_t r = 0; r < R; r++) row[r] = rows[r];
    for (size_t p = 0; p < kc; p++) {
        vf bv[K_GEMM_SUB_VECS];
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) bv[v] = v_load(b + v * VL);
        K_UNROLL for (size_t r = 0; r < R; r++) {
            vf x = v_splat(*row[r]);
            K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) acc[r][v] = v_madd(acc[r][v], x, bv[v]);
            row[r] += a_col;
        }
        b += b_row;
    }
    K_UNROLL for (size_t r = 0; r < R; r++)
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) v_store(out + (r * K_GEMM_SUB_VECS + v) * VL, acc[r][v]);
}

/** `gemm_rows_product` for rows of A that are consecutive floats (a_row == 1: packed or
 *  transposed A): one pointer and constant offsets. */
static inline __attribute__((always_inline)) void gemm_unit_product(size_t kc, const float *a, ptrdiff_t a_col,
                                                                    const float *b, ptrdiff_t b_row, float *out,
                                                                    const size_t R) {
    vf acc[K_GEMM_SUB_ROWS][K_GEMM_SUB_VECS];
    K_UNROLL for (size_t r = 0; r < R; r++)
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) acc[r][v] = v_zero();
    for (size_t p = 0; p < kc; p++) {
        vf bv[K_GEMM_SUB_VECS];
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) bv[v] = v_load(b + v * VL);
        K_UNROLL for (size_t r = 0; r < R; r++) {
            vf x = v_splat(a[r]);
            K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) acc[r][v] = v_madd(acc[r][v], x, bv[v]);
        }
        a += a_col;
        b += b_row;
    }
    K_UNROLL for (size_t r = 0; r < R; r++)
        K_UNROLL for (size_t v = 0; v < K_GEMM_SUB_VECS; v++) v_store(out + (r * K_GEMM_SUB_VECS + v) * VL, acc[r][v]);
}

/** Half a sub-tile's rows (at least one): what a short edge (m = 6 on a 12-row tile)
 *  runs instead of computing rows it throws away. */
#define K_GEMM_HALF_ROWS (K_GEMM_SUB_ROWS / 2 > 0 ? K_GEMM_SUB_ROWS / 2 : 1)

static __attribute__((noinline)) void gemm_sub_product(size_t kc, const float *const *rows, ptrdiff_t a_col,
                                                       const float *b, ptrdiff_t b_row, float *out) {
    gemm_rows_product(kc, rows, a_col, b, b_row, out, K_GEMM_SUB_ROWS);
}

static __attribute__((noinline)) void gemm_sub_product_half(size_t kc, const float *const *rows, ptrdiff_t a_col,
                                                            const float *b, ptrdiff_t b_row, float *out) {
    gemm_rows_product(kc, rows, a_col, b, b_row, out, K_GEMM_HALF_ROWS);
}

static __attribute__((noinline)) void gemm_sub_product_unit(size_t kc, const float *a, ptrdiff_t a_col,
                                                            const float *b, ptrdiff_t b_row, float *out) {
    gemm_unit_product(kc, a, a_col, b, b_row, out, K_GEMM_SUB_ROWS);
}

static __attribute__((noinline)) void gemm_sub_product_unit_half(size_t kc, const float *a, ptrdiff_t a_col,
                                                                 const float *b, ptrdiff_t b_row, float *out) {
    gemm_unit_product(kc, a, a_col, b, b_row, out, K_GEMM_HALF_ROWS);
}

/** One sub-tile, rows r0 ..< r0 + SUB_ROWS and vectors v0 ..< v0 + SUB_VECS of the tile:
 *  its product, then its stores (rows below `rows`, columns col_lo ..< col_hi). */
static inline __attribute__((always_inline)) void gemm_sub_tile(size_t kc, const float *a, ptrdiff_t a_row, ptrdiff_t a_col,
                                                    size_t rows, size_t r0, const float *b, ptrdiff_t b_row,
                                                    size_t v0, float *c, ptrdiff_t ldc, size_t col_lo,
                                                    size_t col_hi, float alpha, float beta, const float *bias) {
    float acc[K_GEMM_SUB_ROWS * K_GEMM_SUB_VECS * K_VL] __attribute__((aligned(64)));
    /* C's rows are written (and read when beta ≠ 0) after the product: ask for their
     * cache lines now, so that they arrive while it runs. */
    for (size_t r = r0; r < r0 + K_GEMM_SUB_ROWS && r < rows; r++) {
        const float *line = c + (ptrdiff_t)r * ldc + v0 * VL;
        for (size_t q = 0; q < K_GEMM_SUB_VECS * VL; q += 16) __builtin_prefetch(line + q, 1, 3);
    }
    size_t left = rows - r0;
    int half = left <= K_GEMM_HALF_ROWS;
    if (a_row == 1 && (left >= K_GEMM_SUB_ROWS || left == K_GEMM_HALF_ROWS)) {
        (half ? gemm_sub_product_unit_half : gemm_sub_product_unit)(kc, a + r0, a_col, b + v0 * VL, b_row, acc);
    } else {
        /* Row r of the sub-tile reads row min(r0 + r, rows − 1) of A. */
        const float *row[K_GEMM_SUB_ROWS];
        K_UNROLL for (size_t r = 0; r < K_GEMM_SUB_ROWS; r++) {
            size_t i = r0 + r < rows ? r0 + r : rows - 1;
            row[r] = a + (ptrdiff_t)i * a_row;
        }
        (half ? gemm_sub_product_half : gemm_sub_product)(kc, row, a_col, b + v0 * VL, b_row, acc);
    }
    size_t j0 = v0 * VL;
    size_t lo = col_lo > j0 ? col_lo - j0 : 0;
    size_t hi = col_hi - j0 < K_GEMM_SUB_VECS * VL ? col_hi - j0 : K_GEMM_SUB_VECS * VL;
    for (size_t r = 0; r < K_GEMM_SUB_ROWS; r++) {
        if (r0 + r >= rows) break;
        gemm_store_row(acc + r * K_GEMM_SUB_VECS * VL, c + (ptrdiff_t)(r0 + r) * ldc + j0, lo, hi, alpha, beta,
                       bias ? bias[r0 + r] : 0.0f);
    }
}

static void gemm_tile(size_t kc, const float *a, ptrdiff_t a_row, ptrdiff_t a_col, size_t rows, const float *b,
                      ptrdiff_t b_row, float *c, ptrdiff_t ldc, size_t col_lo, size_t col_hi, float alpha,
                      float beta, const float *bias) {
    for (size_t r0 = 0; r0 < K_GEMM_ROWS && r0 < rows; r0 += K_GEMM_SUB_ROWS) {
        for (size_t v0 = 0; v0 < K_TILE_VECS; v0 += K_GEMM_SUB_VECS) {
            size_t j0 = v0 * VL, j1 = j0 + K_GEMM_SUB_VECS * VL;
            if (j1 <= col_lo || j0 >= col_hi) continue;
            gemm_sub_tile(kc, a, a_row, a_col, rows, r0, b, b_row, v0, c, ldc, col_lo, col_hi, alpha, beta, bias);
        }
    }
}

/** out[i·stride + r] = row_r[i] for r, i < 4: a 4 × 4 block of four rows transposed in
 *  registers (packing wants each depth step's rows, or columns, together). */
static inline __attribute__((always_inline)) void transpose4(const float *r0, const float *r1, const float *r2,
                                                             const float *r3, float *out, size_t stride) {
    v4 x0 = v4_load(r0), x1 = v4_load(r1), x2 = v4_load(r2), x3 = v4_load(r3);
    v4 t0 = __builtin_shufflevector(x0, x1, 0, 4, 1, 5), t1 = __builtin_shufflevector(x0, x1, 2, 6, 3, 7);
    v4 t2 = __builtin_shufflevector(x2, x3, 0, 4, 1, 5), t3 = __builtin_shufflevector(x2, x3, 2, 6, 3, 7);
    v4_store(out, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
    v4_store(out + stride, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
    v4_store(out + 2 * stride, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
    v4_store(out + 3 * stride, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
}

static void gemm_pack_b(int transposed, const float *b, ptrdiff_t ldb, size_t depth, size_t width, float *dst) {
    if (!transposed) {
        if (width == K_GEMM_COLS) {
            for (size_t p = 0; p < depth; p++) {
                K_UNROLL for (size_t v = 0; v < K_TILE_VECS; v++) v_store(dst + v * VL, v_load(b + v * VL));
                b += ldb;
                dst += K_GEMM_COLS;
            }
            return;
        }
        for (size_t p = 0; p < depth; p++) {
            for (size_t j = 0; j < width; j++) dst[j] = b[j];
            for (size_t j = width; j < K_GEMM_COLS; j++) dst[j] = 0;
            b += ldb;
            dst += K_GEMM_COLS;
        }
        return;
    }
    /* B stored n × k: column j of op(B) is row j of B. Four rows of B at a time, each
     * read along its contiguous depth. */
    if (width < K_GEMM_COLS) {
        for (size_t p = 0; p < depth; p++)
            for (size_t j = width; j < K_GEMM_COLS; j++) dst[p * K_GEMM_COLS + j] = 0;
    }
    size_t j = 0;
    for (; j + 4 <= width; j += 4) {
        const float *s0 = b + (ptrdiff_t)j * ldb, *s1 = s0 + ldb, *s2 = s1 + ldb, *s3 = s2 + ldb;
        float *out = dst + j;
        size_t p = 0;
        for (; p + 4 <= depth; p += 4) {
            transpose4(s0 + p, s1 + p, s2 + p, s3 + p, out + p * K_GEMM_COLS, K_GEMM_COLS);
        }
        for (; p < depth; p++) {
            out[p * K_GEMM_COLS] = s0[p];
            out[p * K_GEMM_COLS + 1] = s1[p];
            out[p * K_GEMM_COLS + 2] = s2[p];
            out[p * K_GEMM_COLS + 3] = s3[p];
        }
    }
    for (; j < width; j++) {
        const float *s0 = b + (ptrdiff_t)j * ldb;
        float *out = dst + j;
        for (size_t p = 0; p < depth; p++) {
            out[0] = s0[p];
            out += K_GEMM_COLS;
        }
    }
}

static void gemm_pack_a(int transposed, const float *a, ptrdiff_t lda, size_t rows, size_t depth, float *dst) {
    for (size_t r0 = 0; r0 < rows; r0 += K_GEMM_ROWS) {
        size_t count = rows - r0 < K_GEMM_ROWS ? rows - r0 : K_GEMM_ROWS;
        float *group = dst + r0 * depth;
        if (transposed) {
            /* op(A)[r, p] = a[p·lda + r]: each depth step is `count` consecutive floats. */
            const float *src = a + r0;
            if (count == K_GEMM_ROWS && K_GEMM_ROWS % VL == 0) {
                for (size_t p = 0; p < depth; p++) {
                    K_UNROLL for (size_t v = 0; v < K_GEMM_ROWS / VL; v++)
                        v_store(group + p * K_GEMM_ROWS + v * VL, v_load(src + (ptrdiff_t)p * lda + v * VL));
                }
            } else {
                for (size_t p = 0; p < depth; p++) {
                    for (size_t r = 0; r < count; r++) group[p * K_GEMM_ROWS + r] = src[(ptrdiff_t)p * lda + r];
                    for (size_t r = count; r < K_GEMM_ROWS; r++) group[p * K_GEMM_ROWS + r] = 0;
                }
            }
            continue;
        }
        /* Row-major A: four rows at a time, 4 × 4 blocks transposed in registers (the
         * depth-major groups want each depth step's rows together); the rest one by one. */
        size_t r = 0;
        for (; r + 4 <= count; r += 4) {
            const float *s0 = a + (ptrdiff_t)(r0 + r) * lda, *s1 = s0 + lda, *s2 = s1 + lda, *s3 = s2 + lda;
            float *out = group + r;
            size_t p = 0;
            for (; p + 4 <= depth; p += 4) {
                transpose4(s0 + p, s1 + p, s2 + p, s3 + p, out + p * K_GEMM_ROWS, K_GEMM_ROWS);
            }
            for (; p < depth; p++) {
                out[p * K_GEMM_ROWS] = s0[p];
                out[p * K_GEMM_ROWS + 1] = s1[p];
                out[p * K_GEMM_ROWS + 2] = s2[p];
                out[p * K_GEMM_ROWS + 3] = s3[p];
            }
        }
        for (; r < count; r++) {
            const float *row = a + (ptrdiff_t)(r0 + r) * lda;
            float *out = group + r;
            for (size_t p = 0; p < depth; p++) out[p * K_GEMM_ROWS] = row[p];
        }
        for (size_t r = count; r < K_GEMM_ROWS; r++)
            for (size_t p = 0; p < depth; p++) group[p * K_GEMM_ROWS + r] = 0;
    }
}

/** The finished value of one output of the matrix-vector forms. */
static inline __attribute__((always_inline)) void gemv_finish(float sum, float *y, float alpha, float beta,
                                                              const float *bias) {
    float old = beta == 0 ? 0.0f : beta * *y;
    float v = alpha * sum + old;
    if (bias) v += *bias;
    *y = v;
}

/** gemv_columns over `VECS` vectors of columns starting at column j. */
#define K_GEMV_COLUMNS_BLOCK(VECS)                                                                  \
    for (; j + (VECS) * VL <= columns; j += (VECS) * VL) {                                          \
        vf s[VECS];                                                                                  \
        for (size_t v = 0; v < (VECS); v++) s[v] = v_zero();                                        \
        const float *mp = m + j;                                                                     \
        const float *xp = x;                                                                         \
        for (size_t p = 0; p < k; p++) {                                                             \
            vf xv = v_splat(*xp);                                                                    \
            for (size_t v = 0; v < (VECS); v++) s[v] = v_madd(s[v], xv, v_load(mp + v * VL));        \
            mp += m_stride;                                                                          \
            xp += x_stride;                                                                          \
        }                                                                                            \
        for (size_t v = 0; v < (VECS); v++) {                                                       \
            size_t jj = j + v * VL;                                                                  \
            if (y_stride == 1 && (bias == NULL || bias_stride == 0)) {                               \
                vf r = s[v] * alpha;                                                                 \
                if (beta != 0) r = r + v_load(y + jj) * beta;                                        \
                if (bias) r = r + *bias;                                                             \
                v_store(y + jj, r);                                                                  \
            } else {                                                                                 \
                for (size_t l = 0; l < VL; l++)                                                      \
                    gemv_finish(s[v][l], y + (ptrdiff_t)(jj + l) * y_stride, alpha, beta,            \
                                bias ? bias + (ptrdiff_t)(jj + l) * bias_stride : NULL);             \
            }                                                                                        \
        }                                                                                            \
    }

static void gemv_columns(size_t columns, size_t k, const float *m, ptrdiff_t m_stride, const float *x,
                         ptrdiff_t x_stride, float *y, ptrdiff_t y_stride, float alpha, float beta,
                         const float *bias, ptrdiff_t bias_stride) {
    size_t j = 0;
    /* Wide blocks first (many independent accumulators), then single vectors. */
    K_GEMV_COLUMNS_BLOCK(K_GEMV_VECS)
    K_GEMV_COLUMNS_BLOCK(1)
    for (; j < columns; j++) {
        float sum = 0;
        const float *mp = m + j;
        const float *xp = x;
        for (size_t p = 0; p < k; p++) {
            sum += *xp * *mp;
            mp += m_stride;
            xp += x_stride;
        }
        gemv_finish(sum, y + (ptrdiff_t)j * y_stride, alpha, beta, bias ? bias + (ptrdiff_t)j * bias_stride : NULL);
    }
}

static void gemv_rows(size_t rows, size_t depth, const float *m, ptrdiff_t m_stride, const float *x, float *y,
                      ptrdiff_t y_stride, float alpha, float beta, const float *bias, ptrdiff_t bias_stride,
                      int first) {
    size_t vector_depth = depth / (2 * VL) * (2 * VL);
    size_t i = 0;
    for (; i + 4 <= rows; i += 4) {
        const float *r[4];
        K_UNROLL for (size_t q = 0; q < 4; q++) r[q] = m + (ptrdiff_t)(i + q) * m_stride;
        vf s[4][2];
        K_UNROLL for (size_t q = 0; q < 4; q++) s[q][0] = s[q][1] = v_zero();
        size_t p = 0;
        for (; p < vector_depth; p += 2 * VL) {
            vf x0 = v_load(x + p), x1 = v_load(x + p + VL);
            K_UNROLL for (size_t q = 0; q < 4; q++) {
                s[q][0] = v_madd(s[q][0], x0, v_load(r[q] + p));
                s[q][1] = v_madd(s[q][1], x1, v_load(r[q] + p + VL));
            }
        }
        float t[4];
        K_UNROLL for (size_t q = 0; q < 4; q++) t[q] = v_sum(s[q][0] + s[q][1]);
        for (; p < depth; p++)
            K_UNROLL for (size_t q = 0; q < 4; q++) t[q] += r[q][p] * x[p];
        K_UNROLL for (size_t q = 0; q < 4; q++) {
            float *out = y + (ptrdiff_t)(i + q) * y_stride;
            if (first)
                gemv_finish(t[q], out, alpha, beta, bias ? bias + (ptrdiff_t)(i + q) * bias_stride : NULL);
            else
                *out += alpha * t[q];
        }
    }
    for (; i < rows; i++) {
        const float *r0 = m + (ptrdiff_t)i * m_stride;
        vf s0 = v_zero(), s1 = v_zero();
        size_t p = 0;
        for (; p < vector_depth; p += 2 * VL) {
            s0 = v_madd(s0, v_load(x + p), v_load(r0 + p));
            s1 = v_madd(s1, v_load(x + p + VL), v_load(r0 + p + VL));
        }
        float t = v_sum(s0 + s1);
        for (; p < depth; p++) t += r0[p] * x[p];
        float *out = y + (ptrdiff_t)i * y_stride;
        if (first)
            gemv_finish(t, out, alpha, beta, bias ? bias + (ptrdiff_t)i * bias_stride : NULL);
        else
            *out += alpha * t;
    }
}

static void dot_block(size_t rows, size_t cols, size_t k, const float *a, ptrdiff_t lda, const float *b,
                      ptrdiff_t ldb, float *c, ptrdiff_t ldc, float alpha, float beta, const float *bias) {
    /* Rows and columns past the edge repeat the last one and are not stored. */
    const float *ar[K_DOT_ROWS], *br[K_DOT_COLS];
    K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++) ar[r] = a + (ptrdiff_t)(r < rows ? r : rows - 1) * lda;
    K_UNROLL for (size_t q = 0; q < K_DOT_COLS; q++) br[q] = b + (ptrdiff_t)(q < cols ? q : cols - 1) * ldb;
    vf s[K_DOT_ROWS][K_DOT_COLS];
    K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++)
        K_UNROLL for (size_t q = 0; q < K_DOT_COLS; q++) s[r][q] = v_zero();
    size_t p = 0;
    for (; p + VL <= k; p += VL) {
        vf x[K_DOT_ROWS];
        K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++) x[r] = v_load(ar[r] + p);
        K_UNROLL for (size_t q = 0; q < K_DOT_COLS; q++) {
            vf w = v_load(br[q] + p);
            K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++) s[r][q] = v_madd(s[r][q], x[r], w);
        }
    }
    float t[K_DOT_ROWS][K_DOT_COLS];
    K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++)
        K_UNROLL for (size_t q = 0; q < K_DOT_COLS; q++) t[r][q] = v_sum(s[r][q]);
    for (; p < k; p++)
        K_UNROLL for (size_t r = 0; r < K_DOT_ROWS; r++)
            K_UNROLL for (size_t q = 0; q < K_DOT_COLS; q++) t[r][q] += ar[r][p] * br[q][p];
    for (size_t r = 0; r < rows; r++)
        for (size_t q = 0; q < cols; q++)
            gemv_finish(t[r][q], c + (ptrdiff_t)r * ldc + q, alpha, beta, bias ? bias + r : NULL);
}
