/*
 * store_sqlite_runs.c — runs in SQLite: created, progressing, finished or
 * failed, found, listed, deleted.
 *
 * A run's status only moves forward (queued -> running -> done or failed),
 * each move an UPDATE guarded by the status it leaves, inside the writer's
 * transaction, so a late progress report can never undo a failure. The
 * finish itself, with the leads, is in store_sqlite_leads.c. A deleted run
 * loses its row at once and its leads in batches (sq__purge_leads), so the
 * writer is never held for seconds by one delete.
 */
#include "store/sqlite_internal.h"

#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_COLS_SQL                                                                               \
    "id, dataset_id, model_id, filename, cache_key, status, stage, progress, error, total, "       \
    "tier_low, tier_medium, tier_high, has_outcomes, explained, summary_json, created, finished"
#define RUN_ERROR_MAX 4096 /* bytes of a failed run's reason kept */

static void read_run(sqlite3_stmt *st, struct store_run *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->dataset_id = sqlite3_column_int64(st, 1);
    r->model_id = sqlite3_column_int64(st, 2);
    r->filename = sq__col_str(st, 3);
    r->cache_key = sq__col_str(st, 4);
    r->status = (enum store_run_status)sqlite3_column_int(st, 5);
    const char *stage = (const char *)sqlite3_column_text(st, 6);
    snprintf(r->stage, sizeof r->stage, "%s", stage ? stage : "");
    r->progress = sqlite3_column_double(st, 7);
    r->error = sq__col_str(st, 8);
    r->total = (uint64_t)sqlite3_column_int64(st, 9);
    for (int t = 0; t < 3; t++)
        r->tier[t] = (uint64_t)sqlite3_column_int64(st, 10 + t);
    r->has_outcomes = sqlite3_column_int(st, 13);
    r->explained = sqlite3_column_int(st, 14);
    r->summary_json = sq__col_str(st, 15);
    r->created = sqlite3_column_int64(st, 16);
    r->finished = sqlite3_column_int64(st, 17);
}

/* Step a bound lookup: 0 with a row, 1 without one, else the error. */

static void read_run_item(const struct store *s, sqlite3_stmt *st, void *item)
{
    (void)s;
    read_run(st, item);
}

static void run_item_cleanup(void *item)
{
    store_run_cleanup(item);
}

/* ---- runs ------------------------------------------------------------- */

int sq__run_status(struct sq_conn *c, int64_t id, enum store_run_status *status,
                   struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, SQ_RUN_STATUS, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "reading a run", err);
    if (rc == 0)
        *status = (enum store_run_status)sqlite3_column_int(st, 0);
    else if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld not found", (long long)id);
    sq__done(st);
    return rc;
}

/* Why a run that is no longer queued or running cannot change. */
static int run_not_open(struct sq_conn *c, int64_t id, struct ls_error *err)
{
    enum store_run_status status;
    int rc = sq__run_status(c, id, &status, err);
    if (rc)
        return rc;
    return ls_error_set(err, LS_ECONFLICT, "run %lld is already %s", (long long)id,
                        store_run_status_name(status));
}

/* 0 when the row with id exists in table (models, datasets), else LS_ENOT_FOUND. */
static int row_exists(struct sq_conn *c, enum sq_stmt_id which, int64_t id, const char *what,
                      struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, which, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "looking up", err);
    sq__done(st);
    if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "%s %lld not found", what, (long long)id);
    return rc;
}

