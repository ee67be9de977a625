/* Elementwise kernels: the fused epilogue of the products, the unary activations and
 * functions, and the float binary arithmetic of Add/Sub/Mul/Div (contracts in
 * include/d2l_kernels.h). Tails shorter than a vector run one lane at a time through
 * the same vector code (v_load_lanes / v_store_lanes), so every element gets the same
 * arithmetic. */

static inline __attribute__((always_inline)) void epilogue_row(float *c, const float *residual, size_t n,
                                                               const int activation) {
    size_t j = 0;
    for (; j + VL <= n; j += VL) {
        vf v = v_load(c + j);
        if (residual) v = v + v_load(residual + j);
        v_store(c + j, v_activate(v, activation));
    }
    if (j < n) {
        size_t rest = n - j;
        vf v = v_load_lanes(c + j, rest);
        if (residual) v = v + v_load_lanes(residual + j, rest);
        v_store_lanes(c + j, v_activate(v, activation), rest);
    }
}

static void epilogue(size_t m, size_t n, float *c, ptrdiff_t ldc, const float *residual, int activation) {
    for (size_t i = 0; i < m; i++) {
        float *row = c + (ptrdiff_t)i * ldc;
        const float *res = residual ? residual + (ptrdiff_t)i * ldc : NULL;
        switch (activation) {
        case D2L_K_ACT_RELU: epilogue_row(row, res, n, D2L_K_ACT_RELU); break;
        case D2L_K_ACT_SIGMOID: epilogue_row(row, res, n, D2L_K_ACT_SIGMOID); break;
        case D2L_K_ACT_TANH: epilogue_row(row, res, n, D2L_K_ACT_TANH); break;
        default: epilogue_row(row, res, n, D2L_K_ACT_NONE); break;
        }
    }
}

static inline __attribute__((always_inline)) vf unary_apply(vf v, const int op) {
    switch (op) {
    case D2L_K_UNARY_RELU: return v_relu(v);
    case D2L_K_UNARY_SIGMOID: return v_sigmoid(v);
    case D2L_K_UNARY_TANH: return v_tanh(v);
    default: return v_exp(v);
    }
}

static inline __attribute__((always_inline)) void unary_loop(const float *x, float *y, size_t n, const int op) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) v_store(y + i, unary_apply(v_load(x + i), op));
    if (i < n) v_store_lanes(y + i, unary_apply(v_load_lanes(x + i, n - i), op), n - i);
}

static void unary(int op, const float *x, float *y, size_t n) {
    switch (op) {
    case D2L_K_UNARY_RELU: unary_loop(x, y, n, D2L_K_UNARY_RELU); break;
    case D2L_K_UNARY_SIGMOID: unary_loop(x, y, n, D2L_K_UNARY_SIGMOID); break;
    case D2L_K_UNARY_TANH: unary_loop(x, y, n, D2L_K_UNARY_TANH); break;
    case D2L_K_UNARY_EXP: unary_loop(x, y, n, D2L_K_UNARY_EXP); break;
    default: break;
    }
}

static inline __attribute__((always_inline)) vf binary_apply(vf a, vf b, const int op) {
    switch (op) {
    case D2L_K_BINARY_ADD: return a + b;
    case D2L_K_BINARY_SUB: return a - b;
    case D2L_K_BINARY_MUL: return a * b;
    default: return a / b;
    }
}

/** One operation over n elements with the steps known where this is inlined. */
static inline __attribute__((always_inline)) void binary_loop(const float *a, const int a_step, const float *b,
                                                              const int b_step, float *y, size_t n,
                                                              const int op) {
    vf as = v_splat(a[0]), bs = v_splat(b[0]);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vf av = a_step ? v_load(a + i) : as;
        vf bv = b_step ? v_load(b + i) : bs;
        v_store(y + i, binary_apply(av, bv, op));
    }
    if (i < n) {
        size_t rest = n - i;
        vf av = a_step ? v_load_lanes(a + i, rest) : as;
        vf bv = b_step ? v_load_lanes(b + i, rest) : bs;
        v_store_lanes(y + i, binary_apply(av, bv, op), rest);
    }
}

#define K_BINARY_STEPS(OP)                                          \
    if (a_step && b_step) binary_loop(a, 1, b, 1, y, n, OP);        \
    else if (a_step) binary_loop(a, 1, b, 0, y, n, OP);             \
    else if (b_step) binary_loop(a, 0, b, 1, y, n, OP);             \
    else binary_loop(a, 0, b, 0, y, n, OP);

static void binary(int op, const float *a, ptrdiff_t a_step, const float *b, ptrdiff_t b_step, float *y, size_t n) {
    if (n == 0) return;
    switch (op) {
    case D2L_K_BINARY_ADD: K_BINARY_STEPS(D2L_K_BINARY_ADD) break;
    case D2L_K_BINARY_SUB: K_BINARY_STEPS(D2L_K_BINARY_SUB) break;
    case D2L_K_BINARY_MUL: K_BINARY_STEPS(D2L_K_BINARY_MUL) break;
    case D2L_K_BINARY_DIV: K_BINARY_STEPS(D2L_K_BINARY_DIV) break;
    default: break;
    }
}

static inline __attribute__((always_inline)) void scale_shift_loop(const float *x, float scale, float shift,
                                                                   float *y, size_t n, const int activation) {
    vf sv = v_splat(scale), bv = v_splat(shift);
    size_t i = 0;
    for (; i + VL <= n; i += VL) v_store(y + i, v_activate(v_load(x + i) * sv + bv, activation));
    if (i < n) v_store_lanes(y + i, v_activate(v_load_lanes(x + i, n - i) * sv + bv, activation), n - i);
}

