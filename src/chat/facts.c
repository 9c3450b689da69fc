/*
 * facts.c — a scored run as the facts the chat answers from.
 *
 * Everything is computed here from the run itself (scores, tiers, the
 * outcome column, the binned rows, the explanations when there are any), so
 * the facts mean the same in the CLI and in the service: conversion rates
 * are over the leads whose outcome is known (a lead still open is neither a
 * success nor a failure), a tier's or a value's lead count is over every
 * lead. The run's answer (service) adds what the run alone does not keep —
 * its drift object when given — and the explanation summary gives the mean
 * contribution of a value when the run was not explained lead by lead.
 *
 * The object (version 1):
 *   target, positive, filename, id_column
 *   overview   {total, labelled, converted, conversion_rate,
 *               expected_conversions, mean_score, explained}
 *   quality    {source: "run" | "training", auc, rating, rows, positives,
 *               accuracy, precision_top10/20, recall_top10/20,
 *               lift_top_decile, brier, logloss, training_auc, ...}
 *   tiers      [{tier, leads, share, mean_score, min_score, max_score,
 *                labelled, converted, conversion_rate}] High first
 *   importance [{column, mean_abs_points}] largest first
 *   drift      {status, max_psi, rows, low_confidence}
 *   leakage    [{column, reason, level, auc}], or null when not known
 *   columns    [{name, kind, importance, importance_rank, drift {psi,
 *                status, unseen_share}, values [{value, leads, labelled,
 *                converted, conversion_rate, mean_points, lo/hi (bins),
 *                missing / other: true}], distinct_values, median_split
 *                (numeric: {threshold, above, at_or_below})}]
 *
 * Size is bounded whatever the file: a column lists at most FACTS_VALUES
 * values (the most frequent; the rest are summed into one "other values"
 * entry), numeric columns are cut into FACTS_BINS quantile bins, every text
 * is cut to FACTS_TEXT_MAX bytes, and when the whole would still pass
 * CHAT_FACTS_MAX (thousands of columns) the least important columns lose
 * their values first.
 */
#include "chat/chat_internal.h"

#include "app/report.h"
#include "app/run.h"
#include "core/mem.h"
#include "ml/bins.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FACTS_VALUES     40  /* values listed per column at most */
#define FACTS_BINS       5   /* quantile bins of a numeric column */
#define FACTS_TEXT_MAX   160 /* bytes of a name or value in the facts */
#define FACTS_LEAKY      64  /* leakage flags kept */
#define FACTS_VALUE_COST 170 /* bytes of one value as JSON, roughly: for the budget */

/* A JSON string of s cut to FACTS_TEXT_MAX bytes at a character boundary;
 * bytes that are not UTF-8 become '?', so every cell can be shown. */
static json_t *jtext(const char *s)
{
    char b[FACTS_TEXT_MAX + 8];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p && n + 4 < FACTS_TEXT_MAX) {
        size_t len = *p < 0x80         ? 1
                     : (*p >> 5) == 6  ? 2
                     : (*p >> 4) == 14 ? 3
                     : (*p >> 3) == 30 ? 4
                                       : 0;
        size_t k = 1;
        for (; len && k < len; k++)
            if ((p[k] & 0xC0) != 0x80)
                break;
        if (!len || k < len) {
            b[n++] = '?';
            p++;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f) { /* control characters read as a space */
            b[n++] = ' ';
            p++;
            continue;
        }
        memcpy(b + n, p, len);
        n += len;
        p += len;
    }
    b[n] = 0;
    json_t *j = json_stringn(b, n);
    return j ? j : json_string("?");
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jrate(uint64_t pos, uint64_t lab)
{
    return lab ? json_real((double)pos / (double)lab) : json_null();
}

const char *chat__quality_words(double auc);

const char *chat__quality_words(double auc)
{
    if (!isfinite(auc))
        return "unknown";
    if (auc >= 0.9)
        return "excellent";
    if (auc >= 0.8)
        return "good";
    if (auc >= 0.7)
        return "fair";
    if (auc >= 0.6)
        return "weak";
    return "poor";
}

