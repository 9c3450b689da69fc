/*
 * test_chat_facts.c — a scored run's facts (chat_facts_build) and plans
 * over them: facts bounded on a column of 10,000 distinct values and on
 * 700 columns of long values; on generated leads, the facts counted again
 * here from the frame and the labels, a plan per intent whose numbers are
 * computed here from the run, and a run without outcomes.
 */
#include "test_chat.h"

#include "app/explain.h"
#include "app/run.h"
#include "app/train.h"
#include "chat/chat.h"
#include "chat/chat_internal.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

/* ---- facts of real runs ------------------------------------------------------------ */

static int train(const struct frame *f, uint32_t trees, struct model *m)
{
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = trees;
    o.forest.threads = 2;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    if (app_train(f, &o, m, &sum, &err)) {
        fprintf(stderr, "app_train: %s\n", err.msg);
        return -1;
    }
    train_summary_cleanup(&sum);
    return 0;
}

static void run_ok(const struct model *m, const struct frame *f, struct run_result *res)
{
    struct run_opts o;
    run_opts_default(&o);
    o.model = m;
    o.frame = f;
    o.score.threads = 2;
    o.explain = 1;
    struct ls_error err;
    ls_error_clear(&err);
    if (app_run_score(&o, res, &err))
        fail_msg("app_run_score: %s", err.msg);
}

/* 20,000 leads, a category with 10,000 distinct values and a number with
 * 20,000: the facts list 40 values and the rest as one, within the limit. */
static void test_facts_bounded(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8u << 20);
    buf_puts(&b, "Agent,Amount,Channel,Converted\n");
    uint64_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int conv = (int)((seed >> 33) % 100) < 30 + (i % 7) * 5;
        buf_printf(&b, "A%05d,%d.%02d,%s,%d\n", i / 2, i * 7 % 20011, i % 100,
                   i % 3 ? "web" : "phone", conv);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    assert_int_equal(f->cols[tu_col(f, "Agent")].type, COL_CATEGORICAL);
    struct model m;
    assert_int_equal(train(f, 5, &m), 0);
    tu_feature_index(&m, "Agent"); /* a model column */
    struct run_result res;
    run_ok(&m, f, &res);
    json_t *sum = explain_summary_json(res.m, &res.score, &res.ex);
    struct chat_run_input in = {&m, &res, sum, NULL, NULL, "many.csv"};
    json_t *facts = chat_facts_build(&in);
    assert_non_null(facts);
    size_t size = json_dumpb(facts, NULL, 0, JSON_COMPACT);
    assert_true(size <= CHAT_FACTS_MAX);
    assert_true(size < 64u << 10); /* a few columns: far under */
    json_t *cols = json_object_get(facts, "columns"), *c;
    size_t i;
    int seen_agent = 0;
    json_array_foreach(cols, i, c)
    {
        json_t *vals = json_object_get(c, "values");
        assert_true(json_array_size(vals) <= 41);
        if (strcmp(json_string_value(json_object_get(c, "name")), "Agent") != 0)
            continue;
        seen_agent = 1;
        assert_int_equal(json_array_size(vals), 41);
        json_t *last = json_array_get(vals, 40);
        assert_true(json_is_true(json_object_get(last, "other")));
        /* every lead is counted once */
        json_int_t total = 0;
        size_t k;
        json_t *v;
        json_array_foreach(vals, k, v) total += json_integer_value(json_object_get(v, "leads"));
        assert_int_equal(total, 20000);
        assert_true(json_integer_value(json_object_get(c, "distinct_values")) > 40);
    }
    assert_true(seen_agent);
    /* the numeric column: quantile bins, not 20,000 values */
    json_array_foreach(cols, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), "Amount") == 0) {
            assert_true(json_array_size(json_object_get(c, "values")) <= 6);
            assert_non_null(json_object_get(c, "median_split"));
        }
    }
    struct chat_index *ix = NULL;
    struct ls_error err;
    assert_int_equal(chat_index_new(facts, &ix, &err), LS_OK);
    chat_index_free(ix);
    json_decref(facts);
    json_decref(sum);
    run_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

