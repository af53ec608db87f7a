/*
 * kern_avx2.c — AVX2+FMA kernels. The only file compiled with -mavx2 -mfma;
 * nothing here runs unless kern.c found AVX2, FMA and OS YMM support.
 * Each entry keeps the signature and the meaning of its reference twin.
 */
#include "kern.h"
#include "gemm.h"

#include <immintrin.h>

static void avx2_axpy(float *y, float a, const float *x, size_t n)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i),
                                                _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

void kern_avx2_fill(kern_table *t)
{
    t->isa = "avx2";
    t->axpy = avx2_axpy;
    t->gemm = gemm_avx2;
}
