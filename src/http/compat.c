/*
 * compat.c — the old system's routes, for its web client, unchanged.
 *
 * The contract is ../shared/SEED.md ("Compatible routes"), field by field:
 * POST /upload, POST /train, POST /predict, GET /prediction-history and
 * GET /prediction-history/{run_id}, with {"detail": "..."} errors. Like
 * api.c, every handler only translates to src/app/service.h calls.
 *
 * The client's handle for a file is the name it uploaded it under. That
 * name is looked up among uploaded data sets only (service_dataset_by_name:
 * the latest upload of that name), never opened as a path, so
 * "../../etc/passwd" is just a name nobody uploaded (404). The client
 * always sends target_col "Converted": a file without that column has its
 * target detected instead (target_fallback).
 *
 * A body field missing or of the wrong type answers 422 with a string
 * detail, as the old FastAPI server did (its detail was a list; the client
 * shows `detail`, so a sentence reads better). Unknown fields are ignored,
 * as FastAPI ignored them.
 *
 * /train trains and scores the file in one run (both cached by the file's
 * fingerprint and the options), because the accuracy it reports needs
 * every labelled lead's score; /predict then answers from that run at
 * once. The old answers carried accuracy measured on the rows the model
 * learned from. Ours are honest: every lead with a known outcome is scored
 * out of bag (only by trees that never saw it), and the figures are
 * measured on those scores. accuracy, precision, recall and F1 take a lead
 * as predicted to convert when its calibrated likelihood is at least 0.5;
 * precision_at_k and recall_at_k look at the top 10 % of the labelled
 * leads by score; pr_auc is the average precision. The history list gives
 * what the run stored (AUC-based figures, precision and recall in the top
 * 10 %) and null for the threshold figures, which need every lead.
 *
 * POST /chat {message, context?, filename?} answers {"response": "..."}
 * with 200 whatever it is sent, as the old server did: the client shows
 * the response as the assistant's words and has no error path for this
 * route. So a body that is not JSON, a missing or empty message, a full
 * pool and the absence of any scored file are all answered in plain words.
 * filename "" or null (what the client sends before any run) means the
 * latest run; context is the client's own (it sends "undefined" when it
 * has none) and is not used: the conversation is kept per run by the
 * service. The answer is the whole text at once, never streamed.
 */
#include "http/handler_args.h"
#include "http/handlers.h"

#include "chat/chat.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OLD HTTP_STYLE_COMPAT

#define HISTORY_MAX 100 /* runs in GET /prediction-history, newest first */
#define TOP_SHARE   0.10

/* ---- small readers of the service's answers -------------------------------- */

