/*
 * service_run.c — the jobs that train models and score data sets.
 *
 * Both caches key on what decides the answer, never on how it was asked:
 * a model on the file's fingerprint plus its training options in canonical
 * form (the target as the column it resolves to, exclusions sorted, trees and
 * seed with their defaults filled in, the model format), so that "detect the
 * target" and naming the detected target, or the old client's fixed
 * "Converted" on a file without it, share one model; a run on the
 * fingerprint plus the model it used — a given model id, or the training
 * options of the model it trains — so a retrained model never serves old
 * scores, and the same file scored again is answered from the store.
 *
 * A run is visible in the store from the moment it is submitted (queued),
 * reports its stage and share done while it works, and becomes done with
 * all its leads in one store transaction, or failed with the reason.
 */
#include "app/service_priv.h"

#include "app/explain.h"
#include "app/report.h"
#include "app/run.h"
#include "app/train.h"
#include "chat/chat.h"
#include "core/mem.h"
#include "core/sha256.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXCLUDE_NAME_MAX 1024 /* bytes of one --exclude entry */
#define TARGET_NAME_MAX  1024
#define DISPLAY_INFORMED 6 /* display columns beside the id */
#define TOP_LEADS        10
#define PROGRESS_STEP    0.05 /* share done between two progress writes */
#define DEFAULT_TREES    100
#define DEFAULT_SEED     42

void service_train_init(struct service_train *t)
{
    memset(t, 0, sizeof *t);
}

/* ---- the canonical training options ------------------------------------ */

/* What one job works on: copies, so the submitter's memory may go. */
struct job_arg {
    struct service *s;
    struct store_dataset d;
    /* training */
    char *target; /* resolved column name, or NULL: detect */
    /* the positive class: NULL for the detected one, else the label in its
     * canonical spelling (train_positive) */
    char *positive;
    char **exclude;
    size_t nexclude;
    int include_leaky;
    uint32_t trees;
    uint64_t seed;
    char *options_json;         /* canonical */
    char model_key[SHA256_HEX]; /* sha256(fingerprint, options_json) */
    /* scoring */
    int64_t model_id; /* given, or 0: train */
    int64_t run_id;
    char run_key[SHA256_HEX];
};

/* The names of the flagged leaky columns a model kept (include_leaky): its
 * info's kept_leaky, or for a model stored before that existed, the
 * exclude-level leakage checks of a model trained with include_leaky. */
static json_t *kept_leaky_names(const json_t *info)
{
    json_t *out = json_array(), *v;
    size_t i;
    const json_t *kept = json_object_get(info, "kept_leaky");
    if (json_is_array(kept)) {
        json_array_foreach(kept, i, v)
        {
            const char *name = json_string_value(json_object_get(v, "column"));
            if (name)
                json_array_append_new(out, json_string(name));
        }
        return out;
    }
    if (!json_is_true(json_object_get(info, "include_leaky")))
        return out;
    json_array_foreach(json_object_get(info, "leakage_checks"), i, v)
    {
        const char *lvl = json_string_value(json_object_get(v, "level"));
        const char *name = json_string_value(json_object_get(v, "column"));
        if (lvl && name && strcmp(lvl, "exclude") == 0)
            json_array_append_new(out, json_string(name));
    }
    return out;
}

static void job_arg_free(void *p)
{
    struct job_arg *a = p;
    if (!a)
        return;
    store_dataset_cleanup(&a->d);
    free(a->target);
    free(a->positive);
    for (size_t i = 0; i < a->nexclude; i++)
        free(a->exclude[i]);
    free(a->exclude);
    free(a->options_json);
    free(a);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The column of the data set named name (exactly, then without case), from
 * its stored profile; NULL when there is none. */
static const char *info_column(const json_t *info, const char *name)
{
    json_t *cols = json_object_get(info, "columns"), *c;
    size_t i;
    json_array_foreach(cols, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && strcmp(n, name) == 0)
            return n;
    }
    json_array_foreach(cols, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && strcasecmp(n, name) == 0)
            return n;
    }
    return NULL;
}

/* Add the labels of one class to arr: the joined form ("Lost | Junk") and
 * each label in it. */
