/*
 * chain.c — providers tried in order, each behind a circuit breaker, ending
 * with the built-in narrator, which always answers.
 *
 * A call walks the configured providers. A provider whose breaker is open
 * is skipped without a request; after breaker_open_ms one call (and only
 * one: the others keep skipping it) may try it again, "half-open", and its
 * result closes or reopens the breaker. The breakers and the health figures
 * are the only state shared between calls, under one mutex held only for
 * bookkeeping, never during a request, so slow providers never serialise
 * the callers.
 *
 * The sink sees begin(provider) before a provider's first piece. When a
 * provider fails after some of its text was passed on (a broken stream, a
 * reply the validator refuses), the next begin() says restart so the
 * receiver can drop what it showed.
 */
#include "llm/llm_internal.h"

#include "core/err.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct prov_state {
    uint32_t failures;  /* in a row */
    int64_t open_until; /* while failures >= breaker_failures: skipped until then */
    int probing;        /* half-open: one call is trying it now */
    int last_ok;        /* -1 never called, 0 failed, 1 answered */
    char last_error[200];
    int64_t last_ms;
};

struct llm_chain {
    struct llm_config cfg;
    pthread_mutex_t mu;
    struct prov_state st[LLM_PROVIDERS_MAX];
    char order[LLM_PROVIDERS_MAX * (LLM_NAME_MAX + 1)];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int llm_chain_new(const struct llm_config *c, struct llm_chain **out, struct ls_error *err)
{
    struct llm_chain *ch = NULL;
    int rc = 0;
    if (!c || c->n == 0 || c->n > LLM_PROVIDERS_MAX || c->p[c->n - 1].kind != LLM_BUILTIN) {
        rc = ls_error_set(err, LS_EUSAGE, "the provider list must end with builtin");
        goto out;
    }
    if (c->reply_max == 0 || c->total_timeout_ms == 0 || c->breaker_failures == 0) {
        rc = ls_error_set(err, LS_EUSAGE,
                          "reply_max, total_timeout_ms and breaker_failures "
                          "must be positive");
        goto out;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc) {
        rc = ls_error_set(err, LS_EIO, "libcurl could not be initialised");
        goto out;
    }
    ch = xcalloc(1, sizeof *ch);
    ch->cfg = *c;
    pthread_mutex_init(&ch->mu, NULL);
    size_t o = 0;
    for (size_t i = 0; i < c->n; i++) {
        ch->st[i].last_ok = -1;
        o += (size_t)snprintf(ch->order + o, sizeof ch->order - o, "%s%s", i ? "," : "",
                              c->p[i].name);
    }
    *out = ch;
    ch = NULL;
out:
    llm_chain_free(ch);
    return rc;
}

void llm_chain_free(struct llm_chain *ch)
{
    if (!ch)
        return;
    pthread_mutex_destroy(&ch->mu);
    memset(ch->cfg.p, 0, sizeof ch->cfg.p); /* the keys */
    free(ch);
}

const char *llm_chain_order(const struct llm_chain *ch)
{
    return ch->order;
}

void llm_answer_cleanup(struct llm_answer *a)
{
    if (!a)
        return;
    free(a->text);
    a->text = NULL;
    a->len = 0;
}

/* ---- breaker (callers hold ch->mu) --------------------------------------- */

enum breaker { BR_CLOSED, BR_OPEN, BR_HALF_OPEN };

static enum breaker breaker_state(const struct llm_chain *ch, size_t i, int64_t now)
{
    const struct prov_state *s = &ch->st[i];
    if (ch->cfg.p[i].kind == LLM_BUILTIN || s->failures < ch->cfg.breaker_failures)
        return BR_CLOSED;
    return now < s->open_until ? BR_OPEN : BR_HALF_OPEN;
}

/* 1 when this call may use provider i (taking the half-open probe). */
static int breaker_enter(struct llm_chain *ch, size_t i)
{
    int go = 0;
    pthread_mutex_lock(&ch->mu);
    switch (breaker_state(ch, i, llm__now_ms())) {
    case BR_CLOSED:
        go = 1;
        break;
    case BR_HALF_OPEN:
        go = !ch->st[i].probing;
        ch->st[i].probing = 1;
        break;
    case BR_OPEN:
        break;
    }
    pthread_mutex_unlock(&ch->mu);
    return go;
}

/* ok: 1 answered, 0 failed, -1 neither (cancelled by our caller). */
static void breaker_leave(struct llm_chain *ch, size_t i, int ok, const char *why, int64_t ms)
{
    pthread_mutex_lock(&ch->mu);
    struct prov_state *s = &ch->st[i];
    s->probing = 0;
    if (ok >= 0) {
        s->last_ok = ok;
        s->last_ms = ms;
        snprintf(s->last_error, sizeof s->last_error, "%s", ok ? "" : why);
    }
    if (ok == 1) {
        s->failures = 0;
    } else if (ok == 0) {
        if (s->failures < UINT32_MAX)
            s->failures++;
        if (s->failures >= ch->cfg.breaker_failures)
            s->open_until = llm__now_ms() + ch->cfg.breaker_open_ms;
    }
    pthread_mutex_unlock(&ch->mu);
}

json_t *llm_chain_health(struct llm_chain *ch)
{
    static const char *kinds[] = {"builtin", "gemini", "openai"};
    static const char *states[] = {"closed", "open", "half-open"};
    json_t *a = json_array();
    pthread_mutex_lock(&ch->mu);
    int64_t now = llm__now_ms();
    for (size_t i = 0; i < ch->cfg.n; i++) {
        const struct llm_provider_config *p = &ch->cfg.p[i];
        const struct prov_state *s = &ch->st[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "kind", json_string(kinds[p->kind]));
        json_object_set_new(o, "model",
                            p->kind == LLM_BUILTIN ? json_null() : json_string(p->model));
        json_object_set_new(o, "url",
                            p->kind == LLM_BUILTIN ? json_null() : json_string(p->base_url));
        json_object_set_new(o, "last_ok", s->last_ok < 0 ? json_null() : json_boolean(s->last_ok));
        json_object_set_new(o, "last_error",
                            s->last_ok == 0 ? json_string(s->last_error) : json_null());
        json_object_set_new(o, "last_ms", s->last_ok < 0 ? json_null() : json_integer(s->last_ms));
        json_object_set_new(o, "breaker", json_string(states[breaker_state(ch, i, now)]));
        json_object_set_new(o, "failures", json_integer(s->failures));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&ch->mu);
    return a;
}

/* ---- one call -------------------------------------------------------------- */

struct ask {
    struct llm_chain *ch;
    const struct llm_sink *sink;
    const char *provider; /* the one being tried */
    int begun;            /* begin() was called for it */
    int restart;          /* text of a failed provider was passed on */
    int64_t t0, first_ms;
};

static int ask_text(void *ctx, const char *piece, size_t len)
{
    struct ask *a = ctx;
    if (a->first_ms < 0)
        a->first_ms = llm__now_ms() - a->t0;
    if (!a->sink)
        return 0;
    if (!a->begun) {
        a->begun = 1;
        if (a->sink->begin && a->sink->begin(a->sink->ctx, a->provider, a->restart))
            return 1;
        a->restart = 0;
    }
    return a->sink->text ? a->sink->text(a->sink->ctx, piece, len) : 0;
}

/* "name: why" appended to tried, cut on a UTF-8 boundary when it is full
 * (tried ends up in JSON, which must stay valid UTF-8). */
static void tried_add(char *tried, size_t cap, const char *name, const char *why)
{
    char one[300];
    size_t n = strlen(tried);
    snprintf(one, sizeof one, "%s%s: %s", n ? "; " : "", name, why);
    llm__clean_text(tried + n, cap - n, one, strlen(one));
}

/* The narrator's answer, streamed a word (with its following spaces) at a
 * time, as a model would. */
static int builtin_stream(struct ask *a, const char *text)
{
    size_t n = strlen(text), i = 0;
    if (a->sink && a->sink->begin && a->sink->begin(a->sink->ctx, a->provider, a->restart))
        return LS_ECANCELED;
    a->begun = 1;
    a->first_ms = llm__now_ms() - a->t0;
    while (i < n) {
        size_t j = i;
        while (j < n && text[j] != ' ' && text[j] != '\n' && text[j] != '\t')
            j++;
        while (j < n && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t'))
            j++;
        if (a->sink && a->sink->text && a->sink->text(a->sink->ctx, text + i, j - i))
            return LS_ECANCELED;
        i = j;
    }
    return 0;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int llm_chain_ask(struct llm_chain *ch, const struct llm_request *rq, const struct llm_sink *sink,
                  struct llm_answer *out, struct ls_error *err)
{
    struct ask a = {.ch = ch, .sink = sink, .t0 = llm__now_ms(), .first_ms = -1};
    struct llm_answer ans;
    struct llm__exchange x;
    int rc = 0;
    memset(&ans, 0, sizeof ans);
    memset(&x, 0, sizeof x);
    buf_init(&x.reply, 0);
    if (!ch || !rq || !rq->fallback) {
        rc = ls_error_set(err, LS_EINPUT, "a request needs the narrator's answer (fallback)");
        goto out;
    }
    for (size_t i = 0; i < ch->cfg.n; i++) {
        const struct llm_provider_config *p = &ch->cfg.p[i];
        a.provider = p->name;
        a.begun = 0;
        a.first_ms = -1;
        if (p->kind == LLM_BUILTIN) {
            if ((rc = builtin_stream(&a, rq->fallback))) {
                ls_error_set(err, rc, "the answer's receiver stopped it");
                goto out;
            }
            breaker_leave(ch, i, 1, "", 0);
            ans.text = xstrdup(rq->fallback);
            ans.len = strlen(rq->fallback);
            snprintf(ans.provider, sizeof ans.provider, "%s", p->name);
            goto done;
        }
        if (!breaker_enter(ch, i)) {
            tried_add(ans.tried, sizeof ans.tried, p->name, "skipped (breaker open)");
            continue;
        }
        int64_t t1 = llm__now_ms();
        enum llm__end end;
        int retried = 0;
        for (;;) {
            buf_cleanup(&x.reply);
            buf_init(&x.reply, ch->cfg.reply_max);
            x.p = p;
            x.cfg = &ch->cfg;
            x.rq = rq;
            x.text = ask_text;
            x.ctx = &a;
            end = llm__exchange_run(&x);
            if (end != LLM__RETRY)
                break;
            if (retried) {
                end = LLM__FAIL;
                snprintf(x.why + strlen(x.why), sizeof x.why - strlen(x.why), " (after a retry)");
                break;
            }
            retried = 1;
            sleep_ms(x.retry_ms);
        }
        if (end == LLM__CANCELED) {
            breaker_leave(ch, i, -1, "", 0);
            rc = ls_error_set(err, LS_ECANCELED, "the answer's receiver stopped it");
            goto out;
        }
        if (end == LLM__OK && rq->validate &&
            rq->validate(rq->validate_ctx, x.reply.data, x.reply.len)) {
            end = LLM__FAIL;
            snprintf(x.why, sizeof x.why, "reply refused (not the form asked for)");
        }
        int64_t ms = llm__now_ms() - t1;
        if (end == LLM__OK) {
            breaker_leave(ch, i, 1, "", ms);
            ans.len = x.reply.len;
            ans.text = buf_take(&x.reply);
            snprintf(ans.provider, sizeof ans.provider, "%s", p->name);
            goto done;
        }
        breaker_leave(ch, i, 0, x.why, ms);
        tried_add(ans.tried, sizeof ans.tried, p->name, x.why);
        if (x.got_text && a.begun)
            a.restart = 1;
    }
    /* not reached: the list ends with builtin (llm_chain_new checks it) */
    rc = ls_error_set(err, LS_EUPSTREAM, "no provider answered");
    goto out;
done:
    ans.first_ms = a.first_ms < 0 ? llm__now_ms() - a.t0 : a.first_ms;
    ans.total_ms = llm__now_ms() - a.t0;
    *out = ans;
    memset(&ans, 0, sizeof ans);
out:
    free(ans.text);
    buf_cleanup(&x.reply);
    return rc;
}
