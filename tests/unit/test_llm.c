/*
 * test_llm.c — the pieces of src/llm/ that need no server: the SSE
 * reassembler fed a stream cut at every byte (and every pair of cuts),
 * server messages made safe for JSON, the configuration from the
 * environment (each bad variable refused by name), and the chain's own
 * checks of a configuration. The chain against a fake server is in
 * test_llm_chain.c and test_llm_breaker.c.
 */
#include "testutil.h"

#include "core/buf.h"
#include "llm/llm.h"
#include "llm/llm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_whole),
        cmocka_unit_test(test_sse_every_split),
        cmocka_unit_test(test_sse_byte_by_byte),
        cmocka_unit_test(test_sse_end_without_blank_line),
        cmocka_unit_test(test_sse_limits_and_stop),
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_config_default),
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_chain_new_refuses),
    };
    return cmocka_run_group_tests_name("llm", tests, NULL, NULL);
}
