/*
 * test_frame.c — column typing (numeric, boolean, categorical, datetime, id, text, constant).
 */
#include "testutil.h"

#include "core/buf.h"
#include "data/frame.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Build a CSV text in b: header line, then rows from a row writer. */
static struct frame *frame_of(struct buf *b)
{
    struct frame *f = tu_frame_mem(buf_str(b));
    buf_cleanup(b);
    return f;
}

static void expect_type(const struct frame *f, const char *name, enum col_type want)
{
    const struct column *c = &f->cols[tu_col(f, name)];
    if (c->type != want)
        fail_msg("column '%s' is %s, want %s", name, col_type_name(c->type), col_type_name(want));
}

static void expect_near(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= 1e-9 * (1 + fabs(want))))
        fail_msg("%s: got %.12g, want %.12g", what, got, want);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(col_type_name(COL_NUMERIC), "numeric");
    assert_string_equal(col_type_name(COL_BOOLEAN), "boolean");
    assert_string_equal(col_type_name(COL_CATEGORICAL), "categorical");
    assert_string_equal(col_type_name(COL_DATETIME), "datetime");
    assert_string_equal(col_type_name(COL_IDENTIFIER), "identifier");
    assert_string_equal(col_type_name(COL_TEXT), "text");
    assert_string_equal(col_type_name(COL_CONSTANT), "constant");
    assert_string_equal(col_type_name((enum col_type)99), "unknown");
    /* the default missing list */
    const char *const want[] = {"", "NA", "N/A", "#N/A", "null", "None", "nan", "-", "Select"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(frame_default_missing[i], want[i]);
    assert_null(frame_default_missing[sizeof want / sizeof want[0]]);
}

static void test_numeric_with_missing(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Amount,Visits\n"
                                   "1.5,3\n"
                                   ",4\n"
                                   "NA,5\n"
                                   "Select,6\n"
                                   "2.5,7\n"
                                   "  n/a ,8\n"
                                   "3,9\n"
                                   "null,10\n");
    size_t a = tu_col(f, "Amount");
    const struct column *c = &f->cols[a];
    expect_type(f, "Amount", COL_NUMERIC);
    assert_int_equal(c->prof.missing, 5);
    assert_int_equal(c->prof.distinct, 3);
    assert_int_equal(c->prof.non_numeric, 0);
    expect_near(c->prof.mean, (1.5 + 2.5 + 3) / 3, "mean");
    expect_near(c->prof.min, 1.5, "min");
    expect_near(c->prof.max, 3, "max");
    expect_near(c->prof.sd,
                sqrt(((1.5 - 7.0 / 3) * (1.5 - 7.0 / 3) + (2.5 - 7.0 / 3) * (2.5 - 7.0 / 3) +
                      (3 - 7.0 / 3) * (3 - 7.0 / 3)) /
                     2),
                "sd");
    expect_near(c->prof.integer_share, 1.0 / 3, "integer share");
    assert_true(c->num[0] == 1.5);
    for (uint64_t r = 1; r <= 3; r++) {
        assert_true(isnan(c->num[r]));
        assert_true(frame_is_missing(f, a, r));
    }
    assert_true(isnan(c->num[5]));
    assert_false(frame_is_missing(f, a, 4));
    assert_string_equal(frame_cell(f, a, 3), "Select"); /* raw text kept */
    assert_null(c->cat);
    size_t v = tu_col(f, "Visits");
    expect_type(f, "Visits", COL_NUMERIC); /* 8 dense integers: too few for an id */
    assert_int_equal(f->cols[v].prof.missing, 0);
    frame_free(f);
}

static void test_numeric_stray_values(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Revenue,Mixed\n");
    for (int i = 0; i < 300; i++)
        buf_printf(&b, "%d.5,%s\n", i % 40, i < 10 ? "word" : i < 20 ? "other" : "7");
    buf_puts(&b, "unknown,7\n");
    struct frame *f = frame_of(&b);
    const struct column *c = &f->cols[tu_col(f, "Revenue")];
    expect_type(f, "Revenue", COL_NUMERIC);
    assert_int_equal(c->prof.non_numeric, 1);
    assert_int_equal(c->prof.missing, 1);
    assert_true(isnan(c->num[300]));
    assert_true(frame_is_missing(f, tu_col(f, "Revenue"), 300));
    /* 20 of 301 rows are words: too many to be strays */
    expect_type(f, "Mixed", COL_CATEGORICAL);
    frame_free(f);
}

