/*
 * test_leakage.c — the leakage scan (app/leakage.h).
 *
 * Synthetic frames first, each column built to be one case of the rule: a
 * copy of the target (AUC ≈ 1: exclude), a value that is all one class over
 * 30 % of the rows (exclude by near-pure share) or over 15 % (check), noise
 * (no flag), noise under a name like "Deal Stage" (check on the name alone),
 * a rare outcome where every value is "≥ 97 % negative" without meaning
 * anything, and files too small or with one class. Then the real
 * ../shared/data/Leads.csv, whose answer is known: Tags and Lead Quality were
 * written by sales after the call and must be flagged with their figures;
 * Lead Source, TotalVisits, Lead Origin and Total Time Spent on Website are
 * honest predictors and must not be, not even as "check". Those cases are
 * skipped when the file is absent.
 */
#include "testutil.h"

#include "app/leakage.h"
#include "app/train.h"
#include "core/buf.h"
#include "data/target.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double uniform(uint64_t *s)
{
    return (double)(next_rand(s) >> 11) / 9007199254740992.0;
}

/*
 * The main synthetic file, rows rows:
 *   ID          unique (an identifier: never scanned)
 *   Echo        "Signed" / "Dropped" copied from the outcome
 *   Bucket      "Dead" for 30 % of the rows, all negative; A/B/C otherwise
 *   Segment     "Gold" for 15 % of the rows, all positive; S1/S2/S3 otherwise
 *   Colour      noise, five values
 *   Visits      noise, whole numbers 0..40
 *   Deal Stage  noise, three values, named like a CRM stage
 *   Converted   the outcome: 0 in Dead rows, 1 in Gold rows, else 55 % ones
 * *dead and *gold (may be NULL) receive the counts of those rows.
 */
static struct frame *synthetic_frame(unsigned rows, uint64_t seed, unsigned *dead, unsigned *gold)
{
    static const char *const colours[] = {"red", "green", "blue", "grey", "pink"};
    static const char *const stages[] = {"Prospect", "Qualified", "Proposal"};
    struct buf b;
    buf_init(&b, 1u << 24);
    assert_int_equal(buf_puts(&b, "ID,Echo,Bucket,Segment,Colour,Visits,Deal Stage,Converted\n"),
                     LS_OK);
    uint64_t s = seed;
    unsigned nd = 0, ng = 0;
    for (unsigned i = 0; i < rows; i++) {
        double u = uniform(&s);
        int is_dead = u < 0.30, is_gold = u >= 0.30 && u < 0.45;
        int y = is_dead ? 0 : is_gold ? 1 : uniform(&s) < 0.55;
        nd += (unsigned)is_dead;
        ng += (unsigned)is_gold;
        char bucket[8], segment[8];
        snprintf(bucket, sizeof bucket, "%s",
                 is_dead ? "Dead" : (const char *[]){"A", "B", "C"}[next_rand(&s) % 3]);
        snprintf(segment, sizeof segment, "%s",
                 is_gold ? "Gold" : (const char *[]){"S1", "S2", "S3"}[next_rand(&s) % 3]);
        assert_int_equal(buf_printf(&b, "L%05u,%s,%s,%s,%s,%u,%s,%d\n", i, y ? "Signed" : "Dropped",
                                    bucket, segment, colours[next_rand(&s) % 5],
                                    (unsigned)(next_rand(&s) % 41), stages[next_rand(&s) % 3], y),
                         LS_OK);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    if (dead)
        *dead = nd;
    if (gold)
        *gold = ng;
    return f;
}

static void find_target(const struct frame *f, struct target *t)
{
    struct ls_error err;
    ls_error_clear(&err);
    int rc = target_find(f, NULL, t, &err);
    if (rc)
        fail_msg("target_find failed (%d): %s", rc, err.msg);
}

static void scan_ok(const struct frame *f, const struct target *t, const struct train_opts *tr,
                    uint32_t threads, struct leakage_report *r)
{
    struct leakage_opts o;
    leakage_opts_default(&o);
    o.threads = threads;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = leakage_scan(f, t, tr, &o, r, &err);
    if (rc)
        fail_msg("leakage_scan failed (%d): %s", rc, err.msg);
}

/* The scanned column named name, or NULL. */
static const struct leakage_column *scanned(const struct leakage_report *r, const char *name)
{
    for (size_t i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].name, name) == 0)
            return &r->cols[i];
    return NULL;
}

