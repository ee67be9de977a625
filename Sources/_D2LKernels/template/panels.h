/* The column-panel tile (contract in include/d2l_kernels.h, `panel_tile`): the constant
 * operand A (a convolution's weights, packed in panels of 16 rows, depth-major) is read
 * as vectors along its rows, one stream per panel, and B is read in place and broadcast,
 * one value per tile column. Each tile runs over the whole depth, so it is final when
 * its loop ends and is written once, with its bias, residual and activation.
 *
 * Variant defines:
 *   K_PANEL_COLS       most columns of a tile
 *   K_PANEL_SUB_VECS   vectors of A (rows / VL) kept in registers at once: a tile of
 *                      16·panels rows is swept in blocks of SUB_VECS·VL rows (16·panels / VL
 *                      must be a multiple of SUB_VECS when larger than it)
 * Each (panels, cols) pair gets its own product function, so only the accumulators it
 * needs exist; the tile then goes through one stack buffer to the stores. */

#define K_PANEL_VECS (16 / K_VL)

/** The product of one block of the tile: tile[j·32 + (vec0 + u)·VL + l] = Σ_{p<k}
 *  A[(vec0 + u)·VL + l, p] · b[p·ldb + j] for u < sub, j < cols. Vector u of the block
 *  lies in panel (vec0 + u) / PANEL_VECS, at lane offset ((vec0 + u) % PANEL_VECS)·VL. */
static inline __attribute__((always_inline)) void panel_block(size_t k, const float *a, size_t vec0,
                                                              const size_t sub, const float *b, ptrdiff_t ldb,
                                                              const size_t cols, float *tile) {
    vf acc[K_PANEL_SUB_VECS][K_PANEL_COLS];
    const float *pa[K_PANEL_SUB_VECS];
    K_UNROLL for (size_t u = 0; u < sub; u++) {
        size_t w = vec0 + u;
        pa[u] = a + (w / K_PANEL_VECS) * 16 * k + (w % K_PANEL_VECS) * VL;
        K_UNROLL for (size_t j = 0; j < cols; j++) acc[u][j] = v_zero();
    }
    for (size_t p = 0; p < k; p++) {
        vf av[K_PANEL_SUB_VECS];
        /* The panels stream from memory in deep layers: ask for them 1 KiB ahead. */
        if (vec0 % K_PANEL_VECS == 0) K_UNROLL for (size_t u = 0; u < sub; u += K_PANEL_VECS) __builtin_prefetch(pa[u] + p * 16 + 256);
        K_UNROLL for (size_t u = 0; u < sub; u++) av[u] = v_load(pa[u] + p * 16);
        K_UNROLL for (size_t j = 0; j < cols; j++) {
            vf x = v_splat(b[j]);
            K_UNROLL for (size_t u = 0; u < sub; u++) acc[u][j] = v_madd(acc[u][j], x, av[u]);
        }
        b += ldb;
    }
    K_UNROLL for (size_t u = 0; u < sub; u++)
        K_UNROLL for (size_t j = 0; j < cols; j++) v_store(tile + j * 32 + (vec0 + u) * VL, acc[u][j]);
}

/** The whole product of a tile of `panels` (1 or 2) panels and `cols` columns, both
 *  known where this is inlined. */
static inline __attribute__((always_inline)) void panel_product(size_t k, const float *a, const size_t panels,
                                                                const float *b, ptrdiff_t ldb, const size_t cols,
                                                                float *tile) {
    const size_t total = panels * K_PANEL_VECS;
    const size_t sub = total < K_PANEL_SUB_VECS ? total : K_PANEL_SUB_VECS;
    for (size_t vec0 = 0; vec0 < total; vec0 += sub) panel_block(k, a, vec0, sub, b, ldb, cols, tile);
}

/** One product function per (panels, cols), so that each has only the accumulators it
 *  needs, in registers. */
#define K_PANEL_PRODUCT(N)                                                                              \
    static __attribute__((noinline)) void panel_product_1_##N(size_t k, const float *a, const float *b, \
                                                              ptrdiff_t ldb, float *tile) {              \
        panel_product(k, a, 1, b, ldb, N, tile);                                                        \
    }                                                                                                    \
    static __attribute__((noinline)) void panel_product_2_##N(size_t k, const float *a, const float *b, \
                                                              ptrdiff_t ldb, float *tile) {              \
        panel_product(k, a, 2, b, ldb, N, tile);                                                        \
    }