/*
 * The stray rule counts distinct non-numbers. A near-unique column stops
 * interning after 4096 rows (raw mode), so a stray repeated after that point
 * must still count as one distinct value, as it does before that point.
 */
static void stray_column(int first_stray, enum col_type want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Total Time,grp\n");
    for (int i = 0; i < 10000; i++) {
        if (i >= first_stray && i < first_stray + 5)
            buf_printf(&b, "unknown,%c\n", 'a' + i % 3);
        else
            buf_printf(&b, "%d.%02d,%c\n", i, i % 100, 'a' + i % 3);
    }
    struct frame *f = frame_of(&b);
    /* read what is checked, then free: a failure below leaks nothing */
    const struct column *c = &f->cols[tu_col(f, "Total Time")];
    enum col_type type = c->type;
    uint64_t non_numeric = c->prof.non_numeric, missing = c->prof.missing;
    int r = first_stray + 5;
    double at_stray = c->num ? c->num[first_stray] : 0, after = c->num ? c->num[r] : 0;
    frame_free(f);
    if (type != want)
        fail_msg("strays from row %d: column is %s, want %s", first_stray, col_type_name(type),
                 col_type_name(want));
    assert_int_equal(non_numeric, 5);
    assert_int_equal(missing, 5);
    assert_true(isnan(at_stray));
    expect_near(after, r + (r % 100) / 100.0, "value after the strays");
}

static void test_numeric_strays_in_a_long_column(void **state)
{
    (void)state;
    stray_column(100, COL_NUMERIC);  /* before the switch to raw mode */
    stray_column(5000, COL_NUMERIC); /* after it: 5 cells of one word, 0.05 % of rows */
}

/*
 * A numeric column with a little junk ("unknown" in 2.5 % of the rows, as in
 * a CRM export of Total Time Spent on Website) stays numeric: the junk is
 * read as missing, counted, and named in a warning with the most frequent
 * examples. Past 10 % junk the column is not numeric.
 */
static void expect_in(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' not in '%s'", needle, hay);
}

static void test_numeric_with_a_little_junk(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Total Time Spent on Website,Half\n");
    for (int i = 0; i < 1000; i++) {
        const char *junk = i % 40 == 1                  ? "unknown"
                           : i == 2 || i == 4 || i == 6 ? "n/a?"
                           : i == 8 || i == 10          ? " ?? "
                           : i == 12                    ? "later"
                                                        : NULL;
        char half[32];
        snprintf(half, sizeof half, "%d", i);
        buf_printf(&b, "%s,%s\n", junk ? junk : half, i % 9 == 0 ? "many" : half);
    }
    struct frame *f = frame_of(&b);
    const struct column *c = &f->cols[tu_col(f, "Total Time Spent on Website")];
    char msg[512] = "";
    int warned = frame_column_warning(c, msg, sizeof msg);
    enum col_type type = c->type, half_type = f->cols[tu_col(f, "Half")].type;
    uint64_t non_numeric = c->prof.non_numeric, missing = c->prof.missing;
    int nan1 = c->num && isnan(c->num[1]);
    frame_free(f);
    if (type != COL_NUMERIC)
        fail_msg("2.6 %% junk: column is %s, want numeric", col_type_name(type));
    assert_int_equal(non_numeric, 25 + 3 + 2 + 1);
    assert_int_equal(missing, 31);
    assert_true(nan1);
    assert_true(warned);
    printf("  %s\n", msg);
    expect_in(msg, "'Total Time Spent on Website'");
    expect_in(msg, "31 values");
    expect_in(msg, "\"unknown\", \"n/a?\", \"??\""); /* most rows first, trimmed */
    assert_null(strstr(msg, "later"));               /* three examples at most */
    /* 1 in 9 rows "many": 11 % junk, too much for a numeric column */
    if (half_type != COL_CATEGORICAL)
        fail_msg("11 %% junk: column is %s, want categorical", col_type_name(half_type));
}

