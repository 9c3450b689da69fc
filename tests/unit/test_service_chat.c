/*
 * test_service_chat.c — the service's language layer (service.h, "insights
 * and chat"): facts stored with a run, insights made by their own worker
 * after the run (the narrator's, a model's, a model's refused), chat jobs
 * streaming meta then text and storing the exchange, history sent back,
 * cancellation, the chat pool's own limit, the old /chat's lookups, a run's
 * deletion taking its insights and messages, and health listing providers.
 *
 * No network: the chain is the built-in narrator (llm_config_default), or
 * a fake OpenAI-compatible server run by this file on 127.0.0.1 that
 * answers chat completions as llama-server does (SSE, data: [DONE]). The
 * fake can hold its answers at a gate the test opens, so "the run did not
 * wait for its insights" is a state the test makes: the run's job has
 * ended while the model has not answered yet.
 */
#include "svctest.h"

#include "chat/chat.h"
#include "llm/llm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <strings.h>
#include <sys/socket.h>

#define TREES      15
#define WAIT_STEPS 12000 /* 10 ms each: a hang guard, never a timing check */

/* ---- a fake OpenAI-compatible server ------------------------------------- */

struct fake {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int hold; /* answers wait until the test clears it */
    int held; /* requests waiting at the hold */
    int stop;
    const char *insight_reply; /* for requests asking JSON (insights) */
    const char *chat_reply;
    int requests;
    char *bodies[64]; /* the request bodies, in order */
    int nbodies;
};

static int read_request(int c, char **body)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    char *end = NULL;
    while (!end) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        ssize_t k = recv(c, b + n, cap - n, 0);
        if (k <= 0) {
            free(b);
            return -1;
        }
        n += (size_t)k;
        b[n] = 0;
        end = strstr(b, "\r\n\r\n");
    }
    size_t head = (size_t)(end - b) + 4, len = 0;
    for (char *p = b; p < end; p++)
        if ((p == b || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0)
            len = strtoul(p + 15, NULL, 10);
    if ((strstr(b, "Expect: 100-continue") || strstr(b, "expect: 100-continue")) && n == head) {
        const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(c, cont, strlen(cont), MSG_NOSIGNAL) < 0) {
            free(b);
            return -1;
        }
    }
    while (n < head + len) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        ssize_t k = recv(c, b + n, cap - n, 0);
        if (k <= 0) {
            free(b);
            return -1;
        }
        n += (size_t)k;
    }
    b[head + len] = 0;
    *body = strdup(b + head);
    free(b);
    return 0;
}

static void send_sse(int c, const char *text)
{
    const char *hdr = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      "Connection: close\r\n\r\n";
    send(c, hdr, strlen(hdr), MSG_NOSIGNAL);
    /* two pieces, so the answer streams */
    size_t n = strlen(text), half = n / 2;
    for (int part = 0; part < 2; part++) {
        char *piece = strndup(text + (part ? half : 0), part ? n - half : half);
        json_t *o = json_pack("{s:[{s:{s:s}}]}", "choices", "delta", "content", piece);
        char *d = json_dumps(o, JSON_COMPACT);
        char line[8192];
        int k = snprintf(line, sizeof line, "data: %s\n\n", d);
        send(c, line, (size_t)k, MSG_NOSIGNAL);
        free(d);
        json_decref(o);
        free(piece);
    }
    const char *done = "data: [DONE]\n\n";
    send(c, done, strlen(done), MSG_NOSIGNAL);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            break;
        char *body = NULL;
        if (read_request(c, &body) != 0) {
            close(c);
            continue;
        }
        pthread_mutex_lock(&f->lock);
        f->requests++;
        if (f->nbodies < 64)
            f->bodies[f->nbodies++] = strdup(body);
        f->held++;
        pthread_cond_broadcast(&f->cond);
        while (f->hold && !f->stop)
            pthread_cond_wait(&f->cond, &f->lock);
        f->held--;
        const char *reply = strstr(body, "response_format") ? f->insight_reply : f->chat_reply;
        pthread_mutex_unlock(&f->lock);
        send_sse(c, reply);
        free(body);
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake *f, const char *insight_reply, const char *chat_reply, int hold)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->insight_reply = insight_reply;
    f->chat_reply = chat_reply;
    f->hold = hold;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_release(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->hold = 0;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void fake_wait_held(struct fake *f, int n)
{
    pthread_mutex_lock(&f->lock);
    while (f->held < n)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->thread, NULL);
    close(f->fd);
    for (int i = 0; i < f->nbodies; i++)
        free(f->bodies[i]);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
}

/* ---- services ------------------------------------------------------------ */

static struct llm_config builtin_cfg;

