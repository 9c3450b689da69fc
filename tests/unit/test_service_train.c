/*
 * test_service_train.c — what a run's answer carries for the dashboard and
 * the positive class a client may choose: the score histogram (its bins,
 * its boundaries, a score of 100, also in the answer the cache and GET give
 * back) and `positive` (the other class flips which leads score high, is
 * another model in the cache, naming the detected class is the same model,
 * a label that is no class is refused naming the classes).
 */
#include "svctest.h"

#include "app/report.h"

#include <math.h>

/* Bin k's leads, checking its bounds on the way. */
static int64_t bin_leads(const json_t *hist, size_t k)
{
    json_t *b = json_array_get(hist, k);
    assert_non_null(b);
    assert_int_equal(jint(b, "from"), (int64_t)k * 5);
    assert_int_equal(jint(b, "to"), (int64_t)k * 5 + 5);
    return jint(b, "leads");
}

static void test_histogram_bins(void **state)
{
    (void)state;
    const double scores[] = {0,  4.999, 5,   9.5, 14.999999, 15,  50, 94.99,
                             95, 99.9,  100, 100, -3,        NAN, 250};
    const size_t n = sizeof scores / sizeof scores[0];
    json_t *h = report_score_histogram(scores, n);
    assert_int_equal(json_array_size(h), REPORT_HIST_BINS);
    int64_t sum = 0;
    for (size_t k = 0; k < REPORT_HIST_BINS; k++)
        sum += bin_leads(h, k);
    assert_int_equal(sum, n);              /* every score counted once */
    assert_int_equal(bin_leads(h, 0), 4);  /* 0, 4.999, and -3 and NaN kept in */
    assert_int_equal(bin_leads(h, 1), 2);  /* 5 starts the second bin; 9.5 */
    assert_int_equal(bin_leads(h, 2), 1);  /* 14.999999 stays below 15 */
    assert_int_equal(bin_leads(h, 3), 1);  /* 15 */
    assert_int_equal(bin_leads(h, 10), 1); /* 50 */
    assert_int_equal(bin_leads(h, 18), 1); /* 94.99 */
    assert_int_equal(bin_leads(h, 19), 5); /* 95, 99.9, 100 twice and 250 */
    json_decref(h);

    h = report_score_histogram(NULL, 0); /* no leads: 20 empty bins */
    assert_int_equal(json_array_size(h), REPORT_HIST_BINS);
    for (size_t k = 0; k < REPORT_HIST_BINS; k++)
        assert_int_equal(bin_leads(h, k), 0);
    json_decref(h);
}

/* The run's histogram against its stored leads, bin by bin. */
static void check_histogram(struct service *s, int64_t run_id, const json_t *sum)
{
    json_t *h = json_object_get(sum, "score_histogram");
    if (!json_is_array(h))
        fail_msg("summary has no score_histogram");
    assert_int_equal(json_array_size(h), REPORT_HIST_BINS);
    int64_t want[REPORT_HIST_BINS] = {0}, total = 0;
    for (uint64_t row = 1; row <= DEMO_ROWS; row++) {
        struct store_lead l;
        memset(&l, 0, sizeof l);
        struct ls_error err;
        if (store_lead_get(service_store(s), run_id, row, &l, &err))
            fail_msg("lead %llu: %s", (unsigned long long)row, err.msg);
        long k = l.score >= 100 ? REPORT_HIST_BINS - 1 : (long)(l.score / 5);
        want[k]++;
        store_lead_cleanup(&l);
    }
    for (size_t k = 0; k < REPORT_HIST_BINS; k++) {
        assert_int_equal(bin_leads(h, k), want[k]);
        total += want[k];
    }
    assert_int_equal(total, jint(sum, "total"));
}

/* Run data set ds with positive (NULL: detected); the answer, from a job or
 * the cache (*was_cached). */
static json_t *run_positive(struct service *s, int64_t ds, const char *positive, int *was_cached)
{
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = 30;
    r.train.positive = positive;
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    *was_cached = job == NULL;
    return job ? job_result_ok(job) : cached;
}

/* Each row's stored score in run_id. */
static void run_scores(struct service *s, int64_t run_id, double *out)
{
    for (uint64_t row = 1; row <= DEMO_ROWS; row++) {
        struct store_lead l;
        memset(&l, 0, sizeof l);
        struct ls_error err;
        if (store_lead_get(service_store(s), run_id, row, &l, &err))
            fail_msg("lead %llu: %s", (unsigned long long)row, err.msg);
        out[row - 1] = l.score;
        store_lead_cleanup(&l);
    }
}

