/*
 * test_service.c — the service's engine side (app/service.h) on generated
 * leads: uploads (the same bytes are the same data set, binaries and broken
 * CSVs refused with the reason, the row limit), training and scoring jobs and
 * their caches, what a run stores and reports while it works, failures
 * stored as such, and the frame cache. The pool's own behaviour is in
 * test_service_jobs.c. Every test opens its own service on its own data
 * folder.
 */
#include "svctest.h"

/* ---- uploads -------------------------------------------------------------- */

static void test_upload_same_bytes_same_id(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    json_t *a = NULL, *b = NULL, *g = NULL;
    struct ls_error err;
    assert_int_equal(upload(s, demo_csv, strlen(demo_csv), "leads.csv", &a, &err, NULL), 0);
    assert_int_equal(jint(a, "rows"), DEMO_ROWS);
    assert_false(json_is_true(json_object_get(a, "existed")));
    assert_string_equal(json_string_value(json_object_get(a, "filename")), "leads.csv");
    char fpr[SHA256_HEX];
    sha256_hex(demo_csv, strlen(demo_csv), fpr);
    assert_string_equal(json_string_value(json_object_get(a, "fingerprint")), fpr);
    json_t *cols = json_object_get(a, "columns");
    assert_int_equal(json_array_size(cols), 13);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "name")),
                        "Lead ID");
    assert_non_null(json_object_get(json_array_get(cols, 0), "type"));
    assert_non_null(json_object_get(json_array_get(cols, 0), "missing"));
    assert_non_null(json_object_get(json_array_get(cols, 0), "distinct"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "target"), "name")),
                        "Converted");
    assert_true(json_is_array(json_object_get(a, "leakage")));
    assert_true(json_is_array(json_object_get(a, "warnings")));
    json_t *pv = json_object_get(a, "preview");
    assert_int_equal(json_array_size(pv), 5);
    char line[512];
    tu_text_line(demo_csv, 1, line, sizeof line);
    char first_id[32];
    snprintf(first_id, sizeof first_id, "%.*s", (int)strcspn(line, ","), line);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pv, 0), "Lead ID")),
                        first_id);

    /* the same bytes under another name: the same data set, not read again */
    assert_int_equal(upload(s, demo_csv, strlen(demo_csv), "again.csv", &b, &err, NULL), 0);
    assert_int_equal(jint(b, "dataset_id"), jint(a, "dataset_id"));
    assert_true(json_is_true(json_object_get(b, "existed")));
    assert_string_equal(json_string_value(json_object_get(b, "filename")), "again.csv");
    assert_int_equal(jint(b, "rows"), DEMO_ROWS);

    assert_int_equal(service_dataset_get(s, jint(a, "dataset_id"), &g, &err), 0);
    assert_int_equal(jint(g, "rows"), DEMO_ROWS);
    assert_int_equal(service_dataset_get(s, 999999, &g, &err), LS_ENOT_FOUND);
    int64_t id = 0;
    assert_int_equal(service_dataset_by_name(s, "leads.csv", &id, &err), 0);
    assert_int_equal(id, jint(a, "dataset_id"));
    /* ... and found under the name it came back with (the old client's handle) */
    assert_int_equal(service_dataset_by_name(s, "again.csv", &id, &err), 0);
    assert_int_equal(id, jint(a, "dataset_id"));
    assert_int_equal(service_dataset_by_name(s, "nope.csv", &id, &err), LS_ENOT_FOUND);

    /* other bytes: another data set */
    char *other = tu_demo_text(300, 8);
    int64_t id2 = upload_ok(s, other, "leads.csv");
    assert_true(id2 != jint(a, "dataset_id"));
    assert_int_equal(service_dataset_by_name(s, "leads.csv", &id, &err), 0);
    assert_int_equal(id, id2); /* the latest upload of that name */
    free(other);
    json_decref(a);
    json_decref(b);
    json_decref(g);
    service_close(s);
    rm_dir(dir);
}

