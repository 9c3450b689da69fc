/*
 * service_insights.c — a why and a next action for each of a run's best
 * leads, written after the run is stored, by a worker of its own.
 *
 * One thread works through a bounded queue of runs (SERVICE_INSIGHTS_QUEUE). A run
 * job queues its run once the run is stored, with its best leads and its
 * facts already in hand (it has them in memory), so a run never waits for a
 * language model and the worker reads nothing back. For each lead in rank
 * order the worker builds the prompt (insight_prompt_build), asks the chain
 * for strict JSON (validated by insight_parse: a model's reply that does
 * not parse moves on to the next provider and, last, to the narrator's own
 * answer), and stores the insight at once with the provider that wrote it,
 * so a page polling the run sees them arrive one by one.
 *
 * When runs finish faster than a model answers, the queue fills: a new run
 * then pushes out the OLDEST queued run (the dashboard shows the newest
 * run; the oldest is the one least likely to be looked at now). Nothing is
 * lost for good: a run whose insights are missing and not pending — pushed
 * out, cut short by a restart, or finished before this feature — is queued
 * again when anyone asks for them (service_insights) or when the same file
 * is scored again and answered from the cache. Its status reads "pending"
 * meanwhile, never "done" with leads missing.
 *
 * At close the queue is dropped (the rule above brings it back) and the
 * lead in hand is finished: a model call is bounded by the chain's
 * timeouts, and a streaming one is stopped at its next piece.
 */
#include "app/service_priv.h"

#include "app/narrate.h"
#include "app/score.h"
#include "chat/chat.h"
#include "core/mem.h"
#include "llm/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSIGHTS_MAX 100 /* leads of one run given insights at most */
#define INSIGHT_CAP  (STORE_INSIGHT_MAX + 1)

struct ins_task {
    int64_t run_id;
    json_t *leads;    /* lead objects, or NULL */
    char *facts_text; /* or NULL */
    struct ins_task *next;
};

struct svc_insights {
    struct service *s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ins_task *head, *tail;
    uint32_t n;
    int64_t current; /* the run being worked on, 0 when none */
    int stopping;
    uint64_t dropped;
    pthread_t thread;
    int started;
};

static void task_free(struct ins_task *t)
{
    if (!t)
        return;
    json_decref(t->leads);
    free(t->facts_text);
    free(t);
}

static uint32_t top_n(const struct service *s)
{
    return s->opts.insights > INSIGHTS_MAX ? INSIGHTS_MAX : s->opts.insights;
}

/* ---- one lead ------------------------------------------------------------ */

struct parsed {
    char why[INSIGHT_CAP];
    char action[INSIGHT_CAP];
};

static int validate(void *ctx, const char *reply, size_t len)
{
    struct parsed *p = ctx;
    struct ls_error err;
    return insight_parse(reply, len, p->why, sizeof p->why, p->action, sizeof p->action, &err);
}

/* Stop a streaming answer once the service is closing. */
static int stop_begin(void *ctx, const char *provider, int restart)
{
    (void)provider;
    (void)restart;
    struct svc_insights *in = ctx;
    pthread_mutex_lock(&in->lock);
    int stop = in->stopping;
    pthread_mutex_unlock(&in->lock);
    return stop;
}

static int stop_text(void *ctx, const char *piece, size_t len)
{
    (void)piece;
    (void)len;
    return stop_begin(ctx, NULL, 0);
}

