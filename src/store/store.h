/*
 * store.h — where the service keeps data sets, models, runs and their leads.
 *
 * One interface, any backend: `struct store` is a table of operations
 * (struct store_ops) that app/ and http/ call through the store_* functions
 * below and never past them, so a second backend (PostgreSQL) can follow
 * without touching either. The first backend is SQLite in WAL mode
 * (store_sqlite.c) under the service's data directory:
 *
 *   DATA_DIR/leadscore.db        the tables (schema version + migrations)
 *   DATA_DIR/uploads/ID.csv      uploaded files, named by the store, never by
 *                                the client's file name
 *   DATA_DIR/models/ID.lsm       model files
 *   DATA_DIR/tmp/                files being written (swept at open)
 *
 * Crash safety: every write is one transaction. A file (upload, model) is
 * written whole under tmp/, renamed into place, and only then given a row;
 * store_open removes files that no row names and tmp/ leftovers, and marks
 * runs that were queued or running when the process died as failed
 * ("interrupted"), so nothing half-written is ever visible. A run's leads
 * become visible together with its "done" status (store_run_finish).
 *
 * Ids are positive 64-bit integers given by the store. Strings handed in are
 * copied; strings handed out are owned by the record and freed by its
 * _cleanup function. Times are Unix milliseconds (UTC).
 *
 * Thread safety: a store may be used from many threads at once; the SQLite
 * backend keeps a connection per thread (readers never wait for the writer)
 * and serialises writers.
 */
#ifndef LS_STORE_STORE_H
#define LS_STORE_STORE_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 2            /* 2: run facts, insights, chat messages */
#define STORE_PAGE_MAX       500          /* leads or runs per page at most */
#define STORE_FILENAME_MAX   255          /* bytes of a client's file name kept */
#define STORE_DISPLAY_MAX    12           /* display columns kept per run */
#define STORE_QUERY_MAX      200          /* bytes of a text filter */
#define STORE_FACTS_MAX      (4u << 20)   /* bytes of a run's facts (chat.h's CHAT_FACTS_MAX) */
#define STORE_INSIGHT_MAX    2048         /* bytes of an insight's why, or its next action */
#define STORE_CHAT_TEXT_MAX  (256u << 10) /* bytes of a chat message's text */
#define STORE_CHAT_FACTS_MAX (1u << 20)   /* bytes of the cards an answer used */
#define STORE_PROVIDER_MAX   31           /* bytes of a provider's name */

struct store;

enum store_run_status {
    STORE_RUN_QUEUED = 0,
    STORE_RUN_RUNNING = 1,
    STORE_RUN_DONE = 2,
    STORE_RUN_FAILED = 3,
};

/* "queued", "running", "done", "failed". */
const char *store_run_status_name(enum store_run_status s);

struct store_dataset {
    int64_t id;
    char fingerprint[65]; /* SHA-256 of the file's bytes, hex */
    char *filename;       /* the client's name for it: shown, and the old routes' handle */
    char *path;           /* the stored file, absolute */
    uint64_t bytes;
    uint64_t rows;
    uint32_t ncols;
    char *info_json; /* what POST /api/datasets answered: columns, target, leakage, preview */
    int64_t created;
};

struct store_model {
    int64_t id;
    int64_t dataset_id;
    char *path;         /* the model file, absolute */
    char *cache_key;    /* SHA-256 hex of (fingerprint, training options); may be NULL */
    char *options_json; /* the training options, canonical */
    char *info_json;    /* metrics, importance, excluded, took_ms, target, features */
    int64_t created;
};

struct store_run {
    int64_t id;
    int64_t dataset_id;
    int64_t model_id; /* 0 while the run's model is still being trained */
    char *filename;   /* the data set's file name, copied for the history list */
    char *cache_key;  /* SHA-256 hex of (fingerprint, options or model id); may be NULL */
    enum store_run_status status;
    char
        stage[32]; /* "queued", "reading", "training", "scoring", "explaining", "storing", "done" */
    double progress;    /* share of the stage done, 0..1 */
    char *error;        /* why it failed (status failed), else NULL */
    uint64_t total;     /* leads scored */
    uint64_t tier[3];   /* per tier: [0] Low, [1] Medium, [2] High (enum tier) */
    int has_outcomes;   /* the file had leads with a known outcome */
    int explained;      /* 1: every lead's contributions are stored; 0: explained on demand */
    char *summary_json; /* the run's answer: summary, metrics, drift, importance, top_leads, ... */
    int64_t created;
    int64_t finished; /* 0 until done or failed */
    char *facts_json; /* chat facts (chat_facts_build), written by run_finish; run_get
                         leaves it NULL (store_run_facts reads it) */
};

