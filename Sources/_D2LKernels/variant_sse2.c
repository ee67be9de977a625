/* The SSE2 variant, the x86-64 baseline every such CPU runs: 4-lane vectors, no FMA
 * (multiply, then add), the 6 × 16 tile swept as two 6 × 8 halves (12 of the 16 xmm
 * registers accumulate), column-panel tiles of 16 rows × up to 3 columns. */
#if defined(__x86_64__)
#include <stddef.h>
#include <stdint.h>

#define K_NAME "sse2"
#define K_TABLE d2l_k_table_sse2
#define K_VL 4
#define K_FMA 0
#define K_GEMM_ROWS 6
#define K_GEMM_COLS 16
#define K_GEMM_DEPTH 256
#define K_GEMM_SUB_ROWS 6
#define K_GEMM_SUB_VECS 2
#define K_GEMV_VECS 8
#define K_DOT_ROWS 3
#define K_DOT_COLS 4
#define K_PANEL_COLS 3
#define K_PANEL_SUB_VECS 4
#define K_PANEL_GROUP 1

#include "template/variant.h"
#endif
