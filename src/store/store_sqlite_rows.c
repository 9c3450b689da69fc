/*
 * store_sqlite_rows.c — data sets and models in SQLite (runs: store_sqlite_runs.c).
 *
 * Every write is one transaction under the writer lock (sq__write_begin),
 * and every check that decides a write (does the fingerprint exist, is the
 * run still running) is made inside that transaction, so two threads can
 * never both pass it. A file that joins the store (an upload, a model) is
 * renamed into place between its INSERT and COMMIT: if the process dies in
 * between, the file has no row and the sweep at the next open removes it;
 * a row is never visible without its file. A deleted model loses its row
 * first and its file after COMMIT, for the same reason.
 */
#include "store/sqlite_internal.h"

#include "core/mem.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODEL_COLS_SQL "id, dataset_id, cache_key, options_json, info_json, created"
#define CACHE_KEY_MAX  128 /* bytes of a cache key (a SHA-256 hex is 64) */
#define PATH_CAP       (PATH_MAX + 64)

/* ---- reading rows ----------------------------------------------------- */

static void read_dataset(const struct store *s, sqlite3_stmt *st, struct store_dataset *d)
{
    char path[PATH_CAP];
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    const char *fp = (const char *)sqlite3_column_text(st, 1);
    snprintf(d->fingerprint, sizeof d->fingerprint, "%s", fp ? fp : "");
    d->filename = sq__col_str(st, 2);
    d->bytes = (uint64_t)sqlite3_column_int64(st, 3);
    d->rows = (uint64_t)sqlite3_column_int64(st, 4);
    d->ncols = (uint32_t)sqlite3_column_int64(st, 5);
    d->info_json = sq__col_str(st, 6);
    d->created = sqlite3_column_int64(st, 7);
    sq__upload_path(s, d->id, path, sizeof path);
    d->path = xstrdup(path);
}

static void read_model(const struct store *s, sqlite3_stmt *st, struct store_model *m)
{
    char path[PATH_CAP];
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(st, 0);
    m->dataset_id = sqlite3_column_int64(st, 1);
    m->cache_key = sq__col_str(st, 2);
    m->options_json = sq__col_str(st, 3);
    m->info_json = sq__col_str(st, 4);
    m->created = sqlite3_column_int64(st, 5);
    sq__model_path(s, m->id, path, sizeof path);
    m->path = xstrdup(path);
}

int sq__step_row(struct sq_conn *c, sqlite3_stmt *st, const char *what, struct ls_error *err)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        return 0;
    if (step == SQLITE_DONE)
        return 1;
    return sq__fail(c, what, err);
}

static int check_page(uint64_t offset, uint64_t limit, struct ls_error *err)
{
    if (limit < 1 || limit > STORE_PAGE_MAX)
        return ls_error_set(err, LS_EINPUT, "limit %llu is outside 1..%d",
                            (unsigned long long)limit, STORE_PAGE_MAX);
    if (offset > INT64_MAX)
        return ls_error_set(err, LS_EINPUT, "offset %llu is too large", (unsigned long long)offset);
    return 0;
}

int sq__check_key(const char *key, struct ls_error *err)
{
    if (key && strlen(key) > CACHE_KEY_MAX)
        return ls_error_set(err, LS_EINPUT, "a cache key has at most %d bytes", CACHE_KEY_MAX);
    return 0;
}

/* ---- data sets -------------------------------------------------------- */

static int dataset_load(struct sq_store *s, struct sq_conn *c, enum sq_stmt_id which, int64_t id,
                        const char *text, struct store_dataset *out, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, which, &st, err);
    if (rc)
        return rc;
    if (text)
        sq__bind_str(st, 1, text);
    else
        sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "reading a data set", err);
    if (rc == 0)
        read_dataset(&s->base, st, out);
    else if (rc == 1)
        rc = text ? ls_error_set(err, LS_ENOT_FOUND, "no data set %s", text)
                  : ls_error_set(err, LS_ENOT_FOUND, "data set %lld not found", (long long)id);
    sq__done(st);
    return rc;
}