static void class_labels(json_t *arr, const char *joined)
{
    if (!joined)
        return;
    json_array_append_new(arr, json_string(joined));
    for (const char *p = joined; *p;) {
        const char *e = strstr(p, " | ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (e) /* a single label is already in as the joined form */
            json_array_append_new(arr, json_stringn(p, n));
        else if (p != joined)
            json_array_append_new(arr, json_string(p));
        p += n + (e ? 3 : 0);
    }
}

/* The labels of the column col from the data set's stored answer, when it
 * lists them all: the detected target's classes, a true/false column's
 * words, a two-number column's numbers, a category column's values when it
 * has no more than the profile lists. *npos gets how many of them (from the
 * front) are the detected positive class (0: no class is detected). NULL
 * when the answer does not tell; training checks the label then. */
static json_t *column_labels(const json_t *info, const char *col, size_t *npos)
{
    json_t *tgt = json_object_get(info, "target"), *arr = json_array(), *c;
    *npos = 0;
    const char *tn = json_string_value(json_object_get(tgt, "name"));
    if (tn && strcmp(tn, col) == 0) {
        class_labels(arr, json_string_value(json_object_get(tgt, "positive")));
        *npos = json_array_size(arr);
        class_labels(arr, json_string_value(json_object_get(tgt, "negative")));
        return arr;
    }
    size_t i;
    json_array_foreach(json_object_get(info, "columns"), i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (!n || strcmp(n, col) != 0)
            continue;
        const char *type = json_string_value(json_object_get(c, "type"));
        json_int_t distinct = json_integer_value(json_object_get(c, "distinct"));
        json_t *top = json_object_get(c, "top"), *e;
        size_t k;
        if (type && strcmp(type, "boolean") == 0) {
            json_array_append(arr, json_object_get(c, "true_label"));
            json_array_append(arr, json_object_get(c, "false_label"));
        } else if (type && strcmp(type, "numeric") == 0 && distinct == 2) {
            char b[64];
            snprintf(b, sizeof b, "%.15g", json_number_value(json_object_get(c, "min")));
            json_array_append_new(arr, json_string(b));
            snprintf(b, sizeof b, "%.15g", json_number_value(json_object_get(c, "max")));
            json_array_append_new(arr, json_string(b));
        } else if (json_is_array(top) && (json_int_t)json_array_size(top) == distinct) {
            json_array_foreach(top, k, e) json_array_append(arr, json_object_get(e, "value"));
        } else {
            break;
        }
        return arr;
    }
    json_decref(arr);
    return NULL;
}

/* Check the positive class p against the target's labels the data set's
 * answer lists, and put its canonical form in a->positive: NULL for the
 * detected positive class (so naming it shares that model), else the
 * label as the file spells it (the whole class when it is the detected
 * negative one). When the answer does not list the labels, p is kept as
 * given and training checks it (target_choose_positive). */
static int train_positive(struct job_arg *a, const json_t *info, const char *p,
                          struct ls_error *err)
{
    if (strlen(p) > SERVICE_POSITIVE_MAX)
        return ls_error_set(err, LS_EINPUT, "positive must be at most %d bytes",
                            SERVICE_POSITIVE_MAX);
    size_t npos = 0;
    json_t *labels = a->target ? column_labels(info, a->target, &npos) : NULL;
    if (!labels) {
        a->positive = xstrdup(p);
        return LS_OK;
    }
    long hit = -1;
    for (int pass = 0; pass < 2 && hit < 0; pass++)
        for (size_t i = 0; i < json_array_size(labels) && hit < 0; i++) {
            const char *l = json_string_value(json_array_get(labels, i));
            if (l && (pass ? strcasecmp(l, p) : strcmp(l, p)) == 0)
                hit = (long)i;
        }
    int rc = LS_OK;
    if (hit < 0) {
        char list[600] = "";
        size_t used = 0;
        for (size_t i = 0; i < json_array_size(labels) && used + 1 < sizeof list; i++) {
            const char *l = json_string_value(json_array_get(labels, i));
            if (!l || (npos && strstr(l, " | "))) /* the joined forms: each label is listed */
                continue;
            int n = snprintf(list + used, sizeof list - used, "%s'%.100s'", used ? ", " : "", l);
            used += n > 0 ? (size_t)n : 0;
        }
        rc = ls_error_set(err, LS_EINPUT,
                          "positive '%.100s' is not a class of the target '%.100s'; it must be "
                          "one of %s",
                          p, a->target, list);
    } else if (npos && (size_t)hit < npos) {
        a->positive = NULL; /* the detected positive class */
    } else {
        /* the detected negative class: its joined form names it whole */
        const char *l = json_string_value(json_array_get(labels, npos ? npos : (size_t)hit));
        a->positive = xstrdup(l);
    }
    json_decref(labels);
    return rc;
}

/* Fill a's training fields from t and the data set's stored answer, check
 * them, and compute the canonical options and the model's cache key. */
static int train_spec(struct job_arg *a, const struct service_train *t, struct ls_error *err)
{
    int rc = LS_OK;
    json_t *info = svc__parse(a->d.info_json), *o = NULL;
    if (t->nexclude > SERVICE_EXCLUDE_MAX) {
        rc =
            ls_error_set(err, LS_EINPUT, "at most %d columns may be excluded", SERVICE_EXCLUDE_MAX);
        goto out;
    }
    if (t->trees > SERVICE_TREES_MAX) {
        rc = ls_error_set(err, LS_EINPUT, "trees must be at most %d (got %u)", SERVICE_TREES_MAX,
                          t->trees);
        goto out;
    }
    if (t->target && t->target[0]) {
        if (strlen(t->target) > TARGET_NAME_MAX) {
            rc = ls_error_set(err, LS_EINPUT, "the target name is too long");
            goto out;
        }
        const char *col = info_column(info, t->target);
        if (col) {
            a->target = xstrdup(col);
        } else if (!t->target_fallback) {
            rc = ls_error_set(err, LS_EINPUT, "%s has no column named '%.200s'",
                              a->d.filename ? a->d.filename : "the data set", t->target);
            goto out;
        }
    }
    if (!a->target) { /* detect: the column detection found at upload */
        const char *det =
            json_string_value(json_object_get(json_object_get(info, "target"), "name"));
        if (det)
            a->target = xstrdup(det);
    }
    if (t->positive && t->positive[0] && (rc = train_positive(a, info, t->positive, err)) != LS_OK)
        goto out;
    a->exclude = xcalloc(t->nexclude ? t->nexclude : 1, sizeof *a->exclude);
    for (size_t i = 0; i < t->nexclude; i++) {
        if (!t->exclude[i] || strlen(t->exclude[i]) > EXCLUDE_NAME_MAX) {
            rc = ls_error_set(err, LS_EINPUT, "exclude entry %zu is missing or too long", i + 1);
            goto out;
        }
        a->exclude[a->nexclude++] = xstrdup(t->exclude[i]);
    }
    qsort(a->exclude, a->nexclude, sizeof *a->exclude, cmp_str);
    a->include_leaky = t->include_leaky ? 1 : 0;
    a->trees = t->trees ? t->trees : DEFAULT_TREES;
    a->seed = t->has_seed || t->seed ? t->seed : DEFAULT_SEED;

    o = json_object();
    json_object_set_new(o, "target", svc__str(a->target));
    if (a->positive) /* only when chosen: the keys of models stored before stay valid */
        json_object_set_new(o, "positive", svc__str(a->positive));
    json_t *ex = json_array();
    for (size_t i = 0; i < a->nexclude; i++)
        json_array_append_new(ex, svc__str(a->exclude[i]));
    json_object_set_new(o, "exclude", ex);
    json_object_set_new(o, "include_leaky", json_boolean(a->include_leaky));
    json_object_set_new(o, "trees", json_integer(a->trees));
    json_object_set_new(o, "seed", json_integer((json_int_t)a->seed));
    json_object_set_new(o, "model_format", json_integer(MODEL_VERSION));
    a->options_json = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!a->options_json) { /* a name that is not UTF-8 */
        rc = ls_error_set(err, LS_EINPUT, "the options are not valid UTF-8");
        goto out;
    }
    struct sha256 *h = sha256_new();
    sha256_update(h, "model\n", 6);
    sha256_update(h, a->d.fingerprint, strlen(a->d.fingerprint));
    sha256_update(h, "\n", 1);
    sha256_update(h, a->options_json, strlen(a->options_json));
    sha256_final_hex(h, a->model_key);
out:
    json_decref(o);
    json_decref(info);
    return rc;
}

