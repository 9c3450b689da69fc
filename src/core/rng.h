/*
 * rng.h — a small, fast, seedable random number generator.
 *
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64, so any
 * 64-bit seed (including 0) gives a well-mixed state. Streams are derived
 * from (seed, index) with rng_seed2 so that, e.g., tree i of a forest gets
 * the same numbers whatever thread grows it.
 */
#ifndef LS_CORE_RNG_H
#define LS_CORE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
/* A stream for (seed, index), independent of every other index. */
void rng_seed2(struct rng *r, uint64_t seed, uint64_t index);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal (Box–Muller). */
double rng_normal(struct rng *r);

#endif