/* One value's tallies. */
struct tally {
    uint64_t leads, labelled, converted, explained;
    double points;
    double lo, hi; /* numeric bins: the smallest and largest value seen */
    char label[FACTS_TEXT_MAX + 8];
    int missing;
};

static json_t *tally_json(const struct tally *t, int numeric, double summary_points)
{
    json_t *o = json_object();
    json_object_set_new(o, "value", jtext(t->label));
    json_object_set_new(o, "leads", json_integer((json_int_t)t->leads));
    json_object_set_new(o, "labelled", json_integer((json_int_t)t->labelled));
    json_object_set_new(o, "converted", json_integer((json_int_t)t->converted));
    json_object_set_new(o, "conversion_rate", jrate(t->converted, t->labelled));
    double mp = t->explained ? t->points / (double)t->explained : summary_points;
    json_object_set_new(o, "mean_points", jnum(mp));
    if (numeric && !t->missing) {
        json_object_set_new(o, "lo", jnum(t->lo));
        json_object_set_new(o, "hi", jnum(t->hi));
    }
    if (t->missing)
        json_object_set_new(o, "missing", json_true());
    return o;
}

static int cmp_tally_leads(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->leads != y->leads)
        return x->leads > y->leads ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The mean contribution the summary gives value label of column name. */
static double summary_points(const json_t *summary, const char *name, const char *label)
{
    json_t *arr = json_object_get(json_object_get(summary, "categories"), name), *e;
    size_t i;
    json_array_foreach(arr, i, e)
    {
        const char *v = json_string_value(json_object_get(e, "value"));
        if (v && strcmp(v, label) == 0) {
            json_t *p = json_object_get(e, "mean_points");
            return json_is_number(p) ? json_number_value(p) : NAN;
        }
    }
    return NAN;
}

/* The contribution of feature j to lead i, or NaN when it was not explained. */
static double lead_points(const struct run_result *res, size_t j, uint64_t i)
{
    const struct explain_result *e = &res->ex;
    if (!res->explained || !e->phi || i < e->row0 || i - e->row0 >= e->n)
        return NAN;
    return e->phi[(i - e->row0) * e->nfeat + j];
}

static void tally_add(struct tally *t, const struct run_result *res, size_t j, uint64_t i)
{
    const struct score_result *r = &res->score;
    t->leads++;
    if (r->label[i] >= 0) {
        t->labelled++;
        t->converted += r->label[i] == 1;
    }
    double p = lead_points(res, j, i);
    if (!isnan(p)) {
        t->explained++;
        t->points += p;
    }
}

/* A day number (since 1970) as a date. */
static void fmt_day(double d, char *out, size_t cap)
{
    time_t t = (time_t)(floor(d) * 86400.0);
    struct tm tm;
    if (!isfinite(d) || fabs(d) > 3e6 || !gmtime_r(&t, &tm)) {
        snprintf(out, cap, "%g", d);
        return;
    }
    strftime(out, cap, "%Y-%m-%d", &tm);
}

static void fmt_edge(const struct feature *ft, double v, char *out, size_t cap)
{
    if (ft->kind == FEAT_DATETIME)
        fmt_day(v, out, cap);
    else
        chat__fmt_num(v, out, cap);
}

