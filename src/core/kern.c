/* kern.c — choosing the kernel table once, by CPUID, XGETBV and DELTALAB_ISA. */
#include "kern.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

const char *const dl_act_names[DL_ACT_COUNT + 1] = {
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step",
    "softmax", NULL
};

/* Built once by init_tables() under pthread_once, read-only afterwards
 * (kern_use may switch `active` between them). */
static kern_table ref_table, avx2_table, avx512_table;
static int avx2_ok, avx512_ok;
static const kern_table *active;
static char note[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
/* XCR0: which register states the OS saves on a context switch. */
static unsigned xcr0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return lo;
}
#endif

/* AVX2 and FMA in CPUID, and YMM state enabled by the OS (XCR0 bits 1 and 2). */
static int cpu_has_avx2_fma(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx) || (xcr0() & 6) != 6)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 5) & 1;
#else
    return 0;
#endif
}

/* AVX-512 F, DQ, BW and VL in CPUID (leaf 7: EBX bits 16, 17, 30, 31), and
 * the OS saving opmask and zmm state (XCR0 bits 5, 6, 7, with 1 and 2). */
static int cpu_has_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!cpu_has_avx2_fma() || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    unsigned need = 1u << 16 | 1u << 17 | 1u << 30 | 1u << 31;
    return (b & need) == need && (xcr0() & 0xe6) == 0xe6;
#else
    return 0;
#endif
}

/* The table named isa, or NULL when unknown or not runnable here. */
static const kern_table *table_named(const char *isa)
{
    if (strcmp(isa, "scalar") == 0)
        return &ref_table;
    if (strcmp(isa, "avx2") == 0)
        return avx2_ok ? &avx2_table : NULL;
    if (strcmp(isa, "avx512") == 0)
        return avx512_ok ? &avx512_table : NULL;
    return NULL;
}

static void init_tables(void)
{
    kern_ref_fill(&ref_table);
    avx2_ok = cpu_has_avx2_fma();
    if (avx2_ok) {
        avx2_table = ref_table;
        kern_avx2_fill(&avx2_table);
    }
    avx512_ok = avx2_ok && cpu_has_avx512();
    if (avx512_ok) {
        avx512_table = avx2_table;
        kern_avx512_fill(&avx512_table);
    }
    /* AVX-512 is the default wherever it runs. Even on Zen 4, whose 512-bit
     * FMA is two 256-bit halves (the same peak as AVX2), the AVX-512 set took
     * about 10 % less CPU time per E2 training step than the AVX2 one, in
     * every one of five alternating runs (doc/core.md, "Choosing the
     * kernels"): its 14×32 tile needs fewer loads and broadcasts per FMA and
     * a batch of 32 fills its tile exactly. */
    active = avx512_ok ? &avx512_table : avx2_ok ? &avx2_table : &ref_table;
    const char *want = getenv("DELTALAB_ISA");
    if (!want || !*want)
        return;
    const kern_table *t = table_named(want);
    if (t)
        active = t;
    else if (strcmp(want, "avx2") == 0 || strcmp(want, "avx512") == 0)
        snprintf(note, sizeof note, "DELTALAB_ISA=%s: this CPU (or its OS) cannot run the %s "
                 "kernels; using %s", want, want, active->isa);
    else
        snprintf(note, sizeof note, "DELTALAB_ISA=%.40s is not one of scalar, avx2, avx512; "
                 "using %s", want, active->isa);
}

const kern_table *kern(void)
{
    pthread_once(&once, init_tables);
    return active;
}

const kern_table *kern_reference(void)
{
    pthread_once(&once, init_tables);
    return &ref_table;
}

const kern_table *kern_avx2(void)
{
    pthread_once(&once, init_tables);
    return avx2_ok ? &avx2_table : NULL;
}

const kern_table *kern_avx512(void)
{
    pthread_once(&once, init_tables);
    return avx512_ok ? &avx512_table : NULL;
}

const char *kern_isa_note(void)
{
    pthread_once(&once, init_tables);
    return note[0] ? note : NULL;
}

int kern_use(const char *isa)
{
    pthread_once(&once, init_tables);
    const kern_table *t = table_named(isa);
    if (!t)
        return -1;
    active = t;
    return 0;
}