/* ---- progress ----------------------------------------------------------- */

struct progress {
    struct service *s;
    int64_t run_id; /* 0: not a run (a model job): nothing to report */
    const char *stage;
    double last;
    int64_t model_id;
    pthread_t owner; /* the job's thread: the only one that writes to the store */
};

static void progress_set(struct progress *p, const char *stage, double share)
{
    /* training reports from the forest's threads too: a store connection is
     * per thread, so those short-lived threads must not open one */
    if (!p->run_id || !pthread_equal(p->owner, pthread_self()))
        return;
    if (p->stage && strcmp(stage, p->stage) == 0 && share < 1 && share - p->last < PROGRESS_STEP)
        return; /* a write per PROGRESS_STEP at most */
    p->stage = stage;
    p->last = share;
    struct ls_error err;
    store_run_progress(p->s->store, p->run_id, stage, share, p->model_id, &err);
}

static void train_progress(void *ctx, uint32_t done, uint32_t total)
{
    progress_set(ctx, "training", total ? (double)done / total : 1);
}

static void run_progress(void *ctx, const char *step, uint64_t done, uint64_t total)
{
    progress_set(ctx, step, total ? (double)done / (double)total : 1);
}

/* ---- training ----------------------------------------------------------- */

/* The model's global importance: an evenly spaced sample of its own file's
 * leads explained (explain_summary_sample). NULL when scoring fails. */
static json_t *model_importance(const struct model *m, const struct frame *f, uint32_t threads)
{
    struct score_opts so;
    score_opts_default(&so);
    so.threads = threads;
    struct score_result sr;
    memset(&sr, 0, sizeof sr);
    struct ls_error err;
    json_t *imp = NULL;
    if (app_score(m, f, &so, &sr, &err) == LS_OK) {
        json_t *sum = explain_summary_sample(m, &sr, EXPLAIN_SUMMARY_SAMPLE, threads);
        imp = json_incref(json_object_get(sum, "importance"));
        json_decref(sum);
    }
    if (sr.raw)
        score_result_cleanup(&sr);
    return imp;
}

/*
 * The model a's options make on frame f: the stored one when the cache has
 * it (*cached 1), else trained, saved and stored. *m is loaded either way
 * (model_cleanup), *info the model's answer (caller owns). importance: also
 * compute the model's importance (a run computes its own).
 */
