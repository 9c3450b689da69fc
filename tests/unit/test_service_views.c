/*
 * test_service_views.c — reading runs back through the service
 * (app/service.h): pages of leads (paging, sorting, filtering), one lead in
 * full (every field, contributions adding up to raw − base), explanations
 * on demand for a run too big to explain whole, the export CSV (one row per
 * lead, formula cells neutralised, plain numbers kept), the old client's
 * results, and real-time scoring (the same score as a run, to 1e-9; its
 * errors). A service is opened on a temporary data directory and a run is
 * made on generated leads with a column of spreadsheet-formula cells.
 * (test_service_views_leads.c does the same on Leads.csv and prints the
 * real-time path's cost.)
 */
#include "testutil.h"

#include "app/service.h"
#include "core/mem.h"
#include "core/sha256.h"
#include "data/demo.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 600

/* The cells of the added column, row by row (CSV-quoted when needed). */
static const char *const note_csv[] = {"\"=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\"",
                                       "+1",
                                       "@x",
                                       "-3",
                                       "-x",
                                       "plain",
                                       "\"\tTab\"",
                                       "2.5"};
static const char *const note_raw[] = {
    "=HYPERLINK(\"http://x.example\",\"y\")", "+1", "@x", "-3", "-x", "plain", "\tTab", "2.5"};
static const char *const note_export[] = {
    "'=HYPERLINK(\"http://x.example\",\"y\")", "+1", "'@x", "-3", "'-x", "plain", "'\tTab", "2.5"};
#define NNOTE (sizeof note_csv / sizeof *note_csv)

struct fx {
    char dir[256];
    struct service *s;
    int64_t dataset_id, run_id, model_id;
    char *csv; /* the uploaded file's text */
    struct frame *f;
};

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Generated leads with a "Note" column of formula-looking cells. */
static char *leads_text(uint64_t rows, uint64_t seed)
{
    char *demo = tu_demo_text(rows, seed), *out = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&out, &len);
    assert_non_null(mf);
    size_t k = 0;
    for (char *line = demo; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        fwrite(line, 1, n, mf);
        fputs(",", mf);
        fputs(k == 0 ? "Note" : note_csv[(k - 1) % NNOTE], mf);
        fputc('\n', mf);
        k++;
        line += n + (nl ? 1 : 0);
    }
    fclose(mf);
    free(demo);
    return out;
}

static int64_t upload(struct service *s, const char *text, size_t len, const char *name)
{
    char tmp[1024];
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(store_tmp_path(service_store(s), "up", "csv", tmp, sizeof tmp, &err), LS_OK);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    char fp[SHA256_HEX];
    sha256_hex(text, len, fp);
    struct service_upload u = {tmp, name, fp, len};
    json_t *o = NULL;
    int rc = service_dataset_add(s, &u, &o, &err);
    if (rc)
        fail_msg("upload: %s", err.msg);
    int64_t id = json_integer_value(json_object_get(o, "dataset_id"));
    assert_true(id > 0);
    json_decref(o);
    return id;
}

/* Run a data set (model_id 0: train first) and wait; returns the run id. */
static int64_t run(struct service *s, int64_t dataset_id, int64_t model_id, int64_t *model_out)
{
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    service_train_init(&r.train);
    r.dataset_id = dataset_id;
    r.model_id = model_id;
    r.train.dataset_id = dataset_id;
    r.train.trees = 40;
    struct service_job *job = NULL;
    int64_t run_id = 0;
    json_t *cached = NULL, *res = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = service_run_submit(s, &r, NULL, NULL, &job, &run_id, &cached, &err);
    if (rc)
        fail_msg("run: %s", err.msg);
    if (job) {
        service_job_wait(job);
        rc = service_job_result(job, &res, &err);
        if (rc)
            fail_msg("run job: %s", err.msg);
        service_job_release(job);
    } else {
        res = cached;
    }
    run_id = json_integer_value(json_object_get(res, "run_id"));
    if (model_out)
        *model_out = json_integer_value(json_object_get(res, "model_id"));
    json_decref(res);
    assert_true(run_id > 0);
    return run_id;
}

