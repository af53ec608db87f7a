/*
 * vmath_avx2.h — vectorised exp, log, tanh, sigmoid, softplus on 8 floats.
 * Included only by *_avx2.c files (it needs -mavx2 -mfma).
 *
 * Each follows the Cephes single-precision algorithm: reduce the argument to a
 * small interval, evaluate a minimax polynomial there, undo the reduction. The
 * error bounds, measured by tests/core/test_vmath.c against double libm over
 * a dense sweep (DELTALAB_SWEEP_STRIDE=7: every 7th float bit pattern in the
 * range, ~1.3·10^8 inputs per sign, plus the special values), are in ulps of
 * the float result. "bound" is what the test asserts, "max" what it measured.
 *
 *   v_exp       max 1.24 ulp (bound 1.5) for x in [-110, 100]. Results in
 *               the denormal range (x < -87.34) are measured in units of
 *               their spacing 2^-149, same bound. x > 88.72 gives +inf,
 *               x < -103.98 gives 0, NaN gives NaN.
 *   v_log       max 0.82 ulp (bound 1.0) over all positive floats, denormals
 *               included; log 0 = -inf, log +inf = +inf, x < 0 or NaN → NaN.
 *   v_tanh      max 1.35 ulp (bound 2.0); ±1 for |x| > 9.1; NaN → NaN.
 *   v_sigmoid   max 2.49 ulp (bound 3.0), denormal tail as for exp; NaN → NaN.
 *   v_softplus  max 3.22 ulp (bound 4.0); NaN → NaN.
 */
#ifndef DL_VMATH_AVX2_H
#define DL_VMATH_AVX2_H

#include <immintrin.h>

static inline __m256 v_set(float x) { return _mm256_set1_ps(x); }

/* Lanes of x that are NaN. */
static inline __m256 v_isnan(__m256 x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }

static inline __m256 v_abs(__m256 x)
{
    return _mm256_andnot_ps(v_set(-0.0f), x);
}

/* e^x. Reduction x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split in two so n·ln2 is
 * exact; e^r by a degree-6 polynomial; 2^n applied as two factors 2^(n/2) so
 * results in the denormal range come out right instead of flushing to zero. */
static inline __m256 v_exp(__m256 x)
{
    /* Clamp first: 89 already overflows to +inf through the scaling, -104
     * already underflows to 0. max/min return the 2nd operand for NaN, so NaN
     * lanes become -104 here and are put back at the end. */
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, v_set(-104.0f)), v_set(89.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, v_set(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, v_set(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, v_set(-2.12194440e-4f), r);
    __m256 p = v_set(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, v_set(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, v_set(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, v_set(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, v_set(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, v_set(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, v_set(1.0f)));
    __m256i ni = _mm256_cvtps_epi32(n);                  /* -150 .. 128 */
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(y, x, v_isnan(x));
}

/* log x. x = m·2^e with m in [√½, √2); log m = log1p(m − 1) by a degree-9
 * polynomial; e·ln2 added in two parts. Denormal x is first scaled by 2^23. */
static inline __m256 v_log(__m256 x)
{
    __m256 tiny = _mm256_cmp_ps(x, v_set(1.17549435e-38f), _CMP_LT_OQ);
    __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, v_set(8388608.0f)), tiny);
    __m256i bits = _mm256_castps_si256(xs);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
    e = _mm256_sub_ps(e, _mm256_and_ps(tiny, v_set(23.0f)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
    /* m in [0.5, 1): fold [0.5, √½) up to [1, √2) by doubling. */
    __m256 low = _mm256_cmp_ps(m, v_set(0.707106781186547524f), _CMP_LT_OQ);
    e = _mm256_sub_ps(e, _mm256_and_ps(low, v_set(1.0f)));
    m = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(low, m)), v_set(1.0f));
    __m256 z = _mm256_mul_ps(m, m);
    __m256 p = v_set(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, m, v_set(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, m, v_set(3.3333331174e-1f));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
    y = _mm256_fmadd_ps(e, v_set(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(v_set(0.5f), z, y);
    y = _mm256_add_ps(m, y);
    y = _mm256_fmadd_ps(e, v_set(0.693359375f), y);
    /* Special inputs: 0 → -inf, +inf → +inf, negative or NaN → NaN. */
    y = _mm256_blendv_ps(y, v_set(-__builtin_inff()), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, v_set(__builtin_inff()), _CMP_EQ_OQ));
    return _mm256_blendv_ps(y, v_set(__builtin_nanf("")),
                            _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));
}

/* tanh x: an odd degree-9 polynomial for |x| < 0.625, where 1 − 2/(e^2x + 1)
 * would cancel; that formula (on |x|, sign put back) above it. */
static inline __m256 v_tanh(__m256 x)
{
    __m256 ax = v_abs(x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = v_set(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, v_set(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, v_set(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, v_set(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, v_set(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = v_exp(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_sub_ps(v_set(1.0f), _mm256_div_ps(v_set(2.0f), _mm256_add_ps(e, v_set(1.0f))));
    big = _mm256_or_ps(big, _mm256_and_ps(x, v_set(-0.0f)));
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, v_set(0.625f), _CMP_LT_OQ));
}

/* σ(z) = 1/(1 + e^−z) for z ≥ 0 and e^z/(1 + e^z) for z < 0: e^−|z| never
 * overflows, and the small tail keeps its relative accuracy. */
static inline __m256 v_sigmoid(__m256 z)
{
    __m256 e = v_exp(_mm256_xor_ps(v_abs(z), v_set(-0.0f)));
    __m256 num = _mm256_blendv_ps(v_set(1.0f), e, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ));
    return _mm256_div_ps(num, _mm256_add_ps(v_set(1.0f), e));
}

/* log(1 + u) for u ≥ 0, accurate for tiny u: log(w)·u/(w − 1) with w = 1 + u
 * corrects the rounding of w (Goldberg); u itself when w rounds to 1. */
static inline __m256 v_log1p_pos(__m256 u)
{
    __m256 w = _mm256_add_ps(v_set(1.0f), u);
    __m256 d = _mm256_sub_ps(w, v_set(1.0f));
    __m256 r = _mm256_div_ps(_mm256_mul_ps(v_log(w), u), d);
    return _mm256_blendv_ps(r, u, _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_EQ_OQ));
}

/* softplus(z) = max(z, 0) + log1p(e^−|z|). */
static inline __m256 v_softplus(__m256 z)
{
    __m256 e = v_exp(_mm256_xor_ps(v_abs(z), v_set(-0.0f)));
    __m256 y = _mm256_add_ps(_mm256_max_ps(z, _mm256_setzero_ps()), v_log1p_pos(e));
    return _mm256_blendv_ps(y, z, v_isnan(z));
}

#endif
