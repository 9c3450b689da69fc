/*
 * testutil.c — see testutil.h.
 */
#include "testutil.h"

#include "app/score.h"
#include "data/csvout.h"
#include "data/demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void tu_cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "testutil: could not remove %s\n", tmpdir);
    }
}

static const char *tu_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/lstest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(tu_cleanup);
    }
    return tmpdir;
}

const char *tu_fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", LS_FIXTURES, name);
    return path;
}

const char *tu_leads_csv(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/Leads.csv", LS_SHARED_DATA);
    return access(path, R_OK) == 0 ? path : NULL;
}

int tu_main_split(int argc, char **argv, const char *name, const struct CMUnitTest *base,
                  size_t nbase, CMFixtureFunction bs, CMFixtureFunction bt,
                  const struct CMUnitTest *leads, size_t nleads, CMFixtureFunction ls,
                  CMFixtureFunction lt)
{
    char group[256];
    if (argc > 1 && strcmp(argv[argc - 1], "--leads") == 0) {
        if (!tu_leads_csv()) {
            fprintf(stderr, "%s: %s/Leads.csv is absent: its tests are skipped\n", name,
                    LS_SHARED_DATA);
            return TU_SKIP;
        }
        snprintf(group, sizeof group, "%s on Leads.csv", name);
        return _cmocka_run_group_tests(group, leads, nleads, ls, lt) ? 1 : 0;
    }
    if (nbase == 0)
        return 0;
    return _cmocka_run_group_tests(name, base, nbase, bs, bt) ? 1 : 0;
}

const char *tu_write_temp(const char *name, const void *data, size_t len)
{
    static char path[8][1024];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 1024, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

struct frame *tu_frame_mem(const char *text)
{
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_mem(text, strlen(text), &o, &f, &err);
    if (rc)
        fail_msg("frame_read_mem failed (%d): %s", rc, err.msg);
    return f;
}

int tu_frame_error(const void *data, size_t len, const struct frame_opts *o, char *msg, size_t cap)
{
    struct frame_opts def;
    if (!o) {
        frame_opts_default(&def);
        o = &def;
    }
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_mem(data, len, o, &f, &err);
    if (msg && cap)
        snprintf(msg, cap, "%s", err.msg);
    if (rc == 0)
        frame_free(f);
    return rc;
}

size_t tu_col(const struct frame *f, const char *name)
{
    long i = frame_find(f, name);
    if (i < 0)
        fail_msg("no column '%s'", name);
    return (size_t)i;
}

/* `rows` generated leads (demo.h) as CSV text (malloc'ed), or as a frame. */
char *tu_demo_text(uint64_t rows, uint64_t seed)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    assert_non_null(mf);
    struct demo_opts d;
    demo_opts_default(&d);
    d.rows = rows;
    d.seed = seed;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(demo_write(mf, &d, &err), LS_OK);
    assert_int_equal(fclose(mf), 0);
    return text;
}

/* The whole file at path, malloc'ed; *len its size. */
uint8_t *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Line k (0 = header) of text, without its newline, into out. */
void tu_text_line(const char *text, size_t k, char *out, size_t cap)
{
    const char *p = text;
    for (size_t i = 0; i < k; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, "\n");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

void tu_score_ok(const struct model *m, const struct frame *f, struct score_result *res)
{
    struct score_opts so;
    score_opts_default(&so);
    so.threads = 2;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_score(m, f, &so, res, &err);
    if (rc)
        fail_msg("app_score failed (%d): %s", rc, err.msg);
}

size_t tu_feature_index(const struct model *m, const char *name)
{
    for (size_t j = 0; j < m->schema.nfeat; j++)
        if (strcmp(m->schema.feat[j].name, name) == 0)
            return j;
    fail_msg("the model has no feature '%s'", name);
    return 0;
}

char *tu_frame_csv(const struct frame *f, const char *drop)
{
    return tu_frame_csv_replace(f, drop, NULL, NULL);
}

char *tu_frame_csv_replace(const struct frame *f, const char *drop, const char *col,
                           const char *value)
{
    long skip = drop ? frame_find(f, drop) : -1, rep = col ? frame_find(f, col) : -1;
    if (drop && skip < 0)
        fail_msg("no column '%s' to drop", drop);
    if (col && rep < 0)
        fail_msg("no column '%s' to replace", col);
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    for (uint64_t r = 0; r <= f->nrows; r++) { /* r 0 is the header, then row r - 1 */
        int first = 1;
        for (size_t c = 0; c < f->ncols; c++) {
            if ((long)c == skip)
                continue;
            if (!first)
                fputc(',', o);
            first = 0;
            csv_write_field(o, r == 0           ? f->cols[c].name
                               : (long)c == rep ? value
                                                : frame_cell(f, c, r - 1));
        }
        fputc('\n', o);
    }
    assert_int_equal(fclose(o), 0);
    return text;
}

int tu_utf8_valid(const void *s, size_t n)
{
    const unsigned char *b = s;
    for (size_t i = 0; i < n;) {
        unsigned c = b[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n || (len == 2 && c < 0xC2))
            return 0;
        unsigned cp = len == 1 ? c : c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((b[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (b[i + k] & 0x3Fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += len;
    }
    return 1;
}