static int fx_open(void **state, uint64_t explain_max)
{
    struct fx *x = xcalloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/ls-views-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    struct service_opts o;
    service_opts_default(&o);
    o.data_dir = x->dir;
    o.threads = 2;
    if (explain_max)
        o.explain_max = explain_max;
    struct ls_error err;
    ls_error_clear(&err);
    if (service_open(&o, &x->s, &err))
        fail_msg("service_open: %s", err.msg);
    x->csv = leads_text(ROWS, 7);
    x->dataset_id = upload(x->s, x->csv, strlen(x->csv), "leads.csv");
    x->run_id = run(x->s, x->dataset_id, 0, &x->model_id);
    x->f = tu_frame_mem(x->csv);
    *state = x;
    return 0;
}

static int setup(void **state)
{
    return fx_open(state, 0);
}

static int teardown(void **state)
{
    struct fx *x = *state;
    if (!x)
        return 0;
    service_close(x->s);
    rm_rf(x->dir);
    frame_free(x->f);
    free(x->csv);
    free(x);
    return 0;
}

static json_t *page(struct service *s, int64_t run_id, int tier, const char *q, const char *sort,
                    int desc, uint64_t offset, uint64_t limit)
{
    struct store_lead_query lq = {tier, q, sort, desc, offset, limit};
    json_t *o = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = service_leads(s, run_id, &lq, &o, &err);
    if (rc)
        fail_msg("service_leads: %s", err.msg);
    return o;
}

static int tier_of(const char *name)
{
    return strcmp(name, "High") == 0 ? 2 : strcmp(name, "Medium") == 0 ? 1 : 0;
}

static void test_leads_pages(void **state)
{
    struct fx *x = *state;
    json_t *o = page(x->s, x->run_id, -1, NULL, "score", 1, 0, 25);
    json_t *a = json_object_get(o, "leads");
    assert_int_equal(json_array_size(a), 25);
    assert_int_equal(json_integer_value(json_object_get(o, "total")), ROWS);
    assert_true(json_is_true(json_object_get(o, "explained")));
    assert_true(json_is_false(json_object_get(o, "explained_on_demand")));
    double prev = 1e9;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *l = json_array_get(a, i);
        double sc = json_real_value(json_object_get(l, "score"));
        assert_true(sc <= prev);
        prev = sc;
        assert_true(json_is_object(json_object_get(l, "reasons")));
        assert_true(json_is_array(json_object_get(json_object_get(l, "reasons"), "for")));
        assert_true(json_is_object(json_object_get(l, "display")));
        assert_true(json_is_string(json_object_get(l, "id")));
        json_int_t row = json_integer_value(json_object_get(l, "row"));
        assert_true(row >= 1 && row <= ROWS);
    }
    json_decref(o);
    /* the next page goes on where this one stopped: ranks 26.. by rank */
    o = page(x->s, x->run_id, -1, NULL, "rank", 0, 25, 10);
    a = json_object_get(o, "leads");
    for (size_t i = 0; i < json_array_size(a); i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(a, i), "rank")),
                         26 + (json_int_t)i);
    json_decref(o);
    /* a tier filter: only that tier, and all of it */
    json_int_t seen = 0;
    for (int t = 0; t <= 2; t++) {
        o = page(x->s, x->run_id, t, NULL, "score", 1, 0, 500);
        a = json_object_get(o, "leads");
        for (size_t i = 0; i < json_array_size(a); i++)
            assert_int_equal(
                tier_of(json_string_value(json_object_get(json_array_get(a, i), "tier"))), t);
        assert_int_equal(json_array_size(a), json_integer_value(json_object_get(o, "total")));
        seen += json_integer_value(json_object_get(o, "total"));
        json_decref(o);
    }
    assert_int_equal(seen, ROWS);
    /* a text filter on the id */
    o = page(x->s, x->run_id, -1, "L-0000123", "score", 1, 0, 10);
    assert_int_equal(json_integer_value(json_object_get(o, "total")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "leads"), 0), "id")),
        "L-0000123");
    json_decref(o);
    /* past the end: an empty page, the same total */
    o = page(x->s, x->run_id, -1, NULL, "score", 1, ROWS + 5, 10);
    assert_int_equal(json_array_size(json_object_get(o, "leads")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "total")), ROWS);
    json_decref(o);
    /* unknown run, unknown sort */
    struct store_lead_query lq = {-1, NULL, "score", 1, 0, 10};
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(service_leads(x->s, 999999, &lq, &o, &err), LS_ENOT_FOUND);
    lq.sort = "no such column";
    assert_int_equal(service_leads(x->s, x->run_id, &lq, &o, &err), LS_EINPUT);
}