/* A service with the narrator only (or cfg), chat pool workers/queue. */
static struct service *open_chat(const char *dir, const struct llm_config *cfg, uint32_t insights,
                                 uint32_t chat_workers, uint32_t chat_queue)
{
    struct service_opts o;
    service_opts_default(&o);
    llm_config_default(&builtin_cfg);
    o.llm = cfg ? cfg : &builtin_cfg;
    o.insights = insights;
    o.chat_workers = chat_workers;
    o.chat_queue = chat_queue;
    return open_service_opts(dir, &o);
}

/* The chain: the fake llama first, then the narrator. */
static void fake_cfg(struct llm_config *c, const struct fake *f)
{
    llm_config_default(c);
    c->p[1] = c->p[c->n - 1];
    memset(&c->p[0], 0, sizeof c->p[0]);
    c->p[0].kind = LLM_OPENAI;
    snprintf(c->p[0].name, sizeof c->p[0].name, "llama");
    snprintf(c->p[0].base_url, sizeof c->p[0].base_url, "http://127.0.0.1:%d", f->port);
    snprintf(c->p[0].model, sizeof c->p[0].model, "local");
    c->n = 2;
    c->first_token_timeout_ms = 120000; /* the fake may be held by the test */
    c->total_timeout_ms = 180000;
}

static int64_t scored_run(struct service *s, const char *name)
{
    int64_t ds = upload_ok(s, demo_csv, name);
    int64_t run = 0;
    json_decref(run_trees_ok(s, ds, TREES, &run));
    return run;
}

/* service_insights once its status is "done" (caller owns). */
static json_t *insights_done(struct service *s, int64_t run)
{
    struct ls_error err;
    for (int i = 0; i < WAIT_STEPS; i++) {
        json_t *o = NULL;
        if (service_insights(s, run, &o, &err))
            fail_msg("service_insights: %s", err.msg);
        if (!strcmp(json_string_value(json_object_get(o, "status")), "done"))
            return o;
        json_decref(o);
        usleep(10000);
    }
    fail_msg("the insights of run %lld never came", (long long)run);
    return NULL;
}

