/*
 * sqlite_internal.h — what the SQLite backend's files share.
 *
 * The backend is split by concern: store_sqlite.c opens the database, keeps
 * the connection pool, migrates the schema and sweeps leftovers at open;
 * store_sqlite_rows.c holds data sets and models, store_sqlite_runs.c runs,
 * store_sqlite_leads.c
 * a run's leads (the bulk insert of store_run_finish, paging, explaining,
 * exporting), store_sqlite_chat.c a run's facts, insights and chat messages. They meet here and
 * nowhere else: nothing outside src/store/ includes this header.
 *
 * Connections: a small pool. A thread takes an idle connection for one
 * store call and gives it back, so readers never wait for one another or
 * for the writer (WAL gives each reader its own snapshot), and each
 * connection keeps its prepared statements. Writers also take write_mu and
 * run BEGIN IMMEDIATE: one writer at a time inside the process, and SQLite's
 * own lock (with busy_timeout) against anything outside it.
 */
#ifndef LS_STORE_SQLITE_INTERNAL_H
#define LS_STORE_SQLITE_INTERNAL_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

#define SQ_POOL_MAX 64 /* connections at most; a caller past that waits */

/* The statements prepared once per connection (their SQL in store_sqlite.c). */
enum sq_stmt_id {
    SQ_DATASET_INSERT,
    SQ_DATASET_GET,
    SQ_DATASET_BY_FP,
    SQ_DATASET_BY_NAME,
    SQ_DATASET_NAME_ADD,
    SQ_MODEL_INSERT,
    SQ_MODEL_GET,
    SQ_MODEL_BY_KEY,
    SQ_MODEL_BY_DATASET,
    SQ_RUN_INSERT,
    SQ_RUN_GET,
    SQ_RUN_PROGRESS,
    SQ_RUN_STATUS,
    SQ_LEAD_INSERT,
    SQ_LEAD_GET,
    SQ_LEAD_EXPLAIN,
    SQ_NSTMT
};

struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_NSTMT];
};

struct sq_store {
    struct store base; /* first: a struct store * is a struct sq_store * */
    char *db_path;
    int lock_fd; /* flock'ed DATA_DIR/lock */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    struct sq_conn *conns[SQ_POOL_MAX]; /* every open connection */
    size_t nconns;
    struct sq_conn *idle[SQ_POOL_MAX];
    size_t nidle;
    pthread_mutex_t write_mu; /* one writer at a time */
};

static inline struct sq_store *sq_of(struct store *s)
{
    return (struct sq_store *)s;
}

/* Take a connection for one call (waits when SQ_POOL_MAX are busy); give it back. */
int sq__acquire(struct sq_store *s, struct sq_conn **out, struct ls_error *err);
void sq__release(struct sq_store *s, struct sq_conn *c);

/* The prepared statement id of c, reset and unbound. */
int sq__stmt(struct sq_conn *c, enum sq_stmt_id id, sqlite3_stmt **out, struct ls_error *err);
/* Reset a statement after use (accepts NULL). */
void sq__done(sqlite3_stmt *st);

/* Start a write: write_mu, then BEGIN IMMEDIATE. durable: this commit is
 * synced (synchronous=FULL) rather than only written to the WAL. */
int sq__write_begin(struct sq_store *s, struct sq_conn *c, int durable, struct ls_error *err);
/* End it: COMMIT when rc is 0 (a failed commit rolls back and becomes the
 * returned error), else ROLLBACK; releases write_mu. Returns the outcome. */
int sq__write_end(struct sq_store *s, struct sq_conn *c, int durable, int rc, struct ls_error *err);

/* A read snapshot over several statements: BEGIN / COMMIT. */
int sq__read_begin(struct sq_conn *c, struct ls_error *err);
void sq__read_end(struct sq_conn *c);

/* on: a 64 MB page cache for one big write (a large run's leads going in
 * or out touch a key index at random, and with SQLite's default 2 MB most
 * of those touches miss: 1,000,000 leads stored in 19 s of CPU with it,
 * 11.6 s with 64 MB). off: back to the default, the memory given back,
 * so that no pooled connection keeps it. */
void sq__big_cache(struct sq_conn *c, int on);

/* LS_ESTORE "what: sqlite3_errmsg" (constraint failures of our CHECKs: LS_EINPUT). */
int sq__fail(struct sq_conn *c, const char *what, struct ls_error *err);
int sq__exec(struct sq_conn *c, const char *sql, struct ls_error *err);

int64_t sq__now_ms(void);

/* Column i as a fresh string, or NULL when NULL. */
char *sq__col_str(sqlite3_stmt *st, int i);
/* Bind s (NULL binds NULL), copied by SQLite only when the call outlives it:
 * every caller steps the statement before s goes away, so SQLITE_STATIC. */
int sq__bind_str(sqlite3_stmt *st, int i, const char *s);

/* Absolute paths of a data set's and a model's file, into out. */
int sq__upload_path(const struct store *s, int64_t id, char *out, size_t cap);
int sq__model_path(const struct store *s, int64_t id, char *out, size_t cap);

