/*
 * server.c — libmicrohttpd underneath the route table.
 *
 * The daemon runs a pool of cfg->threads server threads on epoll, each
 * owning its connections. A request goes through three moments:
 *
 *  1. the URI log callback (the request line has been read) makes its
 *     struct http__conn and keeps the raw target, so the path and query are
 *     decoded by us (route.c), with our limits, not by libmicrohttpd;
 *  2. the first call of the access handler (headers read) decides
 *     everything that needs no body: the path, the route (404 / 405 with
 *     Allow, in the route's style), CORS preflights, the bearer token, and
 *     the body's admissibility — a body on a route that takes none (400),
 *     a JSON body over 10 MB or an upload over the limit by its
 *     Content-Length (413), an upload without one (411) or not multipart
 *     (415). These refusals are queued at once so no byte of an oversized
 *     body is read (libmicrohttpd then closes the connection). Anything
 *     else returns MHD_YES first and answers on a later call: queueing in
 *     the first call would cost the keep-alive;
 *  3. the body's pieces (a JSON body is gathered under its cap, an upload
 *     streams to disk in upload.c), then the call with no data left, where
 *     the handler runs and its struct http_resp becomes the response.
 *
 * A handler that started a job returns HTTP_PENDING: the connection is
 * suspended (no server thread waits) until the job's done callback, on a
 * worker thread, resumes it; the next call runs rs->finish. The race
 * between the callback and the suspension is closed by c->mu: the handler
 * thread suspends under the lock only when the callback has not run yet,
 * and the callback resumes under the lock only a connection that is
 * suspended. A suspended connection is never timed out or closed by
 * libmicrohttpd, so the request context outlives the callback; the
 * request-completed callback takes the lock once before freeing it, so a
 * callback still returning from MHD_resume_connection is never freed under.
 *
 * Stopping (SIGINT / SIGTERM in cmd_serve): the listening socket closes
 * (quiesce), every response from then on says Connection: close, and the
 * server waits until no request is in flight — suspended ones until their
 * job ends, others up to STOP_GRACE_S — before MHD_stop_daemon. Then the
 * caller closes the service, which lets queued jobs finish.
 *
 * A handler may answer with a stream (http_resp_stream, stream.c): the
 * response is read from the stream's buffer as the producer fills it, and
 * the connection is suspended while the buffer is empty. Stopping ends
 * every stream first (a last error event, then the end), so no stream
 * connection is left suspended and no client waits on a server going away.
 *
 * POST /chat (HTTP_BODY_JSON_ANY) never gets a 400, 413 or 415 for its
 * body: the handler is called with rq->body_error instead and answers 200
 * with words, as the old client expects.
 *
 * Every request is logged on stderr in one line: method, path (no query:
 * values may be secrets), status and milliseconds.
 */
#include "http/handlers.h"
#include "http/internal.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_GRACE_S         30  /* seconds a non-job request may take to finish at stop */
#define CONNECTION_TIMEOUT_S 120 /* idle seconds before a connection is closed */
#define CONNECTION_LIMIT     1000
#define CORS_MAX_AGE         "600"
#define URI_MAX              (HTTP_PATH_MAX * 4)

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_config cfg;
    struct service *svc;
    char web_dir[PATH_MAX]; /* realpath of cfg.web_dir, "" when none */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned active;    /* requests between the URI callback and completion */
    unsigned suspended; /* of which waiting for a job */
    int stopping;
    struct http__streams streams; /* the streams being answered */
};

static struct timespec started_at;

double http__uptime(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - started_at.tv_sec) +
           (double)(now.tv_nsec - started_at.tv_nsec) / 1e9;
}

/* ---- the request's context ---------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    struct http__conn *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    size_t n = strnlen(uri, URI_MAX + 1);
    c->uri = n > URI_MAX ? NULL : xstrndup(uri, n); /* NULL: 414 */
    c->rs.status = 200;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_lock(&srv->mu);
    srv->active++;
    pthread_mutex_unlock(&srv->mu);
    return c;
}