static double num(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *num_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_int_t count(const json_t *v)
{
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* A lead's known outcome in the old client's field: 1, 0, or -1 unknown. */
static int outcome(const json_t *lead)
{
    const json_t *v = json_object_get(lead, "actual_converted");
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_real(v))
        return json_real_value(v) != 0;
    return -1;
}

/*
 * The old client's accuracy_metrics from a run's leads (results, best
 * first, out-of-bag scores for training leads) and its metrics object (the
 * AUC): null when no lead has a known outcome. See the purpose paragraph
 * for what each figure means.
 */
static json_t *accuracy_metrics(const json_t *results, const json_t *metrics)
{
    size_t labelled = 0, pos = 0, tp = 0, fp = 0, fn = 0, tn = 0;
    size_t i;
    json_t *lead;
    json_array_foreach(results, i, lead)
    {
        int y = outcome(lead);
        if (y < 0)
            continue;
        int yes = num(json_object_get(lead, "score")) >= 0.5;
        labelled++;
        pos += (size_t)y;
        tp += (size_t)(yes && y);
        fp += (size_t)(yes && !y);
        fn += (size_t)(!yes && y);
        tn += (size_t)(!yes && !y);
    }
    if (labelled == 0)
        return json_null();
    /* top k of the labelled leads by score, and average precision, in the
     * results' order (best first) */
    size_t k = (size_t)ceil(TOP_SHARE * (double)labelled), seen = 0, hits = 0, hits_k = 0;
    double ap = 0;
    json_array_foreach(results, i, lead)
    {
        int y = outcome(lead);
        if (y < 0)
            continue;
        seen++;
        if (y) {
            hits++;
            ap += (double)hits / (double)seen;
        }
        if (seen == k)
            hits_k = hits;
    }
    double precision = tp + fp ? (double)tp / (double)(tp + fp) : NAN;
    double recall = pos ? (double)tp / (double)pos : NAN;
    double f1 = tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : (pos ? 0.0 : NAN);
    json_t *o = json_object();
    json_object_set_new(o, "accuracy", json_real((double)(tp + tn) / (double)labelled));
    json_object_set_new(o, "precision", num_json(precision));
    json_object_set_new(o, "recall", num_json(recall));
    json_object_set_new(o, "f1_score", num_json(f1));
    json_object_set_new(o, "auc", num_json(num(json_object_get(metrics, "auc"))));
    json_object_set_new(o, "pr_auc", num_json(pos ? ap / (double)pos : NAN));
    json_object_set_new(o, "precision_at_k", json_real((double)hits_k / (double)k));
    json_object_set_new(o, "recall_at_k", num_json(pos ? (double)hits_k / (double)pos : NAN));
    json_object_set_new(o, "k", json_integer((json_int_t)k));
    json_object_set_new(o, "labelled_leads", json_integer((json_int_t)labelled));
    json_object_set_new(o, "converted", json_integer((json_int_t)pos));
    json_object_set_new(o, "threshold", json_real(0.5));
    json_object_set_new(o, "measured_on",
                        json_string("leads with a known outcome, each scored out of bag (by "
                                    "trees that never trained on it)"));
    return o;
}

/* The drift alert the old client shows as a banner: false when the data
 * looks like what the model learned from, else a sentence naming the
 * columns that moved. */
static json_t *drift_alert(const json_t *drift)
{
    static const char head[] = "The data has drifted from what the model learned from",
                      tail[] = ". Scores may be less reliable; retrain on recent leads.";
    const char *status = json_string_value(json_object_get(drift, "status"));
    if (!status || strcmp(status, "drift") != 0)
        return json_false();
    char msg[1024];
    size_t len = 0;
    int named = 0;
    const char *name;
    json_t *c;
    len = (size_t)snprintf(msg, sizeof msg, "%s", head);
    json_object_foreach((json_t *)json_object_get(drift, "columns"), name, c)
    {
        const char *st = json_string_value(json_object_get(c, "status"));
        char item[160];
        if (!st || strcmp(st, "drift") != 0)
            continue;
        int n = snprintf(item, sizeof item, "%s%.*s (PSI %.2f)", named ? ", " : ": ",
                         args_utf8_fit(name, 80), name, num(json_object_get(c, "psi")));
        /* whole names only, and room kept for the tail */
        if (n < 0 || (size_t)n >= sizeof item || len + (size_t)n + sizeof tail > sizeof msg)
            break;
        memcpy(msg + len, item, (size_t)n + 1);
        len += (size_t)n;
        named++;
    }
    snprintf(msg + len, sizeof msg - len, "%s", tail);
    return json_string(msg);
}

static json_int_t missing_features(const json_t *drift)
{
    json_int_t n = 0;
    const char *name;
    json_t *c;
    json_object_foreach((json_t *)json_object_get(drift, "columns"), name, c)
    {
        const char *st = json_string_value(json_object_get(c, "status"));
        n += st && strcmp(st, "missing") == 0;
    }
    return n;
}

/* The data set the client means by filename (its latest upload of that name). */
static int dataset_of(struct http_req *rq, struct http_resp *rs, const char *filename, int64_t *id)
{
    struct ls_error err = {0};
    if (service_dataset_by_name(rq->svc, filename, id, &err) == 0)
        return 0;
    if (err.code == LS_ENOT_FOUND) {
        char msg[512];
        snprintf(msg, sizeof msg, "File '%.*s' has not been uploaded; upload it first",
                 args_utf8_fit(filename, 200), filename);
        http_error(rs, OLD, 404, LS_ENOT_FOUND, msg);
    } else {
        args_service_error(rs, OLD, &err);
    }
    return -1;
}

/* ---- POST /upload ---------------------------------------------------------- */

int compat_upload(struct http_req *rq, struct http_resp *rs)
{
    json_t *out = NULL;
    if (args_dataset_add(rq, rs, OLD, &out) != 0)
        return 0;
    json_t *names = json_array(), *col;
    size_t i;
    json_array_foreach(json_object_get(out, "columns"), i, col)
        json_array_append(names, json_object_get(col, "name"));
    json_t *preview = json_object_get(out, "preview");
    rs->json = json_pack("{s:O,s:o,s:o}", "filename", json_object_get(out, "filename"), "columns",
                         names, "preview", preview ? json_incref(preview) : json_array());
    json_decref(out);
    return 0;
}

static const char *const train_keys[] = {"filename", "target_col", NULL};

/* ---- POST /train, POST /predict, GET /prediction-history/{id} -------------- */

/* A job's end: its result (the run's answer) in *out, or the error filled
 * into rs (-1). The job is freed either way. */
static int job_take(struct http_resp *rs, json_t **out)
{
    struct ls_error err = {0};
    int rc = service_job_result(rs->job, out, &err);
    service_job_release(rs->job);
    rs->job = NULL;
    if (rc != 0) {
        args_service_error(rs, OLD, &err);
        return -1;
    }
    return 0;
}

/* The old client's view of a done run (run: the service's answer for it):
 * predict 1 adds distribution, drift_alert and missing_feature_count. */
static int run_answer(struct http_req *rq, struct http_resp *rs, const json_t *run, int predict)
{
    struct ls_error err = {0};
    json_t *results = NULL;
    int64_t run_id = (int64_t)count(json_object_get(run, "run_id"));
    if (service_run_results(rq->svc, run_id, &results, &err) != 0)
        return args_service_error(rs, OLD, &err);
    const json_t *summary = json_object_get(run, "summary");
    json_t *acc = accuracy_metrics(results, json_object_get(run, "metrics"));
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_integer((json_int_t)run_id));
    json_object_set(o, "filename", json_object_get(run, "filename"));
    if (!predict)
        json_object_set(o, "timestamp", json_object_get(run, "created"));
    json_object_set_new(o, "results", results);
    if (predict) {
        const json_t *tiers = json_object_get(summary, "tiers");
        const json_t *drift = json_object_get(run, "drift");
        json_object_set_new(o, "distribution",
                            json_pack("{s:I,s:I,s:I}", "High",
                                      count(json_object_get(tiers, "High")), "Medium",
                                      count(json_object_get(tiers, "Medium")), "Low",
                                      count(json_object_get(tiers, "Low"))));
        json_object_set_new(o, "drift_alert", drift_alert(drift));
        json_object_set_new(o, "missing_feature_count", json_integer(missing_features(drift)));
    }
    json_object_set_new(o, "has_actual_data", json_boolean(!json_is_null(acc)));
    json_object_set_new(o, "accuracy_metrics", acc);
    rs->json = o;
    return 0;
}