/* Raw mode must not change which spelling labels a category, nor the merged count. */
static void test_spellings_in_a_long_column(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Source\n");
    for (int i = 0; i < 10000; i++) {
        if (i == 0)
            buf_puts(&b, "Google\n");
        else if (i >= 5000 && i < 5100)
            buf_puts(&b, "GOOGLE\n"); /* the common spelling, after row 4096 */
        else if (i % 2)
            buf_printf(&b, "site%d\n", i);
        else
            buf_puts(&b, "Direct\n");
    }
    struct frame *f = frame_of(&b);
    const struct column *c = &f->cols[0];
    enum col_type type = c->type;
    char first[16] = "", second[16] = "";
    uint64_t count = 0, merged = c->prof.merged;
    if (type == COL_CATEGORICAL && c->ncat >= 2) {
        snprintf(first, sizeof first, "%s", c->cats[0]);
        snprintf(second, sizeof second, "%s", c->cats[1]);
        count = c->cat_count[1];
    }
    frame_free(f); /* before the checks: a failure leaks nothing */
    assert_int_equal(type, COL_CATEGORICAL);
    assert_string_equal(first, "Direct");
    assert_int_equal(count, 101);
    assert_string_equal(second, "GOOGLE"); /* 100 cells against 1 */
    assert_int_equal(merged, 1);           /* one spelling merged into another */
}

static void test_boolean(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Do Not Email,Flag,Paid,Half\n"
                                   "Yes,1,true,0.0\n"
                                   "No,0,FALSE,1.0\n"
                                   "yes,1,True,1.0\n"
                                   "Yes,,false,0.0\n"
                                   "No,0,Select,1.0\n");
    size_t e = tu_col(f, "Do Not Email");
    const struct column *c = &f->cols[e];
    expect_type(f, "Do Not Email", COL_BOOLEAN);
    assert_true(c->num[0] == 1 && c->num[1] == 0 && c->num[2] == 1 && c->num[3] == 1);
    assert_string_equal(c->true_label, "Yes");
    assert_string_equal(c->false_label, "No");
    assert_int_equal(c->prof.distinct, 2);
    expect_near(c->prof.mean, 0.6, "share of Yes");

    const struct column *fl = &f->cols[tu_col(f, "Flag")];
    expect_type(f, "Flag", COL_BOOLEAN);
    assert_true(isnan(fl->num[3]));
    assert_int_equal(fl->prof.missing, 1);
    assert_string_equal(fl->true_label, "1");
    assert_string_equal(fl->false_label, "0");

    const struct column *p = &f->cols[tu_col(f, "Paid")];
    expect_type(f, "Paid", COL_BOOLEAN);
    assert_true(p->num[0] == 1 && p->num[1] == 0 && p->num[2] == 1);
    assert_true(isnan(p->num[4]));
    /* numbers that are exactly {0, 1} */
    const struct column *h = &f->cols[tu_col(f, "Half")];
    expect_type(f, "Half", COL_BOOLEAN);
    assert_true(h->num[0] == 0 && h->num[1] == 1);
    assert_string_equal(h->true_label, "1.0");
    frame_free(f);

    /* one side only is not a boolean */
    f = tu_frame_mem("A,B\nYes,1\nYes,2\nYes,3\n");
    expect_type(f, "A", COL_CONSTANT);
    frame_free(f);
}

/* Short rows are padded by the reader; the absent cells read as missing. */
static void test_short_rows_missing(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("a,b,c\n1,2\n3,4,5\n6,7\n8,9,10\n");
    size_t c = tu_col(f, "c");
    assert_int_equal(f->info.short_rows, 2);
    assert_true(frame_is_missing(f, c, 0));
    assert_string_equal(frame_cell(f, c, 0), "");
    assert_false(frame_is_missing(f, c, 1));
    assert_true(frame_is_missing(f, c, 2));
    assert_int_equal(f->cols[c].prof.missing, 2);
    expect_type(f, "c", COL_NUMERIC);
    assert_true(isnan(f->cols[c].num[0]));
    assert_true(f->cols[c].num[1] == 5);
    frame_free(f);
}

