/*
 * service_views.c — reading a run back: pages of leads, one lead in full,
 * and the caches behind them (see service_views.h for the caches' design).
 *
 * Pages are the store's (sorted and filtered in SQL); this file turns them
 * into the API's JSON. A run too big to explain every lead when it was
 * scored (store_run.explained 0) has its leads explained here, the page
 * asked for (or the one lead), by the cached model's TreeSHAP tables on the
 * run context's binned rows, and stored (store_leads_explain), so each lead
 * is explained once. One lead in full needs its file row too: the run
 * context reads the data set once and keeps it while it is recent.
 *
 * Row numbers are 1-based rows of the data set's file (frame row + 1), as
 * in run_lead_json.
 */
#include "app/service_views.h"

#include "app/narrate.h"
#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct views {
    struct vmodel *model[VIEWS_MODELS]; /* most recent first */
    size_t nmodel;
    struct vrun *run[VIEWS_RUNS];
    size_t nrun;
};

json_t *views__str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* ---- the loaded-model cache -------------------------------------------- */

static void vmodel_free(struct vmodel *vm)
{
    if (!vm)
        return;
    views__memo_free(vm->memo);
    pthread_mutex_destroy(&vm->memo_lock);
    treeshap_free(vm->ts);
    dict_cleanup(&vm->feat_names);
    dict_cleanup(&vm->train_cols);
    bins_index_cleanup(&vm->ix);
    model_cleanup(&vm->m);
    free(vm->path);
    free(vm);
}

static void vrun_free(struct service *s, struct vrun *vr)
{
    if (!vr)
        return;
    run_result_cleanup(&vr->res);
    frame_free(vr->frame);
    if (vr->vm)
        views__model_put(s, vr->vm);
    pthread_mutex_destroy(&vr->lock);
    free(vr);
}

void views__cleanup(struct service *s)
{
    struct views *v = s->views;
    if (!v)
        return;
    /* no request runs any more: drop the caches' references */
    for (size_t i = 0; i < v->nrun; i++)
        if (--v->run[i]->refs == 0)
            vrun_free(s, v->run[i]);
    for (size_t i = 0; i < v->nmodel; i++)
        if (--v->model[i]->refs == 0)
            vmodel_free(v->model[i]);
    free(v);
    s->views = NULL;
}

/* The views' state, created on first use; call with views_lock held. */
static struct views *views_locked(struct service *s)
{
    if (!s->views) {
        s->views = xcalloc(1, sizeof(struct views));
        s->views_cleanup = views__cleanup;
    }
    return s->views;
}

static int vmodel_load(struct service *s, int64_t id, struct vmodel **out, struct ls_error *err)
{
    struct store_model rec = {0};
    struct vmodel *vm = NULL;
    int rc = store_model_get(s->store, id, &rec, err);
    if (rc)
        goto out;
    vm = xcalloc(1, sizeof *vm);
    vm->id = id;
    if ((rc = model_load(rec.path, &vm->m, err)) != LS_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rc = ls_error_set(err, rc, "model %lld: %s", (long long)id, msg);
        goto out;
    }
    bins_index_build(&vm->m.schema, &vm->ix);
    vm->path = xstrdup(rec.path);
    struct frame_opts fo;
    frame_opts_default(&fo);
    model_frame_opts(&vm->m, &fo);
    vm->missing = fo.missing_tokens ? fo.missing_tokens : frame_default_missing;
    dict_init(&vm->feat_names);
    for (size_t j = 0; j < vm->m.schema.nfeat; j++) {
        const char *n = vm->m.schema.feat[j].name;
        dict_append(&vm->feat_names, n, strlen(n)); /* names are unique: entry j */
    }
    dict_init(&vm->train_cols);
    for (uint32_t c = 0; c < vm->m.ntrain_columns; c++)
        dict_intern(&vm->train_cols, vm->m.train_columns[c], strlen(vm->m.train_columns[c]));
    pthread_mutex_init(&vm->memo_lock, NULL);
    vm->refs = 1; /* the caller's */
    *out = vm;
    vm = NULL;
out:
    if (vm) {
        bins_index_cleanup(&vm->ix);
        model_cleanup(&vm->m);
        free(vm);
    }
    store_model_cleanup(&rec);
    return rc;
}