/* The first max words of text, in place. */
static void cut_words(char *text, size_t max)
{
    size_t words = 0;
    int in_word = 0;
    for (char *p = text; *p; p++) {
        int space = *p == ' ' || *p == '\t' || *p == '\n';
        if (!space && !in_word && ++words > max) {
            while (p > text && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n'))
                p--;
            *p = '\0';
            return;
        }
        in_word = !space;
    }
}

/* Ask for one lead's insight and store it. 0, or the store's error;
 * LS_ECANCELED when the service is closing. */
static int one_insight(struct svc_insights *in, int64_t run_id, json_t *lead, const json_t *facts,
                       struct ls_error *err)
{
    struct service *s = in->s;
    struct insight_prompt ip;
    memset(&ip, 0, sizeof ip);
    struct llm_answer ans;
    memset(&ans, 0, sizeof ans);
    struct parsed p;
    memset(&p, 0, sizeof p);
    int rc = insight_prompt_build(lead, facts, &ip, err);
    if (rc)
        return rc;
    struct llm_msg msg = {"user", ip.prompt};
    struct llm_request rq = {ip.system, &msg, 1, 1, ip.fallback, validate, &p};
    struct llm_sink sink = {stop_begin, stop_text, in};
    rc = llm_chain_ask(svc__state(s)->llm, &rq, &sink, &ans, err);
    if (rc)
        goto out;
    /* builtin's fallback is never validated by the chain: read it here */
    struct ls_error perr;
    if (insight_parse(ans.text, ans.len, p.why, sizeof p.why, p.action, sizeof p.action, &perr)) {
        /* the narrator's own sentences, cut to the limits (insight_parse
         * refusing its fallback would be a bug of the builder) */
        const json_t *reasons = json_object_get(lead, "reasons");
        json_t *sc = json_object_get(lead, "score");
        const char *tier = json_string_value(json_object_get(lead, "tier"));
        int t = tier && !strcmp(tier, "High") ? 2 : tier && !strcmp(tier, "Medium") ? 1 : 0;
        char text[NARRATE_TEXT_MAX];
        snprintf(p.why, sizeof p.why, "%s",
                 narrate_json_sentence(json_number_value(sc), reasons, text, sizeof text));
        snprintf(p.action, sizeof p.action, "%s",
                 narrate_json_action(t, reasons, text, sizeof text));
        cut_words(p.why, INSIGHT_WHY_WORDS);
        cut_words(p.action, INSIGHT_ACTION_WORDS);
    }
    struct store_insight v = {(uint64_t)json_integer_value(json_object_get(lead, "row")), p.why,
                              p.action, ans.provider, 0};
    rc = store_insights_put(s->store, run_id, &v, 1, err);
out:
    llm_answer_cleanup(&ans);
    insight_prompt_cleanup(&ip);
    return rc;
}

/* The lead of row as the prompt reads it: from the task's leads, else as
 * service_lead answers it (explained on demand when needed). */
static json_t *lead_for(struct service *s, const json_t *leads, int64_t run_id, uint64_t row)
{
    size_t i;
    json_t *l;
    json_array_foreach(leads, i, l)
    {
        if ((uint64_t)json_integer_value(json_object_get(l, "row")) == row)
            return json_incref(l);
    }
    json_t *o = NULL;
    struct ls_error err;
    if (service_lead(s, run_id, row, &o, &err) != LS_OK)
        return NULL;
    json_object_del(o, "insight"); /* an older insight is no fact of the lead */
    return o;
}

static int is_stopping(struct svc_insights *in)
{
    pthread_mutex_lock(&in->lock);
    int stop = in->stopping;
    pthread_mutex_unlock(&in->lock);
    return stop;
}

/* Every missing insight of the task's run. */
static void work(struct svc_insights *in, struct ins_task *t)
{
    struct service *s = in->s;
    uint32_t want = top_n(s);
    struct store_lead *best = NULL;
    struct store_insight *have = NULL;
    size_t nbest = 0, nhave = 0;
    uint64_t total = 0;
    json_t *facts = NULL;
    struct ls_error err;
    if (t->facts_text) { /* a run just stored: its chat index too, while the facts are here */
        facts = json_loads(t->facts_text, 0, NULL);
        svc__chat_warm(s, t->run_id, facts);
    }
    if (!want)
        goto out;
    struct store_lead_query q = {-1, NULL, "score", 1, 0, want};
    if (store_leads_query(s->store, t->run_id, &q, &best, &nbest, &total, &err) != LS_OK)
        goto out; /* deleted meanwhile: nothing to do */
    if (store_insights_get(s->store, t->run_id, &have, &nhave, &err) != LS_OK)
        goto out;
    if (!facts && svc__run_facts(s, t->run_id, &facts, &err) != LS_OK)
        facts = NULL; /* the prompt does without the run's figures */
    for (size_t i = 0; i < nbest && !is_stopping(in); i++) {
        int done = 0;
        for (size_t k = 0; k < nhave && !done; k++)
            done = have[k].row == best[i].row;
        if (done)
            continue;
        json_t *lead = lead_for(s, t->leads, t->run_id, best[i].row);
        if (!lead)
            continue;
        int rc = one_insight(in, t->run_id, lead, facts, &err);
        json_decref(lead);
        if (rc == LS_ENOT_FOUND || rc == LS_ECANCELED)
            break; /* the run was deleted, or the service is closing */
    }
out:
    json_decref(facts);
    store_insight_list_free(have, nhave);
    store_lead_list_free(best, nbest);
}

static void *worker(void *arg)
{
    struct svc_insights *in = arg;
    for (;;) {
        pthread_mutex_lock(&in->lock);
        while (!in->stopping && !in->head)
            pthread_cond_wait(&in->cond, &in->lock);
        if (in->stopping) {
            pthread_mutex_unlock(&in->lock);
            break;
        }
        struct ins_task *t = in->head;
        in->head = t->next;
        if (!in->head)
            in->tail = NULL;
        in->n--;
        in->current = t->run_id;
        pthread_mutex_unlock(&in->lock);

        work(in, t);
        task_free(t);

        pthread_mutex_lock(&in->lock);
        in->current = 0;
        pthread_cond_broadcast(&in->cond);
        pthread_mutex_unlock(&in->lock);
    }
    return NULL;
}

/* ---- the queue ---------------------------------------------------------- */

struct svc_insights *svc__insights_new(struct service *s)
{
    struct svc_insights *in = xcalloc(1, sizeof *in);
    in->s = s;
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->cond, NULL);
    in->started = pthread_create(&in->thread, NULL, worker, in) == 0;
    return in;
}

