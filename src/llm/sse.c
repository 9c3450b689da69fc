/*
 * sse.c — Server-Sent Events read from arbitrary byte pieces.
 *
 * libcurl hands the body over in pieces of any size: a piece may end in the
 * middle of a line, of a UTF-8 character, or between the "\r" and "\n" of one
 * line end. So bytes are gathered into the current line until its end, and a
 * "\r" that ends one piece is remembered so that a "\n" opening the next is
 * not read as a second (blank) line, which would end the event early. Only
 * whole events reach the caller, so the JSON parser always sees complete
 * text. The rules follow the WHATWG "event stream interpretation": field
 * "data" appends its value and a newline, "event" names the event, a line
 * starting with ":" is a comment, one space after the colon is dropped.
 */
#include "llm/llm_internal.h"

#include "core/err.h"

#include <string.h>

void sse_init(struct sse *s, size_t max, sse_event_fn on_event, void *ctx)
{
    buf_init(&s->line, max);
    buf_init(&s->data, max);
    s->event[0] = '\0';
    s->after_cr = 0;
    s->has_data = 0;
    s->on_event = on_event;
    s->ctx = ctx;
}

void sse_cleanup(struct sse *s)
{
    buf_cleanup(&s->line);
    buf_cleanup(&s->data);
}

/* The blank line: hand the event over (without the last data newline) and
 * start the next one. An event without data is dropped, as the spec says. */
static int sse_dispatch(struct sse *s)
{
    int rc = 0;
    if (s->has_data) {
        size_t n = s->data.len;
        if (n && s->data.data[n - 1] == '\n')
            n--;
        const char *d = s->data.data ? s->data.data : "";
        if (s->data.data)
            s->data.data[n] = '\0';
        rc = s->on_event(s->ctx, s->event[0] ? s->event : "message", d, n);
    }
    buf_reset(&s->data);
    s->event[0] = '\0';
    s->has_data = 0;
    return rc;
}

static int sse_line(struct sse *s)
{
    const char *l = s->line.data ? s->line.data : "";
    size_t n = s->line.len;
    int rc = 0;
    if (n == 0) {
        rc = sse_dispatch(s);
        goto out;
    }
    if (l[0] == ':')
        goto out;
    const char *colon = memchr(l, ':', n);
    size_t fn = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vn = (size_t)(l + n - v);
    if (vn && v[0] == ' ') {
        v++;
        vn--;
    }
    if ((fn == 4 && memcmp(l, "data", 4) == 0) || (fn == 5 && memcmp(l, "error", 5) == 0)) {
        if (fn == 5)
            memcpy(s->event, "error", 6);
        rc = buf_append(&s->data, v, vn);
        if (rc == 0)
            rc = buf_putc(&s->data, '\n');
        s->has_data = 1;
    } else if (fn == 5 && memcmp(l, "event", 5) == 0) {
        size_t k = vn < SSE_EVENT_NAME_MAX - 1 ? vn : SSE_EVENT_NAME_MAX - 1;
        memcpy(s->event, v, k);
        s->event[k] = '\0';
    }
    /* id, retry and unknown fields are ignored */
out:
    buf_reset(&s->line);
    return rc;
}

int sse_feed(struct sse *s, const void *p, size_t n)
{
    const char *c = p;
    int rc = 0;
    size_t i = 0;
    if (n == 0)
        goto out;
    if (s->after_cr && c[0] == '\n')
        i = 1; /* the "\n" of a "\r\n" split between two pieces */
    s->after_cr = 0;
    while (i < n) {
        /* copy the run of ordinary bytes at once */
        size_t j = i;
        while (j < n && c[j] != '\n' && c[j] != '\r')
            j++;
        if (j > i) {
            rc = buf_append(&s->line, c + i, j - i);
            if (rc)
                goto out;
        }
        if (j == n)
            break;
        if (c[j] == '\r') {
            if (j + 1 < n && c[j + 1] == '\n')
                j++;
            else if (j + 1 == n)
                s->after_cr = 1;
        }
        i = j + 1;
        rc = sse_line(s);
        if (rc)
            goto out;
    }
out:
    return rc;
}

int sse_finish(struct sse *s)
{
    int rc = 0;
    s->after_cr = 0;
    if (s->line.len) {
        rc = sse_line(s);
        if (rc)
            goto out;
    }
    rc = sse_dispatch(s);
out:
    return rc;
}
