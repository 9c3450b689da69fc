/*
 * test_store.c — the store (src/store/): the SQLite backend through store.h.
 *
 * Every test opens a fresh data directory under the test's temp folder.
 * Besides the records going in and coming out, the tests cover what the
 * store promises beyond CRUD: the schema version (migration from empty, a
 * newer database refused), the sweep at open after a simulated crash, the
 * limits, the one-process lock, and readers on four threads while a writer
 * writes.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------- */

/* A fresh, not yet existing data directory path (static buffer per call slot). */
static const char *fresh_dir(void)
{
    static char dirs[16][512];
    static int k;
    const char *marker = tu_write_temp("store.marker", "", 0);
    char *p = dirs[k++ % 16];
    snprintf(p, 512, "%s", marker);
    char *slash = strrchr(p, '/');
    static int serial;
    snprintf(slash, 512 - (size_t)(slash - p), "/data%d", serial++);
    return p;
}

static struct store *open_ok(const char *dir)
{
    struct store *s = NULL;
    struct ls_error e = {0};
    int rc = store_open(dir, &s, &e);
    if (rc)
        fail_msg("store_open(%s): %d %s", dir, rc, e.msg);
    return s;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Write text to a fresh temp file of the store; returns its path (static). */
static const char *tmp_file(struct store *s, const char *text)
{
    static char path[4][1024];
    static int k;
    char *p = path[k++ % 4];
    struct ls_error e;
    assert_int_equal(store_tmp_path(s, "up", "csv", p, 1024, &e), 0);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void fingerprint(const char *text, char fp[65])
{
    /* not SHA-256 of anything: the store only needs 64 lowercase hex digits */
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = text; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (int i = 0; i < 4; i++)
        snprintf(fp + 16 * i, 17, "%016llx", (unsigned long long)(h + (uint64_t)i));
}

static int64_t put_dataset(struct store *s, const char *text, const char *name)
{
    struct store_dataset d = {0};
    struct ls_error e = {0};
    fingerprint(text, d.fingerprint);
    d.filename = (char *)name;
    d.bytes = strlen(text);
    d.rows = 2;
    d.ncols = 3;
    d.info_json = (char *)"{\"columns\":3}";
    int rc = store_dataset_put(s, tmp_file(s, text), &d, &e);
    if (rc)
        fail_msg("dataset_put: %d %s", rc, e.msg);
    int64_t id = d.id;
    store_dataset_cleanup(&d);
    return id;
}

static int64_t put_model(struct store *s, int64_t dataset_id, const char *key)
{
    struct store_model m = {0};
    struct ls_error e = {0};
    m.dataset_id = dataset_id;
    m.cache_key = (char *)key;
    m.options_json = (char *)"{\"trees\":100}";
    m.info_json = (char *)"{\"auc\":0.9}";
    int rc = store_model_put(s, tmp_file(s, "model bytes"), &m, &e);
    if (rc)
        fail_msg("model_put: %d %s", rc, e.msg);
    int64_t id = m.id;
    store_model_cleanup(&m);
    return id;
}

static int64_t new_run(struct store *s, int64_t dataset_id, int64_t model_id, const char *key)
{
    struct store_run r = {0};
    struct ls_error e = {0};
    r.dataset_id = dataset_id;
    r.model_id = model_id;
    r.cache_key = (char *)key;
    int rc = store_run_create(s, &r, &e);
    if (rc)
        fail_msg("run_create: %d %s", rc, e.msg);
    return r.id;
}

static const char *const CITIES[] = {"Paris", "lyon", "Nice", "Brest"};

/* n synthetic leads: rank i+1 scores highest first; rows a permutation. */
static struct store_lead *make_leads(size_t n, int with_contrib)
{
    struct store_lead *l = xcalloc(n, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        char buf[256];
        l[i].rank = i + 1;
        l[i].row = (i * 7) % n + 1; /* n not a multiple of 7 */
        l[i].score = 100.0 - (double)i * 100.0 / (double)n;
        l[i].raw = l[i].score / 100.0;
        l[i].tier = l[i].score >= 70 ? 2 : l[i].score >= 40 ? 1 : 0;
        l[i].label = (int)(i % 3) - 1;
        l[i].oob = (int)(i % 2);
        snprintf(buf, sizeof buf, "L%05zu", i);
        l[i].lead_id = xstrdup(buf);
        const char *name = i == 3   ? "50% off_deal"
                           : i == 4 ? "50x offxdeal"
                           : i == 5 ? "O'Brien"
                           : i == 6 ? "Say \\\"hi\\\" \\u00e9t\\u00e9"
                                    : "Name";
        snprintf(buf, sizeof buf, "{\"name\":\"%s %zu\",\"city\":\"%s\",\"n\":%zu}", name, i,
                 CITIES[i % 4], (i * 37) % n);
        l[i].display_json = xstrdup(buf);
        l[i].reasons_json = xstrdup("{\"for\":[\"a\"],\"against\":[]}");
        if (with_contrib) {
            l[i].ncontrib = 3;
            l[i].contrib = xmalloc(3 * sizeof(double));
            for (int k = 0; k < 3; k++)
                l[i].contrib[k] = (double)i + k / 10.0;
            l[i].base = 12.5;
        }
    }
    return l;
}

/* The run's counts from its leads, as store_run_finish wants them. */
static void fin_counts(struct store_run *r, const struct store_lead *l, size_t n)
{
    r->total = n;
    r->tier[0] = r->tier[1] = r->tier[2] = 0;
    for (size_t i = 0; i < n; i++)
        r->tier[l[i].tier]++;
}

/* A done run of n leads; returns its id. */
static int64_t done_run(struct store *s, int64_t dataset_id, int64_t model_id, const char *key,
                        size_t n, int with_contrib)
{
    int64_t id = new_run(s, dataset_id, model_id, key);
    struct store_lead *l = make_leads(n, with_contrib);
    struct store_run r = {0};
    struct ls_error e = {0};
    r.id = id;
    r.model_id = model_id;
    fin_counts(&r, l, n);
    r.has_outcomes = 1;
    r.explained = with_contrib;
    r.summary_json = (char *)"{\"summary\":{}}";
    int rc = store_run_finish(s, &r, l, n, &e);
    if (rc)
        fail_msg("run_finish: %d %s", rc, e.msg);
    store_lead_list_free(l, n);
    return id;
}

/* ---- open, schema ----------------------------------------------------- */

static void test_open_reopen(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir);
    assert_string_equal(s->ops->name, "sqlite");
    assert_true(s->dir[0] == '/');
    int64_t ds = put_dataset(s, "a,b,c\n1,2,3\n", "leads.csv");
    int64_t m = put_model(s, ds, "k1");
    int64_t run = done_run(s, ds, m, "rk", 10, 1);
    store_close(s);
    store_close(NULL);

    s = open_ok(dir);
    struct store_dataset d;
    struct ls_error e;
    assert_int_equal(store_dataset_get(s, ds, &d, &e), 0);
    assert_string_equal(d.filename, "leads.csv");
    assert_int_equal(d.bytes, 12);
    assert_string_equal(d.info_json, "{\"columns\":3}");
    assert_true(file_exists(d.path));
    store_dataset_cleanup(&d);
    struct store_run r;
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_DONE);
    assert_int_equal(r.total, 10);
    store_run_cleanup(&r);
    uint64_t nd, nm, nr;
    assert_int_equal(store_counts(s, &nd, &nm, &nr, &e), 0);
    assert_int_equal(nd, 1);
    assert_int_equal(nm, 1);
    assert_int_equal(nr, 1);
    store_close(s);
}

