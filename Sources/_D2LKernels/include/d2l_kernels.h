/* _D2LKernels: the runtime's innermost loops, compiled once per instruction set and
 * chosen at run time (docs/KERNELS.md).
 *
 * Each variant (x86-64: scalar, sse2, avx2 with FMA, avx512; aarch64: scalar, neon) is
 * the same C source (the headers in template/) compiled with its own vector width, register-tile
 * shape and `target` attribute, so one binary carries them all with no compiler flags.
 * The first call to d2l_k_active() picks the best variant the CPU supports (CPUID and
 * XGETBV on x86-64, AT_HWCAP on ARM), capped by the environment variable
 * D2L_KERNEL_ISA (one of the names below): a cap the CPU cannot honour, or an unknown
 * name, gives the best variant it has.
 *
 * Swift keeps everything above these loops: blocking, packing order, threading. Callers
 * fetch the table once per top-level operation and make every call of that operation
 * through it, so that a tile shape and the kernel that fills it always belong together.
 * Layouts prepared ahead of time (packed weights) do not depend on the variant:
 * row groups of D2L_K_ROW_GROUP rows, column panels of D2L_K_PANEL_ROWS rows.
 *
 * Internal to the package: no stable API. Every function is thread-safe (the tables
 * are immutable); d2l_k_select is meant for tests and benchmarks. */
#ifndef D2L_KERNELS_H
#define D2L_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pointers are non-null unless marked _Nullable (imported into Swift as such). */
#pragma clang assume_nonnull begin

/** Rows of one group of a row-packed matrix (`packGemmRows`): a multiple of every
 *  variant's gemm_rows. */
#define D2L_K_ROW_GROUP 12
/** Rows of one column panel (`packGemmColumnPanels`). */
#define D2L_K_PANEL_ROWS 16

/** An activation applied by a kernel's epilogue. */
enum {
    D2L_K_ACT_NONE = 0,
    D2L_K_ACT_RELU = 1,     /* max(x, 0); NaN stays NaN */
    D2L_K_ACT_SIGMOID = 2,  /* 1 / (1 + e^-x) */
    D2L_K_ACT_TANH = 3,
};

/** Elementwise unary operations of `unary`. */
enum {
    D2L_K_UNARY_RELU = 1,
    D2L_K_UNARY_SIGMOID = 2,
    D2L_K_UNARY_TANH = 3,
    D2L_K_UNARY_EXP = 4,
};

/** Elementwise binary operations of `binary`. */
enum {
    D2L_K_BINARY_ADD = 1,
    D2L_K_BINARY_SUB = 2,
    D2L_K_BINARY_MUL = 3,
    D2L_K_BINARY_DIV = 4,
};

/** One variant's kernels and the shapes they work in. All matrices are row-major
 *  float32; strides count floats. No kernel allocates memory or fails. */