static size_t words(const char *s)
{
    size_t n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = *s == ' ';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

static int64_t db_count(struct service *s, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/leadscore.db", service_store(s)->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- a sink that records ------------------------------------------------- */

struct rec {
    pthread_mutex_t lock;
    json_t *metas;
    char text[65536];
    size_t len;
    int order_ok; /* meta came before the first piece */
    int stop_at_text;
    struct gate *hold; /* meta waits here when set */
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->metas = json_array();
    r->order_ok = 1;
}

static void rec_cleanup(struct rec *r)
{
    json_decref(r->metas);
    pthread_mutex_destroy(&r->lock);
}

static int rec_meta(void *ctx, const json_t *meta)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    json_array_append_new(r->metas, json_deep_copy(meta));
    pthread_mutex_unlock(&r->lock);
    if (r->hold)
        gate_done(r->hold);
    return 0;
}

static int rec_text(void *ctx, const char *piece, size_t len)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (json_array_size(r->metas) == 0)
        r->order_ok = 0;
    if (r->len + len < sizeof r->text) {
        memcpy(r->text + r->len, piece, len);
        r->len += len;
        r->text[r->len] = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return r->stop_at_text;
}

static json_t *chat_ok(struct service *s, int64_t run, const char *msg, struct rec *r)
{
    struct service_chat_sink sink = {rec_meta, rec_text, r};
    struct service_job *job = NULL;
    struct ls_error err;
    int rc = service_chat_submit(s, run, msg, r ? &sink : NULL, NULL, NULL, &job, &err);
    if (rc)
        fail_msg("chat submit: %s", err.msg);
    return job_result_ok(job);
}

/* ---- facts and insights -------------------------------------------------- */

static void test_facts_and_builtin_insights(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, SERVICE_INSIGHTS_TOP, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    /* facts went in with the run */
    char *facts = NULL;
    struct ls_error err;
    assert_int_equal(store_run_facts(service_store(s), run, &facts, &err), 0);
    assert_non_null(facts);
    json_t *fj = json_loads(facts, 0, NULL);
    assert_non_null(fj);
    assert_true(json_is_object(fj));
    assert_true(strlen(facts) <= CHAT_FACTS_MAX);
    json_decref(fj);
    free(facts);

    json_t *o = insights_done(s, run);
    assert_int_equal(jint(o, "run_id"), run);
    json_t *a = json_object_get(o, "insights");
    assert_int_equal(json_array_size(a), SERVICE_INSIGHTS_TOP);
    size_t i;
    json_t *x;
    json_int_t last_rank = 0;
    json_array_foreach(a, i, x)
    {
        const char *why = json_string_value(json_object_get(x, "why"));
        const char *act = json_string_value(json_object_get(x, "next_action"));
        assert_non_null(why);
        assert_non_null(act);
        assert_true(words(why) >= 1 && words(why) <= INSIGHT_WHY_WORDS);
        assert_true(words(act) >= 1 && words(act) <= INSIGHT_ACTION_WORDS);
        assert_string_equal(json_string_value(json_object_get(x, "provider")), "builtin");
        json_int_t rank = jint(x, "rank");
        assert_true(rank > last_rank); /* best first */
        last_rank = rank;
        assert_true(jint(x, "row") >= 1);
        assert_non_null(json_object_get(x, "tier"));
        assert_non_null(json_object_get(x, "created"));
    }
    assert_int_equal(last_rank, SERVICE_INSIGHTS_TOP); /* the top 5 by rank */
    json_int_t top_row = jint(json_array_get(a, 0), "row");
    json_decref(o);

    /* the lead and the page carry them; other leads carry null */
    json_t *lead = NULL;
    assert_int_equal(service_lead(s, run, (uint64_t)top_row, &lead, &err), 0);
    json_t *ins = json_object_get(lead, "insight");
    assert_true(json_is_object(ins));
    assert_string_equal(json_string_value(json_object_get(ins, "provider")), "builtin");
    json_decref(lead);
    struct store_lead_query q = {-1, NULL, "rank", 0, 0, 10};
    json_t *page = NULL;
    assert_int_equal(service_leads(s, run, &q, &page, &err), 0);
    json_array_foreach(json_object_get(page, "leads"), i, x)
    {
        json_t *li = json_object_get(x, "insight");
        assert_non_null(li);
        if (jint(x, "rank") <= SERVICE_INSIGHTS_TOP)
            assert_true(json_is_object(li));
        else
            assert_true(json_is_null(li));
    }
    json_decref(page);
    service_close(s);
    rm_dir(dir);
}

/* The run ends while the model holds the first insight; then the model's
 * valid JSON is stored as the llama's. */
static void test_model_insights_after_run(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f,
               "{\"why\": \"Spent long on the site and came by referral.\", "
               "\"next_action\": \"Call them today.\"}",
               "unused", 1);
    struct llm_config cfg;
    fake_cfg(&cfg, &f);
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, &cfg, 3, 2, 4);
    int64_t run = scored_run(s, "leads.csv"); /* the run's job has ended */
    fake_wait_held(&f, 1);                    /* and its first insight waits on the model */
    json_t *o = NULL;
    struct ls_error err;
    assert_int_equal(service_insights(s, run, &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
    assert_int_equal(json_array_size(json_object_get(o, "insights")), 0);
    json_decref(o);
    fake_release(&f);
    o = insights_done(s, run);
    json_t *a = json_object_get(o, "insights");
    assert_int_equal(json_array_size(a), 3);
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        assert_string_equal(json_string_value(json_object_get(x, "provider")), "llama");
        assert_string_equal(json_string_value(json_object_get(x, "why")),
                            "Spent long on the site and came by referral.");
        assert_string_equal(json_string_value(json_object_get(x, "next_action")),
                            "Call them today.");
    }
    json_decref(o);
    /* the prompt carried the lead as data, and asked for JSON */
    assert_true(f.nbodies >= 3);
    assert_non_null(strstr(f.bodies[0], "LEAD_DATA"));
    assert_non_null(strstr(f.bodies[0], "response_format"));
    service_close(s);
    fake_stop(&f);
    rm_dir(dir);
}

/* Runs stored faster than the model answers: past SERVICE_INSIGHTS_QUEUE
 * waiting, the oldest waiting run is pushed out; asking for its insights
 * queues it again, and in the end every run has its insight. */
