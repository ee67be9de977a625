/* The armv7 NEON variant without fused multiply-add ("neon-vfpv3"), for NEON boards
 * whose FPU is VFPv3 (Cortex-A8, Cortex-A9): variant_neon.c compiled with -mfpu=neon
 * (tools/cross-build armv7), so v_madd is a multiply and an add. Empty everywhere else,
 * and on armv7 without those flags. */
#if defined(__arm__) && defined(__ARM_NEON) && !defined(__ARM_FEATURE_FMA)
#define K_NAME "neon-vfpv3"
#define K_TABLE d2l_k_table_neon_vfpv3
#include "variant_neon.c"
#endif
