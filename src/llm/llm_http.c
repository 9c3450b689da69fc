/*
 * llm_http.c — one streamed exchange with a language model over libcurl.
 *
 * The exchange runs on the caller's thread through a private multi handle
 * polled in short slices, so the timers are exact: libcurl's own
 * CURLOPT_LOW_SPEED_TIME reacts in steps of seconds, while the progress
 * callback (CURLOPT_XFERINFOFUNCTION) is called on every slice and stops the
 * transfer the moment no text came within first_token_timeout_ms or the
 * whole took longer than total_timeout_ms. CURLOPT_CONNECTTIMEOUT_MS covers
 * the connection itself.
 *
 * The body is read as it arrives. A 200 answer with text/event-stream goes
 * through the SSE reassembler; one with a JSON body (a server that ignored
 * "stream") is gathered and parsed whole; any other status keeps the first
 * few kilobytes to say what the server complained about. Every size is
 * capped: the reply text at reply_max, a JSON body at a multiple of it.
 */
#include "llm/llm_internal.h"

#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ERROR_BODY_MAX 4096
#define POLL_SLICE_MS  20

enum mode { MODE_NONE, MODE_SSE, MODE_JSON, MODE_ERROR };

struct xfer {
    struct llm__exchange *x;
    CURL *h;
    struct sse sse;
    struct buf body; /* MODE_JSON: the whole body; MODE_ERROR: its start */
    enum mode mode;
    long status;
    int64_t t0;
    int failed;   /* why is set: the transfer was stopped on purpose */
    int canceled; /* the sink stopped it */
    size_t bytes; /* of the body so far, capped at body_max */
    size_t body_max;
    char retry_after[64];
    int (*parse)(json_t *obj, struct llm__emit *e);
    struct llm__emit emit;
};

int64_t llm__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, cp = c & 0x07;
    else
        return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

void llm__clean_text(char *out, size_t cap, const char *in, size_t n)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, i = 0;
    if (cap == 0)
        return;
    while (i < n && s[i]) {
        size_t k = utf8_len(s + i, n - i);
        if (k == 0 || (k == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
            if (o + 1 >= cap)
                break;
            out[o++] = k ? ' ' : '?';
            i += k ? k : 1;
            continue;
        }
        if (o + k >= cap)
            break;
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
}

static void set_why(struct xfer *t, const char *fmt, const char *detail)
{
    char m[sizeof t->x->why];
    snprintf(m, sizeof m, fmt, detail ? detail : "");
    llm__clean_text(t->x->why, sizeof t->x->why, m, strlen(m));
    t->failed = 1;
}

/* A piece of text from the parser: capped, kept, handed to the sink. */
static int on_text(void *ctx, const char *piece, size_t len)
{
    struct xfer *t = ctx;
    struct llm__exchange *x = t->x;
    if (buf_append(&x->reply, piece, len)) {
        char d[32];
        snprintf(d, sizeof d, "%zu", x->cfg->reply_max);
        set_why(t, "reply longer than %s bytes", d);
        return LS_ELIMIT;
    }
    x->got_text = 1;
    if (x->text(x->ctx, piece, len)) {
        t->canceled = 1;
        return LS_ECANCELED;
    }
    return 0;
}

/* One whole JSON text (an SSE event's data or a whole body). */
static int on_json(struct xfer *t, const char *data, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(data, len, 0, &je);
    int rc;
    if (!o) {
        set_why(t, "not JSON: %s", je.text);
        return LS_EUPSTREAM;
    }
    t->emit.why[0] = '\0';
    rc = t->parse(o, &t->emit);
    json_decref(o);
    if (rc && !t->failed && !t->canceled)
        set_why(t, "%s", t->emit.why);
    return rc;
}

/* The message of an error body or event: {"error": {"message"}}, {"error":
 * "..."} or {"message"}, in an object or the first element of an array;
 * else the text's start. */
static void error_detail(const char *data, size_t len, char *out, size_t cap)
{
    json_t *o = len ? json_loadb(data, len, 0, NULL) : NULL;
    json_t *top = json_is_array(o) ? json_array_get(o, 0) : o;
    json_t *e = json_object_get(top, "error");
    const char *m =
        json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "message"));
    if (!m)
        m = json_string_value(json_object_get(top, "message"));
    if (m)
        llm__clean_text(out, cap, m, strlen(m));
    else
        llm__clean_text(out, cap, data ? data : "", len < 100 ? len : 100);
    json_decref(o);
}

