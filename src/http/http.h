/*
 * http.h — the service's HTTP layer: requests and responses as plain data,
 * routes as one table, handlers as plain functions of the request.
 *
 * server.c owns libmicrohttpd: it reads a request, matches it against the
 * route table (routes.c, kore-style: method, path pattern, handler, what
 * body it takes), enforces the limits (JSON bodies 10 MB and depth 64;
 * uploads 200 MB, Content-Length required), streams multipart uploads to a
 * file under the store's tmp/ while hashing them, parses JSON bodies,
 * checks the bearer token and CORS, and only then calls the handler with a
 * struct http_req filled in. The handler fills a struct http_resp (status
 * and a JSON body, or a file to send) by calling src/app/service.h; it
 * never sees libmicrohttpd. Errors are answered in the route's style:
 * {"error": {"code", "message"}} under /api/, {"detail": "..."} on the old
 * system's routes.
 *
 * Jobs (training, scoring) do not hold a server thread: a handler submits
 * one with rq->done / rq->done_ctx as its callback, stores it in rs->job
 * with a finish function, and returns HTTP_PENDING; the server suspends the
 * connection, resumes it when the job calls back, and calls rs->finish to
 * fill the response. finish takes the result (service_job_result) and may
 * release the job (setting rs->job to NULL); a job still in rs->job after
 * finish, or after a handler that did not return HTTP_PENDING, is released
 * by the server.
 * An upload's tmp_path belongs to the handler (the service moves or
 * removes it); one still there when a handler returns is removed.
 *
 * Streams (server-sent events, the chat's answer): a handler calls
 * http_resp_stream, hands the stream to a producer (a job's sink, on a
 * worker thread) and returns 0; the answer is 200 text/event-stream and
 * sends whatever the producer writes (http_stream_event) as it comes, until
 * the producer closes the stream (http_stream_close). The connection holds
 * no server thread while it waits for the next event (it is suspended and
 * resumed by the producer's write). A client that leaves, a client too slow
 * to take what is written (HTTP_STREAM_BUF_MAX bytes waiting for longer
 * than HTTP_STREAM_STALL_MS) or the server stopping make the producer's
 * next write fail, so the producer stops; at stop the client gets a last
 * `error` event (CANCELED) and the end of the stream.
 */
#ifndef LS_HTTP_HTTP_H
#define LS_HTTP_HTTP_H

#include "app/service.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_JSON_MAX   (10u << 20) /* bytes of a JSON body */
#define HTTP_JSON_DEPTH 64
#define HTTP_UPLOAD_MAX (200u << 20) /* bytes of an upload */
#define HTTP_PATH_MAX   2048
#define HTTP_PARAMS_MAX 32
#define HTTP_PARAM_MAX  1024 /* bytes of one decoded query value */
#define HTTP_PENDING    1    /* a handler's "the response comes when the job ends" */

enum http_method {
    HTTP_GET = 1,
    HTTP_POST = 2,
    HTTP_DELETE = 4,
    HTTP_PUT = 8,
    HTTP_PATCH = 16,
    HTTP_OPTIONS = 32,
    HTTP_HEAD = 64,
};

/* What a route reads from the request body. */
enum http_body {
    HTTP_BODY_NONE,   /* a body is refused (400) */
    HTTP_BODY_JSON,   /* a JSON document: rq->json (NULL when the body is empty) */
    HTTP_BODY_UPLOAD, /* multipart/form-data with a field "file": rq->upload */
    /* JSON when it is JSON; otherwise the handler is called all the same,
     * with rq->json NULL and rq->body_error saying why (a body that does not
     * parse, is over HTTP_JSON_MAX, or is not sent as application/json):
     * for the old POST /chat, which always answers 200 with words */
    HTTP_BODY_JSON_ANY,
};

/* How a route answers errors. */
enum http_style {
    HTTP_STYLE_API,    /* {"error": {"code": "NOT_FOUND", "message": "..."}} */
    HTTP_STYLE_COMPAT, /* {"detail": "..."} (the old system's routes) */
};

struct http_param {
    char *name, *value; /* decoded (percent and '+'), NUL-free */
};

struct http_upload {
    char tmp_path[4096]; /* the file as received, under the store's tmp/ */
    char filename[256];  /* the client's file name, sanitised to its base name */
    char fingerprint[65];
    uint64_t bytes;
};

struct http_req {
    enum http_method method;
    const char *path; /* decoded path without the query */
    int64_t ids[2];   /* the {id} / {row} segments of the pattern, in order */
    size_t nids;
    struct http_param params[HTTP_PARAMS_MAX]; /* the query string */
    size_t nparams;
    json_t *json;                  /* HTTP_BODY_JSON routes (borrowed) */
    const char *body_error;        /* HTTP_BODY_JSON_ANY: why there is no rq->json, or NULL */
    struct http_upload *upload;    /* HTTP_BODY_UPLOAD routes (borrowed) */
    struct service *svc;           /* the engine */
    const struct http_config *cfg; /* the server's settings */
    service_done_fn done;          /* pass to service_*_submit ... */
    void *done_ctx;                /* ... with this */
};

struct http_resp;
struct http_stream;
typedef int (*http_finish_fn)(struct http_req *rq, struct http_resp *rs);