static void test_upload_refuses_binaries(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A,
                                        0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    static const unsigned char zip[] = {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0};
    static const unsigned char nul[] = {'a', ',', 'b', '\n', '1', 0, '2', '\n'};
    const struct {
        const void *p;
        size_t n;
        const char *word;
    } cases[] = {{png, sizeof png, "PNG"}, {zip, sizeof zip, "ZIP"}, {nul, sizeof nul, "NUL"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = NULL;
        struct ls_error err;
        char tmp[4096];
        int rc = upload(s, cases[i].p, cases[i].n, "x.csv", &o, &err, tmp);
        assert_int_equal(rc, LS_EMEDIA);
        assert_null(o);
        if (!strstr(err.msg, cases[i].word))
            fail_msg("'%s' does not say %s", err.msg, cases[i].word);
        assert_int_not_equal(access(tmp, F_OK), 0); /* the upload was removed */
    }
    /* UTF-16 text holds NULs and is still a CSV */
    static const char u16[] = "\xFF\xFE"
                              "a\0,\0b\0\n\0001\0,\0002\0\n\0";
    json_t *o = NULL;
    struct ls_error err;
    int rc = upload(s, u16, sizeof u16 - 1, "u16.csv", &o, &err, NULL);
    if (rc == LS_EMEDIA)
        fail_msg("UTF-16 refused: %s", err.msg);
    json_decref(o);
    service_close(s);
    rm_dir(dir);
}

static void test_upload_malformed_says_line(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    const char *bad = "a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n";
    json_t *o = NULL;
    struct ls_error err;
    int rc = upload(s, bad, strlen(bad), "bad.csv", &o, &err, NULL);
    assert_int_equal(rc, LS_EINPUT);
    assert_null(o);
    if (!strstr(err.msg, "line 3") || !strstr(err.msg, "column 2") || !strstr(err.msg, "bad.csv"))
        fail_msg("message without its place: %s", err.msg);
    const char *empty = "a,b,c\n";
    rc = upload(s, empty, strlen(empty), "empty.csv", &o, &err, NULL);
    assert_int_equal(rc, LS_EEMPTY);
    service_close(s);
    rm_dir(dir);
}

/* The service's row limit applies to uploads. */
static void test_upload_row_limit(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service_opts o;
    service_opts_default(&o);
    o.data_dir = dir;
    o.max_rows = 100;
    struct service *s = NULL;
    struct ls_error err;
    assert_int_equal(service_open(&o, &s, &err), 0);
    json_t *out = NULL;
    int rc = upload(s, demo_csv, strlen(demo_csv), "big.csv", &out, &err, NULL);
    assert_int_equal(rc, LS_ELIMIT);
    assert_null(out);
    service_close(s);
    rm_dir(dir);
}

/* ---- models --------------------------------------------------------------- */

static void test_train_then_cached(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 30;
    json_t *a = train_ok(s, &t);
    assert_true(jint(a, "model_id") > 0);
    assert_false(json_is_true(json_object_get(a, "cached")));
    assert_string_equal(json_string_value(json_object_get(a, "target")), "Converted");
    json_t *auc = json_object_get(json_object_get(a, "metrics"), "auc");
    assert_true(json_is_number(auc));
    assert_true(json_number_value(auc) > 0.5);
    assert_true(json_array_size(json_object_get(a, "importance")) > 0);
    assert_true(json_array_size(json_object_get(a, "features")) > 0);
    assert_true(json_is_array(json_object_get(a, "excluded")));
    assert_true(json_is_number(json_object_get(a, "took_ms")));

    /* the same options, said differently (the target named, not detected) */
    t.target = "converted";
    json_t *b = train_ok(s, &t);
    assert_true(json_is_true(json_object_get(b, "cached")));
    assert_int_equal(jint(b, "model_id"), jint(a, "model_id"));

    /* the old client's fixed target on a file without it: detected, and cached too */
    t.target = "No Such Column";
    struct service_job *job = NULL;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_EINPUT);
    t.target_fallback = 1;
    json_t *c = train_ok(s, &t);
    assert_int_equal(jint(c, "model_id"), jint(a, "model_id"));

    /* other options: another model */
    t.target = NULL;
    t.seed = 9;
    t.has_seed = 1;
    json_t *d = train_ok(s, &t);
    assert_false(json_is_true(json_object_get(d, "cached")));
    assert_true(jint(d, "model_id") != jint(a, "model_id"));
    t.exclude[t.nexclude++] = "Lead Source";
    json_t *e = train_ok(s, &t);
    assert_true(jint(e, "model_id") != jint(d, "model_id"));

    json_t *g = NULL, *l = NULL;
    assert_int_equal(service_model_get(s, jint(a, "model_id"), &g, &err), 0);
    assert_int_equal(jint(g, "model_id"), jint(a, "model_id"));
    assert_int_equal(service_model_list(s, 0, 10, &l, &err), 0);
    assert_int_equal(jint(l, "total"), 3);
    assert_int_equal(jint(json_array_get(json_object_get(l, "models"), 0), "model_id"),
                     jint(e, "model_id")); /* newest first */
    assert_int_equal(service_model_delete(s, jint(e, "model_id"), &err), 0);
    json_t *gone = NULL;
    assert_int_equal(service_model_get(s, jint(e, "model_id"), &gone, &err), LS_ENOT_FOUND);

    /* errors at submission */
    t.dataset_id = 424242;
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_ENOT_FOUND);
    t.dataset_id = ds;
    t.trees = SERVICE_TREES_MAX + 1;
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_EINPUT);

    json_t *all[] = {a, b, c, d, e, g, l};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
    service_close(s);
    rm_dir(dir);
}