static int ensure_model(struct job_arg *a, const struct frame *f, struct progress *pr,
                        int importance, struct model *m, int64_t *model_id, json_t **info,
                        int *cached, struct ls_error *err)
{
    struct service *s = a->s;
    struct store_model rec;
    memset(&rec, 0, sizeof rec);
    struct train_summary sum;
    memset(&sum, 0, sizeof sum);
    json_t *o = NULL;
    char *info_s = NULL;
    char tmp[4096] = "";
    int rc = store_model_find(s->store, a->model_key, 0, &rec, err);
    if (rc == LS_OK) {
        if ((rc = model_load(rec.path, m, err)) != LS_OK)
            goto out;
        *model_id = rec.id;
        *info = svc__model_answer(&rec);
        json_object_set_new(*info, "cached", json_true());
        *cached = 1;
        goto out;
    }
    if (rc != LS_ENOT_FOUND)
        goto out;
    ls_error_clear(err);
    store_model_cleanup(&rec);
    memset(&rec, 0, sizeof rec);

    struct train_opts to;
    train_opts_default(&to);
    to.target = a->target;
    if (to.target && frame_find(f, to.target) < 0)
        to.target = NULL; /* resolved at submission; cannot happen unless the file changed */
    to.positive = a->positive;
    for (size_t i = 0; i < a->nexclude && i < TRAIN_MAX_EXCLUDE; i++)
        to.exclude[to.nexclude++] = a->exclude[i];
    to.include_leaky = a->include_leaky;
    to.forest.trees = a->trees;
    to.forest.seed = a->seed;
    to.forest.threads = s->opts.threads;
    to.forest.progress = train_progress;
    to.forest.progress_ctx = pr;
    progress_set(pr, "training", 0);
    if ((rc = app_train(f, &to, m, &sum, err)) != LS_OK) {
        memset(&sum, 0, sizeof sum); /* nothing to free on failure */
        goto out;
    }

    o = json_object();
    json_object_set_new(o, "dataset_id", json_integer(a->d.id));
    json_object_set_new(o, "target", svc__str(m->target));
    json_object_set_new(o, "positive", svc__str(m->positive));
    json_t *feats = json_array();
    for (size_t j = 0; j < m->schema.nfeat; j++)
        json_array_append_new(feats, svc__str(m->schema.feat[j].name));
    json_object_set_new(o, "features", feats);
    json_object_set_new(o, "rows", json_integer((json_int_t)sum.rows));
    json_object_set_new(o, "labelled_rows", json_integer((json_int_t)sum.labelled));
    json_object_set_new(o, "trees", json_integer(m->trees));
    json_object_set_new(o, "seed", json_integer((json_int_t)m->seed));
    json_object_set_new(o, "metrics", report_metrics(&m->oob));
    json_t *imp = importance ? model_importance(m, f, s->opts.threads) : NULL;
    json_object_set_new(o, "importance", imp ? imp : json_array());
    train_summary_json(&sum, o); /* excluded, leakage_checks, include_leaky, warnings */
    json_object_set_new(o, "took_ms", json_real(sum.took_ms));

    if ((rc = store_tmp_path(s->store, "model", "lsm", tmp, sizeof tmp, err)) != LS_OK)
        goto out;
    if ((rc = model_save(m, tmp, err)) != LS_OK)
        goto out;
    info_s = svc__dumps(o);
    rec.dataset_id = a->d.id;
    rec.cache_key = a->model_key; /* borrowed: the store copies, *rec becomes its record */
    rec.options_json = a->options_json;
    rec.info_json = info_s;
    if ((rc = store_model_put(s->store, tmp, &rec, err)) != LS_OK) {
        memset(&rec, 0, sizeof rec); /* still our borrowed strings */
        goto out;
    }
    tmp[0] = 0; /* moved into the store */
    *model_id = rec.id;
    *info = svc__model_answer(&rec);
    json_object_set_new(*info, "cached", json_false());
    *cached = 0;
out:
    if (tmp[0])
        unlink(tmp);
    free(info_s);
    json_decref(o);
    train_summary_cleanup(&sum);
    store_model_cleanup(&rec);
    return rc;
}

static int model_job(void *p, json_t **out, struct ls_error *err)
{
    struct job_arg *a = p;
    struct frame_ref *ref = NULL;
    struct model m;
    model_init(&m);
    struct progress pr = {a->s, 0, NULL, 0, 0, pthread_self()};
    int64_t id = 0;
    int cached = 0;
    int rc = svc__frame_get(a->s, a->d.id, a->d.path, &ref, err);
    if (rc == LS_OK)
        rc = ensure_model(a, ref->f, &pr, 1, &m, &id, out, &cached, err);
    model_cleanup(&m);
    svc__frame_release(a->s, ref);
    return rc;
}

/* A job for the data set id with a's other fields filled by fill. */
static int job_arg_new(struct service *s, int64_t dataset_id, struct job_arg **out,
                       struct ls_error *err)
{
    struct job_arg *a = xcalloc(1, sizeof *a);
    a->s = s;
    int rc = store_dataset_get(s->store, dataset_id, &a->d, err);
    if (rc == LS_ENOT_FOUND)
        rc = ls_error_set(err, LS_ENOT_FOUND, "no data set %lld", (long long)dataset_id);
    if (rc != LS_OK) {
        job_arg_free(a);
        return rc;
    }
    *out = a;
    return LS_OK;
}

