/*
 * service_views_score.c — real-time scoring for a CRM webhook (POST
 * /api/score): a few leads as JSON objects, scored and explained on the
 * caller's thread against a model that stays loaded.
 *
 * Besides the explanation the path costs microseconds a lead: nothing is
 * read from disk or the store once the model is cached (views__model_get),
 * a lead's columns are matched to the model's features through a hash of
 * their names built once per model, its values are binned with the
 * model's own rules (as ls_model_score_lead reads a lead: the training
 * file's missing tokens, bins_value), and one call's scratch serves all its
 * leads.
 *
 * The explanation is exact TreeSHAP — the same values as a run's — on the
 * TreeSHAP tables cached with the model. It is the expensive part: the
 * kernel walks every node of every tree for a group of eight leads at once
 * (ml/treeshap.c), so a call's new leads are explained together in one
 * treeshap_rows call (a lone lead costs what eight do). Measured on the
 * Leads.csv model (100 trees, 86,562 nodes, 2 shared cores; printed by
 * `test_service_views --leads`): a new lead alone 7.4-9.4 ms of CPU, new
 * leads 1,000 a call 0.5-0.6 ms each, a lead the memo knows 17 us (the
 * JSON included). Since a lead's score and contributions depend on
 * nothing but its binned values (a real-time lead is scored by every
 * tree), both are memoised per model by those bins: a lead that bins like
 * one seen before — the same lead sent again, or another with the same
 * value in every bin — costs a hash and a copy, and the answer is
 * bit-identical to computing it. The memo is a 4-way set-associative
 * table (VIEWS_MEMO slots, fewer for very wide models; a direct-mapped one
 * of 4,096 slots lost a fifth of 1,000 leads to collisions), the least
 * recently used slot of a set replaced, under the model's memo lock.
 */
#include "app/service_views.h"

#include "core/mem.h"
#include "data/value.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCORE_WARNINGS_MAX 16          /* warnings per lead */
#define MEMO_WAYS          4           /* slots a lead may take in the memo */
#define SCORE_MEMO_BYTES   (16u << 20) /* a model's memo at most */
#define SCORE_NUM_MAX      40          /* bytes of a number written as text */
#define SCORE_CELLS_MAX    2000000u    /* leads x model features of one call */

struct vmemo {
    size_t nf, slots; /* slots: a power of two, MEMO_WAYS a set */
    uint64_t clock;   /* use stamps */
    uint64_t *used;   /* per slot: when last used */
    uint64_t *hash;   /* per slot; 0: empty */
    uint8_t *bins;    /* slots x nf */
    double *phi;      /* slots x nf, points */
    double *base;     /* per slot, points */
    double *raw;      /* per slot: the forest's probability */
};

void views__memo_free(struct vmemo *m)
{
    if (!m)
        return;
    free(m->hash);
    free(m->used);
    free(m->bins);
    free(m->phi);
    free(m->base);
    free(m->raw);
    free(m);
}

