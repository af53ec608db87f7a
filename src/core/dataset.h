/*
 * dataset.h — the row operations a dataset needs: gathering rows and
 * columns, permutations, labels (checks, one-hot, counts) and statistics.
 *
 * Labels are 0-based class values stored as floats in N×1 matrices.
 * Messages count rows and positions from 1, as users do.
 */
#ifndef DL_DATASET_H
#define DL_DATASET_H

#include <stdint.h>

#include "mat.h"

/* dst row i = src row idx[i] (0-based) for i < n; dst is n × src.cols. */
dl_status dataset_gather_rows(mat dst, mat src, const int *idx, int n, char *msg,
                              size_t msglen);
/* dst column j = src column cols[j] (0-based); dst is src.rows × n. */
dl_status dataset_gather_cols(mat dst, mat src, const int *cols, int n, char *msg,
                              size_t msglen);
/* Permute the rows of m in place so that new row i is old row perm[i]
 * (perm is a permutation of 0..m.rows-1). Uses one row of scratch. */
dl_status dataset_permute_rows(mat m, const int *perm, char *msg, size_t msglen);
/* perm = a random permutation of 0..n-1 from seed (Fisher–Yates on rng.h). */
void dataset_permutation(int *perm, int n, uint64_t seed);

/* Check that y (N×1) holds whole-number labels in 0..2^24; *classes = largest
 * + 1 (0 when N is 0). */
dl_status dataset_check_labels(mat y, int *classes, char *msg, size_t msglen);
/* T (N×k) = one-hot rows of the labels y (N×1); DL_EINVAL when a label is
 * outside 0..k-1. */
dl_status dataset_onehot(mat T, mat y, char *msg, size_t msglen);
/* counts[c] = rows of y with label c, for c < k (labels outside are ignored). */
void dataset_label_counts(mat y, int k, int *counts);

/* Per-column mean and standard deviation (population) of X into the 1×d rows
 * mean and std; a std below min_std is replaced by 1 so the column maps to 0. */
dl_status dataset_column_stats(mat mean, mat std, mat X, float min_std, char *msg,
                               size_t msglen);
/* Mean and standard deviation of all elements of X. */
void dataset_global_stats(mat X, double *mean, double *std);
/* X = (X - mean) / std column by column; mean and std are 1×d. */
dl_status dataset_standardize(mat X, mat mean, mat std, char *msg, size_t msglen);
/* X = (X - mean) / std with one mean and std for every element. */
void dataset_standardize_all(mat X, float mean, float std);

#endif