/** Writes the tile (tile[j·32 + l], l < rows, j < cols): bias, residual, activation. */
static inline __attribute__((always_inline)) void panel_store_act(const float *tile, size_t rows, size_t cols,
                                                                  float *c, ptrdiff_t ldc, int transposed,
                                                                  const float *bias, const float *residual,
                                                                  const int activation) {
    for (size_t l0 = 0; l0 < rows; l0 += VL) {
        vf bv = bias ? v_load(bias + l0) : v_zero();
        for (size_t j = 0; j < cols; j++) {
            vf v = v_load(tile + j * 32 + l0) + bv;
            if (transposed) {
                if (residual) v = v + v_load(residual + (ptrdiff_t)j * ldc + l0);
                v_store(c + (ptrdiff_t)j * ldc + l0, v_activate(v, activation));
            } else {
                if (residual) {
                    vf r;
                    for (size_t l = 0; l < VL; l++) r[l] = residual[(ptrdiff_t)(l0 + l) * ldc + j];
                    v = v + r;
                }
                v = v_activate(v, activation);
                for (size_t l = 0; l < VL; l++) c[(ptrdiff_t)(l0 + l) * ldc + j] = v[l];
            }
        }
    }
}

static void panel_store(const float *tile, size_t rows, size_t cols, float *c, ptrdiff_t ldc, int transposed,
                        const float *bias, const float *residual, int activation) {
    switch (activation) {
    case D2L_K_ACT_RELU: panel_store_act(tile, rows, cols, c, ldc, transposed, bias, residual, D2L_K_ACT_RELU); break;
    case D2L_K_ACT_SIGMOID:
        panel_store_act(tile, rows, cols, c, ldc, transposed, bias, residual, D2L_K_ACT_SIGMOID);
        break;
    case D2L_K_ACT_TANH: panel_store_act(tile, rows, cols, c, ldc, transposed, bias, residual, D2L_K_ACT_TANH); break;
    default: panel_store_act(tile, rows, cols, c, ldc, transposed, bias, residual, D2L_K_ACT_NONE); break;
    }
}

K_PANEL_PRODUCT(1)
#if K_PANEL_COLS >= 2
K_PANEL_PRODUCT(2)
#endif
#if K_PANEL_COLS >= 3
K_PANEL_PRODUCT(3)
#endif
#if K_PANEL_COLS >= 4
K_PANEL_PRODUCT(4)
#endif
#if K_PANEL_COLS >= 5
K_PANEL_PRODUCT(5)
#endif
#if K_PANEL_COLS >= 6
K_PANEL_PRODUCT(6)
#endif
#if K_PANEL_COLS >= 7
K_PANEL_PRODUCT(7)
#endif
#if K_PANEL_COLS >= 8
K_PANEL_PRODUCT(8)
#endif
#if K_PANEL_COLS >= 9
K_PANEL_PRODUCT(9)
#endif
#if K_PANEL_COLS >= 10
K_PANEL_PRODUCT(10)
#endif
#if K_PANEL_COLS >= 11
K_PANEL_PRODUCT(11)
#endif
#if K_PANEL_COLS >= 12
K_PANEL_PRODUCT(12)
#endif

#define K_PANEL_CASE(N)                                                                 \
    case N:                                                                             \
        (panels == 2 ? panel_product_2_##N : panel_product_1_##N)(k, a, b, ldb, tile); \
        break;

static void panel_tile(size_t k, const float *a, size_t panels, const float *b, ptrdiff_t ldb, size_t cols,
                       float *c, ptrdiff_t ldc, int transposed, const float *bias, const float *residual,
                       int activation) {
    float tile[32 * K_PANEL_COLS] __attribute__((aligned(64)));
    switch (cols) {
    K_PANEL_CASE(1)
#if K_PANEL_COLS >= 2
    K_PANEL_CASE(2)
#endif
#if K_PANEL_COLS >= 3
    K_PANEL_CASE(3)
#endif
#if K_PANEL_COLS >= 4
    K_PANEL_CASE(4)
#endif
#if K_PANEL_COLS >= 5
    K_PANEL_CASE(5)
#endif
#if K_PANEL_COLS >= 6
    K_PANEL_CASE(6)
#endif
#if K_PANEL_COLS >= 7
    K_PANEL_CASE(7)
#endif
#if K_PANEL_COLS >= 8
    K_PANEL_CASE(8)
#endif
#if K_PANEL_COLS >= 9
    K_PANEL_CASE(9)
#endif
#if K_PANEL_COLS >= 10
    K_PANEL_CASE(10)
#endif
#if K_PANEL_COLS >= 11
    K_PANEL_CASE(11)
#endif
#if K_PANEL_COLS >= 12
    K_PANEL_CASE(12)
#endif
    default:
        return;
    }
    panel_store(tile, 16 * panels, cols, c, ldc, transposed, bias, residual, activation);
}