static struct vmemo *memo_new(size_t nf)
{
    struct vmemo *m = xcalloc(1, sizeof *m);
    size_t per = nf * (1 + sizeof(double)) + 4 * sizeof(double), slots = VIEWS_MEMO;
    while (slots > 4 * MEMO_WAYS && slots * per > SCORE_MEMO_BYTES)
        slots /= 2;
    m->nf = nf;
    m->slots = slots;
    m->hash = xcalloc(slots, sizeof *m->hash);
    m->used = xcalloc(slots, sizeof *m->used);
    m->bins = xmalloc(slots * (nf ? nf : 1));
    m->phi = xmalloc(slots * (nf ? nf : 1) * sizeof *m->phi);
    m->base = xmalloc(slots * sizeof *m->base);
    m->raw = xmalloc(slots * sizeof *m->raw);
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

/* A lead's probability, contributions (points) and base from the memo: 1
 * when it was there. */
static int memo_get(struct vmodel *vm, const uint8_t *row, uint64_t h, double *raw, double *phi,
                    double *base)
{
    size_t nf = vm->m.schema.nfeat;
    int hit = 0;
    pthread_mutex_lock(&vm->memo_lock);
    if (!vm->memo)
        vm->memo = memo_new(nf);
    struct vmemo *m = vm->memo;
    size_t set = (size_t)(h & (m->slots / MEMO_WAYS - 1)) * MEMO_WAYS;
    for (size_t at = set; at < set + MEMO_WAYS; at++)
        if (m->hash[at] == h && memcmp(m->bins + at * nf, row, nf) == 0) {
            memcpy(phi, m->phi + at * nf, nf * sizeof *phi);
            *base = m->base[at];
            *raw = m->raw[at];
            m->used[at] = ++m->clock;
            hit = 1;
            break;
        }
    pthread_mutex_unlock(&vm->memo_lock);
    return hit;
}

static void memo_put(struct vmodel *vm, const uint8_t *row, uint64_t h, double raw,
                     const double *phi, double base)
{
    size_t nf = vm->m.schema.nfeat;
    pthread_mutex_lock(&vm->memo_lock);
    struct vmemo *m = vm->memo;
    size_t set = (size_t)(h & (m->slots / MEMO_WAYS - 1)) * MEMO_WAYS, at = set;
    for (size_t k = set + 1; k < set + MEMO_WAYS; k++) /* an empty slot, or the oldest */
        if (m->used[k] < m->used[at])
            at = k;
    m->used[at] = ++m->clock;
    m->hash[at] = h;
    memcpy(m->bins + at * nf, row, nf);
    memcpy(m->phi + at * nf, phi, nf * sizeof *phi);
    m->base[at] = base;
    m->raw[at] = raw;
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

/* One call's scratch: its leads' values, bins and answers. */
struct batch {
    size_t nf, n;
    const json_t **val; /* n x nf: the lead's JSON value of feature j, NULL when absent */
    uint8_t *how;       /* n x nf: 0 read, 1 unseen category, 2 unreadable, 3 missing */
    uint8_t *X;         /* n x nf bins, one lead's together */
    double *raw, *base; /* per lead */
    double *phi;        /* n x nf, points */
    uint64_t *hash;
    uint8_t *hit;
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

/* A value as the text a file would hold (numbers as written by %lld / %.17g,
 * booleans as the training file wrote them); NULL for null or absent. */
static const char *as_text(const struct feature *ft, const json_t *v, char *buf, size_t cap)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, cap, "%.17g", json_real_value(v));
        return buf;
    case JSON_TRUE:
    case JSON_FALSE: {
        int t = json_is_true(v);
        const char *lab = ft->kind == FEAT_BOOLEAN ? (t ? ft->true_label : ft->false_label) : NULL;
        snprintf(buf, cap, "%s", lab ? lab : t ? "true" : "false");
        return buf;
    }
    default:
        return NULL;
    }
}

/* Match lead li's columns to the model's features (unknown ones warn). */
static int read_lead(const struct vmodel *vm, const json_t *lead, size_t li, struct batch *b,
                     json_t *warnings, struct ls_error *err)
{
    const char *key;
    json_t *v;
    const json_t **val = b->val + li * b->nf;
    for (size_t j = 0; j < b->nf; j++)
        val[j] = NULL;
    json_object_foreach((json_t *)lead, key, v)
    {
        if (json_is_object(v) || json_is_array(v))
            return ls_error_set(err, LS_EINPUT,
                                "lead %zu: column '%.120s' holds an %s; give a string, a number, "
                                "true/false or null",
                                li + 1, key, json_is_object(v) ? "object" : "array");
        long j = feature_of(vm, key);
        if (j >= 0)
            val[j] = v;
        else if (!known_column(vm, key))
            warn(warnings, "unknown column '%.120s': the model does not use it", key);
    }
    return LS_OK;
}

