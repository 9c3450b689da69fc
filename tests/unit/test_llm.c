/*
 * test_llm.c — the language-model chain (src/llm/): the SSE reassembler fed
 * a stream cut at every byte, the configuration from the environment, and
 * the chain against tests/api/fake_llm.py (a fake Gemini and OpenAI-
 * compatible server on 127.0.0.1, started here): streamed answers from each
 * wire format, every kind of failure moving to the next provider, the retry
 * on 429, the breaker opening and closing, cancellation, and many callers
 * at once. Without python3 the fake's tests are skipped (exit 77 when the
 * rest passed).
 */
#include "testutil.h"

#include "core/buf.h"
#include "llm/llm.h"
#include "llm/llm_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- SSE reassembler -------------------------------------------------------- */

struct events {
    char got[4096];
    size_t n;
    int stop_at; /* return non-zero at this event (1-based), 0 never */
};

static int on_ev(void *ctx, const char *event, const char *data, size_t len)
{
    struct events *e = ctx;
    size_t room = sizeof e->got - strlen(e->got);
    snprintf(e->got + strlen(e->got), room, "[%s|%.*s]", event, (int)len, data);
    e->n++;
    return e->stop_at && (int)e->n == e->stop_at ? 7 : 0;
}

/* A stream with every line end, comments, ids, multi-line data, UTF-8 and a
 * bare "error:" line, and what must come out of it. */
static const char SSE_STREAM[] = ": keep-alive\r\n"
                                 "data: {\"a\":1}\r\n\r\n"
                                 "event: delta\n"
                                 "id: 7\n"
                                 "data: line one\n"
                                 "data:line two\n\n"
                                 "data: h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\r\r"
                                 "retry: 10\n"
                                 "\n" /* an event without data: nothing */
                                 "error: {\"message\":\"boom\"}\n\n"
                                 "data\n\n"
                                 "event: two\r\n"
                                 "data: x\r\n"
                                 "data: y\r\n\r\n"
                                 "data: [DONE]\r\n\r\n";
static const char SSE_WANT[] = "[message|{\"a\":1}]"
                               "[delta|line one\nline two]"
                               "[message|h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80]"
                               "[error|{\"message\":\"boom\"}]"
                               "[message|]"
                               "[two|x\ny]"
                               "[message|[DONE]]";

static void test_sse_whole(void **state)
{
    struct events e = {{0}, 0, 0};
    struct sse s;
    sse_init(&s, 1024, on_ev, &e);
    assert_int_equal(sse_feed(&s, SSE_STREAM, strlen(SSE_STREAM)), 0);
    assert_int_equal(sse_finish(&s), 0);
    ASSERT_STR(e.got, SSE_WANT);
    sse_cleanup(&s);
}

static void test_sse_every_split(void **state)
{
    size_t n = strlen(SSE_STREAM);
    for (size_t cut = 0; cut <= n; cut++) {
        struct events e = {{0}, 0, 0};
        struct sse s;
        sse_init(&s, 1024, on_ev, &e);
        assert_int_equal(sse_feed(&s, SSE_STREAM, cut), 0);
        assert_int_equal(sse_feed(&s, SSE_STREAM + cut, n - cut), 0);
        assert_int_equal(sse_finish(&s), 0);
        if (strcmp(e.got, SSE_WANT) != 0)
            fail_msg("cut at %zu:\n got  %s\n want %s", cut, e.got, SSE_WANT);
        sse_cleanup(&s);
    }
    /* and every pair of cuts */
    for (size_t a = 0; a <= n; a += 3)
        for (size_t b = a; b <= n; b++) {
            struct events e = {{0}, 0, 0};
            struct sse s;
            sse_init(&s, 1024, on_ev, &e);
            assert_int_equal(sse_feed(&s, SSE_STREAM, a), 0);
            assert_int_equal(sse_feed(&s, SSE_STREAM + a, b - a), 0);
            assert_int_equal(sse_feed(&s, SSE_STREAM + b, n - b), 0);
            assert_int_equal(sse_finish(&s), 0);
            if (strcmp(e.got, SSE_WANT) != 0)
                fail_msg("cuts at %zu, %zu:\n got  %s\n want %s", a, b, e.got, SSE_WANT);
            sse_cleanup(&s);
        }
}

static void test_sse_byte_by_byte(void **state)
{
    struct events e = {{0}, 0, 0};
    struct sse s;
    sse_init(&s, 1024, on_ev, &e);
    for (size_t i = 0; i < strlen(SSE_STREAM); i++) {
        assert_int_equal(sse_feed(&s, SSE_STREAM + i, 1), 0);
        assert_int_equal(sse_feed(&s, "", 0), 0); /* an empty piece changes nothing */
    }
    assert_int_equal(sse_finish(&s), 0);
    ASSERT_STR(e.got, SSE_WANT);
    sse_cleanup(&s);
}

static void test_sse_end_without_blank_line(void **state)
{
    struct events e = {{0}, 0, 0};
    struct sse s;
    sse_init(&s, 1024, on_ev, &e);
    const char *t = "data: a\n\ndata: [DONE]";
    assert_int_equal(sse_feed(&s, t, strlen(t)), 0);
    ASSERT_STR(e.got, "[message|a]");
    assert_int_equal(sse_finish(&s), 0);
    ASSERT_STR(e.got, "[message|a][message|[DONE]]");
    sse_cleanup(&s);
}

static void test_sse_limits_and_stop(void **state)
{
    struct events e = {{0}, 0, 0};
    struct sse s;
    char line[100];
    memset(line, 'x', sizeof line);
    sse_init(&s, 64, on_ev, &e);
    assert_int_equal(sse_feed(&s, "data: ", 6), 0);
    assert_int_equal(sse_feed(&s, line, sizeof line), LS_ELIMIT);
    sse_cleanup(&s);

    /* many short data lines that add up past the cap */
    sse_init(&s, 64, on_ev, &e);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = sse_feed(&s, "data: 0123456\n", 14);
    assert_int_equal(rc, LS_ELIMIT);
    sse_cleanup(&s);

    /* the receiver's non-zero return stops the feed there */
    struct events e2 = {{0}, 0, 2};
    sse_init(&s, 1024, on_ev, &e2);
    assert_int_equal(sse_feed(&s, SSE_STREAM, strlen(SSE_STREAM)), 7);
    assert_int_equal((int)e2.n, 2);
    sse_cleanup(&s);
}

