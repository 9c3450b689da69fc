/*
 * report.c — JSON views of training and scoring (see report.h).
 */
#include "app/report.h"

#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *report_metrics(const struct metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "rows", json_integer((json_int_t)m->n));
    json_object_set_new(o, "positives", json_integer((json_int_t)m->npos));
    json_object_set_new(o, "auc", num(m->auc));
    json_object_set_new(o, "logloss", num(m->logloss));
    json_object_set_new(o, "brier", num(m->brier));
    json_object_set_new(o, "base_rate", num(m->base_rate));
    json_object_set_new(o, "precision_top10", num(m->precision_top10));
    json_object_set_new(o, "recall_top10", num(m->recall_top10));
    json_object_set_new(o, "precision_top20", num(m->precision_top20));
    json_object_set_new(o, "recall_top20", num(m->recall_top20));
    json_t *lift = json_array(), *cal = json_array();
    for (int k = 0; k < METRICS_DECILES; k++) {
        json_array_append_new(lift, num(m->lift[k]));
        json_t *c = json_object();
        json_object_set_new(c, "decile", json_integer(k + 1));
        json_object_set_new(c, "rows", json_integer((json_int_t)m->cal_n[k]));
        json_object_set_new(c, "predicted", num(m->cal_pred[k]));
        json_object_set_new(c, "observed", num(m->cal_obs[k]));
        json_array_append_new(cal, c);
    }
    json_object_set_new(o, "lift_by_decile", lift);
    json_object_set_new(o, "calibration", cal);
    return o;
}

json_t *report_train(const struct model *m, const struct train_summary *s, const char *path)
{
    json_t *o = json_object();
    if (path)
        json_object_set_new(o, "model", json_string(path));
    json_object_set_new(o, "target", json_string(m->target));
    json_object_set_new(o, "positive", json_string(m->positive));
    json_object_set_new(o, "rows", json_integer((json_int_t)s->rows));
    json_object_set_new(o, "labelled_rows", json_integer((json_int_t)s->labelled));
    json_object_set_new(o, "train_rows", json_integer((json_int_t)s->train_rows));
    json_object_set_new(o, "holdout_rows", json_integer((json_int_t)s->holdout_rows));
    json_object_set_new(o, "features", json_integer((json_int_t)s->features));
    json_t *fl = json_array();
    for (size_t j = 0; j < m->schema.nfeat; j++)
        json_array_append_new(fl, json_string(m->schema.feat[j].name));
    json_object_set_new(o, "feature_names", fl);
    json_object_set_new(o, "trees", json_integer(m->trees));
    json_object_set_new(o, "mtry", json_integer(m->mtry));
    json_object_set_new(o, "min_leaf", json_integer(m->min_leaf));
    json_object_set_new(o, "seed", json_integer((json_int_t)m->seed));
    json_object_set_new(o, "oob_auc", num(m->oob.auc));
    json_object_set_new(o, "oob_logloss", num(m->oob.logloss));
    json_object_set_new(o, "oob_brier", num(m->oob.brier));
    json_object_set_new(o, "oob", report_metrics(&m->oob));
    if (m->has_holdout) {
        json_object_set_new(o, "holdout_auc", num(m->holdout.auc));
        json_object_set_new(o, "holdout", report_metrics(&m->holdout));
    }
    json_object_set_new(o, "took_ms", json_real(s->took_ms));
    return o;
}

/* A column of the drift line: worst status first, then the larger PSI. */
struct drift_item {
    size_t j;
    int sev;
    double psi;
};