/* A numeric display column is stored as numbers: sorting leads by it is
 * numeric ("9" before "10"), and blanks are null, not "". */
static void check_numeric_sort(struct service *s, int64_t run_id, const json_t *dcols)
{
    static const char *const numeric[] = {"Pages Visited", "Time on Site (s)", "Email Opens",
                                          "Days Since Last Contact"};
    const char *col = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(dcols, i, v)
    {
        for (size_t k = 0; k < sizeof numeric / sizeof numeric[0]; k++)
            if (strcmp(json_string_value(v), numeric[k]) == 0 && !col)
                col = numeric[k];
    }
    if (!col)
        fail_msg("no numeric column among the display columns");
    struct store_lead_query q = {-1, NULL, col, 0, 0, STORE_PAGE_MAX};
    struct store_lead *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    struct ls_error err;
    if (store_leads_query(service_store(s), run_id, &q, &list, &n, &total, &err))
        fail_msg("sort by %s: %s", col, err.msg);
    double prev = -INFINITY;
    size_t numbers = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *d = json_loads(list[k].display_json, 0, NULL);
        json_t *x = json_object_get(d, col);
        assert_non_null(x);
        assert_false(json_is_string(x) && json_string_length(x) == 0);
        if (json_is_number(x)) {
            double y = json_number_value(x);
            if (y < prev)
                fail_msg("%s sorted %g after %g", col, y, prev);
            prev = y;
            numbers++;
        }
        json_decref(d);
    }
    assert_true(numbers > 0);
    store_lead_list_free(list, n);
}

/* ---- runs ----------------------------------------------------------------- */