int views__model_get(struct service *s, int64_t id, struct vmodel **out, struct ls_error *err)
{
    struct vmodel *vm = NULL, *evicted = NULL;
    pthread_mutex_lock(&s->views_lock);
    struct views *v = views_locked(s);
    for (size_t i = 0; i < v->nmodel; i++)
        if (v->model[i]->id == id) {
            vm = v->model[i];
            /* a deleted model (store_model_delete removes its file) leaves
             * the cache: one stat, far cheaper than asking the store */
            if (access(vm->path, F_OK) != 0) {
                memmove(v->model + i, v->model + i + 1, (v->nmodel - i - 1) * sizeof *v->model);
                v->nmodel--;
                evicted = --vm->refs == 0 ? vm : NULL;
                vm = NULL;
                break;
            }
            memmove(v->model + 1, v->model, i * sizeof *v->model);
            v->model[0] = vm;
            vm->refs++;
            break;
        }
    pthread_mutex_unlock(&s->views_lock);
    vmodel_free(evicted);
    evicted = NULL;
    if (vm) {
        *out = vm;
        return LS_OK;
    }
    int rc = vmodel_load(s, id, &vm, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->views_lock);
    v = views_locked(s);
    struct vmodel *dup = NULL;
    for (size_t i = 0; i < v->nmodel && !dup; i++)
        if (v->model[i]->id == id)
            dup = v->model[i];
    if (dup) { /* loaded meanwhile by another request: use that one */
        dup->refs++;
        vm->refs = 0;
        evicted = vm;
        vm = dup;
    } else {
        if (v->nmodel == VIEWS_MODELS) {
            struct vmodel *last = v->model[--v->nmodel];
            if (--last->refs == 0)
                evicted = last;
        }
        memmove(v->model + 1, v->model, v->nmodel * sizeof *v->model);
        v->model[0] = vm;
        v->nmodel++;
        vm->refs++; /* the cache's */
    }
    pthread_mutex_unlock(&s->views_lock);
    vmodel_free(evicted);
    *out = vm;
    return LS_OK;
}

void views__model_put(struct service *s, struct vmodel *vm)
{
    if (!vm)
        return;
    pthread_mutex_lock(&s->views_lock);
    int last = --vm->refs == 0;
    pthread_mutex_unlock(&s->views_lock);
    if (last)
        vmodel_free(vm);
}

const struct treeshap *views__ts(struct vmodel *vm)
{
    /* built on first use (32 ms for the Leads.csv model): exports and results never need it */
    pthread_mutex_lock(&vm->memo_lock);
    if (!vm->ts)
        vm->ts = treeshap_new(&vm->m.forest);
    pthread_mutex_unlock(&vm->memo_lock);
    return vm->ts;
}

/* ---- run contexts ------------------------------------------------------- */

int views__run_done(struct service *s, int64_t id, struct store_run *out, struct ls_error *err)
{
    struct store_run r = {0};
    int rc = store_run_get(s->store, id, &r, err);
    if (rc)
        return rc;
    if (r.status != STORE_RUN_DONE) {
        if (r.status == STORE_RUN_FAILED)
            rc = ls_error_set(err, LS_ECONFLICT, "run %lld failed: %s", (long long)id,
                              r.error ? r.error : "no reason recorded");
        else
            rc = ls_error_set(err, LS_ECONFLICT,
                              "run %lld is %s; its leads are there when it is done", (long long)id,
                              store_run_status_name(r.status));
        store_run_cleanup(&r);
        return rc;
    }
    *out = r;
    return LS_OK;
}

static int vrun_build(struct service *s, const struct store_run *run, struct vrun **out,
                      struct ls_error *err)
{
    struct store_dataset d = {0};
    struct vrun *vr = xcalloc(1, sizeof *vr);
    vr->id = run->id;
    pthread_mutex_init(&vr->lock, NULL);
    int rc = store_dataset_get(s->store, run->dataset_id, &d, err);
    if (rc)
        goto out;
    /* read as the run's job read it (service.c: the default reading options
     * and the service's row limit), so every cell and bin is the run's */
    struct frame_opts fo;
    frame_opts_default(&fo);
    fo.csv.limits.max_rows = s->opts.max_rows;
    if ((rc = frame_read_file(d.path, &fo, &vr->frame, err)) != LS_OK)
        goto out;
    vr->res.f = vr->frame;
    rc = run->model_id > 0 ? views__model_get(s, run->model_id, &vr->vm, err) : LS_ENOT_FOUND;
    if (rc == LS_ENOT_FOUND) { /* the model was deleted: the file's cells are still there */
        ls_error_clear(err);
        rc = LS_OK;
    }
    if (rc)
        goto out;
    if (vr->frame->nrows != run->total) {
        rc = ls_error_set(err, LS_ESTORE, "run %lld: its data set has %llu rows, the run %llu",
                          (long long)run->id, (unsigned long long)vr->frame->nrows,
                          (unsigned long long)run->total);
        goto out;
    }
    vr->refs = 1;
    *out = vr;
    vr = NULL;
out:
    if (vr) {
        vr->refs = 0;
        vrun_free(s, vr);
    }
    store_dataset_cleanup(&d);
    return rc;
}