static void test_categorical(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Lead Source,City\n"
                                   "Google,Paris\n"
                                   "google,Paris\n"
                                   "Google,Select\n"
                                   " Google ,Lyon\n"
                                   "Direct Traffic,Select\n"
                                   "GOOGLE,Paris\n"
                                   "Olark Chat,\n"
                                   "direct traffic,Lyon\n");
    size_t s = tu_col(f, "Lead Source");
    const struct column *c = &f->cols[s];
    expect_type(f, "Lead Source", COL_CATEGORICAL);
    assert_int_equal(c->ncat, 3);
    assert_int_equal(c->prof.distinct, 3);
    assert_string_equal(c->cats[0], "Google"); /* most frequent first, most common spelling */
    assert_int_equal(c->cat_count[0], 5);
    assert_string_equal(c->cats[1], "Direct Traffic");
    assert_int_equal(c->cat_count[1], 2);
    assert_string_equal(c->cats[2], "Olark Chat");
    /* "google", "GOOGLE", "direct traffic" merged; " Google " is the same spelling */
    assert_int_equal(c->prof.merged, 3);
    assert_int_equal(c->cat[0], 0);
    assert_int_equal(c->cat[1], 0);
    assert_int_equal(c->cat[3], 0);
    assert_int_equal(c->cat[5], 0);
    assert_int_equal(c->cat[7], 1);
    assert_string_equal(frame_cell(f, s, 1), "google"); /* raw text as written */
    assert_int_equal(c->prof.missing, 0);

    size_t ci = tu_col(f, "City");
    const struct column *city = &f->cols[ci];
    expect_type(f, "City", COL_CATEGORICAL);
    assert_int_equal(city->ncat, 2); /* "Select" is a missing value, not a city */
    assert_int_equal(city->prof.missing, 3);
    assert_int_equal(city->cat[2], FRAME_NA);
    assert_int_equal(city->cat[6], FRAME_NA);
    assert_true(frame_is_missing(f, ci, 2));
    for (uint32_t k = 0; k < city->ncat; k++)
        assert_string_not_equal(city->cats[k], "Select");
    frame_free(f);
}

static void test_identifier(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Prospect ID,Row,Lead Number,Amount,Code\n");
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "7927b2df-8bba-4d29-b9a2-%012d,%d,%d,%d,C-%c%c\n", i * 7919, 40 - i,
                   660737 - i * 1000, (i + 1) * 1000, 'A' + i % 26, 'a' + i / 26);
    struct frame *f = frame_of(&b);
    expect_type(f, "Prospect ID", COL_IDENTIFIER); /* unique strings */
    expect_type(f, "Row", COL_IDENTIFIER);         /* unique dense integers */
    expect_type(f, "Lead Number", COL_IDENTIFIER); /* sparse, but the name says id */
    expect_type(f, "Amount", COL_NUMERIC);         /* sparse, an ordinary name */
    expect_type(f, "Code", COL_IDENTIFIER);
    const struct column *c = &f->cols[tu_col(f, "Prospect ID")];
    assert_null(c->cat); /* never a feature */
    assert_null(c->num);
    assert_string_equal(frame_cell(f, tu_col(f, "Prospect ID"), 1),
                        "7927b2df-8bba-4d29-b9a2-000000007919");
    frame_free(f);

    /* a repeated value or a missing one: not an identifier */
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Row,Other\n");
    for (int i = 0; i < 30; i++)
        buf_printf(&b, "%d,%d\n", i == 29 ? 3 : i, i);
    buf_puts(&b, "31,\n");
    f = frame_of(&b);
    expect_type(f, "Row", COL_NUMERIC);
    expect_type(f, "Other", COL_NUMERIC);
    frame_free(f);
}

static void test_constant(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Country,Empty,One,x\n"
                                   "India,,5,1\n"
                                   "India,NA,5,2\n"
                                   "india ,,5.0,3\n"
                                   "India,Select,,4\n");
    expect_type(f, "Country", COL_CONSTANT);
    expect_type(f, "Empty", COL_CONSTANT);
    expect_type(f, "One", COL_CONSTANT);
    const struct column *e = &f->cols[tu_col(f, "Empty")];
    assert_int_equal(e->prof.missing, 4);
    assert_int_equal(e->prof.distinct, 0);
    assert_int_equal(f->cols[tu_col(f, "One")].prof.distinct, 1);
    assert_int_equal(f->cols[tu_col(f, "Country")].prof.distinct, 1);
    frame_free(f);
}