/* Lead li's bins. */
static void bin_lead(struct vmodel *vm, struct batch *b, size_t li, json_t *warnings)
{
    const struct model *m = &vm->m;
    size_t nf = b->nf, absent = 0;
    uint8_t *row = b->X + li * nf, *how = b->how + li * nf;
    for (size_t j = 0; j < nf; j++) {
        char buf[SCORE_NUM_MAX];
        const json_t *v = b->val[li * nf + j];
        const char *t = as_text(&m->schema.feat[j], v, buf, sizeof buf);
        size_t len = t ? strlen(t) : 0;
        absent += !v;
        if (!t || is_missing(vm, t, len)) {
            row[j] = BINS_MISSING;
            how[j] = 3;
            continue;
        }
        int h = 0;
        row[j] = bins_value(&m->schema, &vm->ix, j, t, len, 0, &h);
        /* an unseen category that takes the missing bin (an older model) reads as unreadable */
        how[j] = h == 1 && row[j] != BINS_UNSEEN ? 2 : (uint8_t)h;
        if (how[j] == 2) /* text in a numeric column: say so, it is scored as missing */
            warn(warnings, "'%.120s' could not be read as its kind: scored as missing",
                 m->schema.feat[j].name);
        else if (how[j] == 1)
            warn(warnings, "'%.120s' has a value the model never saw: it counts for nothing",
                 m->schema.feat[j].name);
    }
    if (absent == nf)
        warn(warnings, "%s", "the lead has none of the model's columns: every value is missing");
}