static double correlation(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i] / (double)n;
        mb += b[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static void test_run_histogram_and_cache(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    int cached = 0;
    json_t *a = run_positive(s, ds, NULL, &cached);
    assert_false(cached);
    int64_t run_id = jint(a, "run_id");
    check_histogram(s, run_id, json_object_get(a, "summary"));

    /* the same run again: the stored answer, histogram included */
    json_t *b = run_positive(s, ds, NULL, &cached);
    assert_true(cached);
    assert_int_equal(jint(b, "run_id"), run_id);
    assert_true(json_equal(json_object_get(json_object_get(b, "summary"), "score_histogram"),
                           json_object_get(json_object_get(a, "summary"), "score_histogram")));
    /* ... and what GET /api/runs/{id} answers */
    json_t *g = NULL;
    struct ls_error err;
    assert_int_equal(service_run_get(s, run_id, &g, &err), 0);
    check_histogram(s, run_id, json_object_get(g, "summary"));
    json_decref(a);
    json_decref(b);
    json_decref(g);
    service_close(s);
    rm_dir(dir);
}

static void test_positive_flips_scores(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    int cached = 0;
    json_t *a = run_positive(s, ds, NULL, &cached);
    assert_string_equal(json_string_value(json_object_get(a, "positive")), "1");
    json_t *b = run_positive(s, ds, "0", &cached);
    assert_false(cached);
    assert_string_equal(json_string_value(json_object_get(b, "positive")), "0");
    assert_true(jint(b, "model_id") != jint(a, "model_id")); /* another model */

    /* converting is now "0": the leads that scored high score low */
    static double sa[DEMO_ROWS], sb[DEMO_ROWS];
    run_scores(s, jint(a, "run_id"), sa);
    run_scores(s, jint(b, "run_id"), sb);
    double r = correlation(sa, sb, DEMO_ROWS);
    if (!(r < -0.5))
        fail_msg("scores with positive 0 correlate %.3f with the detected class's", r);
    /* the conversion rate of the labelled leads is the other class's */
    double ca =
        json_number_value(json_object_get(json_object_get(a, "summary"), "conversion_rate"));
    double cb =
        json_number_value(json_object_get(json_object_get(b, "summary"), "conversion_rate"));
    assert_true(fabs(ca + cb - 1) < 1e-9);

    /* naming the detected class is the detected model: its run, cached */
    json_t *c = run_positive(s, ds, "1", &cached);
    assert_true(cached);
    assert_int_equal(jint(c, "run_id"), jint(a, "run_id"));
    /* and the chosen class said again is its run again */
    json_t *d = run_positive(s, ds, "0", &cached);
    assert_true(cached);
    assert_int_equal(jint(d, "run_id"), jint(b, "run_id"));

    /* a model trained on its own carries the choice in its options */
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 30;
    t.positive = "0";
    json_t *m = train_ok(s, &t);
    assert_true(json_is_true(json_object_get(m, "cached")));
    assert_int_equal(jint(m, "model_id"), jint(b, "model_id"));
    assert_string_equal(json_string_value(json_object_get(m, "positive")), "0");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m, "options"), "positive")), "0");
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(m);
    service_close(s);
    rm_dir(dir);
}

static void test_positive_refused(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.positive = "Maybe";
    struct service_job *job = NULL;
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct ls_error err;
    assert_int_equal(service_run_submit(s, &r, NULL, NULL, &job, &run_id, &cached, &err),
                     LS_EINPUT);
    assert_null(job);
    if (!strstr(err.msg, "'Maybe'") || !strstr(err.msg, "'1', '0'") ||
        !strstr(err.msg, "Converted"))
        fail_msg("message '%s' does not name the label, the target and its classes", err.msg);

    /* the same for a model, and for a label past its ceiling */
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.positive = "Maybe";
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_EINPUT);
    char big[SERVICE_POSITIVE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    t.positive = big;
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_EINPUT);
    if (!strstr(err.msg, "255"))
        fail_msg("message '%s' does not give the ceiling", err.msg);
    service_close(s);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_bins),
        cmocka_unit_test(test_run_histogram_and_cache),
        cmocka_unit_test(test_positive_flips_scores),
        cmocka_unit_test(test_positive_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