static void test_run_scores_stores_and_caches(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = 30;
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    assert_non_null(job);
    assert_null(cached);
    assert_true(run_id > 0);
    json_t *a = job_result_ok(job);
    assert_int_equal(jint(a, "run_id"), run_id);
    assert_true(jint(a, "model_id") > 0);
    assert_false(json_is_true(json_object_get(a, "cached")));
    json_t *sum = json_object_get(a, "summary");
    assert_int_equal(jint(sum, "total"), DEMO_ROWS);
    json_t *tiers = json_object_get(sum, "tiers");
    assert_int_equal(jint(tiers, "High") + jint(tiers, "Medium") + jint(tiers, "Low"), DEMO_ROWS);
    assert_true(jint(sum, "labelled") > 0);
    assert_true(json_is_number(json_object_get(sum, "conversion_rate")));
    double exp_conv = json_number_value(json_object_get(sum, "expected_conversions"));
    assert_true(exp_conv > 0 && exp_conv < DEMO_ROWS);
    assert_true(json_is_object(json_object_get(a, "metrics")));
    assert_true(json_is_object(json_object_get(a, "drift")));
    assert_true(json_array_size(json_object_get(a, "importance")) > 0);
    json_t *top = json_object_get(a, "top_leads");
    assert_int_equal(json_array_size(top), 10);
    assert_int_equal(jint(json_array_get(top, 0), "rank"), 1);
    assert_true(json_is_object(json_object_get(json_array_get(top, 0), "reasons")));
    assert_true(json_is_true(json_object_get(a, "explained")));
    json_t *dcols = json_object_get(a, "display_columns");
    assert_string_equal(json_string_value(json_array_get(dcols, 0)), "Lead ID");
    assert_string_equal(json_string_value(json_array_get(dcols, 1)), "Lead Source");
    assert_true(json_array_size(dcols) <= 7);
    assert_int_equal(stored_leads(s, run_id), DEMO_ROWS);
    check_numeric_sort(s, run_id, dcols);

    /* a stored lead carries its reasons, contributions and display fields */
    struct store_lead l;
    memset(&l, 0, sizeof l);
    struct ls_error err;
    assert_int_equal(store_lead_get(service_store(s), run_id, 1, &l, &err), 0);
    assert_non_null(l.reasons_json);
    assert_non_null(l.contrib);
    assert_true(l.ncontrib > 0);
    assert_non_null(strstr(l.display_json, "Lead Source"));
    double sumc = l.base;
    for (size_t j = 0; j < l.ncontrib; j++)
        sumc += l.contrib[j];
    ASSERT_NEAR(sumc, 100.0 * l.raw, 1e-6); /* base + contributions = raw, in points */
    store_lead_cleanup(&l);

    json_t *g = NULL;
    assert_int_equal(service_run_get(s, run_id, &g, &err), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "done");
    assert_int_equal(jint(json_object_get(g, "summary"), "total"), DEMO_ROWS);
    assert_true(json_is_string(json_object_get(g, "finished")));

    /* the same file and options: answered from the store */
    int64_t again = 0;
    job = run_submit_ok(s, &r, NULL, NULL, &again, &cached);
    assert_null(job);
    assert_non_null(cached);
    assert_int_equal(again, run_id);
    assert_true(json_is_true(json_object_get(cached, "cached")));
    assert_int_equal(jint(cached, "run_id"), run_id);
    assert_int_equal(jint(json_object_get(cached, "summary"), "total"), DEMO_ROWS);
    json_decref(cached);

    /* other options: a new run; the trained model given by id: a new run too */
    r.train.trees = 20;
    job = run_submit_ok(s, &r, NULL, NULL, &again, &cached);
    assert_non_null(job);
    json_t *b = job_result_ok(job);
    assert_true(again != run_id);
    assert_true(jint(b, "model_id") != jint(a, "model_id"));
    struct service_run_req rm = r;
    rm.model_id = jint(a, "model_id");
    int64_t by_model = 0;
    job = run_submit_ok(s, &rm, NULL, NULL, &by_model, &cached);
    assert_non_null(job);
    json_t *c = job_result_ok(job);
    assert_true(by_model != run_id && by_model != again);
    assert_int_equal(jint(c, "model_id"), jint(a, "model_id"));
    /* the same scores as the run that trained that model */
    assert_int_equal(jint(json_object_get(json_object_get(c, "summary"), "tiers"), "High"),
                     jint(tiers, "High"));
    rm.model_id = 777777;
    assert_int_equal(service_run_submit(s, &rm, NULL, NULL, &job, &again, &cached, &err),
                     LS_ENOT_FOUND);

    json_t *list = NULL;
    assert_int_equal(service_run_list(s, 0, 2, &list, &err), 0);
    assert_int_equal(jint(list, "total"), 3);
    assert_int_equal(json_array_size(json_object_get(list, "runs")), 2);
    json_t *first = json_array_get(json_object_get(list, "runs"), 0);
    assert_int_equal(jint(first, "run_id"), by_model); /* newest first */
    assert_int_equal(jint(first, "total"), DEMO_ROWS);
    assert_string_equal(json_string_value(json_object_get(first, "status")), "done");

    assert_int_equal(service_run_delete(s, run_id, &err), 0);
    json_t *gone = NULL;
    assert_int_equal(service_run_get(s, run_id, &gone, &err), LS_ENOT_FOUND);

    json_t *all[] = {a, b, c, g, list};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
    service_close(s);
    rm_dir(dir);
}

/* A run whose explanation would cost more than the budget (leads x tree
 * nodes) is stored unexplained, to be explained a page at a time; the same
 * file under the default budget is explained whole. */
static void test_run_explain_budget(void **state)
{
    (void)state;
    for (int small = 0; small <= 1; small++) {
        const char *dir = fresh_dir();
        struct service_opts o;
        service_opts_default(&o);
        if (small)
            o.explain_budget = 1000; /* fewer visits than one lead costs */
        struct service *s = open_service_opts(dir, &o);
        int64_t run_id = 0;
        json_t *a = run_trees_ok(s, upload_ok(s, demo_csv, "leads.csv"), 10, &run_id);
        assert_int_equal(json_is_true(json_object_get(a, "explained")), !small);
        /* the top leads carry reasons either way */
        json_t *top = json_array_get(json_object_get(a, "top_leads"), 0);
        assert_true(json_is_object(json_object_get(top, "reasons")));
        json_decref(a);
        service_close(s);
        rm_dir(dir);
    }
}

