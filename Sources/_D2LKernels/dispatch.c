/* Which kernel variant runs: the best one the CPU supports, capped by D2L_KERNEL_ISA
 * (include/d2l_kernels.h). */
#include "include/d2l_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

extern const d2l_k_table d2l_k_table_scalar;
#if defined(__x86_64__)
extern const d2l_k_table d2l_k_table_sse2;
extern const d2l_k_table d2l_k_table_avx2;
extern const d2l_k_table d2l_k_table_avx512;
#endif
#if defined(__aarch64__) || (defined(__arm__) && defined(D2L_K_ARM_NEON))
#define HAVE_NEON_VARIANT 1
extern const d2l_k_table d2l_k_table_neon;
#endif
#if defined(__arm__) && defined(D2L_K_ARM_NEON)
#define HAVE_NEON_VFPV3_VARIANT 1
extern const d2l_k_table d2l_k_table_neon_vfpv3;
#endif

/** This architecture's variants, best first. */
static const d2l_k_table *const variants[] = {
#if defined(__x86_64__)
    &d2l_k_table_avx512,
    &d2l_k_table_avx2,
    &d2l_k_table_sse2,
#endif
#if HAVE_NEON_VARIANT
    &d2l_k_table_neon,
#endif
#if HAVE_NEON_VFPV3_VARIANT
    &d2l_k_table_neon_vfpv3,
#endif
    &d2l_k_table_scalar,
};
#define VARIANT_COUNT (sizeof variants / sizeof variants[0])

static const char *const variant_names[] = {
#if defined(__x86_64__)
    "avx512",
    "avx2",
    "sse2",
#endif
#if HAVE_NEON_VARIANT
    "neon",
#endif
#if HAVE_NEON_VFPV3_VARIANT
    "neon-vfpv3",
#endif
    "scalar",
};

#if defined(__x86_64__)
/** XCR0: which register states the OS saves on a context switch. */
static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

/** Whether this CPU (and its OS) runs variant `t`. */
static int cpu_runs(const d2l_k_table *t) {
    if (t == &d2l_k_table_scalar) return 1;
#if defined(__x86_64__)
    if (t == &d2l_k_table_sse2) return 1; /* the x86-64 baseline */
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!osxsave || !avx || !fma) return 0;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1;
    if (t == &d2l_k_table_avx2) return avx2;
    if (t == &d2l_k_table_avx512) return avx2 && avx512f && (xcr0 & 0xE0) == 0xE0; /* opmask, ZMM */
#endif
#if defined(__aarch64__)
    if (t == &d2l_k_table_neon) return 1; /* Advanced SIMD is part of AArch64 */
#elif HAVE_NEON_VARIANT
    /* armv7: NEON is optional, and its fused multiply-add comes with VFPv4. */
#if defined(__linux__)
    unsigned long hwcap = getauxval(AT_HWCAP);
    int neon = (hwcap & (1UL << 12)) != 0, vfpv4 = (hwcap & (1UL << 16)) != 0; /* HWCAP_NEON, HWCAP_VFPv4 */
#else
    int neon = 0, vfpv4 = 0;
#endif
    if (t == &d2l_k_table_neon) return neon && vfpv4;
#if HAVE_NEON_VFPV3_VARIANT
    if (t == &d2l_k_table_neon_vfpv3) return neon;
#endif
#endif
    return 0;
}

/** The best variant at or below `cap` in the list (all when cap is NULL or unknown). */
static const d2l_k_table *best_variant(const char *cap) {
    size_t start = 0;
    if (cap) {
        for (size_t i = 0; i < VARIANT_COUNT; i++)
            if (strcmp(variants[i]->name, cap) == 0) { start = i; break; }
    }
    for (size_t i = start; i < VARIANT_COUNT; i++)
        if (cpu_runs(variants[i])) return variants[i];
    return &d2l_k_table_scalar;
}

static const d2l_k_table *active_table;

const d2l_k_table *d2l_k_active(void) {
    const d2l_k_table *t = __atomic_load_n(&active_table, __ATOMIC_ACQUIRE);
    if (t) return t;
    /* Every thread that gets here computes the same table; the first store wins. */
    const char *cap = getenv("D2L_KERNEL_ISA");
    t = best_variant(cap && cap[0] ? cap : NULL);
    const d2l_k_table *expected = NULL;
    if (!__atomic_compare_exchange_n(&active_table, &expected, t, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expected;
    return t;
}

const d2l_k_table *d2l_k_table_named(const char *name) {
    for (size_t i = 0; i < VARIANT_COUNT; i++)
        if (strcmp(variants[i]->name, name) == 0) return cpu_runs(variants[i]) ? variants[i] : NULL;
    return NULL;
}

int d2l_k_select(const char *name) {
    const d2l_k_table *t = d2l_k_table_named(name);
    if (!t) return 0;
    __atomic_store_n(&active_table, t, __ATOMIC_RELEASE);
    return 1;
}

const char *const *d2l_k_variant_names(size_t *out_count) {
    *out_count = VARIANT_COUNT;
    return variant_names;
}
