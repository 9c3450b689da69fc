/*
 * service_chat.c — questions about a done run, answered as a job.
 *
 * A chat answer is a job on a pool of its own (opts.chat_workers running,
 * opts.chat_queue waiting), so a question never waits behind a training
 * job: the heavy pool may be full for a minute while chat answers in
 * milliseconds. The job reads the run's facts, plans the answer over them
 * (chat_plan: intent, cards, the narrator's answer, the prompt), asks the
 * language chain with the last CHAT_HISTORY_MAX messages as context, and
 * streams what it hears to the caller's sink: a meta object when a
 * provider starts answering, then the text. The question and the answer
 * are stored together at the end — never when the sink stopped the answer
 * (the client left): a conversation holds only answers someone received.
 *
 * Facts are stored with the run (run_job, service_run.c); a run stored
 * without them (before schema 2, or facts past the store's limit) has them
 * built again from its model and file here, once per index built. The
 * index over a run's facts (chat_index_new: cards and BM25) costs more
 * than a question, so the last CHAT_INDEXES are kept, by run id, most
 * recently used first; they are refcounted, so evicting one never pulls it
 * from under a job still reading it.
 *
 * The chat reaches single leads through the store (struct chat_leads):
 * by id (the model's id column, else a cell that names one lead alone: a
 * second identifier column of the file), by row, and best or worst n of
 * a tier. A lead of a run explained on
 * demand is explained when the chat names it, as a page would.
 */
#include "app/service_priv.h"
#include "app/service_views.h"

#include "app/explain.h"
#include "app/score.h"
#include "chat/chat.h"
#include "core/mem.h"
#include "data/csv.h"
#include "llm/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAT_INDEXES 4 /* run indexes kept */

/* ---- the index cache ----------------------------------------------------- */

struct ixref {
    struct chat_index *ix;
    unsigned refs; /* under svc_chat.lock */
};

struct svc_chat {
    pthread_mutex_t lock;
    struct {
        int64_t run_id;
        struct ixref *ref;
        uint64_t used;
    } e[CHAT_INDEXES];
    uint64_t tick;
};

struct svc_chat *svc__chat_new(void)
{
    struct svc_chat *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void ixref_free(struct ixref *r)
{
    if (!r)
        return;
    chat_index_free(r->ix);
    free(r);
}

void svc__chat_free(struct svc_chat *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CHAT_INDEXES; i++)
        ixref_free(c->e[i].ref); /* every job has ended: the cache's is the last reference */
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void ix_put(struct svc_chat *c, struct ixref *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&c->lock);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        ixref_free(r);
}

static struct ixref *ix_insert(struct svc_chat *c, int64_t run_id, struct chat_index *ix);

/* The index of run_id: cached, or built from its facts and cached. */
static int ix_get(struct service *s, int64_t run_id, struct ixref **out, struct ls_error *err)
{
    struct svc_chat *c = svc__state(s)->chat;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CHAT_INDEXES; i++)
        if (c->e[i].ref && c->e[i].run_id == run_id) {
            c->e[i].used = ++c->tick;
            c->e[i].ref->refs++;
            *out = c->e[i].ref;
            pthread_mutex_unlock(&c->lock);
            return LS_OK;
        }
    pthread_mutex_unlock(&c->lock);

    json_t *facts = NULL;
    struct chat_index *ix = NULL;
    int rc = svc__run_facts(s, run_id, &facts, err);
    if (rc == LS_OK)
        rc = chat_index_new(facts, &ix, err);
    json_decref(facts);
    if (rc)
        return rc;
    *out = ix_insert(c, run_id, ix);
    return LS_OK;
}

/* Cache ix (built for run_id) unless the cache has one: a new reference to
 * the cached index. */
