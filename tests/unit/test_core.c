/*
 * test_core.c — errors, bounded buffers and the RNG of src/core.
 */
#include "testutil.h"

#include "core/buf.h"
#include "core/err.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_buf_ceiling),
        cmocka_unit_test(test_rng_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
