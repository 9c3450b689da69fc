/*
 * store_sqlite.c — the SQLite backend: opening, connections, schema, sweep.
 *
 * The database is DATA_DIR/leadscore.db in WAL mode: readers see a snapshot
 * and never wait for the writer, the writer never waits for readers.
 *
 * synchronous=NORMAL, and FULL for the commits a client is told about
 * (an upload, a model, a finished run: sq__write_begin's `durable`). In WAL
 * mode NORMAL already survives the process being killed at any instant —
 * a commit is in the WAL before COMMIT returns — and only a power cut can
 * lose the last commits, never consistency. Progress updates, which come
 * many times a run, stay cheap that way; the few commits whose loss a user
 * would notice pay one fsync each (a finished run: one fsync after its
 * leads, noise beside the insert).
 *
 * Schema: PRAGMA user_version is the schema version. Migrations are a list
 * of SQL scripts, one per step (migrations[v] takes v to v + 1), each run in
 * its own transaction with the version bump, so a crash mid-migration
 * leaves the old version whole. A database newer than this build is
 * refused, naming both versions, rather than written by code that does not
 * know its tables.
 *
 * Sweep at open (under the directory's flock, so no other live process can
 * be writing there): tmp/ is emptied, files in uploads/ and models/ that no
 * row names are removed (a file is renamed into place inside the
 * transaction that inserts its row, before COMMIT: a crash in between leaves
 * a file without a row, never a row without a file), and runs that were
 * queued or running are marked failed.
 */
#include "store/sqlite_internal.h"

#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INTERRUPTED "interrupted: the server stopped before this run finished"

/* ---- the schema ------------------------------------------------------- */

/*
 * v0 -> v1. Ids are AUTOINCREMENT: an id once given is never given again,
 * so a client holding the id of a deleted run can never see another run
 * under it (nor a deleted model's file name be reused).
 *
 * leads: one row per scored lead. (run_id, row) is the key; (run_id, rank)
 * pages by score and rank (ranks follow scores), (run_id, tier, rank) pages
 * one tier. contrib is the lead's contributions as raw doubles (host byte
 * order, ncontrib = bytes / 8); reasons_json and display_json are JSON
 * text, checked well-formed on the way in.
 *
 * leads.run_id has no foreign key on purpose: a deleted run's row goes at
 * once (the run is gone for every reader), its leads in batches of their
 * own transactions, so deleting a million-lead run never holds the writer
 * for seconds. run_trash lists runs whose leads are still being removed;
 * the sweep at open finishes them after a crash. Ids are never reused, so
 * a leftover lead can never join a new run.
 */
static const char MIGRATE_V1[] =
    "CREATE TABLE datasets ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " fingerprint TEXT NOT NULL UNIQUE,"
    " filename TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " rows INTEGER NOT NULL,"
    " ncols INTEGER NOT NULL,"
    " info_json TEXT,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX datasets_filename ON datasets(filename, id);"
    /* every name a data set was uploaded under (the same bytes can come
     * back under another name; the old client then asks for that name) */
    "CREATE TABLE dataset_names ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE);"
    "CREATE INDEX dataset_names_name ON dataset_names(name, id);"
    "CREATE TABLE models ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
    " cache_key TEXT,"
    " options_json TEXT,"
    " info_json TEXT,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX models_cache_key ON models(cache_key, id);"
    "CREATE INDEX models_dataset ON models(dataset_id, id);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
    " model_id INTEGER NOT NULL DEFAULT 0," /* no foreign key: a run outlives its model */
    " filename TEXT NOT NULL,"
    " cache_key TEXT,"
    " status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),"
    " stage TEXT NOT NULL,"
    " progress REAL NOT NULL DEFAULT 0,"
    " error TEXT,"
    " total INTEGER NOT NULL DEFAULT 0,"
    " tier_low INTEGER NOT NULL DEFAULT 0,"
    " tier_medium INTEGER NOT NULL DEFAULT 0,"
    " tier_high INTEGER NOT NULL DEFAULT 0,"
    " has_outcomes INTEGER NOT NULL DEFAULT 0,"
    " explained INTEGER NOT NULL DEFAULT 0,"
    " summary_json TEXT,"
    " created INTEGER NOT NULL,"
    " finished INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX runs_cache_key ON runs(cache_key, id) WHERE status = 2;"
    "CREATE INDEX runs_filename ON runs(filename, id) WHERE status = 2;"
    "CREATE INDEX runs_status ON runs(status) WHERE status < 2;"
    "CREATE TABLE leads ("
    " run_id INTEGER NOT NULL,"
    " row INTEGER NOT NULL,"
    " lead_id TEXT,"
    " score REAL NOT NULL,"
    " raw REAL NOT NULL,"
    " tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 2),"
    " rank INTEGER NOT NULL,"
    " label INTEGER NOT NULL,"
    " oob INTEGER NOT NULL,"
    " reasons_json TEXT CHECK (reasons_json IS NULL OR json_valid(reasons_json)),"
    " display_json TEXT CHECK (display_json IS NULL OR json_valid(display_json)),"
    " base REAL,"
    " contrib BLOB,"
    " PRIMARY KEY (run_id, row));"
    "CREATE INDEX leads_rank ON leads(run_id, rank);"
    "CREATE INDEX leads_tier_rank ON leads(run_id, tier, rank);"
    "CREATE TABLE run_trash (id INTEGER PRIMARY KEY);";