static struct ixref *ix_insert(struct svc_chat *c, int64_t run_id, struct chat_index *ix)
{
    struct ixref *r = xcalloc(1, sizeof *r), *evict = NULL;
    r->ix = ix;
    r->refs = 1; /* the caller's */
    pthread_mutex_lock(&c->lock);
    size_t slot = 0;
    for (size_t i = 0; i < CHAT_INDEXES; i++) {
        if (c->e[i].ref && c->e[i].run_id == run_id) { /* built meanwhile: keep one */
            evict = r;
            r = c->e[i].ref;
            r->refs++;
            c->e[i].used = ++c->tick;
            slot = CHAT_INDEXES;
            break;
        }
        if (c->e[slot].ref && (!c->e[i].ref || c->e[i].used < c->e[slot].used))
            slot = i; /* an empty slot, else the least recently used */
    }
    if (slot < CHAT_INDEXES) {
        struct ixref *old = c->e[slot].ref;
        if (old && --old->refs == 0)
            evict = old;
        c->e[slot].run_id = run_id;
        c->e[slot].ref = r;
        c->e[slot].used = ++c->tick;
        r->refs++; /* the cache's */
    }
    pthread_mutex_unlock(&c->lock);
    ixref_free(evict);
    return r;
}

void svc__chat_warm(struct service *s, int64_t run_id, const json_t *facts)
{
    struct svc_chat *c = svc__state(s)->chat;
    struct chat_index *ix = NULL;
    struct ls_error err;
    if (!c || !facts || chat_index_new(facts, &ix, &err) != LS_OK)
        return;
    ix_put(c, ix_insert(c, run_id, ix));
}

/* ---- facts --------------------------------------------------------------- */

/* Build a run's facts again from its model and file (a run stored without
 * them), as run_job built them. */
static int facts_rebuild(struct service *s, const struct store_run *run, json_t **facts,
                         struct ls_error *err)
{
    struct vrun *vr = NULL;
    struct store_model rec;
    memset(&rec, 0, sizeof rec);
    json_t *imp = NULL, *answer = NULL, *info = NULL;
    int rc = views__run_get(s, run, &vr, err);
    if (rc)
        return rc;
    if (!vr->vm) {
        rc = ls_error_set(err, LS_ECONFLICT,
                          "run %lld was stored without chat facts and its model was deleted: "
                          "score the file again to ask about it",
                          (long long)run->id);
        goto out;
    }
    if ((rc = views__run_score(s, vr, err)) != LS_OK)
        goto out;
    const struct model *m = &vr->vm->m;
    imp = explain_summary_sample(m, &vr->res.score, EXPLAIN_SUMMARY_SAMPLE, s->opts.threads);
    answer = svc__parse(run->summary_json);
    struct ls_error merr;
    if (store_model_get(s->store, run->model_id, &rec, &merr) == LS_OK)
        info = svc__parse(rec.info_json);
    struct chat_run_input in = {
        m, &vr->res, imp, answer, json_object_get(info, "excluded"), run->filename};
    *facts = chat_facts_build(&in);
    if (!*facts)
        rc = ls_error_set(err, LS_ENOMEM, "out of memory building run %lld's facts",
                          (long long)run->id);
out:
    json_decref(imp);
    json_decref(answer);
    json_decref(info);
    store_model_cleanup(&rec);
    views__run_put(s, vr);
    return rc;
}

int svc__run_facts(struct service *s, int64_t run_id, json_t **facts, struct ls_error *err)
{
    struct store_run run;
    memset(&run, 0, sizeof run);
    char *text = NULL;
    int rc = views__run_done(s, run_id, &run, err);
    if (rc)
        return rc;
    if ((rc = store_run_facts(s->store, run_id, &text, err)) != LS_OK)
        goto out;
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (j) {
        *facts = j;
        goto out;
    }
    rc = facts_rebuild(s, &run, facts, err);
out:
    free(text);
    store_run_cleanup(&run);
    return rc;
}

/* ---- leads for the chat -------------------------------------------------- */

static json_t *parsed_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