static int on_event(void *ctx, const char *event, const char *data, size_t len)
{
    struct xfer *t = ctx;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        t->emit.done = 1;
        return 0;
    }
    if (strcmp(event, "error") == 0) {
        char d[120];
        error_detail(data, len, d, sizeof d);
        set_why(t, "error: %s", d);
        return LS_EUPSTREAM;
    }
    return on_json(t, data, len);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct xfer *t = ctx;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        size_t i = 12, k = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (i < len && p[i] != '\r' && p[i] != '\n' && k + 1 < sizeof t->retry_after)
            t->retry_after[k++] = p[i++];
        t->retry_after[k] = '\0';
    } else if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        t->retry_after[0] = '\0'; /* a new response (after a 100 Continue) */
    }
    return len;
}

static enum mode pick_mode(struct xfer *t, const char *p, size_t n)
{
    const char *ct = NULL;
    curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status != 200)
        return MODE_ERROR;
    curl_easy_getinfo(t->h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct && strstr(ct, "event-stream"))
        return MODE_SSE;
    if (ct && strstr(ct, "json"))
        return MODE_JSON;
    /* no telling type: a body that opens like JSON is JSON */
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < n && (p[i] == '{' || p[i] == '[') ? MODE_JSON : MODE_SSE;
}

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
    struct xfer *t = ctx;
    size_t len = size * n;
    if (t->mode == MODE_NONE) {
        t->mode = pick_mode(t, p, len);
        size_t max = t->mode == MODE_ERROR ? ERROR_BODY_MAX : t->x->cfg->reply_max * 8 + 65536;
        buf_init(&t->body, max);
    }
    /* whatever the body holds (keep-alive comments, text that is not
     * ours), it never runs longer than a generous multiple of the reply */
    t->bytes += len;
    if (t->bytes > t->body_max && t->mode != MODE_ERROR) {
        set_why(t, "reply body too long%s", NULL);
        return 0;
    }
    switch (t->mode) {
    case MODE_SSE:
        if (sse_feed(&t->sse, p, len) == 0)
            return len;
        if (!t->failed && !t->canceled)
            set_why(t, "an SSE line or event too long%s", NULL);
        return 0;
    case MODE_JSON:
        if (buf_append(&t->body, p, len) == 0)
            return len;
        set_why(t, "reply body too long%s", NULL);
        return 0;
    case MODE_ERROR: {
        size_t room = t->body.max - t->body.len;
        buf_append(&t->body, p, len < room ? len : room);
        return len;
    }
    default:
        return 0;
    }
}

/* The progress callback: the first-token and total timers. */
static int check_timers(struct xfer *t)
{
    if (t->failed || t->canceled)
        return 1;
    int64_t el = llm__now_ms() - t->t0;
    if (el > (int64_t)t->x->cfg->total_timeout_ms) {
        set_why(t, "timeout (no complete reply in time)%s", NULL);
        return 1;
    }
    if (!t->x->got_text && t->mode != MODE_ERROR &&
        el > (int64_t)t->x->cfg->first_token_timeout_ms) {
        set_why(t, "timeout (no first token in time)%s", NULL);
        return 1;
    }
    return 0;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    return check_timers(ctx);
}

/* Retry-After in milliseconds: delay-seconds; an HTTP-date (or anything
 * else) counts as longer than we ever wait. */
static uint64_t retry_after_ms(const char *v)
{
    uint64_t s = 0;
    if (!v[0])
        return UINT64_MAX;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9' || s > 86400)
            return UINT64_MAX;
        s = s * 10 + (uint64_t)(*c - '0');
    }
    return s * 1000;
}

enum llm__end llm__exchange_run(struct llm__exchange *x)
{
    struct xfer t;
    struct llm__req req = {0};
    struct ls_error err;
    CURLM *m = NULL;
    CURLcode res = CURLE_OK;
    enum llm__end end = LLM__FAIL;
    int added = 0;
    char noproxy[512];

    memset(&t, 0, sizeof t);
    t.x = x;
    t.t0 = llm__now_ms();
    t.emit.text = on_text;
    t.emit.ctx = &t;
    t.parse = x->p->kind == LLM_GEMINI ? gemini__parse : openai__parse;
    /* one event per token, each in an envelope of some hundred bytes, makes
     * the wire many times longer than the text it carries; one event, or a
     * whole JSON body, is at most the text with every character escaped */
    t.body_max = x->cfg->reply_max * 64 + (1u << 20);
    sse_init(&t.sse, x->cfg->reply_max * 8 + 65536, on_event, &t);
    buf_init(&t.body, 0);
    x->got_text = 0;
    x->retry_ms = 0;
    x->why[0] = '\0';

