/*
 * test_llm_fake.h — what the chain's tests share: tests/api/fake_llm.py
 * started as a child process (its stdin a pipe, so it exits with the test),
 * its control API over libcurl, chains made to point at it, and a sink that
 * records what it was given. Included by one test file each (test_llm_*.c),
 * so its helpers are static inline.
 */
#ifndef LS_TEST_LLM_FAKE_H
#define LS_TEST_LLM_FAKE_H

#include "testutil.h"

#include "core/buf.h"
#include "llm/llm.h"
#include "llm/llm_internal.h"

#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ASSERT_STR(got, want)                                                                      \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (strcmp(g_ ? g_ : "(null)", w_) != 0)                                                   \
            fail_msg("%s:\n got  \"%s\"\n want \"%s\"", #got, g_ ? g_ : "(null)", w_);             \
    } while (0)

#define ASSERT_HAS(hay, needle)                                                                    \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!strstr(h_ ? h_ : "", n_))                                                             \
            fail_msg("%s = \"%s\" lacks \"%s\"", #hay, h_ ? h_ : "(null)", n_);                    \
    } while (0)

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- the fake server ----------------------------------------------------------- */

static pid_t fake_pid;
static int fake_stdin = -1;
static char fake_url[64];
static int have_fake;

static inline int fake_start(void)
{
    const char *dummy = tu_write_temp("fake_llm.dummy", "", 0);
    char portfile[1100], script[1100];
    snprintf(portfile, sizeof portfile, "%.1000s.port", dummy);
    snprintf(script, sizeof script, "%s/../api/fake_llm.py", LS_FIXTURES);
    int fds[2];
    if (pipe(fds))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {"python3", script, "--port-file", portfile, "--watch-stdin", NULL};
    int rc = posix_spawnp(&fake_pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (rc) {
        close(fds[1]);
        return -1;
    }
    fake_stdin = fds[1];
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(portfile, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(fake_url, sizeof fake_url, "http://127.0.0.1:%d", port);
            return 0;
        }
        int st;
        if (waitpid(fake_pid, &st, WNOHANG) == fake_pid) {
            fake_pid = 0;
            return -1;
        }
        sleep_ms(50);
    }
    return -1;
}

static inline void fake_stop(void)
{
    if (fake_stdin >= 0)
        close(fake_stdin); /* --watch-stdin: it exits */
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
    }
    fake_stdin = -1;
    fake_pid = 0;
}

static inline size_t grow(char *p, size_t size, size_t n, void *ctx)
{
    buf_append(ctx, p, size * n);
    return size * n;
}

/* POST (body non-NULL) or GET a control path of the fake; the reply's JSON. */
static inline json_t *fake_control(const char *path, const char *body)
{
    char url[200];
    struct buf b;
    buf_init(&b, 16 << 20);
    snprintf(url, sizeof url, "%s%s", fake_url, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode res = curl_easy_perform(h);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (res != CURLE_OK)
        fail_msg("fake control %s: %s", path, curl_easy_strerror(res));
    json_t *o = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
    if (!o)
        fail_msg("fake control %s: not JSON: %s", path, buf_str(&b));
    buf_cleanup(&b);
    return o;
}

/* Queue behaviours (a JSON array text) for family. */
static inline void fake_queue(const char *family, const char *behaviours)
{
    char body[4096];
    snprintf(body, sizeof body, "{\"family\": \"%s\", \"behaviours\": %s}", family, behaviours);
    json_decref(fake_control("/_control/queue", body));
}

static inline void fake_reset(void)
{
    json_decref(fake_control("/_control/reset", "{}"));
}

/* The requests of family so far (caller decrefs). */
static inline json_t *fake_requests(const char *family)
{
    json_t *all = fake_control("/_control/requests", NULL), *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "family")), family) == 0)
            json_array_append(out, r);
    }
    json_decref(all);
    return out;
}

static inline size_t fake_count(const char *family)
{
    json_t *r = fake_requests(family);
    size_t n = json_array_size(r);
    json_decref(r);
    return n;
}

static inline int fake_setup(void **state)
{
    if (!have_fake)
        return -1;
    fake_reset();
    return 0;
}

/* ---- chain helpers --------------------------------------------------------------- */

#define GEMINI_KEY "test-key-SECRET-42"