static int user_version(const char *dir, int set)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/leadscore.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (set >= 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", set);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Run one statement on the store's database from outside it; the first
 * column of its first row as an integer (0 when none). */
static int64_t db_int(const char *dir, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/leadscore.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_schema_version(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir);
    store_close(s);
    assert_int_equal(user_version(dir, -1), STORE_SCHEMA_VERSION);
    /* an empty database file (version 0) is migrated too */
    const char *dir2 = fresh_dir();
    assert_int_equal(mkdir(dir2, 0700), 0);
    assert_int_equal(user_version(dir2, -1), 0);
    s = open_ok(dir2);
    put_dataset(s, "x\n1\n", "x.csv");
    store_close(s);
    assert_int_equal(user_version(dir2, -1), STORE_SCHEMA_VERSION);

    /* a newer database is refused, both versions named */
    user_version(dir, STORE_SCHEMA_VERSION + 1);
    struct ls_error e = {0};
    s = NULL;
    assert_int_equal(store_open(dir, &s, &e), LS_ESTORE);
    assert_null(s);
    char want[64];
    snprintf(want, sizeof want, "schema version %d, newer than this leadscore's %d",
             STORE_SCHEMA_VERSION + 1, STORE_SCHEMA_VERSION);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void test_one_process(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir), *t = NULL;
    struct ls_error e = {0};
    assert_int_equal(store_open(dir, &t, &e), LS_EBUSY);
    assert_null(t);
    store_close(s);
    t = open_ok(dir); /* released at close */
    store_close(t);
    assert_int_equal(store_open("", &t, &e), LS_EUSAGE);
}

static void test_tmp_path(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    char p[1024], q[1024], small[8];
    struct ls_error e;
    assert_int_equal(store_tmp_path(s, "up", "csv", p, sizeof p, &e), 0);
    assert_int_equal(store_tmp_path(s, "up", "csv", q, sizeof q, &e), 0);
    assert_string_not_equal(p, q);
    char want[1024];
    snprintf(want, sizeof want, "%s/tmp/up-", s->dir);
    assert_memory_equal(p, want, strlen(want));
    assert_string_equal(p + strlen(p) - 4, ".csv");
    assert_int_equal(store_tmp_path(s, "../x", "csv", p, sizeof p, &e), LS_EINPUT);
    assert_int_equal(store_tmp_path(s, "up", "c/v", p, sizeof p, &e), LS_EINPUT);
    assert_int_equal(store_tmp_path(s, "up", "csv", small, sizeof small, &e), LS_ELIMIT);
    store_close(s);
}

/* ---- data sets -------------------------------------------------------- */

static void test_datasets(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    struct store_dataset d = {0};
    const char *text = "a,b\n1,2\n";
    fingerprint(text, d.fingerprint);
    d.filename = (char *)"leads.csv";
    d.bytes = 8;
    d.rows = 1;
    d.ncols = 2;
    const char *tmp = tmp_file(s, text);
    char tmp_copy[1024];
    snprintf(tmp_copy, sizeof tmp_copy, "%s", tmp);
    assert_int_equal(store_dataset_put(s, tmp_copy, &d, &e), 0);
    assert_true(d.id > 0);
    assert_true(d.created > 0);
    assert_false(file_exists(tmp_copy));
    char want[1024];
    snprintf(want, sizeof want, "%s/uploads/%lld.csv", s->dir, (long long)d.id);
    assert_string_equal(d.path, want);
    size_t len;
    uint8_t *bytes = tu_slurp(d.path, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(bytes, text, 8);
    free(bytes);
    int64_t first = d.id;
    store_dataset_cleanup(&d);

    /* the same bytes again: the existing record, LS_ECONFLICT, tmp removed */
    struct store_dataset dup = {0};
    fingerprint(text, dup.fingerprint);
    dup.filename = (char *)"other-name.csv";
    tmp = tmp_file(s, text);
    snprintf(tmp_copy, sizeof tmp_copy, "%s", tmp);
    assert_int_equal(store_dataset_put(s, tmp_copy, &dup, &e), LS_ECONFLICT);
    assert_int_equal(dup.id, first);
    assert_string_equal(dup.filename, "leads.csv");
    assert_false(file_exists(tmp_copy));
    store_dataset_cleanup(&dup);

    /* find by fingerprint; by file name, the latest upload */
    int64_t second = put_dataset(s, "a,b\n3,4\n", "leads.csv");
    int64_t third = put_dataset(s, "a,b\n5,6\n", "x.csv");
    assert_true(second > first && third > second);
    struct store_dataset f;
    char fp[65];
    fingerprint(text, fp);
    assert_int_equal(store_dataset_find(s, fp, NULL, &f, &e), 0);
    assert_int_equal(f.id, first);
    store_dataset_cleanup(&f);
    assert_int_equal(store_dataset_find(s, NULL, "leads.csv", &f, &e), 0);
    assert_int_equal(f.id, second);
    store_dataset_cleanup(&f);
    assert_int_equal(store_dataset_find(s, NULL, "nope.csv", &f, &e), LS_ENOT_FOUND);
    assert_int_equal(store_dataset_get(s, 999, &f, &e), LS_ENOT_FOUND);
    assert_string_equal(e.msg, "data set 999 not found");
    assert_int_equal(store_dataset_find(s, NULL, NULL, &f, &e), LS_EINPUT);

    /* a long name is cut to STORE_FILENAME_MAX bytes, at a character */
    char longname[400];
    memset(longname, 'a', sizeof longname);
    memcpy(longname + 254, "\xc3\xa9", 2); /* é across the cut */
    longname[399] = '\0';
    int64_t lid = put_dataset(s, "long\n1\n", longname);
    assert_int_equal(store_dataset_get(s, lid, &f, &e), 0);
    assert_int_equal(strlen(f.filename), 254);
    store_dataset_cleanup(&f);
    assert_int_equal(store_dataset_find(s, NULL, longname, &f, &e), 0);
    assert_int_equal(f.id, lid);
    store_dataset_cleanup(&f);

    /* bad input */
    struct store_dataset bad = {0};
    bad.filename = (char *)"x.csv";
    snprintf(bad.fingerprint, sizeof bad.fingerprint, "XYZ");
    assert_int_equal(store_dataset_put(s, tmp_file(s, "q"), &bad, &e), LS_EINPUT);
    fingerprint("zzz", bad.fingerprint);
    const char *outside = tu_write_temp("outside.csv", "a\n1\n", 4);
    assert_int_equal(store_dataset_put(s, outside, &bad, &e), LS_EINPUT);
    assert_true(file_exists(outside));
    char sneaky[1024];
    snprintf(sneaky, sizeof sneaky, "%s/tmp/../uploads/%lld.csv", s->dir, (long long)first);
    assert_int_equal(store_dataset_put(s, sneaky, &bad, &e), LS_EINPUT);
    store_close(s);
}

/* ---- models ----------------------------------------------------------- */

static void test_models(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t m1 = put_model(s, ds, "key1");
    int64_t m2 = put_model(s, ds, "key2");
    int64_t m3 = put_model(s, ds, "key1");
    struct store_model m;
    assert_int_equal(store_model_get(s, m1, &m, &e), 0);
    assert_int_equal(m.dataset_id, ds);
    assert_string_equal(m.cache_key, "key1");
    assert_string_equal(m.options_json, "{\"trees\":100}");
    assert_string_equal(m.info_json, "{\"auc\":0.9}");
    assert_true(file_exists(m.path));
    char path1[1024];
    snprintf(path1, sizeof path1, "%s", m.path);
    store_model_cleanup(&m);
    assert_int_equal(store_model_find(s, "key1", 0, &m, &e), 0);
    assert_int_equal(m.id, m3);
    store_model_cleanup(&m);
    assert_int_equal(store_model_find(s, NULL, ds, &m, &e), 0);
    assert_int_equal(m.id, m3);
    store_model_cleanup(&m);
    assert_int_equal(store_model_find(s, "nokey", 0, &m, &e), LS_ENOT_FOUND);

    struct store_model *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    assert_int_equal(store_model_list(s, 0, 2, &list, &n, &total, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(total, 3);
    assert_int_equal(list[0].id, m3);
    assert_int_equal(list[1].id, m2);
    store_model_list_free(list, n);
    assert_int_equal(store_model_list(s, 2, 2, &list, &n, &total, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, m1);
    store_model_list_free(list, n);
    assert_int_equal(store_model_list(s, 0, 0, &list, &n, &total, &e), LS_EINPUT);
    assert_int_equal(store_model_list(s, 0, STORE_PAGE_MAX + 1, &list, &n, &total, &e), LS_EINPUT);

    /* delete: row and file; not while a running run uses it */
    assert_int_equal(store_model_delete(s, m1, &e), 0);
    assert_false(file_exists(path1));
    assert_int_equal(store_model_get(s, m1, &m, &e), LS_ENOT_FOUND);
    assert_string_equal(e.msg, "model 1 not found");
    assert_int_equal(store_model_delete(s, m1, &e), LS_ENOT_FOUND);
    int64_t run = new_run(s, ds, m2, NULL);
    assert_int_equal(store_model_delete(s, m2, &e), LS_ECONFLICT);
    assert_int_equal(store_run_fail(s, run, "test", &e), 0);
    assert_int_equal(store_model_delete(s, m2, &e), 0);

    /* a model of a data set that does not exist */
    struct store_model bad = {0};
    bad.dataset_id = 77;
    assert_int_equal(store_model_put(s, tmp_file(s, "m"), &bad, &e), LS_ENOT_FOUND);
    store_close(s);
}

/* ---- runs ------------------------------------------------------------- */

static void test_runs(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "leads.csv");
    int64_t ds2 = put_dataset(s, "a\n2\n", "other.csv");
    int64_t run = new_run(s, ds, 0, "ck1");
    struct store_run r;
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_QUEUED);
    assert_string_equal(r.stage, "queued");
    assert_string_equal(r.filename, "leads.csv"); /* the data set's */
    assert_string_equal(r.cache_key, "ck1");
    assert_int_equal(r.model_id, 0);
    assert_int_equal(r.finished, 0);
    store_run_cleanup(&r);

    /* progress: running, stage and share, the trained model */
    assert_int_equal(store_run_progress(s, run, "training", 0.25, 0, &e), 0);
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_RUNNING);
    assert_string_equal(r.stage, "training");
    ASSERT_NEAR(r.progress, 0.25, 1e-12);
    store_run_cleanup(&r);
    int64_t m = put_model(s, ds, "mk");
    assert_int_equal(store_run_progress(s, run, "scoring", 1.5, m, &e), 0);
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.model_id, m);
    ASSERT_NEAR(r.progress, 1.0, 0);
    store_run_cleanup(&r);
    assert_int_equal(store_run_progress(s, run, "x", 0.5, 999, &e), LS_ENOT_FOUND);
    assert_int_equal(store_run_progress(s, run, "a-stage-name-far-too-long-for-32", 0, 0, &e),
                     LS_EINPUT);
    assert_int_equal(store_run_progress(s, run, "x", NAN, 0, &e), LS_EINPUT);
    assert_int_equal(store_run_progress(s, 999, "x", 0, 0, &e), LS_ENOT_FOUND);
    assert_string_equal(e.msg, "run 999 not found");

    /* deleting a running run is refused */
    assert_int_equal(store_run_delete(s, run, &e), LS_ECONFLICT);

    /* finish */
    struct store_lead *l = make_leads(20, 1);
    struct store_run fin = {0};
    fin.id = run;
    fin.total = 20;
    fin.tier[0] = 1;
    fin.tier[1] = 2;
    fin.tier[2] = 17;
    /* counts that are not the leads' own are refused */
    assert_int_equal(store_run_finish(s, &fin, l, 20, &e), LS_EINPUT);
    assert_non_null(strstr(e.msg, "counts"));
    fin_counts(&fin, l, 20);
    assert_int_equal(fin.tier[2], 7);
    fin.has_outcomes = 1;
    fin.explained = 1;
    fin.summary_json = (char *)"{\"ok\":true}";
    assert_int_equal(store_run_finish(s, &fin, l, 20, &e), 0);
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_DONE);
    assert_string_equal(r.stage, "done");
    assert_int_equal(r.total, 20);
    assert_int_equal(r.tier[0], 7);
    assert_int_equal(r.tier[1], 6);
    assert_int_equal(r.tier[2], 7);
    assert_int_equal(r.has_outcomes, 1);
    assert_int_equal(r.explained, 1);
    assert_int_equal(r.model_id, m);
    assert_string_equal(r.summary_json, "{\"ok\":true}");
    assert_true(r.finished >= r.created);
    assert_null(r.error);
    store_run_cleanup(&r);
    /* a done run does not change again */
    assert_int_equal(store_run_finish(s, &fin, l, 20, &e), LS_ECONFLICT);
    assert_int_equal(store_run_fail(s, run, "late", &e), LS_ECONFLICT);
    assert_int_equal(store_run_progress(s, run, "x", 0, 0, &e), LS_ECONFLICT);
    store_lead_list_free(l, 20);

    /* fail */
    int64_t run2 = new_run(s, ds2, m, "ck2");
    assert_int_equal(store_run_fail(s, run2, "the file has no target", &e), 0);
    assert_int_equal(store_run_get(s, run2, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_FAILED);
    assert_string_equal(r.error, "the file has no target");
    assert_true(r.finished > 0);
    store_run_cleanup(&r);

    /* find: only done runs, latest first */
    int64_t run3 = done_run(s, ds, m, "ck1", 5, 0);
    int64_t run4 = done_run(s, ds2, m, "ck4", 5, 0);
    assert_int_equal(store_run_find(s, "ck1", NULL, &r, &e), 0);
    assert_int_equal(r.id, run3);
    store_run_cleanup(&r);
    assert_int_equal(store_run_find(s, "ck2", NULL, &r, &e), LS_ENOT_FOUND); /* failed */
    assert_int_equal(store_run_find(s, NULL, "leads.csv", &r, &e), 0);
    assert_int_equal(r.id, run3);
    store_run_cleanup(&r);
    assert_int_equal(store_run_find(s, NULL, NULL, &r, &e), 0);
    assert_int_equal(r.id, run4);
    store_run_cleanup(&r);
    assert_int_equal(store_run_find(s, NULL, "none.csv", &r, &e), LS_ENOT_FOUND);

    /* list: newest first, every status, paged */
    struct store_run *list;
    size_t n;
    uint64_t total;
    assert_int_equal(store_run_list(s, 0, 3, &list, &n, &total, &e), 0);
    assert_int_equal(total, 4);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, run4);
    assert_int_equal(list[1].id, run3);
    assert_int_equal(list[2].id, run2);
    store_run_list_free(list, n);
    assert_int_equal(store_run_list(s, 3, 3, &list, &n, &total, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, run);
    store_run_list_free(list, n);
    assert_int_equal(store_run_list(s, 10, 3, &list, &n, &total, &e), 0);
    assert_int_equal(n, 0);
    store_run_list_free(list, n);

    /* delete: the run and its leads */
    struct store_lead one;
    assert_int_equal(store_lead_get(s, run, 1, &one, &e), 0);
    store_lead_cleanup(&one);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM leads WHERE run_id = %lld", (long long)run);
    assert_int_equal(db_int(s->dir, sql), 20);
    assert_int_equal(store_run_delete(s, run, &e), 0);
    assert_int_equal(db_int(s->dir, sql), 0);
    assert_int_equal(db_int(s->dir, "SELECT count(*) FROM run_trash"), 0);
    assert_int_equal(store_run_get(s, run, &r, &e), LS_ENOT_FOUND);
    assert_int_equal(store_lead_get(s, run, 1, &one, &e), LS_ENOT_FOUND);
    assert_int_equal(store_run_delete(s, run, &e), LS_ENOT_FOUND);
    store_close(s);
}

static void test_finish_checks(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = new_run(s, ds, 0, NULL);
    struct store_lead *l = make_leads(10, 0);
    struct store_run fin = {0};
    fin.id = run;
    fin_counts(&fin, l, 10);

    l[2].rank = 2; /* twice */
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_EINPUT);
    l[2].rank = 3;
    double keep = l[5].score;
    l[5].score = 200; /* rank 6 above rank 1's score */
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_EINPUT);
    l[5].score = keep;
    int t1 = l[1].tier;
    l[1].tier = 3;
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_EINPUT);
    l[1].tier = t1;
    char *d0 = l[0].display_json;
    l[0].display_json = (char *)"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
                                "\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13}";
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_EINPUT);
    l[0].display_json = d0;
    char *d7 = l[7].display_json;
    l[7].display_json = (char *)"{not json";
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_EINPUT);
    l[7].display_json = d7;
    fin.model_id = 42;
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_ENOT_FOUND);
    fin.model_id = 0;

    /* every refusal left the run as it was, without leads */
    struct store_run r;
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_QUEUED);
    store_run_cleanup(&r);
    struct store_lead *page;
    size_t n;
    uint64_t total;
    struct store_lead_query q = {.tier = -1, .limit = 10};
    assert_int_equal(store_leads_query(s, run, &q, &page, &n, &total, &e), LS_ECONFLICT);

    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), 0);
    assert_int_equal(store_leads_query(s, run, &q, &page, &n, &total, &e), 0);
    assert_int_equal(total, 10);
    store_lead_list_free(page, n);
    fin.id = 555;
    assert_int_equal(store_run_finish(s, &fin, l, 10, &e), LS_ENOT_FOUND);
    store_lead_list_free(l, 10);
    store_close(s);
}