/* One scored lead. contrib is NULL (ncontrib 0) for a lead not yet explained. */
struct store_lead {
    uint64_t row;  /* 1-based row of the file */
    char *lead_id; /* the identifier cell, or NULL when the model has no id column */
    double score;  /* 0..100 */
    double raw;    /* the forest's probability, 0..1 */
    int tier;      /* enum tier: 0 Low, 1 Medium, 2 High */
    uint64_t rank; /* 1 = best */
    int label;     /* outcome in the file: 1, 0, -1 unknown */
    int oob;       /* 1: scored out-of-bag (a training lead) */
    char
        *reasons_json; /* {"for": [...], "against": [...]} (explain_lead_json's reasons), or NULL */
    char *display_json; /* {"column": "value", ...} of the run's display columns */
    double base;        /* points; with contrib */
    double *contrib;    /* per model feature, points (the model's feature order), or NULL */
    size_t ncontrib;
};

/* Which leads of a run, in which order. */
struct store_lead_query {
    int tier;         /* -1: any, else enum tier */
    const char *q;    /* case-insensitive substring of the id or a display value; NULL: any */
    const char *sort; /* "score" (default), "rank", "row", "id", or a display column's name */
    int desc;         /* 1: descending */
    uint64_t offset;
    uint64_t limit; /* 1..STORE_PAGE_MAX */
};

/* A lead's insight (the language layer's why + next action). */
struct store_insight {
    uint64_t row;
    char *why;
    char *next_action;
    char *provider; /* "gemini", "llama", "builtin" */
    int64_t created;
};

/* One chat message of a run. */
struct store_chat_msg {
    int64_t id;
    int64_t run_id;
    char role[16]; /* "user" or "assistant" */
    char *text;
    char *provider;   /* the answer's provider; NULL for a question */
    char *facts_json; /* the cards an answer used; NULL for a question */
    int64_t created;
};

struct store_ops {
    const char *name; /* "sqlite" */
    void (*close)(struct store *s);
    int (*dataset_put)(struct store *s, const char *tmp_file, struct store_dataset *d,
                       struct ls_error *err);
    int (*dataset_get)(struct store *s, int64_t id, struct store_dataset *out,
                       struct ls_error *err);
    int (*dataset_find)(struct store *s, const char *fingerprint, const char *filename,
                        struct store_dataset *out, struct ls_error *err);
    int (*model_put)(struct store *s, const char *tmp_file, struct store_model *m,
                     struct ls_error *err);
    int (*model_get)(struct store *s, int64_t id, struct store_model *out, struct ls_error *err);
    int (*model_find)(struct store *s, const char *cache_key, int64_t dataset_id,
                      struct store_model *out, struct ls_error *err);
    int (*model_list)(struct store *s, uint64_t offset, uint64_t limit, struct store_model **out,
                      size_t *n, uint64_t *total, struct ls_error *err);
    int (*model_delete)(struct store *s, int64_t id, struct ls_error *err);
    int (*run_create)(struct store *s, struct store_run *r, struct ls_error *err);
    int (*run_progress)(struct store *s, int64_t id, const char *stage, double progress,
                        int64_t model_id, struct ls_error *err);
    int (*run_finish)(struct store *s, const struct store_run *r, const struct store_lead *leads,
                      size_t n, struct ls_error *err);
    int (*run_fail)(struct store *s, int64_t id, const char *why, struct ls_error *err);
    int (*run_get)(struct store *s, int64_t id, struct store_run *out, struct ls_error *err);
    int (*run_find)(struct store *s, const char *cache_key, const char *filename,
                    struct store_run *out, struct ls_error *err);
    int (*run_list)(struct store *s, uint64_t offset, uint64_t limit, struct store_run **out,
                    size_t *n, uint64_t *total, struct ls_error *err);
    int (*run_delete)(struct store *s, int64_t id, struct ls_error *err);
    int (*leads_query)(struct store *s, int64_t run_id, const struct store_lead_query *q,
                       struct store_lead **out, size_t *n, uint64_t *total, struct ls_error *err);
    int (*lead_get)(struct store *s, int64_t run_id, uint64_t row, struct store_lead *out,
                    struct ls_error *err);
    int (*leads_explain)(struct store *s, int64_t run_id, const struct store_lead *leads, size_t n,
                         struct ls_error *err);
    int (*leads_each)(struct store *s, int64_t run_id,
                      int (*fn)(void *ctx, const struct store_lead *l), void *ctx,
                      struct ls_error *err);
    int (*counts)(struct store *s, uint64_t *datasets, uint64_t *models, uint64_t *runs,
                  struct ls_error *err);
    int (*run_facts)(struct store *s, int64_t run_id, char **json, struct ls_error *err);
    int (*insights_put)(struct store *s, int64_t run_id, const struct store_insight *v, size_t n,
                        struct ls_error *err);
    int (*insights_get)(struct store *s, int64_t run_id, struct store_insight **out, size_t *n,
                        struct ls_error *err);
    int (*chat_add)(struct store *s, struct store_chat_msg *m, size_t keep, struct ls_error *err);
    int (*chat_list)(struct store *s, int64_t run_id, size_t last, struct store_chat_msg **out,
                     size_t *n, struct ls_error *err);
    int (*lead_find)(struct store *s, int64_t run_id, const char *lead_id, struct store_lead *out,
                     struct ls_error *err);
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
    char *dir; /* the data directory, absolute */
};