int views__run_get(struct service *s, const struct store_run *run, struct vrun **out,
                   struct ls_error *err)
{
    struct vrun *vr = NULL, *evicted = NULL;
    pthread_mutex_lock(&s->views_lock);
    struct views *v = views_locked(s);
    for (size_t i = 0; i < v->nrun; i++)
        if (v->run[i]->id == run->id) {
            vr = v->run[i];
            memmove(v->run + 1, v->run, i * sizeof *v->run);
            v->run[0] = vr;
            vr->refs++;
            break;
        }
    pthread_mutex_unlock(&s->views_lock);
    if (vr) {
        *out = vr;
        return LS_OK;
    }
    int rc = vrun_build(s, run, &vr, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->views_lock);
    v = views_locked(s);
    struct vrun *dup = NULL;
    for (size_t i = 0; i < v->nrun && !dup; i++)
        if (v->run[i]->id == run->id)
            dup = v->run[i];
    if (dup) {
        dup->refs++;
        vr->refs = 0;
        evicted = vr;
        vr = dup;
    } else {
        if (v->nrun == VIEWS_RUNS) {
            struct vrun *last = v->run[--v->nrun];
            if (--last->refs == 0)
                evicted = last;
        }
        memmove(v->run + 1, v->run, v->nrun * sizeof *v->run);
        v->run[0] = vr;
        v->nrun++;
        vr->refs++;
    }
    pthread_mutex_unlock(&s->views_lock);
    vrun_free(s, evicted);
    *out = vr;
    return LS_OK;
}

void views__run_put(struct service *s, struct vrun *vr)
{
    if (!vr)
        return;
    pthread_mutex_lock(&s->views_lock);
    int last = --vr->refs == 0;
    pthread_mutex_unlock(&s->views_lock);
    if (last)
        vrun_free(s, vr);
}

/* Score the run's file again (bins, tiers: what explain_value and an
 * explanation read), once; call with vr->lock held. */
static int run_score_locked(struct service *s, struct vrun *vr, struct ls_error *err)
{
    if (vr->scored || !vr->vm)
        return LS_OK;
    struct run_opts o;
    run_opts_default(&o);
    o.model = &vr->vm->m;
    o.frame = vr->frame;
    o.score.threads = s->opts.threads;
    int rc = app_run_score(&o, &vr->res, err);
    if (rc) {
        run_result_cleanup(&vr->res);
        vr->res.f = vr->frame;
        return rc;
    }
    if (vr->res.score.n != vr->frame->nrows)
        return ls_error_set(err, LS_ESTORE, "run %lld: scoring its file again gave %llu leads",
                            (long long)vr->id, (unsigned long long)vr->res.score.n);
    vr->scored = 1;
    return LS_OK;
}

int views__run_score(struct service *s, struct vrun *vr, struct ls_error *err)
{
    pthread_mutex_lock(&vr->lock);
    int rc = run_score_locked(s, vr, err);
    pthread_mutex_unlock(&vr->lock);
    return rc;
}

/* ---- explaining on demand ----------------------------------------------- */