json_t *svc__lead_json(const struct store_lead *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)l->row));
    json_object_set_new(o, "id", svc__str(l->lead_id));
    json_object_set_new(o, "score", json_real(l->score));
    json_object_set_new(o, "tier", json_string(tier_name((enum tier)l->tier)));
    json_object_set_new(o, "rank", json_integer((json_int_t)l->rank));
    json_object_set_new(o, "label", l->label >= 0 ? json_integer(l->label) : json_null());
    if (l->reasons_json)
        json_object_set_new(o, "reasons", parsed_or_null(l->reasons_json));
    json_t *d = parsed_or_null(l->display_json);
    if (json_is_object(d))
        json_object_set_new(o, "fields", d);
    else
        json_decref(d);
    return o;
}

struct chat_ctx {
    struct service *s;
    int64_t run_id;
};

/* A lead as the chat reads it, its reasons explained on demand when the
 * run did not store them. */
static int lead_out(struct chat_ctx *c, const struct store_lead *l, json_t **lead)
{
    json_t *o = svc__lead_json(l);
    if (!l->reasons_json) {
        json_t *full = NULL;
        struct ls_error err;
        if (service_lead(c->s, c->run_id, l->row, &full, &err) == LS_OK) {
            json_t *r = json_object_get(full, "reasons");
            if (r)
                json_object_set(o, "reasons", r);
            json_t *f = json_object_get(full, "fields");
            if (f)
                json_object_set(o, "fields", f);
        }
        json_decref(full);
    }
    *lead = o;
    return LS_OK;
}

static int by_row(void *ctx, uint64_t row, json_t **lead)
{
    struct chat_ctx *c = ctx;
    struct store_lead l;
    memset(&l, 0, sizeof l);
    struct ls_error err;
    int rc = store_lead_get(c->s->store, c->run_id, row, &l, &err);
    if (rc == LS_OK)
        rc = lead_out(c, &l, lead);
    store_lead_cleanup(&l);
    return rc == LS_OK ? LS_OK : LS_ENOT_FOUND;
}

/* The lead named by another identifier of the file ("lead 660737" is
 * Leads.csv's Lead Number; its model's id column is Prospect ID): the one
 * row whose cell is exactly id, in the first column where exactly one row
 * has it (a value many leads share names none of them). */
static int by_cell(struct chat_ctx *c, const char *id, json_t **lead)
{
    struct store_run run;
    memset(&run, 0, sizeof run);
    struct store_dataset d;
    memset(&d, 0, sizeof d);
    struct frame_ref *ref = NULL;
    struct ls_error err;
    uint64_t found = 0;
    if (views__run_done(c->s, c->run_id, &run, &err) != LS_OK)
        return LS_ENOT_FOUND;
    /* the file as the run read it: usually still in the service's frame
     * cache from the run itself */
    if (store_dataset_get(c->s->store, run.dataset_id, &d, &err) == LS_OK &&
        svc__frame_get(c->s, d.id, d.path, &ref, &err) == LS_OK && ref->f->nrows == run.total) {
        const struct frame *f = ref->f;
        for (size_t col = 0; col < f->ncols && !found; col++) {
            uint64_t hits = 0, at = 0;
            for (uint64_t r = 0; r < f->nrows && hits < 2; r++)
                if (strcmp(frame_cell(f, col, r), id) == 0) {
                    hits++;
                    at = r;
                }
            if (hits == 1)
                found = at + 1;
        }
    }
    svc__frame_release(c->s, ref);
    store_dataset_cleanup(&d);
    store_run_cleanup(&run);
    return found ? by_row(c, found, lead) : LS_ENOT_FOUND;
}

static int by_id(void *ctx, const char *id, json_t **lead)
{
    struct chat_ctx *c = ctx;
    struct store_lead l;
    memset(&l, 0, sizeof l);
    struct ls_error err;
    if (!id || !*id)
        return LS_ENOT_FOUND;
    int rc = store_lead_find(c->s->store, c->run_id, id, &l, &err);
    if (rc == LS_OK)
        rc = lead_out(c, &l, lead);
    store_lead_cleanup(&l);
    if (rc == LS_ENOT_FOUND)
        return by_cell(c, id, lead);
    return rc == LS_OK ? LS_OK : LS_ENOT_FOUND;
}