int service_model_submit(struct service *s, const struct service_train *t, service_done_fn done,
                         void *ctx, struct service_job **job, struct ls_error *err)
{
    struct job_arg *a = NULL;
    int rc = job_arg_new(s, t->dataset_id, &a, err);
    if (rc != LS_OK)
        return rc;
    if ((rc = train_spec(a, t, err)) != LS_OK)
        goto fail;
    struct jobs *pool = svc__state(s)->pool;
    if ((rc = jobs_reserve(pool, err)) != LS_OK)
        goto fail;
    jobs_submit(pool, model_job, a, job_arg_free, done, ctx, job);
    return LS_OK;
fail:
    job_arg_free(a);
    return rc;
}

/* ---- scoring ------------------------------------------------------------ */

/* How much name reads like the lead's source: 2 for "Lead Source" or
 * "source" (case and punctuation aside), 1 for a name containing "source",
 * else 0. */
static int source_rank(const char *name)
{
    char b[64];
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < sizeof b; p++)
        if (isalnum((unsigned char)*p))
            b[k++] = (char)tolower((unsigned char)*p);
    b[k] = 0;
    if (strcmp(b, "leadsource") == 0 || strcmp(b, "source") == 0)
        return 2;
    return strstr(b, "source") ? 1 : 0;
}

static int has_col(const size_t *cols, size_t n, size_t c)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] == c)
            return 1;
    return 0;
}

/* The columns shown with each lead: the identifier, the lead's source when
 * the file has one, then the most important columns of the run. */
static size_t display_columns(const struct frame *f, const struct score_result *sr,
                              const json_t *importance, size_t *cols)
{
    size_t n = 0;
    if (sr->id_col >= 0)
        cols[n++] = (size_t)sr->id_col;
    long src = -1;
    int best = 0;
    for (size_t c = 0; c < f->ncols; c++) {
        int r = source_rank(f->cols[c].name);
        if (r > best) {
            best = r;
            src = (long)c;
        }
    }
    size_t cap = n + DISPLAY_INFORMED;
    if (src >= 0 && !has_col(cols, n, (size_t)src))
        cols[n++] = (size_t)src;
    size_t i;
    json_t *e;
    json_array_foreach(importance, i, e)
    {
        if (n >= cap || n >= STORE_DISPLAY_MAX)
            break;
        const char *name = json_string_value(json_object_get(e, "column"));
        long c = name ? frame_find(f, name) : -1;
        if (c >= 0 && !has_col(cols, n, (size_t)c))
            cols[n++] = (size_t)c;
    }
    return n;
}

/* A display cell: a number for a numeric column's number (so that sorting
 * leads by it in the store is numeric), null for a blank, else the text. */
static json_t *display_cell(const struct frame *f, size_t c, uint64_t row)
{
    const struct column *col = &f->cols[c];
    const char *cell = frame_cell(f, c, row);
    if (col->type == COL_NUMERIC && col->num) {
        double v = col->num[row];
        if (isfinite(v)) {
            if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact */
                return json_integer((json_int_t)v);
            return json_real(v);
        }
    }
    if (!cell[0])
        return json_null();
    return svc__str(cell);
}

static json_t *display_json(const struct frame *f, const size_t *cols, size_t n, uint64_t row)
{
    json_t *o = json_object();
    for (size_t k = 0; k < n; k++)
        json_object_set_new(o, f->cols[cols[k]].name, display_cell(f, cols[k], row));
    return o;
}

/* The reasons {for, against} of lead row, explained in e. */
static json_t *reasons_of(const struct run_result *res, const struct explain_result *e,
                          uint64_t row)
{
    json_t *tmp = json_object();
    explain_lead_json(res->m, res->f, &res->score, e, row, tmp);
    json_t *r = json_incref(json_object_get(tmp, "reasons"));
    json_decref(tmp);
    return r ? r : json_null();
}

/* The best TOP_LEADS leads, with reasons (explained here when the run was
 * too big to explain every lead). */
static json_t *top_leads(const struct run_result *res, const size_t *dcols, size_t ndcols,
                         uint32_t threads)
{
    const struct score_result *r = &res->score;
    uint64_t at[TOP_LEADS];
    for (size_t t = 0; t < TOP_LEADS; t++)
        at[t] = UINT64_MAX;
    for (uint64_t i = 0; i < r->n; i++)
        if (r->rank[i] >= 1 && r->rank[i] <= TOP_LEADS && at[r->rank[i] - 1] == UINT64_MAX)
            at[r->rank[i] - 1] = i;
    json_t *a = json_array();
    for (size_t t = 0; t < TOP_LEADS; t++) {
        uint64_t i = at[t];
        if (i == UINT64_MAX)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "row", json_integer((json_int_t)i + 1));
        if (r->id_col >= 0)
            json_object_set_new(o, "id", svc__str(frame_cell(res->f, (size_t)r->id_col, i)));
        json_object_set_new(o, "score", json_real(r->score[i]));
        json_object_set_new(o, "tier", json_string(tier_name((enum tier)r->tier[i])));
        json_object_set_new(o, "rank", json_integer((json_int_t)r->rank[i]));
        json_object_set_new(o, "label", json_integer(r->label[i]));
        if (res->explained && i >= res->ex.row0 && i - res->ex.row0 < res->ex.n) {
            json_object_set_new(o, "reasons", reasons_of(res, &res->ex, i));
        } else {
            struct explain_result e = {0};
            app_explain(res->m, r, i, 1, threads, &e);
            json_object_set_new(o, "reasons", reasons_of(res, &e, i));
            explain_result_cleanup(&e);
        }
        json_object_set_new(o, "display", display_json(res->f, dcols, ndcols, i));
        json_array_append_new(a, o);
    }
    return a;
}