static int check_fingerprint(const char *fp, struct ls_error *err)
{
    size_t n = fp ? strlen(fp) : 0;
    int ok = n == 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f');
    return ok ? 0 : ls_error_set(err, LS_EINPUT, "a fingerprint is 64 lowercase hex digits");
}

int sq__dataset_put(struct store *base, const char *tmp_file, struct store_dataset *d,
                    struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *filename = NULL, path[PATH_CAP] = "";
    int64_t id = 0, existing = 0;
    int rc = 0, moved = 0;

    if ((rc = check_fingerprint(d->fingerprint, err)) || (rc = sq__check_tmp(base, tmp_file, err)))
        return rc;
    if (!d->filename || !*d->filename)
        return ls_error_set(err, LS_EINPUT, "a data set needs a file name");
    if (d->ncols > INT32_MAX || d->bytes > INT64_MAX || d->rows > INT64_MAX)
        return ls_error_set(err, LS_EINPUT, "a data set's sizes are out of range");
    filename = sq__filename(d->filename);
    if ((rc = sq__acquire(s, &c, err)))
        goto out;
    if ((rc = sq__write_begin(s, c, 1, err)))
        goto out;
    /* the fingerprint check and the insert in one transaction: two uploads
     * of the same bytes at once make one data set */
    if ((rc = sq__stmt(c, SQ_DATASET_BY_FP, &st, err)))
        goto end;
    sq__bind_str(st, 1, d->fingerprint);
    rc = sq__step_row(c, st, "looking up a fingerprint", err);
    if (rc == 0)
        existing = sqlite3_column_int64(st, 0);
    sq__done(st);
    if (rc < 0 || existing) {
        rc = rc < 0 ? rc : 0;
        goto end;
    }
    if ((rc = sq__stmt(c, SQ_DATASET_INSERT, &st, err)))
        goto end;
    sq__bind_str(st, 1, d->fingerprint);
    sq__bind_str(st, 2, filename);
    sqlite3_bind_int64(st, 3, (int64_t)d->bytes);
    sqlite3_bind_int64(st, 4, (int64_t)d->rows);
    sqlite3_bind_int64(st, 5, (int64_t)d->ncols);
    sq__bind_str(st, 6, d->info_json);
    sqlite3_bind_int64(st, 7, sq__now_ms());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "adding a data set", err);
    sq__done(st);
    if (rc)
        goto end;
    id = sqlite3_last_insert_rowid(c->db);
    if (sq__upload_path(base, id, path, sizeof path)) {
        rc = ls_error_set(err, LS_ELIMIT, "the data directory's path is too long");
        goto end;
    }
    /* renamed before COMMIT: a crash now leaves a file without a row (swept) */
    if ((rc = sq__move_in(base, tmp_file, path, err)) == 0)
        moved = 1;
end:
    rc = sq__write_end(s, c, 1, rc, err);
    if (rc && moved)
        unlink(path); /* the commit failed: no row names it */
    if (rc)
        goto out;
    if (existing) {
        unlink(tmp_file);
        struct store_dataset rec;
        if ((rc = dataset_load(s, c, SQ_DATASET_GET, existing, NULL, &rec, err)))
            goto out;
        *d = rec; /* *d's strings were the caller's: not ours to free */
        rc = ls_error_set(err, LS_ECONFLICT, "data set %lld has the same bytes",
                          (long long)existing);
        goto out;
    }
    {
        struct store_dataset rec;
        if ((rc = dataset_load(s, c, SQ_DATASET_GET, id, NULL, &rec, err)))
            goto out;
        *d = rec;
    }
out:
    sq__release(s, c);
    free(filename);
    return rc;
}

int sq__dataset_get(struct store *base, int64_t id, struct store_dataset *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc == 0)
        rc = dataset_load(s, c, SQ_DATASET_GET, id, NULL, out, err);
    sq__release(s, c);
    return rc;
}

