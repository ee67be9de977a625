/* The AVX-512F variant (x86-64): 16-lane vectors, a 12 × 32 register tile (24 of the 32
 * zmm registers accumulate), column-panel tiles of 32 rows × up to 12 columns. */
#if defined(__x86_64__)
#include <stddef.h>
#include <stdint.h>

#define K_NAME "avx512"
#define K_TABLE d2l_k_table_avx512
#define K_VL 16
#define K_FMA 1
#define K_GEMM_ROWS 12
#define K_GEMM_COLS 32
#define K_GEMM_DEPTH 512
#define K_GEMM_SUB_ROWS 12
#define K_GEMM_SUB_VECS 2
#define K_GEMV_VECS 4
#define K_DOT_ROWS 4
#define K_DOT_COLS 6
#define K_PANEL_COLS 12
#define K_PANEL_SUB_VECS 2
#define K_PANEL_GROUP 2

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma,f16c"))), apply_to = function)
#include "template/variant.h"
#pragma clang attribute pop
#endif
