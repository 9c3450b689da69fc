/*
 * store_sqlite_chat.c — the language layer's records in SQLite (schema 2):
 * a run's chat facts, its leads' insights and its chat messages.
 *
 * The facts go in with the run itself (store_run_finish writes
 * runs.facts_json), so a done run of schema 2 always has them; they are
 * read here alone, never with the run (they can be megabytes, and every
 * run page would pay for them). Insights and messages reference their run
 * with ON DELETE CASCADE: deleting (or pruning) a run removes them in the
 * same transaction. Every write checks, inside its transaction, that the
 * run exists and is done, so a run deleted meanwhile never gains orphans.
 * A chat message and the trimming of the run's conversation to its last
 * `keep` messages are one transaction: a reader never sees more.
 */
#include "store/sqlite_internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LS_ENOT_FOUND, or LS_ECONFLICT unless the run is done (in c's transaction). */
static int run_done(struct sq_conn *c, int64_t run_id, struct ls_error *err)
{
    enum store_run_status status;
    int rc = sq__run_status(c, run_id, &status, err);
    if (rc)
        return rc;
    if (status != STORE_RUN_DONE)
        return ls_error_set(err, LS_ECONFLICT, "run %lld is %s, not done", (long long)run_id,
                            store_run_status_name(status));
    return 0;
}

/* 0 when s is 1..max bytes, else LS_EINPUT (missing, empty) or LS_ELIMIT. */
static int check_text(const char *s, size_t max, const char *what, struct ls_error *err)
{
    if (!s || !*s)
        return ls_error_set(err, LS_EINPUT, "%s is empty", what);
    size_t n = strlen(s);
    if (n > max)
        return ls_error_set(err, LS_ELIMIT, "%s has %zu bytes, more than %zu", what, n, max);
    return 0;
}

/* ---- facts ------------------------------------------------------------- */

int sq__run_facts(struct store *base, int64_t run_id, char **json, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    *json = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(c->db, "SELECT facts_json FROM runs WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = sq__fail(c, "reading a run's facts", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    rc = sq__step_row(c, st, "reading a run's facts", err);
    if (rc == 0)
        *json = sq__col_str(st, 0);
    else if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld not found", (long long)run_id);
out:
    sqlite3_finalize(st);
    sq__release(s, c);
    return rc;
}

/* ---- insights ---------------------------------------------------------- */

static int check_insight(const struct store_insight *v, struct ls_error *err)
{
    int rc = check_text(v->why, STORE_INSIGHT_MAX, "an insight's why", err);
    if (!rc)
        rc = check_text(v->next_action, STORE_INSIGHT_MAX, "an insight's next action", err);
    if (!rc)
        rc = check_text(v->provider, STORE_PROVIDER_MAX, "an insight's provider", err);
    if (!rc && (v->row < 1 || v->row > INT64_MAX))
        rc = ls_error_set(err, LS_EINPUT, "an insight's row is outside 1..2^63-1");
    return rc;
}

int sq__insights_put(struct store *base, int64_t run_id, const struct store_insight *v, size_t n,
                     struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL, *lead = NULL;
    int64_t now = sq__now_ms();
    int rc = 0;
    if (n && !v)
        return ls_error_set(err, LS_EINPUT, "no insights given");
    if (n > STORE_PAGE_MAX)
        return ls_error_set(err, LS_ELIMIT, "at most %d insights per call", STORE_PAGE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((rc = check_insight(&v[i], err)))
            return rc;
    if ((rc = sq__acquire(s, &c, err)))
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = run_done(c, run_id, err)))
        goto end;
    if ((rc = sq__stmt(c, SQ_LEAD_GET, &lead, err)))
        goto end;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO insights (run_id, row, why, next_action,"
                           " provider, created) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "storing insights", err);
        goto end;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_int64(lead, 1, run_id);
        sqlite3_bind_int64(lead, 2, (int64_t)v[i].row);
        rc = sq__step_row(c, lead, "looking up a lead", err);
        sq__done(lead);
        if (rc == 1) {
            rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld has no lead in row %llu",
                              (long long)run_id, (unsigned long long)v[i].row);
            break;
        }
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, (int64_t)v[i].row);
        sq__bind_str(st, 3, v[i].why);
        sq__bind_str(st, 4, v[i].next_action);
        sq__bind_str(st, 5, v[i].provider);
        sqlite3_bind_int64(st, 6, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sq__fail(c, "storing insights", err);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
end:
    sqlite3_finalize(st);
    rc = sq__write_end(s, c, 0, rc, err);
out:
    sq__release(s, c);
    return rc;
}