/* Past keep_runs runs the oldest finished ones are deleted with their leads:
 * the history never grows without bound. */
static void test_keep_runs(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service_opts o;
    service_opts_default(&o);
    o.keep_runs = 2;
    struct service *s = open_service_opts(dir, &o);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    int64_t ids[3];
    for (int i = 0; i < 3; i++) /* other options: a new run each time */
        json_decref(run_trees_ok(s, ds, (uint32_t)(5 + i), &ids[i]));
    struct ls_error err;
    json_t *list = NULL, *run = NULL;
    assert_int_equal(service_run_list(s, 0, 10, &list, &err), 0);
    assert_int_equal(jint(list, "total"), 2);
    json_decref(list);
    assert_int_equal(service_run_get(s, ids[0], &run, &err), LS_ENOT_FOUND);
    assert_int_equal(service_run_get(s, ids[2], &run, &err), 0);
    json_decref(run);
    service_close(s);
    rm_dir(dir);
}

/* A cached run whose model was deleted is not served: the same request
 * trains and scores anew. */
static void test_cache_skips_deleted_model(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    int64_t first = 0, again = 0;
    json_t *a = run_trees_ok(s, ds, 8, &first);
    int64_t model = jint(a, "model_id");
    json_decref(a);
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = 8;
    json_t *cached = NULL;
    assert_null(run_submit_ok(s, &r, NULL, NULL, &again, &cached)); /* the cache answers */
    assert_int_equal(again, first);
    json_decref(cached);
    struct ls_error err;
    assert_int_equal(service_model_delete(s, model, &err), 0);
    a = run_trees_ok(s, ds, 8, &again); /* fails the test if the cache answered */
    assert_true(again != first);
    assert_true(jint(a, "model_id") != model);
    json_decref(a);
    service_close(s);
    rm_dir(dir);
}

static void test_run_failure_is_stored(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    /* no outcome column at all */
    char text[8192];
    size_t w = (size_t)snprintf(text, sizeof text, "Name,City,Visits\n");
    for (int i = 0; i < 80; i++)
        w += (size_t)snprintf(text + w, sizeof text - w, "p%d,c%d,%d\n", i, i % 5, i % 13);
    int64_t ds = upload_ok(s, text, "notarget.csv");
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    service_job_wait(job);
    json_t *o = NULL;
    struct ls_error err;
    int rc = service_job_result(job, &o, &err);
    assert_int_not_equal(rc, 0);
    assert_true(err.msg[0] != 0);
    service_job_release(job);
    json_t *g = NULL;
    assert_int_equal(service_run_get(s, run_id, &g, &err), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "failed");
    assert_true(json_is_string(json_object_get(g, "error")));
    json_decref(g);

    /* a model that shares no column with the file: scoring fails, stored as such */
    int64_t demo = upload_ok(s, demo_csv, "leads.csv");
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = demo;
    t.trees = 10;
    json_t *m = train_ok(s, &t);
    r.model_id = jint(m, "model_id");
    job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    service_job_wait(job);
    assert_int_equal(service_job_result(job, &o, &err), LS_EINPUT);
    service_job_release(job);
    assert_int_equal(service_run_get(s, run_id, &g, &err), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "failed");
    json_decref(g);
    json_decref(m);
    service_close(s);
    rm_dir(dir);
}

/* The frame read at upload serves the run that follows: the stored file is
 * not read again (here it is gone, and the run still works). A data set
 * pushed out of the small cache is read from its file again. */