static int ranked(void *ctx, int desc, int tier, size_t n, json_t **leads)
{
    struct chat_ctx *c = ctx;
    if (n == 0)
        n = 1;
    struct store_lead_query q = {
        tier < 0 || tier > 2 ? -1 : tier,       NULL, "score", desc ? 1 : 0, 0,
        n > STORE_PAGE_MAX ? STORE_PAGE_MAX : n};
    struct store_lead *list = NULL;
    size_t k = 0;
    uint64_t total = 0;
    struct ls_error err;
    if (store_leads_query(c->s->store, c->run_id, &q, &list, &k, &total, &err) != LS_OK)
        return LS_ENOT_FOUND;
    int missing = 0;
    for (size_t i = 0; i < k && !missing; i++)
        missing = !list[i].reasons_json;
    json_t *a = json_array();
    if (missing) { /* a run explained on demand: the page explains them, as a client's would */
        json_t *page = NULL;
        if (service_leads(c->s, c->run_id, &q, &page, &err) == LS_OK) {
            size_t i;
            json_t *l;
            json_array_foreach(json_object_get(page, "leads"), i, l)
            {
                json_t *x = json_deep_copy(l);
                json_object_del(x, "insight");
                json_t *d = json_object_get(x, "display");
                if (d)
                    json_object_set(x, "fields", d);
                json_object_del(x, "display");
                json_array_append_new(a, x);
            }
            json_decref(page);
            missing = 0;
        }
    }
    if (json_array_size(a) == 0) /* explained, or the page failed: the stored leads */
        for (size_t i = 0; i < k; i++)
            json_array_append_new(a, svc__lead_json(&list[i]));
    store_lead_list_free(list, k);
    *leads = a;
    return LS_OK;
}

/* ---- the chat job -------------------------------------------------------- */

struct chat_arg {
    struct service *s;
    int64_t run_id;
    char *message;
    struct service_chat_sink sink;
    int has_sink;
    int64_t t0; /* submitted, Unix ms */
    int64_t first_ms;
    const struct chat_plan *plan;
};

static void chat_arg_free(void *p)
{
    struct chat_arg *a = p;
    if (!a)
        return;
    free(a->message);
    free(a);
}

static int on_begin(void *ctx, const char *provider, int restart)
{
    struct chat_arg *a = ctx;
    if (!a->has_sink || !a->sink.meta)
        return 0;
    json_t *meta = json_object();
    json_object_set_new(meta, "provider", svc__str(provider));
    json_object_set_new(meta, "restart", json_boolean(restart));
    json_object_set_new(meta, "intent", svc__str(a->plan->intent));
    json_object_set_new(meta, "facts", json_incref(a->plan->facts ? a->plan->facts : json_array()));
    int rc = a->sink.meta(a->sink.ctx, meta);
    json_decref(meta);
    return rc;
}

static int on_text(void *ctx, const char *piece, size_t len)
{
    struct chat_arg *a = ctx;
    if (a->first_ms < 0)
        a->first_ms = service__now_ms() - a->t0;
    if (!a->has_sink || !a->sink.text)
        return 0;
    return a->sink.text(a->sink.ctx, piece, len);
}

/* The last CHAT_HISTORY_MAX messages of the run: [{role, text}] and, for
 * the chain, as llm_msg (pointing into the list, which the caller frees). */
static int history(struct service *s, int64_t run_id, struct store_chat_msg **list, size_t *n,
                   json_t **hist, struct ls_error *err)
{
    int rc = store_chat_list(s->store, run_id, CHAT_HISTORY_MAX, list, n, err);
    if (rc)
        return rc;
    *hist = json_array();
    for (size_t i = 0; i < *n; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "role", json_string((*list)[i].role));
        json_object_set_new(m, "text", svc__str((*list)[i].text));
        json_array_append_new(*hist, m);
    }
    return LS_OK;
}

