/*
 * test_store_chat.c — the store's schema 2 (store.h, "the language layer's
 * records"): a run's facts, its insights, its chat messages; their limits;
 * their going with the run (delete and prune); and a version 1 data folder
 * opening under version 2 with everything it held.
 *
 * The version 1 folder is made by this build's store and taken back to
 * version 1 from outside (the v2 tables dropped, runs.facts_json dropped,
 * user_version 1): the tables left are then exactly those version 1 made,
 * which the test checks against the schema text before reopening.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------- */

static const char *fresh_dir(void)
{
    static char dirs[8][512];
    static int k, serial;
    const char *marker = tu_write_temp("storechat.marker", "", 0);
    char *p = dirs[k++ % 8];
    snprintf(p, 512, "%s", marker);
    char *slash = strrchr(p, '/');
    snprintf(slash, 512 - (size_t)(slash - p), "/chat%d", serial++);
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

static const char *tmp_file(struct store *s, const char *text)
{
    static char path[1024];
    struct ls_error e;
    assert_int_equal(store_tmp_path(s, "up", "csv", path, sizeof path, &e), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int64_t put_dataset(struct store *s, const char *text, const char *name)
{
    struct store_dataset d = {0};
    struct ls_error e = {0};
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = text; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (int i = 0; i < 4; i++)
        snprintf(d.fingerprint + 16 * i, 17, "%016llx", (unsigned long long)(h + (uint64_t)i));
    d.filename = (char *)name;
    d.bytes = strlen(text);
    d.rows = 1;
    d.ncols = 1;
    int rc = store_dataset_put(s, tmp_file(s, text), &d, &e);
    if (rc)
        fail_msg("dataset_put: %d %s", rc, e.msg);
    int64_t id = d.id;
    store_dataset_cleanup(&d);
    return id;
}

static int64_t new_run(struct store *s, int64_t ds)
{
    struct store_run r = {0};
    struct ls_error e = {0};
    r.dataset_id = ds;
    int rc = store_run_create(s, &r, &e);
    if (rc)
        fail_msg("run_create: %d %s", rc, e.msg);
    return r.id;
}

/* Finish run id with n leads (rows 1..n, rank = row) and facts (may be NULL). */
static int finish(struct store *s, int64_t id, size_t n, const char *facts, struct ls_error *e)
{
    struct store_lead *l = xcalloc(n, sizeof *l);
    struct store_run r = {0};
    r.id = id;
    r.total = n;
    for (size_t i = 0; i < n; i++) {
        l[i].row = i + 1;
        l[i].rank = i + 1;
        l[i].score = 100.0 - (double)i;
        l[i].raw = l[i].score / 100;
        l[i].tier = 2;
        l[i].label = -1;
        r.tier[2]++;
    }
    r.summary_json = (char *)"{}";
    r.facts_json = (char *)facts;
    int rc = store_run_finish(s, &r, l, n, e);
    free(l);
    return rc;
}

static int64_t done_run(struct store *s, int64_t ds, size_t n, const char *facts)
{
    int64_t id = new_run(s, ds);
    struct ls_error e = {0};
    int rc = finish(s, id, n, facts, &e);
    if (rc)
        fail_msg("run_finish: %d %s", rc, e.msg);
    return id;
}

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

static void db_exec(const char *dir, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/leadscore.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static struct store_insight ins(uint64_t row, const char *why, const char *act, const char *prov)
{
    struct store_insight v = {row, (char *)why, (char *)act, (char *)prov, 0};
    return v;
}

static int add_msg(struct store *s, int64_t run, const char *role, const char *text,
                   const char *provider, const char *facts, size_t keep, int64_t *id,
                   struct ls_error *e)
{
    struct store_chat_msg m = {0};
    m.run_id = run;
    snprintf(m.role, sizeof m.role, "%s", role);
    m.text = (char *)text;
    m.provider = (char *)provider;
    m.facts_json = (char *)facts;
    int rc = store_chat_add(s, &m, keep, e);
    if (rc == 0) {
        assert_true(m.id > 0);
        assert_true(m.created > 0);
    }
    if (id)
        *id = m.id;
    return rc;
}

/* ---- facts ------------------------------------------------------------ */

static void test_facts(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = done_run(s, ds, 3, "{\"quality\":{\"auc\":0.91},\"tiers\":[1,2]}");
    char *facts = NULL;
    assert_int_equal(store_run_facts(s, run, &facts, &e), 0);
    assert_string_equal(facts, "{\"quality\":{\"auc\":0.91},\"tiers\":[1,2]}");
    free(facts);
    /* run_get never reads them */
    struct store_run r;
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_null(r.facts_json);
    store_run_cleanup(&r);

    /* a run without facts, a queued run: NULL; no run: not found */
    int64_t bare = done_run(s, ds, 2, NULL);
    facts = (char *)"x";
    assert_int_equal(store_run_facts(s, bare, &facts, &e), 0);
    assert_null(facts);
    int64_t queued = new_run(s, ds);
    assert_int_equal(store_run_facts(s, queued, &facts, &e), 0);
    assert_null(facts);
    assert_int_equal(store_run_facts(s, 9999, &facts, &e), LS_ENOT_FOUND);
    assert_null(facts);

    /* facts that are not JSON, or too big, are refused with the run left open */
    assert_int_equal(finish(s, queued, 2, "{not json", &e), LS_EINPUT);
    size_t big = STORE_FACTS_MAX + 1;
    char *huge = xmalloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '[';
    huge[big - 1] = ']';
    huge[big] = 0;
    assert_int_equal(finish(s, queued, 2, huge, &e), LS_ELIMIT);
    free(huge);
    assert_int_equal(store_run_get(s, queued, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_QUEUED);
    store_run_cleanup(&r);
    assert_int_equal(finish(s, queued, 2, "[]", &e), 0);
    assert_int_equal(store_run_facts(s, queued, &facts, &e), 0);
    assert_string_equal(facts, "[]");
    free(facts);
    store_close(s);
}

/* ---- a lead by its identifier ------------------------------------------ */

static void test_lead_find(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = new_run(s, ds);
    struct store_lead l[3] = {{0}};
    const char *ids[3] = {"A-1", "B-2", "A-1"}; /* two leads share an id */
    struct store_run r = {0};
    r.id = run;
    r.total = 3;
    for (size_t i = 0; i < 3; i++) {
        l[i].row = i + 1;
        l[i].rank = i + 1;
        l[i].score = 90.0 - (double)i;
        l[i].raw = l[i].score / 100;
        l[i].tier = 2;
        l[i].label = -1;
        l[i].lead_id = (char *)ids[i];
        r.tier[2]++;
    }
    struct store_lead x;
    assert_int_equal(store_lead_find(s, run, "B-2", &x, &e), LS_ECONFLICT); /* not done */
    assert_int_equal(store_run_finish(s, &r, l, 3, &e), 0);
    assert_int_equal(store_lead_find(s, run, "B-2", &x, &e), 0);
    assert_int_equal(x.row, 2);
    assert_string_equal(x.lead_id, "B-2");
    store_lead_cleanup(&x);
    assert_int_equal(store_lead_find(s, run, "A-1", &x, &e), 0);
    assert_int_equal(x.rank, 1); /* the best ranked of the two */
    store_lead_cleanup(&x);
    assert_int_equal(store_lead_find(s, run, "a-1", &x, &e), LS_ENOT_FOUND); /* exact */
    assert_int_equal(store_lead_find(s, run, "A", &x, &e), LS_ENOT_FOUND);
    assert_int_equal(store_lead_find(s, run, "", &x, &e), LS_EINPUT);
    assert_int_equal(store_lead_find(s, 9999, "A-1", &x, &e), LS_ENOT_FOUND);
    store_close(s);
}

/* ---- insights --------------------------------------------------------- */

static void test_insights(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = done_run(s, ds, 10, NULL);
    struct store_insight *v = NULL;
    size_t n = 7;
    assert_int_equal(store_insights_get(s, run, &v, &n, &e), 0);
    assert_int_equal(n, 0);
    store_insight_list_free(v, n);

    struct store_insight in[3] = {ins(5, "Visited often.", "Call today.", "builtin"),
                                  ins(2, "Came by referral.", "Send the offer.", "llama"),
                                  ins(9, "Opened every mail.", "Book a demo.", "gemini")};
    assert_int_equal(store_insights_put(s, run, in, 3, &e), 0);
    assert_int_equal(store_insights_get(s, run, &v, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].row, 2); /* by row */
    assert_int_equal(v[1].row, 5);
    assert_int_equal(v[2].row, 9);
    assert_string_equal(v[0].why, "Came by referral.");
    assert_string_equal(v[0].next_action, "Send the offer.");
    assert_string_equal(v[0].provider, "llama");
    assert_true(v[1].created > 0);
    store_insight_list_free(v, n);

    /* replaced by row */
    struct store_insight again = ins(5, "Spent 20 minutes on the site.", "Call now.", "llama");
    assert_int_equal(store_insights_put(s, run, &again, 1, &e), 0);
    assert_int_equal(store_insights_get(s, run, &v, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[1].why, "Spent 20 minutes on the site.");
    assert_string_equal(v[1].provider, "llama");
    store_insight_list_free(v, n);

    /* a row outside the run: nothing of the call kept */
    struct store_insight bad[2] = {ins(1, "New.", "Call.", "builtin"),
                                   ins(11, "No such lead.", "None.", "builtin")};
    assert_int_equal(store_insights_put(s, run, bad, 2, &e), LS_ENOT_FOUND);
    assert_non_null(strstr(e.msg, "row 11"));
    assert_int_equal(store_insights_get(s, run, &v, &n, &e), 0);
    assert_int_equal(n, 3);
    store_insight_list_free(v, n);

    /* limits */
    struct store_insight x = ins(1, "", "Call.", "builtin");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), LS_EINPUT);
    x = ins(1, "Why.", NULL, "builtin");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), LS_EINPUT);
    x = ins(1, "Why.", "Call.", "a-provider-name-longer-than-31-bytes");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), LS_ELIMIT);
    char *longwhy = xmalloc(STORE_INSIGHT_MAX + 2);
    memset(longwhy, 'w', STORE_INSIGHT_MAX + 1);
    longwhy[STORE_INSIGHT_MAX + 1] = 0;
    x = ins(1, longwhy, "Call.", "builtin");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), LS_ELIMIT);
    longwhy[STORE_INSIGHT_MAX] = 0; /* exactly the limit */
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), 0);
    free(longwhy);
    x = ins(0, "Why.", "Call.", "builtin");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), LS_EINPUT);
    assert_int_equal(store_insights_put(s, run, &x, STORE_PAGE_MAX + 1, &e), LS_ELIMIT);

    /* no run, a run not done */
    x = ins(1, "Why.", "Call.", "builtin");
    assert_int_equal(store_insights_put(s, 9999, &x, 1, &e), LS_ENOT_FOUND);
    assert_int_equal(store_insights_get(s, 9999, &v, &n, &e), LS_ENOT_FOUND);
    int64_t queued = new_run(s, ds);
    assert_int_equal(store_insights_put(s, queued, &x, 1, &e), LS_ECONFLICT);
    assert_int_equal(store_insights_get(s, queued, &v, &n, &e), 0);
    assert_int_equal(n, 0);
    store_insight_list_free(v, n);
    store_close(s);
}