/* Lead li's value of feature j as a reason shows it (explain_value's words). */
static void value_text(const struct vmodel *vm, const struct batch *b, size_t li, size_t j,
                       char *out, size_t cap)
{
    char buf[SCORE_NUM_MAX], cell[EXPLAIN_VALUE_MAX + 1];
    const char *t = as_text(&vm->m.schema.feat[j], b->val[li * b->nf + j], buf, sizeof buf);
    uint8_t how = b->how[li * b->nf + j];
    if (how == 3 || !t) {
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
    if (how == 1)
        snprintf(out, cap, "%s (new value)", cell);
    else if (how == 2)
        snprintf(out, cap, "%s (new value, read as missing)", cell);
    else
        snprintf(out, cap, "%s", cell);
}

static json_t *reasons_side(const struct vmodel *vm, const struct batch *b, size_t li, int sign)
{
    size_t nf = b->nf;
    struct explain_result e = {.row0 = 0, .n = 1, .nfeat = nf, .phi = b->phi + li * nf};
    size_t feat[EXPLAIN_REASONS];
    size_t k = explain_top(&e, 0, sign, feat, EXPLAIN_REASONS);
    json_t *a = json_array();
    for (size_t i = 0; i < k; i++) {
        size_t j = feat[i];
        double p = e.phi[j];
        char val[EXPLAIN_VALUE_MAX + 64], pts[32], text[512];
        value_text(vm, b, li, j, val, sizeof val);
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

/* Score and explain the leads the memo did not have, all in one TreeSHAP call. */
static void compute_misses(struct vmodel *vm, struct batch *b)
{
    size_t nf = b->nf, k = 0;
    for (size_t i = 0; i < b->n; i++)
        k += !b->hit[i];
    if (k == 0)
        return;
    size_t *at = xmalloc(k * sizeof *at);
    uint8_t *Xg = xmalloc(k * (nf ? nf : 1));
    double *phi = xmalloc(k * (nf ? nf : 1) * sizeof *phi), *base = xmalloc(k * sizeof *base);
    for (size_t i = 0, g = 0; i < b->n; i++)
        if (!b->hit[i]) {
            at[g] = i;
            for (size_t j = 0; j < nf; j++) /* feature-major, as treeshap_rows reads */
                Xg[j * k + g] = b->X[i * nf + j];
            g++;
        }
    treeshap_rows(views__ts(vm), Xg, k, 0, k, NULL, 0, 1, phi, base);
    for (size_t g = 0; g < k; g++) {
        size_t i = at[g];
        double *p = b->phi + i * nf;
        for (size_t j = 0; j < nf; j++)
            p[j] = 100.0 * phi[g * nf + j];
        b->base[i] = 100.0 * base[g];
        b->raw[i] = forest_predict_row(&vm->m.forest, b->X + i * nf, 1, 0);
        memo_put(vm, b->X + i * nf, b->hash[i], b->raw[i], p, b->base[i]);
    }
    free(at);
    free(Xg);
    free(phi);
    free(base);
}

static json_t *answer(const struct vmodel *vm, const struct batch *b, size_t i, json_t *warnings)
{
    const struct model *m = &vm->m;
    double score = 100.0 * calib_apply(&m->calib, b->raw[i]);
    enum tier t = score >= m->tier_high     ? TIER_HIGH
                  : score >= m->tier_medium ? TIER_MEDIUM
                                            : TIER_LOW;
    json_t *o = json_object();
    json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "raw", json_real(100.0 * b->raw[i]));
    json_object_set_new(o, "tier", json_string(tier_name(t)));
    json_t *rs = json_object();
    json_object_set_new(rs, "for", reasons_side(vm, b, i, 1));
    json_object_set_new(rs, "against", reasons_side(vm, b, i, -1));
    json_object_set_new(o, "reasons", rs);
    json_object_set_new(o, "base", json_real(b->base[i]));
    json_object_set_new(o, "warnings", warnings);
    return o;
}

int service_score(struct service *s, int64_t model_id, const json_t *leads, json_t **out,
                  struct ls_error *err)
{
    struct vmodel *vm = NULL;
    struct batch b = {0};
    json_t **warnings = NULL, *answers = NULL;
    size_t n = json_array_size(leads);
    int rc = LS_OK;
    if (!json_is_array(leads) || n == 0)
        return ls_error_set(err, LS_EINPUT, "leads must be a non-empty array of objects");
    if (n > SERVICE_SCORE_MAX_LEADS)
        return ls_error_set(err, LS_EINPUT, "%zu leads: at most %d a call", n,
                            SERVICE_SCORE_MAX_LEADS);
    for (size_t i = 0; i < n; i++)
        if (!json_is_object(json_array_get(leads, i)))
            return ls_error_set(err, LS_EINPUT, "lead %zu is not an object {column: value}", i + 1);
    if ((rc = views__model_get(s, model_id, &vm, err)) != LS_OK)
        return rc;
    size_t nf = vm->m.schema.nfeat, cells = n * (nf ? nf : 1);
    if (cells > SCORE_CELLS_MAX) {
        rc = ls_error_set(err, LS_ELIMIT,
                          "%zu leads of a %zu-column model: at most %u values a call; send fewer "
                          "leads at a time",
                          n, nf, (unsigned)SCORE_CELLS_MAX);
        goto out;
    }
    b.nf = nf;
    b.n = n;
    b.val = xmalloc(cells * sizeof *b.val);
    b.how = xmalloc(cells);
    b.X = xmalloc(cells);
    b.phi = xmalloc(cells * sizeof *b.phi);
    b.raw = xmalloc(n * sizeof *b.raw);
    b.base = xmalloc(n * sizeof *b.base);
    b.hash = xmalloc(n * sizeof *b.hash);
    b.hit = xmalloc(n);
    warnings = xcalloc(n, sizeof *warnings);
    for (size_t i = 0; i < n; i++) {
        warnings[i] = json_array();
        if ((rc = read_lead(vm, json_array_get(leads, i), i, &b, warnings[i], err)) != LS_OK)
            goto out;
        bin_lead(vm, &b, i, warnings[i]);
        b.hash[i] = bins_hash(b.X + i * nf, nf);
        b.hit[i] =
            (uint8_t)memo_get(vm, b.X + i * nf, b.hash[i], &b.raw[i], b.phi + i * nf, &b.base[i]);
    }
    compute_misses(vm, &b);
    answers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(answers, answer(vm, &b, i, warnings[i]));
        warnings[i] = NULL; /* the answer owns it */
    }
    json_t *o = json_object();
    json_object_set_new(o, "model_id", json_integer((json_int_t)model_id));
    json_object_set_new(o, "leads", answers);
    *out = o;
out:
    for (size_t i = 0; warnings && i < n; i++)
        json_decref(warnings[i]);
    free(warnings);
    free(b.val);
    free(b.how);
    free(b.X);
    free(b.phi);
    free(b.raw);
    free(b.base);
    free(b.hash);
    free(b.hit);
    views__model_put(s, vm);
    return rc;
}