/* One lead: every field of its file row, contributions adding up to raw −
 * base, largest |points| first, a sentence and an action. */
static void check_lead(const struct frame *f, json_t *l, uint64_t row)
{
    assert_int_equal(json_integer_value(json_object_get(l, "row")), row);
    json_t *fields = json_object_get(l, "fields");
    assert_int_equal(json_object_size(fields), f->ncols);
    for (size_t c = 0; c < f->ncols; c++) {
        const char *got = json_string_value(json_object_get(fields, f->cols[c].name));
        assert_non_null(got);
        assert_string_equal(got, frame_cell(f, c, row - 1));
    }
    double base = json_real_value(json_object_get(l, "base"));
    double raw = json_real_value(json_object_get(l, "raw"));
    json_t *cs = json_object_get(l, "contributions");
    assert_true(json_array_size(cs) > 0);
    double sum = 0, prev = 1e9;
    for (size_t i = 0; i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        double p = json_real_value(json_object_get(c, "points"));
        assert_true(fabs(p) <= prev + 1e-12);
        prev = fabs(p);
        sum += p;
        assert_true(json_is_string(json_object_get(c, "column")));
        assert_true(json_is_string(json_object_get(c, "value")));
    }
    ASSERT_NEAR(sum, raw - base, 1e-6);
    const char *ex = json_string_value(json_object_get(l, "explanation"));
    assert_non_null(ex);
    assert_memory_equal(ex, "Scored ", 7);
    assert_non_null(json_string_value(json_object_get(l, "next_action")));
    assert_true(json_is_object(json_object_get(l, "reasons")));
    double score = json_real_value(json_object_get(l, "score"));
    assert_true(score >= 0 && score <= 100);
}

static void test_lead_full(void **state)
{
    struct fx *x = *state;
    struct ls_error err;
    ls_error_clear(&err);
    for (uint64_t row = 1; row <= ROWS; row += 149) {
        json_t *l = NULL;
        if (service_lead(x->s, x->run_id, row, &l, &err))
            fail_msg("service_lead: %s", err.msg);
        check_lead(x->f, l, row);
        /* the contribution of Note names the lead's own cell */
        json_t *cs = json_object_get(l, "contributions");
        for (size_t i = 0; i < json_array_size(cs); i++) {
            json_t *c = json_array_get(cs, i);
            if (strcmp(json_string_value(json_object_get(c, "column")), "Note") == 0)
                assert_string_equal(json_string_value(json_object_get(c, "value")),
                                    note_raw[(row - 1) % NNOTE]);
        }
        json_decref(l);
    }
    json_t *l = NULL;
    assert_int_equal(service_lead(x->s, x->run_id, ROWS + 1, &l, &err), LS_ENOT_FOUND);
    assert_int_equal(service_lead(x->s, 424242, 1, &l, &err), LS_ENOT_FOUND);
}

/* A run over explain_max leads is explained a page (or a lead) at a time,
 * stored, and says so; the values are those of the fully explained run. */