static void test_full_queue_drops_oldest(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, "{\"why\": \"Visited the pricing page twice.\", \"next_action\": \"Call.\"}",
               "unused", 1);
    struct llm_config cfg;
    fake_cfg(&cfg, &f);
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, &cfg, 1, 2, 4);
    int64_t first = scored_run(s, "leads.csv");
    fake_wait_held(&f, 1); /* the worker is held on the first run's insight */
    json_t *mo = NULL;
    struct ls_error err;
    assert_int_equal(service_run_get(s, first, &mo, &err), 0);
    int64_t model = jint(mo, "model_id");
    json_decref(mo);
    enum { MORE = SERVICE_INSIGHTS_QUEUE + 1 };
    int64_t runs[MORE];
    for (int i = 0; i < MORE; i++) { /* scored with the same model: no training */
        char name[32];
        snprintf(name, sizeof name, "batch%d.csv", i);
        char *text = tu_demo_text(40, 100 + (uint64_t)i);
        int64_t ds = upload_ok(s, text, name);
        free(text);
        struct service_run_req r;
        memset(&r, 0, sizeof r);
        r.dataset_id = ds;
        r.model_id = model;
        json_t *cached = NULL;
        json_decref(job_result_ok(run_submit_ok(s, &r, NULL, NULL, &runs[i], &cached)));
    }
    json_t *h = service_health_json(s);
    assert_int_equal(jint(h, "insights_dropped"), 1);
    assert_int_equal(jint(h, "insights_queued"), SERVICE_INSIGHTS_QUEUE + 1); /* + the held one */
    json_decref(h);
    /* the pushed-out run reads pending, and is queued again by asking */
    json_t *o = NULL;
    assert_int_equal(service_insights(s, runs[0], &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
    json_decref(o);
    h = service_health_json(s);
    assert_int_equal(jint(h, "insights_dropped"), 2); /* it pushed out the next oldest */
    json_decref(h);
    fake_release(&f);
    for (int i = 0; i < MORE; i++) {
        o = insights_done(s, runs[i]);
        assert_int_equal(json_array_size(json_object_get(o, "insights")), 1);
        json_decref(o);
    }
    o = insights_done(s, first);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(o, "insights"), 0), "provider")),
                        "llama");
    json_decref(o);
    service_close(s);
    fake_stop(&f);
    rm_dir(dir);
}

/* A reply that is not the insight JSON falls back to the narrator. */
static void test_invalid_model_insight_falls_back(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, "Sure! Here is <b>why</b>: they are great.", "unused", 0);
    struct llm_config cfg;
    fake_cfg(&cfg, &f);
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, &cfg, 2, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    json_t *o = insights_done(s, run);
    json_t *a = json_object_get(o, "insights");
    assert_int_equal(json_array_size(a), 2);
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        assert_string_equal(json_string_value(json_object_get(x, "provider")), "builtin");
        assert_null(strstr(json_string_value(json_object_get(x, "why")), "<b>"));
    }
    json_decref(o);
    assert_true(f.requests >= 2); /* the model was asked, and refused */
    service_close(s);
    fake_stop(&f);
    rm_dir(dir);
}

/* A run stored without insights (insights off, or before a restart) gets
 * them when they are asked for, and from a cached submission. */
