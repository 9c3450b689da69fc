/*
 * sha256.h — SHA-256 fingerprints (OpenSSL EVP underneath).
 *
 * A file's fingerprint names an upload (the same bytes are the same data
 * set) and, with the training options, keys the run cache. The streaming
 * form lets the HTTP upload hash the bytes as they arrive, so a 200 MB file
 * is never read twice.
 */
#ifndef LS_CORE_SHA256_H
#define LS_CORE_SHA256_H

#include "core/err.h"

#include <stddef.h>

#define SHA256_HEX 65 /* 64 hex digits + NUL */

struct sha256; /* opaque */

/* A new running hash (never NULL: out of memory aborts). */
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finish into hex (lowercase, NUL-terminated) and free h. */
void sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX]);
/* Free without finishing (accepts NULL). */
void sha256_free(struct sha256 *h);

/* The hash of p[0..n) as hex. */
void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX]);

/* The hash of a whole file as hex. Errors: LS_EIO (message names the file). */
int sha256_file_hex(const char *path, char hex[SHA256_HEX], struct ls_error *err);

#endif