/* The values of categorical (or boolean) feature j: each bin of the run. */
static json_t *category_values(const struct run_result *res, size_t j, const json_t *summary,
                               size_t cap, uint64_t *nvalues)
{
    const struct model *m = res->m;
    const struct score_result *r = &res->score;
    const struct feature *ft = &m->schema.feat[j];
    struct tally *t = xcalloc(BINS_MAX + 1, sizeof *t);
    for (uint64_t i = 0; i < r->n; i++)
        tally_add(&t[r->X[j * r->n + i]], res, j, i);
    size_t k = 0;
    for (unsigned b = 0; b <= BINS_MAX; b++) {
        if (!t[b].leads)
            continue;
        t[k] = t[b];
        bins_describe(ft, b, t[k].label, sizeof t[k].label);
        t[k].missing = b == BINS_MISSING;
        k++;
    }
    qsort(t, k, sizeof *t, cmp_tally_leads);
    *nvalues = k;
    json_t *a = json_array();
    struct tally rest = {0};
    size_t nrest = 0;
    for (size_t i = 0; i < k; i++) {
        if (i < cap) {
            double sp = summary_points(summary, ft->name, t[i].label);
            json_array_append_new(a, tally_json(&t[i], 0, sp));
            continue;
        }
        rest.leads += t[i].leads;
        rest.labelled += t[i].labelled;
        rest.converted += t[i].converted;
        rest.explained += t[i].explained;
        rest.points += t[i].points;
        nrest++;
    }
    if (nrest) {
        snprintf(rest.label, sizeof rest.label, "other values (%zu)", nrest);
        json_t *o = tally_json(&rest, 0, NAN);
        json_object_set_new(o, "other", json_true());
        json_array_append_new(a, o);
    }
    free(t);
    return a;
}

/* The values of numeric (or datetime) feature j: quantile bins of the
 * file's own values, then the missing ones. */
static json_t *split_json(double t, const struct tally *above, const struct tally *below)
{
    json_t *o = json_object();
    json_object_set_new(o, "threshold", json_real(t));
    const struct tally *side[2] = {above, below};
    const char *name[2] = {"above", "at_or_below"};
    for (int k = 0; k < 2; k++) {
        json_t *x = json_object();
        json_object_set_new(x, "leads", json_integer((json_int_t)side[k]->leads));
        json_object_set_new(x, "labelled", json_integer((json_int_t)side[k]->labelled));
        json_object_set_new(x, "converted", json_integer((json_int_t)side[k]->converted));
        json_object_set_new(x, "conversion_rate", jrate(side[k]->converted, side[k]->labelled));
        json_object_set_new(o, name[k], x);
    }
    return o;
}

/* *split: the leads above the median value and the others (the median of
 * the file's values: v[n / 2] of them sorted), NULL without values. */
static json_t *numeric_values(const struct run_result *res, size_t j, uint64_t *nvalues,
                              json_t **split)
{
    *split = NULL;
    const struct score_result *r = &res->score;
    const struct feature *ft = &res->m->schema.feat[j];
    json_t *a = json_array();
    long c = r->feat_col ? r->feat_col[j] : -1;
    const double *x = c >= 0 ? res->f->cols[c].num : NULL;
    *nvalues = 0;
    if (!x) /* absent from the file: every lead is missing */
        goto missing_only;
    double *v = xmalloc((r->n ? r->n : 1) * sizeof *v);
    uint64_t nv = 0;
    for (uint64_t i = 0; i < r->n; i++)
        if (isfinite(x[i]))
            v[nv++] = x[i];
    qsort(v, nv, sizeof *v, cmp_double);
    double median = nv ? v[nv / 2] : NAN;
    double cut[FACTS_BINS];
    size_t ncut = 0;
    for (size_t q = 1; q < FACTS_BINS && nv; q++) {
        double e = v[(uint64_t)((double)q * (double)nv / FACTS_BINS)];
        if (e >= v[nv - 1])
            break;
        if (!ncut || e > cut[ncut - 1])
            cut[ncut++] = e;
    }
    free(v);
    struct tally t[FACTS_BINS + 1], miss = {0}, above = {0}, below = {0};
    memset(t, 0, sizeof t);
    for (size_t b = 0; b <= ncut; b++)
        t[b].lo = INFINITY, t[b].hi = -INFINITY;
    for (uint64_t i = 0; i < r->n; i++) {
        if (!isfinite(x[i])) {
            tally_add(&miss, res, j, i);
            continue;
        }
        tally_add(x[i] > median ? &above : &below, res, j, i);
        size_t b = 0;
        while (b < ncut && x[i] > cut[b])
            b++;
        tally_add(&t[b], res, j, i);
        t[b].lo = x[i] < t[b].lo ? x[i] : t[b].lo;
        t[b].hi = x[i] > t[b].hi ? x[i] : t[b].hi;
    }
    for (size_t b = 0; b <= ncut; b++) {
        if (!t[b].leads)
            continue;
        char lo[64], hi[64];
        fmt_edge(ft, t[b].lo, lo, sizeof lo);
        fmt_edge(ft, t[b].hi, hi, sizeof hi);
        if (t[b].lo == t[b].hi)
            snprintf(t[b].label, sizeof t[b].label, "%s", lo);
        else
            snprintf(t[b].label, sizeof t[b].label, "%s to %s", lo, hi);
        json_array_append_new(a, tally_json(&t[b], 1, NAN));
        (*nvalues)++;
    }
    if (miss.leads) {
        snprintf(miss.label, sizeof miss.label, "missing");
        miss.missing = 1;
        json_array_append_new(a, tally_json(&miss, 1, NAN));
        (*nvalues)++;
    }
    if (nv)
        *split = split_json(median, &above, &below);
    return a;
missing_only:
    miss.label[0] = 0;
    for (uint64_t i = 0; i < r->n; i++)
        tally_add(&miss, res, j, i);
    if (miss.leads) {
        snprintf(miss.label, sizeof miss.label, "missing");
        miss.missing = 1;
        json_array_append_new(a, tally_json(&miss, 1, NAN));
        *nvalues = 1;
    }
    return a;
}