/* Messages from servers end up in JSON: control characters become spaces,
 * bytes that are not UTF-8 become '?', and a cut never splits a character. */
static void test_clean_text(void **state)
{
    char out[64];
    const char in[] = "a\tb\nc\x01\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xff\xc3("
                      "\xed\xa0\x80\xc0\xaf!";
    llm__clean_text(out, sizeof out, in, sizeof in - 1);
    ASSERT_STR(out, "a b c   \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \?\?(\?\?\?\?\?!");
    for (size_t cap = 1; cap < sizeof out; cap++) {
        llm__clean_text(out, cap, in, sizeof in - 1);
        assert_true(strlen(out) < cap);
        if (!tu_utf8_valid(out, strlen(out)))
            fail_msg("cap %zu: not UTF-8", cap);
    }
    llm__clean_text(out, sizeof out, "stops\0here", 10);
    ASSERT_STR(out, "stops");
}

/* ---- configuration ---------------------------------------------------------- */

static const char *const ENV_VARS[] = {
    "GEMINI_API_KEY",
    "LEADSCORE_GEMINI_MODEL",
    "LEADSCORE_GEMINI_URL",
    "LEADSCORE_LLAMA_URL",
    "LEADSCORE_LLAMA_MODEL",
    "LEADSCORE_LLAMA_KEY",
    "LEADSCORE_LLM",
    "LEADSCORE_LLM_CONNECT_TIMEOUT_MS",
    "LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS",
    "LEADSCORE_LLM_TIMEOUT_MS",
    "LEADSCORE_LLM_REPLY_MAX",
    "LEADSCORE_LLM_BREAKER_FAILURES",
    "LEADSCORE_LLM_BREAKER_MS",
    "LEADSCORE_LLM_RETRY_AFTER_MAX_MS",
};

static void env_clear(void)
{
    for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
        unsetenv(ENV_VARS[i]);
}

static void test_config_default(void **state)
{
    struct llm_config c;
    struct ls_error err = {0};
    env_clear();
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 1);
    assert_int_equal(c.p[0].kind, LLM_BUILTIN);
    ASSERT_STR(c.p[0].name, "builtin");
    assert_int_equal(c.connect_timeout_ms, 2000);
    assert_int_equal(c.first_token_timeout_ms, 15000);
    assert_int_equal(c.total_timeout_ms, 60000);
    assert_int_equal(c.reply_max, 32 * 1024);
    assert_int_equal(c.breaker_failures, 3);
    assert_int_equal(c.breaker_open_ms, 30000);
    assert_int_equal(c.retry_after_max_ms, 5000);
    /* an empty variable is unset */
    setenv("GEMINI_API_KEY", "", 1);
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 1);
    env_clear();
}

static void test_config_good(void **state)
{
    struct llm_config c;
    struct ls_error err = {0};
    env_clear();
    setenv("GEMINI_API_KEY", "k-123", 1);
    setenv("LEADSCORE_LLAMA_URL", "http://127.0.0.1:11434/", 1);
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 3);
    ASSERT_STR(c.p[0].name, "gemini");
    assert_int_equal(c.p[0].kind, LLM_GEMINI);
    ASSERT_STR(c.p[0].model, "gemini-2.5-flash");
    ASSERT_STR(c.p[0].base_url, "https://generativelanguage.googleapis.com");
    ASSERT_STR(c.p[0].api_key, "k-123");
    ASSERT_STR(c.p[1].name, "llama");
    assert_int_equal(c.p[1].kind, LLM_OPENAI);
    ASSERT_STR(c.p[1].base_url, "http://127.0.0.1:11434"); /* no trailing slash */
    ASSERT_STR(c.p[1].model, "local");
    ASSERT_STR(c.p[1].api_key, "");
    ASSERT_STR(c.p[2].name, "builtin");

    setenv("LEADSCORE_LLM", " llama , gemini", 1);
    setenv("LEADSCORE_LLAMA_MODEL", "llama3.2:3b", 1);
    setenv("LEADSCORE_LLAMA_KEY", "tok", 1);
    setenv("LEADSCORE_GEMINI_MODEL", "gemini-2.0-flash", 1);
    setenv("LEADSCORE_GEMINI_URL", "http://127.0.0.1:9", 1);
    setenv("LEADSCORE_LLM_CONNECT_TIMEOUT_MS", "150", 1);
    setenv("LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS", "250", 1);
    setenv("LEADSCORE_LLM_TIMEOUT_MS", "3500", 1);
    setenv("LEADSCORE_LLM_REPLY_MAX", "1000", 1);
    setenv("LEADSCORE_LLM_BREAKER_FAILURES", "5", 1);
    setenv("LEADSCORE_LLM_BREAKER_MS", "1234", 1);
    setenv("LEADSCORE_LLM_RETRY_AFTER_MAX_MS", "0", 1);
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 3);
    ASSERT_STR(c.p[0].name, "llama");
    ASSERT_STR(c.p[0].model, "llama3.2:3b");
    ASSERT_STR(c.p[0].api_key, "tok");
    ASSERT_STR(c.p[1].name, "gemini");
    ASSERT_STR(c.p[1].model, "gemini-2.0-flash");
    ASSERT_STR(c.p[1].base_url, "http://127.0.0.1:9");
    ASSERT_STR(c.p[2].name, "builtin");
    assert_int_equal(c.connect_timeout_ms, 150);
    assert_int_equal(c.first_token_timeout_ms, 250);
    assert_int_equal(c.total_timeout_ms, 3500);
    assert_int_equal(c.reply_max, 1000);
    assert_int_equal(c.breaker_failures, 5);
    assert_int_equal(c.breaker_open_ms, 1234);
    assert_int_equal(c.retry_after_max_ms, 0);

    setenv("LEADSCORE_LLM", "builtin", 1); /* the models off */
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 1);
    ASSERT_STR(c.p[0].name, "builtin");

    setenv("LEADSCORE_LLM", "gemini,builtin", 1);
    assert_int_equal(llm_config_from_env(&c, &err), 0);
    assert_int_equal((int)c.n, 2);
    ASSERT_STR(c.p[0].name, "gemini");
    env_clear();
}