int sq__run_create(struct store *base, struct store_run *r, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *filename = NULL;
    int64_t now = sq__now_ms();
    int rc = sq__check_key(r->cache_key, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = sq__stmt(c, SQ_DATASET_GET, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, r->dataset_id);
    rc = sq__step_row(c, st, "looking up a data set", err);
    if (rc == 0) /* the run's file name: the caller's, else the data set's */
        filename =
            sq__filename(r->filename ? r->filename : (const char *)sqlite3_column_text(st, 2));
    sq__done(st);
    if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "data set %lld not found", (long long)r->dataset_id);
    if (rc)
        goto end;
    if (r->model_id && (rc = row_exists(c, SQ_MODEL_GET, r->model_id, "model", err)))
        goto end;
    if ((rc = sq__stmt(c, SQ_RUN_INSERT, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, r->dataset_id);
    sqlite3_bind_int64(st, 2, r->model_id);
    sq__bind_str(st, 3, filename);
    sq__bind_str(st, 4, r->cache_key);
    sqlite3_bind_int64(st, 5, now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "adding a run", err);
    sq__done(st);
end:
    if (rc == 0)
        r->id = sqlite3_last_insert_rowid(c->db);
    rc = sq__write_end(s, c, 0, rc, err);
    if (rc == 0) {
        r->created = now;
        r->status = STORE_RUN_QUEUED;
        snprintf(r->stage, sizeof r->stage, "queued");
    } else {
        r->id = 0;
    }
out:
    sq__release(s, c);
    free(filename);
    return rc;
}

int sq__run_progress(struct store *base, int64_t id, const char *stage, double progress,
                     int64_t model_id, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    if (!stage || !*stage || strlen(stage) >= sizeof((struct store_run *)0)->stage)
        return ls_error_set(err, LS_EINPUT, "a stage is a name of 1 to 31 bytes");
    if (isnan(progress))
        return ls_error_set(err, LS_EINPUT, "progress is not a number");
    progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if (model_id && (rc = row_exists(c, SQ_MODEL_GET, model_id, "model", err)))
        goto end;
    if ((rc = sq__stmt(c, SQ_RUN_PROGRESS, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, id);
    sq__bind_str(st, 2, stage);
    sqlite3_bind_double(st, 3, progress);
    sqlite3_bind_int64(st, 4, model_id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "recording progress", err);
    sq__done(st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = run_not_open(c, id, err);
end:
    rc = sq__write_end(s, c, 0, rc, err);
out:
    sq__release(s, c);
    return rc;
}

int sq__run_fail(struct store *base, int64_t id, const char *why, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char reason[RUN_ERROR_MAX + 1];
    size_t n = strlen(why && *why ? why : "failed");
    if (n > RUN_ERROR_MAX) {
        n = RUN_ERROR_MAX;
        while (n > 0 && ((unsigned char)why[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(reason, why && *why ? why : "failed", n);
    reason[n] = '\0';
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__write_begin(s, c, 1, err)))
        goto out;
    if (sqlite3_prepare_v2(c->db,
                           "UPDATE runs SET status = 3, error = ?, finished = ?"
                           " WHERE id = ? AND status IN (0, 1)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "failing a run", err);
        goto end;
    }
    sq__bind_str(st, 1, reason);
    sqlite3_bind_int64(st, 2, sq__now_ms());
    sqlite3_bind_int64(st, 3, id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "failing a run", err);
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = run_not_open(c, id, err);
end:
    rc = sq__write_end(s, c, 1, rc, err);
out:
    sq__release(s, c);
    return rc;
}

int sq__run_get(struct store *base, int64_t id, struct store_run *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__stmt(c, SQ_RUN_GET, &st, err)))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "reading a run", err);
    if (rc == 0)
        read_run(st, out);
    else if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld not found", (long long)id);
    sq__done(st);
out:
    sq__release(s, c);
    return rc;
}

int sq__run_find(struct store *base, const char *cache_key, const char *filename,
                 struct store_run *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *name = NULL;
    const char *sql = cache_key  ? "SELECT " RUN_COLS_SQL " FROM runs WHERE status = 2 AND "
                                   "cache_key = ? ORDER BY id DESC LIMIT 1"
                      : filename ? "SELECT " RUN_COLS_SQL " FROM runs WHERE status = 2 AND "
                                   "filename = ? ORDER BY id DESC LIMIT 1"
                                 : "SELECT " RUN_COLS_SQL " FROM runs WHERE status = 2 "
                                   "ORDER BY id DESC LIMIT 1";
    int rc = sq__check_key(cache_key, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "finding a run", err);
        goto out;
    }
    if (cache_key) {
        sq__bind_str(st, 1, cache_key);
    } else if (filename) {
        name = sq__filename(filename);
        sq__bind_str(st, 1, name);
    }
    rc = sq__step_row(c, st, "finding a run", err);
    if (rc == 0)
        read_run(st, out);
    else if (rc == 1)
        rc = cache_key  ? ls_error_set(err, LS_ENOT_FOUND, "no finished run with that cache key")
             : filename ? ls_error_set(err, LS_ENOT_FOUND, "no finished run of %s", name)
                        : ls_error_set(err, LS_ENOT_FOUND, "no finished run");
out:
    sqlite3_finalize(st);
    sq__release(s, c);
    free(name);
    return rc;
}

int sq__run_list(struct store *base, uint64_t offset, uint64_t limit, struct store_run **out,
                 size_t *n, uint64_t *total, struct ls_error *err)
{
    void *items = NULL;
    int rc =
        sq__list_page(sq_of(base), "runs", RUN_COLS_SQL, offset, limit, sizeof(struct store_run),
                      read_run_item, run_item_cleanup, &items, n, total, err);
    if (rc == 0)
        *out = items;
    return rc;
}

int sq__run_delete(struct store *base, int64_t id, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum store_run_status status;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = sq__run_status(c, id, &status, err)))
        goto end;
    if (status == STORE_RUN_QUEUED || status == STORE_RUN_RUNNING) {
        rc = ls_error_set(err, LS_ECONFLICT, "run %lld is %s: it can be deleted once it ends",
                          (long long)id, store_run_status_name(status));
        goto end;
    }
    /* the run goes now; its leads after COMMIT, in batches (sq__purge_leads) */
    static const char *const del[] = {"DELETE FROM runs WHERE id = ?",
                                      "INSERT INTO run_trash (id) VALUES (?)"};
    for (size_t i = 0; i < 2 && !rc; i++) {
        if (sqlite3_prepare_v2(c->db, del[i], -1, &st, NULL) != SQLITE_OK) {
            rc = sq__fail(c, "deleting a run", err);
            break;
        }
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sq__fail(c, "deleting a run", err);
        sqlite3_finalize(st);
        st = NULL;
    }
end:
    rc = sq__write_end(s, c, 0, rc, err);
    /* The run is deleted for every reader now. Its leads go next; should
     * that fail, they are unreachable and the next open finishes the job,
     * so the delete still succeeded. */
    if (rc == 0) {
        struct ls_error ignored;
        sq__purge_leads(s, c, id, &ignored);
    }
out:
    sq__release(s, c);
    return rc;
}

#define PURGE_BATCH 20000 /* leads deleted per transaction (~0.1 s of CPU each) */

int sq__purge_leads(struct sq_store *s, struct sq_conn *c, int64_t id, struct ls_error *err)
{
    int rc = 0, more = 1;
    sq__big_cache(c, 1);
    while (more && !rc) {
        sqlite3_stmt *st = NULL;
        if ((rc = sq__write_begin(s, c, 0, err)))
            return rc;
        if (sqlite3_prepare_v2(c->db,
                               /* in rank order, the order they went in:
                                * the table's pages and two of its
                                * indexes are then freed front to back */
                               "DELETE FROM leads WHERE rowid IN (SELECT rowid FROM leads"
                               " INDEXED BY leads_rank WHERE run_id = ?1 ORDER BY rank LIMIT ?2)",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = sq__fail(c, "deleting leads", err);
        } else {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int(st, 2, PURGE_BATCH);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = sq__fail(c, "deleting leads", err);
            else
                more = sqlite3_changes(c->db) > 0;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (!rc && !more) {
            if (sqlite3_prepare_v2(c->db, "DELETE FROM run_trash WHERE id = ?", -1, &st, NULL) !=
                SQLITE_OK) {
                rc = sq__fail(c, "deleting leads", err);
            } else {
                sqlite3_bind_int64(st, 1, id);
                if (sqlite3_step(st) != SQLITE_DONE)
                    rc = sq__fail(c, "deleting leads", err);
            }
            sqlite3_finalize(st);
        }
        rc = sq__write_end(s, c, 0, rc, err);
    }
    sq__big_cache(c, 0);
    return rc;
}

int sq__purge_trash(struct sq_store *s, struct sq_conn *c, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    for (;;) {
        int64_t id = 0;
        if (sqlite3_prepare_v2(c->db, "SELECT id FROM run_trash LIMIT 1", -1, &st, NULL) !=
            SQLITE_OK)
            return sq__fail(c, "reading run_trash", err);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        else if (step != SQLITE_DONE)
            rc = sq__fail(c, "reading run_trash", err);
        sqlite3_finalize(st);
        if (rc || !id)
            return rc;
        if ((rc = sq__purge_leads(s, c, id, err)))
            return rc;
    }
}