static void scale_shift(const float *x, float scale, float shift, float *y, size_t n, int activation) {
    switch (activation) {
    case D2L_K_ACT_RELU: scale_shift_loop(x, scale, shift, y, n, D2L_K_ACT_RELU); break;
    case D2L_K_ACT_SIGMOID: scale_shift_loop(x, scale, shift, y, n, D2L_K_ACT_SIGMOID); break;
    case D2L_K_ACT_TANH: scale_shift_loop(x, scale, shift, y, n, D2L_K_ACT_TANH); break;
    default: scale_shift_loop(x, scale, shift, y, n, D2L_K_ACT_NONE); break;
    }
}

static inline __attribute__((always_inline)) vf v_max(vf a, vf b) {
    return v_select(a > b, a, b);
}

static void softmax(const float *x, float *y, size_t outer, size_t length, size_t inner) {
    if (length == 0) return;
    for (size_t o = 0; o < outer; o++) {
        const float *xs = x + o * length * inner;
        float *ys = y + o * length * inner;
        if (inner == 1) {
            /* One contiguous row: vectors along it. */
            vf mv = v_splat(-__builtin_inff());
            size_t j = 0;
            for (; j + VL <= length; j += VL) mv = v_max(mv, v_load(xs + j));
            float m = mv[0];
            for (size_t l = 1; l < VL; l++) m = mv[l] > m ? mv[l] : m;
            for (; j < length; j++) m = xs[j] > m ? xs[j] : m;
            vf sv = v_zero();
            j = 0;
            for (; j + VL <= length; j += VL) {
                vf e = v_exp(v_load(xs + j) - m);
                v_store(ys + j, e);
                sv = sv + e;
            }
            if (j < length) {
                size_t rest = length - j;
                vf e = v_exp(v_load_lanes(xs + j, rest) - m);
                for (size_t l = rest; l < VL; l++) e[l] = 0;
                v_store_lanes(ys + j, e, rest);
                sv = sv + e;
            }
            float scale = 1.0f / v_sum(sv);
            for (j = 0; j + VL <= length; j += VL) v_store(ys + j, v_load(ys + j) * scale);
            for (; j < length; j++) ys[j] *= scale;
            continue;
        }
        /* Rows `inner` apart: vectors across VL neighbouring positions. */
        for (size_t i0 = 0; i0 < inner; i0 += VL) {
            size_t lanes = inner - i0 < VL ? inner - i0 : VL;
            vf m = v_splat(-__builtin_inff());
            for (size_t j = 0; j < length; j++) m = v_max(m, v_load_lanes(xs + j * inner + i0, lanes));
            vf sum = v_zero();
            for (size_t j = 0; j < length; j++) {
                vf e = v_exp(v_load_lanes(xs + j * inner + i0, lanes) - m);
                v_store_lanes(ys + j * inner + i0, e, lanes);
                sum = sum + e;
            }
            vf scale = 1.0f / sum;
            for (size_t j = 0; j < length; j++)
                v_store_lanes(ys + j * inner + i0, v_load_lanes(ys + j * inner + i0, lanes) * scale, lanes);
        }
    }
}

static void add_block(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride, size_t rows,
                      size_t width) {
    for (size_t r = 0; r < rows; r++) {
        const float *a = src + (ptrdiff_t)r * src_stride;
        float *d = dst + (ptrdiff_t)r * dst_stride;
        size_t j = 0;
        for (; j + VL <= width; j += VL) v_store(d + j, v_load(d + j) + v_load(a + j));
        for (; j < width; j++) d[j] += a[j];
    }
}

static void copy_block(const float *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride, size_t rows,
                       size_t width) {
    for (size_t r = 0; r < rows; r++) {
        const float *a = src + (ptrdiff_t)r * src_stride;
        float *d = dst + (ptrdiff_t)r * dst_stride;
        size_t j = 0;
        for (; j + VL <= width; j += VL) v_store(d + j, v_load(a + j));
        for (; j < width; j++) d[j] = a[j];
    }
}

static inline __attribute__((always_inline)) vf activation_grad(vf dy, vf y, const int activation) {
    switch (activation) {
    case D2L_K_ACT_RELU: return v_select(y > v_zero(), dy, v_zero());
    case D2L_K_ACT_SIGMOID: return dy * y * (1.0f - y);
    case D2L_K_ACT_TANH: return dy * (1.0f - y * y);
    default: return dy;
    }
}

static inline __attribute__((always_inline)) void activation_backward_loop(const float *dy, const float *y, float *dx,
                                                                           size_t n, const int activation) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) v_store(dx + i, activation_grad(v_load(dy + i), v_load(y + i), activation));
    if (i < n) {
        size_t rest = n - i;
        v_store_lanes(dx + i, activation_grad(v_load_lanes(dy + i, rest), v_load_lanes(y + i, rest), activation), rest);
    }
}

static void activation_backward(int activation, const float *dy, const float *y, float *dx, size_t n) {
    switch (activation) {
    case D2L_K_ACT_RELU: activation_backward_loop(dy, y, dx, n, D2L_K_ACT_RELU); break;
    case D2L_K_ACT_SIGMOID: activation_backward_loop(dy, y, dx, n, D2L_K_ACT_SIGMOID); break;
    case D2L_K_ACT_TANH: activation_backward_loop(dy, y, dx, n, D2L_K_ACT_TANH); break;
    default: activation_backward_loop(dy, y, dx, n, D2L_K_ACT_NONE); break;
    }
}