int sq__insights_get(struct store *base, int64_t run_id, struct store_insight **out, size_t *n,
                     struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct store_insight *v = NULL;
    size_t k = 0, cap = 0;
    enum store_run_status status;
    *out = NULL;
    *n = 0;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__read_begin(c, err)))
        goto out;
    if ((rc = sq__run_status(c, run_id, &status, err)))
        goto out;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT row, why, next_action, provider, created FROM insights"
                           " WHERE run_id = ? ORDER BY row",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "reading insights", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sq__step_row(c, st, "reading insights", err)) == 0) {
        if (k == cap) {
            cap = cap ? 2 * cap : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        struct store_insight *x = &v[k++];
        memset(x, 0, sizeof *x);
        x->row = (uint64_t)sqlite3_column_int64(st, 0);
        x->why = sq__col_str(st, 1);
        x->next_action = sq__col_str(st, 2);
        x->provider = sq__col_str(st, 3);
        x->created = sqlite3_column_int64(st, 4);
    }
    if (rc == 1)
        rc = 0;
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    if (rc) {
        store_insight_list_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

/* ---- chat messages ----------------------------------------------------- */

static int check_msg(const struct store_chat_msg *m, size_t keep, struct ls_error *err)
{
    if (!m)
        return ls_error_set(err, LS_EINPUT, "no message given");
    if (keep < 1)
        return ls_error_set(err, LS_EINPUT, "keep at least one message");
    if (strcmp(m->role, "user") != 0 && strcmp(m->role, "assistant") != 0)
        return ls_error_set(err, LS_EINPUT, "a message's role is user or assistant");
    int rc = check_text(m->text, STORE_CHAT_TEXT_MAX, "a chat message", err);
    if (!rc && m->provider)
        rc = check_text(m->provider, STORE_PROVIDER_MAX, "a message's provider", err);
    if (!rc && m->facts_json && strlen(m->facts_json) > STORE_CHAT_FACTS_MAX)
        rc = ls_error_set(err, LS_ELIMIT, "a message's facts have at most %u bytes",
                          (unsigned)STORE_CHAT_FACTS_MAX);
    return rc;
}

int sq__chat_add(struct store *base, struct store_chat_msg *m, size_t keep, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t now = sq__now_ms(), id = 0;
    int rc = check_msg(m, keep, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = run_done(c, m->run_id, err)))
        goto end;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO chat_messages (run_id, role, text, provider, facts_json,"
                           " created) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "storing a chat message", err);
        goto end;
    }
    sqlite3_bind_int64(st, 1, m->run_id);
    sq__bind_str(st, 2, m->role);
    sq__bind_str(st, 3, m->text);
    sq__bind_str(st, 4, m->provider);
    sq__bind_str(st, 5, m->facts_json);
    sqlite3_bind_int64(st, 6, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sq__fail(c, "storing a chat message", err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto end;
    id = sqlite3_last_insert_rowid(c->db);
    /* the conversation keeps its last `keep` messages: those before the
     * keep-th newest go (the index on (run_id, id) finds it) */
    if (sqlite3_prepare_v2(c->db,
                           "DELETE FROM chat_messages WHERE run_id = ?1 AND id <= (SELECT id"
                           " FROM chat_messages WHERE run_id = ?1 ORDER BY id DESC LIMIT 1"
                           " OFFSET ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "trimming a conversation", err);
        goto end;
    }
    sqlite3_bind_int64(st, 1, m->run_id);
    sqlite3_bind_int64(st, 2, keep > INT64_MAX ? INT64_MAX : (int64_t)keep);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sq__fail(c, "trimming a conversation", err);
    sqlite3_finalize(st);
end:
    rc = sq__write_end(s, c, 0, rc, err);
    if (rc == 0) {
        m->id = id;
        m->created = now;
    }
out:
    sq__release(s, c);
    return rc;
}

int sq__chat_list(struct store *base, int64_t run_id, size_t last, struct store_chat_msg **out,
                  size_t *n, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct store_chat_msg *v = NULL;
    size_t k = 0, cap = 0;
    enum store_run_status status;
    *out = NULL;
    *n = 0;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__read_begin(c, err)))
        goto out;
    if ((rc = sq__run_status(c, run_id, &status, err)))
        goto out;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, role, text, provider, facts_json, created FROM"
                           " (SELECT * FROM chat_messages WHERE run_id = ? ORDER BY id DESC"
                           " LIMIT ?) ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "reading a conversation", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, last == 0 || last > INT64_MAX ? -1 : (int64_t)last);
    while ((rc = sq__step_row(c, st, "reading a conversation", err)) == 0) {
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        struct store_chat_msg *x = &v[k++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        x->run_id = run_id;
        const char *role = (const char *)sqlite3_column_text(st, 1);
        snprintf(x->role, sizeof x->role, "%s", role ? role : "");
        x->text = sq__col_str(st, 2);
        x->provider = sq__col_str(st, 3);
        x->facts_json = sq__col_str(st, 4);
        x->created = sqlite3_column_int64(st, 5);
    }
    if (rc == 1)
        rc = 0;
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    if (rc) {
        store_chat_list_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}
