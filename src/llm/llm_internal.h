/*
 * llm_internal.h — the pieces of src/llm/ that the module shares between its
 * files and that the unit tests reach directly: the SSE reassembler, the
 * wire formats of Gemini and OpenAI-compatible servers, and one streamed
 * HTTP exchange with a provider.
 *
 * Nothing outside src/llm/ and tests/unit/test_llm*.c includes this file.
 */
#ifndef LS_LLM_INTERNAL_H
#define LS_LLM_INTERNAL_H

#include "core/buf.h"
#include "llm/llm.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- SSE reassembler (sse.c) -------------------------------------------
 *
 * Fed whatever byte pieces the transport hands over, it cuts lines at "\n",
 * "\r\n" or a lone "\r" (a "\r" at the end of one piece and a "\n" at the
 * start of the next are one line end), gathers an event's "data:" lines
 * (joined with "\n") and its "event:" name, and at the blank line that ends
 * an event calls on_event with the whole data. Comments (":...") and "id:"
 * and "retry:" lines are ignored. A bare "error: {...}" line, which
 * llama-server writes for an error in the middle of a stream, is read as an
 * event named "error" with that data. Lines and events are capped at max
 * bytes (LS_ELIMIT beyond).
 */
#define SSE_EVENT_NAME_MAX 32

typedef int (*sse_event_fn)(void *ctx, const char *event, const char *data, size_t len);

struct sse {
    struct buf line; /* the line being read, without its end */
    struct buf data; /* the event's data so far, each line followed by "\n" */
    char event[SSE_EVENT_NAME_MAX];
    int after_cr; /* the last byte seen was a "\r" ending a line */
    int has_data; /* a data (or error) line was seen in this event */
    sse_event_fn on_event;
    void *ctx;
};

void sse_init(struct sse *s, size_t max, sse_event_fn on_event, void *ctx);
void sse_cleanup(struct sse *s);
/* Feed n bytes: 0, LS_ELIMIT, or the first non-zero return of on_event
 * (nothing more is read after it). */
int sse_feed(struct sse *s, const void *p, size_t n);
/* End of stream: a last line without its end, and an event without its
 * blank line, are delivered (servers that close right after "data: [DONE]"
 * exist). Same returns as sse_feed. */
int sse_finish(struct sse *s);

/* ---- wire formats (gemini.c, openai.c) ----------------------------------- */

/* What one response object of a provider said. */
struct llm__emit {
    /* called for each piece of text, in order; non-zero stops the parse */
    int (*text)(void *ctx, const char *piece, size_t len);
    void *ctx;
    int done;      /* the provider said the answer is complete */
    char why[160]; /* the failure, when the parse returns LS_EUPSTREAM */
};

/* The HTTP request of a provider: url and body are malloc'd (free them),
 * headers a curl_slist (curl_slist_free_all). */
struct llm__req {
    char *url;
    char *body;
    struct curl_slist *headers;
};

/* Build the streamed request. 0 or LS_EINPUT (a message with a bad role,
 * text that is not UTF-8). */
int gemini__request(const struct llm_provider_config *p, const struct llm_request *rq,
                    struct llm__req *out, struct ls_error *err);
int openai__request(const struct llm_provider_config *p, const struct llm_request *rq,
                    struct llm__req *out, struct ls_error *err);

/* One parsed response object (an SSE event's data, or a whole JSON body that
 * a server sent without streaming; Gemini's may be an array of them): text
 * goes to e->text. 0, LS_EUPSTREAM with e->why (an error object, a blocked
 * prompt, not the wire format), or the non-zero return of e->text. */
int gemini__parse(json_t *obj, struct llm__emit *e);
int openai__parse(json_t *obj, struct llm__emit *e);

/* ---- one streamed exchange (llm_http.c) ----------------------------------- */

/* How an exchange ended. */
enum llm__end {
    LLM__OK = 0,   /* a complete reply */
    LLM__FAIL,     /* the provider failed: why says how */
    LLM__RETRY,    /* 429/503 with a Retry-After we may wait for (retry_ms) */
    LLM__CANCELED, /* the sink stopped it */
};

struct llm__exchange {
    /* in */
    const struct llm_provider_config *p;
    const struct llm_config *cfg;
    const struct llm_request *rq;
    int (*text)(void *ctx, const char *piece, size_t len); /* each piece; non-zero cancels */
    void *ctx;
    /* out */
    struct buf reply;  /* the text so far, capped at cfg->reply_max */
    int got_text;      /* at least one piece was handed to text() */
    uint32_t retry_ms; /* LLM__RETRY: how long to wait */
    char why[200];     /* LLM__FAIL: "HTTP 500", "timeout (first token)", ... */
};

/* Run one exchange with provider x->p (gemini or openai): x->reply gets the
 * text (the caller cleans it up with buf_cleanup). */
enum llm__end llm__exchange_run(struct llm__exchange *x);

/* Monotonic milliseconds. */
int64_t llm__now_ms(void);

/* Copy a message from a server into out (cap bytes): control characters
 * become spaces, cut on a UTF-8 boundary. */
void llm__clean_text(char *out, size_t cap, const char *in, size_t n);

#endif