static void drop_queue_locked(struct svc_insights *in)
{
    while (in->head) {
        struct ins_task *t = in->head;
        in->head = t->next;
        task_free(t);
    }
    in->tail = NULL;
    in->n = 0;
}

void svc__insights_stop(struct svc_insights *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->lock);
    in->stopping = 1;
    drop_queue_locked(in);
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
}

void svc__insights_free(struct svc_insights *in)
{
    if (!in)
        return;
    svc__insights_stop(in);
    if (in->started)
        pthread_join(in->thread, NULL);
    pthread_cond_destroy(&in->cond);
    pthread_mutex_destroy(&in->lock);
    free(in);
}

/* Is run_id queued or being worked on? (under in->lock) */
static int pending_locked(const struct svc_insights *in, int64_t run_id)
{
    if (in->current == run_id)
        return 1;
    for (const struct ins_task *t = in->head; t; t = t->next)
        if (t->run_id == run_id)
            return 1;
    return 0;
}

/* Queue a task unless its run is queued already (then 0, the task freed). */
static int push(struct svc_insights *in, struct ins_task *t, int unless_pending)
{
    struct ins_task *evict = NULL;
    pthread_mutex_lock(&in->lock);
    if (in->stopping || !in->started || (unless_pending && pending_locked(in, t->run_id))) {
        pthread_mutex_unlock(&in->lock);
        task_free(t);
        return 0;
    }
    if (in->n >= SERVICE_INSIGHTS_QUEUE) { /* the oldest queued run goes (the file comment) */
        evict = in->head;
        in->head = evict->next;
        if (!in->head)
            in->tail = NULL;
        in->n--;
        in->dropped++;
    }
    if (in->tail)
        in->tail->next = t;
    else
        in->head = t;
    in->tail = t;
    in->n++;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
    task_free(evict);
    return 1;
}

void svc__insights_queue(struct service *s, int64_t run_id, json_t *leads, char *facts_text)
{
    struct svc_insights *in = svc__state(s)->ins;
    struct ins_task *t = xcalloc(1, sizeof *t);
    t->run_id = run_id;
    t->leads = leads;
    t->facts_text = facts_text;
    if (!in || (!top_n(s) && !facts_text)) { /* facts alone: the chat index is warmed */
        task_free(t);
        return;
    }
    push(in, t, 0);
}

/* How many insights run_id should have, and has. */
static int counts(struct service *s, int64_t run_id, uint64_t total, size_t *want, size_t *have,
                  struct ls_error *err)
{
    struct store_insight *v = NULL;
    size_t n = 0;
    int rc = store_insights_get(s->store, run_id, &v, &n, err);
    store_insight_list_free(v, n);
    if (rc)
        return rc;
    *want = top_n(s) < total ? top_n(s) : (size_t)total;
    *have = n;
    return LS_OK;
}

void svc__insights_ensure(struct service *s, int64_t run_id, uint64_t total)
{
    struct svc_insights *in = svc__state(s)->ins;
    size_t want = 0, have = 0;
    struct ls_error err;
    if (!in || counts(s, run_id, total, &want, &have, &err) != LS_OK || have >= want)
        return;
    struct ins_task *t = xcalloc(1, sizeof *t);
    t->run_id = run_id;
    push(in, t, 1);
}