/*
 * Open (creating when needed) the store in directory dir: the SQLite
 * backend today. Creates the folders, migrates an older schema, refuses a
 * newer one (LS_ESTORE, naming both versions), sweeps tmp/ and unnamed
 * files, and marks interrupted runs failed. *out is set on success only.
 * One process at a time holds a data directory (an flock on DATA_DIR/lock,
 * released when the process dies): the sweep must never remove another
 * live process's files.
 * Errors: LS_EIO (the folder cannot be made or written), LS_ESTORE,
 * LS_EBUSY (another process holds the directory).
 */
int store_open(const char *dir, struct store **out, struct ls_error *err);
void store_close(struct store *s); /* accepts NULL */

/* A fresh path under DATA_DIR/tmp/ for a file about to be written
 * (prefix-RANDOM.suffix), into out (cap bytes); 0, or LS_ELIMIT when it
 * does not fit. The caller writes it, then hands it to dataset_put or
 * model_put, or removes it. */
int store_tmp_path(const struct store *s, const char *prefix, const char *suffix, char *out,
                   size_t cap, struct ls_error *err);

/*
 * Data sets. store_dataset_put moves tmp_file (written whole under tmp/)
 * into uploads/ID.csv and inserts d (fingerprint, filename, bytes, rows,
 * ncols, info_json); d->id, d->path and d->created are set on success.
 * When a data set with the same fingerprint exists, nothing is added:
 * tmp_file is removed, *d is replaced by the existing record and
 * LS_ECONFLICT is returned (the caller answers with the existing id).
 * On 0 and on LS_ECONFLICT alike, *d is then a record read back from the
 * store (its strings the store's copies, freed with store_dataset_cleanup;
 * the caller's own strings are neither freed nor kept). A filename longer
 * than STORE_FILENAME_MAX bytes is cut (at a UTF-8 boundary) when stored
 * and when looked up. tmp_file must lie in DATA_DIR/tmp/ (LS_EINPUT).
 * store_dataset_find looks up by fingerprint, or (fingerprint NULL) the
 * latest upload of filename. Lookups return LS_ENOT_FOUND when there is none.
 */
static inline int store_dataset_put(struct store *s, const char *tmp_file, struct store_dataset *d,
                                    struct ls_error *err)
{
    return s->ops->dataset_put(s, tmp_file, d, err);
}
static inline int store_dataset_get(struct store *s, int64_t id, struct store_dataset *out,
                                    struct ls_error *err)
{
    return s->ops->dataset_get(s, id, out, err);
}
static inline int store_dataset_find(struct store *s, const char *fingerprint, const char *filename,
                                     struct store_dataset *out, struct ls_error *err)
{
    return s->ops->dataset_find(s, fingerprint, filename, out, err);
}
void store_dataset_cleanup(struct store_dataset *d);

/*
 * Models. store_model_put moves tmp_file into models/ID.lsm and inserts m
 * (dataset_id, cache_key, options_json, info_json); m->id, m->path and
 * m->created are set (as for data sets, *m is then the record read back:
 * free it with store_model_cleanup). store_model_find: the latest model with that cache
 * key, or (cache_key NULL) the latest model of dataset_id. store_model_delete
 * removes the row and its file; runs made with it stay (their scores are
 * stored), but can no longer explain on demand; LS_ECONFLICT while a queued
 * or running run uses the model. Lists are newest first;
 * *total is the count of all; free a list with store_model_list_free.
 */