/*
 * /train's answer from the run it scored: the out-of-bag accuracy at 0.5
 * (accuracy_metrics, the figure /predict repeats) and a paragraph saying
 * what it is, with the AUC in words and the columns left out as leaky.
 */
static int train_answer(struct http_req *rq, struct http_resp *rs, const json_t *run)
{
    struct ls_error err = {0};
    json_t *results = NULL, *model = NULL, *acc = NULL;
    int64_t run_id = (int64_t)count(json_object_get(run, "run_id"));
    int64_t model_id = (int64_t)count(json_object_get(run, "model_id"));
    if (service_run_results(rq->svc, run_id, &results, &err) != 0 ||
        service_model_get(rq->svc, model_id, &model, &err) != 0) {
        args_service_error(rs, OLD, &err);
        goto out;
    }
    acc = accuracy_metrics(results, json_object_get(run, "metrics"));
    double accuracy = num(json_object_get(acc, "accuracy")), auc = num(json_object_get(acc, "auc"));
    json_int_t labelled = count(json_object_get(acc, "labelled_leads"));
    const char *target = json_string_value(json_object_get(run, "target"));
    char analysis[2048], left[512] = "", aucs[160] = "";
    size_t len = 0, i;
    json_t *ex;
    json_array_foreach(json_object_get(model, "excluded"), i, ex)
    {
        const char *c = json_string_value(json_object_get(ex, "column"));
        char item[80];
        if (!c)
            continue;
        int n = snprintf(item, sizeof item, "%s%.*s", len ? ", " : "", args_utf8_fit(c, 60), c);
        if (n < 0 || (size_t)n >= sizeof item || len + (size_t)n >= sizeof left)
            break; /* whole names only */
        memcpy(left + len, item, (size_t)n + 1);
        len += (size_t)n;
    }
    if (isfinite(auc))
        snprintf(aucs, sizeof aucs,
                 " AUC %.3f: a lead that converted scores above one that did not %.0f%% of the "
                 "time.",
                 auc, 100.0 * auc);
    snprintf(analysis, sizeof analysis,
             "Out-of-bag accuracy %.1f%% at a 0.5 threshold on %lld leads with a known outcome "
             "(each lead judged only by trees that never trained on it, so this is what to "
             "expect on new leads).%s Target: %.*s.%s%s%s",
             100.0 * accuracy, (long long)labelled, aucs, target ? args_utf8_fit(target, 200) : 8,
             target ? target : "detected",
             len ? " Left out as leaky (known only after the outcome): " : "", left,
             len ? "." : "");
    rs->json = json_pack("{s:s,s:{s:o,s:s,s:o,s:I,s:I}}", "status", "trained", "metrics",
                         "accuracy", num_json(accuracy), "analysis", analysis, "auc", num_json(auc),
                         "model_id", (json_int_t)model_id, "run_id", (json_int_t)run_id);
out:
    json_decref(acc);
    json_decref(results);
    json_decref(model);
    return 0;
}

