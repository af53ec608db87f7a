/*
 * toy.h — seeded toy datasets. X has one sample per row; y (N×1) gets
 * 0-based labels. Rows come grouped by class; every draw comes from rng.h
 * seeded with seed, so a seed gives the same set on every machine.
 */
#ifndef DL_TOY_H
#define DL_TOY_H

#include <stdint.h>

#include "mat.h"

/* n points at the corners of the unit square plus N(0, noise²) noise, label
 * (x xor y); X is n×2. */
dl_status toy_xor(mat X, mat y, float noise, uint64_t seed, char *msg, size_t msglen);
/* Interleaved spirals: X is n×2, classes arms, noise on the angle. */
dl_status toy_spirals(mat X, mat y, int classes, float noise, uint64_t seed, char *msg,
                      size_t msglen);
/* Two interleaving half circles (make_moons): X is n×2. */
dl_status toy_moons(mat X, mat y, float noise, uint64_t seed, char *msg, size_t msglen);
/* Gaussian blobs around the rows of C (k×dim), or, when draw_centers, around
 * k centres first drawn uniformly in [-box, box]^dim into C. X is n×dim. */
dl_status toy_blobs(mat X, mat y, mat C, int draw_centers, float box, float spread,
                    uint64_t seed, char *msg, size_t msglen);
/* Linear regression: X (n×dim) uniform in [-1, 1], Y (n×1) = X·w + b +
 * noise·N(0, 1); w is dim×1, first drawn N(0, 1) when draw_w. */
dl_status toy_linear(mat X, mat Y, mat w, int draw_w, float b, float noise, uint64_t seed,
                     char *msg, size_t msglen);

#endif
