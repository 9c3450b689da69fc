/*
 * service.h — what the HTTP server asks of the engine, in engine terms.
 *
 * The service owns the store (store/store.h), a bounded pool of worker
 * threads for the heavy work (training, scoring, explaining) and the caches
 * that make repeated work free (a run per (file fingerprint, options), a
 * loaded model per id). src/http/ translates requests into these calls and
 * their JSON results into responses; it never wires engine modules itself,
 * and the CLI reaches the same engine through app_run_score / app_train.
 *
 * Results are jansson objects with the API's field names (the caller owns
 * them and json_decref's them); errors are LS_E* codes with a message in err,
 * whose HTTP status is ls_err_http_status(code). Every function is safe to
 * call from any number of threads at once.
 *
 * Heavy work is a job. A job is submitted (LS_EBUSY when `workers` jobs run
 * and `queue` more wait: the caller answers 503 with Retry-After), runs on a
 * worker thread, reports its stage and share done to the store (so GET
 * /api/runs/{id} shows them), and when it ends calls the submitter's done
 * callback from the worker thread. The submitter then takes the result with
 * service_job_result and frees the job; or, having lost interest (the
 * client went away, or asked not to wait), releases it at once with
 * service_job_release and the job frees itself when it ends, its run stored
 * as usual.
 */
#ifndef LS_APP_SERVICE_H
#define LS_APP_SERVICE_H

#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define SERVICE_SCORE_MAX_LEADS 1000   /* leads per real-time scoring call */
#define SERVICE_EXPLAIN_ALL_MAX 100000 /* runs up to this size explain every lead ... */
/* ... when explaining them all costs at most this many lead x tree-node
 * visits: exact TreeSHAP costs ~6-10 ns a visit on one core, so 2e9 is a few
 * seconds on two cores (Leads.csv: 9,237 leads x 86,562 nodes = 0.8e9, 1.6 s).
 * The cost grows with leads x nodes, and nodes grow with the training rows,
 * so a 60,000-lead file would take minutes: bigger runs explain on demand. */
#define SERVICE_EXPLAIN_BUDGET 2000000000ull
#define SERVICE_EXCLUDE_MAX    256
#define SERVICE_TREES_MAX      2000
#define SERVICE_POSITIVE_MAX   255 /* bytes of the positive class's label */
/* The history never grows without bound (the old system's did): past this
 * many runs, the oldest finished runs go, leads and all. */
#define SERVICE_KEEP_RUNS 1000

struct service;
struct service_job;
struct llm_config;

struct service_opts {
    const char *data_dir;         /* the store's folder (created when missing) */
    uint32_t workers;             /* jobs running at once (default 1) */
    uint32_t queue;               /* jobs waiting at most beyond those (default 4) */
    uint32_t threads;             /* compute threads of one job (0: every core) */
    uint64_t explain_max;         /* default SERVICE_EXPLAIN_ALL_MAX */
    uint64_t explain_budget;      /* lead x node visits, default SERVICE_EXPLAIN_BUDGET */
    uint64_t max_rows;            /* rows of an uploaded file at most (default 5,000,000) */
    uint64_t keep_runs;           /* runs kept: past this, the oldest finished ones are deleted
                                     with their leads after each new run (default SERVICE_KEEP_RUNS) */
    const struct llm_config *llm; /* NULL: llm_config_from_env at open */
    uint32_t insights;            /* top leads given insights (default SERVICE_INSIGHTS_TOP,
                                     0 none, 100 at most: each is a language model call) */
    uint32_t chat_workers;        /* chat answers at once (default 4) */
    uint32_t chat_queue;          /* chat answers waiting at most (default 16) */
};

void service_opts_default(struct service_opts *o);

/* Open the store and start the workers. Errors: those of store_open. */
int service_open(const struct service_opts *o, struct service **out, struct ls_error *err);

/* Stop taking jobs, let running and queued jobs finish (their done callbacks
 * are called), stop the workers, close the store. Accepts NULL. Model calls
 * in flight are stopped first (service_stop_models). */
void service_close(struct service *s);