static int train_finish(struct http_req *rq, struct http_resp *rs)
{
    json_t *run = NULL;
    if (job_take(rs, &run) == 0)
        train_answer(rq, rs, run);
    json_decref(run);
    return 0;
}

static int predict_finish(struct http_req *rq, struct http_resp *rs)
{
    json_t *run = NULL;
    if (job_take(rs, &run) == 0)
        run_answer(rq, rs, run, 1);
    json_decref(run);
    return 0;
}

/* Submit r: a cached run is answered at once by answer(), else the job is
 * parked with finish. */
static int submit(struct http_req *rq, struct http_resp *rs, const struct service_run_req *r,
                  int (*answer)(struct http_req *, struct http_resp *, const json_t *),
                  http_finish_fn finish)
{
    struct ls_error err = {0};
    json_t *cached = NULL;
    int64_t run_id = 0;
    if (service_run_submit(rq->svc, r, rq->done, rq->done_ctx, &rs->job, &run_id, &cached, &err) !=
        0)
        return args_service_error(rs, OLD, &err);
    if (cached) {
        answer(rq, rs, cached);
        json_decref(cached);
        return 0;
    }
    rs->finish = finish;
    return HTTP_PENDING;
}

/* The options the old client's /train means, for data set id and target. */
static void old_train(struct service_run_req *r, int64_t dataset_id, const char *target)
{
    memset(r, 0, sizeof *r);
    service_train_init(&r->train);
    r->dataset_id = dataset_id;
    r->train.dataset_id = dataset_id;
    r->train.target = target;
    r->train.target_fallback = 1; /* the client always says "Converted" */
}

/*
 * POST /train trains and scores in one run (both cached by the file's
 * fingerprint and the options): the accuracy it reports needs every
 * labelled lead's out-of-bag score, and /predict then answers from the
 * same run at once.
 */
int compat_train(struct http_req *rq, struct http_resp *rs)
{
    struct args a;
    struct service_run_req r;
    const char *filename = NULL, *target = NULL;
    int64_t dataset_id = 0;
    if (args_body(&a, rq, rs, OLD, 422, train_keys, 0) != 0 ||
        args_string(&a, "filename", 1, &filename) != 0 ||
        args_string(&a, "target_col", 1, &target) != 0 ||
        dataset_of(rq, rs, filename, &dataset_id) != 0)
        return 0;
    old_train(&r, dataset_id, target);
    return submit(rq, rs, &r, train_answer, train_finish);
}

