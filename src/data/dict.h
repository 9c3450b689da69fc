/*
 * dict.h — string interning for one column.
 *
 * Ingest stores every cell as a 32-bit code into its column's dictionary of
 * distinct raw strings. Repeated values (the norm in lead data: sources,
 * countries, Yes/No) are then typed, parsed and counted once per distinct
 * value instead of once per cell, and the distinct count falls out for free.
 * Open addressing with linear probing; entries keep their hash so probes
 * rarely touch the string pool.
 *
 * A column whose values are nearly all distinct (ids, e-mails, timestamps)
 * gains nothing from interning and pays a cache miss per cell in a table
 * larger than the cache. Such a dictionary is switched to raw mode
 * (dict_make_raw): cells are appended as entries of their own, without
 * hashing, and distinct values are counted once at the end with a
 * cache-friendly partitioned pass (dict_count_distinct).
 */
#ifndef LS_DATA_DICT_H
#define LS_DATA_DICT_H

#include <stddef.h>
#include <stdint.h>

struct dict_entry {
    size_t off; /* into pool; the string is NUL-terminated there */
    uint32_t len;
    uint32_t hash;
    uint64_t count; /* how many cells hold this value */
    char head[16];  /* the first 16 bytes (zero-padded): short keys compare here */
};

struct dict {
    uint32_t *slots; /* entry index + 1; 0 = empty */
    uint32_t mask;
    struct dict_entry *e;
    uint32_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
    int raw; /* entries may repeat; slots are gone (see above) */
};

void dict_init(struct dict *d);
void dict_cleanup(struct dict *d);
/* The index of s[0..len), adding it if new; counts one more occurrence. */
uint32_t dict_intern(struct dict *d, const char *s, size_t len);
/* Append s[0..len) as a new entry without looking for it (raw mode). */
uint32_t dict_append(struct dict *d, const char *s, size_t len);
/* Switch to raw mode: drop the hash slots; later cells use dict_append. */
void dict_make_raw(struct dict *d);
/*
 * Exact number of distinct values among the entries whose skip[i] is 0 (skip
 * may be NULL), comparing the values with surrounding whitespace trimmed.
 * Works in either mode; in O(n) expected time with cache-sized partitions.
 */
uint64_t dict_count_distinct(const struct dict *d, const uint8_t *skip);
/* The index of s, or UINT32_MAX when absent (does not count; not in raw mode). */
uint32_t dict_find(const struct dict *d, const char *s, size_t len);
static inline const char *dict_str(const struct dict *d, uint32_t i)
{
    return d->pool + d->e[i].off;
}
/* The hash dict uses, exposed for callers that group values themselves. */
uint32_t dict_hash(const char *s, size_t len);

#endif
