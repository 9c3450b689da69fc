/*
 * buf.h — a growable byte buffer with a ceiling.
 *
 * Like curl's dynbuf: every buffer is created with the largest size it may
 * ever reach, and an append that would pass it fails with LS_ELIMIT instead
 * of growing without bound. The data is always NUL-terminated so it can be
 * handed to C string functions.
 */
#ifndef LS_CORE_BUF_H
#define LS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* the ceiling on len */
};

/* Initialise caller-owned memory; max is the largest len allowed. */
void buf_init(struct buf *b, size_t max);
/* Free the data; the struct may be re-initialised afterwards. */
void buf_cleanup(struct buf *b);
/* Drop the content but keep the allocation. */
void buf_reset(struct buf *b);
/* Append n bytes; LS_ELIMIT when len would pass max (b is unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hand the data to the caller (who frees it) and reset b to empty. */
char *buf_take(struct buf *b);
/* The content as a C string ("" when empty); owned by b. */
const char *buf_str(const struct buf *b);

#endif