static inline int store_model_put(struct store *s, const char *tmp_file, struct store_model *m,
                                  struct ls_error *err)
{
    return s->ops->model_put(s, tmp_file, m, err);
}
static inline int store_model_get(struct store *s, int64_t id, struct store_model *out,
                                  struct ls_error *err)
{
    return s->ops->model_get(s, id, out, err);
}
static inline int store_model_find(struct store *s, const char *cache_key, int64_t dataset_id,
                                   struct store_model *out, struct ls_error *err)
{
    return s->ops->model_find(s, cache_key, dataset_id, out, err);
}
static inline int store_model_list(struct store *s, uint64_t offset, uint64_t limit,
                                   struct store_model **out, size_t *n, uint64_t *total,
                                   struct ls_error *err)
{
    return s->ops->model_list(s, offset, limit, out, n, total, err);
}
static inline int store_model_delete(struct store *s, int64_t id, struct ls_error *err)
{
    return s->ops->model_delete(s, id, err);
}
void store_model_cleanup(struct store_model *m);
void store_model_list_free(struct store_model *list, size_t n);

/*
 * Runs. store_run_create inserts r as queued (dataset_id, model_id — 0 when
 * it will train —, filename, cache_key) and sets r->id and r->created.
 * store_run_progress records the stage, its share done and (when not 0) the
 * model the run trained. store_run_finish stores the run's results (status
 * done, total, tiers, has_outcomes, explained, summary_json, model_id) and
 * all its leads in one transaction (r->total and r->tier must be the
 * leads' own counts, else LS_EINPUT: they answer a page's total without
 * counting); store_run_fail marks it failed with why.
 * store_run_find: the latest done run with that cache key, or (cache_key
 * NULL) the latest done run of data sets named filename, or (both NULL) the
 * latest done run. store_run_delete removes the run and its leads (LS_ECONFLICT
 * while it is queued or running): the run at once, its leads in batches
 * before it returns (a crash between is finished at the next open). Lists
 * are newest first, every status.
 */
static inline int store_run_create(struct store *s, struct store_run *r, struct ls_error *err)
{
    return s->ops->run_create(s, r, err);
}
static inline int store_run_progress(struct store *s, int64_t id, const char *stage,
                                     double progress, int64_t model_id, struct ls_error *err)
{
    return s->ops->run_progress(s, id, stage, progress, model_id, err);
}
static inline int store_run_finish(struct store *s, const struct store_run *r,
                                   const struct store_lead *leads, size_t n, struct ls_error *err)
{
    return s->ops->run_finish(s, r, leads, n, err);
}
static inline int store_run_fail(struct store *s, int64_t id, const char *why, struct ls_error *err)
{
    return s->ops->run_fail(s, id, why, err);
}
static inline int store_run_get(struct store *s, int64_t id, struct store_run *out,
                                struct ls_error *err)
{
    return s->ops->run_get(s, id, out, err);
}
static inline int store_run_find(struct store *s, const char *cache_key, const char *filename,
                                 struct store_run *out, struct ls_error *err)
{
    return s->ops->run_find(s, cache_key, filename, out, err);
}
static inline int store_run_list(struct store *s, uint64_t offset, uint64_t limit,
                                 struct store_run **out, size_t *n, uint64_t *total,
                                 struct ls_error *err)
{
    return s->ops->run_list(s, offset, limit, out, n, total, err);
}
static inline int store_run_delete(struct store *s, int64_t id, struct ls_error *err)
{
    return s->ops->run_delete(s, id, err);
}
void store_run_cleanup(struct store_run *r);
void store_run_list_free(struct store_run *list, size_t n);

/*
 * Leads. store_leads_query: one page of a done run's leads (q->limit at
 * most STORE_PAGE_MAX; a sort name that is neither a known key nor a
 * display column is LS_EINPUT), *total the count matching the filter;
 * sorting and filtering happen in SQL, ties broken by rank. Ranks follow
 * scores (rank 1 = highest score, as app_score gives them;
 * store_run_finish refuses others with LS_EINPUT), so "score" descending
 * is rank order and ascending its exact reverse. A display value stored as
 * a JSON number sorts numerically, before text. q matches without regard
 * to ASCII case (LIKE; % and _ are literal). Free with
 * store_lead_list_free. store_lead_get: one lead (LS_ENOT_FOUND for a row
 * outside the run). store_leads_explain stores reasons, base and
 * contributions of leads explained on demand (matched by row; a row
 * outside the run is LS_ENOT_FOUND and nothing of the call is kept).
 * store_leads_each calls fn for every lead in row order (for exports), its
 * strings valid during the call only, stopping at fn's first non-zero
 * return, which it returns. A run that is not done has no leads to read or
 * explain yet: every lead call answers LS_ECONFLICT for it.
 */