static int predict_answer(struct http_req *rq, struct http_resp *rs, const json_t *run)
{
    return run_answer(rq, rs, run, 1);
}

/*
 * POST /predict scores the file as /train trained on it: the same options
 * (the client's fixed "Converted", detected when absent), so the run cache
 * answers with the very run /train made, model and all, at once; without a
 * /train before, the file is trained on and scored now. A model made through
 * /api/models with other options never changes what the old client sees.
 */
int compat_predict(struct http_req *rq, struct http_resp *rs)
{
    static const char *const keys[] = {"filename", "explain", NULL};
    struct args a;
    struct service_run_req r;
    const char *filename = NULL;
    int explain = 0;
    int64_t dataset_id = 0;
    /* explain is accepted for the old client: every lead is explained anyway */
    if (args_body(&a, rq, rs, OLD, 422, keys, 0) != 0 ||
        args_string(&a, "filename", 1, &filename) != 0 || args_bool(&a, "explain", &explain) != 0 ||
        dataset_of(rq, rs, filename, &dataset_id) != 0)
        return 0;
    old_train(&r, dataset_id, "Converted");
    return submit(rq, rs, &r, predict_answer, predict_finish);
}

int compat_history_run(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *run = NULL;
    int rc = 0;
    if (service_run_get(rq->svc, rq->ids[0], &run, &err) != 0)
        return args_service_error(rs, OLD, &err);
    const char *status = json_string_value(json_object_get(run, "status"));
    if (!status || strcmp(status, "done") != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Run %lld is %s: it has no results", (long long)rq->ids[0],
                 status ? status : "not finished");
        rc = http_error(rs, OLD, 409, LS_ECONFLICT, msg);
    } else {
        rc = run_answer(rq, rs, run, 0);
    }
    json_decref(run);
    return rc;
}

/* ---- GET /prediction-history ------------------------------------------------ */

/* One history entry from a listed run; the figures that need outcomes come
 * from the run's stored metrics (null when it had none). */
static json_t *history_entry(struct http_req *rq, const json_t *r)
{
    struct ls_error err = {0};
    json_t *run = NULL;
    const json_t *tiers = json_object_get(r, "tiers");
    int outcomes = json_is_true(json_object_get(r, "has_outcomes"));
    const json_t *m = NULL;
    if (outcomes &&
        service_run_get(rq->svc, (int64_t)count(json_object_get(r, "run_id")), &run, &err) == 0)
        m = json_object_get(run, "metrics");
    json_t *e = json_object();
    json_object_set(e, "run_id", json_object_get(r, "run_id"));
    json_object_set(e, "filename", json_object_get(r, "filename"));
    json_object_set(e, "timestamp", json_object_get(r, "created"));
    json_object_set(e, "total_leads", json_object_get(r, "total"));
    json_object_set_new(e, "high_priority_count",
                        json_integer(count(json_object_get(tiers, "High"))));
    json_object_set_new(e, "medium_priority_count",
                        json_integer(count(json_object_get(tiers, "Medium"))));
    json_object_set_new(e, "low_priority_count",
                        json_integer(count(json_object_get(tiers, "Low"))));
    json_object_set_new(e, "accuracy", num_json(num(json_object_get(m, "accuracy"))));
    json_object_set_new(e, "f1_score", num_json(num(json_object_get(m, "f1"))));
    json_object_set_new(e, "pr_auc", num_json(num(json_object_get(m, "pr_auc"))));
    json_object_set_new(e, "precision_at_k", num_json(num(json_object_get(m, "precision_top10"))));
    json_object_set_new(e, "recall_at_k", num_json(num(json_object_get(m, "recall_top10"))));
    json_object_set_new(e, "has_actual_data", json_boolean(outcomes));
    json_decref(run);
    return e;
}

