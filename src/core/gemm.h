/*
 * gemm.h — the core's private GEMM entry points (not part of the kernel-table
 * contract in kern.h; kern_avx2.c installs gemm_avx2 as the table's gemm).
 */
#ifndef DL_GEMM_H
#define DL_GEMM_H

/* C (M×N) = alpha·op(A)·op(B) + beta·C with AVX2+FMA, threaded for large
 * products; same meaning as kern_table.gemm (beta == 0 never reads C). */
void gemm_avx2(int tA, int tB, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc);

/* The same with AVX-512F (gemm_avx512.c); only call when kern_avx512() is not NULL. */
void gemm_avx512(int tA, int tB, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

/* kern_table.backward_step with AVX2+FMA, and with AVX-512F. */
void gemm_avx2_backward_step(int B, int n_out, int n_in, const float *D, int ldd, float *W, int ldw,
                             const float *A, int lda, float alpha, float decay, float *P, int ldp);
void gemm_avx512_backward_step(int B, int n_out, int n_in, const float *D, int ldd, float *W,
                               int ldw, const float *A, int lda, float alpha, float decay,
                               float *P, int ldp);

/* Nonzero (the default): both GEMMs pass by the depths at which a packed
 * sliver of one operand is all zero (sparse inputs such as MNIST's), and the
 * batch-1 dense kernels by the input's all-zero chunks (net_avx2.c), with the
 * same result bit for bit; 0: every depth. For the tests and the bench, which
 * compare the two; see depth_list in gemm_body.h. */
extern int gemm_skips_zeros;

#endif
