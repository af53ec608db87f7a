/*
 * avx2_util.h — lane masks and horizontal reductions shared by the AVX2
 * kernels. Included only by *_avx2.c files (it needs -mavx2 -mfma).
 */
#ifndef DL_AVX2_UTIL_H
#define DL_AVX2_UTIL_H

#include <immintrin.h>
#include <stddef.h>

/* A mask enabling the first r lanes (0 <= r <= 8), for maskload/maskstore of
 * a vector's last r elements: 8 ones then 8 zeros, read from r lanes before
 * the boundary. */
static inline __m256i tail_mask(size_t r)
{
    static const int mask_src[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
    return _mm256_loadu_si256((const __m256i *)(mask_src + 8 - r));
}

/* The sum of v's 8 lanes, in float. */
static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The sum of v's 4 double lanes. */
static inline double hsum_pd(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* The largest of v's 8 lanes. */
static inline float hmax(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

#endif