    int rc = x->p->kind == LLM_GEMINI ? gemini__request(x->p, x->rq, &req, &err)
                                      : openai__request(x->p, x->rq, &req, &err);
    if (rc) {
        llm__clean_text(x->why, sizeof x->why, err.msg, strlen(err.msg));
        goto out;
    }
    /* no "Expect: 100-continue" round trip before the body */
    req.headers = curl_slist_append(req.headers, "Expect:");
    t.h = curl_easy_init();
    m = curl_multi_init();
    if (!t.h || !m) {
        snprintf(x->why, sizeof x->why, "libcurl could not start");
        goto out;
    }
    curl_easy_setopt(t.h, CURLOPT_URL, req.url);
    curl_easy_setopt(t.h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, req.headers);
    curl_easy_setopt(t.h, CURLOPT_POSTFIELDS, req.body);
    curl_easy_setopt(t.h, CURLOPT_POSTFIELDSIZE, (long)strlen(req.body));
    curl_easy_setopt(t.h, CURLOPT_USERAGENT, "leadscore/" LS_VERSION_STRING);
    /* a proxy from the environment serves the cloud, never a model on this
     * machine: loopback is added to the hosts it must not handle */
    const char *np = getenv("no_proxy");
    if (!np || !*np)
        np = getenv("NO_PROXY");
    snprintf(noproxy, sizeof noproxy, "%.400s%slocalhost,127.0.0.1,::1", np && *np ? np : "",
             np && *np ? "," : "");
    curl_easy_setopt(t.h, CURLOPT_NOPROXY, noproxy);
    curl_easy_setopt(t.h, CURLOPT_CONNECTTIMEOUT_MS, (long)x->cfg->connect_timeout_ms);
    /* a backstop only: the progress callback ends it first, with a reason */
    curl_easy_setopt(t.h, CURLOPT_TIMEOUT_MS, (long)x->cfg->total_timeout_ms + 2000);
    curl_easy_setopt(t.h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(t.h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t.h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(t.h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(t.h, CURLOPT_XFERINFODATA, &t);
    curl_multi_add_handle(m, t.h);
    added = 1;

    for (;;) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (!running)
            break;
        /* the callback runs only when libcurl looks at the transfer; the
         * check here keeps the timers exact through a connect or a stall */
        if (check_timers(&t))
            break;
        curl_multi_poll(m, NULL, 0, POLL_SLICE_MS, NULL);
    }
    CURLMsg *msg;
    int left;
    res = CURLE_ABORTED_BY_CALLBACK;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            res = msg->data.result;

    if (t.canceled) {
        end = LLM__CANCELED;
        goto out;
    }
    if (t.failed)
        goto out;
    if (res != CURLE_OK) {
        if (res == CURLE_OPERATION_TIMEDOUT)
            snprintf(x->why, sizeof x->why, "timeout (%s)",
                     t.mode == MODE_NONE ? "connect" : "transfer");
        else if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST)
            snprintf(x->why, sizeof x->why, "cannot connect (%s)", curl_easy_strerror(res));
        else
            snprintf(x->why, sizeof x->why, "transfer failed (%s)", curl_easy_strerror(res));
        goto out;
    }
    if (t.mode == MODE_NONE)
        curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &t.status);
    if (t.status != 200) {
        char d[120];
        error_detail(t.body.data, t.body.len, d, sizeof d);
        uint64_t ra = retry_after_ms(t.retry_after);
        if ((t.status == 429 || t.status == 503) && ra <= x->cfg->retry_after_max_ms) {
            x->retry_ms = (uint32_t)ra;
            snprintf(x->why, sizeof x->why, "HTTP %ld", t.status);
            end = LLM__RETRY;
            goto out;
        }
        snprintf(x->why, sizeof x->why, "HTTP %ld%s%s%s", t.status,
                 (t.status == 429 || t.status == 503) && t.retry_after[0]
                     ? " (Retry-After too long)"
                     : "",
                 d[0] ? ": " : "", d);
        goto out;
    }
    if (t.mode == MODE_JSON) {
        if (on_json(&t, t.body.data ? t.body.data : "", t.body.len))
            goto out;
    } else if (sse_finish(&t.sse)) {
        if (t.canceled)
            end = LLM__CANCELED;
        goto out;
    }
    if (!x->got_text) {
        snprintf(x->why, sizeof x->why, "empty reply");
        goto out;
    }
    end = LLM__OK;
out:
    if (added)
        curl_multi_remove_handle(m, t.h);
    curl_multi_cleanup(m);
    curl_easy_cleanup(t.h);
    if (req.headers)
        curl_slist_free_all(req.headers); /* holds the key: never logged */
    free(req.url);
    free(req.body);
    sse_cleanup(&t.sse);
    buf_cleanup(&t.body);
    if (end == LLM__FAIL && !x->why[0])
        snprintf(x->why, sizeof x->why, "failed");
    return end;
}