static void test_config_bad(void **state)
{
    static const struct {
        const char *var, *value, *names;
    } bad[] = {
        {"LEADSCORE_LLM", "llama", "LEADSCORE_LLM"},         /* not configured */
        {"LEADSCORE_LLM", "gpt4", "LEADSCORE_LLM"},          /* unknown */
        {"LEADSCORE_LLM", "gemini,gemini", "LEADSCORE_LLM"}, /* twice */
        {"LEADSCORE_LLM", "builtin,gemini", "LEADSCORE_LLM"},
        {"LEADSCORE_LLM", "gemini,,builtin", "LEADSCORE_LLM"},
        {"LEADSCORE_LLAMA_URL", "127.0.0.1:8080", "LEADSCORE_LLAMA_URL"},
        {"LEADSCORE_LLAMA_URL", "ftp://x", "LEADSCORE_LLAMA_URL"},
        {"LEADSCORE_LLAMA_URL", "http://", "LEADSCORE_LLAMA_URL"},
        {"LEADSCORE_LLAMA_URL", "http://a b", "LEADSCORE_LLAMA_URL"},
        {"LEADSCORE_GEMINI_URL", "file:///etc/passwd", "LEADSCORE_GEMINI_URL"},
        {"LEADSCORE_GEMINI_MODEL", "../../x", "LEADSCORE_GEMINI_MODEL"},
        {"LEADSCORE_GEMINI_MODEL", "m?key=1", "LEADSCORE_GEMINI_MODEL"},
        {"LEADSCORE_LLAMA_MODEL", "a b", "LEADSCORE_LLAMA_MODEL"},
        {"GEMINI_API_KEY", "abc\r\nX-Evil: 1", "GEMINI_API_KEY"},
        {"LEADSCORE_LLAMA_KEY", "a b", "LEADSCORE_LLAMA_KEY"},
        {"LEADSCORE_LLM_CONNECT_TIMEOUT_MS", "5s", "LEADSCORE_LLM_CONNECT_TIMEOUT_MS"},
        {"LEADSCORE_LLM_CONNECT_TIMEOUT_MS", "0", "LEADSCORE_LLM_CONNECT_TIMEOUT_MS"},
        {"LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS", "-1", "LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS"},
        {"LEADSCORE_LLM_TIMEOUT_MS", "99999999999999999999", "LEADSCORE_LLM_TIMEOUT_MS"},
        {"LEADSCORE_LLM_REPLY_MAX", "1", "LEADSCORE_LLM_REPLY_MAX"},
        {"LEADSCORE_LLM_REPLY_MAX", " 100", "LEADSCORE_LLM_REPLY_MAX"},
        {"LEADSCORE_LLM_BREAKER_FAILURES", "0", "LEADSCORE_LLM_BREAKER_FAILURES"},
        {"LEADSCORE_LLM_BREAKER_MS", "1e3", "LEADSCORE_LLM_BREAKER_MS"},
        {"LEADSCORE_LLM_RETRY_AFTER_MAX_MS", "600001", "LEADSCORE_LLM_RETRY_AFTER_MAX_MS"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct llm_config c;
        struct ls_error err = {0};
        env_clear();
        setenv("GEMINI_API_KEY", "k", 1);
        setenv(bad[i].var, bad[i].value, 1);
        int rc = llm_config_from_env(&c, &err);
        if (rc != LS_EUSAGE || !strstr(err.msg, bad[i].names))
            fail_msg("%s=%s: rc %d, message \"%s\"", bad[i].var, bad[i].value, rc, err.msg);
        /* a key is never echoed */
        if (strstr(err.msg, "X-Evil"))
            fail_msg("the key appears in \"%s\"", err.msg);
    }
    env_clear();
}

/* ---- the fake server ----------------------------------------------------------- */

static pid_t fake_pid;
static int fake_stdin = -1;
static char fake_url[64];
static int have_fake;

static int fake_start(void)
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

static void fake_stop(void)
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

static size_t grow(char *p, size_t size, size_t n, void *ctx)
{
    buf_append(ctx, p, size * n);
    return size * n;
}

/* POST (body non-NULL) or GET a control path of the fake; the reply's JSON. */
static json_t *fake_control(const char *path, const char *body)
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
static void fake_queue(const char *family, const char *behaviours)
{
    char body[4096];
    snprintf(body, sizeof body, "{\"family\": \"%s\", \"behaviours\": %s}", family, behaviours);
    json_decref(fake_control("/_control/queue", body));
}

static void fake_reset(void)
{
    json_decref(fake_control("/_control/reset", "{}"));
}

/* The requests of family so far (caller decrefs). */
static json_t *fake_requests(const char *family)
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

static size_t fake_count(const char *family)
{
    json_t *r = fake_requests(family);
    size_t n = json_array_size(r);
    json_decref(r);
    return n;
}

static int fake_setup(void **state)
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
static void cfg_make(struct llm_config *c, const char *kinds, const char *url)
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

static int rec_begin(void *ctx, const char *provider, int restart)
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

static int rec_text(void *ctx, const char *piece, size_t len)
{
    struct rec *r = ctx;
    r->pieces++;
    buf_append(&r->text, piece, len);
    return r->cancel_at > 0 && r->pieces >= r->cancel_at;
}

static void rec_init(struct rec *r, struct llm_sink *s)
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

static struct llm_request request(void)
{
    struct llm_request rq = {
        .system = "Answer from the facts only.", .msg = MSGS, .nmsg = 3, .fallback = FALLBACK};
    return rq;
}

/* Ask with a fresh chain of cfg; the answer in *a, the sink's record in *r. */
static int ask_with(const struct llm_config *cfg, const struct llm_request *rq, struct rec *r,
                    struct llm_answer *a, struct llm_chain **keep)
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

static void answer_done(struct llm_answer *a, struct rec *r)
{
    llm_answer_cleanup(a);
    buf_cleanup(&r->text);
}

/* ---- chain against the fake -------------------------------------------------------- */

static void test_openai_stream(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "o", NULL);
    snprintf(cfg.p[0].api_key, sizeof cfg.p[0].api_key, "bearer-tok");
    fake_queue("openai",
               "[{\"text\": \"Exactly 3,561 — 38.5% of them. \\u00e9\\u20ac\\ud83d\\ude00\","
               " \"chunk\": 1, \"gap\": 0.0005, \"piece\": 3}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.text,
               "Exactly 3,561 \xe2\x80\x94 38.5% of them. \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(a.len, strlen(a.text));
    ASSERT_STR(a.tried, "");
    assert_int_equal(r.begins, 1);
    ASSERT_STR(r.provider[0], "llama");
    assert_int_equal(r.restart[0], 0);
    assert_true(r.pieces > 5);
    ASSERT_STR(buf_str(&r.text), a.text);
    assert_true(a.first_ms >= 0 && a.first_ms <= a.total_ms);

    json_t *reqs = fake_requests("openai");
    assert_int_equal(json_array_size(reqs), 1);
    json_t *q = json_array_get(reqs, 0);
    ASSERT_STR(json_string_value(json_object_get(q, "path")), "/v1/chat/completions");
    json_t *h = json_object_get(q, "headers");
    ASSERT_STR(json_string_value(json_object_get(h, "authorization")), "Bearer bearer-tok");
    ASSERT_STR(json_string_value(json_object_get(h, "content-type")), "application/json");
    json_t *b = json_object_get(q, "body");
    ASSERT_STR(json_string_value(json_object_get(b, "model")), "local-test");
    assert_true(json_is_true(json_object_get(b, "stream")));
    assert_null(json_object_get(b, "response_format"));
    json_t *m = json_object_get(b, "messages");
    assert_int_equal(json_array_size(m), 4);
    ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
    ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 0), "content")),
               "Answer from the facts only.");
    ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 2), "role")), "assistant");
    ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 3), "content")),
               "Exactly how many?");
    json_decref(reqs);
    answer_done(&a, &r);
}