void svc__insights_counts(struct service *s, uint32_t *queued, uint64_t *dropped)
{
    struct svc_insights *in = svc__state(s)->ins;
    *queued = 0;
    *dropped = 0;
    if (!in)
        return;
    pthread_mutex_lock(&in->lock);
    *queued = in->n + (in->current ? 1 : 0);
    *dropped = in->dropped;
    pthread_mutex_unlock(&in->lock);
}

/* ---- reading them ------------------------------------------------------- */

static json_t *insight_json(const struct store_insight *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "why", svc__str(v->why));
    json_object_set_new(o, "next_action", svc__str(v->next_action));
    json_object_set_new(o, "provider", svc__str(v->provider));
    json_object_set_new(o, "created", svc__iso_json(v->created));
    return o;
}

json_t *svc__insight_map(struct service *s, int64_t run_id)
{
    struct store_insight *v = NULL;
    size_t n = 0;
    struct ls_error err;
    json_t *map = json_object();
    if (store_insights_get(s->store, run_id, &v, &n, &err) != LS_OK)
        return map;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%llu", (unsigned long long)v[i].row);
        json_object_set_new(map, key, insight_json(&v[i]));
    }
    store_insight_list_free(v, n);
    return map;
}

json_t *svc__insight_of(const json_t *map, uint64_t row)
{
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)row);
    json_t *v = json_object_get(map, key);
    return v ? json_incref(v) : json_null();
}

static int cmp_rank(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t rx = json_integer_value(json_object_get(x, "rank"));
    json_int_t ry = json_integer_value(json_object_get(y, "rank"));
    return (rx > ry) - (rx < ry);
}

int service_insights(struct service *s, int64_t run_id, json_t **out, struct ls_error *err)
{
    struct store_run run;
    memset(&run, 0, sizeof run);
    struct store_insight *v = NULL;
    size_t n = 0;
    json_t **items = NULL;
    int rc = store_run_get(s->store, run_id, &run, err);
    if (rc)
        return rc;
    if (run.status == STORE_RUN_FAILED) {
        rc = ls_error_set(err, LS_ECONFLICT, "run %lld failed: it has no leads to give insights",
                          (long long)run_id);
        goto out;
    }
    json_t *o = json_object(), *a = json_array();
    json_object_set_new(o, "run_id", json_integer(run_id));
    int pending = run.status != STORE_RUN_DONE; /* its insights come once it is done */
    if (!pending) {
        if ((rc = store_insights_get(s->store, run_id, &v, &n, err)) != LS_OK) {
            json_decref(o);
            json_decref(a);
            goto out;
        }
        items = xcalloc(n ? n : 1, sizeof *items);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            struct store_lead l;
            memset(&l, 0, sizeof l);
            struct ls_error lerr;
            if (store_lead_get(s->store, run_id, v[i].row, &l, &lerr) != LS_OK)
                continue;
            json_t *x = json_object();
            json_object_set_new(x, "row", json_integer((json_int_t)l.row));
            json_object_set_new(x, "id", svc__str(l.lead_id));
            json_object_set_new(x, "score", json_real(l.score));
            json_object_set_new(x, "tier", json_string(tier_name((enum tier)l.tier)));
            json_object_set_new(x, "rank", json_integer((json_int_t)l.rank));
            json_t *ij = insight_json(&v[i]);
            json_object_update(x, ij);
            json_decref(ij);
            items[k++] = x;
            store_lead_cleanup(&l);
        }
        qsort(items, k, sizeof *items, cmp_rank);
        for (size_t i = 0; i < k; i++)
            json_array_append_new(a, items[i]);
        size_t want = top_n(s) < run.total ? top_n(s) : (size_t)run.total;
        if (n < want) {
            struct svc_insights *in = svc__state(s)->ins;
            pending = 1;
            if (in) { /* missing and not queued (pushed out, a restart): queue it now */
                struct ins_task *t = xcalloc(1, sizeof *t);
                t->run_id = run_id;
                push(in, t, 1);
            }
        }
    }
    json_object_set_new(o, "status", json_string(pending ? "pending" : "done"));
    json_object_set_new(o, "insights", a);
    *out = o;
out:
    free(items);
    store_insight_list_free(v, n);
    store_run_cleanup(&run);
    return rc;
}