static const struct leakage_column *must_scan(const struct leakage_report *r, const char *name)
{
    const struct leakage_column *c = scanned(r, name);
    if (!c)
        fail_msg("column '%s' was not scanned", name);
    return c;
}

static void expect_level(const struct leakage_column *c, enum leakage_level want)
{
    if (c->level != want)
        fail_msg("'%s' is at level %s, expected %s (AUC %.4f, %u near-pure values over "
                 "%.1f %%, hint %s; reason: %s)",
                 c->name, leakage_level_name(c->level), leakage_level_name(want), c->auc,
                 c->pure_count, 100 * c->pure_share, c->hint ? c->hint : "none", c->reason);
}

/* Print the whole table, as a record of the figures the thresholds face. */
static void print_report(const char *title, const struct leakage_report *r)
{
    printf("%s: %llu labelled rows (%llu positive), %zu columns, %.0f ms\n", title,
           (unsigned long long)r->labelled, (unsigned long long)r->positives, r->ncols, r->took_ms);
    for (size_t i = 0; i < r->ncols; i++) {
        const struct leakage_column *c = &r->cols[i];
        printf("  %-40.40s AUC %.3f  near-pure %2u (%5.1f %%)  %-7s %s\n", c->name, c->auc,
               c->pure_count, 100 * c->pure_share, leakage_level_name(c->level),
               c->hint ? c->hint : "");
    }
}

/* ---- name hints ------------------------------------------------------------------ */