static void test_frame_cache(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct store_dataset d;
    memset(&d, 0, sizeof d);
    struct ls_error err;
    assert_int_equal(store_dataset_get(service_store(s), ds, &d, &err), 0);
    char *saved = (char *)tu_slurp(d.path, &(size_t){0});
    assert_int_equal(unlink(d.path), 0);
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = 10;
    int64_t run_id = 0;
    json_t *cached = NULL;
    json_t *o = job_result_ok(run_submit_ok(s, &r, NULL, NULL, &run_id, &cached));
    assert_int_equal(jint(json_object_get(o, "summary"), "total"), DEMO_ROWS);
    json_decref(o);

    /* four other uploads push it out of the cache: now its file is needed */
    for (int i = 0; i < 4; i++) {
        char *other = tu_demo_text(100, (uint64_t)(20 + i));
        upload_ok(s, other, "other.csv");
        free(other);
    }
    r.train.trees = 11;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    service_job_wait(job);
    assert_int_not_equal(service_job_result(job, &o, &err), 0); /* the file is gone */
    service_job_release(job);
    /* put back, the data set reads again */
    FILE *fp = fopen(d.path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(saved, 1, strlen(demo_csv), fp), strlen(demo_csv));
    assert_int_equal(fclose(fp), 0);
    r.train.trees = 12;
    o = job_result_ok(run_submit_ok(s, &r, NULL, NULL, &run_id, &cached));
    assert_int_equal(jint(json_object_get(o, "summary"), "total"), DEMO_ROWS);
    json_decref(o);
    free(saved);
    store_dataset_cleanup(&d);
    service_close(s);
    rm_dir(dir);
}

/* Every progress write a run makes, caught by wrapping the store's
 * run_progress (the store is a table of operations). */
static const struct store_ops *real_ops;
static char seen_stages[64][32];
static double seen_share[64];
static int64_t seen_model[64];
static int nseen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static int spy_progress(struct store *st, int64_t id, const char *stage, double progress,
                        int64_t model_id, struct ls_error *err)
{
    pthread_mutex_lock(&seen_lock);
    if (nseen < 64) {
        snprintf(seen_stages[nseen], sizeof seen_stages[nseen], "%s", stage);
        seen_share[nseen] = progress;
        seen_model[nseen] = model_id;
        nseen++;
    }
    pthread_mutex_unlock(&seen_lock);
    return real_ops->run_progress(st, id, stage, progress, model_id, err);
}

static int seen(const char *stage)
{
    for (int i = 0; i < nseen; i++)
        if (strcmp(seen_stages[i], stage) == 0)
            return i;
    return -1;
}

static void test_run_reports_progress(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    struct store *st = service_store(s);
    real_ops = st->ops;
    struct store_ops spy = *st->ops;
    spy.run_progress = spy_progress;
    st->ops = &spy;
    nseen = 0;
    char *big = tu_demo_text(5000, 3); /* over one explanation slice (2048 leads) */
    int64_t ds = upload_ok(s, big, "big.csv");
    free(big);
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = 40;
    int64_t run_id = 0;
    json_t *cached = NULL;
    json_t *o = job_result_ok(run_submit_ok(s, &r, NULL, NULL, &run_id, &cached));
    int64_t model_id = jint(o, "model_id");
    json_decref(o);
    st->ops = real_ops;
    const char *order[] = {"reading", "training", "scoring", "explaining", "storing"};
    int last = -1;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        int at = seen(order[k]);
        if (at < 0)
            fail_msg("no progress written for stage %s (%d writes)", order[k], nseen);
        assert_true(at > last);
        last = at;
    }
    /* shares rise within a stage and stay in 0..1; after training, the model is named */
    for (int i = 0; i < nseen; i++) {
        assert_true(seen_share[i] >= 0 && seen_share[i] <= 1);
        if (i > 0 && strcmp(seen_stages[i], seen_stages[i - 1]) == 0)
            assert_true(seen_share[i] >= seen_share[i - 1]);
        if (i >= seen("scoring"))
            assert_int_equal(seen_model[i], model_id);
    }
    assert_true(nseen < 64); /* written in steps, not per tree or per lead */
    service_close(s);
    rm_dir(dir);
}

static void test_iso8601(void **state)
{
    (void)state;
    char b[32];
    service__iso8601(0, b);
    assert_string_equal(b, "1970-01-01T00:00:00.000Z");
    service__iso8601(1795990599120LL, b);
    assert_string_equal(b, "2026-11-29T22:16:39.120Z");
    assert_true(service__now_ms() > 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_upload_same_bytes_same_id),
        cmocka_unit_test(test_upload_refuses_binaries),
        cmocka_unit_test(test_upload_malformed_says_line),
        cmocka_unit_test(test_upload_row_limit),
        cmocka_unit_test(test_train_then_cached),
        cmocka_unit_test(test_run_scores_stores_and_caches),
        cmocka_unit_test(test_run_explain_budget),
        cmocka_unit_test(test_keep_runs),
        cmocka_unit_test(test_cache_skips_deleted_model),
        cmocka_unit_test(test_run_failure_is_stored),
        cmocka_unit_test(test_frame_cache),
        cmocka_unit_test(test_run_reports_progress),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