int compat_history(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *list = NULL;
    if (service_run_list(rq->svc, 0, HISTORY_MAX, &list, &err) != 0)
        return args_service_error(rs, OLD, &err);
    json_t *history = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(list, "runs"), i, r)
    {
        const char *status = json_string_value(json_object_get(r, "status"));
        if (status && strcmp(status, "done") == 0)
            json_array_append_new(history, history_entry(rq, r));
    }
    rs->json = json_pack("{s:o}", "history", history);
    json_decref(list);
    return 0;
}

/* ---- POST /chat --------------------------------------------------------------- */

/* {"response": text}, 200: the only answer this route gives. */
static int chat_words(struct http_resp *rs, const char *text)
{
    json_decref(rs->json);
    rs->json = json_pack("{s:s}", "response", text);
    if (!rs->json) /* text that is not UTF-8 (never ours): say something all the same */
        rs->json = json_pack("{s:s}", "response", "I could not put the answer into words.");
    rs->status = 200;
    rs->retry_after = 0;
    return 0;
}

/* What went wrong, said to a person. */
static int chat_refusal(struct http_resp *rs, const struct ls_error *err)
{
    char msg[600];
    switch (err->code) {
    case LS_EBUSY:
        return chat_words(rs, "I am busy answering other questions right now. Please ask again "
                              "in a few seconds.");
    case LS_ELIMIT:
        snprintf(msg, sizeof msg,
                 "That question is too long for me (at most %d characters). Please ask it in "
                 "fewer words.",
                 CHAT_QUESTION_MAX);
        return chat_words(rs, msg);
    case LS_EINPUT:
        return chat_words(rs, "Please type a question about your leads, for example \"Which "
                              "lead sources convert best?\"");
    default:
        snprintf(msg, sizeof msg, "I could not answer that just now (%.*s). Please try again.",
                 args_utf8_fit(err->msg[0] ? err->msg : ls_err_name(err->code), 400),
                 err->msg[0] ? err->msg : ls_err_name(err->code));
        return chat_words(rs, msg);
    }
}

static int chat_finish(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *out = NULL;
    (void)rq;
    int rc = service_job_result(rs->job, &out, &err);
    service_job_release(rs->job);
    rs->job = NULL;
    if (rc != 0)
        return chat_refusal(rs, &err);
    const char *text = json_string_value(json_object_get(out, "text"));
    chat_words(rs, text && *text ? text : "I have no answer to that.");
    json_decref(out);
    return 0;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

int compat_chat(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    char *text = NULL;
    char msg[600];
    if (rq->body_error || !json_is_object(rq->json)) {
        const char *why = rq->body_error ? rq->body_error : "it is not a JSON object";
        snprintf(msg, sizeof msg,
                 "I could not read the question (%.*s). Send JSON such as {\"message\": "
                 "\"Which lead sources convert best?\"}.",
                 args_utf8_fit(why, 300), why);
        return chat_words(rs, msg);
    }
    const json_t *m = json_object_get(rq->json, "message");
    const json_t *f = json_object_get(rq->json, "filename");
    const char *message = json_string_value(m);
    if (!message || blank(message)) {
        err.code = LS_EINPUT;
        return chat_refusal(rs, &err);
    }
    if (json_string_length(m) > CHAT_QUESTION_MAX) {
        err.code = LS_ELIMIT;
        return chat_refusal(rs, &err);
    }
    /* "" or null before any run; a name too long to be one is no name */
    const char *filename = json_string_value(f);
    if (filename && (!*filename || json_string_length(f) > ARGS_STRING_MAX))
        filename = NULL;
    if (service_chat_compat(rq->svc, message, filename, rq->done, rq->done_ctx, &rs->job, &text,
                            &err) != 0)
        return chat_refusal(rs, &err);
    if (!rs->job) { /* nothing scored yet: the service said so in words */
        chat_words(rs, text && *text ? text
                                     : "No file has been scored yet. Upload a lead file and "
                                       "score it, then ask me about it.");
        free(text);
        return 0;
    }
    free(text);
    rs->finish = chat_finish;
    return HTTP_PENDING;
}