static void test_name_hints(void **state)
{
    (void)state;
    static const struct {
        const char *name, *hint;
    } cases[] = {
        {"Deal Stage", "stage"},
        {"deal_stage", "stage"},
        {"DealStage", "stage"},
        {"dealStage", "stage"},
        {"LEAD-QUALITY", "quality"},
        {"Tags", "tags"},
        {"Lead Status", "status"},
        {"Closed?", "closed"},
        {"Loss Reason", "loss"},
        {"  won  ", "won"},
        {"Lead Source", NULL},
        {"Lead Origin", NULL},
        {"TotalVisits", NULL},
        {"Total Time Spent on Website", NULL},
        {"Last Notable Activity", NULL},
        {"Stagecoach", NULL}, /* words, not substrings */
        {"Upstage", NULL},
        {"Asymmetrique Activity Score", NULL},
        {"", NULL},
        {"-- __ --", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *got = leakage_name_hint(cases[k].name);
        if ((got == NULL) != (cases[k].hint == NULL) || (got && strcmp(got, cases[k].hint) != 0))
            fail_msg("leakage_name_hint(\"%s\") = %s, expected %s", cases[k].name,
                     got ? got : "NULL", cases[k].hint ? cases[k].hint : "NULL");
    }
    /* a word longer than any hint is read without overflow, and is no hint */
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_null(leakage_name_hint(longname));
    memcpy(longname + 250, " tags", 6);
    assert_string_equal(leakage_name_hint(longname), "tags");
}

/* ---- synthetic frames ---------------------------------------------------------------- */

static void test_synthetic_levels(void **state)
{
    (void)state;
    unsigned dead, gold;
    struct frame *f = synthetic_frame(1500, 7, &dead, &gold);
    struct target t;
    find_target(f, &t);
    assert_string_equal(t.name, "Converted");
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    print_report("synthetic", &r);

    assert_int_equal(r.labelled, 1500);
    assert_int_equal(r.rows_used, 1500);
    assert_int_equal(r.ncols, 6); /* not ID (identifier), not Converted (target) */
    assert_null(scanned(&r, "ID"));
    assert_null(scanned(&r, "Converted"));

    /* a copy of the target: AUC ≈ 1, both its values pure */
    const struct leakage_column *echo = must_scan(&r, "Echo");
    expect_level(echo, LEAKAGE_EXCLUDE);
    assert_true(echo->auc >= 0.99);
    assert_int_equal(echo->pure_count, 2);
    ASSERT_NEAR(echo->pure_share, 1.0, 1e-12);
    assert_non_null(strstr(echo->reason, "AUC 1.00"));
    assert_null(echo->hint);

    /* one value, all negative, over 30 % of the rows: exclude on the share */
    const struct leakage_column *bucket = must_scan(&r, "Bucket");
    expect_level(bucket, LEAKAGE_EXCLUDE);
    assert_true(bucket->auc < LEAKAGE_AUC_CHECK); /* excluded for its share, not its AUC */
    assert_int_equal(bucket->pure_count, 1);
    assert_int_equal(bucket->ntop, 1);
    assert_string_equal(bucket->top[0].label, "Dead");
    assert_int_equal(bucket->top[0].rows, dead);
    ASSERT_NEAR(bucket->top[0].rate, 0.0, 1e-12);
    ASSERT_NEAR(bucket->pure_share, (double)dead / 1500, 1e-12);
    assert_non_null(strstr(bucket->reason, "'Dead'"));
    assert_true(strncmp(bucket->reason, "1 value", 7) == 0); /* the share leads the sentence */

    /* one value, all positive, over 15 %: check */
    const struct leakage_column *seg = must_scan(&r, "Segment");
    expect_level(seg, LEAKAGE_CHECK);
    assert_string_equal(seg->top[0].label, "Gold");
    assert_int_equal(seg->top[0].rows, gold);
    ASSERT_NEAR(seg->top[0].rate, 1.0, 1e-12);
    assert_non_null(strstr(seg->reason, "check"));

    /* noise: no flag, no reason */
    static const char *const noise[] = {"Colour", "Visits"};
    for (size_t k = 0; k < 2; k++) {
        const struct leakage_column *c = must_scan(&r, noise[k]);
        expect_level(c, LEAKAGE_NONE);
        assert_true(c->auc < 0.6);
        assert_int_equal(c->pure_count, 0);
        assert_string_equal(c->reason, "");
    }

    /* noise named like a CRM stage: check, on the name alone */
    const struct leakage_column *stage = must_scan(&r, "Deal Stage");
    expect_level(stage, LEAKAGE_CHECK);
    assert_string_equal(stage->hint, "stage");
    assert_true(stage->auc < LEAKAGE_HINT_AUC);
    assert_int_equal(stage->pure_count, 0);
    assert_non_null(strstr(stage->reason, "'stage'"));

    assert_int_equal(leakage_count(&r, LEAKAGE_EXCLUDE), 2);
    assert_int_equal(leakage_count(&r, LEAKAGE_CHECK), 4);
    assert_int_equal(leakage_count(&r, LEAKAGE_NONE), 6);

    leakage_report_cleanup(&r);
    leakage_report_cleanup(&r); /* a cleaned report cleans again */
    target_cleanup(&t);
    frame_free(f);
}

/* The same seed gives the same figures whatever the thread count. */
static void test_deterministic_across_threads(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(800, 11, NULL, NULL);
    struct target t;
    find_target(f, &t);
    struct leakage_report a, b;
    scan_ok(f, &t, NULL, 1, &a);
    scan_ok(f, &t, NULL, 3, &b);
    assert_int_equal(a.ncols, b.ncols);
    for (size_t i = 0; i < a.ncols; i++) {
        assert_string_equal(a.cols[i].name, b.cols[i].name);
        ASSERT_SAME_BITS(a.cols[i].auc, b.cols[i].auc);
        assert_int_equal(a.cols[i].level, b.cols[i].level);
        assert_string_equal(a.cols[i].reason, b.cols[i].reason);
    }
    leakage_report_cleanup(&a);
    leakage_report_cleanup(&b);
    target_cleanup(&t);
    frame_free(f);
}

/* Past max_rows labelled rows, a seeded sample of exactly that many is measured. */
static void test_sampled_rows(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(1500, 7, NULL, NULL);
    struct target t;
    find_target(f, &t);
    struct leakage_opts o;
    leakage_opts_default(&o);
    o.max_rows = 600;
    o.threads = 2;
    struct leakage_report a, b, full;
    struct ls_error err;
    assert_int_equal(leakage_scan(f, &t, NULL, &o, &a, &err), LS_OK);
    assert_int_equal(leakage_scan(f, &t, NULL, &o, &b, &err), LS_OK);
    scan_ok(f, &t, NULL, 2, &full);
    assert_int_equal(a.labelled, 1500);
    assert_int_equal(a.rows_used, 600);
    assert_int_equal(full.rows_used, 1500);
    assert_true(a.positives > 200 && a.positives < 330); /* ~44 % of 600 */
    const struct leakage_column *bucket = must_scan(&a, "Bucket");
    expect_level(bucket, LEAKAGE_EXCLUDE);
    ASSERT_NEAR(bucket->pure_share, must_scan(&full, "Bucket")->pure_share, 0.06);
    assert_true(bucket->top[0].rows < 600 / 2);
    expect_level(must_scan(&a, "Echo"), LEAKAGE_EXCLUDE);
    expect_level(must_scan(&a, "Colour"), LEAKAGE_NONE);
    for (size_t i = 0; i < a.ncols; i++) /* the same sample twice */
        ASSERT_SAME_BITS(a.cols[i].auc, b.cols[i].auc);
    leakage_report_cleanup(&a);
    leakage_report_cleanup(&b);
    leakage_report_cleanup(&full);
    target_cleanup(&t);
    frame_free(f);
}

/* The scan sees what training would: --exclude'd columns are not scanned. */
static void test_exclusions_follow_training(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(600, 3, NULL, NULL);
    struct target t;
    find_target(f, &t);
    struct train_opts tr;
    train_opts_default(&tr);
    tr.exclude[tr.nexclude++] = "echo"; /* matched without case, as --exclude is */
    struct leakage_report r;
    scan_ok(f, &t, &tr, 2, &r);
    assert_int_equal(r.ncols, 5);
    assert_null(scanned(&r, "Echo"));
    leakage_report_cleanup(&r);

    tr.exclude[tr.nexclude++] = "No Such Column";
    struct ls_error err;
    ls_error_clear(&err);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(leakage_scan(f, &t, &tr, NULL, &r, &err), LS_ENOT_FOUND);
    assert_non_null(strstr(err.msg, "No Such Column"));
    target_cleanup(&t);
    frame_free(f);
}

/*
 * A rare outcome (3 %): most values are "≥ 97 % negative" by the base rate
 * alone. They must not count as near-pure; a value with no positive where 30
 * were expected still does.
 */
static void test_rare_outcome(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1u << 22);
    assert_int_equal(buf_puts(&b, "Region,Plan,Converted\n"), LS_OK);
    uint64_t s = 99;
    unsigned none_rows = 0;
    for (unsigned i = 0; i < 3000; i++) {
        int free_plan = i % 3 == 0;
        int y = !free_plan && uniform(&s) < 0.045;
        none_rows += (unsigned)free_plan;
        assert_int_equal(buf_printf(&b, "R%u,%s,%d\n", (unsigned)(next_rand(&s) % 6),
                                    free_plan ? "Free" : (i % 3 == 1 ? "Basic" : "Pro"), y),
                         LS_OK);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    struct target t;
    find_target(f, &t);
    assert_true(t.n_pos > 60 && t.n_pos < 130);
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    print_report("rare outcome", &r);

    const struct leakage_column *region = must_scan(&r, "Region");
    assert_int_equal(region->pure_count, 0); /* six values of ~3 %: ordinary */
    expect_level(region, LEAKAGE_NONE);

    const struct leakage_column *plan = must_scan(&r, "Plan");
    assert_int_equal(plan->pure_count, 1); /* Free: 1000 rows, no positive, ~30 expected */
    assert_string_equal(plan->top[0].label, "Free");
    assert_int_equal(plan->top[0].rows, none_rows);
    expect_level(plan, LEAKAGE_EXCLUDE); /* a third of the rows */
    leakage_report_cleanup(&r);
    target_cleanup(&t);
    frame_free(f);
}

/* Too few labelled rows, or one class: a clear error, *out untouched. */
static void test_tiny_and_one_class(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Colour,Converted\n"
                                   "red,1\nblue,0\nred,1\nblue,0\nred,0\n"
                                   "blue,1\nred,1\nblue,0\nred,\nblue,\n");
    struct target t;
    find_target(f, &t);
    struct leakage_report r;
    memset(&r, 0xA5, sizeof r);
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(leakage_scan(f, &t, NULL, NULL, &r, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "8 rows with a known outcome"));
    assert_non_null(strstr(err.msg, "at least 20"));
    assert_int_equal(r.ncols, (size_t)0xA5A5A5A5A5A5A5A5ull); /* untouched */
    target_cleanup(&t);
    frame_free(f);

    /* one class among the labelled rows: the target says 7 is positive, no row is 7 */
    f = synthetic_frame(200, 5, NULL, NULL);
    find_target(f, &t);
    assert_int_equal(t.kind, TARGET_BOOLEAN);
    t.kind = TARGET_NUMERIC;
    t.pos_value = 7;
    ls_error_clear(&err);
    assert_int_equal(leakage_scan(f, &t, NULL, NULL, &r, &err), LS_EONE_CLASS);
    assert_non_null(strstr(err.msg, "one class"));
    target_cleanup(&t);
    frame_free(f);

    /* only an identifier beside the target: nothing to scan */
    struct buf b;
    buf_init(&b, 1u << 16);
    assert_int_equal(buf_puts(&b, "ID,Converted\n"), LS_OK);
    for (int i = 0; i < 60; i++)
        assert_int_equal(buf_printf(&b, "id-%d,%d\n", i, i % 2), LS_OK);
    f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    find_target(f, &t);
    ls_error_clear(&err);
    assert_int_equal(leakage_scan(f, &t, NULL, NULL, &r, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "no column is left"));
    target_cleanup(&t);
    frame_free(f);
}