/*
 * v1 -> v2: the language layer. runs.facts_json is the run's chat facts
 * (written with the run by store_run_finish; NULL for runs finished before
 * v2, whose facts the service builds again when asked). insights and
 * chat_messages belong to a run: ON DELETE CASCADE removes them in the
 * transaction that deletes the run (a run has a handful of insights and
 * at most a few hundred messages, unlike its leads, so no batching).
 * chat_messages ids are AUTOINCREMENT so their order is the conversation's.
 */
static const char MIGRATE_V2[] =
    "ALTER TABLE runs ADD COLUMN facts_json TEXT"
    " CHECK (facts_json IS NULL OR json_valid(facts_json));"
    "CREATE TABLE insights ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " row INTEGER NOT NULL,"
    " why TEXT NOT NULL,"
    " next_action TEXT NOT NULL,"
    " provider TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (run_id, row));"
    "CREATE TABLE chat_messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),"
    " text TEXT NOT NULL,"
    " provider TEXT,"
    " facts_json TEXT CHECK (facts_json IS NULL OR json_valid(facts_json)),"
    " created INTEGER NOT NULL);"
    "CREATE INDEX chat_messages_run ON chat_messages(run_id, id);";

/* migrations[v] takes the schema from version v to v + 1. */
static const char *const migrations[] = {MIGRATE_V1, MIGRATE_V2};
_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- the prepared statements ------------------------------------------ */

#define DATASET_COLS "id, fingerprint, filename, bytes, rows, ncols, info_json, created"
#define MODEL_COLS   "id, dataset_id, cache_key, options_json, info_json, created"
#define RUN_COLS                                                                                   \
    "id, dataset_id, model_id, filename, cache_key, status, stage, progress, error, total, "       \
    "tier_low, tier_medium, tier_high, has_outcomes, explained, summary_json, created, finished"
#define LEAD_COLS                                                                                  \
    "row, lead_id, score, raw, tier, rank, label, oob, reasons_json, display_json, base, contrib"