/* Global importance: the summary's, else the run's explained leads'. */
static json_t *importance_of(const struct run_result *res, const json_t *summary)
{
    json_t *imp = json_object_get(summary, "importance");
    json_t *a = json_array();
    if (json_is_array(imp) && json_array_size(imp)) {
        size_t i;
        json_t *e;
        json_array_foreach(imp, i, e)
        {
            const char *c = json_string_value(json_object_get(e, "column"));
            json_t *p = json_object_get(e, "mean_abs_points");
            if (!c || !json_is_number(p))
                continue;
            json_t *o = json_object();
            json_object_set_new(o, "column", jtext(c));
            json_object_set_new(o, "mean_abs_points", json_real(json_number_value(p)));
            json_array_append_new(a, o);
        }
        return a;
    }
    const struct explain_result *e = &res->ex;
    if (!res->explained || !e->n)
        return a;
    size_t nf = e->nfeat;
    double *s = xcalloc(nf ? nf : 1, sizeof *s);
    for (uint64_t i = 0; i < e->n; i++)
        for (size_t j = 0; j < nf; j++)
            s[j] += fabs(e->phi[i * nf + j]);
    uint8_t *done = xcalloc(nf ? nf : 1, 1);
    for (size_t k = 0; k < nf; k++) { /* selection: nf is small enough */
        size_t best = nf;
        for (size_t j = 0; j < nf; j++)
            if (!done[j] && (best == nf || s[j] > s[best]))
                best = j;
        done[best] = 1;
        json_t *o = json_object();
        json_object_set_new(o, "column", jtext(res->m->schema.feat[best].name));
        json_object_set_new(o, "mean_abs_points", json_real(s[best] / (double)e->n));
        json_array_append_new(a, o);
    }
    free(done);
    free(s);
    return a;
}