static int chat_job(void *p, json_t **out, struct ls_error *err)
{
    struct chat_arg *a = p;
    struct service *s = a->s;
    struct ixref *ix = NULL;
    struct store_chat_msg *hist = NULL;
    size_t nhist = 0;
    json_t *hjson = NULL;
    struct chat_plan plan;
    memset(&plan, 0, sizeof plan);
    struct llm_answer ans;
    memset(&ans, 0, sizeof ans);
    struct llm_msg *msgs = NULL;
    char *facts_text = NULL;
    struct chat_ctx cc = {s, a->run_id};
    struct chat_leads leads = {by_id, by_row, ranked, &cc};
    int rc = ix_get(s, a->run_id, &ix, err);
    if (rc)
        goto out;
    if ((rc = history(s, a->run_id, &hist, &nhist, &hjson, err)) != LS_OK)
        goto out;
    if ((rc = chat_plan(ix->ix, &leads, a->message, hjson, &plan, err)) != LS_OK)
        goto out;
    msgs = xcalloc(nhist + 1, sizeof *msgs);
    for (size_t i = 0; i < nhist; i++)
        msgs[i] = (struct llm_msg){hist[i].role, hist[i].text};
    msgs[nhist] = (struct llm_msg){"user", plan.prompt};
    struct llm_request rq = {plan.system, msgs, nhist + 1, 0, plan.answer, NULL, NULL};
    struct llm_sink sink = {on_begin, on_text, a};
    a->plan = &plan;
    a->first_ms = -1;
    rc = llm_chain_ask(svc__state(s)->llm, &rq, &sink, &ans, err);
    if (rc)
        goto out; /* LS_ECANCELED: the client left, nothing is stored */

    /* the question and its answer, together */
    facts_text = plan.facts ? svc__dumps(plan.facts) : NULL;
    if (facts_text && strlen(facts_text) > STORE_CHAT_FACTS_MAX) {
        free(facts_text); /* the answer is kept without the cards it used */
        facts_text = NULL;
    }
    struct store_chat_msg q = {0}, r = {0};
    q.run_id = r.run_id = a->run_id;
    snprintf(q.role, sizeof q.role, "user");
    q.text = a->message;
    snprintf(r.role, sizeof r.role, "assistant");
    r.text = ans.text;
    r.provider = ans.provider;
    r.facts_json = facts_text;
    if ((rc = store_chat_add(s->store, &q, SERVICE_CHAT_KEEP, err)) != LS_OK ||
        (rc = store_chat_add(s->store, &r, SERVICE_CHAT_KEEP, err)) != LS_OK)
        goto out;
    int64_t took = service__now_ms() - a->t0;
    json_t *o = json_object();
    json_object_set_new(o, "message_id", json_integer(r.id));
    json_object_set_new(o, "run_id", json_integer(a->run_id));
    json_object_set_new(o, "provider", svc__str(ans.provider));
    json_object_set_new(o, "intent", svc__str(plan.intent));
    json_object_set_new(o, "text", svc__str(ans.text));
    json_object_set_new(o, "facts", json_incref(plan.facts ? plan.facts : json_array()));
    json_object_set_new(o, "took_ms", json_integer(took));
    json_object_set_new(o, "first_ms", json_integer(a->first_ms >= 0 ? a->first_ms : took));
    if (ans.tried[0])
        json_object_set_new(o, "tried", svc__str(ans.tried));
    *out = o;
out:
    free(facts_text);
    free(msgs);
    llm_answer_cleanup(&ans);
    chat_plan_cleanup(&plan);
    json_decref(hjson);
    store_chat_list_free(hist, nhist);
    ix_put(svc__state(s)->chat, ix);
    return rc;
}

/* ---- submitting ---------------------------------------------------------- */