int views__explain(struct service *s, struct vrun *vr, struct store_lead *leads, size_t n,
                   size_t *explained, struct ls_error *err)
{
    *explained = 0;
    if (!vr->vm)
        return LS_OK; /* no model: stays unexplained */
    const struct model *m = &vr->vm->m;
    const struct score_result *r = &vr->res.score;
    pthread_mutex_lock(&vr->lock);
    size_t *pending = NULL, k = 0;
    int rc = run_score_locked(s, vr, err);
    if (rc)
        goto out;
    size_t nf = r->nfeat, words = r->inbag ? r->inbag_words : 0;
    /* which leads: those without reasons, whose row is in the file */
    pending = xmalloc((n ? n : 1) * sizeof *pending);
    for (size_t i = 0; i < n; i++)
        if ((!leads[i].reasons_json || !leads[i].contrib) && leads[i].row >= 1 &&
            leads[i].row <= r->n)
            pending[k++] = i;
    if (k == 0)
        goto out;
    /* their binned rows and in-bag sets, gathered (as explain_summary_sample does) */
    uint8_t *X = xmalloc((nf ? nf : 1) * k);
    uint64_t *skip = words ? xmalloc(k * words * sizeof *skip) : NULL;
    for (size_t i = 0; i < k; i++) {
        uint64_t row = leads[pending[i]].row - 1;
        for (size_t j = 0; j < nf; j++)
            X[j * k + i] = r->X[j * r->n + row];
        if (skip)
            memcpy(skip + i * words, r->inbag + row * words, words * sizeof *skip);
    }
    double *phi = xmalloc(k * (nf ? nf : 1) * sizeof *phi), *base = xmalloc(k * sizeof *base);
    treeshap_rows(views__ts(vr->vm), X, k, 0, k, skip, words, s->opts.threads, phi, base);
    struct store_lead *upd = xcalloc(k, sizeof *upd);
    for (size_t i = 0; i < k; i++) {
        struct store_lead *l = &leads[pending[i]];
        uint64_t row = l->row - 1;
        double *p = phi + i * nf, sum = base[i];
        for (size_t j = 0; j < nf; j++) {
            sum += p[j];
            p[j] *= 100.0;
        }
        double b = 100.0 * base[i], raw = 100.0 * sum;
        /* explain_lead_json reads contributions of lead `row` at e.phi + (row - row0) * nfeat */
        struct explain_result e = {
            .row0 = row, .n = 1, .nfeat = nf, .phi = p, .base = &b, .raw = &raw};
        json_t *o = json_object();
        explain_lead_json(m, vr->res.f, r, &e, row, o);
        char *rs = json_dumps(json_object_get(o, "reasons"),
                              JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        json_decref(o);
        free(l->reasons_json);
        l->reasons_json = rs;
        free(l->contrib);
        l->contrib = xmalloc((nf ? nf : 1) * sizeof *l->contrib);
        memcpy(l->contrib, p, nf * sizeof *p);
        l->ncontrib = nf;
        l->base = b;
        upd[i] = *l; /* shallow: the store copies what it keeps */
    }
    rc = store_leads_explain(s->store, vr->id, upd, k, err);
    *explained = k;
    free(upd);
    free(phi);
    free(base);
    free(X);
    free(skip);
out:
    free(pending);
    pthread_mutex_unlock(&vr->lock);
    return rc;
}

/* ---- pages of leads ----------------------------------------------------- */

static json_t *parsed(const char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *label_json(int label)
{
    return label >= 0 ? json_integer(label) : json_null();
}

static json_t *page_lead_json(const struct store_lead *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)l->row));
    json_object_set_new(o, "id", views__str(l->lead_id));
    json_object_set_new(o, "score", json_real(l->score));
    json_object_set_new(o, "tier", json_string(tier_name((enum tier)l->tier)));
    json_object_set_new(o, "rank", json_integer((json_int_t)l->rank));
    json_object_set_new(o, "label", label_json(l->label));
    json_object_set_new(o, "reasons", parsed(l->reasons_json));
    json_t *d = parsed(l->display_json);
    json_object_set_new(o, "display", json_is_object(d) ? d : (json_decref(d), json_object()));
    return o;
}

int service_leads(struct service *s, int64_t run_id, const struct store_lead_query *q, json_t **out,
                  struct ls_error *err)
{
    struct store_run run = {0};
    struct store_lead *leads = NULL;
    struct vrun *vr = NULL;
    size_t n = 0;
    uint64_t total = 0;
    int on_demand = 0;
    int rc = views__run_done(s, run_id, &run, err);
    if (rc)
        return rc;
    if ((rc = store_leads_query(s->store, run_id, q, &leads, &n, &total, err)) != LS_OK)
        goto out;
    if (!run.explained) {
        on_demand = 1;
        int missing = 0;
        for (size_t i = 0; i < n && !missing; i++)
            missing = !leads[i].reasons_json;
        if (missing) {
            size_t done;
            if ((rc = views__run_get(s, &run, &vr, err)) != LS_OK ||
                (rc = views__explain(s, vr, leads, n, &done, err)) != LS_OK)
                goto out;
        }
    }
    json_t *a = json_array();
    json_t *ins = svc__insight_map(s, run_id);
    for (size_t i = 0; i < n; i++) {
        json_t *l = page_lead_json(&leads[i]);
        json_object_set_new(l, "insight", svc__insight_of(ins, leads[i].row));
        json_array_append_new(a, l);
    }
    json_decref(ins);
    json_t *o = json_object();
    json_object_set_new(o, "leads", a);
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "offset", json_integer((json_int_t)q->offset));
    json_object_set_new(o, "limit", json_integer((json_int_t)q->limit));
    json_object_set_new(o, "explained", json_boolean(run.explained));
    json_object_set_new(o, "explained_on_demand", json_boolean(on_demand));
    *out = o;