/* ---- chat messages ---------------------------------------------------- */

static void test_chat(void **state)
{
    (void)state;
    struct store *s = open_ok(fresh_dir());
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = done_run(s, ds, 4, NULL);
    int64_t other = done_run(s, ds, 4, NULL);
    struct store_chat_msg *v = NULL;
    size_t n = 3;
    assert_int_equal(store_chat_list(s, run, 10, &v, &n, &e), 0);
    assert_int_equal(n, 0);
    store_chat_list_free(v, n);

    int64_t id1 = 0, id2 = 0, id = 0;
    assert_int_equal(add_msg(s, run, "user", "How good is the model?", NULL, NULL, 5, &id1, &e), 0);
    assert_int_equal(add_msg(s, run, "assistant", "AUC 0.91.", "builtin",
                             "[{\"id\":\"quality\",\"numbers\":{\"auc\":0.91}}]", 5, &id2, &e),
                     0);
    assert_true(id2 > id1);
    assert_int_equal(add_msg(s, other, "user", "Other run.", NULL, NULL, 5, NULL, &e), 0);
    assert_int_equal(store_chat_list(s, run, 10, &v, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, id1);
    assert_string_equal(v[0].role, "user");
    assert_string_equal(v[0].text, "How good is the model?");
    assert_null(v[0].provider);
    assert_null(v[0].facts_json);
    assert_int_equal(v[0].run_id, run);
    assert_string_equal(v[1].role, "assistant");
    assert_string_equal(v[1].provider, "builtin");
    assert_string_equal(v[1].facts_json, "[{\"id\":\"quality\",\"numbers\":{\"auc\":0.91}}]");
    assert_true(v[1].created >= v[0].created);
    store_chat_list_free(v, n);

    /* keep: the last 5 only; list: the last `last`, oldest first */
    char text[32];
    for (int i = 0; i < 8; i++) {
        snprintf(text, sizeof text, "message %d", i);
        assert_int_equal(add_msg(s, run, i % 2 ? "assistant" : "user", text, i % 2 ? "llama" : NULL,
                                 NULL, 5, &id, &e),
                         0);
    }
    assert_int_equal(store_chat_list(s, run, 0, &v, &n, &e), 0);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].text, "message 3");
    assert_string_equal(v[4].text, "message 7");
    assert_int_equal(v[4].id, id);
    store_chat_list_free(v, n);
    assert_int_equal(store_chat_list(s, run, 2, &v, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].text, "message 6");
    assert_string_equal(v[1].text, "message 7");
    store_chat_list_free(v, n);
    /* the other run's conversation is its own */
    assert_int_equal(store_chat_list(s, other, 0, &v, &n, &e), 0);
    assert_int_equal(n, 1);
    store_chat_list_free(v, n);
    assert_int_equal(db_int(s->dir, "SELECT count(*) FROM chat_messages"), 6);

    /* limits and checks */
    assert_int_equal(add_msg(s, run, "system", "x", NULL, NULL, 5, NULL, &e), LS_EINPUT);
    assert_int_equal(add_msg(s, run, "user", "", NULL, NULL, 5, NULL, &e), LS_EINPUT);
    assert_int_equal(add_msg(s, run, "user", NULL, NULL, NULL, 5, NULL, &e), LS_EINPUT);
    assert_int_equal(add_msg(s, run, "user", "x", NULL, NULL, 0, NULL, &e), LS_EINPUT);
    assert_int_equal(add_msg(s, run, "assistant", "x", "builtin", "{broken", 5, NULL, &e),
                     LS_EINPUT);
    assert_int_equal(add_msg(s, run, "assistant", "x", "a-provider-name-longer-than-31-bytes", NULL,
                             5, NULL, &e),
                     LS_ELIMIT);
    char *big = xmalloc(STORE_CHAT_TEXT_MAX + 2);
    memset(big, 'a', STORE_CHAT_TEXT_MAX + 1);
    big[STORE_CHAT_TEXT_MAX + 1] = 0;
    assert_int_equal(add_msg(s, run, "user", big, NULL, NULL, 5, NULL, &e), LS_ELIMIT);
    free(big);
    assert_int_equal(add_msg(s, 9999, "user", "x", NULL, NULL, 5, NULL, &e), LS_ENOT_FOUND);
    assert_int_equal(store_chat_list(s, 9999, 0, &v, &n, &e), LS_ENOT_FOUND);
    int64_t queued = new_run(s, ds);
    assert_int_equal(add_msg(s, queued, "user", "x", NULL, NULL, 5, NULL, &e), LS_ECONFLICT);
    /* nothing of those went in */
    assert_int_equal(db_int(s->dir, "SELECT count(*) FROM chat_messages"), 6);
    store_close(s);
}

