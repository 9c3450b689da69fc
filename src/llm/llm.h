/*
 * llm.h — language models behind one call: Gemini, a local Llama served by
 * llama.cpp's llama-server or Ollama (OpenAI-compatible chat completions),
 * and the built-in narrator, tried in order until one answers.
 *
 * Every caller (insights, chat) computes its facts first and hands the
 * chain the built-in narrator's answer written from them (rq->fallback):
 * the narrator "generates" by streaming that text, needs no network and
 * cannot fail, so the chain always answers and every answer says which
 * provider produced it.
 *
 * Providers (libcurl, streamed; CURLOPT_NOSIGNAL, no global state but
 * curl_global_init, done once by llm_chain_new):
 *   gemini   POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse
 *            key in the x-goog-api-key header (never logged or shown);
 *            systemInstruction carries rq->system, contents the messages;
 *            rq->json asks generationConfig.responseMimeType
 *            "application/json".
 *   openai   POST {base}/v1/chat/completions {model, messages, stream: true}
 *            (SSE `data: {...choices[0].delta.content}` ... `data: [DONE]`);
 *            rq->json asks response_format {"type": "json_object"};
 *            Authorization: Bearer when a key is set (Ollama needs none).
 *   builtin  streams rq->fallback in word-sized pieces.
 * SSE is read line by line from whatever pieces libcurl hands over (an
 * event may be split anywhere, even inside a UTF-8 character or a "\r\n").
 *
 * The chain, per call: providers in order, skipping those whose breaker is
 * open. A provider fails on: no connection within connect_timeout_ms; no
 * first piece of text within first_token_timeout_ms; not done within
 * total_timeout_ms; an HTTP status other than 200 (429 and 503 are retried
 * once after Retry-After seconds when that is at most retry_after_max_ms,
 * else they fail at once); a body that is not the wire format (bad JSON, no
 * text, an error object); a reply longer than reply_max bytes; an empty
 * reply; and a reply that rq->validate refuses. A failure moves to the next
 * provider. A reply that rq->validate refuses moves on too, but it is not a
 * failure for the breaker (the provider answered: a model that chats well
 * but writes a bad insight must not lose chat for breaker_open_ms); it
 * counts as an answer there and the health shows last_ok true with
 * last_note saying the reply was refused. breaker_failures failures in a
 * row open a provider's breaker
 * for breaker_open_ms: it is skipped; after that one call may try it again
 * (half-open): success closes the breaker, failure opens it again.
 *
 * Errors kept in last_error and tried are the provider's words with the
 * configured key replaced by "[key]" (a server may echo what it was sent).
 * A provider URL never holds a user name or password (refused at config
 * time), so the URL in the health, in tried and in logs holds no secret.
 */
#ifndef LS_LLM_LLM_H
#define LS_LLM_LLM_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_PROVIDERS_MAX 4
#define LLM_NAME_MAX      32

enum llm_kind { LLM_BUILTIN = 0, LLM_GEMINI = 1, LLM_OPENAI = 2 };

struct llm_provider_config {
    enum llm_kind kind;
    char name[LLM_NAME_MAX]; /* "gemini", "llama", "builtin" */
    char base_url[512];      /* no trailing slash */
    char model[128];
    char api_key[256]; /* "" when none; never shown */
};

struct llm_config {
    struct llm_provider_config p[LLM_PROVIDERS_MAX]; /* in order; the last is always builtin */
    size_t n;
    uint32_t connect_timeout_ms;     /* default 2,000 */
    uint32_t first_token_timeout_ms; /* default 15,000 */
    uint32_t total_timeout_ms;       /* default 60,000 */
    size_t reply_max;                /* bytes of a reply, default 32 KB */
    uint32_t breaker_failures;       /* failures in a row that open the breaker, default 3 */
    uint32_t breaker_open_ms;        /* default 30,000 */
    uint32_t retry_after_max_ms;     /* the longest Retry-After waited for, default 5,000 */
};

