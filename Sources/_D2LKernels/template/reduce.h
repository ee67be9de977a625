/* Reductions over contiguous floats (contracts in include/d2l_kernels.h): sums with
 * 4·VL partial sums, added pairwise at the end. */

/** Σ over x[0..<n] of f(x[i]) for the f given where this is inlined. */
#define K_REDUCE_LOOP(EXPR_V, EXPR_S)                                                   \
    vf s0 = v_zero(), s1 = v_zero(), s2 = v_zero(), s3 = v_zero();                      \
    size_t i = 0;                                                                       \
    for (; i + 4 * VL <= n; i += 4 * VL) {                                              \
        { const size_t j = i; s0 = s0 + (EXPR_V); }                                     \
        { const size_t j = i + VL; s1 = s1 + (EXPR_V); }                                \
        { const size_t j = i + 2 * VL; s2 = s2 + (EXPR_V); }                            \
        { const size_t j = i + 3 * VL; s3 = s3 + (EXPR_V); }                            \
    }                                                                                   \
    for (; i + VL <= n; i += VL) { const size_t j = i; s0 = s0 + (EXPR_V); }            \
    float total = v_sum((s0 + s1) + (s2 + s3));                                         \
    for (; i < n; i++) { const size_t j = i; total += (EXPR_S); }

static float sum(const float *x, size_t n) {
    K_REDUCE_LOOP(v_load(x + j), x[j])
    return total;
}

static float sum_squared_deviation(const float *x, size_t n, float mean) {
    vf mv = v_splat(mean);
    K_REDUCE_LOOP((v_load(x + j) - mv) * (v_load(x + j) - mv), (x[j] - mean) * (x[j] - mean))
    return total;
}

static float dot_centered(const float *a, const float *x, size_t n, float mean) {
    vf mv = v_splat(mean);
    K_REDUCE_LOOP(v_load(a + j) * (v_load(x + j) - mv), a[j] * (x[j] - mean))
    return total;
}