/* ---- leads ------------------------------------------------------------ */

struct fixture {
    struct store *s;
    int64_t run;
};

static int leads_setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    f->s = open_ok(fresh_dir());
    int64_t ds = put_dataset(f->s, "a\n1\n", "a.csv");
    f->run = done_run(f->s, ds, 0, "k", 40, 0);
    *state = f;
    return 0;
}

static int leads_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    free(f);
    return 0;
}

/* Query and return the page (caller frees); asserts success. */
static struct store_lead *query(struct fixture *f, struct store_lead_query q, size_t *n,
                                uint64_t *total)
{
    struct store_lead *page = NULL;
    struct ls_error e = {0};
    int rc = store_leads_query(f->s, f->run, &q, &page, n, total, &e);
    if (rc)
        fail_msg("leads_query: %d %s", rc, e.msg);
    return page;
}

static void test_leads_filters(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint64_t total;
    /* no filter: best first, totals */
    struct store_lead *p = query(f, (struct store_lead_query){.tier = -1, .limit = 10}, &n, &total);
    assert_int_equal(total, 40);
    assert_int_equal(n, 10);
    assert_int_equal(p[0].rank, 40); /* default ascending score: lowest first */
    store_lead_list_free(p, n);

    /* tier */
    for (int t = 0; t < 3; t++) {
        p = query(f, (struct store_lead_query){.tier = t, .limit = 500, .desc = 1}, &n, &total);
        assert_int_equal(n, total);
        size_t want = 0;
        for (size_t i = 0; i < 40; i++) {
            double sc = 100.0 - (double)i * 100.0 / 40.0;
            want += (sc >= 70 ? 2 : sc >= 40 ? 1 : 0) == t;
        }
        assert_int_equal(total, want);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i].tier, t);
        store_lead_list_free(p, n);
    }

    /* q: id and display values, any ASCII case; % _ and ' are literal */
    p = query(f, (struct store_lead_query){.tier = -1, .q = "l0001", .limit = 50}, &n, &total);
    assert_int_equal(total, 10); /* L00010..L00019 */
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "PARIS", .limit = 50}, &n, &total);
    assert_int_equal(total, 10);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "50% off_deal", .limit = 50}, &n,
              &total);
    assert_int_equal(total, 1);
    assert_int_equal(p[0].rank, 4);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "o'brien", .limit = 50}, &n, &total);
    assert_int_equal(total, 1);
    assert_int_equal(p[0].rank, 6);
    assert_non_null(strstr(p[0].display_json, "O'Brien"));
    store_lead_list_free(p, n);
    /* values JSON escapes in its text: a quote, non-ASCII written \u00e9 */
    p = query(f, (struct store_lead_query){.tier = -1, .q = "\"HI\"", .limit = 50}, &n, &total);
    assert_int_equal(total, 1);
    assert_int_equal(p[0].rank, 7);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "\xc3\xa9t\xc3\xa9", .limit = 50}, &n,
              &total);
    assert_int_equal(total, 1);
    assert_int_equal(p[0].rank, 7);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "%", .limit = 50}, &n, &total);
    assert_int_equal(total, 1);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .q = "\\", .limit = 50}, &n, &total);
    assert_int_equal(total, 0);
    store_lead_list_free(p, n);
    /* keys are not values */
    p = query(f, (struct store_lead_query){.tier = -1, .q = "city", .limit = 50}, &n, &total);
    assert_int_equal(total, 0);
    store_lead_list_free(p, n);
    /* tier and q together */
    p = query(f, (struct store_lead_query){.tier = 2, .q = "nice", .limit = 50}, &n, &total);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p[i].tier, 2);
        assert_non_null(strstr(p[i].display_json, "Nice"));
    }
    assert_true(total > 0 && total < 10);
    store_lead_list_free(p, n);
}