/* A configuration: kinds is a string of 'g' (gemini), 'o' (openai "llama")
 * and 'x' (an openai provider at url, named "dead"), then builtin. */
static inline void cfg_make(struct llm_config *c, const char *kinds, const char *url)
{
    llm_config_default(c);
    c->n = 0;
    for (const char *k = kinds; *k; k++) {
        struct llm_provider_config *p = &c->p[c->n++];
        memset(p, 0, sizeof *p);
        if (*k == 'g') {
            p->kind = LLM_GEMINI;
            snprintf(p->name, sizeof p->name, "gemini");
            snprintf(p->model, sizeof p->model, "gemini-test");
            snprintf(p->api_key, sizeof p->api_key, GEMINI_KEY);
            snprintf(p->base_url, sizeof p->base_url, "%s", fake_url);
        } else {
            p->kind = LLM_OPENAI;
            snprintf(p->name, sizeof p->name, *k == 'x' ? "dead" : "llama");
            snprintf(p->model, sizeof p->model, "local-test");
            snprintf(p->base_url, sizeof p->base_url, "%s", *k == 'x' ? url : fake_url);
        }
    }
    c->p[c->n].kind = LLM_BUILTIN;
    snprintf(c->p[c->n].name, sizeof c->p[c->n].name, "builtin");
    c->n++;
    c->connect_timeout_ms = 1000;
    c->first_token_timeout_ms = 3000;
    c->total_timeout_ms = 8000;
    c->breaker_failures = 100;
}

struct rec {
    int begins;
    char provider[4][LLM_NAME_MAX];
    int restart[4];
    int pieces;
    struct buf text; /* the pieces since the last begin */
    int cancel_at;   /* return non-zero at this piece (1-based); -1: at begin */
};

static inline int rec_begin(void *ctx, const char *provider, int restart)
{
    struct rec *r = ctx;
    if (r->begins < 4) {
        snprintf(r->provider[r->begins], LLM_NAME_MAX, "%s", provider);
        r->restart[r->begins] = restart;
    }
    r->begins++;
    buf_reset(&r->text);
    return r->cancel_at == -1;
}

static inline int rec_text(void *ctx, const char *piece, size_t len)
{
    struct rec *r = ctx;
    r->pieces++;
    buf_append(&r->text, piece, len);
    return r->cancel_at > 0 && r->pieces >= r->cancel_at;
}

static inline void rec_init(struct rec *r, struct llm_sink *s)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->text, 1 << 20);
    s->begin = rec_begin;
    s->text = rec_text;
    s->ctx = r;
}

static const char FALLBACK[] = "The narrator says: 42% of leads converted.";

static const struct llm_msg MSGS[] = {
    {"user", "How many converted?"},
    {"assistant", "Some did."},
    {"user", "Exactly how many?"},
};

static inline struct llm_request request(void)
{
    struct llm_request rq = {
        .system = "Answer from the facts only.", .msg = MSGS, .nmsg = 3, .fallback = FALLBACK};
    return rq;
}

/* Ask with a fresh chain of cfg; the answer in *a, the sink's record in *r. */
static inline int ask_with(const struct llm_config *cfg, const struct llm_request *rq,
                           struct rec *r, struct llm_answer *a, struct llm_chain **keep)
{
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    struct llm_sink sink;
    rec_init(r, &sink);
    assert_int_equal(llm_chain_new(cfg, &ch, &err), 0);
    memset(a, 0, sizeof *a);
    int rc = llm_chain_ask(ch, rq, &sink, a, &err);
    if (keep)
        *keep = ch;
    else
        llm_chain_free(ch);
    return rc;
}

static inline void answer_done(struct llm_answer *a, struct rec *r)
{
    llm_answer_cleanup(a);
    buf_cleanup(&r->text);
}

/* The main of a chain test file: the tests run against a fresh fake, or
 * the file is skipped (77) when python3 cannot start it. */
static inline int fake_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    have_fake = fake_start() == 0;
    if (!have_fake) {
        fprintf(stderr, "%s: python3 or tests/api/fake_llm.py unavailable: skipped\n", name);
        curl_global_cleanup();
        return TU_SKIP;
    }
    int rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    fake_stop();
    curl_global_cleanup();
    return rc;
}

#endif
