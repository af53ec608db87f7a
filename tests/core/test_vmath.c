/*
 * test_vmath.c — the vectorised exp, log, tanh, sigmoid, softplus of the AVX2
 * table, swept densely against double-precision libm, in ulps of the result.
 *
 * The sweep walks the float bit patterns of each range with a fixed odd stride
 * (so every exponent and many mantissas are hit, ~4·10^6 inputs per function
 * and sign), then adds the special values: ±0, ±denormals, ±FLT_MAX, ±inf,
 * NaN, and the edges of overflow and underflow. The bounds asserted are the
 * ones written in src/core/vmath_avx2.h; the measured maxima are printed.
 */
#include "check.h"
#include "kern.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* |got − want| in units of the spacing of floats at want (2^-149 for
 * denormals); 0 when both are the same infinity or both NaN. */
static double ulp_err(float got, double want)
{
    if (isnan(want))
        return isnan(got) ? 0 : INFINITY;
    float wf = (float)want;
    if (isinf(wf) || isinf(got))
        return got == wf ? 0 : INFINITY;
    int e;
    frexp(want, &e);
    double u = ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
    return fabs((double)got - want) / u;
}

static float from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t to_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

typedef double ref_fn(double);
static double sigmoid_d(double z) { return 1 / (1 + exp(-z)); }
static double softplus_d(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

/* The next inputs of a sweep over the bit patterns *u .. end taken every
 * `stride` patterns: up to cap of them into x; returns how many. */
static size_t sweep_inputs(float *x, size_t cap, uint64_t *u, uint64_t end, uint32_t stride)
{
    size_t n = 0;
    for (; *u <= end && n < cap; *u += stride) x[n++] = from_bits((uint32_t)*u);
    return n;
}

static const float specials[] = {
    0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, 1.17549435e-38f, -1.17549435e-38f,
    FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN, -NAN, 1.0f, -1.0f, 0.625f, -0.625f,
    88.72283f, 88.7228394f, 88.72284f, 89.0f, 100.0f, -87.33654f, -87.4f, -100.0f,
    -103.97208f, -103.98f, -104.0f, -110.0f, 9.0f, 9.1f, 10.0f, -9.1f, 1e-8f, -1e-8f,
};

/* Max ulp error of fast (a kernel applied to the inputs) against ref, over x;
 * counts failures beyond bound (with `where` saying which input). */
static double worst(const float *x, float *y, size_t n, ref_fn *ref, double bound,
                    const char *name)
{
    double w = 0;
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], ref((double)x[i]));
        if (e > w) w = e;
        if (!(e <= bound) && shown++ < 3)
            printf("  %s(%.9g) = %.9g, want %.9g (%.3g ulp > %.3g)\n", name, x[i], y[i],
                   ref((double)x[i]), e, bound);
    }
    return w;
}

#define CAP (1u << 22)
static float *X, *Y;

static void apply(int which, float *y, const float *x, size_t n)
{
    const kern_table *t = kern_avx2();
    switch (which) {
    case 0: t->exp(y, x, n); break;
    case 1: t->log(y, x, n); break;
    case 2: t->tanh(y, x, n); break;
    case 3: t->act(DL_SIGMOID, y, x, n); break;
    default: t->act(DL_SOFTPLUS, y, x, n); break;
    }
}

/* Sweep [lo, hi] (one sign) and the specials through kernel `which` of the
 * AVX2 table, in chunks; returns the largest error seen. */
static double run_sweep(const char *name, int which, float lo, float hi, ref_fn *ref, double bound)
{
    /* DELTALAB_SWEEP_STRIDE=7 gives the denser sweep doc/core.md quotes (slow). */
    const char *st = getenv("DELTALAB_SWEEP_STRIDE");
    uint32_t stride = st && atoi(st) > 0 ? (uint32_t)atoi(st) : 499;
    uint64_t u = to_bits(fabsf(lo) < fabsf(hi) ? lo : hi), end = to_bits(fabsf(lo) < fabsf(hi) ? hi : lo);
    double w = 0;
    size_t total = 0, n;
    do {
        n = sweep_inputs(X, CAP - 64, &u, end, stride);
        if (u > end) {  /* last chunk: the range's end and the specials */
            X[n++] = from_bits((uint32_t)end);
            for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
                float s = specials[i];
                if ((s >= lo && s <= hi) || isnan(s) || isinf(s)) X[n++] = s;
            }
        }
        apply(which, Y, X, n);
        double c = worst(X, Y, n, ref, bound, name);
        if (c > w) w = c;
        total += n;
    } while (u <= end);
    printf("  %-8s [%g, %g]: %zu inputs, max error %.3f ulp (bound %.1f)\n", name, lo, hi, total, w, bound);
    return w;
}

static void test_exp_sweep(void)
{
    /* Normal results: 1.5 ulp. Denormal results: 1.5 units of 2^-149 (same measure). */
    CHECK(run_sweep("exp", 0, -110.0f, -1e-30f, exp, 1.5) <= 1.5);
    CHECK(run_sweep("exp", 0, 1e-30f, 100.0f, exp, 1.5) <= 1.5);
}

static void test_log_sweep(void)
{
    CHECK(run_sweep("log", 1, 1e-45f, FLT_MAX, log, 1.0) <= 1.0);
    CHECK(run_sweep("log", 1, -FLT_MAX, -1e-45f, log, 0) == 0);  /* all NaN */
}

static void test_tanh_sweep(void)
{
    CHECK(run_sweep("tanh", 2, -20.0f, -1e-30f, tanh, 2.0) <= 2.0);
    CHECK(run_sweep("tanh", 2, 1e-30f, 20.0f, tanh, 2.0) <= 2.0);
}

static void test_sigmoid_sweep(void)
{
    CHECK(run_sweep("sigmoid", 3, -110.0f, -1e-30f, sigmoid_d, 3.0) <= 3.0);
    CHECK(run_sweep("sigmoid", 3, 1e-30f, 110.0f, sigmoid_d, 3.0) <= 3.0);
}

static void test_softplus_sweep(void)
{
    CHECK(run_sweep("softplus", 4, -110.0f, -1e-30f, softplus_d, 4.0) <= 4.0);
    CHECK(run_sweep("softplus", 4, 1e-30f, 110.0f, softplus_d, 4.0) <= 4.0);
}

int main(void)
{
    if (!kern_avx2()) {
        printf("no AVX2+FMA here: nothing to sweep\n0 passed, 0 failed\n");
        return 0;
    }
    X = malloc(CAP * sizeof *X);
    Y = malloc(CAP * sizeof *Y);
    RUN(test_exp_sweep);
    RUN(test_log_sweep);
    RUN(test_tanh_sweep);
    RUN(test_sigmoid_sweep);
    RUN(test_softplus_sweep);
    free(X);
    free(Y);
    return check_summary();
}