static const char *const stmt_sql[SQ_NSTMT] = {
    [SQ_DATASET_INSERT] = "INSERT INTO datasets (fingerprint, filename, bytes, rows, ncols, "
                          "info_json, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [SQ_DATASET_GET] = "SELECT " DATASET_COLS " FROM datasets WHERE id = ?",
    [SQ_DATASET_BY_FP] = "SELECT " DATASET_COLS " FROM datasets WHERE fingerprint = ?",
    [SQ_DATASET_BY_NAME] =
        "SELECT " DATASET_COLS " FROM datasets WHERE id = (SELECT dataset_id FROM dataset_names "
        "WHERE name = ? ORDER BY id DESC LIMIT 1)",
    [SQ_DATASET_NAME_ADD] = "INSERT INTO dataset_names (name, dataset_id) VALUES (?, ?)",
    [SQ_MODEL_INSERT] = "INSERT INTO models (dataset_id, cache_key, options_json, info_json, "
                        "created) VALUES (?, ?, ?, ?, ?)",
    [SQ_MODEL_GET] = "SELECT " MODEL_COLS " FROM models WHERE id = ?",
    [SQ_MODEL_BY_KEY] =
        "SELECT " MODEL_COLS " FROM models WHERE cache_key = ? ORDER BY id DESC LIMIT 1",
    [SQ_MODEL_BY_DATASET] =
        "SELECT " MODEL_COLS " FROM models WHERE dataset_id = ? ORDER BY id DESC LIMIT 1",
    [SQ_RUN_INSERT] = "INSERT INTO runs (dataset_id, model_id, filename, cache_key, status, "
                      "stage, created) VALUES (?, ?, ?, ?, 0, 'queued', ?)",
    [SQ_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?",
    [SQ_RUN_PROGRESS] = "UPDATE runs SET stage = ?2, progress = ?3,"
                        " model_id = CASE WHEN ?4 != 0 THEN ?4 ELSE model_id END,"
                        " status = CASE WHEN ?2 = 'queued' THEN status ELSE 1 END"
                        " WHERE id = ?1 AND status IN (0, 1)",
    [SQ_RUN_STATUS] =
        "SELECT status, total, tier_low, tier_medium, tier_high FROM runs WHERE id = ?",
    [SQ_LEAD_INSERT] =
        "INSERT INTO leads (run_id, " LEAD_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [SQ_LEAD_GET] = "SELECT " LEAD_COLS " FROM leads WHERE run_id = ? AND row = ?",
    [SQ_LEAD_EXPLAIN] = "UPDATE leads SET reasons_json = ?, base = ?, contrib = ?"
                        " WHERE run_id = ? AND row = ?",
};

/* ---- small helpers ---------------------------------------------------- */

int64_t sq__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sq__fail(struct sq_conn *c, const char *what, struct ls_error *err)
{
    int xc = sqlite3_extended_errcode(c->db);
    if (xc == SQLITE_CONSTRAINT_CHECK)
        return ls_error_set(err, LS_EINPUT, "%s: %s", what, sqlite3_errmsg(c->db));
    if ((xc & 0xff) == SQLITE_BUSY)
        return ls_error_set(err, LS_EBUSY, "%s: the database is busy (%s)", what,
                            sqlite3_errmsg(c->db));
    return ls_error_set(err, LS_ESTORE, "%s: %s", what, sqlite3_errmsg(c->db));
}

void sq__big_cache(struct sq_conn *c, int on)
{
    sqlite3_exec(c->db, on ? "PRAGMA cache_size = -65536" : "PRAGMA cache_size = -2000", NULL, NULL,
                 NULL);
    if (!on)
        sqlite3_db_release_memory(c->db);
}

int sq__exec(struct sq_conn *c, const char *sql, struct ls_error *err)
{
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq__fail(c, sql, err);
    return 0;
}

char *sq__col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

int sq__bind_str(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int sq__stmt(struct sq_conn *c, enum sq_stmt_id id, sqlite3_stmt **out, struct ls_error *err)
{
    if (!c->stmt[id] && sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                           &c->stmt[id], NULL) != SQLITE_OK)
        return sq__fail(c, "preparing a statement", err);
    *out = c->stmt[id];
    return 0;
}

void sq__done(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

char *sq__filename(const char *name)
{
    size_t n = strlen(name);
    if (n > STORE_FILENAME_MAX) {
        n = STORE_FILENAME_MAX;
        /* back up over continuation bytes to the start of a character */
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    return xstrndup(name, n);
}

int sq__upload_path(const struct store *s, int64_t id, char *out, size_t cap)
{
    int k = snprintf(out, cap, "%s/uploads/%lld.csv", s->dir, (long long)id);
    return k < 0 || (size_t)k >= cap ? LS_ELIMIT : 0;
}

int sq__model_path(const struct store *s, int64_t id, char *out, size_t cap)
{
    int k = snprintf(out, cap, "%s/models/%lld.lsm", s->dir, (long long)id);
    return k < 0 || (size_t)k >= cap ? LS_ELIMIT : 0;
}

int sq__check_tmp(const struct store *s, const char *tmp_file, struct ls_error *err)
{
    size_t dl = strlen(s->dir);
    const char *name = NULL;
    if (tmp_file && strncmp(tmp_file, s->dir, dl) == 0 && strncmp(tmp_file + dl, "/tmp/", 5) == 0)
        name = tmp_file + dl + 5;
    if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return ls_error_set(err, LS_EINPUT, "%s is not a file in %s/tmp/",
                            tmp_file ? tmp_file : "(null)", s->dir);
    struct stat sb;
    if (lstat(tmp_file, &sb) != 0)
        return ls_error_set(err, LS_EIO, "%s: %s", tmp_file, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return ls_error_set(err, LS_EINPUT, "%s is not a regular file", tmp_file);
    return 0;
}

/* fsync the folder holding path, so a rename into it survives a power cut. */
static int sync_parent(const char *path, struct ls_error *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n == 0 || n >= sizeof dir)
        return ls_error_set(err, LS_EIO, "%s has no folder", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ls_error_set(err, LS_EIO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 ? 0 : ls_error_set(err, LS_EIO, "fsync %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

int sq__move_in(const struct store *s, const char *tmp_file, const char *dst, struct ls_error *err)
{
    if (rename(tmp_file, dst) != 0)
        return ls_error_set(err, LS_EIO, "moving %s to %s: %s", tmp_file, dst, strerror(errno));
    return sync_parent(dst, err);
}

/* ---- connections ------------------------------------------------------ */

static void conn_close(struct sq_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < SQ_NSTMT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    free(c);
}

static int conn_open(struct sq_store *s, struct sq_conn **out, struct ls_error *err)
{
    struct sq_conn *c = xcalloc(1, sizeof *c);
    int rc = 0;
    int src = sqlite3_open_v2(
        s->db_path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = ls_error_set(err, LS_ESTORE, "opening %s: %s", s->db_path,
                          c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(src));
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    /* another process (a second server refused by the flock aside, the
     * sqlite3 shell) may hold the write lock briefly: wait, do not fail */
    sqlite3_busy_timeout(c->db, 10000);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    /* journal_size_limit: a million-lead run's transaction grows the WAL to
     * hundreds of MB; once checkpointed it is cut back to 64 MB, not kept */
    if ((rc = sq__exec(c,
                       "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                       " PRAGMA journal_size_limit = 67108864;",
                       err)))
        goto out;
out:
    if (rc) {
        conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int sq__acquire(struct sq_store *s, struct sq_conn **out, struct ls_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&s->pool_mu);
    while (s->nidle == 0 && s->nconns == SQ_POOL_MAX)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    if (s->nidle > 0) {
        *out = s->idle[--s->nidle];
    } else {
        struct sq_conn *c = NULL;
        if ((rc = conn_open(s, &c, err)) == 0) {
            s->conns[s->nconns++] = c;
            *out = c;
        }
    }
    pthread_mutex_unlock(&s->pool_mu);
    return rc;
}

void sq__release(struct sq_store *s, struct sq_conn *c)
{
    if (!c)
        return;
    /* a call that returned mid-transaction is a bug; never hand its
     * transaction to the next caller */
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->pool_mu);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

int sq__write_begin(struct sq_store *s, struct sq_conn *c, int durable, struct ls_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&s->write_mu);
    if (durable && (rc = sq__exec(c, "PRAGMA synchronous = FULL", err)))
        goto out;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
out:
    if (rc) {
        if (durable)
            sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
        pthread_mutex_unlock(&s->write_mu);
    }
    return rc;
}

int sq__write_end(struct sq_store *s, struct sq_conn *c, int durable, int rc, struct ls_error *err)
{
    if (rc == 0)
        rc = sq__exec(c, "COMMIT", err);
    if (rc && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (durable)
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

int sq__read_begin(struct sq_conn *c, struct ls_error *err)
{
    return sq__exec(c, "BEGIN", err);
}

void sq__read_end(struct sq_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- schema and sweep ------------------------------------------------- */

/* WAL is a property of the file: set once, every later connection has it.
 * SQLite answers the mode it is in, which stays "delete" where WAL cannot
 * work (no shared memory): refuse that rather than run with readers
 * blocking the writer. */
static int set_wal(struct sq_conn *c, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = sq__fail(c, "setting WAL mode", err);
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0)
        rc = ls_error_set(err, LS_ESTORE, "the database stays in journal mode %s, not WAL",
                          mode ? mode : "(none)");
out:
    sqlite3_finalize(st);
    return rc;
}

static int user_version(struct sq_conn *c, int *v, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = sq__fail(c, "reading the schema version", err);
        goto out;
    }
    *v = sqlite3_column_int(st, 0);
out:
    sqlite3_finalize(st);
    return rc;
}

static int migrate(struct sq_store *s, struct sq_conn *c, struct ls_error *err)
{
    int v = 0, rc = 0;
    if ((rc = user_version(c, &v, err)))
        return rc;
    if (v > STORE_SCHEMA_VERSION || v < 0)
        return ls_error_set(err, LS_ESTORE,
                            "%s has schema version %d, newer than this leadscore's %d: "
                            "open it with the leadscore that wrote it or a newer one",
                            s->db_path, v, STORE_SCHEMA_VERSION);
    while (v < STORE_SCHEMA_VERSION) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if ((rc = sq__write_begin(s, c, 1, err)))
            return rc;
        rc = sq__exec(c, migrations[v], err);
        if (!rc)
            rc = sq__exec(c, bump, err);
        if ((rc = sq__write_end(s, c, 1, rc, err))) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            return ls_error_set(err, rc, "migrating the schema from version %d to %d: %s", v, v + 1,
                                why);
        }
        v++;
    }
    return 0;
}

/* Parse "ID.ext" into id; 0 when the name is not of that form. */
static int64_t name_id(const char *name, const char *ext)
{
    char *end = NULL;
    if (name[0] < '1' || name[0] > '9')
        return 0;
    errno = 0;
    long long id = strtoll(name, &end, 10);
    if (errno || id <= 0 || strcmp(end, ext) != 0)
        return 0;
    return id;
}

/* Remove the regular files of dir/sub that no row of table names (every
 * file when table is NULL). */
static int sweep_folder(struct sq_store *s, struct sq_conn *c, const char *sub, const char *table,
                        const char *ext, struct ls_error *err)
{
    char path[PATH_MAX], sql[96];
    int rc = 0;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/%s", s->base.dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return ls_error_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    if (table) {
        snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id = ?", table);
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = sq__fail(c, "sweeping", err);
            goto out;
        }
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char file[PATH_MAX];
        int k = snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        struct stat sb;
        if (k < 0 || (size_t)k >= sizeof file || lstat(file, &sb) != 0 || S_ISDIR(sb.st_mode))
            continue;
        int keep = 0;
        if (st) {
            int64_t id = name_id(e->d_name, ext);
            if (id > 0) {
                sqlite3_bind_int64(st, 1, id);
                int step = sqlite3_step(st);
                sqlite3_reset(st);
                if (step != SQLITE_ROW && step != SQLITE_DONE) {
                    rc = sq__fail(c, "sweeping", err);
                    goto out;
                }
                keep = step == SQLITE_ROW;
            }
        }
        if (!keep && unlink(file) != 0 && errno != ENOENT) {
            rc = ls_error_set(err, LS_EIO, "removing %s: %s", file, strerror(errno));
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    closedir(d);
    return rc;
}

static int sweep(struct sq_store *s, struct sq_conn *c, struct ls_error *err)
{
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if ((rc = sq__write_begin(s, c, 1, err)))
        return rc;
    if (sqlite3_prepare_v2(c->db,
                           "UPDATE runs SET status = 3, error = ?, finished = ?"
                           " WHERE status IN (0, 1)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "marking interrupted runs", err);
    } else {
        sqlite3_bind_text(st, 1, INTERRUPTED, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, sq__now_ms());
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sq__fail(c, "marking interrupted runs", err);
    }
    sqlite3_finalize(st);
    if ((rc = sq__write_end(s, c, 1, rc, err)))
        return rc;
    if ((rc = sq__purge_trash(s, c, err)))
        return rc;
    if ((rc = sweep_folder(s, c, "tmp", NULL, NULL, err)) ||
        (rc = sweep_folder(s, c, "uploads", "datasets", ".csv", err)) ||
        (rc = sweep_folder(s, c, "models", "models", ".lsm", err)))
        return rc;
    return 0;
}

/* ---- open and close --------------------------------------------------- */

static void sq_close(struct store *base)
{
    struct sq_store *s = sq_of(base);
    if (!s)
        return;
    for (size_t i = 0; i < s->nconns; i++)
        conn_close(s->conns[i]);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->write_mu);
    free(s->db_path);
    free(s->base.dir);
    free(s);
}

static const struct store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .dataset_put = sq__dataset_put,
    .dataset_get = sq__dataset_get,
    .dataset_find = sq__dataset_find,
    .model_put = sq__model_put,
    .model_get = sq__model_get,
    .model_find = sq__model_find,
    .model_list = sq__model_list,
    .model_delete = sq__model_delete,
    .run_create = sq__run_create,
    .run_progress = sq__run_progress,
    .run_finish = sq__run_finish,
    .run_fail = sq__run_fail,
    .run_get = sq__run_get,
    .run_find = sq__run_find,
    .run_list = sq__run_list,
    .run_delete = sq__run_delete,
    .leads_query = sq__leads_query,
    .lead_get = sq__lead_get,
    .leads_explain = sq__leads_explain,
    .leads_each = sq__leads_each,
    .counts = sq__counts,
    .run_facts = sq__run_facts,
    .insights_put = sq__insights_put,
    .insights_get = sq__insights_get,
    .chat_add = sq__chat_add,
    .chat_list = sq__chat_list,
    .lead_find = sq__lead_find,
};

/* mkdir -p for path (mode 0700 for what it creates). */
static int make_dirs(const char *path, struct ls_error *err)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p)
        return ls_error_set(err, LS_EIO, "data directory path too long");
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char keep = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return ls_error_set(err, LS_EIO, "cannot make %s: %s", p, strerror(errno));
        p[i] = keep;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ls_error_set(err, LS_EIO, "%s is not a folder", path);
    return 0;
}

int store_sqlite_open(const char *dir, struct store **out, struct ls_error *err)
{
    struct sq_store *s = xcalloc(1, sizeof *s);
    struct sq_conn *c = NULL;
    char abs[PATH_MAX], sub[PATH_MAX];
    int rc = 0;
    s->lock_fd = -1;
    s->base.ops = &sq_ops;
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);

    if ((rc = make_dirs(dir, err)))
        goto out;
    if (!realpath(dir, abs)) {
        rc = ls_error_set(err, LS_EIO, "%s: %s", dir, strerror(errno));
        goto out;
    }
    s->base.dir = xstrdup(abs);
    static const char *const subs[] = {"uploads", "models", "tmp"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(sub, sizeof sub, "%s/%s", abs, subs[i]);
        if ((rc = make_dirs(sub, err)))
            goto out;
    }
    snprintf(sub, sizeof sub, "%s/lock", abs);
    s->lock_fd = open(sub, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = ls_error_set(err, LS_EIO, "%s: %s", sub, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? ls_error_set(err, LS_EBUSY, "%s is in use by another leadscore process", abs)
                 : ls_error_set(err, LS_EIO, "locking %s: %s", sub, strerror(errno));
        goto out;
    }
    snprintf(sub, sizeof sub, "%s/leadscore.db", abs);
    s->db_path = xstrdup(sub);

    if ((rc = sq__acquire(s, &c, err)))
        goto out;
    /* WAL is a property of the file: set once, every later connection has it */
    if ((rc = set_wal(c, err)))
        goto out;
    if ((rc = migrate(s, c, err)) || (rc = sweep(s, c, err)))
        goto out;
out:
    if (c)
        sq__release(s, c);
    if (rc) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