static void test_datetime(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Created,Visit,EU,Plain\n"
                                   "2023-01-05,1/5/2023 10:00 AM,31/12/2023,2023-01-05\n"
                                   "2023-02-10 14:30,12/25/2023 2:30 PM,15.01.2024,2023-01-06\n"
                                   ",,1/2/2024,2023-01-07\n"
                                   "2023-03-01T08:00:00Z,3/1/2023 8:00 AM,28/02/2024,2023-01-08\n");
    size_t cr = tu_col(f, "Created");
    const struct column *c = &f->cols[cr];
    expect_type(f, "Created", COL_DATETIME);
    assert_int_equal(c->prof.date_fmt, DATE_ISO);
    assert_int_equal(c->prof.has_time, 1);
    assert_int_equal(c->prof.missing, 1);
    assert_true(c->num[0] == (double)value_days_from_civil(2023, 1, 5));
    expect_near(c->num[1], (double)value_days_from_civil(2023, 2, 10) + 14.5 / 24, "datetime");
    assert_true(isnan(c->num[2]));
    expect_near(c->prof.min, (double)value_days_from_civil(2023, 1, 5), "min date");

    const struct column *v = &f->cols[tu_col(f, "Visit")];
    expect_type(f, "Visit", COL_DATETIME);
    assert_int_equal(v->prof.date_fmt, DATE_MDY);
    expect_near(v->num[1], (double)value_days_from_civil(2023, 12, 25) + 14.5 / 24, "MDY time");

    const struct column *eu = &f->cols[tu_col(f, "EU")];
    expect_type(f, "EU", COL_DATETIME);
    assert_int_equal(eu->prof.date_fmt, DATE_DMY);
    assert_int_equal(eu->prof.has_time, 0);
    assert_true(eu->num[2] == (double)value_days_from_civil(2024, 2, 1));

    const struct column *p = &f->cols[tu_col(f, "Plain")];
    expect_type(f, "Plain", COL_DATETIME);
    assert_int_equal(p->prof.has_time, 0);
    assert_int_equal(p->prof.distinct, 4);
    frame_free(f);

    /* one impossible date makes the column text, not a date */
    f = tu_frame_mem("D\n2023-02-28\n2023-02-30\n2023-03-01\n");
    expect_type(f, "D", COL_CATEGORICAL);
    frame_free(f);
}

static void test_free_text(void **state)
{
    (void)state;
    static const char *const words[] = {"called", "back", "about",  "the",  "pricing",  "demo",
                                        "next",   "week", "please", "send", "brochure", "today"};
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "Notes,Tag\n");
    for (int i = 0; i < 30; i++) {
        buf_printf(&b, "\"Customer %d ", i);
        for (int k = 0; k < 8; k++)
            buf_printf(&b, "%s ", words[(i * 5 + k * 3) % 12]);
        buf_printf(&b, "and more, thanks\",%s\n", i % 2 ? "hot lead" : "cold lead");
    }
    struct frame *f = frame_of(&b);
    const struct column *c = &f->cols[tu_col(f, "Notes")];
    expect_type(f, "Notes", COL_TEXT);
    assert_true(c->prof.mean_len >= 30);
    assert_null(c->cat);
    expect_type(f, "Tag", COL_CATEGORICAL); /* short, repeated phrases */
    frame_free(f);
}