/* Two distinct values share a quantile range; one value reads as itself. */
static void test_numeric_value_labels(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1u << 22);
    assert_int_equal(buf_puts(&b, "Minutes,Converted\n"), LS_OK);
    uint64_t s = 17;
    for (unsigned i = 0; i < 2000; i++) {
        /* 0 minutes: never converted (400 rows); otherwise many distinct values */
        int zero = i % 5 == 0;
        double minutes = zero ? 0 : 1 + (double)(next_rand(&s) % 100000) / 100;
        int y = !zero && uniform(&s) < 0.5;
        assert_int_equal(buf_printf(&b, "%.2f,%d\n", minutes, y), LS_OK);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    struct target t;
    find_target(f, &t);
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    const struct leakage_column *c = must_scan(&r, "Minutes");
    assert_true(c->pure_count >= 1);
    assert_string_equal(c->top[0].label, "0");
    assert_int_equal(c->top[0].rows, 400);
    expect_level(c, LEAKAGE_CHECK); /* 20 %: between the check and exclude shares */
    leakage_report_cleanup(&r);
    target_cleanup(&t);
    frame_free(f);
}

static void test_json(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(600, 21, NULL, NULL);
    struct target t;
    find_target(f, &t);
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    json_t *all = leakage_json(&r, LEAKAGE_NONE), *flags = leakage_json(&r, LEAKAGE_CHECK),
           *ex = leakage_json(&r, LEAKAGE_EXCLUDE);
    assert_int_equal(json_array_size(all), r.ncols);
    assert_int_equal(json_array_size(flags), leakage_count(&r, LEAKAGE_CHECK));
    assert_int_equal(json_array_size(ex), 2);
    size_t i;
    json_t *o;
    int saw_stage = 0;
    json_array_foreach(flags, i, o)
    {
        const char *col = json_string_value(json_object_get(o, "column"));
        assert_non_null(col);
        const struct leakage_column *c = must_scan(&r, col);
        assert_string_equal(json_string_value(json_object_get(o, "level")),
                            leakage_level_name(c->level));
        assert_true(json_is_real(json_object_get(o, "auc")));
        ASSERT_NEAR(json_real_value(json_object_get(o, "auc")), c->auc, 1e-12);
        ASSERT_NEAR(json_real_value(json_object_get(o, "pure_share")), c->pure_share, 1e-12);
        json_t *vals = json_object_get(o, "pure_values");
        assert_int_equal(json_array_size(vals), c->ntop);
        for (size_t k = 0; k < c->ntop; k++) {
            json_t *v = json_array_get(vals, k);
            assert_string_equal(json_string_value(json_object_get(v, "value")), c->top[k].label);
            assert_int_equal(json_integer_value(json_object_get(v, "rows")), c->top[k].rows);
            assert_true(json_is_real(json_object_get(v, "rate")));
        }
        assert_true(json_is_boolean(json_object_get(o, "name_hint")));
        assert_int_equal(json_is_true(json_object_get(o, "name_hint")), c->hint != NULL);
        assert_string_equal(json_string_value(json_object_get(o, "reason")), c->reason);
        if (strcmp(col, "Deal Stage") == 0) {
            saw_stage = 1;
            assert_string_equal(json_string_value(json_object_get(o, "hint_word")), "stage");
        }
    }
    assert_true(saw_stage);
    json_decref(all);
    json_decref(flags);
    json_decref(ex);
    leakage_report_cleanup(&r);
    target_cleanup(&t);
    frame_free(f);
}