static void test_openai_json_mode_no_key(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "o", NULL);
    rq.json = 1;
    fake_queue("openai",
               "[{\"text\": \"{\\\"why\\\": \\\"x\\\"}\", \"crlf\": true, \"chunk\": 2}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.text, "{\"why\": \"x\"}");
    json_t *reqs = fake_requests("openai");
    json_t *q = json_array_get(reqs, 0);
    assert_null(json_object_get(json_object_get(q, "headers"), "authorization"));
    json_t *rf = json_object_get(json_object_get(q, "body"), "response_format");
    ASSERT_STR(json_string_value(json_object_get(rf, "type")), "json_object");
    json_decref(reqs);
    answer_done(&a, &r);
}

static void test_gemini_stream(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    struct llm_chain *ch = NULL;
    cfg_make(&cfg, "g", NULL);
    rq.json = 1;
    fake_queue("gemini", "[{\"text\": \"Gr\\u00fc\\u00dfe \\u2014 fine \\ud83d\\ude00 day\", "
                         "\"chunk\": 1, \"gap\": 0.0005, \"piece\": 2}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, &ch), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "Gr\xc3\xbc\xc3\x9f"
                       "e \xe2\x80\x94 fine \xf0\x9f\x98\x80 day");
    ASSERT_STR(buf_str(&r.text), a.text);
    ASSERT_STR(r.provider[0], "gemini");

    json_t *reqs = fake_requests("gemini");
    assert_int_equal(json_array_size(reqs), 1);
    json_t *q = json_array_get(reqs, 0);
    ASSERT_STR(json_string_value(json_object_get(q, "path")),
               "/v1beta/models/gemini-test:streamGenerateContent?alt=sse");
    ASSERT_STR(json_string_value(json_object_get(json_object_get(q, "headers"), "x-goog-api-key")),
               GEMINI_KEY);
    json_t *b = json_object_get(q, "body");
    json_t *si = json_object_get(b, "systemInstruction");
    ASSERT_STR(
        json_string_value(json_object_get(json_array_get(json_object_get(si, "parts"), 0), "text")),
        "Answer from the facts only.");
    json_t *ct = json_object_get(b, "contents");
    assert_int_equal(json_array_size(ct), 3);
    ASSERT_STR(json_string_value(json_object_get(json_array_get(ct, 1), "role")), "model");
    ASSERT_STR(json_string_value(json_object_get(json_array_get(ct, 2), "role")), "user");
    ASSERT_STR(json_string_value(
                   json_object_get(json_object_get(b, "generationConfig"), "responseMimeType")),
               "application/json");
    json_decref(reqs);

    /* the key never shows in health or in what was tried */
    json_t *hl = llm_chain_health(ch);
    char *dump = json_dumps(hl, 0);
    assert_null(strstr(dump, GEMINI_KEY));
    json_t *g = json_array_get(hl, 0);
    ASSERT_STR(json_string_value(json_object_get(g, "name")), "gemini");
    ASSERT_STR(json_string_value(json_object_get(g, "kind")), "gemini");
    ASSERT_STR(json_string_value(json_object_get(g, "model")), "gemini-test");
    ASSERT_STR(json_string_value(json_object_get(g, "url")), fake_url);
    assert_true(json_is_true(json_object_get(g, "last_ok")));
    ASSERT_STR(json_string_value(json_object_get(g, "breaker")), "closed");
    assert_int_equal(json_integer_value(json_object_get(g, "failures")), 0);
    json_t *bi = json_array_get(hl, 1);
    ASSERT_STR(json_string_value(json_object_get(bi, "kind")), "builtin");
    assert_true(json_is_null(json_object_get(bi, "last_ok"))); /* never called */
    free(dump);
    json_decref(hl);
    ASSERT_STR(llm_chain_order(ch), "gemini,builtin");
    llm_chain_free(ch);
    answer_done(&a, &r);
}

/* A server that ignores "stream" and answers one JSON object. */
static void test_not_streamed(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "g", NULL);
    fake_queue("gemini", "[{\"text\": \"whole gemini\", \"stream\": false}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "whole gemini");
    answer_done(&a, &r);
    cfg_make(&cfg, "o", NULL);
    fake_queue("openai", "[{\"text\": \"whole openai\", \"stream\": false}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.text, "whole openai");
    answer_done(&a, &r);
}

static void test_no_provider_builtin(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    llm_config_default(&cfg);
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "builtin");
    ASSERT_STR(a.text, FALLBACK);
    ASSERT_STR(a.tried, "");
    assert_int_equal(r.begins, 1);
    ASSERT_STR(r.provider[0], "builtin");
    ASSERT_STR(buf_str(&r.text), FALLBACK);
    assert_int_equal(r.pieces, 7); /* a word at a time */
    answer_done(&a, &r);

    /* no sink: the whole answer only */
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    assert_int_equal(llm_chain_ask(ch, &rq, NULL, &a, &err), 0);
    ASSERT_STR(a.text, FALLBACK);
    llm_answer_cleanup(&a);
    rq.fallback = NULL;
    assert_int_equal(llm_chain_ask(ch, &rq, NULL, &a, &err), LS_EINPUT);
    llm_chain_free(ch);
}

