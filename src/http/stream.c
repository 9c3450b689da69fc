/*
 * stream.c — answers sent as they are produced: server-sent events.
 *
 * A stream is a bounded byte buffer between a producer (a job's thread,
 * writing events) and libmicrohttpd's content reader (the connection's
 * server thread, sending them), under one mutex. Two references keep it
 * alive: the producer's (until http_stream_close) and the server's (until
 * the response is destroyed, i.e. the connection is done with it, or until
 * the request ends when the stream was never answered).
 *
 * The reader never returns 0 without suspending the connection first: in
 * libmicrohttpd's internal polling modes a content reader that returns 0
 * is called again at once, a busy loop on a server thread for as long as
 * the model thinks. So when the buffer is empty and the stream still open,
 * the reader marks the stream suspended and suspends the connection under
 * the mutex; a write (or the close, or the server's stop) resumes it under
 * the same mutex, only when it is suspended — resuming a connection that is
 * not suspended is undefined. A suspended connection is never timed out by
 * libmicrohttpd and does not notice the client leaving; the next write
 * resumes it, the send fails, the connection closes and the response is
 * destroyed, which marks the stream gone: the write after that fails and
 * the producer stops.
 *
 * Memory is bounded: a write waits (HTTP_STREAM_STALL_MS) while the buffer
 * holds HTTP_STREAM_BUF_MAX unsent bytes, then gives up, marks the stream
 * gone and shuts the connection's socket down. The reader alone could not
 * drop such a client: libmicrohttpd calls it only when the socket can take
 * more, which a client that reads nothing never allows, so the connection
 * would sit there until the idle timeout. shutdown() (not close: the
 * descriptor stays libmicrohttpd's) makes its next send fail and it closes
 * the connection. The descriptor is used only while st->conn is set, and
 * libmicrohttpd destroys the response (stream_released clears st->conn)
 * before it closes the socket, so it is never another connection's.
 *
 * The server lists the streams it is answering (struct http__streams) so
 * that stopping can end every one of them: a last `error` event, the end of
 * the stream, the connection resumed — MHD_stop_daemon must never meet a
 * suspended connection, and a client must never wait on a server that is
 * going away. The list's lock is never held while a stream's lock calls
 * into libmicrohttpd.
 */
#include "http/internal.h"

#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define STREAM_BLOCK 16384 /* bytes libmicrohttpd asks the reader for at most */

struct http_stream {
    pthread_mutex_t mu;
    pthread_cond_t room; /* the reader took bytes, or the stream is gone */
    unsigned refs;
    char *buf; /* unsent bytes are buf[off, len) */
    size_t off, len, cap;
    int closed;    /* no more events: the producer closed it, or the server ended it */
    int gone;      /* the client left, was too slow, or was never answered: writes fail */
    int suspended; /* the reader suspended conn waiting for bytes */
    struct MHD_Connection *conn;
    int fd;                    /* conn's socket (valid while conn is set) */
    struct http__streams *reg; /* the server's list, while answering */
    struct http_stream *prev, *next;
};

static void stream_unref(struct http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    unsigned left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left)
        return;
    pthread_cond_destroy(&st->room);
    pthread_mutex_destroy(&st->mu);
    free(st->buf);
    free(st);
}

/* Under st->mu: let the reader run again when it waits for bytes. */
static void wake_reader(struct http_stream *st)
{
    if (st->suspended) {
        st->suspended = 0;
        MHD_resume_connection(st->conn);
    }
}

/* Under st->mu: append n bytes, growing the buffer (the caller checked the bound). */
static void append(struct http_stream *st, const char *p, size_t n)
{
    if (st->off > 0 && st->len + n > st->cap) { /* slide the unsent bytes to the front */
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
    }
    if (st->len + n > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n)
            cap *= 2;
        st->buf = xrealloc(st->buf, cap);
        st->cap = cap;
    }
    memcpy(st->buf + st->len, p, n);
    st->len += n;
}

struct http_stream *http_resp_stream(struct http_resp *rs)
{
    struct http_stream *st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->room, NULL);
    st->refs = 2; /* the server's (rs->stream) and the producer's */
    st->fd = -1;
    if (rs->stream) /* a second stream replaces the first, which is never answered */
        http__stream_drop(rs->stream);
    rs->stream = st;
    rs->status = 200;
    return st;
}

static int event_name_ok(const char *e)
{
    if (!e || !*e || strlen(e) > 32)
        return 0;
    for (; *e; e++)
        if (!((*e >= 'a' && *e <= 'z') || *e == '_'))
            return 0;
    return 1;
}

