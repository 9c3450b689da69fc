/*
 * sort.c — LSD radix sorts of sort.h: 11-bit digits, six passes at most.
 */
#include "core/sort.h"

#include "core/mem.h"

#include <string.h>

#define BITS    11
#define BUCKETS (1u << BITS)
#define PASSES  6 /* 6 x 11 >= 64 */

static double key_to_double(uint64_t k)
{
    union {
        uint64_t u;
        double d;
    } c;
    c.u = (k >> 63) ? (k & 0x7FFFFFFFFFFFFFFFULL) : ~k;
    return c.d;
}

/* Radix sort of keys (and vals when not NULL); tmp buffers given. */
static void radix(uint64_t *k, uint32_t *v, size_t n, uint64_t *kt, uint32_t *vt)
{
    size_t *count = xcalloc((size_t)PASSES * BUCKETS, sizeof *count);
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < PASSES; p++)
            count[(size_t)p * BUCKETS + ((k[i] >> (p * BITS)) & (BUCKETS - 1))]++;
    for (int p = 0; p < PASSES; p++) {
        size_t *c = count + (size_t)p * BUCKETS;
        /* a pass where every key has the same digit changes nothing */
        if (c[(k[0] >> (p * BITS)) & (BUCKETS - 1)] == n)
            continue;
        size_t sum = 0;
        for (unsigned b = 0; b < BUCKETS; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = c[(k[i] >> (p * BITS)) & (BUCKETS - 1)]++;
            kt[at] = k[i];
            if (v)
                vt[at] = v[i];
        }
        memcpy(k, kt, n * sizeof *k);
        if (v)
            memcpy(v, vt, n * sizeof *v);
    }
    free(count);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sort_doubles(double *v, size_t n)
{
    if (n < 4096) {
        qsort(v, n, sizeof *v, cmp_double);
        return;
    }
    uint64_t *k = xmalloc(n * sizeof *k), *kt = xmalloc(n * sizeof *kt);
    for (size_t i = 0; i < n; i++)
        k[i] = sort_key_of(v[i]);
    radix(k, NULL, n, kt, NULL);
    for (size_t i = 0; i < n; i++)
        v[i] = key_to_double(k[i]);
    free(k);
    free(kt);
}

void sort_keys_vals(uint64_t *keys, uint32_t *vals, size_t n)
{
    if (n < 2)
        return;
    uint64_t *kt = xmalloc(n * sizeof *kt);
    uint32_t *vt = xmalloc(n * sizeof *vt);
    radix(keys, vals, n, kt, vt);
    free(kt);
    free(vt);
}
