/*
 * test_rng.c — the generator's documented first values, and the statistics of
 * its uniforms and normals.
 *
 * The expected values were computed by an independent implementation of the
 * published algorithms (splitmix64 seeding, xoshiro256** by Blackman & Vigna,
 * Box–Muller on 1 − u1 and u2) in Python's arbitrary-precision integers; they
 * are the sequence every machine must produce for these seeds.
 */
#include "check.h"
#include "rng.h"

#include <stdint.h>

static void test_first_values_seed_0(void)
{
    rng r;
    rng_seed(&r, 0);
    CHECK(rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
    CHECK(rng_next(&r) == 0xbf6e1f784956452aULL);
    CHECK(rng_next(&r) == 0x1a5f849d4933e6e0ULL);
    CHECK(rng_next(&r) == 0x6aa594f1262d2d2cULL);
}

static void test_first_values_seed_42(void)
{
    rng r;
    rng_seed(&r, 42);
    CHECK(rng_next(&r) == 0x15780b2e0c2ec716ULL);
    CHECK(rng_next(&r) == 0x6104d9866d113a7eULL);
    CHECK(rng_next(&r) == 0xae17533239e499a1ULL);
    CHECK(rng_next(&r) == 0xecb8ad4703b360a1ULL);
    rng_seed(&r, 42);
    CHECK_NEAR(rng_uniform(&r), 0.08386297105988216, 0);
    CHECK_NEAR(rng_uniform(&r), 0.3789802506626686, 0);
    /* The first two normals come from those two uniforms (cos, then sin);
     * 1e-15 allows libm's last-bit differences in log/sin/cos. */
    rng_seed(&r, 42);
    CHECK_NEAR(rng_normal(&r), -0.303263064678738, 1e-15);
    CHECK_NEAR(rng_normal(&r), 0.28846173882942383, 1e-15);
}

/* 10^6 normals: the sample mean has standard error 1/√n = 0.001 and the
 * sample variance √(2/n) ≈ 0.0014; we allow 5 standard errors. Skewness 0 and
 * kurtosis 3 likewise (standard errors √(6/n) and √(24/n)). Fixed seed, so
 * this is deterministic, not flaky. */
static void test_normal_moments(void)
{
    rng r;
    rng_seed(&r, 2024);
    const int n = 1000000;
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&r);
        s1 += x; s2 += x * x; s3 += x * x * x; s4 += x * x * x * x;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    CHECK_NEAR(mean, 0, 5 * 0.001);
    CHECK_NEAR(var, 1, 5 * 0.0014);
    CHECK_NEAR(s3 / n, 0, 5 * 0.0025);
    CHECK_NEAR(s4 / n, 3, 5 * 0.005);
}

/* Uniforms in [0, 1): mean 1/2, variance 1/12 (standard errors 0.0003 and
 * 0.0003 at n = 10^6); rng_below hits every residue about equally. */
static void test_uniform_and_below(void)
{
    rng r;
    rng_seed(&r, 7);
    const int n = 1000000;
    double s1 = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        s1 += u; s2 += u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    CHECK(lo >= 0 && hi < 1);
    CHECK_NEAR(s1 / n, 0.5, 5 * 0.0003);
    CHECK_NEAR(s2 / n - (s1 / n) * (s1 / n), 1.0 / 12, 5 * 0.0003);
    int count[10] = { 0 };
    for (int i = 0; i < 100000; i++) count[rng_below(&r, 10)]++;
    for (int k = 0; k < 10; k++) CHECK_NEAR(count[k], 10000, 5 * 95);  /* binomial sd √(n·p·q) ≈ 95 */
    CHECK(rng_below(&r, 1) == 0);
}

/* A shuffle is a permutation, and the same seed gives the same one. */
static void test_shuffle(void)
{
    rng r, q;
    rng_seed(&r, 3);
    rng_seed(&q, 3);
    int a[50], b[50], seen[50] = { 0 };
    for (int i = 0; i < 50; i++) a[i] = b[i] = i;
    rng_shuffle(&r, a, 50);
    rng_shuffle(&q, b, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[a[i]]++;
        CHECK(a[i] == b[i]);
        moved += a[i] != i;
    }
    for (int i = 0; i < 50; i++) CHECK(seen[i] == 1);
    CHECK(moved > 25);
}

int main(void)
{
    RUN(test_first_values_seed_0);
    RUN(test_first_values_seed_42);
    RUN(test_normal_moments);
    RUN(test_uniform_and_below);
    RUN(test_shuffle);
    return check_summary();
}
