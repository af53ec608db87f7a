/* test_kern.c — first checks of the kernel table (grown by the core issue). */
#include "check.h"
#include "mat.h"

/* 2×3 · 3×2 worked by hand: [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]]
 * = [[58, 64], [139, 154]]. */
static void test_gemm_by_hand(void)
{
    float a[] = { 1, 2, 3, 4, 5, 6 }, b[] = { 7, 8, 9, 10, 11, 12 }, c[4];
    CHECK(mat_gemm(mat_wrap(c, 2, 2), 1, mat_wrap(a, 2, 3), 0, mat_wrap(b, 3, 2), 0, 0) == DL_OK);
    CHECK_NEAR(c[0], 58, 0); CHECK_NEAR(c[1], 64, 0);
    CHECK_NEAR(c[2], 139, 0); CHECK_NEAR(c[3], 154, 0);
    CHECK(mat_gemm(mat_wrap(c, 2, 2), 1, mat_wrap(a, 2, 3), 0, mat_wrap(b, 2, 3), 0, 0) == DL_ESHAPE);
}

static void test_axpy_avx2_matches_reference(void)
{
    const kern_table *ref = kern_reference(), *fast = kern_avx2();
    if (!fast) return;
    float x[19], y1[19], y2[19];
    for (int i = 0; i < 19; i++) { x[i] = i * 0.5f - 3; y1[i] = y2[i] = 1.0f / (i + 1); }
    ref->axpy(y1, 0.25f, x, 19);
    fast->axpy(y2, 0.25f, x, 19);
    for (int i = 0; i < 19; i++) CHECK_NEAR(y1[i], y2[i], 1e-6);
}

int main(void)
{
    RUN(test_gemm_by_hand);
    RUN(test_axpy_avx2_matches_reference);
    return check_summary();
}