static void test_leads_sort(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint64_t total;
    struct store_lead *p;
    /* score both ways */
    for (int desc = 0; desc < 2; desc++) {
        p = query(f,
                  (struct store_lead_query){.tier = -1, .sort = "score", .desc = desc, .limit = 40},
                  &n, &total);
        assert_int_equal(n, 40);
        for (size_t i = 1; i < n; i++)
            assert_true(desc ? p[i - 1].score >= p[i].score : p[i - 1].score <= p[i].score);
        store_lead_list_free(p, n);
    }
    /* rank, row, id */
    p = query(f, (struct store_lead_query){.tier = -1, .sort = "rank", .limit = 40}, &n, &total);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i].rank, i + 1);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .sort = "row", .desc = 1, .limit = 40}, &n,
              &total);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i].row, 40 - i);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .sort = "id", .desc = 1, .limit = 3}, &n,
              &total);
    assert_string_equal(p[0].lead_id, "L00039");
    assert_string_equal(p[2].lead_id, "L00037");
    store_lead_list_free(p, n);

    /* a display column: text (city, ties by rank) and numbers (n) */
    p = query(f, (struct store_lead_query){.tier = -1, .sort = "city", .limit = 40}, &n, &total);
    for (size_t i = 1; i < n; i++) {
        const char *a = strstr(p[i - 1].display_json, "city"),
                   *b = strstr(p[i].display_json, "city");
        int c = strcmp(a, b) < 0 ? -1 : 0; /* compare "city":"X"... prefix */
        (void)c;
        char ca[16], cb[16];
        sscanf(a, "city\":\"%15[^\"]", ca);
        sscanf(b, "city\":\"%15[^\"]", cb);
        assert_true(strcmp(ca, cb) <= 0); /* binary order: uppercase before "lyon" */
        if (!strcmp(ca, cb))
            assert_true(p[i - 1].rank < p[i].rank);
    }
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .sort = "n", .desc = 1, .limit = 40}, &n,
              &total);
    for (size_t i = 1; i < n; i++) {
        long a = strtol(strstr(p[i - 1].display_json, "\"n\":") + 4, NULL, 10);
        long b = strtol(strstr(p[i].display_json, "\"n\":") + 4, NULL, 10);
        assert_true(a >= b); /* numeric: 39 before 4 */
    }
    store_lead_list_free(p, n);

    /* unknown sort, bad limits */
    struct ls_error e = {0};
    struct store_lead *page = NULL;
    struct store_lead_query bad = {.tier = -1, .sort = "nope", .limit = 10};
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    assert_non_null(strstr(e.msg, "nope"));
    bad.sort = "n') DESC; DROP TABLE leads; --";
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    bad.sort = NULL;
    bad.limit = 0;
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    bad.limit = STORE_PAGE_MAX + 1;
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    bad.limit = 10;
    bad.tier = 3;
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    bad.tier = -1;
    char longq[STORE_QUERY_MAX + 2];
    memset(longq, 'x', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    bad.q = longq;
    assert_int_equal(store_leads_query(f->s, f->run, &bad, &page, &n, &total, &e), LS_EINPUT);
    bad.q = NULL;
    assert_int_equal(store_leads_query(f->s, 999, &bad, &page, &n, &total, &e), LS_ENOT_FOUND);
    assert_string_equal(e.msg, "run 999 not found");
}