/* A port where nothing listens: the connection is refused at once. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &n), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_refused_next(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    cfg_make(&cfg, "xo", url);
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.text, "Hello from the fake model.");
    ASSERT_HAS(a.tried, "dead: cannot connect");
    assert_int_equal(r.begins, 1); /* the dead one never began */
    ASSERT_STR(r.provider[0], "llama");
    answer_done(&a, &r);
}

/* A listener whose accept queue is full and never drained: a new
 * connection's handshake gets no answer, so connecting times out. */
static void test_connect_timeout_next(void **state)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[8];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof sa;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &n), 0);
    for (int i = 0; i < 8; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    sleep_ms(100);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "xg", url);
    cfg.connect_timeout_ms = 300;
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_HAS(a.tried, "dead: timeout");
    answer_done(&a, &r);
    for (int i = 0; i < 8; i++)
        close(fill[i]);
    close(lfd);
}

static void test_first_token_timeout_next(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "og", NULL);
    cfg.first_token_timeout_ms = 300;
    fake_queue("openai", "[{\"first_delay\": 3}]");
    fake_queue("gemini", "[{\"delay\": 0.1, \"text\": \"gemini was quick enough\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "gemini was quick enough");
    ASSERT_HAS(a.tried, "llama: timeout (no first token");
    assert_int_equal(r.begins, 1);
    answer_done(&a, &r);
    /* no answer at all (not even headers) is the same timeout */
    fake_queue("openai", "[{\"delay\": 3}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_HAS(a.tried, "llama: timeout (no first token");
    answer_done(&a, &r);
}

/* Text, then a stall: the total timer ends it, and the next provider's
 * begin says restart (the receiver drops the partial text). */
static void test_total_timeout_restart(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "og", NULL);
    cfg.total_timeout_ms = 700;
    fake_queue("openai", "[{\"text\": \"partial text then nothing\", \"stall\": 5, "
                         "\"stall_after\": 2}]");
    fake_queue("gemini", "[{\"text\": \"complete\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "complete");
    ASSERT_HAS(a.tried, "llama: timeout (no complete reply");
    assert_int_equal(r.begins, 2);
    ASSERT_STR(r.provider[0], "llama");
    assert_int_equal(r.restart[0], 0);
    ASSERT_STR(r.provider[1], "gemini");
    assert_int_equal(r.restart[1], 1);
    ASSERT_STR(buf_str(&r.text), "complete");
    answer_done(&a, &r);
}

/* An error in the middle of a stream, after text, in both shapes. */
static void test_mid_stream_error_restart(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "go", NULL);
    fake_queue("gemini", "[{\"text\": \"some words\", \"error\": \"quota\"}]");
    fake_queue("openai", "[{\"text\": \"more words\", \"error\": \"slot gone\", "
                         "\"error_event\": true}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "builtin");
    ASSERT_STR(a.text, FALLBACK);
    ASSERT_HAS(a.tried, "gemini: error");
    ASSERT_HAS(a.tried, "quota");
    ASSERT_HAS(a.tried, "llama: error: slot gone");
    assert_int_equal(r.begins, 3);
    assert_int_equal(r.restart[1], 1);
    assert_int_equal(r.restart[2], 1);
    ASSERT_STR(buf_str(&r.text), FALLBACK);
    answer_done(&a, &r);
}

/* Long messages in two-byte characters from every provider: what was tried
 * and the health stay whole UTF-8 however they are cut. */
static void test_long_errors_stay_utf8(void **state)
{
    /* two prefixes, so that one of them puts a cut inside a character */
    for (int odd = 0; odd < 2; odd++) {
        struct llm_config cfg;
        struct llm_request rq = request();
        struct rec r;
        struct llm_answer a;
        struct llm_chain *ch = NULL;
        struct buf b;
        buf_init(&b, 4096);
        buf_puts(&b,
                 odd ? "[{\"status\": 500, \"error\": \"xy" : "[{\"status\": 500, \"error\": \"x");
        for (int i = 0; i < 150; i++)
            buf_puts(&b, "\\u00e9");
        buf_puts(&b, "\"}]");
        fake_reset();
        cfg_make(&cfg, "gox", fake_url);
        fake_queue("gemini", buf_str(&b));
        fake_queue("openai", buf_str(&b));
        fake_queue("openai", buf_str(&b));
        assert_int_equal(ask_with(&cfg, &rq, &r, &a, &ch), 0);
        ASSERT_STR(a.provider, "builtin");
        ASSERT_HAS(a.tried, "gemini: HTTP 500: x");
        ASSERT_HAS(a.tried, "; llama: HTTP 500: x");
        ASSERT_HAS(a.tried, "; dead: HTTP 500: x");
        assert_true(strlen(a.tried) > 300);
        if (!tu_utf8_valid(a.tried, strlen(a.tried)))
            fail_msg("tried is not UTF-8 (prefix %d): %s", odd, a.tried);
        json_t *hl = llm_chain_health(ch);
        for (size_t i = 0; i < 3; i++) {
            json_t *e = json_object_get(json_array_get(hl, i), "last_error");
            assert_true(json_is_string(e));
            ASSERT_HAS(json_string_value(e), "\xc3\xa9\xc3\xa9");
        }
        json_decref(hl);
        llm_chain_free(ch);
        answer_done(&a, &r);
        buf_cleanup(&b);
    }
}

/* The connection closed in the middle of the body, after some text. */
static void test_dropped_connection(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "og", NULL);
    fake_queue("openai", "[{\"text\": \"cut short\", \"drop\": true}]");
    fake_queue("gemini", "[{\"text\": \"whole\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_HAS(a.tried, "llama: transfer failed");
    assert_int_equal(r.begins, 2);
    assert_int_equal(r.restart[1], 1);
    answer_done(&a, &r);
}

static void test_http_500_next(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    struct llm_chain *ch = NULL;
    cfg_make(&cfg, "go", NULL);
    fake_queue("gemini", "[{\"status\": 500, \"error\": \"internal trouble\"}]");
    fake_queue("openai", "[{\"text\": \"llama answers\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, &ch), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.tried, "gemini: HTTP 500: internal trouble");
    assert_int_equal(r.begins, 1);
    assert_int_equal(r.restart[0], 0);
    json_t *hl = llm_chain_health(ch);
    json_t *g = json_array_get(hl, 0);
    assert_true(json_is_false(json_object_get(g, "last_ok")));
    ASSERT_STR(json_string_value(json_object_get(g, "last_error")), "HTTP 500: internal trouble");
    assert_int_equal(json_integer_value(json_object_get(g, "failures")), 1);
    json_decref(hl);
    llm_chain_free(ch);
    answer_done(&a, &r);
}

static void test_unparseable_builtin(void **state)
{
    static const char *const gem[] = {
        /* a JSON body that is not JSON */
        "[{\"body\": \"<html>oops</html>\", \"content_type\": \"application/json\"}]",
        /* an SSE event with broken JSON, before any text */
        "[{\"text\": \"\", \"after\": [\"{\\\"candidates\\\": [\"]}]",
        /* JSON, but not Gemini's */
        "[{\"body\": \"{\\\"hello\\\": 1}\", \"content_type\": \"application/json\"}]",
        /* a blocked prompt */
        "[{\"blocked\": \"SAFETY\"}]",
        /* a safety stop with no text */
        "[{\"text\": \"\", \"finish\": \"SAFETY\"}]",
        /* an error object in a 400 */
        "[{\"status\": 400, \"error\": \"API key not valid\"}]",
        /* text/plain nonsense with 200 */
        "[{\"body\": \"just words\", \"content_type\": \"text/plain\"}]",
    };
    static const char *const why[] = {
        "not JSON",
        "not JSON",
        "not a Gemini response",
        "prompt blocked (SAFETY)",
        "SAFETY",
        "HTTP 400: API key not valid",
        "empty reply",
    };
    static const char *const oai[] = {
        "[{\"body\": \"not json\", \"content_type\": \"application/json\"}]",
        "[{\"text\": \"\", \"after\": [\"{broken\"]}]",
        "[{\"body\": \"{\\\"error\\\": \\\"model not found\\\"}\", \"content_type\": "
        "\"application/json\"}]",
        "[{\"text\": \"\"}]",
        "[{\"status\": 404, \"body\": \"nope\"}]",
    };
    static const char *const owhy[] = {
        "not JSON", "not JSON", "error: model not found", "empty reply", "HTTP 404: nope",
    };
    for (size_t i = 0; i < sizeof gem / sizeof gem[0]; i++) {
        struct llm_config cfg;
        struct llm_request rq = request();
        struct rec r;
        struct llm_answer a;
        cfg_make(&cfg, "g", NULL);
        fake_queue("gemini", gem[i]);
        assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
        if (strcmp(a.provider, "builtin") != 0 || !strstr(a.tried, why[i]))
            fail_msg("gemini case %zu: provider %s, tried \"%s\", want \"%s\"", i, a.provider,
                     a.tried, why[i]);
        ASSERT_STR(a.text, FALLBACK);
        answer_done(&a, &r);
    }
    for (size_t i = 0; i < sizeof oai / sizeof oai[0]; i++) {
        struct llm_config cfg;
        struct llm_request rq = request();
        struct rec r;
        struct llm_answer a;
        cfg_make(&cfg, "o", NULL);
        fake_queue("openai", oai[i]);
        assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
        if (strcmp(a.provider, "builtin") != 0 || !strstr(a.tried, owhy[i]))
            fail_msg("openai case %zu: provider %s, tried \"%s\", want \"%s\"", i, a.provider,
                     a.tried, owhy[i]);
        answer_done(&a, &r);
    }
}

static int refuse_all(void *ctx, const char *reply, size_t len)
{
    int *calls = ctx;
    (*calls)++;
    return 1;
}

static int want_json(void *ctx, const char *reply, size_t len)
{
    json_t *o = json_loadb(reply, len, 0, NULL);
    int ok = json_is_object(o);
    json_decref(o);
    return !ok;
}

static void test_validate(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    int calls = 0;
    cfg_make(&cfg, "o", NULL);
    rq.validate = refuse_all;
    rq.validate_ctx = &calls;
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "builtin");
    ASSERT_STR(a.text, FALLBACK); /* the fallback is never validated */
    assert_int_equal(calls, 1);
    ASSERT_HAS(a.tried, "llama: reply refused");
    assert_int_equal(r.begins, 2);
    assert_int_equal(r.restart[1], 1);
    answer_done(&a, &r);

    /* a validator that passes what it wants */
    rq.validate = want_json;
    rq.json = 1;
    cfg_make(&cfg, "go", NULL);
    fake_queue("gemini", "[{\"text\": \"Sure! Here is JSON: {\"}]");
    fake_queue("openai", "[{\"text\": \"{\\\"why\\\": \\\"good\\\"}\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.text, "{\"why\": \"good\"}");
    answer_done(&a, &r);
}

static void test_retry_after(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "g", NULL);
    cfg.retry_after_max_ms = 2000;
    fake_queue("gemini", "[{\"status\": 429, \"headers\": {\"Retry-After\": \"1\"}},"
                         " {\"text\": \"after the wait\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "after the wait");
    ASSERT_STR(a.tried, "");
    assert_int_equal(fake_count("gemini"), 2);
    answer_done(&a, &r);

    /* retried once only: a second 429 fails the provider */
    fake_reset();
    fake_queue("openai", "[{\"status\": 503, \"headers\": {\"Retry-After\": \"0\"}},"
                         " {\"status\": 503, \"headers\": {\"Retry-After\": \"0\"}},"
                         " {\"text\": \"never asked\"}]");
    cfg_make(&cfg, "o", NULL);
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "builtin");
    ASSERT_HAS(a.tried, "llama: HTTP 503");
    assert_int_equal(fake_count("openai"), 2);
    answer_done(&a, &r);

    /* too long to wait, a date, or none at all: the next at once */
    static const char *const waits[] = {
        "[{\"status\": 429, \"headers\": {\"Retry-After\": \"10\"}}]",
        "[{\"status\": 503, \"headers\": {\"Retry-After\": \"Wed, 21 Oct 2015 07:28:00 GMT\"}}]",
        "[{\"status\": 429}]",
    };
    for (size_t i = 0; i < 3; i++) {
        fake_reset();
        cfg_make(&cfg, "go", NULL);
        cfg.retry_after_max_ms = 5000;
        fake_queue("gemini", waits[i]);
        assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
        ASSERT_STR(a.provider, "llama");
        ASSERT_HAS(a.tried, "gemini: HTTP ");
        assert_int_equal(fake_count("gemini"), 1);
        answer_done(&a, &r);
    }
}

static const char *breaker_of(struct llm_chain *ch, size_t i)
{
    static char s[16];
    json_t *hl = llm_chain_health(ch);
    snprintf(s, sizeof s, "%s",
             json_string_value(json_object_get(json_array_get(hl, i), "breaker")));
    json_decref(hl);
    return s;
}

static void ask_on(struct llm_chain *ch, const char *want_provider)
{
    struct llm_request rq = request();
    struct llm_answer a;
    struct ls_error err = {0};
    assert_int_equal(llm_chain_ask(ch, &rq, NULL, &a, &err), 0);
    ASSERT_STR(a.provider, want_provider);
    llm_answer_cleanup(&a);
}

static void test_breaker(void **state)
{
    struct llm_config cfg;
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    cfg_make(&cfg, "o", NULL);
    cfg.breaker_failures = 2;
    cfg.breaker_open_ms = 400;
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    fake_queue("openai", "[{\"status\": 500}, {\"status\": 500}]");
    ask_on(ch, "builtin");
    ASSERT_STR(breaker_of(ch, 0), "closed");
    ask_on(ch, "builtin");
    ASSERT_STR(breaker_of(ch, 0), "open");
    assert_int_equal(fake_count("openai"), 2);

    /* open: skipped without a request, and said so */
    struct llm_request rq = request();
    struct llm_answer a;
    assert_int_equal(llm_chain_ask(ch, &rq, NULL, &a, &err), 0);
    ASSERT_STR(a.provider, "builtin");
    ASSERT_STR(a.tried, "llama: skipped (breaker open)");
    llm_answer_cleanup(&a);
    assert_int_equal(fake_count("openai"), 2);

    /* half-open after breaker_open_ms: a failure opens it again at once */
    sleep_ms(500);
    ASSERT_STR(breaker_of(ch, 0), "half-open");
    fake_queue("openai", "[{\"status\": 500}]");
    ask_on(ch, "builtin");
    assert_int_equal(fake_count("openai"), 3);
    ASSERT_STR(breaker_of(ch, 0), "open");
    ask_on(ch, "builtin");
    assert_int_equal(fake_count("openai"), 3);

    /* half-open again: a success closes it */
    sleep_ms(500);
    ask_on(ch, "llama");
    assert_int_equal(fake_count("openai"), 4);
    ASSERT_STR(breaker_of(ch, 0), "closed");
    json_t *hl = llm_chain_health(ch);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(hl, 0), "failures")), 0);
    json_decref(hl);
    /* and one failure no longer opens it */
    fake_queue("openai", "[{\"status\": 500}]");
    ask_on(ch, "builtin");
    ASSERT_STR(breaker_of(ch, 0), "closed");
    ask_on(ch, "llama");
    llm_chain_free(ch);
}

