/*
 * test_csv.c — the CSV reader: encodings, delimiters, quoting, line ends, limits, errors.
 */
#include "testutil.h"

#include "data/csv.h"
#include "data/frame.h"

#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- a sink that keeps everything it is given --------------------------- */

#define MAXC 16
#define MAXR 64

struct grab {
    size_t ncols;
    char *names[MAXC];
    size_t nrows;
    size_t nfields[MAXR];
    char *cells[MAXR][MAXC];
    size_t field_calls;
};

static int g_header(void *ctx, size_t ncols, const char *const *names, struct ls_error *err)
{
    (void)err;
    struct grab *g = ctx;
    g->ncols = ncols;
    for (size_t i = 0; i < ncols && i < MAXC; i++)
        g->names[i] = strdup(names[i]);
    return 0;
}

static int g_field(void *ctx, size_t col, const char *p, size_t len, struct ls_error *err)
{
    (void)err;
    struct grab *g = ctx;
    g->field_calls++;
    assert_true(col < g->ncols);
    if (g->nrows < MAXR && col < MAXC) {
        free(g->cells[g->nrows][col]);
        g->cells[g->nrows][col] = strndup(p, len);
    }
    return 0;
}

static int g_row(void *ctx, size_t nfields, struct ls_error *err)
{
    (void)err;
    struct grab *g = ctx;
    assert_true(nfields <= g->ncols);
    if (g->nrows < MAXR)
        g->nfields[g->nrows] = nfields;
    g->nrows++;
    return 0;
}

static void grab_free(struct grab *g)
{
    for (size_t i = 0; i < MAXC; i++)
        free(g->names[i]);
    for (size_t r = 0; r < MAXR; r++)
        for (size_t c = 0; c < MAXC; c++)
            free(g->cells[r][c]);
    memset(g, 0, sizeof *g);
}

/* Read text with opts (NULL: defaults) into g; returns the code, err filled. */
static int grab_read(const void *data, size_t len, const struct csv_opts *opts, struct grab *g,
                     struct csv_info *info, struct ls_error *err)
{
    struct csv_opts def;
    if (!opts) {
        csv_opts_default(&def);
        opts = &def;
    }
    memset(g, 0, sizeof *g);
    struct csv_sink sink = {g, g_header, g_field, g_row};
    ls_error_clear(err);
    return csv_read_mem(data, len, opts, &sink, info, err);
}

static int grab_str(const char *text, struct grab *g, struct csv_info *info, struct ls_error *err)
{
    return grab_read(text, strlen(text), NULL, g, info, err);
}

/* Read that must succeed. */
static void grab_ok(const char *text, struct grab *g, struct csv_info *info)
{
    struct ls_error err;
    int rc = grab_str(text, g, info, &err);
    if (rc)
        fail_msg("csv_read_mem failed (%d): %s", rc, err.msg);
}

static const char *cell(const struct grab *g, size_t r, size_t c)
{
    assert_true(r < g->nrows && r < MAXR && c < MAXC);
    return g->cells[r][c] ? g->cells[r][c] : "(absent)";
}

/* An error with a code, a message, and each of the given fragments in the message. */
static void expect_error(int rc, const struct ls_error *err, int want, const char *frag1,
                         const char *frag2)
{
    if (rc != want)
        fail_msg("code %d, want %d (message: '%s')", rc, want, err->msg);
    assert_int_equal(err->code, want);
    assert_true(err->msg[0] != '\0');
    if (frag1 && !strstr(err->msg, frag1))
        fail_msg("message '%s' does not contain '%s'", err->msg, frag1);
    if (frag2 && !strstr(err->msg, frag2))
        fail_msg("message '%s' does not contain '%s'", err->msg, frag2);
}

static int frame_err(const void *data, size_t len, const struct frame_opts *o, char *msg)
{
    msg[0] = '\0';
    return tu_frame_error(data, len, o, msg, 512);
}

/* A fixture read into a frame with default options; fails the test on error. */
static struct frame *read_fixture(const char *name)
{
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    int rc = frame_read_file(tu_fixture(name), &o, &f, &err);
    if (rc)
        fail_msg("%s: read failed (%d): %s", name, rc, err.msg);
    return f;
}