out:
    views__run_put(s, vr);
    store_lead_list_free(leads, n);
    store_run_cleanup(&run);
    return rc;
}

/* ---- one lead in full --------------------------------------------------- */

struct contrib {
    size_t j;
    double v;
};

static int cmp_contrib(const void *a, const void *b)
{
    const struct contrib *x = a, *y = b;
    double ax = fabs(x->v), ay = fabs(y->v);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/* contributions [{column, value, points}], largest |points| first */
static json_t *contributions_json(const struct vrun *vr, const struct store_lead *l)
{
    const struct model *m = &vr->vm->m;
    size_t nf = l->ncontrib < m->schema.nfeat ? l->ncontrib : m->schema.nfeat;
    struct contrib *c = xmalloc((nf ? nf : 1) * sizeof *c);
    for (size_t j = 0; j < nf; j++)
        c[j] = (struct contrib){j, l->contrib[j]};
    qsort(c, nf, sizeof *c, cmp_contrib);
    json_t *a = json_array();
    for (size_t k = 0; k < nf; k++) {
        char val[EXPLAIN_VALUE_MAX + 64];
        explain_value(m, vr->res.f, &vr->res.score, c[k].j, l->row - 1, val, sizeof val);
        json_t *x = json_object();
        json_object_set_new(x, "column", views__str(m->schema.feat[c[k].j].name));
        json_object_set_new(x, "value", views__str(val));
        json_object_set_new(x, "points", json_real(c[k].v));
        json_array_append_new(a, x);
    }
    free(c);
    return a;
}

int service_lead(struct service *s, int64_t run_id, uint64_t row, json_t **out,
                 struct ls_error *err)
{
    struct store_run run = {0};
    struct store_lead l = {0};
    struct vrun *vr = NULL;
    int rc = views__run_done(s, run_id, &run, err);
    if (rc)
        return rc;
    if ((rc = store_lead_get(s->store, run_id, row, &l, err)) != LS_OK ||
        (rc = views__run_get(s, &run, &vr, err)) != LS_OK)
        goto out;
    if ((rc = views__run_score(s, vr, err)) != LS_OK) /* for the values contributions name */
        goto out;
    if (!l.contrib || !l.reasons_json) { /* a run explained on demand: this lead now */
        size_t done = 0;
        if ((rc = views__explain(s, vr, &l, 1, &done, err)) != LS_OK)
            goto out;
    }
    const struct frame *f = vr->res.f;
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)l.row));
    json_object_set_new(o, "id", views__str(l.lead_id));
    json_object_set_new(o, "score", json_real(l.score));
    json_object_set_new(o, "raw", json_real(100.0 * l.raw)); /* points, as base and contributions */
    json_object_set_new(o, "tier", json_string(tier_name((enum tier)l.tier)));
    json_object_set_new(o, "rank", json_integer((json_int_t)l.rank));
    json_object_set_new(o, "label", label_json(l.label));
    json_object_set_new(o, "out_of_bag", json_boolean(l.oob));
    json_t *fields = json_object();
    for (size_t c = 0; c < f->ncols && l.row >= 1 && l.row <= f->nrows; c++)
        json_object_set_new(fields, f->cols[c].name, views__str(frame_cell(f, c, l.row - 1)));
    json_object_set_new(o, "fields", fields);
    int has = l.contrib && vr->vm;
    json_object_set_new(o, "base", has ? json_real(l.base) : json_null());
    json_object_set_new(o, "contributions", has ? contributions_json(vr, &l) : json_null());
    json_t *reasons = parsed(l.reasons_json);
    char text[NARRATE_TEXT_MAX];
    json_object_set_new(o, "explanation",
                        views__str(narrate_json_sentence(l.score, reasons, text, sizeof text)));
    json_object_set_new(o, "next_action",
                        views__str(narrate_json_action(l.tier, reasons, text, sizeof text)));
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "explained_on_demand", json_boolean(!run.explained));
    json_t *ins = svc__insight_map(s, run_id);
    json_object_set_new(o, "insight", svc__insight_of(ins, l.row));
    json_decref(ins);
    if (!vr->vm && !l.contrib)
        json_object_set_new(o, "note",
                            json_string("the run's model was deleted: this lead "
                                        "cannot be explained any more"));
    *out = o;
out:
    views__run_put(s, vr);
    store_lead_cleanup(&l);
    store_run_cleanup(&run);
    return rc;
}