int sq__dataset_find(struct store *base, const char *fingerprint, const char *filename,
                     struct store_dataset *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    char *name = NULL;
    int rc = 0;
    if (!fingerprint && !filename)
        return ls_error_set(err, LS_EINPUT, "find a data set by fingerprint or by file name");
    if (!fingerprint)
        name = sq__filename(filename);
    if ((rc = sq__acquire(s, &c, err)))
        goto out;
    rc = fingerprint ? dataset_load(s, c, SQ_DATASET_BY_FP, 0, fingerprint, out, err)
                     : dataset_load(s, c, SQ_DATASET_BY_NAME, 0, name, out, err);
out:
    sq__release(s, c);
    free(name);
    return rc;
}

/* ---- models ----------------------------------------------------------- */

static int model_load(struct sq_store *s, struct sq_conn *c, enum sq_stmt_id which, int64_t id,
                      const char *key, struct store_model *out, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, which, &st, err);
    if (rc)
        return rc;
    if (key)
        sq__bind_str(st, 1, key);
    else
        sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "reading a model", err);
    if (rc == 0)
        read_model(&s->base, st, out);
    else if (rc == 1)
        rc = which == SQ_MODEL_GET
                 ? ls_error_set(err, LS_ENOT_FOUND, "model %lld not found", (long long)id)
             : key ? ls_error_set(err, LS_ENOT_FOUND, "no model with cache key %s", key)
                   : ls_error_set(err, LS_ENOT_FOUND, "data set %lld has no model", (long long)id);
    sq__done(st);
    return rc;
}

