/*
 * dict.c — the per-column string interning table of dict.h.
 */
#include "data/dict.h"

#include "core/mem.h"

#include <string.h>

void dict_init(struct dict *d)
{
    memset(d, 0, sizeof *d);
}

void dict_cleanup(struct dict *d)
{
    free(d->slots);
    free(d->e);
    free(d->pool);
    memset(d, 0, sizeof *d);
}

static inline uint64_t ld64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t ld32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* 64x64 -> 128 multiply, folded: the mixing step of the wyhash family. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL

/*
 * Hash of a short key with no calls and no byte loop: keys of up to 16 bytes
 * (most cells) are read as two overlapping words. Follows the structure of
 * wyhash (Wang Yi): overlapping loads, 128-bit multiply-fold mixing.
 */
static inline uint32_t hash_inline(const char *s, size_t len)
{
    uint64_t a, b, seed = K0 ^ len;
    if (len <= 16) {
        if (len >= 8) {
            a = ld64(s);
            b = ld64(s + len - 8);
        } else if (len >= 4) {
            a = ld32(s);
            b = ld32(s + len - 4);
        } else if (len > 0) {
            a = ((uint64_t)(unsigned char)s[0] << 16) |
                ((uint64_t)(unsigned char)s[len >> 1] << 8) | (unsigned char)s[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = 0;
        for (; i + 16 < len; i += 16)
            seed = mum(ld64(s + i) ^ K1, ld64(s + i + 8) ^ seed);
        a = ld64(s + len - 16);
        b = ld64(s + len - 8);
    }
    return (uint32_t)mum(K1 ^ len, mum(a ^ K1, b ^ seed ^ K2));
}

uint32_t dict_hash(const char *s, size_t len)
{
    return hash_inline(s, len);
}

/* Equality of two keys of the same length, without a call for short ones. */
static inline int same_bytes(const char *a, const char *b, size_t len)
{
    if (len <= 16 && len >= 8)
        return ld64(a) == ld64(b) && ld64(a + len - 8) == ld64(b + len - 8);
    if (len < 8 && len >= 4)
        return ld32(a) == ld32(b) && ld32(a + len - 4) == ld32(b + len - 4);
    return memcmp(a, b, len) == 0;
}

static void dict_grow(struct dict *d)
{
    uint32_t nslots = d->mask ? (d->mask + 1) * 2 : 64;
    free(d->slots);
    d->slots = xcalloc(nslots, sizeof *d->slots);
    d->mask = nslots - 1;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t s = d->e[i].hash & d->mask;
        while (d->slots[s])
            s = (s + 1) & d->mask;
        d->slots[s] = i + 1;
    }
}

uint32_t dict_find(const struct dict *d, const char *s, size_t len)
{
    if (!d->mask)
        return UINT32_MAX;
    uint32_t h = dict_hash(s, len);
    for (uint32_t k = h & d->mask;; k = (k + 1) & d->mask) {
        uint32_t v = d->slots[k];
        if (!v)
            return UINT32_MAX;
        const struct dict_entry *e = &d->e[v - 1];
        if (e->hash == h && e->len == len && memcmp(d->pool + e->off, s, len) == 0)
            return v - 1;
    }
}

/* Store s as entry d->n (no lookup); shared by intern and append. */
static uint32_t dict_store(struct dict *d, const char *s, size_t len, uint32_t h)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->e = xreallocarray(d->e, d->cap, sizeof *d->e);
    }
    if (d->pool_len + len + 1 > d->pool_cap) {
        size_t cap = d->pool_cap ? d->pool_cap : 256;
        while (cap < d->pool_len + len + 1)
            cap *= 2;
        d->pool = xrealloc(d->pool, cap);
        d->pool_cap = cap;
    }
    memcpy(d->pool + d->pool_len, s, len);
    d->pool[d->pool_len + len] = '\0';
    struct dict_entry *e = &d->e[d->n];
    memset(e->head, 0, sizeof e->head);
    if (!d->raw)
        memcpy(e->head, s, len < sizeof e->head ? len : sizeof e->head);
    e->off = d->pool_len;
    e->len = (uint32_t)len;
    e->hash = h;
    e->count = 1;
    d->pool_len += len + 1;
    return d->n++;
}