typedef struct d2l_k_table {
    /** "avx512", "avx2", "sse2", "neon" or "scalar". */
    const char *name;

    /* ---- GEMM register tile --------------------------------------------------- */

    /** Rows of a register tile (MR): 6 or 12, a divisor of D2L_K_ROW_GROUP. */
    size_t gemm_rows;
    /** Columns of a register tile (NR): 16 or 32; also the width of a packed B panel. */
    size_t gemm_columns;
    /** Largest depth of one block (the packed B panel, depth × NR floats, stays in L1). */
    size_t gemm_depth;

    /** C[r, j] = alpha · Σ_{p<kc} A(r, p) · B(p, j) + beta · C[r, j] (+ bias[r]) for
     *  r < rows, col_lo ≤ j < col_hi, where A(r, p) = a[r·a_row + p·a_col] (rows past
     *  `rows`, up to gemm_rows, repeat row rows − 1 and are not stored) and B(p, j) =
     *  b[p·b_row + j] for every j < gemm_columns (all of them are read). beta == 0:
     *  C is not read. kc ≥ 1, 1 ≤ rows ≤ gemm_rows, col_hi ≤ gemm_columns. */
    void (*gemm_tile)(size_t kc, const float *a, ptrdiff_t a_row, ptrdiff_t a_col, size_t rows,
                                    const float *b, ptrdiff_t b_row, float *c, ptrdiff_t ldc,
                                    size_t col_lo, size_t col_hi, float alpha, float beta, const float *_Nullable bias);

    /** Packs op(B)[p, j] for p < depth, j < width (≤ gemm_columns) into
     *  dst[p·gemm_columns + j], zero for width ≤ j < gemm_columns. op(B)[p, j] is
     *  b[p·ldb + j], or b[j·ldb + p] when `transposed`. */
    void (*gemm_pack_b)(int transposed, const float *b, ptrdiff_t ldb, size_t depth, size_t width,
                                      float *dst);

    /** Packs op(A)[r, p] for r < rows, p < depth into groups of gemm_rows rows:
     *  dst[(r / MR)·MR·depth + p·MR + r % MR] (MR = gemm_rows), the last group's rows
     *  past `rows` zero; ⌈rows / MR⌉·MR·depth floats in all. op(A)[r, p] is
     *  a[r·lda + p], or a[p·lda + r] when `transposed`. */
    void (*gemm_pack_a)(int transposed, const float *a, ptrdiff_t lda, size_t rows, size_t depth, float *dst);

    /** y[j·y_stride] = alpha · Σ_{p<k} x[p·x_stride] · m[p·m_stride + j] + beta · y[j·y_stride]
     *  (+ bias[j·bias_stride]) for j < columns (beta == 0: y is not read). */
    void (*gemv_columns)(size_t columns, size_t k, const float *m, ptrdiff_t m_stride,
                                       const float *x, ptrdiff_t x_stride, float *y, ptrdiff_t y_stride,
                                       float alpha, float beta, const float *_Nullable bias, ptrdiff_t bias_stride);

    /** For i < rows, s = Σ_{p<depth} m[i·m_stride + p] · x[p] (x contiguous): with
     *  `first`, y[i·y_stride] = alpha · s + beta · y[i·y_stride] (+ bias[i·bias_stride],
     *  beta == 0: y is not read); otherwise y[i·y_stride] += alpha · s. */
    void (*gemv_rows)(size_t rows, size_t depth, const float *m, ptrdiff_t m_stride, const float *x,
                                    float *y, ptrdiff_t y_stride, float alpha, float beta, const float *_Nullable bias,
                                    ptrdiff_t bias_stride, int first);

    /** Rows and columns of one block of dot_block (at most). */
    size_t dot_rows, dot_columns;

    /** C[r, q] = alpha · Σ_{p<k} a[r·lda + p] · b[q·ldb + p] + beta · C[r, q] (+ bias[r])
     *  for r < rows ≤ dot_rows, q < cols ≤ dot_columns (beta == 0: C is not read):
     *  A · Bᵀ for a few rows of A, both read along their contiguous rows. */
    void (*dot_block)(size_t rows, size_t cols, size_t k, const float *a, ptrdiff_t lda,
                                    const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                    float alpha, float beta, const float *_Nullable bias);

    /* ---- Column panels: A (weights) as vectors, B broadcast --------------------- */

    /** Most columns of one column-panel tile (3 to 12). */
    size_t panel_columns;
    /** Panels one tile covers when at least that many remain (1 or 2). */
    size_t panel_group;

    /** For l < 16·panels (panels is 1 or 2) and j < cols (1 ≤ cols ≤ panel_columns):
     *  v = Σ_{p<k} A[l, p] · b[p·ldb + j] (+ bias[l]), then v += residual (laid out like
     *  C), then the activation, stored at c[l·ldc + j], or at c[j·ldc + l] when
     *  `transposed` (then ldc ≥ 16·panels). A is `panels` consecutive column panels:
     *  A[16q + i, p] = a[q·16·k + p·16 + i]. k ≥ 1. */
    void (*panel_tile)(size_t k, const float *a, size_t panels, const float *b, ptrdiff_t ldb,
                                     size_t cols, float *c, ptrdiff_t ldc, int transposed, const float *_Nullable bias,
                                     const float *_Nullable residual, int activation);

    /* ---- Winograd F(2×2, 3×3) transforms (Kernels/Winograd.swift) -------------- */

    /** The input transform of tile rows ty0 ..< ty1 of one channel: the rows
     *  2·ty0 ..< 2·ty1 + 2 of `plane` [ih × iw] zero-padded by pad_top and pad_left (and
     *  beyond its edges) are written to `split` (2·(ty1 − ty0) + 2 rows of 2·half floats;
     *  half a multiple of 16, ≥ tiles_w + 16 and ≥ (pad_left + iw + 1) / 2), then for
     *  tile t = (ty − ty0)·tiles_w + tx and ξ < 16, v[ξ·stride + t] = (Bᵀ d B)[ξ] of the
     *  4×4 padded patch at (2ty, 2tx). v[ξ·stride + t] up to t < (ty1 − ty0)·tiles_w + 16
     *  is written (each channel's row needs that much room). */
    void (*winograd_input)(const float *plane, size_t ih, size_t iw, ptrdiff_t pad_top, ptrdiff_t pad_left,
                           size_t ty0, size_t ty1, size_t tiles_w, float *split, size_t half, float *v,
                           ptrdiff_t stride);

    /** The output transform of tile rows ty0 ..< ty1 and output channels o0 ..< o1
     *  (o1 − o0 a multiple of 16): the products m[ξ·stride + t·oc + o], t = (ty − ty0)·
     *  tiles_w + tx, become y[o·oh·ow + (2ty + i)·ow + 2tx + j] = (Aᵀ m A)[i][j] + bias[o]
     *  (bias may be NULL) for the i, j < 2 inside oh × ow. */
    void (*winograd_output)(const float *m, ptrdiff_t stride, size_t oc, size_t ty0, size_t ty1, size_t tiles_w,
                            size_t o0, size_t o1, const float *_Nullable bias, float *y, size_t oh, size_t ow);

    /* ---- Pooling (Kernels/Pooling.swift); maxima propagate NaN ------------------- */

    /** out[ox] for ox < ow over the 2×2 windows of rows r0 and r1 (columns 2ox, 2ox + 1):
     *  ((r0 + r0') + (r1 + r1')) / 4 when `average`, else the maximum. */
    void (*pool2x2_row)(const float *r0, const float *r1, size_t ow, float *out, int average);
    /** out[c] = max over r < rows (≥ 1) of x[r·row_stride + c], for c < n. */
    void (*max_rows)(const float *x, ptrdiff_t row_stride, size_t rows, size_t n, float *out);
    /** out[ox] = max over k < kw (≥ 1) of padded[ox + k], for ox < ow. */
    void (*max_window)(const float *padded, size_t kw, size_t ow, float *out);
    /** out[ox] = max over k < kw (≥ 1) of padded[ox·stride + k], for ox < ow; reads
     *  padded up to 2·ow + kw + 2·VL floats when stride is 2. */
    void (*max_window_strided)(const float *padded, size_t kw, size_t stride, size_t ow, float *out);
    /** Max pooling with dilation 1 of `planes` planes x [ih × iw] into y [oh × ow]
     *  (padding −∞; window (oy, ox) is kh × kw from (sh·oy − pad_top, sw·ox − pad_left);
     *  pad_top < kh, pad_left < kw), for small planes: (sh·(oh − 1) + kh)·(sw·(ow − 1) + kw)
     *  ≤ pool_plane_floats. */
    void (*max_pool_planes)(const float *x, size_t planes, size_t ih, size_t iw, size_t kh, size_t kw, size_t sh,
                            size_t sw, size_t pad_top, size_t pad_left, size_t oh, size_t ow, float *y);
    /** The largest padded plane max_pool_planes takes (floats). */
    size_t pool_plane_floats;

    /* ---- Elementwise ------------------------------------------------------------- */

    /** c[i·ldc + j] = act(c[i·ldc + j] (+ residual[i·ldc + j])) for i < m, j < n. */
    void (*epilogue)(size_t m, size_t n, float *c, ptrdiff_t ldc, const float *_Nullable residual,
                                   int activation);

    /** y[i] = f(x[i]) for i < n, f a D2L_K_UNARY_* operation (x may equal y). exp and
     *  sigmoid are within 2 ulp of libm's expf over the float range; tanh within
     *  ≈ 2·10⁻⁷ absolutely. NaN in, NaN out. */
    void (*unary)(int op, const float *x, float *y, size_t n);

    /** y[i] = a[i·a_step] ∘ b[i·b_step] for i < n (steps 0 or 1), ∘ a D2L_K_BINARY_*
     *  operation. y may equal a or b when their step is 1. */
    void (*binary)(int op, const float *a, ptrdiff_t a_step, const float *b, ptrdiff_t b_step,
                                 float *y, size_t n);

    /** y[i] = act(x[i] · scale + shift) for i < n (x may equal y): BatchNormalization's
     *  per-channel affine map with a fused activation. */
    void (*scale_shift)(const float *x, float scale, float shift, float *y, size_t n, int activation);

    /** Softmax along the middle axis of x [outer, length, inner] into y (same shape; may
     *  be x): y = e^(x − max) / Σ e^(x − max) over the `length` values inner apart. */
    void (*softmax)(const float *x, float *y, size_t outer, size_t length, size_t inner);

    /** dx[i] = dy[i] · act'(y[i]) for i < n, with y = act(x) the activation's output:
     *  ReLU dy·[y > 0], sigmoid dy·y·(1 − y), tanh dy·(1 − y²) (D2L_K_ACT_NONE: dy). The
     *  toolkit's backward of its activations. dx may equal dy. */
    void (*activation_backward)(int activation, const float *dy, const float *y, float *dx, size_t n);

    /** dst[r·dst_stride + j] += src[r·src_stride + j] for r < rows, j < width (not
     *  overlapping): a block of rows at once (col2im). */
    void (*add_block)(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride, size_t rows,
                      size_t width);
    /** dst[r·dst_stride + j] = src[r·src_stride + j] for r < rows, j < width (not
     *  overlapping): a block of rows at once (im2col). */
    void (*copy_block)(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride, size_t rows,
                       size_t width);

    /* ---- Reductions (4·VL partial sums) ----------------------------------------- */

    /** Σ x[i] for i < n. */
    float (*sum)(const float *x, size_t n);
    /** Σ (x[i] − mean)² for i < n. */
    float (*sum_squared_deviation)(const float *x, size_t n, float mean);
    /** Σ a[i] · (x[i] − mean) for i < n. */
    float (*dot_centered)(const float *a, const float *x, size_t n, float mean);

    /* ---- Boxes (non-maximum suppression) ------------------------------------------ */

    /** The first k < n whose IoU with `box` (x1, y1, x2, y2; area `box_area`) exceeds
     *  `threshold`, or n: the kept boxes are columns x1[k], y1[k], x2[k], y2[k], area[k]
     *  (corner format), and the IoU is the runtime's boxIoU(kept k, box) exactly. */
    size_t (*first_overlap_above)(const float *x1, const float *y1, const float *x2, const float *y2,
                                  const float *area, size_t n, const float *box, float box_area, float threshold);
} d2l_k_table;

/** The active variant's table (chosen on the first call; see above). Never NULL. */
const d2l_k_table *d2l_k_active(void);

/** The table of variant `name` when this build has it and the CPU runs it, else NULL. */
const d2l_k_table *_Nullable d2l_k_table_named(const char *name);

/** Makes variant `name` the active one (for tests and benchmarks). Returns 1 on
 *  success, 0 (and changes nothing) when d2l_k_table_named(name) is NULL. Operations
 *  already running keep the table they started with. */
int d2l_k_select(const char *name);

/** The names of every variant this build has, best first, for this architecture
 *  (whether or not the CPU runs them): count in *out_count. Static storage. */
const char *_Nonnull const *_Nonnull d2l_k_variant_names(size_t *out_count);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif

#endif
