/*
 * sort.h — radix sorts for large arrays of doubles.
 *
 * qsort on a million doubles spends most of its time in comparator calls;
 * an LSD radix sort on order-preserving 64-bit keys does a few linear passes
 * instead (passes where every key has the same digit are skipped). Used for
 * quantile bins, distinct counts, AUC and calibration.
 */
#ifndef LS_CORE_SORT_H
#define LS_CORE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sort v[0..n) ascending (no NaN). */
void sort_doubles(double *v, size_t n);

/*
 * Sort keys[0..n) ascending, moving vals along (stable). A double d becomes
 * such a key with sort_key_of(d); its negation sorts descending.
 */
void sort_keys_vals(uint64_t *keys, uint32_t *vals, size_t n);

/* An unsigned key whose order is the order of the double d (no NaN). */
static inline uint64_t sort_key_of(double d)
{
    union {
        double d;
        uint64_t u;
    } c = {d};
    return (c.u >> 63) ? ~c.u : (c.u | 0x8000000000000000ULL);
}

#endif