/* The process is stopping: language-model calls in flight end at once and
 * later ones answer with the built-in narrator (llm_chain_shutdown), so no
 * insight, chat job or request waiting for one (the old POST /chat) waits
 * for a model's timeouts. Thread-safe; accepts NULL. cmd_serve calls it
 * before http_server_stop, which waits for such requests. */
void service_stop_models(struct service *s);

struct store *service_store(struct service *s);

/* {"store": "sqlite", "data_dir": ..., "datasets", "models", "runs", "jobs_running",
 * "jobs_queued", "workers", "queue"} for GET /api/health. */
json_t *service_health_json(struct service *s);

/* ---- data sets -------------------------------------------------------- */

/* An uploaded file, written whole under the store's tmp/ (store_tmp_path). */
struct service_upload {
    const char *tmp_path;    /* the service moves or removes it, success or not */
    const char *filename;    /* the client's name (shown only; NULL or "" → "upload.csv") */
    const char *fingerprint; /* SHA-256 hex of its bytes, computed while it streamed in */
    uint64_t bytes;
};

/*
 * Read, type and check an uploaded file and store it as a data set. *out:
 * {dataset_id, fingerprint, filename, bytes, rows, columns: [{name, type,
 * missing, distinct}], target: {name, positive, negative, confidence,
 * reason} or null with target_error, leakage: [leakage_json], warnings:
 * [...], preview: [≤ 5 row objects], existed: bool}. The same bytes again
 * give the same dataset_id (existed true; the stored answer, fresh
 * filename). Errors: LS_EMEDIA (not a text CSV: binary bytes, an image, a
 * zip...), LS_EINPUT / LS_EENCODING / LS_EEMPTY / LS_ELIMIT from reading
 * (the message has the line and column), LS_EIO, LS_ESTORE.
 */
int service_dataset_add(struct service *s, const struct service_upload *u, json_t **out,
                        struct ls_error *err);
int service_dataset_get(struct service *s, int64_t id, json_t **out, struct ls_error *err);
/* The latest data set uploaded under filename (the old routes' handle): its id. */
int service_dataset_by_name(struct service *s, const char *filename, int64_t *id,
                            struct ls_error *err);

/* ---- models and runs: jobs -------------------------------------------- */

struct service_train {
    int64_t dataset_id;
    const char *target;  /* NULL: detect (and a target named but absent: see target_fallback) */
    int target_fallback; /* 1: a named target that is no column is detected instead (old routes) */
    /* The target's value that counts as converted: one of its labels, else
     * LS_EINPUT naming them. NULL: the class detection picks. A different
     * positive class is a different model. */
    const char *positive;
    const char *exclude[SERVICE_EXCLUDE_MAX];
    size_t nexclude;
    int include_leaky;
    uint32_t trees; /* 0: default */
    uint64_t seed;  /* 0: default */
    int has_seed;
};

void service_train_init(struct service_train *t);

struct service_run_req {
    int64_t dataset_id;
    int64_t model_id; /* 0: train first with `train` (cached by fingerprint + options) */
    struct service_train train;
};

typedef void (*service_done_fn)(void *ctx);

/*
 * Train a model on a data set (the model is cached: the same fingerprint and
 * options give the stored model back). The job's result: {model_id,
 * dataset_id, cached, target, features, metrics, importance, excluded:
 * [{column, reason, level, auc}], warnings, took_ms}. Errors at submission:
 * LS_ENOT_FOUND (no such data set), LS_EINPUT (bad options), LS_EBUSY.
 */
int service_model_submit(struct service *s, const struct service_train *t, service_done_fn done,
                         void *ctx, struct service_job **job, struct ls_error *err);

/*
 * Score a data set: train first when r->model_id is 0, then score, explain
 * (every lead when the run has at most explain_max leads and explaining them
 * costs at most explain_budget lead x node visits; else on demand), measure drift and store
 * the run. When the cache already holds a done run for the same data set
 * and options (or model), nothing is submitted: *cached gets the stored
 * answer with "cached": true and *job is NULL. Otherwise *job is the job,
 * *run_id the new run's id (visible at once as queued). The job's result:
 * {run_id, model_id, dataset_id, filename, cached: false, status, summary:
 * {total, tiers: {High, Medium, Low}, labelled, conversion_rate,
 * expected_conversions}, metrics, drift, importance, top_leads: [≤ 10 leads
 * with reasons], warnings, explained, took_ms}.
 * Errors: LS_ENOT_FOUND (data set or model), LS_EINPUT, LS_EBUSY.
 */