static void test_on_demand(void **state)
{
    struct fx *x = *state;
    void *st2 = NULL;
    fx_open(&st2, 100);
    struct fx *y = st2;
    json_t *o = page(y->s, y->run_id, -1, NULL, "score", 1, 0, 20);
    assert_true(json_is_false(json_object_get(o, "explained")));
    assert_true(json_is_true(json_object_get(o, "explained_on_demand")));
    json_t *a = json_object_get(o, "leads");
    assert_int_equal(json_array_size(a), 20);
    json_t *full = page(x->s, x->run_id, -1, NULL, "score", 1, 0, 20);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *l = json_array_get(a, i), *m = json_array_get(json_object_get(full, "leads"), i);
        assert_true(json_is_array(json_object_get(json_object_get(l, "reasons"), "for")));
        /* the same model (same data, options, seed): the same reasons */
        json_t *lf = json_object_get(json_object_get(l, "reasons"), "for");
        json_t *mf = json_object_get(json_object_get(m, "reasons"), "for");
        assert_int_equal(json_array_size(lf), json_array_size(mf));
        for (size_t k = 0; k < json_array_size(lf); k++)
            ASSERT_NEAR(json_real_value(json_object_get(json_array_get(lf, k), "points")),
                        json_real_value(json_object_get(json_array_get(mf, k), "points")), 1e-9);
    }
    json_decref(full);
    /* asked again, the page comes from the store, the same */
    json_t *again = page(y->s, y->run_id, -1, NULL, "score", 1, 0, 20);
    /* (the top leads' insights are written by a worker of their own, so one
     * may have arrived between the two pages: compare the rest) */
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_object_del(json_array_get(a, i), "insight");
        json_object_del(json_array_get(json_object_get(again, "leads"), i), "insight");
    }
    assert_true(json_equal(json_object_get(again, "leads"), a));
    json_decref(again);
    json_decref(o);
    /* one lead not on that page: explained for the asking */
    struct ls_error err;
    ls_error_clear(&err);
    json_t *l = NULL;
    o = page(y->s, y->run_id, -1, NULL, "rank", 0, ROWS - 1, 1);
    uint64_t row = (uint64_t)json_integer_value(
        json_object_get(json_array_get(json_object_get(o, "leads"), 0), "row"));
    assert_true(
        json_is_object(json_object_get(json_array_get(json_object_get(o, "leads"), 0), "reasons")));
    json_decref(o);
    o = page(y->s, y->run_id, -1, NULL, "rank", 0, ROWS - 2, 1);
    row = (uint64_t)json_integer_value(
        json_object_get(json_array_get(json_object_get(o, "leads"), 0), "row"));
    json_decref(o);
    if (service_lead(y->s, y->run_id, row, &l, &err))
        fail_msg("service_lead: %s", err.msg);
    check_lead(y->f, l, row);
    assert_true(json_is_true(json_object_get(l, "explained_on_demand")));
    json_decref(l);
    teardown(&st2);
}

static char *export_to_text(struct fx *x, int64_t run_id, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/export-test.csv", x->dir);
    struct ls_error err;
    ls_error_clear(&err);
    if (service_export(x->s, run_id, path, &err))
        fail_msg("service_export: %s", err.msg);
    char *t = (char *)tu_slurp(path, len);
    unlink(path);
    return t;
}

