/*
 * test_llm_chain.c — the chain against tests/api/fake_llm.py (a fake Gemini
 * and OpenAI-compatible server on 127.0.0.1): a streamed answer from each
 * wire format (one-byte pieces, UTF-8 cut anywhere, the requests as sent:
 * path, key header, body), replies that were not streamed, and every kind
 * of failure moving to the next provider: refused and timed-out
 * connections, first-token and total timeouts, errors in the middle of a
 * stream (with restart), HTTP errors, bodies that are not the wire format,
 * replies too long. Skipped (77) without python3.
 */
#include "test_llm_fake.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
        cmocka_unit_test_setup(test_reply_max, fake_setup),
    };
    return fake_main("llm_chain", tests, sizeof tests / sizeof tests[0]);
}
