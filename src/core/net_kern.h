/*
 * net_kern.h — the core's private entry points of the batch-1 dense-layer
 * kernels in net_avx2.c (like gemm.h: kern_avx2.c installs them as the
 * table's dense_forward, dense_grad_step and dense_step_forward; kern.h
 * states their meaning, kern_ref.c holds the reference twins).
 */
#ifndef DL_NET_KERN_H
#define DL_NET_KERN_H

/* kern_table.dense_forward with AVX2+FMA: z[j] = W[j]·a + b[j]. */
void net_dense_forward_avx2(float *z, const float *W, const float *a, const float *b,
                            int n_out, int n_in);
/* kern_table.dense_grad_step with AVX2+FMA: dW = δ·aᵀ, fused with the update. */
void net_dense_grad_step_avx2(float *W, float *dW, const float *delta, const float *a,
                              int n_out, int n_in, float lr, float decay, int update);
/* kern_table.dense_momentum_step with AVX2+FMA (the AVX-512 table's too). */
void net_dense_momentum_step_avx2(float *W, float *V, const float *delta, const float *a,
                                  int n_out, int n_in, float lr, float mu, float decay);
/* kern_table.dense_step_forward with AVX2+FMA: the deferred rank-1 update of
 * W and z = W·a + b in one pass over W. */
void net_dense_step_forward_avx2(float *z, float *W, const float *a, const float *b,
                                 int n_out, int n_in, const float *d_old, const float *a_old,
                                 float lr, float decay);

#endif