static void test_missing_insights_queued_again(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    json_t *o = NULL;
    struct ls_error err;
    assert_int_equal(service_insights(s, run, &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "done"); /* none wanted */
    json_decref(o);
    service_close(s);

    s = open_chat(dir, NULL, 4, 2, 4);
    o = insights_done(s, run);
    assert_int_equal(json_array_size(json_object_get(o, "insights")), 4);
    json_decref(o);
    service_close(s);

    /* more wanted now: the cached run queues the missing ones */
    s = open_chat(dir, NULL, 6, 2, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = TREES;
    int64_t again = 0;
    json_t *cached = NULL;
    assert_null(run_submit_ok(s, &r, NULL, NULL, &again, &cached));
    assert_int_equal(again, run);
    json_decref(cached);
    o = insights_done(s, run);
    assert_int_equal(json_array_size(json_object_get(o, "insights")), 6);
    json_decref(o);
    assert_int_equal(service_insights(s, 999, &o, &err), LS_ENOT_FOUND);
    service_close(s);
    rm_dir(dir);
}

/* A run stored without facts (before schema 2) is asked about all the
 * same: its facts are built again from its model and file. */
static void test_run_without_facts(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    json_t *o = chat_ok(s, run, "How good is the model?", NULL);
    char *before = strdup(json_string_value(json_object_get(o, "text")));
    json_decref(o);
    service_close(s);

    char path[1024], sql[128];
    snprintf(path, sizeof path, "%s/leadscore.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE runs SET facts_json = NULL WHERE id = %lld", (long long)run);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    s = open_chat(dir, NULL, 2, 2, 4);
    char *facts = (char *)"x";
    struct ls_error err;
    assert_int_equal(store_run_facts(service_store(s), run, &facts, &err), 0);
    assert_null(facts);
    o = chat_ok(s, run, "How good is the model?", NULL);
    assert_string_equal(json_string_value(json_object_get(o, "text")), before);
    json_decref(o);
    free(before);
    o = insights_done(s, run); /* queued again, with facts built again */
    assert_int_equal(json_array_size(json_object_get(o, "insights")), 2);
    json_decref(o);
    service_close(s);
    rm_dir(dir);
}

/* ---- chat ---------------------------------------------------------------- */

static void test_chat_streams_and_stores(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    struct rec r;
    rec_init(&r);
    json_t *o = chat_ok(s, run, "How good is the model?", &r);
    assert_int_equal(jint(o, "run_id"), run);
    assert_string_equal(json_string_value(json_object_get(o, "provider")), "builtin");
    const char *text = json_string_value(json_object_get(o, "text"));
    assert_non_null(text);
    assert_true(strlen(text) > 0);
    assert_string_equal(r.text, text); /* the pieces make the answer */
    assert_true(r.order_ok);
    assert_int_equal(json_array_size(r.metas), 1);
    json_t *meta = json_array_get(r.metas, 0);
    assert_string_equal(json_string_value(json_object_get(meta, "provider")), "builtin");
    assert_true(json_is_false(json_object_get(meta, "restart")));
    assert_non_null(json_string_value(json_object_get(meta, "intent")));
    assert_true(json_is_array(json_object_get(meta, "facts")));
    assert_true(json_is_array(json_object_get(o, "facts")));
    assert_true(jint(o, "took_ms") >= jint(o, "first_ms"));
    int64_t mid = jint(o, "message_id");
    json_decref(o);
    rec_cleanup(&r);

    json_t *h = NULL;
    struct ls_error err;
    assert_int_equal(service_chat_history(s, run, &h, &err), 0);
    json_t *msgs = json_object_get(h, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    json_t *q = json_array_get(msgs, 0), *a = json_array_get(msgs, 1);
    assert_string_equal(json_string_value(json_object_get(q, "role")), "user");
    assert_string_equal(json_string_value(json_object_get(q, "text")), "How good is the model?");
    assert_true(json_is_null(json_object_get(q, "provider")));
    assert_string_equal(json_string_value(json_object_get(a, "role")), "assistant");
    assert_string_equal(json_string_value(json_object_get(a, "provider")), "builtin");
    assert_int_equal(jint(a, "message_id"), mid);
    assert_true(json_is_array(json_object_get(a, "facts")));
    json_decref(h);

    /* without a sink: the same answer, no stream */
    o = chat_ok(s, run, "How many leads are High?", NULL);
    assert_true(strlen(json_string_value(json_object_get(o, "text"))) > 0);
    json_decref(o);
    assert_int_equal(service_chat_history(s, run, &h, &err), 0);
    assert_int_equal(json_array_size(json_object_get(h, "messages")), 4);
    json_decref(h);
    service_close(s);
    rm_dir(dir);
}

/* A follow-up sends the conversation so far back to the model. */
static void test_history_sent_back(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, "{}", "The High tier converts at 62 percent.", 0);
    struct llm_config cfg;
    fake_cfg(&cfg, &f);
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, &cfg, 0, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    struct rec r;
    rec_init(&r);
    json_t *o = chat_ok(s, run, "What is the conversion rate of the High tier?", &r);
    assert_string_equal(json_string_value(json_object_get(o, "provider")), "llama");
    assert_string_equal(json_string_value(json_object_get(o, "text")),
                        "The High tier converts at 62 percent.");
    assert_string_equal(r.text, "The High tier converts at 62 percent.");
    json_decref(o);
    rec_cleanup(&r);
    assert_int_equal(f.nbodies, 1);
    assert_null(strstr(f.bodies[0], "converts at 62"));

    o = chat_ok(s, run, "And the Low tier?", NULL);
    json_decref(o);
    assert_int_equal(f.nbodies, 2);
    /* the second request carries the first question and answer */
    json_t *req = json_loads(f.bodies[1], 0, NULL);
    assert_non_null(req);
    json_t *msgs = json_object_get(req, "messages");
    int saw_q = 0, saw_a = 0;
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *c = json_string_value(json_object_get(m, "content"));
        const char *role = json_string_value(json_object_get(m, "role"));
        if (c && role && !strcmp(role, "user") &&
            !strcmp(c, "What is the conversion rate of the High tier?"))
            saw_q = 1;
        if (c && role && !strcmp(role, "assistant") &&
            !strcmp(c, "The High tier converts at 62 percent."))
            saw_a = 1;
    }
    json_decref(req);
    assert_true(saw_q);
    assert_true(saw_a);
    service_close(s);
    fake_stop(&f);
    rm_dir(dir);
}

/* The text with a second identifier column last, "Lead Number" = 90000 +
 * line (the model's id column stays Lead ID, the first). */
static char *with_lead_number(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(2 * n + 64), *o = out;
    int line = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        memcpy(o, p, len);
        o += len;
        o += line ? sprintf(o, ",%d\n", 90000 + line) : sprintf(o, ",Lead Number\n");
        p += len + (eol ? 1 : 0);
        line++;
    }
    *o = 0;
    return out;
}

/* "lead X" finds the lead by the model's id column, or by another column
 * naming one lead alone. */