static json_t *quality_of(const struct run_result *res, const json_t *answer)
{
    const struct model *m = res->m;
    const struct score_result *r = &res->score;
    json_t *q = json_object();
    const struct metrics *mt = r->has_metrics ? &r->metrics : &m->oob;
    json_object_set_new(q, "source", json_string(r->has_metrics ? "run" : "training"));
    json_object_set_new(q, "auc", jnum(mt->auc));
    json_object_set_new(q, "rating", json_string(chat__quality_words(mt->auc)));
    json_object_set_new(q, "rows", json_integer((json_int_t)mt->n));
    json_object_set_new(q, "positives", json_integer((json_int_t)mt->npos));
    json_object_set_new(q, "brier", jnum(mt->brier));
    json_object_set_new(q, "logloss", jnum(mt->logloss));
    json_object_set_new(q, "base_rate", jnum(mt->base_rate));
    json_object_set_new(q, "precision_top10", jnum(mt->precision_top10));
    json_object_set_new(q, "recall_top10", jnum(mt->recall_top10));
    json_object_set_new(q, "precision_top20", jnum(mt->precision_top20));
    json_object_set_new(q, "recall_top20", jnum(mt->recall_top20));
    json_object_set_new(q, "lift_top_decile", jnum(mt->lift[0]));
    /* accuracy with the score read as a probability: converted when >= 50 */
    uint64_t lab = 0, right = 0;
    for (uint64_t i = 0; i < r->n; i++)
        if (r->label[i] >= 0) {
            lab++;
            right += (r->score[i] >= 50) == (r->label[i] == 1);
        }
    json_object_set_new(q, "accuracy", lab ? json_real((double)right / (double)lab) : json_null());
    json_object_set_new(q, "accuracy_leads", json_integer((json_int_t)lab));
    json_object_set_new(q, "training_auc", jnum(m->oob.auc));
    json_object_set_new(q, "training_rows", json_integer((json_int_t)m->oob.n));
    json_object_set_new(q, "out_of_bag_leads", json_integer((json_int_t)r->oob_rows));
    (void)answer;
    return q;
}

static json_t *tiers_of(const struct run_result *res)
{
    const struct score_result *r = &res->score;
    json_t *a = json_array();
    for (int t = TIER_HIGH; t >= TIER_LOW; t--) {
        uint64_t n = 0, lab = 0, pos = 0;
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        for (uint64_t i = 0; i < r->n; i++) {
            if (r->tier[i] != t)
                continue;
            n++;
            sum += r->score[i];
            lo = r->score[i] < lo ? r->score[i] : lo;
            hi = r->score[i] > hi ? r->score[i] : hi;
            if (r->label[i] >= 0) {
                lab++;
                pos += r->label[i] == 1;
            }
        }
        json_t *o = json_object();
        json_object_set_new(o, "tier", json_string(tier_name((enum tier)t)));
        json_object_set_new(o, "leads", json_integer((json_int_t)n));
        json_object_set_new(o, "share", r->n ? json_real((double)n / (double)r->n) : json_null());
        json_object_set_new(o, "mean_score", n ? json_real(sum / (double)n) : json_null());
        json_object_set_new(o, "min_score", n ? json_real(lo) : json_null());
        json_object_set_new(o, "max_score", n ? json_real(hi) : json_null());
        json_object_set_new(o, "labelled", json_integer((json_int_t)lab));
        json_object_set_new(o, "converted", json_integer((json_int_t)pos));
        json_object_set_new(o, "conversion_rate", jrate(pos, lab));
        json_array_append_new(a, o);
    }
    return a;
}

/* The drift object: the run answer's, else computed; kept small (columns
 * not ok are named in the columns' own entries). */
static json_t *drift_of(const struct run_result *res, const json_t *answer, json_t **cols_out)
{
    json_t *d = json_object_get(answer, "drift");
    json_t *own = NULL;
    if (!json_is_object(d))
        d = own = report_drift(res->m, &res->score);
    json_t *o = json_object();
    json_t *st = json_object_get(d, "status");
    json_object_set_new(o, "status",
                        json_is_string(st) ? jtext(json_string_value(st)) : json_string("unknown"));
    json_t *mp = json_object_get(d, "max_psi");
    json_object_set_new(o, "max_psi",
                        json_is_number(mp) ? json_real(json_number_value(mp)) : json_null());
    json_t *rows = json_object_get(d, "rows");
    json_object_set_new(o, "rows", json_is_integer(rows) ? json_incref(rows) : json_null());
    json_object_set_new(o, "low_confidence",
                        json_boolean(json_is_true(json_object_get(d, "low_confidence"))));
    *cols_out = json_incref(json_object_get(d, "columns"));
    json_decref(own);
    return o;
}

