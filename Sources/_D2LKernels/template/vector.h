/* The vector vocabulary of the kernel templates: one `vf` of K_VL floats (clang's
 * ext_vector_type, so the same source becomes scalar, SSE2, AVX2, AVX-512 or NEON code
 * under the variant's target attribute), loads and stores at any alignment, splats,
 * multiply-add, selection by lane masks, and the vectorised exp/tanh the activations use.
 *
 * Included once per variant (variant_*.c), after the variant defines:
 *   K_VL   lanes of vf (1, 4, 8 or 16)
 *   K_FMA  1 when the target has fused multiply-add (then v_madd is one rounding)
 * Everything here is `static`, so each variant's copy is private to its file. */

typedef float vf __attribute__((ext_vector_type(K_VL)));
typedef int32_t vi __attribute__((ext_vector_type(K_VL)));

#define VL ((size_t)K_VL)

/** Four floats whatever the variant's width (for 4 × 4 transposes while packing). */
typedef float v4 __attribute__((ext_vector_type(4)));

static inline __attribute__((always_inline)) v4 v4_load(const float *p) {
    v4 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void v4_store(float *p, v4 v) {
    __builtin_memcpy(p, &v, sizeof v);
}

/** Before a loop with a constant trip count over registers (tile rows, vectors): fully
 *  unrolled, so that its arrays of vectors live in registers. */
#define K_UNROLL _Pragma("clang loop unroll(full)")

static inline __attribute__((always_inline)) vf v_load(const float *p) {
    vf v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void v_store(float *p, vf v) {
    __builtin_memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) vf v_splat(float x) {
    return (vf)(x);
}

static inline __attribute__((always_inline)) vf v_zero(void) {
    return (vf)(0.0f);
}

/** acc + x · y: fused where the target has FMA, else a multiply and an add. */
static inline __attribute__((always_inline)) vf v_madd(vf acc, vf x, vf y) {
#if K_FMA
    return __builtin_elementwise_fma(x, y, acc);
#else
    return acc + x * y;
#endif
}

/** Lanes of `a` where `mask` is set (all bits), `b` elsewhere. */
static inline __attribute__((always_inline)) vf v_select(vi mask, vf a, vf b) {
    return (vf)(((vi)a & mask) | ((vi)b & ~mask));
}

/** The sum of the lanes, in lane order. */
static inline __attribute__((always_inline)) float v_sum(vf v) {
    float s = v[0];
    for (size_t l = 1; l < VL; l++) s += v[l];
    return s;
}

/** Stores lanes 0 ..< count (≤ VL) of `v` at p. */
static inline __attribute__((always_inline)) void v_store_lanes(float *p, vf v, size_t count) {
    if (count == VL) {
        v_store(p, v);
        return;
    }
    for (size_t l = 0; l < count; l++) p[l] = v[l];
}

/** Loads lanes 0 ..< count (≤ VL) from p, the rest 0. */
static inline __attribute__((always_inline)) vf v_load_lanes(const float *p, size_t count) {
    if (count == VL) return v_load(p);
    vf v = v_zero();
    for (size_t l = 0; l < count; l++) v[l] = p[l];
    return v;
}

/** The even lanes of the 2·VL floats lo ‖ hi (lo's lanes first), and the odd ones:
 *  deinterleaving pairs. */
#if K_VL == 16
#define K_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define K_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#elif K_VL == 8
#define K_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define K_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#elif K_VL == 4
#define K_EVEN_LANES 0, 2, 4, 6
#define K_ODD_LANES 1, 3, 5, 7
#elif K_VL == 1
#define K_EVEN_LANES 0
#define K_ODD_LANES 1
#endif

static inline __attribute__((always_inline)) vf v_even(vf lo, vf hi) {
    return __builtin_shufflevector(lo, hi, K_EVEN_LANES);
}

static inline __attribute__((always_inline)) vf v_odd(vf lo, vf hi) {
    return __builtin_shufflevector(lo, hi, K_ODD_LANES);
}

/** max(x, 0) with NaN kept (ONNX Relu). */
static inline __attribute__((always_inline)) vf v_relu(vf x) {
    return v_select(x < v_zero(), v_zero(), x);
}

/** e^x (Cephes' expf: range reduction by ln 2 in two parts, a degree-5 polynomial,
 *  scaling by 2^n through the exponent bits, in two factors so that each is a normal
 *  float). Inputs are clamped to [-87.3, 88.7], so results stay finite and normal;
 *  relative error ≈ 2 ulp. NaN lanes give NaN. */
static inline __attribute__((always_inline)) vf v_exp(vf input) {
    vi nan = input != input;
    vf x0 = input;
    x0 = v_select(x0 < v_splat(-87.3f), v_splat(-87.3f), x0);
    x0 = v_select(x0 > v_splat(88.7f), v_splat(88.7f), x0);
    x0 = v_select(nan, v_zero(), x0);
    /* n = round(x / ln 2) by the 1.5 · 2^23 trick (exact for |n| < 2^22). */
    vf shifted = x0 * 1.44269504088896341f + 12582912.0f;
    vf fx = shifted - 12582912.0f;
    vi n = (vi)shifted - 0x4B400000;
    vf x = x0 - fx * 0.693359375f;
    x = x + fx * 2.12194440e-4f;
    vf z = x * x;
    vf y = v_splat(1.9875691500e-4f);
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    /* 2^n as two normal factors: n reaches 128 near the top of the range. */
    vi n1 = n >> 1, n2 = n - n1;
    vf scale1 = (vf)((n1 + 127) << 23), scale2 = (vf)((n2 + 127) << 23);
    return v_select(nan, input, y * scale1 * scale2);
}

/** 1 / (1 + e^-x). */
static inline __attribute__((always_inline)) vf v_sigmoid(vf x) {
    return 1.0f / (1.0f + v_exp(-x));
}

/** tanh x (Cephes' tanhf): an odd polynomial for |x| ≤ 0.625, 1 − 2 / (e^{2|x|} + 1)
 *  with x's sign beyond. NaN lanes give NaN. */
static inline __attribute__((always_inline)) vf v_tanh(vf x) {
    vi negative = x < v_zero();
    vf ax = v_select(negative, -x, x);
    vf z = x * x;
    vf p = v_splat(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    vf small = p * z * x + x;
    vf e = v_exp(ax + ax);
    vf big = 1.0f - 2.0f / (e + 1.0f);
    big = v_select(negative, -big, big);
    return v_select(ax > v_splat(0.625f), big, small);
}

/** `activation` (a D2L_K_ACT_* value) on every lane. */
static inline __attribute__((always_inline)) vf v_activate(vf v, int activation) {
    switch (activation) {
    case D2L_K_ACT_RELU: return v_relu(v);
    case D2L_K_ACT_SIGMOID: return v_sigmoid(v);
    case D2L_K_ACT_TANH: return v_tanh(v);
    default: return v;
    }
}