/* A long value with accents, cut to fit the label and the reason, stays valid UTF-8. */
static void test_long_utf8_value(void **state)
{
    (void)state;
    char value[601];
    for (size_t i = 0; i < 300; i++)
        memcpy(value + 2 * i, "\xC3\xA9", 2); /* é, 300 times: 600 bytes */
    value[600] = '\0';
    struct buf b;
    buf_init(&b, 1u << 22);
    assert_int_equal(buf_puts(&b, "Remark,Converted\n"), LS_OK);
    uint64_t s = 23;
    for (unsigned i = 0; i < 600; i++) {
        int gone = i % 2 == 0; /* half the leads: the long remark, never converted */
        assert_int_equal(buf_printf(&b, "%s,%d\n", gone ? value : (i % 4 == 1 ? "ok" : "maybe"),
                                    !gone && uniform(&s) < 0.6),
                         LS_OK);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    struct target t;
    find_target(f, &t);
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    const struct leakage_column *c = must_scan(&r, "Remark");
    expect_level(c, LEAKAGE_EXCLUDE);
    assert_true(strlen(c->top[0].label) > 100);
    assert_int_equal(strlen(c->top[0].label) % 2, 0); /* whole characters only */
    json_t *j = leakage_json(&r, LEAKAGE_CHECK);
    json_t *o = json_array_get(j, 0);
    const char *label = json_string_value(
        json_object_get(json_array_get(json_object_get(o, "pure_values"), 0), "value"));
    assert_non_null(label);
    assert_string_equal(label, c->top[0].label); /* not replaced: it was valid UTF-8 */
    assert_string_equal(json_string_value(json_object_get(o, "reason")), c->reason);
    assert_non_null(strstr(c->reason, "\xC3\xA9\xC3\xA9\xC3\xA9"));
    json_decref(j);
    leakage_report_cleanup(&r);
    target_cleanup(&t);
    frame_free(f);
}

/* --auto-exclude: the exclude-level columns join --exclude, and the model lacks them. */
static void test_auto_exclude_synthetic(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(1000, 13, NULL, NULL);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 20;
    o.forest.threads = 2;
    o.exclude[o.nexclude++] = "Colour";
    struct leakage_report r;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = leakage_auto_exclude(f, &o, &r, &err);
    if (rc)
        fail_msg("leakage_auto_exclude failed (%d): %s", rc, err.msg);
    assert_int_equal(o.nexclude, 3);
    assert_string_equal(o.exclude[0], "Colour");
    assert_string_equal(o.exclude[1], "Echo");
    assert_string_equal(o.exclude[2], "Bucket");
    assert_null(scanned(&r, "Colour")); /* already excluded: not scanned */

    struct model m;
    struct train_summary sum;
    rc = app_train(f, &o, &m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    assert_int_equal(m.schema.nfeat, 3); /* Segment, Visits, Deal Stage */
    for (size_t j = 0; j < m.schema.nfeat; j++)
        for (size_t k = 0; k < o.nexclude; k++)
            if (strcmp(m.schema.feat[j].name, o.exclude[k]) == 0)
                fail_msg("the model learned from excluded column '%s'", o.exclude[k]);
    model_cleanup(&m);
    train_summary_cleanup(&sum);
    leakage_report_cleanup(&r);

    /* a full exclusion list is an error, and o is unchanged */
    train_opts_default(&o);
    for (size_t k = 0; k < TRAIN_MAX_EXCLUDE - 1; k++)
        o.exclude[o.nexclude++] = "Colour";
    ls_error_clear(&err);
    assert_int_equal(leakage_auto_exclude(f, &o, &r, &err), LS_ELIMIT);
    assert_int_equal(o.nexclude, TRAIN_MAX_EXCLUDE - 1);
    frame_free(f);
}

/* The column by name in the summary's leakage report, or NULL. */
static const struct leakage_column *summary_column(const struct train_summary *s, const char *name)
{
    for (size_t i = 0; s->leakage && i < s->leakage->ncols; i++)
        if (strcmp(s->leakage->cols[i].name, name) == 0)
            return &s->leakage->cols[i];
    return NULL;
}

static int model_has(const struct model *m, const char *name)
{
    for (size_t j = 0; j < m->schema.nfeat; j++)
        if (strcmp(m->schema.feat[j].name, name) == 0)
            return 1;
    return 0;
}

/* Honest by default: app_train runs the scan itself and leaves the "exclude"
 * columns out, naming each with its reason in the summary (and in the JSON
 * train --json prints); include_leaky keeps them, still named. */
static void test_train_leaves_out_leaky_by_default(void **state)
{
    (void)state;
    struct frame *f = synthetic_frame(1000, 13, NULL, NULL);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 20;
    o.forest.threads = 2;
    struct model m;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(f, &o, &m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    assert_false(model_has(&m, "Echo"));
    assert_false(model_has(&m, "Bucket"));
    assert_true(model_has(&m, "Visits"));
    assert_true(model_has(&m, "Colour"));
    const struct leakage_column *echo = summary_column(&sum, "Echo");
    assert_non_null(echo);
    assert_int_equal(echo->level, LEAKAGE_EXCLUDE);
    assert_true(echo->reason[0] != '\0');
    json_t *j = json_object();
    train_summary_json(&sum, j);
    json_t *ex = json_object_get(j, "excluded");
    assert_int_equal(json_array_size(ex), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "column")),
                        "Echo");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "level")),
                        "exclude");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "reason")),
                        echo->reason);
    assert_true(json_is_number(json_object_get(json_array_get(ex, 0), "auc")));
    assert_int_equal(json_array_size(json_object_get(j, "auto_excluded")), 2);
    json_decref(j);
    double clean_auc = m.oob.auc;
    model_cleanup(&m);
    train_summary_cleanup(&sum);

    o.include_leaky = 1;
    rc = app_train(f, &o, &m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    assert_true(model_has(&m, "Echo"));
    assert_true(model_has(&m, "Bucket"));
    assert_non_null(summary_column(&sum, "Echo")); /* still named */
    j = json_object();
    train_summary_json(&sum, j);
    assert_int_equal(json_array_size(json_object_get(j, "excluded")), 0);
    assert_true(json_is_true(json_object_get(j, "include_leaky")));
    json_decref(j);
    printf("  out-of-bag AUC %.4f without the leaky columns, %.4f with them\n", clean_auc,
           m.oob.auc);
    assert_true(m.oob.auc > clean_auc);
    model_cleanup(&m);
    train_summary_cleanup(&sum);
    frame_free(f);
}