/* ---- delimiters ---------------------------------------------------------- */

static void test_semicolon_decimal_comma(void **state)
{
    (void)state;
    struct frame *f = read_fixture("semicolon_decimal_comma.csv");
    assert_int_equal(f->info.delimiter, ';');
    assert_int_equal(f->info.delimiter_sniffed, 1);
    assert_int_equal(f->info.decimal_comma, 1);
    assert_int_equal(f->ncols, 3);
    assert_int_equal(f->nrows, 4);
    const struct column *c = &f->cols[tu_col(f, "Amount")];
    assert_int_equal(c->type, COL_NUMERIC);
    assert_true(c->num[0] == 3.5);
    assert_true(c->num[2] == 1234.5);
    double mean = (3.5 + 1.5 + 1234.5 + 4) / 4;
    if (fabs(c->prof.mean - mean) > 1e-9)
        fail_msg("mean %.10g, want %.10g", c->prof.mean, mean);
    assert_string_equal(frame_cell(f, tu_col(f, "Amount"), 0), "3,5"); /* raw text kept */
    frame_free(f);
}

static void test_tab_and_pipe(void **state)
{
    (void)state;
    struct frame *f = read_fixture("tab_separated.tsv");
    assert_int_equal(f->info.delimiter, '\t');
    assert_int_equal(f->ncols, 3);
    assert_int_equal(f->nrows, 3);
    assert_string_equal(frame_cell(f, tu_col(f, "Source"), 2), "Google, Ads");
    assert_int_equal(f->cols[tu_col(f, "Score")].type, COL_NUMERIC);
    assert_true(f->cols[tu_col(f, "Score")].num[0] == 1.5);
    frame_free(f);

    struct grab g;
    struct csv_info info;
    grab_ok("a|b|c\n1|2,5|x\n4|5|y\n", &g, &info);
    assert_int_equal(info.delimiter, '|');
    assert_int_equal(g.ncols, 3);
    assert_string_equal(cell(&g, 0, 1), "2,5");
    grab_free(&g);

    /* commas inside values do not fool the sniffer */
    grab_ok("name;note\nA;x, y, z\nB;w\nC;v, u\n", &g, &info);
    assert_int_equal(info.delimiter, ';');
    assert_string_equal(cell(&g, 0, 1), "x, y, z");
    grab_free(&g);

    /* a given delimiter is used as is */
    struct csv_opts co;
    csv_opts_default(&co);
    co.delimiter = ';';
    struct ls_error e;
    const char *t = "a,b;c\n1,2;3\n";
    assert_int_equal(grab_read(t, strlen(t), &co, &g, &info, &e), 0);
    assert_int_equal(info.delimiter, ';');
    assert_int_equal(info.delimiter_sniffed, 0);
    assert_int_equal(g.ncols, 2);
    assert_string_equal(g.names[0], "a,b");
    assert_string_equal(cell(&g, 0, 1), "3");
    grab_free(&g);
}

/* ---- encodings ----------------------------------------------------------- */

