/*
 * metrics.c — the scores' quality figures of metrics.h.
 */
#include "ml/metrics.h"

#include "core/mem.h"
#include "core/sort.h"

#include <math.h>
#include <string.h>

struct py {
    double p;
    uint8_t y;
};

/* Pairs with a probability, sorted by descending probability (radix sort). */
static struct py *sorted_pairs(const double *p, const uint8_t *y, uint64_t n, uint64_t *m)
{
    uint64_t *key = xmalloc((n ? n : 1) * sizeof *key);
    uint32_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
        if (!isnan(p[i])) {
            key[k] = ~sort_key_of(p[i]); /* descending */
            idx[k] = (uint32_t)i;
            k++;
        }
    sort_keys_vals(key, idx, k);
    struct py *v = xmalloc((k ? k : 1) * sizeof *v);
    for (uint64_t i = 0; i < k; i++) {
        v[i].p = p[idx[i]];
        v[i].y = y[idx[i]] != 0;
    }
    free(key);
    free(idx);
    *m = k;
    return v;
}

static double auc_sorted(const struct py *v, uint64_t m)
{
    /* walk groups of tied scores from the top: each positive scores the
     * negatives below it, and half of those tied with it */
    double pos = 0, neg = 0, area = 0;
    for (uint64_t i = 0; i < m;) {
        uint64_t j = i;
        double gp = 0, gn = 0;
        while (j < m && v[j].p == v[i].p) {
            gp += v[j].y;
            gn += !v[j].y;
            j++;
        }
        area += gn * pos + 0.5 * gp * gn;
        pos += gp;
        neg += gn;
        i = j;
    }
    return pos > 0 && neg > 0 ? area / (pos * neg) : NAN;
}

double metrics_auc(const double *p, const uint8_t *y, uint64_t n)
{
    uint64_t m;
    struct py *v = sorted_pairs(p, y, n, &m);
    double a = auc_sorted(v, m);
    free(v);
    return a;
}

void metrics_compute(const double *p, const uint8_t *y, uint64_t n, struct metrics *mt)
{
    memset(mt, 0, sizeof *mt);
    uint64_t m;
    struct py *v = sorted_pairs(p, y, n, &m);
    mt->n = m;
    for (uint64_t i = 0; i < m; i++)
        mt->npos += v[i].y;
    if (m == 0) {
        mt->auc = mt->logloss = mt->brier = NAN;
        free(v);
        return;
    }
    mt->base_rate = (double)mt->npos / (double)m;
    mt->auc = auc_sorted(v, m);
    double ll = 0, br = 0;
    for (uint64_t i = 0; i < m; i++) {
        double q = v[i].p < 1e-15 ? 1e-15 : v[i].p > 1 - 1e-15 ? 1 - 1e-15 : v[i].p;
        ll -= v[i].y ? log(q) : log(1 - q);
        br += (v[i].p - v[i].y) * (v[i].p - v[i].y);
    }
    mt->logloss = ll / (double)m;
    mt->brier = br / (double)m;
    uint64_t k10 = (m + 9) / 10, k20 = (m + 4) / 5, hit = 0;
    for (uint64_t i = 0; i < m; i++) {
        hit += v[i].y;
        if (i + 1 == k10) {
            mt->precision_top10 = (double)hit / (double)k10;
            mt->recall_top10 = mt->npos ? (double)hit / (double)mt->npos : 0;
        }
        if (i + 1 == k20) {
            mt->precision_top20 = (double)hit / (double)k20;
            mt->recall_top20 = mt->npos ? (double)hit / (double)mt->npos : 0;
        }
    }
    for (int dcl = 0; dcl < METRICS_DECILES; dcl++) {
        uint64_t lo = m * (uint64_t)dcl / METRICS_DECILES;
        uint64_t hi = m * (uint64_t)(dcl + 1) / METRICS_DECILES;
        double sp = 0, sy = 0;
        for (uint64_t i = lo; i < hi; i++) {
            sp += v[i].p;
            sy += v[i].y;
        }
        uint64_t c = hi - lo;
        mt->cal_n[dcl] = c;
        mt->cal_pred[dcl] = c ? sp / (double)c : NAN;
        mt->cal_obs[dcl] = c ? sy / (double)c : NAN;
        mt->lift[dcl] = c && mt->base_rate > 0 ? (sy / (double)c) / mt->base_rate : NAN;
    }
    free(v);
}