static int cmp_drift_item(const void *a, const void *b)
{
    const struct drift_item *x = a, *y = b;
    if (x->sev != y->sev)
        return y->sev - x->sev;
    double px = isnan(x->psi) ? -1 : x->psi, py = isnan(y->psi) ? -1 : y->psi;
    if (px != py)
        return px > py ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

void report_drift_line(const struct model *m, const struct score_result *r, char *out, size_t cap)
{
    const struct drift_report *d = &r->drift;
    char conf[64] = "";
    if (d->low_confidence)
        snprintf(conf, sizeof conf, "; low confidence: only %llu rows",
                 (unsigned long long)d->rows);
    if (d->status == DRIFT_OK) {
        snprintf(out, cap, "drift: ok (%zu columns, max PSI %.2f%s)", d->nfeat, d->max_psi, conf);
        return;
    }
    struct drift_item *it = xmalloc((d->nfeat ? d->nfeat : 1) * sizeof *it);
    size_t k = 0;
    for (size_t j = 0; j < d->nfeat; j++)
        if (d->col[j].status != DRIFT_OK)
            it[k++] = (struct drift_item){j,
                                          (int)d->col[j].status == DRIFT_MISSING
                                              ? 0 /* after watch: named last */
                                              : (int)d->col[j].status + 1,
                                          d->col[j].psi};
    qsort(it, k, sizeof *it, cmp_drift_item);
    /* keep room for the tail: "; and N more" and the confidence note */
    size_t room = cap > 96 ? cap - 96 : cap;
    int o = snprintf(out, cap, "drift: status %s —", drift_status_name(d->status));
    size_t i = 0;
    for (; i < k && o > 0 && (size_t)o < room; i++) {
        const struct drift_column *c = &d->col[it[i].j];
        char item[512];
        const char *name = m->schema.feat[it[i].j].name;
        if (c->status == DRIFT_MISSING)
            snprintf(item, sizeof item, "%s absent from the file (missing)", name);
        else if (c->unseen_share >= DRIFT_UNSEEN_WATCH)
            snprintf(item, sizeof item, "%s PSI %.2f, %.1f %% unseen (%s)", name, c->psi,
                     100 * c->unseen_share, drift_status_name(c->status));
        else
            snprintf(item, sizeof item, "%s PSI %.2f (%s)", name, c->psi,
                     drift_status_name(c->status));
        if ((size_t)o + strlen(item) + 2 >= room && i > 0)
            break;
        o += snprintf(out + o, cap - (size_t)o, "%s %s", i ? "," : "", item);
    }
    if (i < k && o > 0 && (size_t)o < cap)
        o += snprintf(out + o, cap - (size_t)o, "; and %zu more", k - i);
    if (o > 0 && (size_t)o < cap)
        snprintf(out + o, cap - (size_t)o, "%s", conf);
    free(it);
}

json_t *report_drift(const struct model *m, const struct score_result *r)
{
    const struct drift_report *d = &r->drift;
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(drift_status_name(d->status)));
    json_object_set_new(o, "rows", json_integer((json_int_t)d->rows));
    json_object_set_new(o, "low_confidence", json_boolean(d->low_confidence));
    json_object_set_new(o, "max_psi", num(d->max_psi));
    json_t *cols = json_object();
    for (size_t j = 0; j < d->nfeat; j++) {
        const struct drift_column *c = &d->col[j];
        json_t *cj = json_object();
        json_object_set_new(cj, "psi", num(c->psi));
        json_object_set_new(cj, "unseen_share", num(c->unseen_share));
        json_object_set_new(cj, "status", json_string(drift_status_name(c->status)));
        json_object_set_new(cols, m->schema.feat[j].name, cj);
    }
    json_object_set_new(o, "columns", cols);
    return o;
}

