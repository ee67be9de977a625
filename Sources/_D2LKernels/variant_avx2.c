/* The AVX2 + FMA variant (x86-64): 8-lane vectors, a 6 × 16 register tile (12 of the 16
 * ymm registers accumulate), column-panel tiles of 16 rows × up to 6 columns. */
#if defined(__x86_64__)
#include <stddef.h>
#include <stdint.h>

#define K_NAME "avx2"
#define K_TABLE d2l_k_table_avx2
#define K_VL 8
#define K_FMA 1
#define K_GEMM_ROWS 6
#define K_GEMM_COLS 16
#define K_GEMM_DEPTH 256
#define K_GEMM_SUB_ROWS 6
#define K_GEMM_SUB_VECS 2
#define K_GEMV_VECS 8
#define K_DOT_ROWS 3
#define K_DOT_COLS 4
#define K_PANEL_COLS 6
#define K_PANEL_SUB_VECS 2
#define K_PANEL_GROUP 1

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "template/variant.h"
#pragma clang attribute pop
#endif