/* 700 columns of 50 long values each: more than CHAT_FACTS_MAX as listed,
 * so the least important columns give up their values. */
static void test_facts_shed(void **state)
{
    (void)state;
    enum { ROWS = 100, COLS = 700 };
    struct buf b;
    buf_init(&b, 64u << 20);
    char pad[161];
    memset(pad, 'x', 150);
    pad[150] = 0;
    for (int c = 0; c < COLS; c++)
        buf_printf(&b, "c%03d,", c);
    buf_puts(&b, "Converted\n");
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++)
            buf_printf(&b, "%s%03d-%02d,", pad, c, (r / 2 + c) % (ROWS / 2));
        buf_printf(&b, "%d\n", (r * 7 + r / 3) % 3 == 0);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    struct model m;
    assert_int_equal(train(f, 3, &m), 0);
    assert_true(m.schema.nfeat >= 600);
    struct run_result res;
    run_ok(&m, f, &res);
    json_t *sum = explain_summary_json(res.m, &res.score, &res.ex);
    struct chat_run_input in = {&m, &res, sum, NULL, NULL, "wide.csv"};
    json_t *facts = chat_facts_build(&in);
    assert_non_null(facts);
    assert_true(json_dumpb(facts, NULL, 0, JSON_COMPACT) <= CHAT_FACTS_MAX);
    /* every column is still named; some lost their values */
    json_t *cols = json_object_get(facts, "columns"), *c;
    assert_int_equal(json_array_size(cols), m.schema.nfeat);
    size_t i, empty = 0;
    json_array_foreach(cols, i, c) empty += json_array_size(json_object_get(c, "values")) == 0;
    assert_true(empty > 0 && empty < m.schema.nfeat);
    struct chat_index *ix = NULL;
    struct ls_error err;
    assert_int_equal(chat_index_new(facts, &ix, &err), LS_OK);
    chat_index_free(ix);
    json_decref(facts);
    json_decref(sum);
    run_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

/* ---- generated leads: a plan per intent ----------------------------------------------- */

struct demo {
    struct frame *f;
    struct model m;
    struct run_result res;
    json_t *facts;
    struct chat_index *ix;
    uint64_t *by_rank;
};

static json_t *demo_lead(const struct demo *d, uint64_t i)
{
    json_t *o = run_lead_json(&d->res, i);
    /* chat_leads' shape: label and the reasons object */
    json_t *out = json_object();
    json_object_set(out, "row", json_object_get(o, "row"));
    json_object_set(out, "id", json_object_get(o, "id"));
    json_object_set(out, "score", json_object_get(o, "score"));
    json_object_set(out, "tier", json_object_get(o, "tier"));
    json_object_set(out, "rank", json_object_get(o, "rank"));
    json_object_set_new(out, "label",
                        d->res.score.label[i] >= 0 ? json_integer(d->res.score.label[i])
                                                   : json_null());
    json_object_set(out, "reasons", json_object_get(o, "reasons"));
    json_decref(o);
    return out;
}

static int demo_by_id(void *ctx, const char *id, json_t **lead)
{
    struct demo *d = ctx;
    uint64_t row;
    if (run_find_id(&d->res, id, &row) <= 0)
        return LS_ENOT_FOUND;
    *lead = demo_lead(d, row);
    return LS_OK;
}

static int demo_by_row(void *ctx, uint64_t row, json_t **lead)
{
    struct demo *d = ctx;
    if (row < 1 || row > d->res.score.n)
        return LS_ENOT_FOUND;
    *lead = demo_lead(d, row - 1);
    return LS_OK;
}

static int demo_ranked(void *ctx, int desc, int tier, size_t n, json_t **leads)
{
    struct demo *d = ctx;
    json_t *a = json_array();
    uint64_t N = d->res.score.n;
    for (uint64_t k = 0; k < N && json_array_size(a) < n; k++) {
        uint64_t i = d->by_rank[desc ? k : N - 1 - k];
        if (tier < 0 || d->res.score.tier[i] == tier)
            json_array_append_new(a, demo_lead(d, i));
    }
    *leads = a;
    return LS_OK;
}