/*
 * The configuration from the environment (documented in the README):
 *   GEMINI_API_KEY               enables gemini
 *   LEADSCORE_GEMINI_MODEL       default "gemini-2.5-flash"
 *   LEADSCORE_GEMINI_URL         default https://generativelanguage.googleapis.com
 *   LEADSCORE_LLAMA_URL          enables llama (e.g. http://127.0.0.1:8080 for
 *                                llama-server, http://127.0.0.1:11434 for Ollama)
 *   LEADSCORE_LLAMA_MODEL        default "local" (Ollama needs its model's name)
 *   LEADSCORE_LLAMA_KEY          optional bearer token
 *   LEADSCORE_LLM                order, comma-separated names ("llama,gemini");
 *                                default: gemini, llama (those configured), then
 *                                builtin; builtin is appended when not named;
 *                                "builtin" alone turns the models off
 *   LEADSCORE_LLM_CONNECT_TIMEOUT_MS, LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS,
 *   LEADSCORE_LLM_TIMEOUT_MS, LEADSCORE_LLM_REPLY_MAX (bytes),
 *   LEADSCORE_LLM_BREAKER_FAILURES, LEADSCORE_LLM_BREAKER_MS,
 *   LEADSCORE_LLM_RETRY_AFTER_MAX_MS
 * Errors: LS_EUSAGE naming the variable (an unknown or unconfigured name in
 * LEADSCORE_LLM, or one named twice; a number out of range; a URL that is
 * not http(s)://, has no host, an empty or out-of-range port after ":", or
 * a user name or password before "@" — refused without echoing the URL, the
 * message pointing to GEMINI_API_KEY or LEADSCORE_LLAMA_KEY instead).
 */
int llm_config_from_env(struct llm_config *c, struct ls_error *err);
/* Defaults with builtin only. */
void llm_config_default(struct llm_config *c);

struct llm_msg {
    const char *role; /* "user" or "assistant" */
    const char *text;
};

struct llm_request {
    const char *system;        /* our instructions, never CSV content */
    const struct llm_msg *msg; /* the conversation, the question last */
    size_t nmsg;
    int json;             /* 1: ask for one JSON object (insights) */
    const char *fallback; /* the built-in narrator's answer (required) */
    /* 0 accepts a whole reply; non-zero refuses it (the next provider is
     * tried; builtin's fallback is never validated). May be NULL. */
    int (*validate)(void *ctx, const char *reply, size_t len);
    void *validate_ctx;
};

/* Where a streamed answer goes (may be NULL: the whole answer only). Called
 * on the caller's thread. begin() comes before a provider's first piece;
 * restart is 1 when text of a provider that then failed was already given
 * (the receiver discards it). A non-zero return from either stops the call
 * (LS_ECANCELED), e.g. when the client went away. */
struct llm_sink {
    int (*begin)(void *ctx, const char *provider, int restart);
    int (*text)(void *ctx, const char *piece, size_t len);
    void *ctx;
};

struct llm_answer {
    char provider[LLM_NAME_MAX]; /* who answered */
    char *text;                  /* the whole reply, NUL-terminated (malloc'd) */
    size_t len;
    char
        tried[512]; /* providers that failed before, with why: "gemini: HTTP 500; llama: timeout" */
    int64_t first_ms, total_ms; /* first piece, whole answer, from the call */
};

struct llm_chain;

int llm_chain_new(const struct llm_config *c, struct llm_chain **out, struct ls_error *err);
void llm_chain_free(struct llm_chain *ch); /* accepts NULL */

/*
 * Ask: 0 with *out filled (free with llm_answer_cleanup); LS_ECANCELED when
 * the sink stopped it; LS_EINPUT without rq->fallback. Safe to call from
 * many threads at once (the breakers are shared, under a lock).
 */
int llm_chain_ask(struct llm_chain *ch, const struct llm_request *rq, const struct llm_sink *sink,
                  struct llm_answer *out, struct ls_error *err);
void llm_answer_cleanup(struct llm_answer *a);

/* [{name, kind: "gemini"|"openai"|"builtin", model, url (no key), last_ok:
 * true|false|null (never called), last_error, last_note, last_ms, breaker:
 * "closed"|"open"|"half-open", failures}] for GET /api/health. last_error
 * is the failure when last_ok is false, else null; last_note is null unless
 * the last call got a reply that rq->validate refused (last_ok true: the
 * provider answered), then "reply refused (not the form asked for)". */
json_t *llm_chain_health(struct llm_chain *ch);

/*
 * Stop the model calls for a shutdown: transfers in flight on any thread
 * abort within a poll slice (20 ms; a Retry-After wait too) and their calls
 * go on to the next provider, which ends at the narrator; later calls skip
 * every network provider ("skipped (shutting down)" in tried) and answer
 * with the narrator at once. Neither moves a breaker. Thread-safe (one
 * atomic flag), idempotent, accepts NULL; the chain stays usable and must
 * still be freed with llm_chain_free once no call runs. service_close calls
 * it first, so SIGTERM never waits for a model's timeouts.
 */
void llm_chain_shutdown(struct llm_chain *ch);

/* The provider names in order, comma-separated ("llama,builtin"). */
const char *llm_chain_order(const struct llm_chain *ch);

#endif