int http_stream_event(struct http_stream *st, const char *event, const json_t *data)
{
    int rc = 0;
    char *json = NULL, *ev = NULL;
    if (!st || !event_name_ok(event))
        return LS_EINPUT;
    json = data ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY)
                : xstrdup("{}");
    if (!json)
        return LS_EINPUT;
    size_t jn = strlen(json), en = strlen(event), n = 7 + en + 7 + jn + 2;
    if (n > HTTP_STREAM_BUF_MAX) {
        free(json);
        return LS_ELIMIT;
    }
    ev = xmalloc(n + 1);
    snprintf(ev, n + 1, "event: %s\ndata: %s\n\n", event, json);
    free(json);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HTTP_STREAM_STALL_MS / 1000;
    deadline.tv_nsec += (long)(HTTP_STREAM_STALL_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    while (!st->gone && !st->closed && st->len - st->off + n > HTTP_STREAM_BUF_MAX) {
        if (pthread_cond_timedwait(&st->room, &st->mu, &deadline) == ETIMEDOUT &&
            st->len - st->off + n > HTTP_STREAM_BUF_MAX) {
            /* the client takes nothing: drop it rather than hold more */
            st->gone = 1;
            if (st->conn) {
                if (st->fd >= 0)
                    shutdown(st->fd, SHUT_RDWR);
                wake_reader(st);
            }
        }
    }
    if (st->gone || st->closed) {
        rc = LS_ECANCELED;
    } else {
        append(st, ev, n);
        if (st->conn)
            wake_reader(st);
    }
    pthread_mutex_unlock(&st->mu);
    free(ev);
    return rc;
}

void http_stream_close(struct http_stream *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->closed = 1;
    if (st->conn)
        wake_reader(st);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

/* ---- the server's side ---------------------------------------------------- */

void http__streams_init(struct http__streams *reg)
{
    memset(reg, 0, sizeof *reg);
    pthread_mutex_init(&reg->mu, NULL);
}

void http__streams_destroy(struct http__streams *reg)
{
    pthread_mutex_destroy(&reg->mu);
}

/* libmicrohttpd's content reader, on the connection's server thread. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_stream *st = cls;
    ssize_t n;
    (void)pos;
    pthread_mutex_lock(&st->mu);
    if (st->gone) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (st->off < st->len) {
        size_t k = st->len - st->off;
        if (k > max)
            k = max;
        memcpy(out, st->buf + st->off, k);
        st->off += k;
        if (st->off == st->len)
            st->off = st->len = 0;
        pthread_cond_broadcast(&st->room);
        n = (ssize_t)k;
    } else if (st->closed) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* nothing yet: park the connection until a write resumes it (a bare
         * 0 would have this thread call again at once, forever) */
        st->suspended = 1;
        MHD_suspend_connection(st->conn);
        n = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

static void list_remove(struct http__streams *reg, struct http_stream *st)
{
    pthread_mutex_lock(&reg->mu);
    if (st->prev)
        st->prev->next = st->next;
    else if (reg->head == st)
        reg->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
    pthread_mutex_unlock(&reg->mu);
}

/* The response is destroyed: the connection is done with the stream. */
static void stream_released(void *cls)
{
    struct http_stream *st = cls;
    if (st->reg)
        list_remove(st->reg, st);
    pthread_mutex_lock(&st->mu);
    st->gone = 1; /* the producer's next write fails: it stops */
    st->suspended = 0;
    st->conn = NULL;
    pthread_cond_broadcast(&st->room);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

/* Under st->mu: the server ends the stream with a last error event. */
static void end_by_server(struct http_stream *st)
{
    static const char last[] =
        "event: error\ndata: {\"code\":\"CANCELED\",\"message\":\"the server is stopping\"}\n\n";
    if (!st->closed && !st->gone) {
        append(st, last, sizeof last - 1);
        st->closed = 1;
    }
    pthread_cond_broadcast(&st->room);
    if (st->conn)
        wake_reader(st);
}

struct MHD_Response *http__stream_response(struct http__streams *reg, struct http_stream *st,
                                           struct MHD_Connection *conn)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, st, stream_released);
    if (!r) {
        http__stream_drop(st);
        return NULL;
    }
    pthread_mutex_lock(&reg->mu);
    int stopping = reg->stopping;
    st->reg = reg;
    st->next = reg->head;
    if (reg->head)
        reg->head->prev = st;
    reg->head = st;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    pthread_mutex_lock(&st->mu);
    st->conn = conn;
    st->fd = ci ? ci->connect_fd : -1;
    if (stopping) /* began while the server stops: end it at once */
        end_by_server(st);
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_unlock(&reg->mu);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return r;
}

void http__stream_drop(struct http_stream *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->gone = 1;
    pthread_cond_broadcast(&st->room);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

void http__streams_stop(struct http__streams *reg)
{
    struct http_stream **all = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&reg->mu);
    reg->stopping = 1;
    for (struct http_stream *st = reg->head; st; st = st->next) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            all = xrealloc(all, cap * sizeof *all);
        }
        pthread_mutex_lock(&st->mu);
        st->refs++; /* held past the list's lock */
        pthread_mutex_unlock(&st->mu);
        all[n++] = st;
    }
    pthread_mutex_unlock(&reg->mu);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&all[i]->mu);
        end_by_server(all[i]);
        pthread_mutex_unlock(&all[i]->mu);
        stream_unref(all[i]);
    }
    free(all);
}