/* The store's rows of the run's leads, and their strings, freed by leads_free. */
static struct store_lead *leads_build(const struct run_result *res, const size_t *dcols,
                                      size_t ndcols, int explained)
{
    const struct score_result *r = &res->score;
    const struct explain_result *e = &res->ex;
    struct store_lead *L = xcalloc(r->n ? r->n : 1, sizeof *L);
    for (uint64_t i = 0; i < r->n; i++) {
        struct store_lead *l = &L[i];
        l->row = i + 1;
        l->lead_id = r->id_col >= 0 ? (char *)frame_cell(res->f, (size_t)r->id_col, i) : NULL;
        l->score = r->score[i];
        l->raw = r->raw[i];
        l->tier = r->tier[i];
        l->rank = r->rank[i];
        l->label = r->label[i];
        l->oob = r->oob[i];
        json_t *d = display_json(res->f, dcols, ndcols, i);
        l->display_json = svc__dumps(d);
        json_decref(d);
        if (explained) {
            json_t *rs = reasons_of(res, e, i);
            l->reasons_json = svc__dumps(rs);
            json_decref(rs);
            l->base = e->base[i - e->row0];
            l->contrib = e->phi + (i - e->row0) * e->nfeat;
            l->ncontrib = e->nfeat;
        }
    }
    return L;
}

static void leads_free(struct store_lead *L, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        free(L[i].display_json);
        free(L[i].reasons_json);
    }
    free(L);
}

/* The best leads as the insights' prompts read them (chat_leads' JSON):
 * the run's top leads with every cell of their row as fields. */
static json_t *insight_leads(const struct run_result *res, const json_t *top)
{
    json_t *a = json_array(), *l;
    size_t i;
    json_array_foreach(top, i, l)
    {
        json_t *x = json_object();
        static const char *const keep[] = {"row",  "id",    "score",  "tier",
                                           "rank", "label", "reasons"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            json_t *v = json_object_get(l, keep[k]);
            if (v)
                json_object_set_new(x, keep[k], json_deep_copy(v));
        }
        json_int_t row = json_integer_value(json_object_get(l, "row"));
        json_t *fields = json_object();
        for (size_t c = 0; row >= 1 && (uint64_t)row <= res->f->nrows && c < res->f->ncols; c++)
            json_object_set_new(fields, res->f->cols[c].name,
                                svc__str(frame_cell(res->f, c, (uint64_t)row - 1)));
        json_object_set_new(x, "fields", fields);
        json_array_append_new(a, x);
    }
    return a;
}

/* Keep at most opts.keep_runs runs: delete the oldest finished ones past
 * that (their leads with them). Runs still queued or running are skipped
 * (the store refuses them); a failure leaves the history as it was, which
 * is no reason to fail the run that just finished. */
