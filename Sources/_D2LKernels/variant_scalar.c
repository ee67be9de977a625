/* The scalar variant, built for every architecture: one lane, no explicit SIMD (what an
 * ARM board without NEON runs, and the portable path for a CPU this build has no vector
 * variant for). The 6 × 16 tile is swept in 3 × 4 blocks. */
#include <stddef.h>
#include <stdint.h>

#define K_NAME "scalar"
#define K_TABLE d2l_k_table_scalar
#define K_VL 1
#define K_FMA 0
#define K_GEMM_ROWS 6
#define K_GEMM_COLS 16
#define K_GEMM_DEPTH 256
#define K_GEMM_SUB_ROWS 3
#define K_GEMM_SUB_VECS 4
#define K_GEMV_VECS 8
#define K_DOT_ROWS 3
#define K_DOT_COLS 4
#define K_PANEL_COLS 3
#define K_PANEL_SUB_VECS 4
#define K_PANEL_GROUP 1

#include "template/variant.h"