static inline int store_leads_query(struct store *s, int64_t run_id,
                                    const struct store_lead_query *q, struct store_lead **out,
                                    size_t *n, uint64_t *total, struct ls_error *err)
{
    return s->ops->leads_query(s, run_id, q, out, n, total, err);
}
static inline int store_lead_get(struct store *s, int64_t run_id, uint64_t row,
                                 struct store_lead *out, struct ls_error *err)
{
    return s->ops->lead_get(s, run_id, row, out, err);
}
static inline int store_leads_explain(struct store *s, int64_t run_id,
                                      const struct store_lead *leads, size_t n,
                                      struct ls_error *err)
{
    return s->ops->leads_explain(s, run_id, leads, n, err);
}
static inline int store_leads_each(struct store *s, int64_t run_id,
                                   int (*fn)(void *ctx, const struct store_lead *l), void *ctx,
                                   struct ls_error *err)
{
    return s->ops->leads_each(s, run_id, fn, ctx, err);
}
/* store_lead_find: the lead whose identifier is exactly lead_id (the best
 * ranked when several share it), for the chat's "lead 660737";
 * LS_ENOT_FOUND when none, LS_ECONFLICT for a run not done. */
static inline int store_lead_find(struct store *s, int64_t run_id, const char *lead_id,
                                  struct store_lead *out, struct ls_error *err)
{
    return s->ops->lead_find(s, run_id, lead_id, out, err);
}
void store_lead_cleanup(struct store_lead *l);
void store_lead_list_free(struct store_lead *list, size_t n);

/* How many data sets, models and runs (any status) are stored (for health). */
static inline int store_counts(struct store *s, uint64_t *datasets, uint64_t *models,
                               uint64_t *runs, struct ls_error *err)
{
    return s->ops->counts(s, datasets, models, runs, err);
}

/*
 * The language layer's records (schema 2). store_run_facts: the run's facts
 * text (malloc'd; LS_ENOT_FOUND for no such run, *json NULL when the run
 * has none: a run of schema 1, or not done). store_insights_put adds or
 * replaces insights by row (LS_ENOT_FOUND: no such run); store_insights_get
 * lists them by row. store_chat_add appends m (run_id, role, text,
 * provider, facts_json; sets id and created) and keeps the run's last
 * `keep` messages; store_chat_list: the last `last` messages of a run,
 * oldest first. Deleting a run deletes its insights and messages.
 * Limits and checks: facts over STORE_FACTS_MAX make store_run_finish fail
 * with LS_ELIMIT (text that is not JSON: LS_EINPUT); an insight's why and
 * next_action are 1..STORE_INSIGHT_MAX bytes, its provider 1..
 * STORE_PROVIDER_MAX, at most STORE_PAGE_MAX per call, and its row must be
 * one of the run's leads (LS_ENOT_FOUND, nothing of the call kept); a
 * message's role is "user" or "assistant", its text 1..STORE_CHAT_TEXT_MAX
 * bytes, its facts_json JSON of at most STORE_CHAT_FACTS_MAX bytes, keep
 * at least 1 (all LS_EINPUT or LS_ELIMIT). A run that is not done has no
 * leads, so insights and messages for it are LS_ECONFLICT. last 0 lists
 * every message kept.
 */
static inline int store_run_facts(struct store *s, int64_t run_id, char **json,
                                  struct ls_error *err)
{
    return s->ops->run_facts(s, run_id, json, err);
}
static inline int store_insights_put(struct store *s, int64_t run_id, const struct store_insight *v,
                                     size_t n, struct ls_error *err)
{
    return s->ops->insights_put(s, run_id, v, n, err);
}
static inline int store_insights_get(struct store *s, int64_t run_id, struct store_insight **out,
                                     size_t *n, struct ls_error *err)
{
    return s->ops->insights_get(s, run_id, out, n, err);
}
static inline int store_chat_add(struct store *s, struct store_chat_msg *m, size_t keep,
                                 struct ls_error *err)
{
    return s->ops->chat_add(s, m, keep, err);
}
static inline int store_chat_list(struct store *s, int64_t run_id, size_t last,
                                  struct store_chat_msg **out, size_t *n, struct ls_error *err)
{
    return s->ops->chat_list(s, run_id, last, out, n, err);
}
void store_insight_list_free(struct store_insight *v, size_t n);
void store_chat_list_free(struct store_chat_msg *v, size_t n);

/* The SQLite backend (store_open calls it). */
int store_sqlite_open(const char *dir, struct store **out, struct ls_error *err);

#endif