int sq__model_put(struct store *base, const char *tmp_file, struct store_model *m,
                  struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char path[PATH_CAP] = "";
    int64_t id = 0;
    int rc = 0, moved = 0;

    if ((rc = sq__check_key(m->cache_key, err)) || (rc = sq__check_tmp(base, tmp_file, err)))
        return rc;
    if ((rc = sq__acquire(s, &c, err)))
        goto out;
    if ((rc = sq__write_begin(s, c, 1, err)))
        goto out;
    if ((rc = sq__stmt(c, SQ_DATASET_GET, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, m->dataset_id);
    rc = sq__step_row(c, st, "looking up a data set", err);
    sq__done(st);
    if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "data set %lld not found", (long long)m->dataset_id);
    if (rc)
        goto end;
    if ((rc = sq__stmt(c, SQ_MODEL_INSERT, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, m->dataset_id);
    sq__bind_str(st, 2, m->cache_key);
    sq__bind_str(st, 3, m->options_json);
    sq__bind_str(st, 4, m->info_json);
    sqlite3_bind_int64(st, 5, sq__now_ms());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "adding a model", err);
    sq__done(st);
    if (rc)
        goto end;
    id = sqlite3_last_insert_rowid(c->db);
    if (sq__model_path(base, id, path, sizeof path)) {
        rc = ls_error_set(err, LS_ELIMIT, "the data directory's path is too long");
        goto end;
    }
    if ((rc = sq__move_in(base, tmp_file, path, err)) == 0)
        moved = 1;
end:
    rc = sq__write_end(s, c, 1, rc, err);
    if (rc && moved)
        unlink(path);
    if (rc)
        goto out;
    {
        struct store_model rec;
        if ((rc = model_load(s, c, SQ_MODEL_GET, id, NULL, &rec, err)))
            goto out;
        *m = rec;
    }
out:
    sq__release(s, c);
    return rc;
}

int sq__model_get(struct store *base, int64_t id, struct store_model *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc == 0)
        rc = model_load(s, c, SQ_MODEL_GET, id, NULL, out, err);
    sq__release(s, c);
    return rc;
}

int sq__model_find(struct store *base, const char *cache_key, int64_t dataset_id,
                   struct store_model *out, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    int rc = sq__check_key(cache_key, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    rc = cache_key ? model_load(s, c, SQ_MODEL_BY_KEY, 0, cache_key, out, err)
                   : model_load(s, c, SQ_MODEL_BY_DATASET, dataset_id, NULL, out, err);
    sq__release(s, c);
    return rc;
}

/* One page of a table, newest first, with the count of all, in one snapshot.
 * read(row) fills item i of *items (each of size isz). */
int sq__list_page(struct sq_store *s, const char *table, const char *cols, uint64_t offset,
                  uint64_t limit, size_t isz,
                  void (*read)(const struct store *s, sqlite3_stmt *st, void *item),
                  void (*cleanup)(void *item), void **items, size_t *n, uint64_t *total,
                  struct ls_error *err)
{
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char sql[512];
    char *list = NULL;
    size_t got = 0;
    int rc = check_page(offset, limit, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    if ((rc = sq__read_begin(c, err)))
        goto out;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = sq__fail(c, "counting", err);
        goto out;
    }
    uint64_t count = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY id DESC LIMIT ? OFFSET ?", cols, table);
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "listing", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, (int64_t)limit);
    sqlite3_bind_int64(st, 2, (int64_t)offset);
    list = xcalloc(limit, isz);
    int step = SQLITE_DONE;
    while (got < limit && (step = sqlite3_step(st)) == SQLITE_ROW)
        read(&s->base, st, list + isz * got++);
    if (got < limit && step != SQLITE_DONE) {
        rc = sq__fail(c, "listing", err);
        goto out;
    }
    *items = list;
    list = NULL;
    *n = got;
    *total = count;
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    for (size_t i = 0; list && i < got; i++)
        cleanup(list + isz * i);
    free(list);
    return rc;
}

static void read_model_item(const struct store *s, sqlite3_stmt *st, void *item)
{
    read_model(s, st, item);
}

static void model_item_cleanup(void *item)
{
    store_model_cleanup(item);
}

int sq__model_list(struct store *base, uint64_t offset, uint64_t limit, struct store_model **out,
                   size_t *n, uint64_t *total, struct ls_error *err)
{
    void *items = NULL;
    int rc = sq__list_page(sq_of(base), "models", MODEL_COLS_SQL, offset, limit,
                           sizeof(struct store_model), read_model_item, model_item_cleanup, &items,
                           n, total, err);
    if (rc == 0)
        *out = items;
    return rc;
}

int sq__model_delete(struct store *base, int64_t id, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char path[PATH_CAP];
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = sq__stmt(c, SQ_MODEL_GET, &st, err)))
        goto end;
    sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "looking up a model", err);
    sq__done(st);
    st = NULL;
    if (rc == 1)
        rc = ls_error_set(err, LS_ENOT_FOUND, "model %lld not found", (long long)id);
    if (rc)
        goto end;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id FROM runs WHERE model_id = ? AND status IN (0, 1) LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "deleting a model", err);
        goto end;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sq__step_row(c, st, "deleting a model", err);
    if (rc == 0)
        rc = ls_error_set(err, LS_ECONFLICT, "model %lld is in use by run %lld, not finished yet",
                          (long long)id, (long long)sqlite3_column_int64(st, 0));
    else if (rc == 1)
        rc = 0;
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto end;
    if (sqlite3_prepare_v2(c->db, "DELETE FROM models WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "deleting a model", err);
        goto end;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sq__fail(c, "deleting a model", err);
    sqlite3_finalize(st);
end:
    rc = sq__write_end(s, c, 0, rc, err);
    /* the file goes after the row: a crash between leaves a file no row
     * names, which the next open sweeps */
    if (rc == 0 && sq__model_path(base, id, path, sizeof path) == 0)
        unlink(path);
out:
    sq__release(s, c);
    return rc;
}

int sq__counts(struct store *base, uint64_t *datasets, uint64_t *models, uint64_t *runs,
               struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM models),"
                           " (SELECT count(*) FROM runs)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = sq__fail(c, "counting", err);
        goto out;
    }
    *datasets = (uint64_t)sqlite3_column_int64(st, 0);
    *models = (uint64_t)sqlite3_column_int64(st, 1);
    *runs = (uint64_t)sqlite3_column_int64(st, 2);
out:
    sqlite3_finalize(st);
    sq__release(s, c);
    return rc;
}