static void prune_runs(struct service *s)
{
    struct store_run *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    struct ls_error err;
    if (store_run_list(s->store, s->opts.keep_runs, STORE_PAGE_MAX, &list, &n, &total, &err) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (list[i].status == STORE_RUN_DONE || list[i].status == STORE_RUN_FAILED)
            store_run_delete(s->store, list[i].id, &err);
    store_run_list_free(list, n);
}

/* Lead x tree-node visits of explaining n leads with m (TreeSHAP walks every
 * node of every tree once per group of leads). */
static uint64_t explain_cost(const struct model *m, uint64_t n)
{
    uint64_t nodes = 0;
    for (uint32_t t = 0; t < m->forest.ntrees; t++)
        nodes += m->forest.trees[t].nnodes;
    return nodes && n > UINT64_MAX / nodes ? UINT64_MAX : n * nodes;
}

static int run_job(void *p, json_t **out, struct ls_error *err)
{
    struct job_arg *a = p;
    struct service *s = a->s;
    int64_t t0 = service__now_ms();
    struct frame_ref *ref = NULL;
    struct model m;
    model_init(&m);
    struct run_result res;
    memset(&res, 0, sizeof res);
    int have_res = 0;
    json_t *minfo = NULL, *o = NULL, *imp_sum = NULL;
    struct store_lead *L = NULL;
    struct store_model rec;
    memset(&rec, 0, sizeof rec);
    struct progress pr = {s, a->run_id, NULL, 0, a->model_id, pthread_self()};
    int64_t model_id = a->model_id;
    int cached_model = 0;
    int rc;

    progress_set(&pr, "reading", 0);
    if ((rc = svc__frame_get(s, a->d.id, a->d.path, &ref, err)) != LS_OK)
        goto out;
    if (model_id) {
        if ((rc = store_model_get(s->store, model_id, &rec, err)) != LS_OK)
            goto out;
        if ((rc = model_load(rec.path, &m, err)) != LS_OK)
            goto out;
    } else {
        if ((rc = ensure_model(a, ref->f, &pr, 0, &m, &model_id, &minfo, &cached_model, err)) !=
            LS_OK)
            goto out;
        pr.model_id = model_id;
        pr.stage = NULL; /* the next stage is written with the model id */
    }

    struct run_opts ro;
    run_opts_default(&ro);
    ro.model = &m;
    ro.frame = ref->f;
    ro.score.threads = s->opts.threads;
    ro.explain = ref->f->nrows <= s->opts.explain_max &&
                 explain_cost(&m, ref->f->nrows) <= s->opts.explain_budget;
    ro.progress = run_progress;
    ro.progress_ctx = &pr;
    rc = app_run_score(&ro, &res, err);
    have_res = 1; /* cleaned up after an error too (run.h) */
    if (rc != LS_OK)
        goto out;
    const struct score_result *r = &res.score;
    int all = res.explained && res.ex.row0 == 0 && res.ex.n == r->n;
    imp_sum = all ? explain_summary_json(&m, r, &res.ex)
                  : explain_summary_sample(&m, r, EXPLAIN_SUMMARY_SAMPLE, s->opts.threads);
    json_t *importance = json_object_get(imp_sum, "importance");

    size_t dcols[STORE_DISPLAY_MAX];
    size_t nd = display_columns(res.f, r, importance, dcols);

    uint64_t labelled = 0, pos = 0;
    double expected = 0;
    for (uint64_t i = 0; i < r->n; i++) {
        if (r->label[i] >= 0) {
            labelled++;
            pos += r->label[i] == 1;
        }
        expected += r->score[i] / 100.0;
    }

    o = json_object();
    json_object_set_new(o, "run_id", json_integer(a->run_id));
    json_object_set_new(o, "model_id", json_integer(model_id));
    json_object_set_new(o, "dataset_id", json_integer(a->d.id));
    json_object_set_new(o, "filename", svc__str(a->d.filename));
    json_object_set_new(o, "cached", json_false());
    json_object_set_new(o, "status", json_string("done"));
    json_object_set_new(o, "target", svc__str(m.target));
    json_object_set_new(o, "positive", svc__str(m.positive));
    json_object_set_new(o, "model_cached", json_boolean(cached_model || a->model_id));
    json_t *sum = json_object();
    json_object_set_new(sum, "total", json_integer((json_int_t)r->n));
    json_t *tiers = json_object();
    json_object_set_new(tiers, "High", json_integer((json_int_t)r->tier_count[TIER_HIGH]));
    json_object_set_new(tiers, "Medium", json_integer((json_int_t)r->tier_count[TIER_MEDIUM]));
    json_object_set_new(tiers, "Low", json_integer((json_int_t)r->tier_count[TIER_LOW]));
    json_object_set_new(sum, "tiers", tiers);
    json_object_set_new(sum, "labelled", json_integer((json_int_t)labelled));
    json_object_set_new(sum, "conversion_rate",
                        labelled ? json_real((double)pos / (double)labelled) : json_null());
    json_object_set_new(sum, "expected_conversions", json_real(expected));
    json_object_set_new(sum, "score_histogram", report_score_histogram(r->score, r->n));
    json_object_set_new(o, "summary", sum);
    json_object_set_new(o, "metrics", r->has_metrics ? report_metrics(&r->metrics) : json_null());
    json_object_set_new(o, "drift", report_drift(&m, r));
    json_object_set_new(o, "importance", json_incref(importance ? importance : json_array()));
    json_object_set_new(o, "top_leads", top_leads(&res, dcols, nd, s->opts.threads));
    json_t *warn = json_deep_copy(res.warnings);
    json_t *tw = json_object_get(minfo, "warnings");
    if (tw && !cached_model)
        json_array_extend(warn, tw);
    json_object_set_new(o, "warnings", warn);
    json_object_set_new(o, "explained", json_boolean(all));
    json_t *dc = json_array();
    for (size_t k = 0; k < nd; k++)
        json_array_append_new(dc, svc__str(res.f->cols[dcols[k]].name));
    json_object_set_new(o, "display_columns", dc);

    progress_set(&pr, "storing", 0);
    L = leads_build(&res, dcols, nd, all);
    /* the chat's facts, stored with the run (a run of a given model has
     * the model's info only in the store's record) */
    json_t *rinfo = a->model_id ? svc__parse(rec.info_json) : NULL;
    const json_t *excluded = json_object_get(minfo ? minfo : rinfo, "excluded");
    json_object_set_new(o, "kept_leaky", kept_leaky_names(minfo ? minfo : rinfo));
    struct chat_run_input ci = {&m, &res, imp_sum, o, excluded, a->d.filename};
    json_t *facts = chat_facts_build(&ci);
    json_decref(rinfo);
    char *facts_text = facts ? svc__dumps(facts) : NULL;
    json_decref(facts);
    if (facts_text && strlen(facts_text) > STORE_FACTS_MAX) { /* built again when asked */
        free(facts_text);
        facts_text = NULL;
    }
    json_object_set_new(o, "took_ms", json_integer(service__now_ms() - t0));
    struct store_run run;
    memset(&run, 0, sizeof run);
    run.id = a->run_id;
    run.dataset_id = a->d.id;
    run.model_id = model_id;
    run.status = STORE_RUN_DONE;
    run.total = r->n;
    for (int k = 0; k < 3; k++)
        run.tier[k] = r->tier_count[k];
    run.has_outcomes = labelled > 0;
    run.explained = all;
    run.summary_json = svc__dumps(o);
    run.facts_json = facts_text;
    rc = store_run_finish(s->store, &run, L, r->n, err);
    free(run.summary_json);
    if (rc != LS_OK) {
        free(facts_text);
        goto out;
    }
    /* insights after the run is stored, by their own worker: the run's
     * answer never waits for a language model */
    svc__insights_queue(s, a->run_id, insight_leads(&res, json_object_get(o, "top_leads")),
                        facts_text);
    prune_runs(s);
    *out = o;
    o = NULL;
out:
    if (rc != LS_OK) {
        struct ls_error ferr;
        store_run_fail(s->store, a->run_id, err->msg[0] ? err->msg : ls_err_name(rc), &ferr);
    }
    if (L)
        leads_free(L, res.score.n);
    json_decref(o);
    json_decref(imp_sum);
    json_decref(minfo);
    if (have_res)
        run_result_cleanup(&res);
    model_cleanup(&m);
    store_model_cleanup(&rec);
    svc__frame_release(s, ref);
    return rc;
}

/* A cached run is served only while its model exists: after the model is
 * deleted, its scores could no longer be explained or re-used for real-time
 * scoring, so the same request trains and scores anew. */
static int model_exists(struct service *s, int64_t id)
{
    struct store_model m;
    struct ls_error err;
    memset(&m, 0, sizeof m);
    int rc = store_model_get(s->store, id, &m, &err);
    store_model_cleanup(&m);
    return rc == LS_OK;
}

int service_run_submit(struct service *s, const struct service_run_req *r, service_done_fn done,
                       void *ctx, struct service_job **job, int64_t *run_id, json_t **cached,
                       struct ls_error *err)
{
    struct job_arg *a = NULL;
    struct store_run found;
    memset(&found, 0, sizeof found);
    struct jobs *pool = svc__state(s)->pool;
    int reserved = 0;
    *job = NULL;
    *cached = NULL;
    int rc = job_arg_new(s, r->dataset_id, &a, err);
    if (rc != LS_OK)
        return rc;
    struct sha256 *h = sha256_new();
    sha256_update(h, "run\n", 4);
    sha256_update(h, a->d.fingerprint, strlen(a->d.fingerprint));
    if (r->model_id) {
        struct store_model m;
        memset(&m, 0, sizeof m);
        rc = store_model_get(s->store, r->model_id, &m, err);
        store_model_cleanup(&m);
        if (rc == LS_ENOT_FOUND)
            rc = ls_error_set(err, LS_ENOT_FOUND, "no model %lld", (long long)r->model_id);
        if (rc != LS_OK) {
            sha256_free(h);
            goto fail;
        }
        a->model_id = r->model_id;
        char b[64];
        int n = snprintf(b, sizeof b, "\nmodel %lld", (long long)r->model_id);
        sha256_update(h, b, (size_t)n);
    } else {
        struct service_train t = r->train;
        t.dataset_id = r->dataset_id;
        if ((rc = train_spec(a, &t, err)) != LS_OK) {
            sha256_free(h);
            goto fail;
        }
        sha256_update(h, "\ntrain ", 7);
        sha256_update(h, a->options_json, strlen(a->options_json));
    }
    sha256_final_hex(h, a->run_key);

    /* the same file with the same model or options: the stored answer */
    if (store_run_find(s->store, a->run_key, NULL, &found, err) == LS_OK &&
        found.status == STORE_RUN_DONE && model_exists(s, found.model_id)) {
        json_t *o = svc__parse(found.summary_json);
        svc__run_status(&found, o);
        json_object_set_new(o, "cached", json_true());
        *cached = o;
        *run_id = found.id;
        svc__insights_ensure(s, found.id, found.total); /* a run stored before a restart */
        rc = LS_OK;
        goto fail; /* nothing to run: free what was prepared */
    }
    ls_error_clear(err);
    if ((rc = jobs_reserve(pool, err)) != LS_OK)
        goto fail;
    reserved = 1;
    struct store_run run;
    memset(&run, 0, sizeof run);
    run.dataset_id = a->d.id;
    run.model_id = a->model_id;
    run.filename = a->d.filename;
    run.cache_key = a->run_key;
    run.status = STORE_RUN_QUEUED;
    snprintf(run.stage, sizeof run.stage, "queued");
    if ((rc = store_run_create(s->store, &run, err)) != LS_OK)
        goto fail;
    a->run_id = run.id;
    *run_id = run.id;
    jobs_submit(pool, run_job, a, job_arg_free, done, ctx, job);
    store_run_cleanup(&found);
    return LS_OK;
fail:
    if (reserved)
        jobs_unreserve(pool);
    store_run_cleanup(&found);
    job_arg_free(a);
    return rc;
}
