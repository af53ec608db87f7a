/* kern.c — choosing the kernel table once, by CPUID and DELTALAB_ISA. */
#include "kern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

const char *const dl_act_names[DL_ACT_COUNT + 1] = {
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step",
    "softmax", NULL
};

/* Built once by init_tables() under pthread_once, read-only afterwards. */
static kern_table ref_table, avx2_table;
static int avx2_ok;
static const kern_table *active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* AVX2 and FMA in CPUID, and YMM state enabled by the OS (XCR0 bits 1 and 2). */
static int cpu_has_avx2_fma(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx))
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 5) & 1;
#else
    return 0;
#endif
}

static void init_tables(void)
{
    kern_ref_fill(&ref_table);
    avx2_ok = cpu_has_avx2_fma();
    if (avx2_ok) {
        avx2_table = ref_table;
        kern_avx2_fill(&avx2_table);
    }
    active = avx2_ok ? &avx2_table : &ref_table;
    const char *want = getenv("DELTALAB_ISA");
    if (want && strcmp(want, "scalar") == 0)
        active = &ref_table;
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

int kern_use(const char *isa)
{
    pthread_once(&once, init_tables);
    if (strcmp(isa, "scalar") == 0) {
        active = &ref_table;
        return 0;
    }
    if (strcmp(isa, "avx2") == 0 && avx2_ok) {
        active = &avx2_table;
        return 0;
    }
    return -1;
}