static void test_chat_names_leads(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    char *text = with_lead_number(demo_csv);
    int64_t ds = upload_ok(s, text, "numbered.csv");
    free(text);
    int64_t run = 0;
    json_decref(run_trees_ok(s, ds, TREES, &run));
    struct store_lead l;
    struct ls_error err;
    assert_int_equal(store_lead_get(service_store(s), run, 42, &l, &err), 0);
    char want[64], q[128];
    snprintf(want, sizeof want, "rank %llu", (unsigned long long)l.rank);
    assert_non_null(l.lead_id);
    /* the model's id column is Lead ID: Lead Number is found by its cells */
    assert_string_equal(l.lead_id, "L-0000042");
    snprintf(q, sizeof q, "Why is lead %s scored as it is?", l.lead_id);
    json_t *o = chat_ok(s, run, q, NULL);
    const char *a = json_string_value(json_object_get(o, "text"));
    if (!strstr(a, want) || !strstr(a, l.lead_id))
        fail_msg("'%s' answered '%s' (wanted %s)", q, a, want);
    json_decref(o);
    /* row 42's Lead Number is 90042 */
    o = chat_ok(s, run, "Why is lead 90042 scored as it is?", NULL);
    a = json_string_value(json_object_get(o, "text"));
    if (!strstr(a, want))
        fail_msg("lead 90042 answered '%s' (wanted %s)", a, want);
    json_decref(o);
    store_lead_cleanup(&l);
    service_close(s);
    rm_dir(dir);
}

/* Many questions at once (more than the workers): every one answered and
 * stored, while a new run's insights are being written. */
static void test_chat_many_at_once(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 5, 4, 8);
    int64_t run = scored_run(s, "leads.csv");
    static const char *const qs[] = {"How good is the model?",     "How many leads are High?",
                                     "Which columns matter most?", "Has anything drifted?",
                                     "Who are the best leads?",    "Which leads are worst?"};
    enum { N = 12 };
    struct service_job *jobs[N];
    struct rec recs[N];
    struct service_chat_sink sinks[N];
    struct ls_error err;
    for (int i = 0; i < N; i++) {
        rec_init(&recs[i]);
        sinks[i] = (struct service_chat_sink){rec_meta, rec_text, &recs[i]};
        assert_int_equal(
            service_chat_submit(s, run, qs[i % 6], &sinks[i], NULL, NULL, &jobs[i], &err), 0);
    }
    for (int i = 0; i < N; i++) {
        json_t *o = job_result_ok(jobs[i]);
        assert_string_equal(json_string_value(json_object_get(o, "text")), recs[i].text);
        json_decref(o);
        rec_cleanup(&recs[i]);
    }
    json_t *h = NULL;
    assert_int_equal(service_chat_history(s, run, &h, &err), 0);
    assert_int_equal(json_array_size(json_object_get(h, "messages")), 2 * N);
    json_decref(h);
    json_decref(insights_done(s, run));
    service_close(s);
    rm_dir(dir);
}

static void test_chat_cancel_stores_nothing(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    struct rec r;
    rec_init(&r);
    r.stop_at_text = 1;
    struct service_chat_sink sink = {rec_meta, rec_text, &r};
    struct service_job *job = NULL;
    struct ls_error err;
    assert_int_equal(
        service_chat_submit(s, run, "Which leads are best?", &sink, NULL, NULL, &job, &err), 0);
    service_job_wait(job);
    json_t *o = NULL;
    assert_int_equal(service_job_result(job, &o, &err), LS_ECANCELED);
    assert_null(o);
    service_job_release(job);
    rec_cleanup(&r);
    json_t *h = NULL;
    assert_int_equal(service_chat_history(s, run, &h, &err), 0);
    assert_int_equal(json_array_size(json_object_get(h, "messages")), 0);
    json_decref(h);
    service_close(s);
    rm_dir(dir);
}