void report_score_warnings(const struct model *m, const struct score_result *r, json_t *arr)
{
    char msg[512];
    if (r->nmissing_cols * 2 > r->nfeat) { /* most of the model's inputs are absent */
        snprintf(msg, sizeof msg,
                 "only %zu of the %zu columns the model uses are in this file: its scores rest "
                 "on those alone; is it the kind of file the model was trained on?",
                 r->nfeat - r->nmissing_cols, r->nfeat);
        json_array_append_new(arr, json_string(msg));
    }
    for (size_t i = 0; i < r->nmissing_cols; i++) {
        snprintf(msg, sizeof msg,
                 "column '%s' that the model uses is missing from the file; "
                 "it was read as missing for every lead",
                 r->missing_cols[i]);
        json_array_append_new(arr, json_string(msg));
    }
    for (size_t j = 0; j < r->nfeat; j++) {
        if (r->unseen[j]) {
            snprintf(msg, sizeof msg,
                     "column '%s': %llu values are categories the model never "
                     "saw; they were read as missing",
                     m->schema.feat[j].name, (unsigned long long)r->unseen[j]);
            json_array_append_new(arr, json_string(msg));
        }
        if (r->unreadable[j]) {
            snprintf(msg, sizeof msg,
                     "column '%s': %llu values could not be read as %s and "
                     "were read as missing",
                     m->schema.feat[j].name, (unsigned long long)r->unreadable[j],
                     feat_kind_name(m->schema.feat[j].kind));
            json_array_append_new(arr, json_string(msg));
        }
    }
    if (r->nextra_cols) {
        int o = snprintf(msg, sizeof msg,
                         "%zu column%s the model does not use %s ignored:", r->nextra_cols,
                         r->nextra_cols == 1 ? "" : "s", r->nextra_cols == 1 ? "was" : "were");
        for (size_t i = 0; i < r->nextra_cols && o > 0 && (size_t)o < sizeof msg - 40; i++)
            o += snprintf(msg + o, sizeof msg - (size_t)o, "%s '%s'", i ? "," : "",
                          r->extra_cols[i]);
        json_array_append_new(arr, json_string(msg));
    }
    if (r->drift.col && r->drift.status != DRIFT_OK) {
        char line[1024];
        report_drift_line(m, r, line, sizeof line);
        json_array_append_new(arr, json_string(line));
    }
}

json_t *report_score(const struct model *m, const struct score_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "rows", json_integer((json_int_t)r->n));
    json_t *t = json_object();
    json_object_set_new(t, "High", json_integer((json_int_t)r->tier_count[TIER_HIGH]));
    json_object_set_new(t, "Medium", json_integer((json_int_t)r->tier_count[TIER_MEDIUM]));
    json_object_set_new(t, "Low", json_integer((json_int_t)r->tier_count[TIER_LOW]));
    json_object_set_new(o, "tiers", t);
    json_object_set_new(o, "oob_rows", json_integer((json_int_t)r->oob_rows));
    json_t *mc = json_array(), *ec = json_array(), *un = json_object();
    for (size_t i = 0; i < r->nmissing_cols; i++)
        json_array_append_new(mc, json_string(r->missing_cols[i]));
    for (size_t i = 0; i < r->nnew_cols; i++)
        json_array_append_new(ec, json_string(r->new_cols[i]));
    for (size_t j = 0; j < r->nfeat; j++)
        if (r->unseen[j])
            json_object_set_new(un, m->schema.feat[j].name, json_integer((json_int_t)r->unseen[j]));
    json_object_set_new(o, "missing_columns", mc);
    json_object_set_new(o, "new_columns", ec);
    json_object_set_new(o, "unseen_categories", un);
    json_object_set_new(o, "drift", report_drift(m, r));
    json_t *w = json_array();
    report_score_warnings(m, r, w);
    json_object_set_new(o, "warnings", w);
    if (r->has_metrics)
        json_object_set_new(o, "metrics", report_metrics(&r->metrics));
    return o;
}

json_t *report_score_histogram(const double *score, uint64_t n)
{
    uint64_t count[REPORT_HIST_BINS] = {0};
    const double width = 100.0 / REPORT_HIST_BINS;
    for (uint64_t i = 0; i < n; i++) {
        double s = score[i];
        /* NaN compares false: the first bin */
        long k = s >= 100 ? REPORT_HIST_BINS - 1 : s >= 0 ? (long)(s / width) : 0;
        count[k < REPORT_HIST_BINS ? k : REPORT_HIST_BINS - 1]++;
    }
    json_t *arr = json_array();
    for (int k = 0; k < REPORT_HIST_BINS; k++)
        json_array_append_new(arr,
                              json_pack("{s:i,s:i,s:I}", "from", (int)(k * width), "to",
                                        (int)((k + 1) * width), "leads", (json_int_t)count[k]));
    return arr;
}