static int demo_setup(void **state)
{
    struct demo *d = calloc(1, sizeof *d);
    char *text = tu_demo_text(3000, 7);
    d->f = tu_frame_mem(text);
    free(text);
    if (train(d->f, 30, &d->m))
        return -1;
    struct run_opts o;
    run_opts_default(&o);
    o.model = &d->m;
    o.frame = d->f;
    o.score.threads = 2;
    o.explain = 1;
    struct ls_error err;
    if (app_run_score(&o, &d->res, &err))
        return -1;
    json_t *sum = explain_summary_json(d->res.m, &d->res.score, &d->res.ex);
    struct chat_run_input in = {&d->m, &d->res, sum, NULL, NULL, "demo.csv"};
    d->facts = chat_facts_build(&in);
    json_decref(sum);
    if (!d->facts || chat_index_new(d->facts, &d->ix, &err))
        return -1;
    d->by_rank = xmalloc(d->res.score.n * sizeof *d->by_rank);
    for (uint64_t i = 0; i < d->res.score.n; i++)
        d->by_rank[d->res.score.rank[i] - 1] = i;
    *state = d;
    return 0;
}

static int demo_teardown(void **state)
{
    struct demo *d = *state;
    chat_index_free(d->ix);
    json_decref(d->facts);
    run_result_cleanup(&d->res);
    model_cleanup(&d->m);
    frame_free(d->f);
    free(d->by_rank);
    free(d);
    return 0;
}

static void demo_plan(struct demo *d, const char *q, const char *intent, struct chat_plan *p)
{
    struct chat_leads L = {demo_by_id, demo_by_row, demo_ranked, d};
    struct ls_error err;
    if (chat_plan(d->ix, &L, q, NULL, p, &err) != LS_OK)
        fail_msg("chat_plan(\"%s\"): %s", q, err.msg);
    if (strcmp(p->intent, intent) != 0)
        fail_msg("\"%s\": intent %s, want %s\nanswer: %s", q, p->intent, intent, p->answer);
}

/* A category's leads and conversion rate over the leads of known outcome,
 * counted here from the frame and the run's labels. */
static void demo_rate(const struct demo *d, const char *col, const char *value, uint64_t *leads,
                      uint64_t *lab, uint64_t *pos)
{
    const struct column *c = &d->f->cols[tu_col(d->f, col)];
    *leads = *lab = *pos = 0;
    for (uint64_t i = 0; i < d->f->nrows; i++) {
        if (c->cat[i] == FRAME_NA || strcmp(c->cats[c->cat[i]], value) != 0)
            continue;
        (*leads)++;
        if (d->res.score.label[i] >= 0) {
            (*lab)++;
            *pos += d->res.score.label[i] == 1;
        }
    }
}

static void test_demo_facts(void **state)
{
    struct demo *d = *state;
    const json_t *ov = json_object_get(d->facts, "overview");
    uint64_t lab = 0, pos = 0;
    for (uint64_t i = 0; i < d->res.score.n; i++)
        if (d->res.score.label[i] >= 0) {
            lab++;
            pos += d->res.score.label[i] == 1;
        }
    assert_int_equal(json_integer_value(json_object_get(ov, "total")), 3000);
    assert_int_equal(json_integer_value(json_object_get(ov, "labelled")), lab);
    assert_int_equal(json_integer_value(json_object_get(ov, "converted")), pos);
    assert_true(lab < 3000); /* the demo leaves some outcomes unknown */
    /* each value of Lead Source: the same counts as counted here */
    const json_t *cols = json_object_get(d->facts, "columns"), *c;
    size_t i;
    int seen = 0;
    json_array_foreach(cols, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), "Lead Source") != 0)
            continue;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(c, "values"), k, v)
        {
            if (json_is_true(json_object_get(v, "missing")))
                continue;
            uint64_t n, l, p;
            demo_rate(d, "Lead Source", json_string_value(json_object_get(v, "value")), &n, &l, &p);
            assert_int_equal(json_integer_value(json_object_get(v, "leads")), n);
            assert_int_equal(json_integer_value(json_object_get(v, "labelled")), l);
            ASSERT_NEAR(json_real_value(json_object_get(v, "conversion_rate")),
                        (double)p / (double)l, 1e-12);
            assert_true(json_is_number(json_object_get(v, "mean_points")));
            seen++;
        }
    }
    assert_true(seen >= 3);
    /* tiers */
    const json_t *tiers = json_object_get(d->facts, "tiers");
    ASSERT_STR(json_string_value(json_object_get(json_array_get(tiers, 0), "tier")), "High");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tiers, 0), "leads")),
                     d->res.score.tier_count[TIER_HIGH]);
}