static void test_export(void **state)
{
    struct fx *x = *state;
    size_t len = 0;
    char *t = export_to_text(x, x->run_id, &len);
    struct frame_opts fo;
    frame_opts_default(&fo);
    static const char *const none[] = {NULL};
    fo.missing_tokens = none; /* every cell as written */
    struct frame *e = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    if (frame_read_mem(t, len, &fo, &e, &err))
        fail_msg("reading the export: %s", err.msg);
    assert_int_equal(e->nrows, ROWS);
    assert_int_equal(e->ncols, x->f->ncols + 6);
    static const char *const tail[] = {"score", "tier", "rank", "reason_1", "reason_2", "reason_3"};
    for (size_t k = 0; k < 6; k++)
        assert_string_equal(e->cols[x->f->ncols + k].name, tail[k]);
    size_t note = tu_col(e, "Note"), id = tu_col(e, "Lead ID");
    for (uint64_t r = 0; r < ROWS; r++) {
        /* formula cells neutralised, plain numbers kept */
        assert_string_equal(frame_cell(e, note, r), note_export[r % NNOTE]);
        assert_string_equal(frame_cell(e, id, r), frame_cell(x->f, tu_col(x->f, "Lead ID"), r));
    }
    /* rows in file order; reason_1 is the top reason's text */
    json_t *l = NULL;
    assert_int_equal(service_lead(x->s, x->run_id, 3, &l, &err), LS_OK);
    char sc[32];
    snprintf(sc, sizeof sc, "%.1f", json_real_value(json_object_get(l, "score")));
    assert_string_equal(frame_cell(e, x->f->ncols, 2), sc);
    json_t *r1 = json_array_get(json_object_get(json_object_get(l, "reasons"), "for"), 0);
    if (r1) {
        const char *txt = json_string_value(json_object_get(r1, "text"));
        const char *cell = frame_cell(e, x->f->ncols + 3, 2);
        assert_string_equal(cell + (cell[0] == '\''), txt);
    }
    json_decref(l);
    frame_free(e);
    free(t);
    /* a run that does not exist */
    char path[512];
    snprintf(path, sizeof path, "%s/none.csv", x->dir);
    assert_int_equal(service_export(x->s, 31337, path, &err), LS_ENOT_FOUND);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_results(void **state)
{
    struct fx *x = *state;
    json_t *a = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    if (service_run_results(x->s, x->run_id, &a, &err))
        fail_msg("service_run_results: %s", err.msg);
    assert_int_equal(json_array_size(a), ROWS);
    double prev = 2;
    size_t with_outcome = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *l = json_array_get(a, i);
        double sc = json_real_value(json_object_get(l, "score"));
        assert_true(sc >= 0 && sc <= 1 && sc <= prev + 1e-12);
        prev = sc;
        ASSERT_NEAR(json_real_value(json_object_get(l, "prediction_score")), sc, 0);
        const char *pr = json_string_value(json_object_get(l, "priority"));
        assert_non_null(pr);
        assert_true(strcmp(pr, "High") == 0 || strcmp(pr, "Medium") == 0 || strcmp(pr, "Low") == 0);
        assert_non_null(json_string_value(json_object_get(l, "explanation")));
        assert_non_null(json_string_value(json_object_get(l, "next_action")));
        /* lead_id from the file's id column, Source from Lead Source */
        const char *id = json_string_value(json_object_get(l, "lead_id"));
        assert_non_null(id);
        assert_string_equal(id, json_string_value(json_object_get(l, "Lead ID")));
        const char *src = json_string_value(json_object_get(l, "Source"));
        assert_non_null(src);
        json_t *ls = json_object_get(l, "Lead Source");
        assert_string_equal(src, json_is_string(ls) ? json_string_value(ls) : "Unknown");
        for (size_t c = 0; c < x->f->ncols; c++)
            if (!json_object_get(l, x->f->cols[c].name))
                fail_msg("lead %zu has no field '%s'", i, x->f->cols[c].name);
        json_t *ac = json_object_get(l, "actual_converted");
        const char *pa = json_string_value(json_object_get(l, "prediction_accuracy"));
        assert_non_null(ac);
        if (json_is_integer(ac)) {
            with_outcome++;
            int y = (int)json_integer_value(ac);
            const char *want = strcmp(pr, "Medium") == 0 ? "medium"
                               : strcmp(pr, "High") == 0 ? (y ? "correct" : "false_positive")
                                                         : (y ? "missed" : "correct");
            assert_string_equal(pa, want);
        }
    }
    assert_true(with_outcome > ROWS / 2);
    json_decref(a);
}

/* The lead of the file's row `row` as a real-time lead object. */
static json_t *lead_object(const struct frame *f, uint64_t row)
{
    json_t *o = json_object();
    for (size_t c = 0; c < f->ncols; c++)
        json_object_set_new(o, f->cols[c].name, json_string(frame_cell(f, c, row)));
    return o;
}

