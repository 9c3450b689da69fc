/*
 * service_views_score.c — real-time scoring for a CRM webhook (POST
 * /api/score): a few leads as JSON objects, scored and explained on the
 * caller's thread against a model that stays loaded.
 *
 * The path is meant to cost a few microseconds a lead besides the
 * explanation: nothing is read from disk or the store after the model is
 * cached (views__model_get), a lead's columns are matched to the model's
 * features through a hash of their names built once per model, its values
 * are binned with the model's own rules (as ls_model_score_lead reads a
 * lead: the training file's missing tokens, bins_value), and the scratch
 * of one call serves all its leads.
 *
 * The explanation is exact TreeSHAP (the same values as a run's), on the
 * TreeSHAP tables cached with the model. Exact TreeSHAP of one lead costs
 * what the tree walks cost (several hundred microseconds for a 100-tree
 * forest; the figure is measured by test_service_views --leads), far above
 * the tens of microseconds a high-rate webhook allows. Because a lead's
 * contributions depend on nothing but its binned values (a real-time lead
 * is scored by every tree), they are memoised per model by those bins: a
 * lead that bins like one seen before — the same lead sent again, or a
 * different lead with the same values in every bin — costs a hash and a
 * copy, and the answer is bit-identical to computing it. The memo is a
 * direct-mapped table (VIEWS_MEMO slots, fewer for very wide models),
 * replacing on collision, under the model's memo lock.
 */
#include "app/service_views.h"

#include "core/mem.h"
#include "data/value.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCORE_WARNINGS_MAX 16          /* warnings per lead */
#define SCORE_MEMO_BYTES   (16u << 20) /* a model's memo at most */
#define SCORE_NUM_MAX      40          /* bytes of a number written as text */

struct vmemo {
    size_t nf, slots; /* slots: a power of two */
    uint64_t *hash;   /* per slot; 0: empty */
    uint8_t *bins;    /* slots x nf */
    double *phi;      /* slots x nf, points */
    double *base;     /* per slot, points */
};

void views__memo_free(struct vmemo *m)
{
    if (!m)
        return;
    free(m->hash);
    free(m->bins);
    free(m->phi);
    free(m->base);
    free(m);
}

static struct vmemo *memo_new(size_t nf)
{
    struct vmemo *m = xcalloc(1, sizeof *m);
    size_t per = nf * (1 + sizeof(double)) + 2 * sizeof(double), slots = VIEWS_MEMO;
    while (slots > 16 && slots * per > SCORE_MEMO_BYTES)
        slots /= 2;
    m->nf = nf;
    m->slots = slots;
    m->hash = xcalloc(slots, sizeof *m->hash);
    m->bins = xmalloc(slots * (nf ? nf : 1));
    m->phi = xmalloc(slots * (nf ? nf : 1) * sizeof *m->phi);
    m->base = xmalloc(slots * sizeof *m->base);
    return m;
}

/* FNV-1a over the bins, never 0 (0 marks an empty slot). */
static uint64_t bins_hash(const uint8_t *b, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h ? h : 1;
}

/* Contributions (points) and base of one binned lead: from the memo, or
 * computed by TreeSHAP and remembered. */
static void explain_one(struct vmodel *vm, const uint8_t *row, double *phi, double *base)
{
    size_t nf = vm->m.schema.nfeat;
    uint64_t h = bins_hash(row, nf);
    pthread_mutex_lock(&vm->memo_lock);
    if (!vm->memo)
        vm->memo = memo_new(nf);
    struct vmemo *m = vm->memo;
    size_t at = (size_t)(h & (m->slots - 1));
    if (m->hash[at] == h && memcmp(m->bins + at * nf, row, nf) == 0) {
        memcpy(phi, m->phi + at * nf, nf * sizeof *phi);
        *base = m->base[at];
        pthread_mutex_unlock(&vm->memo_lock);
        return;
    }
    pthread_mutex_unlock(&vm->memo_lock);
    double b;
    treeshap_rows(vm->ts, row, 1, 0, 1, NULL, 0, 1, phi, &b);
    for (size_t j = 0; j < nf; j++)
        phi[j] *= 100.0;
    *base = 100.0 * b;
    pthread_mutex_lock(&vm->memo_lock);
    m->hash[at] = h;
    memcpy(m->bins + at * nf, row, nf);
    memcpy(m->phi + at * nf, phi, nf * sizeof *phi);
    m->base[at] = *base;
    pthread_mutex_unlock(&vm->memo_lock);
}

/* Is s one of the model's missing-value tokens? */
static int is_missing(const struct vmodel *vm, const char *s, size_t len)
{
    value_trim(&s, &len);
    for (size_t i = 0; vm->missing[i]; i++)
        if (value_ieq(s, len, vm->missing[i]))
            return 1;
    return 0;
}