uint32_t dict_append(struct dict *d, const char *s, size_t len)
{
    return dict_store(d, s, len, 0);
}

void dict_make_raw(struct dict *d)
{
    free(d->slots);
    d->slots = NULL;
    d->mask = 0;
    d->raw = 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static const char *trimmed(const struct dict *d, uint32_t i, size_t *len)
{
    const char *s = d->pool + d->e[i].off;
    size_t n = d->e[i].len;
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    *len = n;
    return s;
}

uint64_t dict_count_distinct(const struct dict *d, const uint8_t *skip)
{
    uint32_t n = d->n;
    if (n == 0)
        return 0;
    /* 1. hash every value; 2. partition by the hash's top bits so that each
     * partition's table fits in cache; 3. count distinct per partition. */
    uint32_t bits = 0;
    while (bits < 12 && ((uint64_t)n >> bits) > 2048)
        bits++;
    uint32_t nparts = 1u << bits;
    uint32_t *h = xmalloc(n * sizeof *h);
    uint32_t *order = xmalloc(n * sizeof *order);
    uint32_t *start = xcalloc(nparts + 1, sizeof *start);
    for (uint32_t i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        size_t len;
        const char *s = trimmed(d, i, &len);
        h[i] = dict_hash(s, len);
        start[(bits ? h[i] >> (32 - bits) : 0) + 1]++;
    }
    for (uint32_t p = 0; p < nparts; p++)
        start[p + 1] += start[p];
    uint32_t *fill = xmalloc(nparts * sizeof *fill);
    memcpy(fill, start, nparts * sizeof *fill);
    for (uint32_t i = 0; i < n; i++)
        if (!skip || !skip[i])
            order[fill[bits ? h[i] >> (32 - bits) : 0]++] = i;
    free(fill);
    uint64_t distinct = 0;
    uint32_t cap = 0;
    uint64_t *table = NULL; /* (hash << 32) | (entry + 1); 0 = empty */
    for (uint32_t p = 0; p < nparts; p++) {
        uint32_t m = start[p + 1] - start[p];
        uint32_t size = 16;
        while (size < 2 * m)
            size *= 2;
        if (size > cap) {
            free(table);
            table = xmalloc(size * sizeof *table);
            cap = size;
        }
        memset(table, 0, size * sizeof *table);
        for (uint32_t k = start[p]; k < start[p + 1]; k++) {
            uint32_t i = order[k];
            uint32_t slot = h[i] & (size - 1);
            for (;; slot = (slot + 1) & (size - 1)) {
                uint64_t v = table[slot];
                if (!v) {
                    table[slot] = ((uint64_t)h[i] << 32) | (i + 1);
                    distinct++;
                    break;
                }
                if ((uint32_t)(v >> 32) != h[i])
                    continue;
                size_t len, ol;
                const char *s = trimmed(d, i, &len);
                const char *o = trimmed(d, (uint32_t)v - 1, &ol);
                if (ol == len && memcmp(o, s, len) == 0)
                    break;
            }
        }
    }
    free(table);
    free(start);
    free(order);
    free(h);
    return distinct;
}

uint32_t dict_intern(struct dict *d, const char *s, size_t len)
{
    if (d->raw)
        return dict_append(d, s, len);
    if ((uint64_t)(d->n + 1) * 4 > (uint64_t)(d->mask + 1) * 3 || !d->mask)
        dict_grow(d);
    uint32_t h = hash_inline(s, len);
    uint32_t k = h & d->mask;
    for (;; k = (k + 1) & d->mask) {
        uint32_t v = d->slots[k];
        if (!v)
            break;
        struct dict_entry *e = &d->e[v - 1];
        if (e->hash == h && e->len == len &&
            (len <= sizeof e->head ? same_bytes(e->head, s, len)
                                   : same_bytes(d->pool + e->off, s, len))) {
            e->count++;
            return v - 1;
        }
    }
    uint32_t id = dict_store(d, s, len, h);
    d->slots[k] = id + 1;
    return id;
}