static void test_custom_missing_tokens(void **state)
{
    (void)state;
    const char *t = "Score,Source,Tag\n"
                    "1,Select,NA\n"
                    "2,unknown,x\n"
                    "unknown,Google,NA\n"
                    "4,Google,y\n"
                    "5,Direct,x\n";
    static const char *const tokens[] = {"", "unknown", NULL};
    struct frame_opts o;
    frame_opts_default(&o);
    o.missing_tokens = tokens;
    struct frame *f = NULL;
    struct ls_error err;
    int rc = frame_read_mem(t, strlen(t), &o, &f, &err);
    if (rc)
        fail_msg("read failed (%d): %s", rc, err.msg);
    size_t s = tu_col(f, "Score");
    const struct column *c = &f->cols[s];
    expect_type(f, "Score", COL_NUMERIC);
    assert_true(frame_is_missing(f, s, 2));
    assert_true(isnan(c->num[2]));
    assert_int_equal(c->prof.missing, 1);
    assert_int_equal(c->prof.non_numeric, 0);
    size_t src = tu_col(f, "Source");
    const struct column *sc = &f->cols[src];
    expect_type(f, "Source", COL_CATEGORICAL);
    assert_true(frame_is_missing(f, src, 1));
    assert_false(frame_is_missing(f, src, 0)); /* "Select" is an ordinary value now */
    assert_int_equal(sc->ncat, 3);
    assert_int_equal(sc->prof.missing, 1);
    size_t tg = tu_col(f, "Tag");
    assert_false(frame_is_missing(f, tg, 0)); /* so is "NA" */
    assert_int_equal(f->cols[tg].ncat, 3);
    assert_int_equal(f->cols[tg].prof.missing, 0);
    frame_free(f);

    /* the default list, for comparison */
    f = tu_frame_mem(t);
    s = tu_col(f, "Score");
    expect_type(f, "Score", COL_CATEGORICAL); /* "unknown" is 20 % of the values: not a stray */
    assert_false(frame_is_missing(f, s, 2));
    src = tu_col(f, "Source");
    assert_true(frame_is_missing(f, src, 0));
    assert_false(frame_is_missing(f, src, 1));
    tg = tu_col(f, "Tag");
    assert_true(frame_is_missing(f, tg, 0));
    assert_true(frame_is_missing(f, tg, 2));
    assert_int_equal(f->cols[tg].prof.missing, 2);
    assert_int_equal(f->cols[tg].ncat, 2);
    frame_free(f);
}

static void test_find_and_cells(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Lead Origin,lead origin,Converted\nAPI,x,1\nForm,y,0\n");
    assert_int_equal(f->ncols, 3);
    assert_int_equal(frame_find(f, "Lead Origin"), 0);
    assert_int_equal(frame_find(f, "lead origin"), 1); /* exact match first */
    assert_int_equal(frame_find(f, "LEAD ORIGIN"), 0); /* then case-insensitive */
    assert_int_equal(frame_find(f, "converted"), 2);
    assert_int_equal(frame_find(f, "Origin"), -1);
    assert_int_equal(frame_find(f, ""), -1);
    assert_string_equal(frame_cell(f, 0, 1), "Form");
    assert_int_equal(f->nrows, 2);
    frame_free(f);
}

static void test_decimal_comma_frame(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Total Time;Page Views;Name\n"
                                   "1.532,5;2,5;A\n"
                                   "0;3;B\n"
                                   "674;1,75;C\n"
                                   ";;D\n");
    assert_int_equal(f->info.delimiter, ';');
    const struct column *t = &f->cols[tu_col(f, "Total Time")];
    expect_type(f, "Total Time", COL_NUMERIC);
    assert_true(t->num[0] == 1532.5);
    assert_true(isnan(t->num[3]));
    const struct column *p = &f->cols[tu_col(f, "Page Views")];
    expect_near(p->prof.mean, (2.5 + 3 + 1.75) / 3, "mean of decimal-comma values");
    frame_free(f);

    /* in a comma file, "3,5" is two fields and "1.5" is a number */
    f = tu_frame_mem("a,b\n1.5,x\n2.5,y\n");
    assert_int_equal(f->info.decimal_comma, 0);
    expect_type(f, "a", COL_NUMERIC);
    frame_free(f);
}

static void test_many_rows(void **state)
{
    (void)state;
    /* more rows than the builder's first allocation, with short rows mixed in */
    struct buf b;
    buf_init(&b, 1 << 22);
    buf_puts(&b, "n,grp,flag\n");
    for (int i = 0; i < 5000; i++) {
        if (i % 1000 == 999)
            buf_printf(&b, "%d\n", i);
        else
            buf_printf(&b, "%d,%c,%s\n", i, 'a' + i % 3, i % 2 ? "Yes" : "No");
    }
    struct frame *f = frame_of(&b);
    assert_int_equal(f->nrows, 5000);
    assert_int_equal(f->info.short_rows, 5);
    expect_type(f, "n", COL_IDENTIFIER);
    const struct column *g = &f->cols[tu_col(f, "grp")];
    expect_type(f, "grp", COL_CATEGORICAL);
    assert_int_equal(g->ncat, 3);
    assert_int_equal(g->prof.missing, 5);
    assert_int_equal(g->cat[999], FRAME_NA);
    const struct column *fl = &f->cols[tu_col(f, "flag")];
    expect_type(f, "flag", COL_BOOLEAN);
    assert_true(isnan(fl->num[4999]));
    assert_true(fl->num[4998] == 0);
    assert_true(fl->num[4997] == 1);
    frame_free(f);
}