/* ---- the records go with their run -------------------------------------- */

static void test_delete_cascade(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir);
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "a.csv");
    int64_t run = done_run(s, ds, 3, "{\"a\":1}");
    int64_t keep = done_run(s, ds, 3, "{\"b\":2}");
    struct store_insight in[2] = {ins(1, "Why one.", "Call.", "builtin"),
                                  ins(2, "Why two.", "Mail.", "builtin")};
    assert_int_equal(store_insights_put(s, run, in, 2, &e), 0);
    assert_int_equal(store_insights_put(s, keep, in, 1, &e), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(add_msg(s, run, "user", "q", NULL, NULL, 10, NULL, &e), 0);
        assert_int_equal(add_msg(s, keep, "user", "q", NULL, NULL, 10, NULL, &e), 0);
    }
    assert_int_equal(db_int(dir, "SELECT count(*) FROM insights"), 3);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM chat_messages"), 6);
    assert_int_equal(store_run_delete(s, run, &e), 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM insights WHERE run_id = %lld", (long long)run);
    assert_int_equal(db_int(dir, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM chat_messages WHERE run_id = %lld",
             (long long)run);
    assert_int_equal(db_int(dir, sql), 0);
    /* the other run keeps its own */
    assert_int_equal(db_int(dir, "SELECT count(*) FROM insights"), 1);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM chat_messages"), 3);
    struct store_insight *v = NULL;
    size_t n = 0;
    assert_int_equal(store_insights_get(s, run, &v, &n, &e), LS_ENOT_FOUND);
    char *facts = NULL;
    assert_int_equal(store_run_facts(s, keep, &facts, &e), 0);
    assert_string_equal(facts, "{\"b\":2}");
    free(facts);
    store_close(s);
}

/* ---- migration from version 1 ------------------------------------------ */

static void test_migrate_v1(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct store *s = open_ok(dir);
    struct ls_error e = {0};
    int64_t ds = put_dataset(s, "a\n1\n", "old.csv");
    int64_t run = done_run(s, ds, 5, NULL);
    store_close(s);

    /* back to what version 1 wrote */
    db_exec(dir, "DROP TABLE insights; DROP TABLE chat_messages;"
                 " ALTER TABLE runs DROP COLUMN facts_json; PRAGMA user_version = 1;");
    assert_int_equal(db_int(dir, "PRAGMA user_version"), 1);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                 " ('insights', 'chat_messages', 'chat_messages_run')"),
                     0);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM pragma_table_info('runs')"
                                 " WHERE name = 'facts_json'"),
                     0);

    s = open_ok(dir);
    assert_int_equal(db_int(dir, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(STORE_SCHEMA_VERSION, 2);
    /* everything version 1 held */
    struct store_run r;
    assert_int_equal(store_run_get(s, run, &r, &e), 0);
    assert_int_equal(r.status, STORE_RUN_DONE);
    assert_int_equal(r.total, 5);
    assert_string_equal(r.filename, "old.csv");
    store_run_cleanup(&r);
    struct store_lead l;
    assert_int_equal(store_lead_get(s, run, 5, &l, &e), 0);
    assert_int_equal(l.rank, 5);
    store_lead_cleanup(&l);
    struct store_dataset d;
    assert_int_equal(store_dataset_get(s, ds, &d, &e), 0);
    assert_string_equal(d.filename, "old.csv");
    store_dataset_cleanup(&d);
    /* an old run has no facts; it takes insights and messages */
    char *facts = (char *)"x";
    assert_int_equal(store_run_facts(s, run, &facts, &e), 0);
    assert_null(facts);
    struct store_insight x = ins(1, "Why.", "Call.", "builtin");
    assert_int_equal(store_insights_put(s, run, &x, 1, &e), 0);
    assert_int_equal(add_msg(s, run, "user", "Hello?", NULL, NULL, 5, NULL, &e), 0);
    /* new runs store facts; deleting the old run takes its new records */
    int64_t run2 = done_run(s, ds, 2, "{\"new\":true}");
    assert_int_equal(store_run_facts(s, run2, &facts, &e), 0);
    assert_string_equal(facts, "{\"new\":true}");
    free(facts);
    assert_int_equal(store_run_delete(s, run, &e), 0);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM insights"), 0);
    assert_int_equal(db_int(dir, "SELECT count(*) FROM chat_messages"), 0);
    store_close(s);

    /* and it opens again at version 2 with nothing to migrate */
    s = open_ok(dir);
    assert_int_equal(store_run_facts(s, run2, &facts, &e), 0);
    assert_string_equal(facts, "{\"new\":true}");
    free(facts);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts),          cmocka_unit_test(test_lead_find),
        cmocka_unit_test(test_insights),       cmocka_unit_test(test_chat),
        cmocka_unit_test(test_delete_cascade), cmocka_unit_test(test_migrate_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
