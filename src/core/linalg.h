/*
 * linalg.h — small dense linear algebra for the regression experiments (E7):
 * solving square systems, least squares, inverses.
 *
 * Inputs and outputs are the core's fp32 mats; the work is done in double on
 * private copies, so the float inputs are never modified and the answers are
 * as accurate as fp32 storage allows. Sizes are meant for the prompt (up to a
 * few thousand); nothing here is blocked for cache. A system without a unique
 * solution returns DL_ESINGULAR: the pivot or the R diagonal is at or below
 * n·ε·(largest entry), i.e. zero to working precision.
 */
#ifndef DL_LINALG_H
#define DL_LINALG_H

#include "mat.h"

/* X = A⁻¹B for square A (n×n), B and X n×k, by LU with partial pivoting.
 * X may be B. DL_ESHAPE, DL_ESINGULAR, DL_ENOMEM. */
dl_status linalg_solve(mat X, mat A, mat B);
/* X = A⁻¹ for square A; X may be A. */
dl_status linalg_inv(mat X, mat A);
/* Least squares for A (m×n), B (m×k), X (n×k): with m >= n the X minimising
 * ‖AX − B‖, by Householder QR; with m < n the minimum-norm X solving AX = B,
 * by QR of Aᵀ. DL_ESINGULAR when A does not have full rank min(m, n). */
dl_status linalg_lstsq(mat X, mat A, mat B);

#endif
