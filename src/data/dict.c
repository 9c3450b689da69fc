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

/* A word-at-a-time multiply-mix hash; good enough spread for short keys. */
uint32_t dict_hash(const char *s, size_t len)
{
    const uint64_t m = 0x9E3779B97F4A7C15ULL;
    uint64_t h = 0x243F6A8885A308D3ULL ^ (len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, s + i, len - i);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (uint32_t)h;
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

uint32_t dict_intern(struct dict *d, const char *s, size_t len)
{
    if ((uint64_t)(d->n + 1) * 4 > (uint64_t)(d->mask + 1) * 3 || !d->mask)
        dict_grow(d);
    uint32_t h = dict_hash(s, len);
    uint32_t k = h & d->mask;
    for (;; k = (k + 1) & d->mask) {
        uint32_t v = d->slots[k];
        if (!v)
            break;
        struct dict_entry *e = &d->e[v - 1];
        if (e->hash == h && e->len == len && memcmp(d->pool + e->off, s, len) == 0) {
            e->count++;
            return v - 1;
        }
    }
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
    e->off = d->pool_len;
    e->len = (uint32_t)len;
    e->hash = h;
    e->count = 1;
    d->pool_len += len + 1;
    d->slots[k] = ++d->n;
    return d->n - 1;
}
