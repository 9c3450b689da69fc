/*
 * api.c — the handlers of /api/: the service's own JSON API.
 *
 * Each handler reads its arguments strictly (handler_args.h: an unknown
 * field or a value out of range is a 400 naming it), makes one or two
 * src/app/service.h calls and turns their answer into a response; nothing
 * here wires engine modules. The answers are the service's JSON objects
 * as they are, so the API's field names live in one place (service*.c) and
 * are described once, in openapi.json.
 *
 * Training and scoring are jobs: the handler submits one with the
 * server's done callback, parks it in rs->job with a finish function and
 * returns HTTP_PENDING; the finish function takes the job's result and
 * frees the job. A submission the pool cannot take (LS_EBUSY) is a 503
 * with Retry-After. Status codes: 201 for something new (a data set, a
 * model, a run), 200 for an answer that already existed (the same upload,
 * a cached model or run), 202 for a run submitted with "wait": false, 204
 * for a deletion.
 *
 * Chat (POST /api/runs/{id}/chat) answers with a stream of server-sent
 * events: the chat job's sink writes `meta` (the provider starting, the
 * facts used) and `token` events as the answer is produced, on the job's
 * thread; its done callback writes `done` (or `error`) and closes the
 * stream. What is refused before the job starts (no such run, a run not
 * done, an empty or too long question, a full pool) is an ordinary JSON
 * error. The model's words are only ever JSON string values here: the
 * stream is text/event-stream, never HTML.
 */
#include "http/handler_args.h"
#include "http/handlers.h"
#include "http/internal.h"

#include "chat/chat.h"
#include "core/mem.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define API HTTP_STYLE_API

#define PAGE_DEFAULT 50
#define OFFSET_MAX   ((uint64_t)1 << 53) /* past any count the store can hold */

/* ---- the list / get / delete shape every stored kind shares ------------ */

typedef int (*list_fn)(struct service *s, uint64_t offset, uint64_t limit, json_t **out,
                       struct ls_error *err);
typedef int (*get_fn)(struct service *s, int64_t id, json_t **out, struct ls_error *err);
typedef int (*delete_fn)(struct service *s, int64_t id, struct ls_error *err);