/* Move tmp_file (checked to lie in DATA_DIR/tmp/) to dst and sync the folder. */
int sq__move_in(const struct store *s, const char *tmp_file, const char *dst, struct ls_error *err);
/* 0 when tmp_file is a path inside DATA_DIR/tmp/, else LS_EINPUT. */
int sq__check_tmp(const struct store *s, const char *tmp_file, struct ls_error *err);

/* A client's file name cut to STORE_FILENAME_MAX bytes at a UTF-8 boundary
 * (a fresh string). */
char *sq__filename(const char *name);

/* The operations, by file. */
int sq__dataset_put(struct store *s, const char *tmp_file, struct store_dataset *d,
                    struct ls_error *err);
int sq__dataset_get(struct store *s, int64_t id, struct store_dataset *out, struct ls_error *err);
int sq__dataset_find(struct store *s, const char *fingerprint, const char *filename,
                     struct store_dataset *out, struct ls_error *err);
int sq__model_put(struct store *s, const char *tmp_file, struct store_model *m,
                  struct ls_error *err);
int sq__model_get(struct store *s, int64_t id, struct store_model *out, struct ls_error *err);
int sq__model_find(struct store *s, const char *cache_key, int64_t dataset_id,
                   struct store_model *out, struct ls_error *err);
int sq__model_list(struct store *s, uint64_t offset, uint64_t limit, struct store_model **out,
                   size_t *n, uint64_t *total, struct ls_error *err);
int sq__model_delete(struct store *s, int64_t id, struct ls_error *err);
int sq__run_create(struct store *s, struct store_run *r, struct ls_error *err);
int sq__run_progress(struct store *s, int64_t id, const char *stage, double progress,
                     int64_t model_id, struct ls_error *err);
int sq__run_fail(struct store *s, int64_t id, const char *why, struct ls_error *err);
int sq__run_get(struct store *s, int64_t id, struct store_run *out, struct ls_error *err);
int sq__run_find(struct store *s, const char *cache_key, const char *filename,
                 struct store_run *out, struct ls_error *err);
int sq__run_list(struct store *s, uint64_t offset, uint64_t limit, struct store_run **out,
                 size_t *n, uint64_t *total, struct ls_error *err);
int sq__run_delete(struct store *s, int64_t id, struct ls_error *err);
int sq__counts(struct store *s, uint64_t *datasets, uint64_t *models, uint64_t *runs,
               struct ls_error *err);

/* Shared by the row files: step a bound lookup (0 with a row, 1 without,
 * else the error); a cache key's length check; one page of a table, newest
 * first, with the count of all, in one snapshot (read fills item i of
 * *items, each isz bytes; cleanup frees one). */
int sq__step_row(struct sq_conn *c, sqlite3_stmt *st, const char *what, struct ls_error *err);
int sq__check_key(const char *key, struct ls_error *err);
int sq__list_page(struct sq_store *s, const char *table, const char *cols, uint64_t offset,
                  uint64_t limit, size_t isz,
                  void (*read)(const struct store *s, sqlite3_stmt *st, void *item),
                  void (*cleanup)(void *item), void **items, size_t *n, uint64_t *total,
                  struct ls_error *err);

/* Remove the leads of run id in batches, each its own write transaction,
 * then its run_trash entry. sq__purge_trash does so for every run listed
 * in run_trash (at open, after a crash mid-delete). */
int sq__purge_leads(struct sq_store *s, struct sq_conn *c, int64_t id, struct ls_error *err);
int sq__purge_trash(struct sq_store *s, struct sq_conn *c, struct ls_error *err);

/* The run's status inside the caller's transaction: 0, or LS_ENOT_FOUND. */
int sq__run_status(struct sq_conn *c, int64_t id, enum store_run_status *st, struct ls_error *err);

int sq__run_finish(struct store *s, const struct store_run *r, const struct store_lead *leads,
                   size_t n, struct ls_error *err);
int sq__leads_query(struct store *s, int64_t run_id, const struct store_lead_query *q,
                    struct store_lead **out, size_t *n, uint64_t *total, struct ls_error *err);
int sq__lead_get(struct store *s, int64_t run_id, uint64_t row, struct store_lead *out,
                 struct ls_error *err);
int sq__lead_find(struct store *s, int64_t run_id, const char *lead_id, struct store_lead *out,
                  struct ls_error *err);
int sq__leads_explain(struct store *s, int64_t run_id, const struct store_lead *leads, size_t n,
                      struct ls_error *err);
int sq__leads_each(struct store *s, int64_t run_id,
                   int (*fn)(void *ctx, const struct store_lead *l), void *ctx,
                   struct ls_error *err);

/* The language layer's records (store_sqlite_chat.c). */
int sq__run_facts(struct store *s, int64_t run_id, char **json, struct ls_error *err);
int sq__insights_put(struct store *s, int64_t run_id, const struct store_insight *v, size_t n,
                     struct ls_error *err);
int sq__insights_get(struct store *s, int64_t run_id, struct store_insight **out, size_t *n,
                     struct ls_error *err);
int sq__chat_add(struct store *s, struct store_chat_msg *m, size_t keep, struct ls_error *err);
int sq__chat_list(struct store *s, int64_t run_id, size_t last, struct store_chat_msg **out,
                  size_t *n, struct ls_error *err);

#endif
