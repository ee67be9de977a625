/* The NEON variant: 4-lane vectors, a 6 × 16 register tile.
 * - aarch64, where Advanced SIMD with FMA is always present: 24 of the 32 q registers
 *   accumulate; column-panel tiles of 16 rows × up to 6 columns.
 * - armv7, where NEON is optional (Debian armhf's baseline has none) and clang honours no
 *   per-function NEON target: a cross build (tools/cross-build armv7) compiles this file
 *   alone with -mfpu=neon-vfpv4 (NEON with fused multiply-add, "neon"), its twin
 *   variant_neon_vfpv3.c with -mfpu=neon (NEON without it, "neon-vfpv3": Cortex-A8/A9),
 *   and dispatch.c with -DD2L_K_ARM_NEON; AT_HWCAP then decides at run time. Without
 *   those flags an armv7 build has the scalar variant only. */
#if defined(__aarch64__) || (defined(__arm__) && defined(__ARM_NEON))
#include <stddef.h>
#include <stdint.h>

#ifndef K_NAME
#define K_NAME "neon"
#define K_TABLE d2l_k_table_neon
#endif
#define K_VL 4
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define K_FMA 1
#else
#define K_FMA 0
#endif
#define K_GEMM_ROWS 6
#define K_GEMM_COLS 16
#define K_GEMM_DEPTH 256
#define K_GEMM_SUB_ROWS 6
#if defined(__aarch64__)
#define K_GEMM_SUB_VECS 4
#else
#define K_GEMM_SUB_VECS 2 /* armv7 has 16 q registers: the tile as two 6 × 8 halves */
#endif
#define K_GEMV_VECS 8
#define K_DOT_ROWS 3
#define K_DOT_COLS 4
#if defined(__aarch64__)
#define K_PANEL_COLS 6
#else
#define K_PANEL_COLS 3
#endif
#define K_PANEL_SUB_VECS 4
#define K_PANEL_GROUP 1

#include "template/variant.h"
#endif