static void test_leads_paging(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint64_t total;
    struct store_lead *p = query(
        f, (struct store_lead_query){.tier = -1, .desc = 1, .offset = 35, .limit = 10}, &n, &total);
    assert_int_equal(total, 40);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i].rank, 36 + i);
    /* every field came back */
    assert_string_equal(p[0].reasons_json, "{\"for\":[\"a\"],\"against\":[]}");
    assert_non_null(p[0].lead_id);
    assert_null(p[0].contrib);
    store_lead_list_free(p, n);
    p = query(f, (struct store_lead_query){.tier = -1, .offset = 40, .limit = 10}, &n, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 40);
    store_lead_list_free(p, n);
}

static void test_leads_explain(void **state)
{
    struct fixture *f = *state;
    struct ls_error e = {0};
    struct store_lead l;
    assert_int_equal(store_lead_get(f->s, f->run, 3, &l, &e), 0);
    assert_null(l.contrib);
    assert_int_equal(l.ncontrib, 0);
    store_lead_cleanup(&l);

    double c1[4] = {1.5, -2.25, 0, 3}, c2[2] = {7, 8};
    struct store_lead ex[2] = {
        {.row = 3,
         .reasons_json = (char *)"{\"for\":[\"x\"]}",
         .base = 30,
         .contrib = c1,
         .ncontrib = 4},
        {.row = 5, .base = 31, .contrib = c2, .ncontrib = 2},
    };
    assert_int_equal(store_leads_explain(f->s, f->run, ex, 2, &e), 0);
    assert_int_equal(store_lead_get(f->s, f->run, 3, &l, &e), 0);
    assert_int_equal(l.ncontrib, 4);
    assert_memory_equal(l.contrib, c1, sizeof c1);
    ASSERT_NEAR(l.base, 30, 0);
    assert_string_equal(l.reasons_json, "{\"for\":[\"x\"]}");
    store_lead_cleanup(&l);

    /* a row outside the run: nothing of the call is kept */
    struct store_lead bad[2] = {
        {.row = 7, .base = 1, .contrib = c2, .ncontrib = 2},
        {.row = 4000, .base = 1, .contrib = c2, .ncontrib = 2},
    };
    assert_int_equal(store_leads_explain(f->s, f->run, bad, 2, &e), LS_ENOT_FOUND);
    assert_int_equal(store_lead_get(f->s, f->run, 7, &l, &e), 0);
    assert_null(l.contrib);
    store_lead_cleanup(&l);
    assert_int_equal(store_lead_get(f->s, f->run, 4000, &l, &e), LS_ENOT_FOUND);
    assert_string_equal(e.msg, "run 1 has no lead at row 4000");
    assert_int_equal(store_lead_get(f->s, 999, 1, &l, &e), LS_ENOT_FOUND);
}