static void test_chat_pool_busy_and_errors(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 1, 0);
    int64_t run = scored_run(s, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct rec r;
    rec_init(&r);
    r.hold = &g;
    struct service_chat_sink sink = {rec_meta, rec_text, &r};
    struct service_job *held = NULL, *job = NULL;
    struct ls_error err;
    assert_int_equal(
        service_chat_submit(s, run, "How good is the model?", &sink, NULL, NULL, &held, &err), 0);
    gate_wait_entered(&g, 1); /* the only chat worker is inside the meta callback */
    assert_int_equal(service_chat_submit(s, run, "Again?", NULL, NULL, NULL, &job, &err), LS_EBUSY);
    /* the heavy pool is not the chat's: a model trains meanwhile */
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = upload_ok(s, demo_csv, "other.csv");
    t.trees = 5;
    json_decref(train_ok(s, &t));
    gate_open(&g);
    json_decref(job_result_ok(held));
    rec_cleanup(&r);
    gate_destroy(&g);

    /* submission errors */
    assert_int_equal(service_chat_submit(s, 999, "Hi?", NULL, NULL, NULL, &job, &err),
                     LS_ENOT_FOUND);
    assert_int_equal(service_chat_submit(s, run, "", NULL, NULL, NULL, &job, &err), LS_EINPUT);
    assert_int_equal(service_chat_submit(s, run, "  \n ", NULL, NULL, NULL, &job, &err), LS_EINPUT);
    assert_int_equal(service_chat_submit(s, run, NULL, NULL, NULL, NULL, &job, &err), LS_EINPUT);
    char *big = malloc(CHAT_QUESTION_MAX + 2);
    memset(big, 'a', CHAT_QUESTION_MAX + 1);
    big[CHAT_QUESTION_MAX + 1] = 0;
    assert_int_equal(service_chat_submit(s, run, big, NULL, NULL, NULL, &job, &err), LS_ELIMIT);
    free(big);
    assert_int_equal(service_chat_submit(s, run, "caf\xe9?", NULL, NULL, NULL, &job, &err),
                     LS_EINPUT);
    assert_null(job);
    service_close(s);
    rm_dir(dir);
}

/* A run that is not done cannot be asked about. */
static void test_chat_run_not_done(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 5;
    struct service_job *held = NULL, *job = NULL;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, gate_done, &g, &held, &err), 0);
    gate_wait_entered(&g, 1); /* the heavy worker is held: the run stays queued */
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = TREES;
    int64_t run = 0;
    json_t *cached = NULL;
    struct service_job *rj = run_submit_ok(s, &r, NULL, NULL, &run, &cached);
    assert_int_equal(service_chat_submit(s, run, "Hi?", NULL, NULL, NULL, &job, &err),
                     LS_ECONFLICT);
    json_t *o = NULL;
    assert_int_equal(service_insights(s, run, &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
    json_decref(o);
    gate_open(&g);
    json_decref(job_result_ok(held));
    json_decref(job_result_ok(rj));
    gate_destroy(&g);
    service_close(s);
    rm_dir(dir);
}

static void test_compat(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 0, 2, 4);
    struct service_job *job = NULL;
    char *text = NULL;
    struct ls_error err;
    /* no run yet: a plain sentence, no job */
    assert_int_equal(service_chat_compat(s, "hello", "", NULL, NULL, &job, &text, &err), 0);
    assert_null(job);
    assert_non_null(text);
    assert_non_null(strstr(text, "No file has been scored yet"));
    free(text);
    text = NULL;
    assert_int_equal(service_chat_compat(s, "hello", NULL, NULL, NULL, &job, &text, &err), 0);
    assert_null(job);
    free(text);
    text = NULL;

    int64_t first = scored_run(s, "first.csv");
    /* a second file, its own bytes */
    char *text2 = tu_demo_text(DEMO_ROWS, 8);
    int64_t ds2 = upload_ok(s, text2, "second.csv");
    free(text2);
    int64_t second = 0;
    json_decref(run_trees_ok(s, ds2, TREES, &second));

    assert_int_equal(service_chat_compat(s, "How good is the model?", "first.csv", NULL, NULL, &job,
                                         &text, &err),
                     0);
    assert_null(text);
    assert_non_null(job);
    json_t *o = job_result_ok(job);
    assert_int_equal(jint(o, "run_id"), first);
    assert_true(strlen(json_string_value(json_object_get(o, "text"))) > 0);
    json_decref(o);
    /* an unknown name, or none: the latest run */
    assert_int_equal(service_chat_compat(s, "How good is the model?", "undefined", NULL, NULL, &job,
                                         &text, &err),
                     0);
    o = job_result_ok(job);
    assert_int_equal(jint(o, "run_id"), second);
    json_decref(o);
    assert_int_equal(service_chat_compat(s, "Hi?", "", NULL, NULL, &job, &text, &err), 0);
    o = job_result_ok(job);
    assert_int_equal(jint(o, "run_id"), second);
    json_decref(o);
    service_close(s);
    rm_dir(dir);
}

/* ---- deletion, health, configuration ------------------------------------- */

