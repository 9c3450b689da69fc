/*
 * test_csv_fast.c — the quote-free fast path must agree with libcsv.
 *
 * Random inputs without quotes (spaces and tabs around fields, empty fields,
 * blank lines, CRLF/LF/CR, ragged rows) are read twice, once with the fast
 * path and once with every line through libcsv (csv_opts.no_fast_path), and
 * the fields, rows and infos must be identical.
 */
#include "testutil.h"

#include "core/buf.h"
#include "core/rng.h"
#include "data/csv.h"

#include <string.h>

struct capture {
    struct buf out;
};

static int c_header(void *ctx, size_t n, const char *const *names, struct ls_error *err)
{
    (void)err;
    struct capture *c = ctx;
    for (size_t i = 0; i < n; i++)
        buf_printf(&c->out, "H[%s]", names[i]);
    buf_putc(&c->out, '\n');
    return 0;
}

static int c_field(void *ctx, size_t col, const char *p, size_t len, struct ls_error *err)
{
    (void)err;
    struct capture *c = ctx;
    buf_printf(&c->out, "%zu[", col);
    buf_append(&c->out, p, len);
    buf_putc(&c->out, ']');
    return 0;
}

static int c_row(void *ctx, size_t nfields, struct ls_error *err)
{
    (void)err;
    struct capture *c = ctx;
    buf_printf(&c->out, "|%zu\n", nfields);
    return 0;
}

static char *read_with(const char *text, size_t len, int no_fast, struct csv_info *info, int *rc)
{
    struct capture c;
    buf_init(&c.out, 1 << 26);
    struct csv_sink sink = {&c, c_header, c_field, c_row};
    struct csv_opts o;
    csv_opts_default(&o);
    o.no_fast_path = no_fast;
    struct ls_error err;
    *rc = csv_read_mem(text, len, &o, &sink, info, &err);
    if (*rc)
        buf_printf(&c.out, "ERROR %d %s", *rc, err.msg);
    return buf_take(&c.out);
}

static void random_text(struct rng *r, struct buf *b, const char *eol, char delim)
{
    static const char *const words[] = {"a",  "Google", "42", "3.5",    "x y",    "",
                                        "  ", "\t",     "NA", "Select", "Müller", "-1"};
    size_t ncols = 1 + rng_below(r, 6), nrows = rng_below(r, 30);
    for (size_t row = 0; row <= nrows; row++) {
        if (row > 0 && rng_below(r, 10) == 0) { /* a blank line */
            buf_puts(b, rng_below(r, 2) ? "" : "   ");
            buf_puts(b, eol);
            continue;
        }
        size_t n = row == 0 ? ncols : 1 + rng_below(r, ncols + 1);
        for (size_t k = 0; k < n; k++) {
            if (k)
                buf_putc(b, delim);
            if (rng_below(r, 4) == 0)
                buf_puts(b, " ");
            buf_puts(b, row == 0 ? "col" : words[rng_below(r, sizeof words / sizeof words[0])]);
            if (row == 0)
                buf_printf(b, "%zu", k);
            if (rng_below(r, 4) == 0)
                buf_puts(b, rng_below(r, 2) ? " " : "\t");
        }
        if (row < nrows || rng_below(r, 2))
            buf_puts(b, eol);
    }
}

static void test_fast_path_matches_libcsv(void **state)
{
    (void)state;
    static const char *const eols[] = {"\n", "\r\n", "\r"};
    static const char delims[] = {',', ';', '\t', '|'};
    struct rng r;
    rng_seed(&r, 2024);
    for (int iter = 0; iter < 2000; iter++) {
        struct buf b;
        buf_init(&b, 1 << 20);
        char delim = delims[rng_below(&r, 4)];
        random_text(&r, &b, eols[rng_below(&r, 3)], delim);
        struct csv_info i1, i2;
        int rc1, rc2;
        char *fast = read_with(buf_str(&b), b.len, 0, &i1, &rc1);
        char *slow = read_with(buf_str(&b), b.len, 1, &i2, &rc2);
        if (strcmp(fast, slow) != 0)
            fail_msg("iteration %d differs for input:\n%s\nfast:\n%s\nlibcsv:\n%s", iter,
                     buf_str(&b), fast, slow);
        assert_int_equal(rc1, rc2);
        assert_int_equal(i1.rows, i2.rows);
        if (rc1 == 0 && i1.lines != i2.lines)
            fail_msg("iteration %d: lines %llu vs %llu for input [%s]", iter,
                     (unsigned long long)i1.lines, (unsigned long long)i2.lines, buf_str(&b));
        assert_int_equal(i1.short_rows, i2.short_rows);
        assert_int_equal(i1.trailing_empty_rows, i2.trailing_empty_rows);
        free(fast);
        free(slow);
        buf_cleanup(&b);
    }
}

static void test_fast_path_keeps_quoted_lines_for_libcsv(void **state)
{
    (void)state;
    const char *text = "a,b\nplain, trimmed \n\"quoted, with comma\",\"x\"\"y\"\nlast,\n";
    struct csv_info info;
    int rc;
    char *got = read_with(text, strlen(text), 0, &info, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, "H[a]H[b]\n0[plain]1[trimmed]|2\n0[quoted, with comma]1[x\"y]|2\n"
                             "0[last]1[]|2\n");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_matches_libcsv),
        cmocka_unit_test(test_fast_path_keeps_quoted_lines_for_libcsv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