/* ---- Leads.csv ------------------------------------------------------------------------- */

static struct frame *leads_frame(void)
{
    if (!tu_leads_csv())
        return NULL;
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_file(tu_leads_csv(), &fo, &f, &err);
    if (rc)
        fail_msg("reading Leads.csv failed (%d): %s", rc, err.msg);
    return f;
}

static void test_leads_required_outcome(void **state)
{
    (void)state;
    struct frame *f = leads_frame();
    if (!f)
        skip();
    struct target t;
    find_target(f, &t);
    struct leakage_report r;
    scan_ok(f, &t, NULL, 2, &r);
    print_report("Leads.csv", &r);
    assert_int_equal(r.labelled, 9237);
    assert_int_equal(r.ncols, 29); /* 37 - 2 identifiers - 5 constants - the target */

    /* Tags: written by sales after the call */
    const struct leakage_column *tags = must_scan(&r, "Tags");
    expect_level(tags, LEAKAGE_EXCLUDE);
    assert_true(tags->auc >= 0.88 && tags->auc <= 0.95);
    assert_true(tags->pure_count >= 9 && tags->pure_count <= 13);
    assert_true(tags->pure_share >= 0.33 && tags->pure_share <= 0.41);
    assert_string_equal(tags->hint, "tags");
    assert_string_equal(tags->top[0].label, "Ringing"); /* the largest near-pure tag */
    assert_int_equal(tags->top[0].rows, 1202);
    assert_true(tags->top[0].rate < 0.03);
    assert_non_null(strstr(tags->reason, "AUC 0.9"));
    assert_non_null(strstr(tags->reason, "'Ringing'"));

    /* Lead Quality: a judgement made after contact */
    const struct leakage_column *lq = must_scan(&r, "Lead Quality");
    expect_level(lq, LEAKAGE_EXCLUDE);
    assert_true(lq->auc >= 0.74 && lq->auc <= 0.84);
    assert_string_equal(lq->hint, "quality");
    assert_int_equal(lq->pure_count, 1);
    assert_string_equal(lq->top[0].label, "Worst");
    assert_int_equal(lq->top[0].rows, 601);
    ASSERT_NEAR(lq->top[0].rate, 12.0 / 601, 1e-12);
    assert_non_null(strstr(lq->reason, "'quality'"));
    assert_non_null(strstr(lq->reason, "'Worst': 601 rows"));

    /* honest predictors: no flag at all */
    static const char *const clean[] = {"Lead Source", "TotalVisits", "Lead Origin",
                                        "Total Time Spent on Website"};
    for (size_t k = 0; k < 4; k++)
        expect_level(must_scan(&r, clean[k]), LEAKAGE_NONE);

    /* Lead Source does have one genuine near-pure value; it is too small to mean leakage */
    const struct leakage_column *src = must_scan(&r, "Lead Source");
    assert_int_equal(src->pure_count, 1);
    assert_string_equal(src->top[0].label, "Welingak Website");
    assert_int_equal(src->top[0].rows, 142);
    assert_true(src->top[0].rate > 0.98 && src->top[0].rate < 0.99);
    assert_true(src->pure_share < 0.02);

    /* and nothing else on the file is flagged */
    assert_int_equal(leakage_count(&r, LEAKAGE_CHECK), 2);
    leakage_report_cleanup(&r);
    target_cleanup(&t);
    frame_free(f);
}