struct each_ctx {
    uint64_t last_row;
    size_t count;
    size_t stop_at;
};

static int each_fn(void *ctx, const struct store_lead *l)
{
    struct each_ctx *c = ctx;
    if (l->row <= c->last_row)
        return -1000; /* out of order */
    c->last_row = l->row;
    c->count++;
    return c->count == c->stop_at ? 42 : 0;
}

static void test_leads_each(void **state)
{
    struct fixture *f = *state;
    struct ls_error e = {0};
    struct each_ctx c = {0};
    assert_int_equal(store_leads_each(f->s, f->run, each_fn, &c, &e), 0);
    assert_int_equal(c.count, 40);
    assert_int_equal(c.last_row, 40);
    c = (struct each_ctx){.stop_at = 5};
    assert_int_equal(store_leads_each(f->s, f->run, each_fn, &c, &e), 42);
    assert_int_equal(c.count, 5);
    assert_int_equal(store_leads_each(f->s, 999, each_fn, &c, &e), LS_ENOT_FOUND);
}

/* ---- crash safety ----------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_crash_sweep(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir);
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t m = put_model(s, ds, "k");
    int64_t queued = new_run(s, ds, m, NULL);
    int64_t running = new_run(s, ds, m, NULL);
    assert_int_equal(store_run_progress(s, running, "scoring", 0.5, 0, &e), 0);
    int64_t done = done_run(s, ds, m, NULL, 5, 0);
    char base[1024], p[1200], kept_upload[1200], kept_model[1200];
    snprintf(base, sizeof base, "%s", s->dir);
    store_close(s);

    /* what a crash leaves: a half-written temp file, files no row names,
     * a run deleted whose leads were not removed yet */
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM runs WHERE id = %lld", (long long)done);
    db_int(dir, sql);
    snprintf(sql, sizeof sql, "INSERT INTO run_trash VALUES (%lld)", (long long)done);
    db_int(dir, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM leads WHERE run_id = %lld", (long long)done);
    assert_int_equal(db_int(dir, sql), 5);
    snprintf(p, sizeof p, "%s/tmp/up-0123.csv", base);
    write_file(p, "half");
    snprintf(p, sizeof p, "%s/models/99.lsm", base);
    write_file(p, "orphan");
    snprintf(p, sizeof p, "%s/uploads/7.csv", base);
    write_file(p, "orphan");
    snprintf(p, sizeof p, "%s/uploads/notes.txt", base);
    write_file(p, "stray");
    snprintf(kept_upload, sizeof kept_upload, "%s/uploads/%lld.csv", base, (long long)ds);
    snprintf(kept_model, sizeof kept_model, "%s/models/%lld.lsm", base, (long long)m);

    s = open_ok(dir);
    snprintf(p, sizeof p, "%s/tmp/up-0123.csv", base);
    assert_false(file_exists(p));
    snprintf(p, sizeof p, "%s/models/99.lsm", base);
    assert_false(file_exists(p));
    snprintf(p, sizeof p, "%s/uploads/7.csv", base);
    assert_false(file_exists(p));
    snprintf(p, sizeof p, "%s/uploads/notes.txt", base);
    assert_false(file_exists(p));
    assert_true(file_exists(kept_upload));
    assert_true(file_exists(kept_model));

    int64_t ids[2] = {queued, running};
    for (int i = 0; i < 2; i++) {
        struct store_run r;
        assert_int_equal(store_run_get(s, ids[i], &r, &e), 0);
        assert_int_equal(r.status, STORE_RUN_FAILED);
        assert_string_equal(r.error, "interrupted: the server stopped before this run finished");
        assert_true(r.finished > 0);
        store_run_cleanup(&r);
    }
    assert_int_equal(db_int(dir, sql), 0);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM run_trash"), 0);
    int64_t kept = done_run(s, ds, m, NULL, 5, 0);
    struct store_run r;
    assert_int_equal(store_run_get(s, kept, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_DONE);
    store_run_cleanup(&r);
    /* the interrupted runs can be deleted now */
    assert_int_equal(store_run_delete(s, running, &e), 0);
    store_close(s);
}

/* ---- concurrency ------------------------------------------------------ */

struct reader {
    struct store *s;
    int64_t run, ds;
    volatile int *stop;
    int errors, reads;
    char msg[512];
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    while (!*r->stop || r->reads < 20) {
        struct ls_error e = {0};
        struct store_lead *page = NULL;
        size_t n = 0;
        uint64_t total = 0;
        struct store_lead_query q = {.tier = r->reads % 4 - 1, .desc = 1, .limit = 50};
        int rc = store_leads_query(r->s, r->run, &q, &page, &n, &total, &e);
        if (rc == 0)
            store_lead_list_free(page, n);
        struct store_run *runs = NULL;
        if (rc == 0 && (rc = store_run_list(r->s, 0, 20, &runs, &n, &total, &e)) == 0) {
            /* whatever a reader sees of a run is whole: done with every lead */
            for (size_t i = 0; i < n && !rc; i++) {
                if (runs[i].status != STORE_RUN_DONE)
                    continue;
                struct store_lead_query all = {.tier = -1, .limit = 1};
                struct store_lead *one = NULL;
                size_t k = 0;
                uint64_t t = 0;
                rc = store_leads_query(r->s, runs[i].id, &all, &one, &k, &t, &e);
                if (rc == LS_ENOT_FOUND) /* deleted meanwhile */
                    rc = 0;
                else if (rc == 0 && t != runs[i].total)
                    rc = ls_error_set(&e, -999, "run %lld: %llu leads, total %llu",
                                      (long long)runs[i].id, (unsigned long long)t,
                                      (unsigned long long)runs[i].total);
                store_lead_list_free(one, k);
            }
            store_run_list_free(runs, n);
        }
        struct store_dataset d;
        if (rc == 0 && (rc = store_dataset_get(r->s, r->ds, &d, &e)) == 0)
            store_dataset_cleanup(&d);
        if (rc) {
            r->errors++;
            snprintf(r->msg, sizeof r->msg, "%d %s", rc, e.msg);
        }
        r->reads++;
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = done_run(s, ds, 0, NULL, 300, 1);
    volatile int stop = 0;
    struct reader rd[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rd[i] = (struct reader){.s = s, .run = run, .ds = ds, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
    }
    /* the writer: runs created, progressing, finished with leads, deleted */
    struct ls_error e = {0};
    int werr = 0;
    for (int k = 0; k < 15; k++) {
        int64_t id = new_run(s, ds, 0, NULL);
        for (int step = 0; step < 5; step++)
            werr += store_run_progress(s, id, "scoring", step / 5.0, 0, &e) != 0;
        struct store_lead *l = make_leads(2000, 1);
        struct store_run fin = {.id = id};
        fin_counts(&fin, l, 2000);
        werr += store_run_finish(s, &fin, l, 2000, &e) != 0;
        store_lead_list_free(l, 2000);
        if (k % 3 == 0)
            werr += store_run_delete(s, id, &e) != 0;
    }
    stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(werr, 0);
    for (int i = 0; i < 4; i++) {
        if (rd[i].errors)
            fail_msg("reader %d: %d errors of %d reads, last: %s", i, rd[i].errors, rd[i].reads,
                     rd[i].msg);
        assert_true(rd[i].reads >= 20);
    }
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_reopen),
        cmocka_unit_test(test_schema_version),
        cmocka_unit_test(test_one_process),
        cmocka_unit_test(test_tmp_path),
        cmocka_unit_test(test_datasets),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_finish_checks),
        cmocka_unit_test_setup_teardown(test_leads_filters, leads_setup, leads_teardown),
        cmocka_unit_test_setup_teardown(test_leads_sort, leads_setup, leads_teardown),
        cmocka_unit_test_setup_teardown(test_leads_paging, leads_setup, leads_teardown),
        cmocka_unit_test_setup_teardown(test_leads_explain, leads_setup, leads_teardown),
        cmocka_unit_test_setup_teardown(test_leads_each, leads_setup, leads_teardown),
        cmocka_unit_test(test_crash_sweep),
        cmocka_unit_test(test_concurrency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