static void test_score_matches_run(void **state)
{
    struct fx *x = *state;
    struct ls_error err;
    ls_error_clear(&err);
    /* leads of the run scored by every tree (not out of bag): their score
     * is what the model gives any new lead */
    json_t *o = page(x->s, x->run_id, -1, NULL, "row", 0, 0, 500);
    json_t *a = json_object_get(o, "leads");
    size_t checked = 0;
    for (size_t i = 0; i < json_array_size(a) && checked < 40; i++) {
        json_t *pl = json_array_get(a, i);
        uint64_t row = (uint64_t)json_integer_value(json_object_get(pl, "row"));
        json_t *full = NULL;
        assert_int_equal(service_lead(x->s, x->run_id, row, &full, &err), LS_OK);
        if (json_is_true(json_object_get(full, "out_of_bag"))) {
            json_decref(full);
            continue;
        }
        json_t *leads = json_array();
        json_array_append_new(leads, lead_object(x->f, row - 1));
        json_t *ans = NULL;
        if (service_score(x->s, x->model_id, leads, &ans, &err))
            fail_msg("service_score: %s", err.msg);
        json_t *l = json_array_get(json_object_get(ans, "leads"), 0);
        ASSERT_NEAR(json_real_value(json_object_get(l, "score")),
                    json_real_value(json_object_get(full, "score")), 1e-9);
        assert_string_equal(json_string_value(json_object_get(l, "tier")),
                            json_string_value(json_object_get(full, "tier")));
        /* the same reasons, the same points */
        json_t *ra = json_object_get(json_object_get(l, "reasons"), "for");
        json_t *rb = json_object_get(json_object_get(full, "reasons"), "for");
        assert_int_equal(json_array_size(ra), json_array_size(rb));
        for (size_t k = 0; k < json_array_size(ra); k++) {
            json_t *p = json_array_get(ra, k), *q = json_array_get(rb, k);
            assert_string_equal(json_string_value(json_object_get(p, "column")),
                                json_string_value(json_object_get(q, "column")));
            assert_string_equal(json_string_value(json_object_get(p, "text")),
                                json_string_value(json_object_get(q, "text")));
            /* the stored reasons carry 10 digits; the contributions are exact */
            json_t *cs = json_object_get(full, "contributions");
            const char *col = json_string_value(json_object_get(p, "column"));
            for (size_t c = 0; c < json_array_size(cs); c++)
                if (strcmp(json_string_value(json_object_get(json_array_get(cs, c), "column")),
                           col) == 0)
                    ASSERT_NEAR(json_real_value(json_object_get(p, "points")),
                                json_real_value(json_object_get(json_array_get(cs, c), "points")),
                                1e-9);
        }
        /* the columns the model does not use are known: no warning */
        assert_int_equal(json_array_size(json_object_get(l, "warnings")), 0);
        json_decref(ans);
        json_decref(leads);
        json_decref(full);
        checked++;
    }
    assert_true(checked >= 10);
    json_decref(o);
}