/* Feature index of a lead's key: exact, then any case; -1 when none. */
static long feature_of(const struct vmodel *vm, const char *key)
{
    uint32_t j = dict_find(&vm->feat_names, key, strlen(key));
    if (j != UINT32_MAX)
        return (long)j;
    for (size_t k = 0; k < vm->m.schema.nfeat; k++)
        if (strcasecmp(vm->m.schema.feat[k].name, key) == 0)
            return (long)k;
    return -1;
}

static int known_column(const struct vmodel *vm, const char *key)
{
    if (dict_find(&vm->train_cols, key, strlen(key)) != UINT32_MAX)
        return 1;
    for (uint32_t c = 0; c < vm->m.ntrain_columns; c++)
        if (strcasecmp(vm->m.train_columns[c], key) == 0)
            return 1;
    return 0;
}

/* One call's scratch, sized once for the model. */
struct scratch {
    size_t nf;
    const char **text; /* per feature: the lead's value as text, NULL: missing */
    uint8_t *how;      /* per feature: 0 read, 1 unseen category, 2 unreadable, 3 missing */
    char *num;         /* per feature: SCORE_NUM_MAX bytes for a number or boolean */
    uint8_t *row;      /* bins */
    double *phi;
};

static void warn(json_t *w, const char *fmt, const char *a)
{
    if (json_array_size(w) >= SCORE_WARNINGS_MAX)
        return;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a);
    json_t *s = json_string(msg);
    json_array_append_new(w, s ? s : json_string("a column name is not valid UTF-8"));
}

/* Read one lead object into x->text; unknown columns become warnings. */
static int read_lead(const struct vmodel *vm, const json_t *lead, size_t li, struct scratch *x,
                     json_t *warnings, struct ls_error *err)
{
    const char *key;
    const json_t *v;
    size_t nf = x->nf;
    for (size_t j = 0; j < nf; j++)
        x->text[j] = NULL;
    json_object_foreach((json_t *)lead, key, v)
    {
        long j = feature_of(vm, key);
        if (j < 0) {
            if (!known_column(vm, key))
                warn(warnings, "unknown column '%.120s': the model does not use it", key);
            continue;
        }
        const struct feature *ft = &vm->m.schema.feat[j];
        char *num = x->num + (size_t)j * SCORE_NUM_MAX;
        switch (json_typeof(v)) {
        case JSON_STRING:
            x->text[j] = json_string_value(v);
            break;
        case JSON_INTEGER:
            snprintf(num, SCORE_NUM_MAX, "%lld", (long long)json_integer_value(v));
            x->text[j] = num;
            break;
        case JSON_REAL:
            snprintf(num, SCORE_NUM_MAX, "%.17g", json_real_value(v));
            x->text[j] = num;
            break;
        case JSON_TRUE:
        case JSON_FALSE: {
            int t = json_is_true(v);
            const char *lab =
                ft->kind == FEAT_BOOLEAN ? (t ? ft->true_label : ft->false_label) : NULL;
            snprintf(num, SCORE_NUM_MAX, "%s", lab ? lab : t ? "true" : "false");
            x->text[j] = num;
            break;
        }
        case JSON_NULL:
            x->text[j] = NULL;
            break;
        default:
            return ls_error_set(err, LS_EINPUT,
                                "lead %zu: column '%.120s' holds an %s; give a string, a number, "
                                "true/false or null",
                                li + 1, key, json_is_object(v) ? "object" : "array");
        }
    }
    return LS_OK;
}

/* The lead's value of feature j as a reason shows it (explain_value's words). */
static void value_text(const struct scratch *x, size_t j, char *out, size_t cap)
{
    const char *t = x->text[j];
    char cell[EXPLAIN_VALUE_MAX + 1];
    if (x->how[j] == 3 || !t) {
        snprintf(out, cap, "missing");
        return;
    }
    size_t len = strlen(t);
    if (len > EXPLAIN_VALUE_MAX) { /* cut at a character boundary, marked */
        size_t cut = EXPLAIN_VALUE_MAX - 3;
        while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(cell, t, cut);
        memcpy(cell + cut, "...", 4);
    } else {
        memcpy(cell, t, len + 1);
    }
    if (x->how[j] == 1)
        snprintf(out, cap, "%s (new value)", cell);
    else if (x->how[j] == 2)
        snprintf(out, cap, "%s (new value, read as missing)", cell);
    else
        snprintf(out, cap, "%s", cell);
}

