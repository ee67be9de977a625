/* The NEON variant (aarch64, where Advanced SIMD with FMA is always present): 4-lane
 * vectors, a 6 × 16 register tile (24 of the 32 q registers accumulate), column-panel
 * tiles of 16 rows × up to 6 columns. */
#if defined(__aarch64__)
#include <stddef.h>
#include <stdint.h>

#define K_NAME "neon"
#define K_TABLE d2l_k_table_neon
#define K_VL 4
#define K_FMA 1
#define K_GEMM_ROWS 6
#define K_GEMM_COLS 16
#define K_GEMM_DEPTH 256
#define K_GEMM_SUB_ROWS 6
#define K_GEMM_SUB_VECS 4
#define K_GEMV_VECS 8
#define K_DOT_ROWS 3
#define K_DOT_COLS 4
#define K_PANEL_COLS 6
#define K_PANEL_SUB_VECS 4
#define K_PANEL_GROUP 1

#include "template/variant.h"
#endif
