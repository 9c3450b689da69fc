/*
 * internal.h — what the HTTP layer's own files share (server.c, upload.c,
 * static.c, route.c, json.c, meta.c) and nothing outside src/http/ sees.
 *
 * One request is a struct http__conn, made when libmicrohttpd has read the
 * request line (the URI log callback), handed to every call of the access
 * handler and freed by the request-completed callback. Its mutex and
 * job_state are the only state a worker thread touches (the job's done
 * callback); everything else belongs to the connection's server thread.
 */
#ifndef LS_HTTP_INTERNAL_H
#define LS_HTTP_INTERNAL_H

#include "http/http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Is p[0..n) valid UTF-8 (no overlong forms, no surrogates, ≤ U+10FFFF)? */
int http__utf8_valid(const unsigned char *p, size_t n);

/* Seconds since the server started (GET /api/health). */
double http__uptime(void);

struct http__upload; /* upload.c */

enum http__job_state {
    HTTP__JOB_NONE,      /* no job, or submitted and not yet ended */
    HTTP__JOB_SUSPENDED, /* the connection waits for the job's done callback */
    HTTP__JOB_DONE,      /* the done callback ran */
};

struct http__conn {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct timespec t0;
    char *uri;       /* the raw request target, as sent */
    char *path;      /* decoded path (no query) */
    char method[16]; /* as sent, for the log */
    int started;     /* the access handler has seen this request */
    int answered;    /* a response was queued */
    int status;      /* the status queued (the log) */
    int pending;     /* waiting for a job */
    int cors;        /* the Origin is an allowed one */
    int streaming;   /* the answer is a stream (its own Cache-Control) */
    const char *origin;
    const struct http_route *route;
    enum http_style style;
    int body_coming; /* Content-Length > 0 or Transfer-Encoding */
    int defer;       /* 1: answer early_* on the next call; 2: answer OPTIONS */
    enum http_style defer_style;
    char defer_allow[96];
    unsigned defer_methods;
    const char *soft_error; /* HTTP_BODY_JSON_ANY: why the body will not be JSON (static) */
    int early_status; /* a refusal decided while the body still arrives (answered at its end) */
    int early_code;
    char early_msg[512];
    char *body; /* a JSON body being read */
    size_t body_len, body_cap;
    struct http__upload *up;
    struct http_upload upload;
    struct http_req rq;
    struct http_resp rs;
    pthread_mutex_t mu; /* guards job_state (the done callback's thread) */
    enum http__job_state job_state;
};

/* ---- upload.c ----------------------------------------------------------- */

/* Start reading a multipart upload into c->upload. 0, or an error code with
 * c->early_* filled (415: not multipart/form-data). */
int http__upload_begin(struct http__conn *c);
/* Feed body bytes. Errors (a write failed, a second file) are recorded in
 * c->early_* and the rest of the body is discarded. */
void http__upload_feed(struct http__conn *c, const char *data, size_t n);
/* The body ended: 0 with c->upload complete, else c->early_* filled and
 * the temp file removed. */
int http__upload_end(struct http__conn *c);
/* Free the upload's state; removes its temp file unless it was handed over. */
void http__upload_free(struct http__conn *c);

/* ---- stream.c ------------------------------------------------------------ */

/* The streams a server is answering, so that stopping can end them all. */
struct http__streams {
    pthread_mutex_t mu;
    struct http_stream *head;
    int stopping; /* streams answered from now on end at once */
};

void http__streams_init(struct http__streams *reg);
void http__streams_destroy(struct http__streams *reg);

/* The response that sends st on conn (200, text/event-stream). It takes over
 * the server's reference, released when the response is destroyed; NULL
 * (and the reference dropped) when libmicrohttpd cannot make one. */
struct MHD_Response *http__stream_response(struct http__streams *reg, struct http_stream *st,
                                           struct MHD_Connection *conn);

/* A stream that is not answered (the handler failed after making it, or the
 * request ended first): its writes fail from now on; the server's reference
 * goes. Accepts NULL. */
void http__stream_drop(struct http_stream *st);

/* Stopping: every stream answered gets a last error event (CANCELED, "the
 * server is stopping") and ends; its connection is resumed if suspended,
 * and the producer's next write fails. Streams answered later end at once. */
void http__streams_stop(struct http__streams *reg);

/* ---- static.c ------------------------------------------------------------ */

/* Answer GET/HEAD of a non-API path from the web folder (web_dir, already
 * resolved by realpath; "" when none). Returns a response and its status,
 * or NULL when the path is no file there and there is no index.html
 * (*status then 404), or NULL with *status 400 for a path that tries to
 * leave the folder. */
struct MHD_Response *http__static(const char *web_dir, const char *path, int *status);

/* The web folder's index.html exists. */
int http__static_has_index(const char *web_dir);

#endif