static json_t *reasons_side(const struct vmodel *vm, const struct scratch *x,
                            const struct explain_result *e, int sign)
{
    size_t feat[EXPLAIN_REASONS];
    size_t k = explain_top(e, 0, sign, feat, EXPLAIN_REASONS);
    json_t *a = json_array();
    for (size_t i = 0; i < k; i++) {
        size_t j = feat[i];
        double p = e->phi[j];
        char val[EXPLAIN_VALUE_MAX + 64], pts[32], text[512];
        value_text(x, j, val, sizeof val);
        if (p < 0)
            snprintf(pts, sizeof pts, "\u2212%.1f", -p);
        else
            snprintf(pts, sizeof pts, "+%.1f", p);
        snprintf(text, sizeof text, "%.120s = %s \u2192 %s pts", vm->m.schema.feat[j].name, val,
                 pts);
        json_t *o = json_object();
        json_object_set_new(o, "column", views__str(vm->m.schema.feat[j].name));
        json_object_set_new(o, "value", views__str(val));
        json_object_set_new(o, "points", json_real(p));
        json_object_set_new(o, "text", views__str(text));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *score_lead(struct vmodel *vm, struct scratch *x, json_t *warnings)
{
    const struct model *m = &vm->m;
    size_t nf = x->nf, absent = 0;
    for (size_t j = 0; j < nf; j++) {
        const char *t = x->text[j];
        size_t len = t ? strlen(t) : 0;
        int how = 0;
        if (!t || is_missing(vm, t, len)) {
            x->row[j] = BINS_MISSING;
            x->how[j] = 3;
            absent += !t;
            continue;
        }
        x->row[j] = bins_value(&m->schema, &vm->ix, j, t, len, 0, &how);
        /* an unseen category that takes the missing bin (an older model) reads as unreadable */
        x->how[j] = how == 1 && x->row[j] != BINS_UNSEEN ? 2 : (uint8_t)how;
    }
    if (absent == nf)
        warn(warnings, "%s", "the lead has none of the model's columns: every value is missing");
    double p = forest_predict_row(&m->forest, x->row, 1, 0);
    double score = 100.0 * calib_apply(&m->calib, p);
    enum tier t = score >= m->tier_high     ? TIER_HIGH
                  : score >= m->tier_medium ? TIER_MEDIUM
                                            : TIER_LOW;
    double base = 0, raw = 0;
    explain_one(vm, x->row, x->phi, &base);
    struct explain_result e = {
        .row0 = 0, .n = 1, .nfeat = nf, .phi = x->phi, .base = &base, .raw = &raw};
    json_t *o = json_object();
    json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "raw", json_real(100.0 * p));
    json_object_set_new(o, "tier", json_string(tier_name(t)));
    json_t *rs = json_object();
    json_object_set_new(rs, "for", reasons_side(vm, x, &e, 1));
    json_object_set_new(rs, "against", reasons_side(vm, x, &e, -1));
    json_object_set_new(o, "reasons", rs);
    json_object_set_new(o, "base", json_real(base));
    json_object_set_new(o, "warnings", warnings);
    return o;
}

int service_score(struct service *s, int64_t model_id, const json_t *leads, json_t **out,
                  struct ls_error *err)
{
    struct vmodel *vm = NULL;
    struct scratch x = {0};
    json_t *answers = NULL, *warnings = NULL;
    int rc = LS_OK;
    if (!json_is_array(leads) || json_array_size(leads) == 0)
        return ls_error_set(err, LS_EINPUT, "leads must be a non-empty array of objects");
    if (json_array_size(leads) > SERVICE_SCORE_MAX_LEADS)
        return ls_error_set(err, LS_EINPUT, "%zu leads: at most %d a call", json_array_size(leads),
                            SERVICE_SCORE_MAX_LEADS);
    for (size_t i = 0; i < json_array_size(leads); i++)
        if (!json_is_object(json_array_get(leads, i)))
            return ls_error_set(err, LS_EINPUT, "lead %zu is not an object {column: value}", i + 1);
    if ((rc = views__model_get(s, model_id, &vm, err)) != LS_OK)
        return rc;
    size_t nf = vm->m.schema.nfeat;
    x.nf = nf;
    x.text = xcalloc(nf ? nf : 1, sizeof *x.text);
    x.how = xmalloc(nf ? nf : 1);
    x.num = xmalloc((nf ? nf : 1) * SCORE_NUM_MAX);
    x.row = xmalloc(nf ? nf : 1);
    x.phi = xmalloc((nf ? nf : 1) * sizeof *x.phi);
    answers = json_array();
    for (size_t i = 0; i < json_array_size(leads); i++) {
        warnings = json_array();
        if ((rc = read_lead(vm, json_array_get(leads, i), i, &x, warnings, err)) != LS_OK)
            goto out;
        json_array_append_new(answers, score_lead(vm, &x, warnings));
        warnings = NULL; /* the answer owns it */
    }
    json_t *o = json_object();
    json_object_set_new(o, "model_id", json_integer((json_int_t)model_id));
    json_object_set_new(o, "leads", answers);
    answers = NULL;
    *out = o;
out:
    json_decref(warnings);
    json_decref(answers);
    free(x.text);
    free(x.how);
    free(x.num);
    free(x.row);
    free(x.phi);
    views__model_put(s, vm);
    return rc;
}
