/*
 * check.h — the C tests' harness: a test is a function; CHECK records a
 * failure with file and line and goes on; main() runs them and prints the
 * summary line the driver sums, "N passed, N failed".
 *
 *   static void test_add(void) { CHECK(1 + 1 == 2); CHECK_NEAR(x, 0.5, 1e-6); }
 *   int main(void) { RUN(test_add); return check_summary(); }
 */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures_in_test, check_passed, check_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures_in_test++;                                        \
        }                                                                    \
    } while (0)

/* |got − want| <= tol, printing both values when it is not. */
#define CHECK_NEAR(got, want, tol)                                           \
    do {                                                                     \
        double g_ = (got), w_ = (want), t_ = (tol);                         \
        if (!(fabs(g_ - w_) <= t_)) {                                        \
            printf("  %s:%d: %s = %.9g, expected %.9g (tol %.3g)\n",          \
                   __FILE__, __LINE__, #got, g_, w_, t_);                    \
            check_failures_in_test++;                                        \
        }                                                                    \
    } while (0)

#define RUN(fn)                                                              \
    do {                                                                     \
        check_failures_in_test = 0;                                          \
        fn();                                                                \
        if (check_failures_in_test) {                                        \
            printf("not ok - %s\n", #fn);                                    \
            check_failed++;                                                  \
        } else {                                                             \
            printf("ok - %s\n", #fn);                                        \
            check_passed++;                                                  \
        }                                                                    \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