/* A page of a list: ?offset= (default 0) and ?limit= (1..STORE_PAGE_MAX). */
static int answer_list(struct http_req *rq, struct http_resp *rs, list_fn fn)
{
    struct ls_error err = {0};
    struct args a = {.rs = rs, .style = API, .status = 400};
    uint64_t offset = 0, limit = 0;
    json_t *out = NULL;
    if (args_query_u64(&a, rq, "offset", 0, OFFSET_MAX, 0, &offset) != 0 ||
        args_query_u64(&a, rq, "limit", 1, STORE_PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
        return 0;
    if (fn(rq->svc, offset, limit, &out, &err) != 0)
        return args_service_error(rs, API, &err);
    rs->json = out;
    return 0;
}

/* The record of the path's {id}. */
static int answer_get(struct http_req *rq, struct http_resp *rs, get_fn fn)
{
    struct ls_error err = {0};
    json_t *out = NULL;
    if (fn(rq->svc, rq->ids[0], &out, &err) != 0)
        return args_service_error(rs, API, &err);
    rs->json = out;
    return 0;
}

/* Delete the record of the path's {id}: 204 and no body. */
static int answer_delete(struct http_req *rq, struct http_resp *rs, delete_fn fn)
{
    struct ls_error err = {0};
    if (fn(rq->svc, rq->ids[0], &err) != 0)
        return args_service_error(rs, API, &err);
    rs->status = 204;
    return 0;
}

/* ---- data sets ------------------------------------------------------------ */

int api_dataset_create(struct http_req *rq, struct http_resp *rs)
{
    json_t *out = NULL;
    if (args_dataset_add(rq, rs, API, &out) != 0)
        return 0;
    rs->status = json_is_true(json_object_get(out, "existed")) ? 200 : 201;
    rs->json = out;
    return 0;
}

int api_dataset_get(struct http_req *rq, struct http_resp *rs)
{
    return answer_get(rq, rs, service_dataset_get);
}

/* ---- training options, shared by POST /api/models and POST /api/runs ------ */

/* Read target, positive, exclude, include_leaky, trees and seed into t; *given counts
 * the fields present (POST /api/runs refuses them beside a model_id). */
static int read_train(struct args *a, struct service_train *t, int *given)
{
    int64_t v = 0;
    int has = 0, leaky = -1;
    *given = 0;
    if (args_string(a, "target", 0, &t->target) != 0)
        return -1;
    *given += t->target != NULL;
    if (args_string_max(a, "positive", 0, SERVICE_POSITIVE_MAX, &t->positive) != 0)
        return -1;
    *given += t->positive != NULL;
    if (args_strings(a, "exclude", t->exclude, SERVICE_EXCLUDE_MAX, &t->nexclude) != 0)
        return -1;
    *given += json_object_get(a->body, "exclude") != NULL;
    if (args_bool(a, "include_leaky", &leaky) != 0)
        return -1;
    if (leaky >= 0) {
        t->include_leaky = leaky;
        *given += 1;
    }
    if (args_int(a, "trees", 1, SERVICE_TREES_MAX, &v, &has) != 0)
        return -1;
    if (has) {
        t->trees = (uint32_t)v;
        *given += 1;
    }
    if (args_int(a, "seed", 0, INT64_MAX, &v, &has) != 0)
        return -1;
    if (has) {
        t->seed = (uint64_t)v;
        t->has_seed = 1;
        *given += 1;
    }
    return 0;
}

/* ---- models ------------------------------------------------------------- */

static int model_finish(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *out = NULL;
    int rc = service_job_result(rs->job, &out, &err);
    service_job_release(rs->job);
    rs->job = NULL;
    if (rc != 0)
        return args_service_error(rs, API, &err);
    rs->status = json_is_true(json_object_get(out, "cached")) ? 200 : 201;
    rs->json = out;
    return 0;
}

int api_model_create(struct http_req *rq, struct http_resp *rs)
{
    static const char *const keys[] = {"dataset_id",    "target", "positive", "exclude",
                                       "include_leaky", "trees",  "seed",     NULL};
    struct ls_error err = {0};
    struct args a;
    struct service_train t;
    int given = 0;
    service_train_init(&t);
    if (args_body(&a, rq, rs, API, 400, keys, 1) != 0 ||
        args_id(&a, "dataset_id", 1, &t.dataset_id) != 0 || read_train(&a, &t, &given) != 0)
        return 0;
    if (service_model_submit(rq->svc, &t, rq->done, rq->done_ctx, &rs->job, &err) != 0)
        return args_service_error(rs, API, &err);
    rs->finish = model_finish;
    return HTTP_PENDING;
}

int api_model_list(struct http_req *rq, struct http_resp *rs)
{
    return answer_list(rq, rs, service_model_list);
}

int api_model_get(struct http_req *rq, struct http_resp *rs)
{
    return answer_get(rq, rs, service_model_get);
}

int api_model_delete(struct http_req *rq, struct http_resp *rs)
{
    return answer_delete(rq, rs, service_model_delete);
}

/* ---- runs --------------------------------------------------------------- */

static int run_finish(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *out = NULL;
    int rc = service_job_result(rs->job, &out, &err);
    service_job_release(rs->job);
    rs->job = NULL;
    if (rc != 0)
        return args_service_error(rs, API, &err);
    rs->status = 201;
    rs->json = out;
    return 0;
}

int api_run_create(struct http_req *rq, struct http_resp *rs)
{
    static const char *const keys[] = {"dataset_id",    "model_id", "target", "positive", "exclude",
                                       "include_leaky", "trees",    "seed",   "wait",     NULL};
    struct ls_error err = {0};
    struct args a;
    struct service_run_req r = {0};
    int given = 0, wait = 1;
    int64_t run_id = 0;
    json_t *cached = NULL;
    service_train_init(&r.train);
    if (args_body(&a, rq, rs, API, 400, keys, 1) != 0 ||
        args_id(&a, "dataset_id", 1, &r.dataset_id) != 0 ||
        args_id(&a, "model_id", 0, &r.model_id) != 0 || read_train(&a, &r.train, &given) != 0 ||
        args_bool(&a, "wait", &wait) != 0)
        return 0;
    if (r.model_id && given) {
        args_fail(&a, "target, positive, exclude, include_leaky, trees and seed train a model: "
                      "give them without model_id");
        return 0;
    }
    r.train.dataset_id = r.dataset_id;
    if (service_run_submit(rq->svc, &r, rq->done, rq->done_ctx, &rs->job, &run_id, &cached, &err) !=
        0)
        return args_service_error(rs, API, &err);
    if (cached) {
        rs->json = cached;
        return 0;
    }
    if (!wait) {
        /* the job stores its run as usual and frees itself when it ends */
        service_job_release(rs->job);
        rs->job = NULL;
        rs->status = 202;
        rs->json = json_pack("{s:I,s:s}", "run_id", (json_int_t)run_id, "status", "queued");
        return 0;
    }
    rs->finish = run_finish;
    return HTTP_PENDING;
}

int api_run_list(struct http_req *rq, struct http_resp *rs)
{
    return answer_list(rq, rs, service_run_list);
}

int api_run_get(struct http_req *rq, struct http_resp *rs)
{
    return answer_get(rq, rs, service_run_get);
}

int api_run_delete(struct http_req *rq, struct http_resp *rs)
{
    return answer_delete(rq, rs, service_run_delete);
}

/* ---- leads -------------------------------------------------------------- */

static const char *const tier_names[] = {"Low", "Medium", "High"}; /* enum tier order */

int api_run_leads(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    struct args a = {.rs = rs, .style = API, .status = 400};
    struct store_lead_query q = {.tier = -1, .sort = "score", .desc = 1};
    json_t *out = NULL;
    const char *tier = http_param(rq, "tier"), *sort = http_param(rq, "sort"),
               *order = http_param(rq, "order"), *text = http_param(rq, "q");
    if (tier && *tier) {
        for (int k = 0; k < 3; k++)
            if (strcasecmp(tier, tier_names[k]) == 0)
                q.tier = k;
        if (q.tier < 0) {
            args_fail(&a, "parameter tier must be High, Medium or Low");
            return 0;
        }
    }
    if (text && strlen(text) > STORE_QUERY_MAX) {
        args_fail(&a, "parameter q must be at most %d bytes", STORE_QUERY_MAX);
        return 0;
    }
    if (text && *text)
        q.q = text;
    if (sort && *sort) {
        if (strlen(sort) > ARGS_STRING_MAX) {
            args_fail(&a, "parameter sort must be at most %d bytes", ARGS_STRING_MAX);
            return 0;
        }
        q.sort = sort;
        /* a score is read best first; a rank, a row, an id or a name from the start */
        q.desc = strcmp(sort, "score") == 0;
    }
    if (order && *order) {
        if (strcmp(order, "asc") == 0)
            q.desc = 0;
        else if (strcmp(order, "desc") == 0)
            q.desc = 1;
        else {
            args_fail(&a, "parameter order must be asc or desc");
            return 0;
        }
    }
    if (args_query_u64(&a, rq, "offset", 0, OFFSET_MAX, 0, &q.offset) != 0 ||
        args_query_u64(&a, rq, "limit", 1, STORE_PAGE_MAX, PAGE_DEFAULT, &q.limit) != 0)
        return 0;
    if (service_leads(rq->svc, rq->ids[0], &q, &out, &err) != 0) {
        /* the store names a sort it does not know; the client should read which parameter */
        if (err.code == LS_EINPUT && sort && *sort && !strstr(err.msg, "sort")) {
            char msg[sizeof err.msg];
            snprintf(msg, sizeof msg, "parameter sort: %s", err.msg);
            snprintf(err.msg, sizeof err.msg, "%s", msg);
        }
        return args_service_error(rs, API, &err);
    }
    rs->json = out;
    return 0;
}

int api_run_lead(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *out = NULL;
    if (service_lead(rq->svc, rq->ids[0], (uint64_t)rq->ids[1], &out, &err) != 0)
        return args_service_error(rs, API, &err);
    rs->json = out;
    return 0;
}

/*
 * The export's file name: the data set's name without its extension, kept
 * to letters, digits, '-', '_' and '.', then "-scored-RUN.csv". The client's
 * file name can hold quotes, semicolons or line breaks, which would break
 * out of the Content-Disposition header.
 */
static void export_name(const char *filename, int64_t run_id, char *out, size_t cap)
{
    char base[81];
    size_t n = 0;
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    for (const char *p = filename; p && *p && p != dot && n < sizeof base - 1; p++) {
        unsigned char c = (unsigned char)*p;
        int ok = isalnum(c) || c == '-' || c == '_' || c == '.';
        if (ok || (n > 0 && base[n - 1] != '_'))
            base[n++] = ok ? (char)c : '_';
    }
    while (n > 0 && (base[n - 1] == '_' || base[n - 1] == '.'))
        n--;
    base[n] = '\0';
    snprintf(out, cap, "%s-scored-%" PRId64 ".csv", n ? base : "leads", run_id);
}

int api_run_export(struct http_req *rq, struct http_resp *rs)
{
    struct ls_error err = {0};
    json_t *run = NULL;
    char name[128];
    int64_t id = rq->ids[0];
    struct args a = {.rs = rs, .style = API, .status = 400};
    struct store_lead_query q = {.tier = -1};
    const char *tier = http_param(rq, "tier"), *text = http_param(rq, "q");
    if (tier && *tier) {
        for (int k = 0; k < 3; k++)
            if (strcasecmp(tier, tier_names[k]) == 0)
                q.tier = k;
        if (q.tier < 0) {
            args_fail(&a, "parameter tier must be High, Medium or Low");
            return 0;
        }
    }
    if (text && strlen(text) > STORE_QUERY_MAX) {
        args_fail(&a, "parameter q must be at most %d bytes", STORE_QUERY_MAX);
        return 0;
    }
    if (text && *text)
        q.q = text;
    int filtered = q.tier >= 0 || q.q;
    if (service_run_get(rq->svc, id, &run, &err) != 0)
        goto fail;
    export_name(json_string_value(json_object_get(run, "filename")), id, name, sizeof name);
    if (store_tmp_path(service_store(rq->svc), "export", "csv", rs->file_path, sizeof rs->file_path,
                       &err) != 0)
        goto fail;
    if (service_export_filtered(rq->svc, id, filtered ? &q : NULL, rs->file_path, &err) != 0) {
        unlink(rs->file_path); /* a partial export never stays behind */
        rs->file_path[0] = '\0';
        goto fail;
    }
    rs->content_type = "text/csv; charset=utf-8";
    snprintf(rs->disposition, sizeof rs->disposition, "attachment; filename=\"%s\"", name);
    json_decref(run);
    return 0;
fail:
    json_decref(run);
    return args_service_error(rs, API, &err);
}

/* ---- insights and chat ---------------------------------------------------- */

int api_run_insights(struct http_req *rq, struct http_resp *rs)
{
    return answer_get(rq, rs, service_insights);
}

int api_run_chat_history(struct http_req *rq, struct http_resp *rs)
{
    return answer_get(rq, rs, service_chat_history);
}

/* One streamed answer, shared by the job's sink and its done callback (both
 * on the job's thread). */
struct chat_out {
    pthread_mutex_t mu; /* the handler holds it while submitting: job is set before done reads it */
    struct http_stream *st;
    struct service_job *job;
    unsigned char carry[4]; /* the start of a UTF-8 character cut by the last piece */
    size_t ncarry;
};

static int chat_meta(void *ctx, const json_t *meta)
{
    struct chat_out *o = ctx;
    o->ncarry = 0; /* a new provider starts over */
    return http_stream_event(o->st, "meta", meta) != 0;
}

/* The length of the UTF-8 sequence led by b (0: not a lead byte). */
static size_t utf8_len(unsigned char b)
{
    return b < 0x80             ? 1
           : (b & 0xE0) == 0xC0 ? 2
           : (b & 0xF0) == 0xE0 ? 3
           : (b & 0xF8) == 0xF0 ? 4
                                : 0;
}

/*
 * A piece as a token event. Pieces may cut a character in two (a provider
 * splits where it likes): the cut start waits in o->carry for the next
 * piece; bytes that are not UTF-8 at all become U+FFFD, so every token is
 * a valid JSON string.
 */
static int chat_text(void *ctx, const char *piece, size_t len)
{
    struct chat_out *o = ctx;
    size_t n = o->ncarry + len, k = 0, i = 0;
    unsigned char *in = xmalloc(n + 1), *out = xmalloc(3 * n + 1);
    memcpy(in, o->carry, o->ncarry);
    memcpy(in + o->ncarry, piece, len);
    o->ncarry = 0;
    while (i < n) {
        size_t m = utf8_len(in[i]);
        if (m > 0 && i + m > n) { /* cut at the end: keep it for the next piece */
            size_t j = i + 1;
            while (j < n && (in[j] & 0xC0) == 0x80)
                j++;
            if (j == n) {
                memcpy(o->carry, in + i, n - i);
                o->ncarry = n - i;
                break;
            }
        }
        if (m > 0 && i + m <= n && http__utf8_valid(in + i, m)) {
            memcpy(out + k, in + i, m);
            k += m;
            i += m;
        } else {
            memcpy(out + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i++;
        }
    }
    int rc = 0;
    if (k > 0) {
        json_t *j = json_object();
        json_object_set_new(j, "text", json_stringn((const char *)out, k));
        rc = http_stream_event(o->st, "token", j) != 0;
        json_decref(j);
    }
    free(in);
    free(out);
    return rc;
}

/* The chat job ended (its thread): the last event, then the end of the stream. */
static void chat_done(void *ctx)
{
    struct chat_out *o = ctx;
    struct ls_error err = {0};
    json_t *out = NULL, *ev;
    pthread_mutex_lock(&o->mu);
    struct service_job *job = o->job;
    pthread_mutex_unlock(&o->mu);
    if (service_job_result(job, &out, &err) == 0) {
        ev = json_object();
        static const char *const keys[] = {"message_id", "provider", "text",
                                           "took_ms",    "first_ms", NULL};
        for (size_t i = 0; keys[i]; i++) {
            json_t *v = json_object_get(out, keys[i]);
            json_object_set(ev, keys[i], v ? v : json_null());
        }
        http_stream_event(o->st, "done", ev);
    } else {
        ev = json_pack("{s:s,s:s}", "code", ls_err_symbol(err.code), "message",
                       err.msg[0] ? err.msg : ls_err_name(err.code));
        http_stream_event(o->st, "error", ev); /* fails when the client left: nothing to do */
    }
    json_decref(ev);
    json_decref(out);
    http_stream_close(o->st);
    service_job_release(job); /* inside its own callback: freed once this returns */
    pthread_mutex_destroy(&o->mu);
    free(o);
}

int api_run_chat(struct http_req *rq, struct http_resp *rs)
{
    static const char *const keys[] = {"message", NULL};
    struct ls_error err = {0};
    struct args a;
    const json_t *m;
    if (args_body(&a, rq, rs, API, 400, keys, 1) != 0)
        return 0;
    m = json_object_get(a.body, "message");
    if (!json_is_string(m)) {
        args_fail(&a, "message must be a string: the question");
        return 0;
    }
    if (json_string_length(m) > CHAT_QUESTION_MAX) {
        args_fail(&a, "message must be at most %d bytes (got %zu)", CHAT_QUESTION_MAX,
                  json_string_length(m));
        return 0;
    }
    struct chat_out *o = xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->mu, NULL);
    o->st = http_resp_stream(rs);
    struct service_chat_sink sink = {.meta = chat_meta, .text = chat_text, .ctx = o};
    pthread_mutex_lock(&o->mu);
    int rc = service_chat_submit(rq->svc, rq->ids[0], json_string_value(m), &sink, chat_done, o,
                                 &o->job, &err);
    pthread_mutex_unlock(&o->mu);
    if (rc != 0) { /* no job: the stream is never answered */
        http_stream_close(o->st);
        pthread_mutex_destroy(&o->mu);
        free(o);
        if (err.code == LS_ELIMIT) /* a question too long is a bad request, like an empty one */
            return http_error(rs, API, 400, LS_EINPUT, err.msg);
        return args_service_error(rs, API, &err);
    }
    return 0;
}

/* ---- real-time scoring ---------------------------------------------------- */

int api_score(struct http_req *rq, struct http_resp *rs)
{
    static const char *const keys[] = {"model_id", "leads", NULL};
    struct ls_error err = {0};
    struct args a;
    int64_t model_id = 0;
    json_t *out = NULL;
    if (args_body(&a, rq, rs, API, 400, keys, 1) != 0 || args_id(&a, "model_id", 1, &model_id) != 0)
        return 0;
    const json_t *leads = json_object_get(a.body, "leads");
    if (!json_is_array(leads)) {
        args_fail(&a, "leads must be an array of objects {column: value}");
        return 0;
    }
    if (json_array_size(leads) < 1 || json_array_size(leads) > SERVICE_SCORE_MAX_LEADS) {
        args_fail(&a, "leads must hold 1 to %d leads (got %zu)", SERVICE_SCORE_MAX_LEADS,
                  json_array_size(leads));
        return 0;
    }
    if (service_score(rq->svc, model_id, leads, &out, &err) != 0)
        return args_service_error(rs, API, &err);
    rs->json = out;
    return 0;
}

/* ---- the OpenAPI document --------------------------------------------------- */

/* openapi.json, embedded at build time (cmake/embed.cmake) */
extern const unsigned char ls_openapi_json[];
extern const size_t ls_openapi_json_len;

int api_openapi(struct http_req *rq, struct http_resp *rs)
{
    (void)rq;
    rs->body = xmalloc(ls_openapi_json_len);
    memcpy(rs->body, ls_openapi_json, ls_openapi_json_len);
    rs->body_len = ls_openapi_json_len;
    rs->content_type = "application/json";
    return 0;
}