/* The log's path: printable, cut at 200 bytes. */
static void log_path(const char *p, char *out, size_t cap)
{
    size_t k = 0;
    for (; p && *p && *p != '?' && k + 5 < cap && k < 200; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7F || ch == '"' || ch == '\\')
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
        else
            out[k++] = (char)ch;
    }
    out[k] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct http__conn *c = *con_cls;
    (void)conn;
    if (!c)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms =
        (double)(now.tv_sec - c->t0.tv_sec) * 1e3 + (double)(now.tv_nsec - c->t0.tv_nsec) / 1e6;
    char path[1024];
    log_path(c->uri ? c->uri : "(too long)", path, sizeof path);
    if (c->answered)
        fprintf(stderr, "%s %s %d %.1fms%s\n", c->method[0] ? c->method : "-", path, c->status, ms,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (client gone)");
    else
        fprintf(stderr, "%s %s - %.1fms (no answer: client gone)\n", c->method[0] ? c->method : "-",
                path, ms);

    /* A job callback may still be returning from MHD_resume_connection:
     * taking the lock once waits for it to let go. */
    pthread_mutex_lock(&c->mu);
    pthread_mutex_unlock(&c->mu);
    /* A job still here ended, or was never waited for; once released its
     * callback is not running and never will be (service.h). */
    service_job_release(c->rs.job);
    c->rs.job = NULL;
    http__stream_drop(c->rs.stream); /* made, never answered: its producer's writes fail */
    c->rs.stream = NULL;
    pthread_mutex_destroy(&c->mu);
    http__upload_free(c);
    http_params_cleanup(c->rq.params, c->rq.nparams);
    json_decref(c->rq.json);
    json_decref(c->rs.json);
    free(c->rs.body);
    if (c->rs.file_path[0])
        unlink(c->rs.file_path);
    free(c->body);
    free(c->path);
    free(c->uri);
    int pending = c->pending;
    free(c);
    *con_cls = NULL;
    pthread_mutex_lock(&srv->mu);
    srv->active--;
    if (pending) /* resumed, but closed before the handler was called again */
        srv->suspended--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

/* ---- responses ----------------------------------------------------------- */

static const char *method_list(unsigned m, char *out, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HTTP_GET, "GET"},        {HTTP_HEAD, "HEAD"},   {HTTP_POST, "POST"},
                 {HTTP_PUT, "PUT"},        {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"},
                 {HTTP_OPTIONS, "OPTIONS"}};
    size_t k = 0;
    out[0] = '\0';
    if (m & HTTP_GET)
        m |= HTTP_HEAD;
    m |= HTTP_OPTIONS;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m & names[i].bit)
            k += (size_t)snprintf(out + k, cap - k, "%s%s", k ? ", " : "", names[i].name);
    return out;
}

static int is_api(const char *path)
{
    return path && (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0);
}