struct http_resp {
    int status;   /* 200 unless set */
    json_t *json; /* the body (owned; dumped with JSON_REAL_PRECISION(10)) */
    char *body;   /* or a raw body (owned, malloc'd) ... */
    size_t body_len;
    const char *content_type;   /* ... of this type (static string) */
    char file_path[4096];       /* or a file to send, removed once opened ("" none) */
    char disposition[512];      /* Content-Disposition, "" none */
    int retry_after;            /* seconds, 0: no Retry-After header */
    struct service_job *job;    /* HTTP_PENDING: the job being waited for ... */
    http_finish_fn finish;      /* ... and what fills the response when it ends */
    struct http_stream *stream; /* http_resp_stream: the answer is this stream (the server's
                                 * reference; an error filled in after wins over it) */
};

/* The query value of name, or NULL. */
const char *http_param(const struct http_req *rq, const char *name);

/* Fill rs with an error in the route's style: status ls_err_http_status(code)
 * (or the status given when > 0), code symbol and message. Returns 0. */
int http_error(struct http_resp *rs, enum http_style style, int status, int code,
               const char *message);

/* The error of err (its code's status and symbol, its message). Returns 0. */
int http_error_ls(struct http_resp *rs, enum http_style style, const struct ls_error *err);

/* ---- streams (server-sent events) --------------------------------------- */

#define HTTP_STREAM_BUF_MAX  (256u << 10) /* bytes written and not yet sent, per stream */
#define HTTP_STREAM_STALL_MS 5000         /* a write waits this long for room, then fails */

/*
 * Make rs a stream: the answer is 200 with Content-Type text/event-stream,
 * Cache-Control: no-cache and X-Accel-Buffering: no (a proxy must not hold
 * the events back). Returns the producer's handle, which the producer must
 * close exactly once (http_stream_close), whatever happens. A handler that
 * fails after this fills an error into rs as usual (that error is answered
 * and the stream is never read: its writes fail) and closes the handle
 * itself when no producer got it.
 */
struct http_stream *http_resp_stream(struct http_resp *rs);

/*
 * Write one event: "event: NAME\ndata: JSON\n\n", data dumped compact on one
 * line (a newline in a string is escaped, so text can never end an event
 * early or forge one). Thread-safe; called by the producer's thread. Waits
 * up to HTTP_STREAM_STALL_MS while the stream holds HTTP_STREAM_BUF_MAX
 * unsent bytes. 0, or LS_ECANCELED when the client left, the server is
 * stopping, the client was too slow (it is then disconnected) or the stream
 * was closed; LS_ELIMIT for an event over HTTP_STREAM_BUF_MAX. After a
 * failure every later write fails too.
 */
int http_stream_event(struct http_stream *st, const char *event, const json_t *data);

/* The producer is done: the answer ends after the events written. Frees the
 * producer's handle. Accepts NULL. */
void http_stream_close(struct http_stream *st);

typedef int (*http_handler_fn)(struct http_req *rq, struct http_resp *rs);

struct http_route {
    unsigned methods;    /* enum http_method bits */
    const char *pattern; /* "/api/runs/{id}/leads/{row}": {x} matches a positive integer */
    http_handler_fn handler;
    enum http_body body;
    enum http_style style;
    int open; /* 1: no token needed (health, OpenAPI document) */
};

/* The route table (routes.c), ended by a zero entry. */
extern const struct http_route http_routes[];

/*
 * Match method + path against routes: the route, with its ids in
 * ids[0..*nids). Returns 0 when found, LS_ENOT_FOUND when no pattern
 * matches the path, LS_EMETHOD when one matches but not for this method
 * (*allowed then holds the methods that would). Pure: the fuzz target
 * calls it.
 */
int http_route_match(const struct http_route *routes, enum http_method method, const char *path,
                     const struct http_route **route, int64_t ids[2], size_t *nids,
                     unsigned *allowed);

/* Parse a query string ("a=1&b=x%20y") into params; LS_ELIMIT past
 * HTTP_PARAMS_MAX or HTTP_PARAM_MAX, LS_EINPUT on bad escapes or NUL. Pure. */
int http_query_parse(const char *query, struct http_param *params, size_t *n, struct ls_error *err);
void http_params_cleanup(struct http_param *params, size_t n);

/* Parse a JSON body (≤ HTTP_JSON_MAX bytes, depth ≤ HTTP_JSON_DEPTH, valid
 * UTF-8, no NUL): *out on success; LS_EINPUT with the line and column. Pure. */
int http_json_parse(const char *body, size_t len, json_t **out, struct ls_error *err);

struct http_config {
    const char *host;     /* default 127.0.0.1 */
    uint16_t port;        /* default 8000; 0: any free port (printed) */
    uint32_t threads;     /* server threads (default: cores, at least 2) */
    const char *web_dir;  /* static files (default web/dist beside the binary's source) */
    const char *token;    /* LEADSCORE_API_TOKEN, or NULL */
    const char *cors[16]; /* allowed origins */
    size_t ncors;
    uint64_t upload_max; /* default HTTP_UPLOAD_MAX */
};

struct http_server;

/* Start serving (threads return at once). Errors: LS_EIO (address in use...),
 * LS_EUSAGE (a non-loopback host without a token). *port_out: the bound port. */
int http_server_start(const struct http_config *cfg, struct service *svc, struct http_server **out,
                      uint16_t *port_out, struct ls_error *err);
/* Stop accepting, let in-flight requests finish, resume suspended ones, stop. */
void http_server_stop(struct http_server *srv);

#endif