int service_run_submit(struct service *s, const struct service_run_req *r, service_done_fn done,
                       void *ctx, struct service_job **job, int64_t *run_id, json_t **cached,
                       struct ls_error *err);

/* After the done callback: the job's result (*out, caller owns) or its error. */
int service_job_result(struct service_job *job, json_t **out, struct ls_error *err);
/* Free a finished job, or let an unfinished one free itself when it ends
 * (its done callback is then not called). Accepts NULL. */
void service_job_release(struct service_job *job);
/* Block until the job ends (the CLI and tests; HTTP uses the callback). */
void service_job_wait(struct service_job *job);

/* ---- reading what is stored ------------------------------------------- */

int service_model_get(struct service *s, int64_t id, json_t **out, struct ls_error *err);
/* {models: [...], total, offset, limit} newest first. */
int service_model_list(struct service *s, uint64_t offset, uint64_t limit, json_t **out,
                       struct ls_error *err);
int service_model_delete(struct service *s, int64_t id, struct ls_error *err);

/* A run as the job answered it, plus status, stage, progress, error,
 * created, finished (ISO 8601 UTC); while it runs, just the progress. */
int service_run_get(struct service *s, int64_t id, json_t **out, struct ls_error *err);
/* {runs: [{run_id, dataset_id, model_id, filename, status, created, total,
 * tiers, has_outcomes, auc}], total, offset, limit} newest first. */
int service_run_list(struct service *s, uint64_t offset, uint64_t limit, json_t **out,
                     struct ls_error *err);
/* LS_ECONFLICT while the run is queued or running. */
int service_run_delete(struct service *s, int64_t id, struct ls_error *err);

/*
 * One page of a run's leads: {leads: [{row, id, score, tier, rank, label,
 * reasons: {for, against}, display: {...}}], total, offset, limit,
 * explained, explained_on_demand}. Leads of a run that explains on demand
 * are explained (and stored) when a page asks for them.
 */
int service_leads(struct service *s, int64_t run_id, const struct store_lead_query *q, json_t **out,
                  struct ls_error *err);

/* One lead in full: {row, id, score, raw, tier, rank, label, out_of_bag,
 * fields: {every column: its cell}, base, contributions: [{column, value,
 * points}] largest |points| first, reasons, explanation (one sentence),
 * next_action}. */
int service_lead(struct service *s, int64_t run_id, uint64_t row, json_t **out,
                 struct ls_error *err);

/*
 * Write a run's export CSV to path (a fresh file the caller removes after
 * sending it): the input columns, then score, tier, rank, reason_1..3;
 * cells starting with = + - @ tab or CR are prefixed with ' against
 * spreadsheet formula injection.
 */
int service_export(struct service *s, int64_t run_id, const char *path, struct ls_error *err);
/* The same for the leads of filter only (its tier and q; its sort, offset
 * and limit are ignored), best first; filter NULL: every lead, row order. */
int service_export_filtered(struct service *s, int64_t run_id, const struct store_lead_query *filter,
                            const char *path, struct ls_error *err);

/*
 * Every lead of a run, best first, as the old client reads them: each lead's
 * CSV columns under their own names plus score (0..1), prediction_score,
 * priority, explanation, next_action, lead_id, Source, and (when the file
 * has outcomes) actual_converted and prediction_accuracy. Returns the array
 * (caller owns).
 */
int service_run_results(struct service *s, int64_t run_id, json_t **out, struct ls_error *err);

/*
 * Real-time scoring for a CRM: leads is an array (1..SERVICE_SCORE_MAX_LEADS)
 * of objects {column: value}; *out {model_id, leads: [{score, tier,
 * reasons: {for, against}, warnings}]}. Runs on the caller's thread (it is
 * quick: the model stays loaded). Errors: LS_ENOT_FOUND, LS_EINPUT (not an
 * array of objects, too many leads), LS_ELIMIT.
 */
int service_score(struct service *s, int64_t model_id, const json_t *leads, json_t **out,
                  struct ls_error *err);