/* UTF-8 text to UTF-16 bytes (through iconv), big or little endian, with a BOM or not. */
static size_t to_utf16(const char *s, unsigned char *out, size_t cap, int big, int bom)
{
    size_t n = 0;
    if (bom) {
        out[n++] = big ? 0xFE : 0xFF;
        out[n++] = big ? 0xFF : 0xFE;
    }
    iconv_t cd = iconv_open(big ? "UTF-16BE" : "UTF-16LE", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char *in = (char *)s, *o = (char *)out + n;
    size_t inleft = strlen(s), outleft = cap - n;
    assert_true(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
    iconv_close(cd);
    return cap - outleft;
}

static void test_utf16_le_bom_fixture(void **state)
{
    (void)state;
    struct frame *f = read_fixture("utf16le_bom.csv");
    assert_string_equal(f->info.encoding, "utf-16le (BOM)");
    assert_int_equal(f->ncols, 3);
    assert_string_equal(f->cols[0].name, "Name"); /* no BOM left in the first name */
    assert_int_equal(f->nrows, 3);
    assert_string_equal(frame_cell(f, 0, 0), "Müller");
    assert_string_equal(frame_cell(f, 0, 1), "Société");
    assert_string_equal(frame_cell(f, 0, 2), "Zoë");
    assert_true(f->cols[tu_col(f, "Score")].num[0] == 3.5);
    assert_int_equal(f->info.cp1252_lines, 0);
    frame_free(f);
}

static void test_utf16_generated(void **state)
{
    (void)state;
    const char *text = "Name,Emoji,Score\nMüller,😀,1\nSociété,ok,2\n";
    unsigned char buf[512];
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    static const struct {
        int big, bom;
        const char *enc;
    } cases[] = {
        {1, 1, "utf-16be (BOM)"}, {0, 1, "utf-16le (BOM)"}, {0, 0, "utf-16le"}, {1, 0, "utf-16be"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = to_utf16(text, buf, sizeof buf, cases[k].big, cases[k].bom);
        int rc = grab_read(buf, n, NULL, &g, &info, &err);
        if (rc)
            fail_msg("%s: read failed (%d): %s", cases[k].enc, rc, err.msg);
        assert_string_equal(info.encoding, cases[k].enc);
        assert_int_equal(g.ncols, 3);
        assert_string_equal(g.names[0], "Name");
        assert_int_equal(g.nrows, 2);
        assert_string_equal(cell(&g, 0, 0), "Müller");
        assert_string_equal(cell(&g, 0, 1), "😀");
        assert_string_equal(cell(&g, 1, 0), "Société");
        assert_string_equal(cell(&g, 1, 2), "2");
        grab_free(&g);
    }
}

static void test_windows_1252(void **state)
{
    (void)state;
    struct frame *f = read_fixture("cp1252.csv");
    assert_string_equal(frame_cell(f, 0, 0), "Müller");
    assert_string_equal(frame_cell(f, 1, 0), "Société");
    assert_string_equal(frame_cell(f, 2, 1), "€ 5"); /* 0x80 is the euro sign */
    assert_true(f->info.cp1252_lines > 0);
    assert_int_equal(f->info.cp1252_lines, 2);
    assert_string_equal(f->info.encoding, "windows-1252");
    frame_free(f);

    /* one UTF-8 line and one Windows-1252 line: each read as what it is */
    struct grab g;
    struct csv_info info;
    grab_ok("name,city\nZoë,Köln\nM\xfcller,Soci\xe9t\xe9\n", &g, &info);
    assert_string_equal(cell(&g, 0, 0), "Zoë");
    assert_string_equal(cell(&g, 0, 1), "Köln");
    assert_string_equal(cell(&g, 1, 0), "Müller");
    assert_string_equal(cell(&g, 1, 1), "Société");
    assert_int_equal(info.cp1252_lines, 1);
    assert_int_equal(info.utf8_lines, 1);
    assert_string_equal(info.encoding, "utf-8 + windows-1252");
    grab_free(&g);
}

static void test_utf8_bom(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    grab_ok("\xEF\xBB\xBFid,x\n1,2\n", &g, &info);
    assert_string_equal(g.names[0], "id");
    assert_string_equal(g.names[1], "x");
    assert_string_equal(info.encoding, "utf-8 (BOM)");
    grab_free(&g);
    struct frame *f = tu_frame_mem("\xEF\xBB\xBFProspect ID,x\n1,2\n");
    assert_true(frame_find(f, "Prospect ID") == 0);
    frame_free(f);
    grab_ok("id,x\n1,2\n", &g, &info);
    assert_string_equal(info.encoding, "utf-8");
    assert_string_equal(info.line_ending, "LF");
    grab_free(&g);
}

static void test_utf8_check(void **state)
{
    (void)state;
    /* clang-format off */
#define U8(lit, rc, na) {lit, sizeof(lit) - 1, rc, na}
    static const struct {
        const char *s;
        size_t n;
        int rc, na; /* na -1: not checked */
    } cases[] = {
        U8("plain ascii text, long enough to use the word path", 0, 0),
        U8("", 0, 0),
        U8("caf\xc3\xa9", 0, 1),                          /* 2 bytes, at the very end */
        U8("\xe2\x82\xac 5", 0, 1),                       /* 3 bytes: euro */
        U8("\xf0\x9f\x98\x80", 0, 1),                     /* 4 bytes, at the end */
        U8("\xf4\x8f\xbf\xbf", 0, 1),                     /* U+10FFFF, the last code point */
        U8("abcdefgh\xc3\xa9ijklmnop\xe2\x82\xac", 0, 1), /* with the word-at-a-time path */
        U8("\xed\x9f\xbf", 0, 1),                         /* U+D7FF, just below surrogates */
        U8("\xc0\xaf", 1, -1), U8("\xc1\xbf", 1, -1),                 /* overlong, 2 bytes */
        U8("\xe0\x80\xaf", 1, -1), U8("\xe0\x9f\xbf", 1, -1),         /* overlong, 3 bytes */
        U8("\xf0\x80\x80\xaf", 1, -1), U8("\xf0\x8f\xbf\xbf", 1, -1), /* overlong, 4 bytes */
        U8("\xed\xa0\x80", 1, -1), U8("\xed\xbf\xbf", 1, -1),         /* surrogates */
        U8("\xf4\x90\x80\x80", 1, -1), U8("\xf5\x80\x80\x80", 1, -1), /* above U+10FFFF */
        U8("\xff", 1, -1), U8("\x80", 1, -1), U8("M\xfcller", 1, -1), /* Windows-1252 */
        U8("caf\xc3", 1, -1), U8("\xe2\x82", 1, -1), U8("\xe2\x82x", 1, -1), /* truncated */
        U8("abc\0def", 2, -1), U8("abcdefghijklmn\0p", 2, -1), U8("\0", 2, -1), /* NUL */
    };
#undef U8
    /* clang-format on */
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int na = -1;
        int rc = csv_utf8_check((const unsigned char *)cases[k].s, cases[k].n, &na);
        if (rc != cases[k].rc || (cases[k].na >= 0 && na != cases[k].na))
            fail_msg("case %zu: csv_utf8_check = %d (non_ascii %d), want %d (%d)", k, rc, na,
                     cases[k].rc, cases[k].na);
    }
    assert_int_equal(csv_utf8_check((const unsigned char *)"\xc3\xa9", 2, NULL), 0);
}

/* ---- quoting and line ends ------------------------------------------------ */

static void test_quoted_fields(void **state)
{
    (void)state;
    const char *ok = "id,note,amount\n"
                     "1,\"hello, world\",10\n"
                     "2,\"line one\nline two\",20\n"
                     "3,\"she said \"\"hi\"\"\",30\n"
                     "4,\"a;b|c\tz\",40\n"
                     "5,\"\",50\n";
    struct grab g;
    struct csv_info info;
    grab_ok(ok, &g, &info);
    assert_int_equal(info.delimiter, ',');
    assert_int_equal(g.ncols, 3);
    assert_int_equal(g.nrows, 5);
    assert_int_equal(info.rows, 5);
    assert_int_equal(info.lines, 7);
    assert_string_equal(cell(&g, 0, 1), "hello, world");
    assert_string_equal(cell(&g, 1, 1), "line one\nline two");
    assert_string_equal(cell(&g, 2, 1), "she said \"hi\"");
    assert_string_equal(cell(&g, 3, 1), "a;b|c\tz");
    assert_string_equal(cell(&g, 4, 1), "");
    assert_string_equal(cell(&g, 4, 2), "50");
    grab_free(&g);

    /* an error after the embedded line break names the physical line */
    char bad[512];
    snprintf(bad, sizeof bad, "%s6,x,60,extra\n", ok);
    struct ls_error err;
    int rc = grab_str(bad, &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 8", NULL);
    grab_free(&g);

    /* a row that itself starts with a multi-line field is named by its first line */
    rc = grab_str("a,b\n1,2\n\"x\ny\nz\",2,3\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 3", NULL);
    grab_free(&g);
}

static void test_line_endings(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    grab_ok("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n", &g, &info);
    assert_string_equal(info.line_ending, "CRLF");
    assert_int_equal(g.nrows, 2);
    assert_string_equal(g.names[1], "b");
    assert_string_equal(cell(&g, 0, 1), "2"); /* no stray \r */
    assert_string_equal(cell(&g, 1, 1), "x\r\ny");
    grab_free(&g);

    grab_ok("a,b\r\"x\ry\",1\r3,4\r", &g, &info); /* a quoted CR stays in the value */
    assert_string_equal(cell(&g, 0, 0), "x\ry");
    grab_free(&g);
    grab_ok("a,b\r1,2\r3,4\r", &g, &info);
    assert_string_equal(info.line_ending, "CR");
    assert_int_equal(g.nrows, 2);
    assert_string_equal(cell(&g, 1, 0), "3");
    assert_string_equal(cell(&g, 1, 1), "4");
    grab_free(&g);

    /* error lines count CR and CRLF line ends */
    int rc = grab_str("a,b\r1,2\r3,4,5\r", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 3", NULL);
    grab_free(&g);
    rc = grab_str("a,b\r\n1,2\r\n3,4\r\n5,6,7\r\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 4", NULL);
    grab_free(&g);

    /* no line end after the last row; blank lines between rows */
    grab_ok("a,b\n1,2\n\n3,4", &g, &info);
    assert_int_equal(g.nrows, 2);
    assert_string_equal(cell(&g, 1, 1), "4");
    grab_free(&g);
    rc = grab_str("a,b\n\n\n1,2,3\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 4", NULL);
    grab_free(&g);
}

/* ---- empty and malformed input -------------------------------------------- */

static void test_empty_and_header_only(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    int rc = grab_read("", 0, NULL, &g, &info, &err);
    expect_error(rc, &err, LS_EEMPTY, "empty", NULL);
    grab_free(&g);
    rc = grab_str("\n\n\n", &g, &info, &err);
    expect_error(rc, &err, LS_EEMPTY, "header", NULL);
    grab_free(&g);

    char msg[512];
    rc = frame_err("", 0, NULL, msg);
    assert_int_equal(rc, LS_EEMPTY);
    assert_true(msg[0] != '\0');
    rc = frame_err("a,b,Converted\n", 14, NULL, msg);
    assert_int_equal(rc, LS_EEMPTY);
    if (!strstr(msg, "no data rows"))
        fail_msg("message '%s'", msg);
    rc = frame_err("a,b,Converted", 13, NULL, msg); /* no line end either */
    assert_int_equal(rc, LS_EEMPTY);
    assert_true(msg[0] != '\0');
    /* the reader itself accepts a header-only file: no rows */
    grab_ok("a,b\n", &g, &info);
    assert_int_equal(g.ncols, 2);
    assert_int_equal(g.nrows, 0);
    grab_free(&g);
}

static void test_binary_signatures(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    static const char zip[] = "PK\x03\x04\x14\x00\x06\x00rest of an xlsx";
    int rc = grab_read(zip, sizeof zip - 1, NULL, &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "ZIP", NULL);
    grab_free(&g);
    rc = grab_str("%PDF-1.7\n...", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "PDF", NULL);
    grab_free(&g);
    /* a NUL in the middle of an otherwise plain file */
    static const char nul[] = "a,b\n1,2\n3,\0\n";
    rc = grab_read(nul, sizeof nul - 1, NULL, &g, &info, &err);
    assert_true(rc < 0);
    assert_true(err.msg[0] != '\0');
    grab_free(&g);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    int rc = grab_str("a,b\n\"x\ny\",1\n2,\"oops\n3,4\n5,6\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 4, column 2: unterminated quoted field", NULL);
    grab_free(&g);
    rc = grab_str("a,b,c\n1,2,3\n\"never closed,2,3\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 3, column 1: unterminated quoted field", NULL);
    grab_free(&g);
    rc = grab_str("a,b,c\n1,2,\"x", &g, &info, &err); /* at the very end */
    expect_error(rc, &err, LS_EINPUT, "line 2, column 3: unterminated quoted field", NULL);
    grab_free(&g);
}

static void test_row_width(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    /* an extra non-empty field: an error naming the line */
    int rc = grab_str("a,b\n1,2\n3,4,5\n", &g, &info, &err);
    expect_error(rc, &err, LS_EINPUT, "line 3", "3 fields");
    grab_free(&g);

    /* extra empty trailing fields are dropped and counted */
    grab_ok("a,b\n1,2,\n3,4,,\n5,6\n7,8, \n", &g, &info);
    assert_int_equal(g.nrows, 4);
    assert_int_equal(info.trailing_empty_rows, 3);
    assert_int_equal(info.short_rows, 0);
    assert_string_equal(cell(&g, 1, 1), "4");
    assert_int_equal(g.nfields[1], 2);
    grab_free(&g);

    /* short rows are padded: the missing cells read as missing */
    grab_ok("a,b,c\n1,2\n3,4,5\n6\n", &g, &info);
    assert_int_equal(info.short_rows, 2);
    assert_int_equal(g.nfields[0], 2);
    assert_int_equal(g.nfields[2], 1);
    grab_free(&g);
    /* (test_frame.c checks that the padded cells read as missing) */
}

static void test_header_cleanup(void **state)
{
    (void)state;
    struct grab g;
    struct csv_info info;
    grab_ok(" Name ,,Name,\tScore\t,Score,\"\"\n1,2,3,4,5,6\n", &g, &info);
    assert_int_equal(g.ncols, 6);
    assert_string_equal(g.names[0], "Name");
    assert_string_equal(g.names[1], "column_2");
    assert_string_equal(g.names[2], "Name_2");
    assert_string_equal(g.names[3], "Score");
    assert_string_equal(g.names[4], "Score_2");
    assert_string_equal(g.names[5], "column_6");
    assert_int_equal(info.renamed_cols, 4);
    grab_free(&g);
    /* a suffix that is already taken moves on */
    grab_ok("a,a_2,a\n1,2,3\n", &g, &info);
    assert_string_equal(g.names[2], "a_3");
    assert_int_equal(info.renamed_cols, 1);
    grab_free(&g);
    /* a blank name whose column_N is taken: one column renamed, counted once */
    grab_ok("column_2,\n1,2\n", &g, &info);
    assert_string_equal(g.names[0], "column_2");
    assert_string_equal(g.names[1], "column_2_2");
    grab_free(&g);
    assert_int_equal(info.renamed_cols, 1);
}

/* ---- limits ---------------------------------------------------------------- */

/* A header of 2000 columns with long names: more than the sniffer's first 64 KB. */
static size_t wide_csv(char *b, size_t cap, char delim, const char *eol, int bad_last_row)
{
    size_t n = 0, ncols = 2000;
    for (size_t i = 0; i < ncols; i++)
        n += (size_t)snprintf(b + n, cap - n, "%sa_rather_long_column_name_number_%05zu",
                              i ? (char[]){delim, 0} : "", i);
    for (int r = 0; r < 2; r++) {
        n += (size_t)snprintf(b + n, cap - n, "%s", eol);
        for (size_t i = 0; i < ncols + (r == 1 && bad_last_row); i++)
            n += (size_t)snprintf(b + n, cap - n, "%s%d", i ? (char[]){delim, 0} : "", r);
    }
    n += (size_t)snprintf(b + n, cap - n, "%s", eol);
    return n;
}

static char wide_buf[200 * 1024]; /* static: a failing check leaks nothing */

static void test_wide_header_delimiter(void **state)
{
    (void)state;
    size_t cap = sizeof wide_buf;
    char *b = wide_buf;
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    static const char delims[] = {',', ';', '\t', '|'};
    for (size_t k = 0; k < sizeof delims; k++) {
        size_t n = wide_csv(b, cap, delims[k], "\n", 0);
        assert_true(n > 80 * 1024);
        int rc = frame_read_mem(b, n, &o, &f, &err);
        if (rc)
            fail_msg("delimiter %d, wide header: %d %s", delims[k], rc, err.msg);
        char delim = f->info.delimiter;
        size_t ncols = f->ncols;
        frame_free(f);
        assert_int_equal(delim, delims[k]);
        assert_int_equal(ncols, 2000);
    }
}

/* CR line ends after a first line longer than the sniffer's 64 KB. */
static void test_wide_header_cr(void **state)
{
    (void)state;
    size_t cap = sizeof wide_buf;
    char *b = wide_buf;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    size_t n = wide_csv(b, cap, ',', "\r", 0);
    int rc = grab_read(b, n, NULL, &g, &info, &err);
    grab_free(&g);
    if (rc)
        fail_msg("CR, wide header: %d %s", rc, err.msg);
    assert_string_equal(info.line_ending, "CR");
    assert_int_equal(info.lines, 3);
    assert_int_equal(info.rows, 2);
    n = wide_csv(b, cap, ',', "\r", 1);
    rc = grab_read(b, n, NULL, &g, &info, &err);
    grab_free(&g);
    expect_error(rc, &err, LS_EINPUT, "line 3", "2001 fields");
    /* CRLF after a long first line is reported as such */
    n = wide_csv(b, cap, ',', "\r\n", 0);
    rc = grab_read(b, n, NULL, &g, &info, &err);
    grab_free(&g);
    assert_int_equal(rc, 0);
    assert_string_equal(info.line_ending, "CRLF");
    assert_int_equal(info.lines, 3);
}

/* A header-only file of 90 KB without a line end is one physical line. */
static void test_long_single_line(void **state)
{
    (void)state;
    size_t cap = sizeof wide_buf, n = 0;
    char *b = wide_buf;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(b + n, cap - n, "%scol%05d", i ? "," : "", i);
    struct csv_opts co;
    csv_opts_default(&co);
    co.limits.max_cols = 10000;
    int rc = grab_read(b, n, &co, &g, &info, &err);
    size_t ncols = g.ncols;
    grab_free(&g);
    assert_int_equal(rc, 0);
    assert_int_equal(ncols, 10000);
    assert_int_equal(info.lines, 1);
}

static void test_max_field(void **state)
{
    (void)state;
    size_t big = 70 * 1024;
    size_t cap = big + 64;
    char *b = malloc(cap);
    int n = snprintf(b, cap, "id,text,x\n1,short,2\n2,");
    memset(b + n, 'w', big);
    size_t len = (size_t)n + big;
    len += (size_t)snprintf(b + len, cap - len, ",3\n");
    char msg[512];
    int rc = frame_err(b, len, NULL, msg);
    assert_int_equal(rc, LS_ELIMIT);
    if (!strstr(msg, "max_field") || !strstr(msg, "line 3") || !strstr(msg, "column 2"))
        fail_msg("message '%s'", msg);

    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_field = 128 * 1024;
    struct frame *f = NULL;
    struct ls_error err;
    rc = frame_read_mem(b, len, &o, &f, &err);
    if (rc)
        fail_msg("with max_field 128K: %d %s", rc, err.msg);
    assert_int_equal(f->nrows, 2);
    assert_int_equal(strlen(frame_cell(f, 1, 1)), big);
    assert_string_equal(frame_cell(f, 2, 1), "3");
    frame_free(f);

    /* the same inside quotes, and the boundary: exactly max_field is fine */
    struct grab g;
    struct csv_info info;
    struct csv_opts co;
    csv_opts_default(&co);
    co.limits.max_field = 100;
    for (size_t flen = 98; flen <= 104; flen++) {
        n = snprintf(b, cap, "a,b\n1,\"");
        memset(b + n, 'q', flen);
        len = (size_t)n + flen;
        len += (size_t)snprintf(b + len, cap - len, "\"\n");
        rc = grab_read(b, len, &co, &g, &info, &err);
        if (flen <= 100) {
            if (rc)
                fail_msg("field of %zu bytes, limit 100: %d %s", flen, rc, err.msg);
            assert_int_equal(strlen(cell(&g, 0, 1)), flen);
        } else {
            expect_error(rc, &err, LS_ELIMIT, "max_field", "line 2, column 2");
        }
        grab_free(&g);
    }
    /* an unclosed quote that swallows the rest of the file stops at the limit */
    n = snprintf(b, cap, "a,b\n1,\"open\n");
    len = (size_t)n;
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(b + len, cap - len, "%d,some more text here\n", i);
    rc = grab_read(b, len, &co, &g, &info, &err);
    expect_error(rc, &err, LS_ELIMIT, "max_field", "line 2");
    grab_free(&g);
    free(b);
}

static void test_max_rows_and_bytes(void **state)
{
    (void)state;
    const char *t = "a,b\n1,2\n3,4\n5,6\n";
    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_rows = 2;
    char msg[512];
    int rc = frame_err(t, strlen(t), &o, msg);
    assert_int_equal(rc, LS_ELIMIT);
    if (!strstr(msg, "max_rows") || !strstr(msg, "line 4"))
        fail_msg("message '%s'", msg);
    o.csv.limits.max_rows = 3; /* exactly at the limit */
    assert_int_equal(frame_err(t, strlen(t), &o, msg), 0);

    frame_opts_default(&o);
    o.csv.limits.max_bytes = 10;
    rc = frame_err(t, strlen(t), &o, msg);
    assert_int_equal(rc, LS_ELIMIT);
    if (!strstr(msg, "max_bytes"))
        fail_msg("message '%s'", msg);
    o.csv.limits.max_bytes = strlen(t);
    assert_int_equal(frame_err(t, strlen(t), &o, msg), 0);

    /* the file path checks the size before reading */
    const char *path = tu_write_temp("bytes.csv", t, strlen(t));
    o.csv.limits.max_bytes = 10;
    struct frame *f = NULL;
    struct ls_error err;
    rc = frame_read_file(path, &o, &f, &err);
    expect_error(rc, &err, LS_ELIMIT, "max_bytes", NULL);
    assert_null(f);
}

static void test_file_errors(void **state)
{
    (void)state;
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    int rc = frame_read_file("/nonexistent/dir/leads.csv", &o, &f, &err);
    expect_error(rc, &err, LS_EIO, "/nonexistent/dir/leads.csv", NULL);
    rc = frame_read_file(LS_FIXTURES, &o, &f, &err);
    expect_error(rc, &err, LS_EIO, "directory", NULL);
    assert_null(f);
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    uint64_t *last = ctx;
    last[0]++;
    last[1] = done;
    last[2] = total;
}

static void test_progress_and_info(void **state)
{
    (void)state;
    const char *t = "a,b\nZoë,2\n3,4\n";
    struct csv_opts co;
    csv_opts_default(&co);
    uint64_t seen[3] = {0, 0, 0};
    co.progress = progress_cb;
    co.progress_ctx = seen;
    struct grab g;
    struct csv_info info;
    struct ls_error err;
    assert_int_equal(grab_read(t, strlen(t), &co, &g, &info, &err), 0);
    assert_true(seen[0] >= 1 && seen[1] == strlen(t) && seen[2] == strlen(t)); /* at the end */
    assert_true(info.bytes == strlen(t) && info.lines == 3 && info.rows == 2 && info.cols == 2);
    assert_true(info.utf8_lines == 1 && info.decimal_comma == 0 && g.field_calls == 4);
    grab_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semicolon_decimal_comma),
        cmocka_unit_test(test_tab_and_pipe),
        cmocka_unit_test(test_utf16_le_bom_fixture),
        cmocka_unit_test(test_utf16_generated),
        cmocka_unit_test(test_windows_1252),
        cmocka_unit_test(test_utf8_bom),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_empty_and_header_only),
        cmocka_unit_test(test_binary_signatures),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_row_width),
        cmocka_unit_test(test_header_cleanup),
        cmocka_unit_test(test_wide_header_delimiter),
        cmocka_unit_test(test_wide_header_cr),
        cmocka_unit_test(test_long_single_line),
        cmocka_unit_test(test_max_field),
        cmocka_unit_test(test_max_rows_and_bytes),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_progress_and_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
