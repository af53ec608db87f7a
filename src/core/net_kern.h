/*
 * net_kern.h — the one-sample dense-layer kernels net.c uses (private to the
 * core): plain-loop references in net.c, AVX2+FMA twins in net_avx2.c with
 * the same signatures and meaning. See net_avx2.c for why they exist.
 */
#ifndef DL_NET_KERN_H
#define DL_NET_KERN_H

/* z[j] = W[j]·a + b[j], j < n_out; W is n_out × n_in, contiguous rows. */
void net_dense_forward_ref(float *z, const float *W, const float *a, const float *b,
                           int n_out, int n_in);
void net_dense_forward_avx2(float *z, const float *W, const float *a, const float *b,
                            int n_out, int n_in);

/* dW[j] = δ[j]·a for every row j; when update != 0 also, in the same pass,
 * W[j] ← decay·W[j] − lr·dW[j]. */
void net_dense_grad_step_ref(float *W, float *dW, const float *delta, const float *a,
                             int n_out, int n_in, float lr, float decay, int update);
void net_dense_grad_step_avx2(float *W, float *dW, const float *delta, const float *a,
                              int n_out, int n_in, float lr, float decay, int update);

#endif