/* Half-open lets one caller through: the others skip while it is tried. */
struct probe {
    struct llm_chain *ch;
    char provider[LLM_NAME_MAX];
};

static void *probe_run(void *arg)
{
    struct probe *p = arg;
    struct llm_request rq = request();
    struct llm_answer a;
    struct ls_error err = {0};
    if (llm_chain_ask(p->ch, &rq, NULL, &a, &err) == 0) {
        snprintf(p->provider, sizeof p->provider, "%s", a.provider);
        llm_answer_cleanup(&a);
    }
    return NULL;
}

static void test_breaker_half_open_one_probe(void **state)
{
    struct llm_config cfg;
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    cfg_make(&cfg, "o", NULL);
    cfg.breaker_failures = 1;
    cfg.breaker_open_ms = 200;
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    fake_queue("openai", "[{\"status\": 500}, {\"delay\": 0.8, \"text\": \"slow probe\"}]");
    ask_on(ch, "builtin");
    sleep_ms(300);
    struct probe p[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].ch = ch;
        assert_int_equal(pthread_create(&t[i], NULL, probe_run, &p[i]), 0);
        if (i == 0)
            sleep_ms(200); /* the first is inside its request */
    }
    int llama = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        llama += strcmp(p[i].provider, "llama") == 0;
    }
    assert_int_equal(llama, 1);
    assert_int_equal(fake_count("openai"), 2);
    ASSERT_STR(breaker_of(ch, 0), "closed");
    llm_chain_free(ch);
}