static void test_demo_plans(void **state)
{
    struct demo *d = *state;
    struct chat_plan p;
    char want[256], n[32];

    demo_plan(d, "How many leads are High?", "count", &p);
    chat__fmt_int(d->res.score.tier_count[TIER_HIGH], n, sizeof n);
    snprintf(want, sizeof want, "%s leads", n);
    ASSERT_HAS(p.answer, want);
    chat_plan_cleanup(&p);

    uint64_t leads, lab, pos;
    demo_rate(d, "Lead Source", "Google", &leads, &lab, &pos);
    demo_plan(d, "What is the conversion rate of Lead Source = Google?", "rate", &p);
    snprintf(want, sizeof want, "%.1f%%", 100.0 * (double)pos / (double)lab);
    ASSERT_HAS(p.answer, want);
    ASSERT_HAS(p.answer, "Lead Source = Google");
    chat_plan_cleanup(&p);

    /* the best source among those with 30+ leads of known outcome */
    const struct column *c = &d->f->cols[tu_col(d->f, "Lead Source")];
    double best = -1;
    const char *best_name = NULL;
    for (uint32_t k = 0; k < c->ncat; k++) {
        demo_rate(d, "Lead Source", c->cats[k], &leads, &lab, &pos);
        double r = lab ? (double)pos / (double)lab : -1;
        if (lab >= 30 && r > best) {
            best = r;
            best_name = c->cats[k];
        }
    }
    assert_non_null(best_name);
    demo_plan(d, "Which lead source converts best?", "top", &p);
    snprintf(want, sizeof want, "Lead Source = %s converts best", best_name);
    ASSERT_HAS(p.answer, want);
    snprintf(want, sizeof want, "%.1f%%", 100.0 * best);
    ASSERT_HAS(p.answer, want);
    chat_plan_cleanup(&p);

    demo_plan(d, "Compare Google and LinkedIn", "compare", &p);
    ASSERT_HAS(p.answer, "Lead Source = Google");
    ASSERT_HAS(p.answer, "Lead Source = LinkedIn");
    ASSERT_HAS(p.answer, "percentage points");
    chat_plan_cleanup(&p);

    demo_plan(d, "Why is row 5 scored like this?", "why", &p);
    snprintf(want, sizeof want, "scores %.1f out of 100: %s tier", d->res.score.score[4],
             tier_name((enum tier)d->res.score.tier[4]));
    ASSERT_HAS(p.answer, want);
    chat_plan_cleanup(&p);

    demo_plan(d, "why is lead L-0000010 in its tier?", "why", &p);
    snprintf(want, sizeof want, "scores %.1f", d->res.score.score[9]);
    ASSERT_HAS(p.answer, want);
    chat_plan_cleanup(&p);

    demo_plan(d, "Who are the top 3 leads?", "top", &p);
    ASSERT_HAS(p.answer, frame_cell(d->f, (size_t)d->res.score.id_col, d->by_rank[0]));
    ASSERT_HAS(p.answer, "The 3 highest-scoring leads");
    chat_plan_cleanup(&p);

    demo_plan(d, "Which leads are least likely to convert?", "bottom", &p);
    ASSERT_HAS(p.answer,
               frame_cell(d->f, (size_t)d->res.score.id_col, d->by_rank[d->res.score.n - 1]));
    chat_plan_cleanup(&p);

    demo_plan(d, "How good is the model?", "quality", &p);
    snprintf(want, sizeof want, "AUC %.3f", d->res.score.metrics.auc);
    ASSERT_HAS(p.answer, want);
    chat_plan_cleanup(&p);

    demo_plan(d, "Which columns matter most?", "importance", &p);
    const char *first = json_string_value(
        json_object_get(json_array_get(json_object_get(d->facts, "importance"), 0), "column"));
    ASSERT_HAS(p.answer, first);
    chat_plan_cleanup(&p);

    demo_plan(d, "What drifted?", "drift", &p);
    ASSERT_HAS(p.answer, "no column drifted"); /* scored on its own training file */
    chat_plan_cleanup(&p);

    demo_plan(d, "How does time on site affect conversion?", "rate", &p);
    ASSERT_HAS(p.answer, "Time on Site (s)");
    ASSERT_HAS(p.answer, "(its median)");
    chat_plan_cleanup(&p);

    demo_plan(d, "Which columns were left out as leaky?", "leakage", &p);
    ASSERT_HAS(p.answer, "not known");
    chat_plan_cleanup(&p);

    demo_plan(d, "What's for lunch?", "general", &p);
    ASSERT_HAS(p.answer, "I can only answer");
    chat_plan_cleanup(&p);
}

