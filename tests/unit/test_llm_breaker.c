/*
 * test_llm_breaker.c — the chain's bookkeeping against tests/api/fake_llm.py:
 * the narrator when nothing else is configured, replies the validator
 * refuses, the one retry on 429/503 honouring Retry-After, the breaker
 * opening after failures in a row, skipping without a request, letting one
 * caller try it again (half-open) and closing, cancellation by the sink,
 * and many callers on one chain at once (run under ASan too). Skipped (77)
 * without python3.
 */
#include "test_llm_fake.h"

#include <pthread.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_provider_builtin, fake_setup),
        cmocka_unit_test_setup(test_validate, fake_setup),
        cmocka_unit_test_setup(test_retry_after, fake_setup),
        cmocka_unit_test_setup(test_breaker, fake_setup),
        cmocka_unit_test_setup(test_breaker_half_open_one_probe, fake_setup),
        cmocka_unit_test_setup(test_cancel, fake_setup),
        cmocka_unit_test_setup(test_threads, fake_setup),
    };
    return fake_main("llm_breaker", tests, sizeof tests / sizeof tests[0]);
}
