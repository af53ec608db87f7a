/*
 * rng.h — deltalab's own random numbers: xoshiro256** seeded by splitmix64,
 * normals by Box–Muller. Pure integer arithmetic and IEEE double maths, so a
 * seed gives the same sequence on every machine and compiler.
 */
#ifndef DL_RNG_H
#define DL_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];      /* xoshiro256** state, never all zero */
    double spare;       /* second Box–Muller normal, valid if has_spare */
    int has_spare;
} rng;

/* Seed the generator (any 64-bit value, 0 included). */
void rng_seed(rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(rng *r);
/* Uniform double in [0, 1), 53 random bits. */
double rng_uniform(rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t rng_below(rng *r, uint64_t n);
/* Standard normal N(0, 1). */
double rng_normal(rng *r);
/* Shuffle idx[0..n-1] in place (Fisher–Yates). */
void rng_shuffle(rng *r, int *idx, int n);

#endif