/* New leads without an outcome column: rates cannot be measured and the
 * answers say so; best and worst values come from the model's points. */
static void test_demo_unlabelled(void **state)
{
    struct demo *d = *state;
    char *text = tu_frame_csv(d->f, "Converted");
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct run_result res;
    run_ok(&d->m, f, &res);
    json_t *sum = explain_summary_json(res.m, &res.score, &res.ex);
    struct chat_run_input in = {&d->m, &res, sum, NULL, NULL, "new.csv"};
    json_t *facts = chat_facts_build(&in);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(facts, "overview"), "labelled")), 0);
    struct chat_index *ix = NULL;
    struct ls_error err;
    assert_int_equal(chat_index_new(facts, &ix, &err), LS_OK);
    struct chat_plan p;
    assert_int_equal(chat_plan(ix, NULL, "which lead source converts best?", NULL, &p, &err),
                     LS_OK);
    ASSERT_HAS(p.answer, "No lead of this run has a known outcome");
    ASSERT_HAS(p.answer, "By the model, Lead Source = ");
    chat_plan_cleanup(&p);
    assert_int_equal(chat_plan(ix, NULL, "How good is the model?", NULL, &p, &err), LS_OK);
    ASSERT_HAS(p.answer, "measured at training");
    ASSERT_LACKS(p.answer, "Accuracy");
    chat_plan_cleanup(&p);
    assert_int_equal(chat_plan(ix, NULL, "conversion rate of Google", NULL, &p, &err), LS_OK);
    ASSERT_HAS(p.answer, "none with a known outcome");
    ASSERT_LACKS(p.answer, "%");
    chat_plan_cleanup(&p);
    chat_index_free(ix);
    json_decref(facts);
    json_decref(sum);
    run_result_cleanup(&res);
    frame_free(f);
}

int main(void)
{
    const struct CMUnitTest base[] = {
        cmocka_unit_test(test_facts_bounded),
        cmocka_unit_test(test_facts_shed),
    };
    const struct CMUnitTest demo[] = {
        cmocka_unit_test(test_demo_facts),
        cmocka_unit_test(test_demo_plans),
        cmocka_unit_test(test_demo_unlabelled),
    };
    int rc = cmocka_run_group_tests_name("chat facts", base, NULL, NULL);
    rc |= cmocka_run_group_tests_name("chat on generated leads", demo, demo_setup, demo_teardown);
    return rc;
}