/* ---- insights and chat (language layer: llm/llm.h, chat/chat.h) --------- */

#define SERVICE_INSIGHTS_TOP   5   /* leads of a run given an insight */
#define SERVICE_CHAT_KEEP      200 /* chat messages kept per run (older ones go) */
#define SERVICE_INSIGHTS_QUEUE 32  /* runs waiting for their insights at most */

/*
 * The language chain the service asks (llm_config_from_env at open unless
 * service_opts.llm is set). service_health_json lists its providers under
 * "llm" (llm_chain_health) with "llm_order".
 *
 * Insights: when a run is stored, its top opts.insights leads (default
 * SERVICE_INSIGHTS_TOP) are queued for the insights worker (one thread of
 * its own: a run never waits for them); each gets why + next_action from
 * the chain (JSON, validated by insight_parse; else the narrator), stored
 * with the provider. service_insights: {run_id, status: "pending" |
 * "done", insights: [{row, id, score, tier, why, next_action, provider,
 * created}] best first}. service_lead and service_leads add "insight" (that
 * object without row/id/score/tier, or null) to each lead.
 * The worker's queue holds SERVICE_INSIGHTS_QUEUE runs: a run stored while
 * it is full pushes out the oldest queued run (the newest is the one being
 * looked at). A done run whose insights are missing and not
 * queued (pushed out, cut short by a restart, stored before insights
 * existed) is queued again by service_insights and by a cached
 * service_run_submit of it, so its status reads "pending" until they are
 * there, never "done" with some missing. A queued or running run answers
 * "pending" with no insights; a failed one LS_ECONFLICT; no run
 * LS_ENOT_FOUND. Health adds "insights_queued" and "insights_dropped"
 * (runs pushed out), "chat_running" and "chat_queued".
 */
int service_insights(struct service *s, int64_t run_id, json_t **out, struct ls_error *err);

/*
 * Chat about a done run. The sink hears, in order: meta (once per provider
 * that starts answering: {provider, restart, intent, facts: [cards]}),
 * text pieces, and finally the job ends. The job's result: {message_id,
 * run_id, provider, intent, text, facts, took_ms, first_ms}. The question
 * and the answer are stored (the last SERVICE_CHAT_KEEP per run) and the
 * last CHAT_HISTORY_MAX messages go back to the chain as context.
 * Chat jobs have a pool of their own (opts.chat_workers running,
 * opts.chat_queue waiting; LS_EBUSY past that): a training job never
 * delays an answer. The sink is called from the job's thread; a non-zero
 * return stops the answer (the client left): nothing is stored then, and
 * the job ends with LS_ECANCELED. The sink's ctx must stay valid until the
 * job ends (its done callback; a released job may still call the sink
 * until it ends). A run stored without facts (before schema 2) has them
 * built again from its model and file at its first question (LS_ECONFLICT
 * when its model was deleted). The result adds "tried" (the providers that
 * failed first, with why) when one did.
 * Errors at submission: LS_ENOT_FOUND (no such run), LS_ECONFLICT (not
 * done), LS_EINPUT (empty message), LS_ELIMIT (too long), LS_EBUSY.
 */
struct service_chat_sink {
    int (*meta)(void *ctx, const json_t *meta);
    int (*text)(void *ctx, const char *piece, size_t len);
    void *ctx;
};

int service_chat_submit(struct service *s, int64_t run_id, const char *message,
                        const struct service_chat_sink *sink, service_done_fn done, void *ctx,
                        struct service_job **job, struct ls_error *err);

/* The stored conversation of a run: {run_id, messages: [{message_id, role,
 * text, provider, facts, created}] oldest first}. */
int service_chat_history(struct service *s, int64_t run_id, json_t **out, struct ls_error *err);

/*
 * The old system's POST /chat: about the latest done run of data sets
 * named filename (NULL or "" or not found: the latest done run at all),
 * with no sink. When no run exists the job is not submitted: *text gets a
 * plain sentence saying no file has been scored yet and *job is NULL.
 * The job's result is as service_chat_submit's.
 */
int service_chat_compat(struct service *s, const char *message, const char *filename,
                        service_done_fn done, void *ctx, struct service_job **job, char **text,
                        struct ls_error *err);

#endif