static json_t *leakage_of(const json_t *excluded)
{
    json_t *a = json_array(), *e;
    size_t i;
    json_array_foreach(excluded, i, e)
    {
        if (json_array_size(a) >= FACTS_LEAKY)
            break;
        const char *c = json_string_value(json_object_get(e, "column"));
        if (!c)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "column", jtext(c));
        const char *reason = json_string_value(json_object_get(e, "reason"));
        json_object_set_new(o, "reason", reason ? jtext(reason) : json_null());
        const char *level = json_string_value(json_object_get(e, "level"));
        json_object_set_new(o, "level", level ? jtext(level) : json_null());
        json_t *auc = json_object_get(e, "auc");
        json_object_set_new(o, "auc",
                            json_is_number(auc) ? json_real(json_number_value(auc)) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* A column that may give up its values when the facts are too large. */
struct shed {
    size_t j, bytes;
    double imp;
};

static int cmp_shed(const void *a, const void *b)
{
    const struct shed *x = a, *y = b;
    if (x->imp != y->imp)
        return x->imp < y->imp ? -1 : 1;
    return (x->j < y->j) - (x->j > y->j); /* later columns first */
}

static size_t json_size(const json_t *j)
{
    return json_dumpb(j, NULL, 0, JSON_COMPACT);
}

json_t *chat_facts_build(const struct chat_run_input *in)
{
    const struct run_result *res = in->res;
    const struct model *m = in->m ? in->m : res->m;
    const struct score_result *r = &res->score;
    json_t *f = json_object();
    json_object_set_new(f, "version", json_integer(1));
    json_object_set_new(f, "filename", in->filename ? jtext(in->filename) : json_null());
    json_object_set_new(f, "target", jtext(m->target));
    json_object_set_new(f, "positive", jtext(m->positive));
    json_object_set_new(f, "id_column",
                        r->id_col >= 0 && res->f ? jtext(res->f->cols[r->id_col].name)
                                                 : json_null());

    uint64_t lab = 0, pos = 0;
    double expected = 0, ssum = 0;
    for (uint64_t i = 0; i < r->n; i++) {
        if (r->label[i] >= 0) {
            lab++;
            pos += r->label[i] == 1;
        }
        expected += r->score[i] / 100.0;
        ssum += r->score[i];
    }
    json_t *ov = json_object();
    json_object_set_new(ov, "total", json_integer((json_int_t)r->n));
    json_object_set_new(ov, "labelled", json_integer((json_int_t)lab));
    json_object_set_new(ov, "converted", json_integer((json_int_t)pos));
    json_object_set_new(ov, "conversion_rate", jrate(pos, lab));
    json_object_set_new(ov, "expected_conversions", json_real(expected));
    json_object_set_new(ov, "mean_score", r->n ? json_real(ssum / (double)r->n) : json_null());
    json_object_set_new(ov, "explained", json_boolean(res->explained));
    json_object_set_new(f, "overview", ov);
    json_object_set_new(f, "quality", quality_of(res, in->answer));
    json_object_set_new(f, "tiers", tiers_of(res));

    json_t *imp = importance_of(res, in->summary);
    json_object_set_new(f, "importance", imp);
    json_t *dcols = NULL;
    json_object_set_new(f, "drift", drift_of(res, in->answer, &dcols));
    /* null: not known (the CLI's model file does not keep the scan) */
    json_object_set_new(f, "leakage", in->excluded ? leakage_of(in->excluded) : json_null());

    /* values per column within the budget: what is left after the fixed
     * parts, shared by the columns */
    size_t nf = m->schema.nfeat;
    size_t fixed = json_size(f) + nf * 400;
    size_t room = CHAT_FACTS_MAX > fixed ? CHAT_FACTS_MAX - fixed : 0;
    size_t cap = nf ? room / (nf * FACTS_VALUE_COST) : FACTS_VALUES;
    if (cap > FACTS_VALUES)
        cap = FACTS_VALUES;
    if (cap < 1)
        cap = 1;

    json_t *cols = json_array();
    for (size_t j = 0; j < nf; j++) {
        const struct feature *ft = &m->schema.feat[j];
        json_t *c = json_object();
        json_object_set_new(c, "name", jtext(ft->name));
        json_object_set_new(c, "kind", json_string(feat_kind_name(ft->kind)));
        double ia = NAN;
        size_t rank = 0, k;
        json_t *e, *shown = jtext(ft->name); /* names in the facts are cut as shown */
        json_array_foreach(imp, k, e)
        {
            if (strcmp(json_string_value(json_object_get(e, "column")), json_string_value(shown)) ==
                0) {
                ia = json_number_value(json_object_get(e, "mean_abs_points"));
                rank = k + 1;
                break;
            }
        }
        json_decref(shown);
        json_object_set_new(c, "importance", jnum(ia));
        json_object_set_new(c, "importance_rank",
                            rank ? json_integer((json_int_t)rank) : json_null());
        json_t *dc = json_object_get(dcols, ft->name);
        json_t *d = json_object();
        json_t *psi = json_object_get(dc, "psi"), *st = json_object_get(dc, "status"),
               *us = json_object_get(dc, "unseen_share");
        json_object_set_new(d, "psi",
                            json_is_number(psi) ? json_real(json_number_value(psi)) : json_null());
        json_object_set_new(d, "status",
                            json_is_string(st) ? jtext(json_string_value(st)) : json_null());
        json_object_set_new(d, "unseen_share",
                            json_is_number(us) ? json_real(json_number_value(us)) : json_null());
        json_object_set_new(c, "drift", d);
        uint64_t nv = 0;
        json_t *split = NULL;
        json_t *vals = ft->kind == FEAT_CATEGORICAL || ft->kind == FEAT_BOOLEAN
                           ? category_values(res, j, in->summary, cap, &nv)
                           : numeric_values(res, j, &nv, &split);
        json_object_set_new(c, "values", vals);
        if (split && ft->kind == FEAT_NUMERIC)
            json_object_set_new(c, "median_split", split);
        else
            json_decref(split);
        json_object_set_new(c, "distinct_values", json_integer((json_int_t)nv));
        json_array_append_new(cols, c);
    }
    json_decref(dcols);
    json_object_set_new(f, "columns", cols);

    /* still too large (long values on thousands of columns): the least
     * important columns give up their values, then the last columns their
     * entries; sizes are measured once and subtracted, not re-measured per
     * column */
    size_t total = json_size(f);
    size_t n = json_array_size(cols);
    if (total > CHAT_FACTS_MAX && n) {
        struct shed *sh = xmalloc(n * sizeof *sh);
        for (size_t j = 0; j < n; j++) {
            json_t *c = json_array_get(cols, j);
            double v = json_number_value(json_object_get(c, "importance"));
            sh[j] = (struct shed){j, json_size(json_object_get(c, "values")), isnan(v) ? -1 : v};
        }
        qsort(sh, n, sizeof *sh, cmp_shed); /* least important first */
        for (size_t k = 0; k < n && total > CHAT_FACTS_MAX; k++) {
            json_object_set_new(json_array_get(cols, sh[k].j), "values", json_array());
            total -= sh[k].bytes > 2 ? sh[k].bytes - 2 : 0;
        }
        free(sh);
        while ((total = json_size(f)) > CHAT_FACTS_MAX && json_array_size(cols)) {
            size_t drop = json_array_size(cols) / 8 + 1; /* a share at a time */
            while (drop-- && json_array_size(cols))
                json_array_remove(cols, json_array_size(cols) - 1);
        }
    }
    return f;
}