/* train --auto-exclude on Leads.csv leaves out Tags and Lead Quality, and the
 * model without them is still a good one (out-of-bag AUC well above chance,
 * below the leaky model's). */
static void test_leads_auto_exclude(void **state)
{
    (void)state;
    struct frame *f = leads_frame();
    if (!f)
        skip();
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 30;
    o.forest.threads = 2;
    struct leakage_report r;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = leakage_auto_exclude(f, &o, &r, &err);
    if (rc)
        fail_msg("leakage_auto_exclude failed (%d): %s", rc, err.msg);
    assert_int_equal(o.nexclude, 2);
    assert_string_equal(o.exclude[0], "Tags");
    assert_string_equal(o.exclude[1], "Lead Quality");

    struct model clean, leaky;
    struct train_summary sum;
    assert_int_equal(app_train(f, &o, &clean, &sum, &err), LS_OK);
    assert_int_equal(sum.features, 27);
    train_summary_cleanup(&sum);
    for (size_t j = 0; j < clean.schema.nfeat; j++)
        if (strcmp(clean.schema.feat[j].name, "Tags") == 0 ||
            strcmp(clean.schema.feat[j].name, "Lead Quality") == 0)
            fail_msg("the model learned from '%s'", clean.schema.feat[j].name);
    o.nexclude = 0;
    o.include_leaky = 1; /* every column */
    assert_int_equal(app_train(f, &o, &leaky, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    printf("Leads.csv out-of-bag AUC: %.4f with every column, %.4f with --auto-exclude\n",
           leaky.oob.auc, clean.oob.auc);
    assert_true(clean.oob.auc > 0.85);
    assert_true(clean.oob.auc < leaky.oob.auc - 0.02);
    model_cleanup(&clean);
    model_cleanup(&leaky);
    leakage_report_cleanup(&r);
    frame_free(f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_hints),
        cmocka_unit_test(test_synthetic_levels),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_sampled_rows),
        cmocka_unit_test(test_exclusions_follow_training),
        cmocka_unit_test(test_rare_outcome),
        cmocka_unit_test(test_tiny_and_one_class),
        cmocka_unit_test(test_numeric_value_labels),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_long_utf8_value),
        cmocka_unit_test(test_auto_exclude_synthetic),
        cmocka_unit_test(test_train_leaves_out_leaky_by_default),
    };
    const struct CMUnitTest leads[] = {
        cmocka_unit_test(test_leads_required_outcome),
        cmocka_unit_test(test_leads_auto_exclude),
    };
    return TU_MAIN_SPLIT(argc, argv, "leakage", tests, NULL, NULL, leads, NULL, NULL);
}
