/*
 * test_core.c — errors, bounded buffers and the RNG of src/core.
 */
#include "testutil.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/rng.h"

#include <string.h>

static void test_error_table(void **state)
{
    (void)state;
    assert_string_equal(ls_err_name(LS_OK), "success");
    assert_string_equal(ls_err_name(LS_ELIMIT), "limit exceeded");
    assert_string_equal(ls_err_symbol(LS_ENO_TARGET), "NO_TARGET");
    assert_int_equal(ls_err_http_status(LS_ELIMIT), 413);
    assert_int_equal(ls_err_http_status(LS_ENOT_FOUND), 404);
    assert_string_equal(ls_err_name(12345), "unknown error");
    struct ls_error e;
    assert_int_equal(ls_error_set(&e, LS_EINPUT, "line %d", 7), LS_EINPUT);
    assert_string_equal(e.msg, "line 7");
    assert_int_equal(e.code, LS_EINPUT);
}

static void test_buf_ceiling(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "hello"), LS_OK);
    assert_int_equal(buf_printf(&b, "%d", 12345), LS_OK);
    assert_string_equal(buf_str(&b), "hello12345");
    assert_int_equal(buf_putc(&b, 'x'), LS_ELIMIT);
    assert_string_equal(buf_str(&b), "hello12345"); /* unchanged on failure */
    char *s = buf_take(&b);
    assert_string_equal(s, "hello12345");
    free(s);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
}

static void test_rng_streams(void **state)
{
    (void)state;
    struct rng a, b, c;
    rng_seed2(&a, 7, 3);
    rng_seed2(&b, 7, 3);
    rng_seed2(&c, 7, 4);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);
        same &= x == y;
        differ += x != z;
    }
    assert_true(same);
    assert_true(differ > 95);
    struct rng r;
    rng_seed(&r, 1);
    uint64_t hist[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t k = rng_below(&r, 10);
        assert_true(k < 10);
        hist[k]++;
    }
    for (int k = 0; k < 10; k++)
        assert_true(hist[k] > 9000 && hist[k] < 11000);
}

/* buf_vprintf through a caller's own variadic function, as callers use it. */
static int my_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int my_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static void test_buf_printf_growth(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1000);
    char line[201];
    memset(line, 'a', 200);
    line[200] = '\0';
    /* the first allocation is 64 bytes: one append far past it */
    assert_int_equal(my_printf(&b, "%s|%d", line, 42), LS_OK);
    assert_int_equal(b.len, 203);
    assert_true(b.cap > b.len);
    assert_int_equal(strncmp(buf_str(&b), line, 200), 0);
    assert_string_equal(buf_str(&b) + 200, "|42");
    /* several growths in a row keep what was there */
    for (int i = 0; i < 3; i++)
        assert_int_equal(my_printf(&b, "%0*d", 200, i), LS_OK);
    assert_int_equal(b.len, 803);
    assert_int_equal(strlen(buf_str(&b)), 803);
    assert_string_equal(buf_str(&b) + 803 - 3, "002");
    assert_int_equal(buf_str(&b)[603], '0');
    /* up to the ceiling exactly, then nothing more */
    assert_int_equal(my_printf(&b, "%.*s", 197, line), LS_OK);
    assert_int_equal(b.len, 1000);
    assert_int_equal(my_printf(&b, "%s", ""), LS_OK);
    assert_int_equal(my_printf(&b, "%d", 7), LS_ELIMIT);
    assert_int_equal(b.len, 1000);
    assert_int_equal(strlen(buf_str(&b)), 1000);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_non_null(b.data); /* reset keeps the allocation */
    buf_cleanup(&b);
    assert_null(b.data);

    struct buf e;
    buf_init(&e, 8);
    char *t = buf_take(&e); /* an empty buffer still hands over a string */
    assert_non_null(t);
    assert_string_equal(t, "");
    free(t);
    buf_cleanup(&e);
}

static void test_xstrndup(void **state)
{
    (void)state;
    char *a = xstrndup("hello world", 5);
    assert_string_equal(a, "hello");
    free(a);
    char *z = xstrndup("abc", 0);
    assert_string_equal(z, "");
    free(z);
    /* n bytes exactly, from a buffer with no terminator (ASan checks the read) */
    char raw[3] = {'x', 'y', 'z'};
    char *r = xstrndup(raw, sizeof raw);
    assert_int_equal(strlen(r), 3);
    assert_memory_equal(r, "xyz", 4);
    raw[0] = 'Q'; /* a copy, not a view */
    assert_int_equal(r[0], 'x');
    free(r);
    char *d = xstrdup("copy me");
    assert_string_equal(d, "copy me");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table), cmocka_unit_test(test_buf_ceiling),
        cmocka_unit_test(test_rng_streams), cmocka_unit_test(test_buf_printf_growth),
        cmocka_unit_test(test_xstrndup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