static void test_cancel(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    struct llm_sink sink;
    struct rec r;
    struct llm_answer a;
    memset(&a, 0, sizeof a);
    cfg_make(&cfg, "o", NULL);
    cfg.breaker_failures = 1;
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    /* stopped in the middle of a provider's stream */
    rec_init(&r, &sink);
    r.cancel_at = 2;
    fake_queue("openai", "[{\"text\": \"a long answer in many pieces\", \"piece\": 2}]");
    assert_int_equal(llm_chain_ask(ch, &rq, &sink, &a, &err), LS_ECANCELED);
    assert_null(a.text);
    assert_int_equal(r.pieces, 2);
    assert_int_equal(r.begins, 1);
    /* a cancel is not the provider's failure */
    ASSERT_STR(breaker_of(ch, 0), "closed");
    buf_cleanup(&r.text);
    /* stopped at begin */
    rec_init(&r, &sink);
    r.cancel_at = -1;
    assert_int_equal(llm_chain_ask(ch, &rq, &sink, &a, &err), LS_ECANCELED);
    assert_int_equal(r.pieces, 0);
    buf_cleanup(&r.text);
    llm_chain_free(ch);
    /* stopped during the narrator */
    llm_config_default(&cfg);
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    rec_init(&r, &sink);
    r.cancel_at = 3;
    assert_int_equal(llm_chain_ask(ch, &rq, &sink, &a, &err), LS_ECANCELED);
    assert_int_equal(r.pieces, 3);
    buf_cleanup(&r.text);
    llm_chain_free(ch);
}