/* Headers every answer carries: security, CORS, Connection: close at stop. */
static void common_headers(struct http__conn *c, struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (!c->streaming && (c->route || is_api(c->path) || !c->path))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (c->cors) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", c->origin);
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "Content-Disposition, Retry-After");
    }
    if (c->srv->cfg.ncors)
        MHD_add_response_header(r, "Vary", "Origin");
    if (__atomic_load_n(&c->srv->stopping, __ATOMIC_RELAXED))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result queue(struct http__conn *c, int status, struct MHD_Response *r)
{
    common_headers(c, r);
    c->answered = 1;
    c->status = status;
    enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Response *json_response(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_REAL_PRECISION(10) | JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s)
        s = xstrdup("{\"error\":{\"code\":\"IO\",\"message\":\"response could not be encoded\"}}");
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

/* Answer an error in style with the given status, code and message. */
static enum MHD_Result answer_error(struct http__conn *c, enum http_style style, int status,
                                    int code, const char *msg, const char *allow)
{
    struct http_resp rs = {0};
    http_error(&rs, style, status, code, msg);
    struct MHD_Response *r = json_response(rs.json);
    json_decref(rs.json);
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (rs.status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"leadscore\"");
    if (rs.retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", rs.retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    return queue(c, rs.status, r);
}

/* The handler's struct http_resp as a response. */
static enum MHD_Result answer(struct http__conn *c)
{
    struct http_resp *rs = &c->rs;
    struct MHD_Response *r = NULL;
    int status = rs->status > 0 ? rs->status : 200;
    if (!rs->json && !rs->body && !rs->file_path[0] && status >= 400)
        http_error(rs, c->style, status, LS_EIO, NULL);
    if (rs->stream && !rs->json && !rs->body && !rs->file_path[0] && status < 300) {
        struct http_stream *st = rs->stream;
        rs->stream = NULL; /* the response's now */
        r = http__stream_response(&c->srv->streams, st, c->conn);
        if (!r)
            return answer_error(c, c->style, 500, LS_ENOMEM, "cannot start the stream", NULL);
        c->streaming = 1;
        return queue(c, 200, r);
    }
    http__stream_drop(rs->stream); /* an error filled in after the stream wins */
    rs->stream = NULL;
    if (rs->json) {
        r = json_response(rs->json);
    } else if (rs->body) {
        r = MHD_create_response_from_buffer(rs->body_len, rs->body, MHD_RESPMEM_MUST_FREE);
        rs->body = NULL;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rs->content_type ? rs->content_type : "application/octet-stream");
    } else if (rs->file_path[0]) {
        int fd = open(rs->file_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        unlink(rs->file_path); /* the open file lives on until sent */
        rs->file_path[0] = '\0';
        if (fd < 0 || fstat(fd, &st) != 0) {
            if (fd >= 0)
                close(fd);
            return answer_error(c, c->style, 500, LS_EIO, "the response file is gone", NULL);
        }
        r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        if (!r) {
            close(fd);
            return answer_error(c, c->style, 500, LS_EIO, "cannot send the response file", NULL);
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rs->content_type ? rs->content_type : "application/octet-stream");
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (rs->disposition[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, rs->disposition);
    if (status == 503 && rs->retry_after <= 0)
        rs->retry_after = 1;
    if (rs->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", rs->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    return queue(c, status, r);
}

/* ---- request checks ------------------------------------------------------- */

static enum http_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum http_method bit;
    } methods[] = {{"GET", HTTP_GET},        {"POST", HTTP_POST},   {"DELETE", HTTP_DELETE},
                   {"PUT", HTTP_PUT},        {"PATCH", HTTP_PATCH}, {"HEAD", HTTP_HEAD},
                   {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode the path part of the target (no '+' rule in paths);
 * refuses bad escapes and NUL. */
static int decode_path(const char *uri, size_t n, char **out)
{
    char *d = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = uri[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hexval(uri[i + 1]) : -1, lo = i + 2 < n ? hexval(uri[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return -1;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0') {
            free(d);
            return -1;
        }
        d[k++] = ch;
    }
    d[k] = '\0';
    *out = d;
    return 0;
}

/* Is the bearer token right? Constant time in the token's bytes. */
static int token_ok(struct http__conn *c)
{
    const char *tok = c->srv->cfg.token;
    const char *h =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(tok), m = strlen(h);
    /* compare n bytes whatever m is, so the time says nothing about the token */
    const char *cmp = m == n ? h : tok;
    int eq = CRYPTO_memcmp(cmp, tok, n) == 0;
    return eq && m == n;
}

static void check_cors(struct http__conn *c)
{
    const char *o = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Origin");
    if (!o)
        return;
    for (size_t i = 0; i < c->srv->cfg.ncors; i++)
        if (strcmp(o, c->srv->cfg.cors[i]) == 0 || strcmp(c->srv->cfg.cors[i], "*") == 0) {
            c->cors = 1;
            c->origin = o; /* lives as long as the request */
            return;
        }
}

/*
 * CORS only hides answers: a page on another site can still make a browser
 * *send* a simple POST (a form, a multipart upload) to this server. So a
 * request that changes something, from a browser page whose origin is
 * neither this server nor one --cors-origin allows, is refused before it
 * does anything. Requests without an Origin (curl, a CRM, the old client
 * served from our own address) are not affected.
 */
static int foreign_origin(struct http__conn *c, enum http_method m)
{
    if (c->cors || m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS)
        return 0;
    const char *o = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Origin");
    if (!o)
        return 0;
    const char *host = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Host");
    const char *rest = strncmp(o, "http://", 7) == 0    ? o + 7
                       : strncmp(o, "https://", 8) == 0 ? o + 8
                                                        : NULL;
    return !host || !rest || strcmp(rest, host) != 0;
}

static enum MHD_Result answer_options(struct http__conn *c, unsigned methods)
{
    char allow[96];
    method_list(methods, allow, sizeof allow);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (c->cors) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", allow);
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, Accept");
        MHD_add_response_header(r, "Access-Control-Max-Age", CORS_MAX_AGE);
    }
    return queue(c, 204, r);
}

/* Every method some route takes on path (0: no route has the path). */
static unsigned path_methods(const char *path)
{
    unsigned all = 0;
    for (const struct http_route *r = http_routes; r->pattern; r++) {
        const struct http_route one[2] = {*r, {0, NULL, NULL, HTTP_BODY_NONE, HTTP_STYLE_API, 0}};
        const struct http_route *x;
        int64_t ids[2];
        size_t n;
        if (http_route_match(one, (enum http_method)r->methods, path, &x, ids, &n, NULL) == 0)
            all |= r->methods;
    }
    return all;
}

static uint64_t content_length(struct http__conn *c, int *has)
{
    const char *v =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    *has = 0;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *v == '-')
        return UINT64_MAX;
    *has = 1;
    return n;
}

/* ---- jobs ----------------------------------------------------------------- */

/* The job's done callback, on a worker thread. */
static void on_job_done(void *ctx)
{
    struct http__conn *c = ctx;
    pthread_mutex_lock(&c->mu);
    enum http__job_state was = c->job_state;
    c->job_state = HTTP__JOB_DONE;
    if (was == HTTP__JOB_SUSPENDED)
        MHD_resume_connection(c->conn);
    pthread_mutex_unlock(&c->mu);
}

/* The handler returned HTTP_PENDING: suspend unless the job already ended. */
static enum MHD_Result suspend_or_finish(struct http__conn *c);

static enum MHD_Result finish_job(struct http__conn *c)
{
    struct http_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    srv->suspended--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    c->pending = 0;
    int rc = c->rs.finish ? c->rs.finish(&c->rq, &c->rs)
                          : http_error(&c->rs, c->style, 500, LS_EIO, "job without a finish");
    service_job_release(c->rs.job); /* finished: freed now */
    c->rs.job = NULL;
    if (rc == HTTP_PENDING) /* a job chained after the first is not supported */
        http_error(&c->rs, c->style, 500, LS_EIO, "a finish asked to wait again");
    else if (rc < 0 && c->rs.status < 400 && !c->rs.json)
        http_error(&c->rs, c->style, 0, rc, NULL);
    return answer(c);
}

static enum MHD_Result suspend_or_finish(struct http__conn *c)
{
    struct http_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    srv->suspended++;
    pthread_mutex_unlock(&srv->mu);
    c->pending = 1;
    pthread_mutex_lock(&c->mu);
    if (c->job_state == HTTP__JOB_DONE) {
        pthread_mutex_unlock(&c->mu);
        return finish_job(c);
    }
    MHD_suspend_connection(c->conn);
    c->job_state = HTTP__JOB_SUSPENDED;
    pthread_mutex_unlock(&c->mu);
    return MHD_YES;
}

/* ---- the handler call ----------------------------------------------------- */

static enum MHD_Result run_handler(struct http__conn *c)
{
    struct http_req *rq = &c->rq;
    struct ls_error err;
    ls_error_clear(&err);
    if (c->route->body == HTTP_BODY_JSON && c->body_len > 0) {
        if (http_json_parse(c->body, c->body_len, &rq->json, &err) != 0)
            return answer_error(c, c->style, 0, err.code, err.msg, NULL);
    }
    if (c->route->body == HTTP_BODY_JSON_ANY) {
        if (c->soft_error)
            rq->body_error = c->soft_error;
        else if (c->body_len > 0 && http_json_parse(c->body, c->body_len, &rq->json, &err) != 0)
            rq->body_error = err.msg; /* lives until the handler returns */
    }
    if (c->route->body == HTTP_BODY_UPLOAD) {
        if (http__upload_end(c) != 0)
            return answer_error(c, c->style, c->early_status, c->early_code, c->early_msg, NULL);
        rq->upload = &c->upload;
    }
    rq->done = on_job_done;
    rq->done_ctx = c;
    int rc = c->route->handler(rq, &c->rs);
    rq->body_error = NULL;
    if (rq->upload) {
        /* The service moved or removed the file; a handler that failed
         * before reaching the service leaves it, and it goes here. */
        if (rc != HTTP_PENDING && c->upload.tmp_path[0])
            unlink(c->upload.tmp_path);
        c->upload.tmp_path[0] = '\0';
    }
    if (rc == HTTP_PENDING && c->rs.job)
        return suspend_or_finish(c);
    if (rc == HTTP_PENDING)
        http_error(&c->rs, c->style, 500, LS_EIO, "a handler waited without a job");
    else if (c->rs.job) { /* a handler that submitted and then failed: the job runs on */
        service_job_release(c->rs.job);
        c->rs.job = NULL;
    }
    if (rc < 0 && c->rs.status < 400 && !c->rs.json)
        http_error(&c->rs, c->style, 0, rc, NULL);
    return answer(c);
}

/* The first call: everything decided from the request line and headers.
 * Returns 1 when an answer was queued (*ret set), 0 to go on. */
/* Refuse the request. With no body coming, the answer waits for the next
 * call (answering in the first call would close a keep-alive connection);
 * with one, it goes now and the body is never read. */
static enum MHD_Result refuse(struct http__conn *c, enum http_style style, int status, int code,
                              const char *msg, const char *allow)
{
    if (c->body_coming)
        return answer_error(c, style, status, code, msg, allow);
    c->defer = 1;
    c->defer_style = style;
    c->early_status = status;
    c->early_code = code;
    if (msg != c->early_msg) /* a caller may pass the message it already wrote there */
        snprintf(c->early_msg, sizeof c->early_msg, "%s", msg);
    if (allow != c->defer_allow)
        snprintf(c->defer_allow, sizeof c->defer_allow, "%s", allow ? allow : "");
    return MHD_YES;
}

static enum MHD_Result refuse_options(struct http__conn *c, unsigned methods)
{
    if (c->body_coming)
        return answer_options(c, methods);
    c->defer = 2;
    c->defer_methods = methods;
    return MHD_YES;
}

static enum MHD_Result answer_deferred(struct http__conn *c)
{
    if (c->defer == 2)
        return answer_options(c, c->defer_methods);
    return answer_error(c, c->defer_style, c->early_status, c->early_code, c->early_msg,
                        c->defer_allow[0] ? c->defer_allow : NULL);
}

static int first_call(struct http__conn *c, const char *method, enum MHD_Result *ret)
{
    struct http_server *srv = c->srv;
    snprintf(c->method, sizeof c->method, "%s", method);
    {
        int has;
        uint64_t n = content_length(c, &has);
        c->body_coming = (has && n > 0) ||
                         MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    }
    c->style = HTTP_STYLE_COMPAT;
    if (!c->uri) {
        *ret = refuse(c, HTTP_STYLE_COMPAT, 414, LS_ELIMIT, "request target too long", NULL);
        return 1;
    }
    const char *q = strchr(c->uri, '?');
    size_t plen = q ? (size_t)(q - c->uri) : strlen(c->uri);
    if (plen > HTTP_PATH_MAX) {
        *ret = refuse(c, HTTP_STYLE_COMPAT, 414, LS_ELIMIT, "path too long", NULL);
        return 1;
    }
    if (decode_path(c->uri, plen, &c->path) != 0 || c->path[0] != '/') {
        *ret = refuse(c, is_api(c->uri) ? HTTP_STYLE_API : HTTP_STYLE_COMPAT, 400, LS_EINPUT,
                      "bad path (an escape or a NUL byte)", NULL);
        return 1;
    }
    c->style = is_api(c->path) ? HTTP_STYLE_API : HTTP_STYLE_COMPAT;
    check_cors(c);

    enum http_method m = parse_method(method);
    if (foreign_origin(c, m)) {
        *ret = refuse(c, c->style, 403, LS_EAUTH,
                      "a page from another origin may not change anything here "
                      "(serve --cors-origin allows an origin)",
                      NULL);
        return 1;
    }
    const struct http_route *route = NULL;
    unsigned allowed = 0;
    int64_t ids[2] = {0, 0};
    size_t nids = 0;
    if (m == HTTP_OPTIONS) { /* preflights carry no token: answer for any known path */
        unsigned all = path_methods(c->path);
        if (all || !is_api(c->path)) {
            *ret = refuse_options(c, all ? all : HTTP_GET);
            return 1;
        }
        *ret = refuse(c, HTTP_STYLE_API, 404, LS_ENOT_FOUND, "no such route", NULL);
        return 1;
    }
    enum http_method look = m == HTTP_HEAD ? HTTP_GET : m;
    int mrc =
        m ? http_route_match(http_routes, look, c->path, &route, ids, &nids, &allowed) : LS_EMETHOD;
    if (mrc == LS_EMETHOD && !allowed) /* a method we do not know, on a known path */
        allowed = path_methods(c->path);
    if (mrc == 0) {
        c->route = route;
        c->style = route->style;
    }

    /* The token, before saying whether an /api/ path exists. */
    int needs_token =
        srv->cfg.token && (c->route ? !c->route->open : is_api(c->path) || allowed != 0);
    if (needs_token && !token_ok(c)) {
        *ret = refuse(c, c->style, 401, LS_EAUTH,
                      "missing or wrong token: send Authorization: Bearer TOKEN", NULL);
        return 1;
    }
    if (mrc == LS_EMETHOD && allowed) {
        char allow[96];
        *ret = refuse(c, c->style, 405, LS_EMETHOD, "method not allowed",
                      method_list(allowed, allow, sizeof allow));
        return 1;
    }
    if (!c->route) {
        if (is_api(c->path)) {
            *ret = refuse(c, HTTP_STYLE_API, 404, LS_ENOT_FOUND, "no such route", NULL);
            return 1;
        }
        if (m != HTTP_GET && m != HTTP_HEAD) {
            *ret = refuse(c, HTTP_STYLE_COMPAT, 405, LS_EMETHOD, "Method Not Allowed",
                          "GET, HEAD, OPTIONS");
            return 1;
        }
        return 0; /* a static file, answered on the next call */
    }

    c->rq.method = m == HTTP_HEAD ? HTTP_GET : m;
    c->rq.ids[0] = ids[0], c->rq.ids[1] = ids[1];
    c->rq.nids = nids;
    c->rq.svc = srv->svc;
    c->rq.cfg = &srv->cfg;
    c->rq.path = c->path;
    struct ls_error err;
    ls_error_clear(&err);
    if (q && http_query_parse(q + 1, c->rq.params, &c->rq.nparams, &err) != 0) {
        *ret = refuse(c, c->style, 0, err.code, err.msg, NULL);
        return 1;
    }

    int has_len;
    uint64_t len = content_length(c, &has_len);
    const char *te =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    int has_body = (has_len && len > 0) || te != NULL;
    if (len == UINT64_MAX) {
        *ret = refuse(c, c->style, 400, LS_EINPUT, "bad Content-Length", NULL);
        return 1;
    }
    switch (route->body) {
    case HTTP_BODY_NONE:
        if (has_body) {
            *ret = refuse(c, c->style, 400, LS_EINPUT, "this route takes no request body", NULL);
            return 1;
        }
        break;
    case HTTP_BODY_JSON_ANY:
        if (has_len && len > HTTP_JSON_MAX) {
            c->soft_error = "the body is over 10 MB";
            if (c->body_coming) { /* answered now: not a byte of it is read */
                *ret = run_handler(c);
                return 1;
            }
        }
        {
            const char *ct =
                MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
            if (has_body && (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
                             (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')))
                c->soft_error = "the body was not sent as Content-Type: application/json";
        }
        break;
    case HTTP_BODY_JSON: {
        if (has_len && len > HTTP_JSON_MAX) {
            *ret = refuse(c, c->style, 413, LS_ELIMIT, "JSON body over 10 MB", NULL);
            return 1;
        }
        const char *ct =
            MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        /* A JSON type makes a browser ask first (CORS preflight): a page on
         * another site cannot post a text/plain "form" at the API. */
        if (has_body && (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
                         (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))) {
            *ret = refuse(c, c->style, 415, LS_EMEDIA,
                          "send the body as Content-Type: application/json", NULL);
            return 1;
        }
        break;
    }
    case HTTP_BODY_UPLOAD:
        if (!has_len) {
            *ret = refuse(c, c->style, 411, LS_ELENGTH, "an upload needs a Content-Length header",
                          NULL);
            return 1;
        }
        if (len > srv->cfg.upload_max) {
            char msg[128];
            snprintf(msg, sizeof msg, "upload over the limit of %llu bytes",
                     (unsigned long long)srv->cfg.upload_max);
            *ret = refuse(c, c->style, 413, LS_ELIMIT, msg, NULL);
            return 1;
        }
        if (http__upload_begin(c) != 0) {
            *ret = refuse(c, c->style, c->early_status, c->early_code, c->early_msg, NULL);
            return 1;
        }
        break;
    }
    return 0;
}

static void gather_json(struct http__conn *c, const char *data, size_t n)
{
    if (c->early_status)
        return;
    if (c->body_len + n > HTTP_JSON_MAX) {
        c->early_status = 413;
        c->early_code = LS_ELIMIT;
        snprintf(c->early_msg, sizeof c->early_msg, "JSON body over 10 MB");
        free(c->body);
        c->body = NULL;
        c->body_len = c->body_cap = 0;
        return;
    }
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        c->body = xrealloc(c->body, cap);
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http__conn *c = *con_cls;
    (void)url, (void)version;
    if (!c) /* the URI callback always runs first; be safe anyway */
        return MHD_NO;
    if (c->answered) { /* an early refusal: drop what still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->defer) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return answer_deferred(c);
    }
    if (!c->started) {
        enum MHD_Result ret = MHD_YES;
        c->started = 1;
        if (first_call(c, method, &ret))
            return ret;
        return MHD_YES; /* answer on a later call: keeps the connection alive */
    }
    if (c->pending) { /* resumed: the job ended */
        pthread_mutex_lock(&c->mu);
        int done = c->job_state == HTTP__JOB_DONE;
        pthread_mutex_unlock(&c->mu);
        if (!done)
            return MHD_YES;
        return finish_job(c);
    }
    if (*upload_data_size > 0) {
        if (c->route && c->route->body == HTTP_BODY_UPLOAD)
            http__upload_feed(c, upload_data, *upload_data_size);
        else if (c->route && (c->route->body == HTTP_BODY_JSON ||
                              (c->route->body == HTTP_BODY_JSON_ANY && !c->soft_error)))
            gather_json(c, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!c->route) { /* a static file, or the root's JSON */
        int status = 404;
        struct MHD_Response *r = http__static(srv->web_dir, c->path, &status);
        if (r)
            return queue(c, status, r);
        if (strcmp(c->path, "/") == 0 && status == 404) {
            c->rq.svc = srv->svc;
            c->rq.cfg = &srv->cfg;
            c->rq.path = c->path;
            c->rq.method = HTTP_GET;
            compat_root(&c->rq, &c->rs);
            return answer(c);
        }
        return answer_error(c, HTTP_STYLE_COMPAT, status, status == 400 ? LS_EINPUT : LS_ENOT_FOUND,
                            status == 400 ? "bad path" : "Not Found", NULL);
    }
    if (c->early_status && c->route->body == HTTP_BODY_JSON_ANY) {
        c->soft_error = "the body is over 10 MB";
        c->early_status = 0;
    }
    if (c->early_status)
        return answer_error(c, c->style, c->early_status, c->early_code, c->early_msg, NULL);
    return run_handler(c);
}

/* ---- start and stop --------------------------------------------------------- */

static int host_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, int *v6,
                     int *loopback)
{
    memset(ss, 0, sizeof *ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *v6 = 0;
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *v6 = 1;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return -1;
}

int http_server_start(const struct http_config *cfg, struct service *svc, struct http_server **out,
                      uint16_t *port_out, struct ls_error *err)
{
    int rc = 0;
    struct http_server *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    srv->svc = svc;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    http__streams_init(&srv->streams);
    if (!srv->cfg.host)
        srv->cfg.host = "127.0.0.1";
    if (!srv->cfg.upload_max)
        srv->cfg.upload_max = HTTP_UPLOAD_MAX;
    if (srv->cfg.threads == 0)
        srv->cfg.threads = 2;
    if (srv->cfg.token && !srv->cfg.token[0])
        srv->cfg.token = NULL;
    struct sockaddr_storage ss;
    int v6 = 0, loopback = 0;
    if (host_addr(srv->cfg.host, cfg->port, &ss, &v6, &loopback) != 0) {
        rc = ls_error_set(err, LS_EUSAGE, "--host must be an IP address (not '%s')", srv->cfg.host);
        goto out;
    }
    if (!loopback && !srv->cfg.token) {
        rc = ls_error_set(err, LS_EUSAGE,
                          "refusing to serve on %s without a token: set LEADSCORE_API_TOKEN "
                          "(clients then send Authorization: Bearer TOKEN), or bind 127.0.0.1",
                          srv->cfg.host);
        goto out;
    }
    if (srv->cfg.web_dir && srv->cfg.web_dir[0] && !realpath(srv->cfg.web_dir, srv->web_dir))
        srv->web_dir[0] = '\0'; /* no web app: the API alone */
    clock_gettime(CLOCK_MONOTONIC, &started_at);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128u << 10), MHD_OPTION_END);
    if (!srv->daemon) {
        rc = ls_error_set(err, LS_EIO, "cannot listen on %s:%u (address in use, or not ours?)",
                          srv->cfg.host, (unsigned)cfg->port);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : cfg->port;
    *out = srv;
    srv = NULL;
out:
    if (srv) {
        pthread_mutex_destroy(&srv->mu);
        pthread_cond_destroy(&srv->cv);
        http__streams_destroy(&srv->streams);
        free(srv);
    }
    return rc;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELAXED);
    MHD_socket ls = MHD_quiesce_daemon(srv->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    /* streams first: each gets a last event and ends, its connection resumed
     * (a producer may run for a model's whole timeout; nobody waits for it) */
    http__streams_stop(&srv->streams);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += STOP_GRACE_S;
    pthread_mutex_lock(&srv->mu);
    /* Jobs end on their own: every suspended request is waited for (a
     * suspended connection must be resumed before MHD_stop_daemon); the
     * others get STOP_GRACE_S. */
    while (srv->active > 0) {
        if (srv->suspended > 0) {
            pthread_cond_wait(&srv->cv, &srv->mu);
            /* a job just handed its request back: the grace starts again so
             * the answer goes out, however long the job ran (a long run under
             * a sanitizer outlived the first grace and lost its answer) */
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += STOP_GRACE_S;
        } else if (pthread_cond_timedwait(&srv->cv, &srv->mu, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    MHD_stop_daemon(srv->daemon);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    http__streams_destroy(&srv->streams);
    free(srv);
}