static void test_delete_takes_insights_and_messages(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, NULL, 3, 2, 4);
    int64_t run = scored_run(s, "leads.csv");
    json_decref(insights_done(s, run));
    json_decref(chat_ok(s, run, "How good is the model?", NULL));
    assert_int_equal(db_count(s, "SELECT count(*) FROM insights"), 3);
    assert_int_equal(db_count(s, "SELECT count(*) FROM chat_messages"), 2);
    struct ls_error err;
    assert_int_equal(service_run_delete(s, run, &err), 0);
    assert_int_equal(db_count(s, "SELECT count(*) FROM insights"), 0);
    assert_int_equal(db_count(s, "SELECT count(*) FROM chat_messages"), 0);
    json_t *o = NULL;
    assert_int_equal(service_insights(s, run, &o, &err), LS_ENOT_FOUND);
    assert_int_equal(service_chat_history(s, run, &o, &err), LS_ENOT_FOUND);
    service_close(s);
    rm_dir(dir);
}

/* Pruning the history (keep_runs) deletes the same way. */
static void test_prune_takes_insights_and_messages(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service_opts o;
    service_opts_default(&o);
    llm_config_default(&builtin_cfg);
    o.llm = &builtin_cfg;
    o.insights = 2;
    o.keep_runs = 1;
    struct service *s = open_service_opts(dir, &o);
    int64_t old = scored_run(s, "old.csv");
    json_decref(insights_done(s, old));
    json_decref(chat_ok(s, old, "How good is the model?", NULL));
    char *text2 = tu_demo_text(DEMO_ROWS, 9);
    int64_t ds2 = upload_ok(s, text2, "new.csv");
    free(text2);
    int64_t run = 0;
    json_decref(run_trees_ok(s, ds2, TREES, &run));
    json_t *o2 = NULL;
    struct ls_error err;
    assert_int_equal(service_run_get(s, old, &o2, &err), LS_ENOT_FOUND);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM insights WHERE run_id = %lld", (long long)old);
    assert_int_equal(db_count(s, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM chat_messages WHERE run_id = %lld",
             (long long)old);
    assert_int_equal(db_count(s, sql), 0);
    json_decref(insights_done(s, run)); /* the new run has its own */
    service_close(s);
    rm_dir(dir);
}

static void test_health_lists_providers(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, "{}", "ok", 0);
    struct llm_config cfg;
    fake_cfg(&cfg, &f);
    const char *dir = fresh_dir();
    struct service *s = open_chat(dir, &cfg, 0, 3, 7);
    json_t *h = service_health_json(s);
    assert_string_equal(json_string_value(json_object_get(h, "llm_order")), "llama,builtin");
    json_t *llm = json_object_get(h, "llm");
    assert_int_equal(json_array_size(llm), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(llm, 0), "name")),
                        "llama");
    assert_string_equal(json_string_value(json_object_get(json_array_get(llm, 1), "name")),
                        "builtin");
    assert_int_equal(jint(h, "chat_running"), 0);
    assert_int_equal(jint(h, "chat_queued"), 0);
    assert_int_equal(jint(h, "insights_queued"), 0);
    json_decref(h);
    service_close(s);
    fake_stop(&f);
    rm_dir(dir);
}

/* A bad LEADSCORE_LLM stops service_open with the variable named. */
static void test_env_error_fails_open(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    setenv("LEADSCORE_LLM", "nosuchprovider", 1);
    struct service_opts o;
    service_opts_default(&o);
    o.data_dir = dir;
    struct service *s = NULL;
    struct ls_error err;
    int rc = service_open(&o, &s, &err);
    unsetenv("LEADSCORE_LLM");
    assert_int_equal(rc, LS_EUSAGE);
    assert_null(s);
    if (!strstr(err.msg, "LEADSCORE_LLM"))
        fail_msg("message: %s", err.msg);
    /* and without it, the environment's chain is the narrator */
    assert_int_equal(service_open(&o, &s, &err), 0);
    json_t *h = service_health_json(s);
    assert_string_equal(json_string_value(json_object_get(h, "llm_order")), "builtin");
    json_decref(h);
    service_close(s);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts_and_builtin_insights),
        cmocka_unit_test(test_model_insights_after_run),
        cmocka_unit_test(test_full_queue_drops_oldest),
        cmocka_unit_test(test_invalid_model_insight_falls_back),
        cmocka_unit_test(test_missing_insights_queued_again),
        cmocka_unit_test(test_run_without_facts),
        cmocka_unit_test(test_chat_streams_and_stores),
        cmocka_unit_test(test_history_sent_back),
        cmocka_unit_test(test_chat_names_leads),
        cmocka_unit_test(test_chat_many_at_once),
        cmocka_unit_test(test_chat_cancel_stores_nothing),
        cmocka_unit_test(test_chat_pool_busy_and_errors),
        cmocka_unit_test(test_chat_run_not_done),
        cmocka_unit_test(test_compat),
        cmocka_unit_test(test_delete_takes_insights_and_messages),
        cmocka_unit_test(test_prune_takes_insights_and_messages),
        cmocka_unit_test(test_health_lists_providers),
        cmocka_unit_test(test_env_error_fails_open),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