static void test_reply_max(void **state)
{
    struct llm_config cfg;
    struct llm_request rq = request();
    struct rec r;
    struct llm_answer a;
    cfg_make(&cfg, "og", NULL);
    cfg.reply_max = 20;
    fake_queue("openai", "[{\"text\": \"this reply is much longer than twenty bytes\"}]");
    fake_queue("gemini", "[{\"text\": \"exactly twenty bytes\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.tried, "llama: reply longer than 20 bytes");
    ASSERT_STR(a.provider, "gemini");
    ASSERT_STR(a.text, "exactly twenty bytes");
    ASSERT_HAS(a.tried, "llama: reply longer than 20 bytes");
    answer_done(&a, &r);
    /* the same for a body that was not streamed */
    fake_queue("openai", "[{\"text\": \"this reply is much longer than twenty bytes\", "
                         "\"stream\": false}]");
    fake_queue("gemini", "[{\"text\": \"exactly twenty bytes\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_HAS(a.tried, "llama: reply longer than 20 bytes");
    answer_done(&a, &r);
    /* a body of anything but text (here comments) is capped too */
    fake_queue("openai", "[{\"comments\": 3000000, \"text\": \"short\"}]");
    fake_queue("gemini", "[{\"text\": \"exactly twenty bytes\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "gemini");
    ASSERT_HAS(a.tried, "llama: reply body too long");
    answer_done(&a, &r);
    /* the same comments under the cap do no harm */
    fake_queue("openai", "[{\"comments\": 100000, \"text\": \"short\"}]");
    assert_int_equal(ask_with(&cfg, &rq, &r, &a, NULL), 0);
    ASSERT_STR(a.provider, "llama");
    ASSERT_STR(a.text, "short");
    answer_done(&a, &r);
}

/* Many callers at once on one chain (run under ASan too). */
#define THREADS 8
#define CALLS   6

struct worker {
    struct llm_chain *ch;
    int ok;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < CALLS; i++) {
        struct llm_request rq = request();
        struct llm_answer a;
        struct ls_error err = {0};
        struct rec r;
        struct llm_sink sink;
        rec_init(&r, &sink);
        int rc = llm_chain_ask(w->ch, &rq, &sink, &a, &err);
        if (rc || strcmp(a.provider, "llama") != 0)
            fprintf(stderr, "thread call: rc %d, provider %s, tried %s\n", rc, a.provider, a.tried);
        if (rc == 0 && strcmp(a.provider, "llama") == 0 &&
            strcmp(a.text, "Hello from the fake model.") == 0 &&
            strcmp(buf_str(&r.text), a.text) == 0)
            w->ok++;
        if (i % 3 == 0) {
            json_t *h = llm_chain_health(w->ch);
            json_decref(h);
        }
        answer_done(&a, &r);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct llm_config cfg;
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    cfg_make(&cfg, "o", NULL);
    json_decref(fake_control("/_control/default",
                             "{\"family\": \"openai\", \"behaviour\": {\"chunk\": 7}}"));
    assert_int_equal(llm_chain_new(&cfg, &ch, &err), 0);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].ch = ch;
        w[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    assert_int_equal(ok, THREADS * CALLS);
    assert_int_equal(fake_count("openai"), THREADS * CALLS);
    llm_chain_free(ch);
}

static void test_chain_new_refuses(void **state)
{
    struct llm_config c;
    struct llm_chain *ch = NULL;
    struct ls_error err = {0};
    llm_config_default(&c);
    c.p[1] = c.p[0];
    c.p[0].kind = LLM_OPENAI; /* builtin must be last */
    c.p[1].kind = LLM_OPENAI;
    c.n = 2;
    assert_int_equal(llm_chain_new(&c, &ch, &err), LS_EUSAGE);
    assert_null(ch);
    llm_config_default(&c);
    c.n = 0;
    assert_int_equal(llm_chain_new(&c, &ch, &err), LS_EUSAGE);
    llm_config_default(&c);
    c.reply_max = 0;
    assert_int_equal(llm_chain_new(&c, &ch, &err), LS_EUSAGE);
    llm_config_default(&c);
    assert_int_equal(llm_chain_new(&c, &ch, &err), 0);
    ASSERT_STR(llm_chain_order(ch), "builtin");
    llm_chain_free(ch);
    llm_chain_free(NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest base[] = {
        cmocka_unit_test(test_sse_whole),
        cmocka_unit_test(test_sse_every_split),
        cmocka_unit_test(test_sse_byte_by_byte),
        cmocka_unit_test(test_sse_end_without_blank_line),
        cmocka_unit_test(test_sse_limits_and_stop),
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_config_default),
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_no_provider_builtin),
        cmocka_unit_test(test_chain_new_refuses),
    };
    const struct CMUnitTest fake[] = {
        cmocka_unit_test_setup(test_openai_stream, fake_setup),
        cmocka_unit_test_setup(test_openai_json_mode_no_key, fake_setup),
        cmocka_unit_test_setup(test_gemini_stream, fake_setup),
        cmocka_unit_test_setup(test_not_streamed, fake_setup),
        cmocka_unit_test_setup(test_refused_next, fake_setup),
        cmocka_unit_test_setup(test_connect_timeout_next, fake_setup),
        cmocka_unit_test_setup(test_first_token_timeout_next, fake_setup),
        cmocka_unit_test_setup(test_total_timeout_restart, fake_setup),
        cmocka_unit_test_setup(test_mid_stream_error_restart, fake_setup),
        cmocka_unit_test_setup(test_http_500_next, fake_setup),
        cmocka_unit_test_setup(test_dropped_connection, fake_setup),
        cmocka_unit_test_setup(test_long_errors_stay_utf8, fake_setup),
        cmocka_unit_test_setup(test_unparseable_builtin, fake_setup),
        cmocka_unit_test_setup(test_validate, fake_setup),
        cmocka_unit_test_setup(test_retry_after, fake_setup),
        cmocka_unit_test_setup(test_breaker, fake_setup),
        cmocka_unit_test_setup(test_breaker_half_open_one_probe, fake_setup),
        cmocka_unit_test_setup(test_cancel, fake_setup),
        cmocka_unit_test_setup(test_reply_max, fake_setup),
        cmocka_unit_test_setup(test_threads, fake_setup),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    int rc = cmocka_run_group_tests_name("llm", base, NULL, NULL);
    have_fake = fake_start() == 0;
    if (!have_fake) {
        fprintf(stderr, "test_llm: python3 or tests/api/fake_llm.py unavailable: "
                        "the chain's tests against the fake server are skipped\n");
        curl_global_cleanup();
        return rc ? rc : TU_SKIP;
    }
    rc |= cmocka_run_group_tests_name("llm_fake", fake, NULL, NULL);
    fake_stop();
    curl_global_cleanup();
    return rc;
}