static void test_score_inputs(void **state)
{
    struct fx *x = *state;
    struct ls_error err;
    ls_error_clear(&err);
    json_t *ans = NULL;
    /* 1,001 leads; none; not an array; a lead that is no object */
    json_t *many = json_array();
    for (int i = 0; i < SERVICE_SCORE_MAX_LEADS + 1; i++)
        json_array_append_new(many, json_object());
    assert_int_equal(service_score(x->s, x->model_id, many, &ans, &err), LS_EINPUT);
    json_array_remove(many, 0);
    assert_int_equal(service_score(x->s, x->model_id, many, &ans, &err), LS_OK);
    assert_int_equal(json_array_size(json_object_get(ans, "leads")), SERVICE_SCORE_MAX_LEADS);
    json_decref(ans);
    json_decref(many);
    json_t *empty = json_array();
    assert_int_equal(service_score(x->s, x->model_id, empty, &ans, &err), LS_EINPUT);
    json_array_append_new(empty, json_integer(3));
    assert_int_equal(service_score(x->s, x->model_id, empty, &ans, &err), LS_EINPUT);
    json_decref(empty);
    json_t *obj = json_object();
    assert_int_equal(service_score(x->s, x->model_id, obj, &ans, &err), LS_EINPUT);
    json_decref(obj);
    /* a value that is an object or an array: LS_EINPUT naming the column */
    json_error_t je;
    json_t *bad = json_loads("[{\"Industry\": \"Software\"}, {\"Country\": {\"a\": 1}}]", 0, &je);
    assert_int_equal(service_score(x->s, x->model_id, bad, &ans, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "Country"));
    assert_non_null(strstr(err.msg, "lead 2"));
    json_decref(bad);
    bad = json_loads("[{\"Pages Visited\": [1, 2]}]", 0, &je);
    assert_int_equal(service_score(x->s, x->model_id, bad, &ans, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "Pages Visited"));
    json_decref(bad);
    /* numbers, booleans, null and strings are values; unknown columns warn */
    json_t *ok = json_loads("[{\"Pages Visited\": 12, \"Time on Site (s)\": 310.5, "
                            "\"Webinar Attended\": true, \"Country\": null, \"Industry\": "
                            "\"Software\", \"Favourite Colour\": \"blue\", \"Lead ID\": \"X-1\"}]",
                            0, &je);
    assert_non_null(ok);
    if (service_score(x->s, x->model_id, ok, &ans, &err))
        fail_msg("service_score: %s", err.msg);
    json_t *l = json_array_get(json_object_get(ans, "leads"), 0);
    json_t *w = json_object_get(l, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "Favourite Colour"));
    double sc = json_real_value(json_object_get(l, "score"));
    assert_true(sc >= 0 && sc <= 100);
    /* the number 12 reads as the text "12" would */
    json_t *ok2 = json_deep_copy(ok);
    json_object_set_new(json_array_get(ok2, 0), "Pages Visited", json_string("12"));
    json_t *ans2 = NULL;
    assert_int_equal(service_score(x->s, x->model_id, ok2, &ans2, &err), LS_OK);
    ASSERT_NEAR(json_real_value(
                    json_object_get(json_array_get(json_object_get(ans2, "leads"), 0), "score")),
                sc, 0);
    json_decref(ans2);
    json_decref(ok2);
    /* text in a numeric column is scored as missing, and the answer says so */
    json_t *ok3 = json_deep_copy(ok);
    json_object_set_new(json_array_get(ok3, 0), "Time on Site (s)", json_string("abc"));
    json_t *ans3 = NULL;
    assert_int_equal(service_score(x->s, x->model_id, ok3, &ans3, &err), LS_OK);
    json_t *w3 = json_object_get(json_array_get(json_object_get(ans3, "leads"), 0), "warnings");
    assert_int_equal(json_array_size(w3), 2);
    assert_non_null(strstr(json_string_value(json_array_get(w3, 1)), "Time on Site (s)"));
    assert_non_null(strstr(json_string_value(json_array_get(w3, 1)), "scored as missing"));
    json_decref(ans3);
    json_decref(ok3);
    json_decref(ans);
    /* many different leads, then the same again from the memo: the same answers */
    json_t *batch = json_array();
    for (uint64_t r = 0; r < ROWS; r++)
        json_array_append_new(batch, lead_object(x->f, r));
    json_t *first = NULL, *second = NULL;
    assert_int_equal(service_score(x->s, x->model_id, batch, &first, &err), LS_OK);
    assert_int_equal(service_score(x->s, x->model_id, batch, &second, &err), LS_OK);
    assert_true(json_equal(first, second));
    /* one by one: the same as in the batch */
    for (uint64_t r = 0; r < ROWS; r += 97) {
        json_t *one = json_array();
        json_array_append(one, json_array_get(batch, r));
        json_t *a1 = NULL;
        assert_int_equal(service_score(x->s, x->model_id, one, &a1, &err), LS_OK);
        assert_true(json_equal(json_array_get(json_object_get(a1, "leads"), 0),
                               json_array_get(json_object_get(first, "leads"), r)));
        json_decref(a1);
        json_decref(one);
    }
    json_decref(first);
    json_decref(second);
    json_decref(batch);
    /* no such model; a deleted one, though it was loaded */
    assert_int_equal(service_score(x->s, 987654, ok, &ans, &err), LS_ENOT_FOUND);
    assert_int_equal(service_model_delete(x->s, x->model_id, &err), LS_OK);
    assert_int_equal(service_score(x->s, x->model_id, ok, &ans, &err), LS_ENOT_FOUND);
    json_decref(ok);
}

int main(void)
{
    const struct CMUnitTest base[] = {
        cmocka_unit_test(test_leads_pages),  cmocka_unit_test(test_lead_full),
        cmocka_unit_test(test_on_demand),    cmocka_unit_test(test_export),
        cmocka_unit_test(test_results),      cmocka_unit_test(test_score_matches_run),
        cmocka_unit_test(test_score_inputs),
    };
    return cmocka_run_group_tests_name("test_service_views", base, setup, teardown);
}