static int check_message(const char *message, struct ls_error *err)
{
    size_t n = message ? strlen(message) : 0;
    size_t blank = 0;
    while (blank < n && (message[blank] == ' ' || message[blank] == '\t' ||
                         message[blank] == '\n' || message[blank] == '\r'))
        blank++;
    if (blank == n)
        return ls_error_set(err, LS_EINPUT, "the message is empty");
    if (n > CHAT_QUESTION_MAX)
        return ls_error_set(err, LS_ELIMIT, "a message has at most %d bytes (this one has %zu)",
                            CHAT_QUESTION_MAX, n);
    if (csv_utf8_check((const unsigned char *)message, n, NULL) != 0)
        return ls_error_set(err, LS_EINPUT, "the message is not UTF-8 text");
    return LS_OK;
}

static int submit(struct service *s, int64_t run_id, const char *message,
                  const struct service_chat_sink *sink, service_done_fn done, void *ctx,
                  struct service_job **job, struct ls_error *err)
{
    struct store_run run;
    memset(&run, 0, sizeof run);
    *job = NULL;
    int rc = check_message(message, err);
    if (rc)
        return rc;
    if ((rc = views__run_done(s, run_id, &run, err)) != LS_OK)
        return rc;
    store_run_cleanup(&run);
    struct jobs *pool = svc__state(s)->chat_pool;
    if ((rc = jobs_reserve(pool, err)) != LS_OK)
        return rc;
    struct chat_arg *a = xcalloc(1, sizeof *a);
    a->s = s;
    a->run_id = run_id;
    a->message = xstrdup(message);
    if (sink) {
        a->sink = *sink;
        a->has_sink = 1;
    }
    a->t0 = service__now_ms();
    jobs_submit(pool, chat_job, a, chat_arg_free, done, ctx, job);
    return LS_OK;
}

int service_chat_submit(struct service *s, int64_t run_id, const char *message,
                        const struct service_chat_sink *sink, service_done_fn done, void *ctx,
                        struct service_job **job, struct ls_error *err)
{
    return submit(s, run_id, message, sink, done, ctx, job, err);
}

int service_chat_history(struct service *s, int64_t run_id, json_t **out, struct ls_error *err)
{
    struct store_chat_msg *list = NULL;
    size_t n = 0;
    int rc = store_chat_list(s->store, run_id, SERVICE_CHAT_KEEP, &list, &n, err);
    if (rc)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "message_id", json_integer(list[i].id));
        json_object_set_new(m, "role", json_string(list[i].role));
        json_object_set_new(m, "text", svc__str(list[i].text));
        json_object_set_new(m, "provider", svc__str(list[i].provider));
        json_object_set_new(m, "facts",
                            list[i].facts_json ? parsed_or_null(list[i].facts_json) : json_null());
        json_object_set_new(m, "created", svc__iso_json(list[i].created));
        json_array_append_new(a, m);
    }
    store_chat_list_free(list, n);
    *out = json_object();
    json_object_set_new(*out, "run_id", json_integer(run_id));
    json_object_set_new(*out, "messages", a);
    return LS_OK;
}

#define NO_RUN_YET                                                                                 \
    "No file has been scored yet. Upload a CSV of leads and score it, then ask me about "          \
    "its leads, its tiers or what drives conversion."

int service_chat_compat(struct service *s, const char *message, const char *filename,
                        service_done_fn done, void *ctx, struct service_job **job, char **text,
                        struct ls_error *err)
{
    struct store_run run;
    memset(&run, 0, sizeof run);
    *job = NULL;
    *text = NULL;
    int rc = LS_ENOT_FOUND;
    if (filename && *filename)
        rc = store_run_find(s->store, NULL, filename, &run, err);
    if (rc == LS_ENOT_FOUND) {
        store_run_cleanup(&run);
        memset(&run, 0, sizeof run);
        rc = store_run_find(s->store, NULL, NULL, &run, err);
    }
    if (rc == LS_ENOT_FOUND) {
        ls_error_clear(err);
        *text = xstrdup(NO_RUN_YET);
        return LS_OK;
    }
    int64_t id = run.id;
    store_run_cleanup(&run);
    if (rc)
        return rc;
    return submit(s, id, message, NULL, done, ctx, job, err);
}