/* 10,000 columns: over max_cols by default, fine once the limit is raised. */
static void test_max_cols(void **state)
{
    (void)state;
    size_t ncols = 10000, cap = ncols * 16 + 64;
    char *b = malloc(cap);
    size_t n = 0;
    for (size_t i = 0; i < ncols; i++)
        n += (size_t)snprintf(b + n, cap - n, "%sc%zu", i ? "," : "", i);
    for (int r = 0; r < 2; r++) {
        b[n++] = '\n';
        for (size_t i = 0; i < ncols; i++)
            n += (size_t)snprintf(b + n, cap - n, "%s%d", i ? "," : "", (int)(i % 7) + r);
    }
    b[n++] = '\n';
    char msg[512];
    int rc = tu_frame_error(b, n, NULL, msg, sizeof msg);
    assert_int_equal(rc, LS_ELIMIT);
    if (!strstr(msg, "max_cols") || !strstr(msg, "2000"))
        fail_msg("message '%s'", msg);

    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_cols = 10000;
    struct frame *f = NULL;
    struct ls_error err;
    rc = frame_read_mem(b, n, &o, &f, &err);
    if (rc)
        fail_msg("with max_cols 10000: %d %s", rc, err.msg);
    assert_int_equal(f->ncols, 10000);
    assert_int_equal(f->nrows, 2);
    assert_string_equal(f->cols[9999].name, "c9999");
    assert_string_equal(frame_cell(f, 9999, 1), "4"); /* 9999 % 7 + 1 */
    frame_free(f);

    o.csv.limits.max_cols = 9999; /* one short */
    rc = tu_frame_error(b, n, &o, msg, sizeof msg);
    assert_int_equal(rc, LS_ELIMIT);
    assert_non_null(strstr(msg, "max_cols"));
    free(b);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Garbage in: a coded error with a message (or a frame), never a crash. */
static void test_random_bytes(void **state)
{
    (void)state;
    size_t n = 64 * 1024;
    unsigned char *b = malloc(n);
    uint64_t seed = 20240601;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)lcg(&seed);
    char msg[512];
    int rc = tu_frame_error(b, n, NULL, msg, sizeof msg);
    if (rc == 0 || msg[0] == '\0')
        fail_msg("random bytes: code %d, message '%s'", rc, msg);
    assert_true(rc < 0);
    /* the same without NUL bytes: still an error with a message, never a crash */
    for (size_t i = 0; i < n; i++)
        if (b[i] == 0)
            b[i] = 'x';
    rc = tu_frame_error(b, n, NULL, msg, sizeof msg);
    if (rc == 0 || msg[0] == '\0')
        fail_msg("random bytes without NUL: code %d, message '%s'", rc, msg);
    /* many small CSV-ish inputs: either a frame or a coded error with a message */
    static const char alphabet[] = "ab1,;\t|\"\r\n \xc3\xa9\xfc.";
    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_field = 256;
    for (int t = 0; t < 300; t++) {
        size_t len = 1 + lcg(&seed) % 600;
        for (size_t i = 0; i < len; i++)
            b[i] = (unsigned char)alphabet[lcg(&seed) % (sizeof alphabet - 1)];
        rc = tu_frame_error(b, len, &o, msg, sizeof msg);
        if (rc != 0 && (rc > 0 || msg[0] == '\0'))
            fail_msg("input %d: code %d with message '%s'", t, rc, msg);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_numeric_with_missing),
        cmocka_unit_test(test_numeric_stray_values),
        cmocka_unit_test(test_numeric_strays_in_a_long_column),
        cmocka_unit_test(test_numeric_with_a_little_junk),
        cmocka_unit_test(test_spellings_in_a_long_column),
        cmocka_unit_test(test_boolean),
        cmocka_unit_test(test_short_rows_missing),
        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_identifier),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_free_text),
        cmocka_unit_test(test_custom_missing_tokens),
        cmocka_unit_test(test_find_and_cells),
        cmocka_unit_test(test_decimal_comma_frame),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_max_cols),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
