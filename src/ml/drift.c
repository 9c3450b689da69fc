/*
 * drift.c — the Population Stability Index of drift.h, per model feature.
 *
 * Everything here reads counts the scoring run already has (the binned rows
 * and bins_apply's report); it allocates one array per report and costs one
 * pass over the binned rows.
 */
#include "ml/drift.h"

#include "core/mem.h"

#include <assert.h>
#include <math.h>
#include <string.h>

const char *drift_status_name(enum drift_status s)
{
    static const char *const n[] = {"ok", "watch", "drift", "missing"};
    return (unsigned)s < 4 ? n[s] : "unknown";
}

enum drift_status drift_severity(enum drift_status s)
{
    return s == DRIFT_MISSING ? DRIFT_WATCH : s;
}

static void buckets_categorical(const struct feature *ft, unsigned nb, struct drift_buckets *b)
{
    const double *t = ft->train_share;
    uint8_t own[BINS_MAX + 1] = {0}; /* bucket + 1 of a frequent category's bin, else 0 */
    unsigned k = 0;
    /* the most frequent first: bucket 0 is the largest category */
    while (k < DRIFT_CAT_TOP && t) {
        unsigned best = 0;
        for (unsigned x = 1; x <= nb; x++)
            if (!own[x] && t[x] >= DRIFT_CAT_MIN_SHARE && (best == 0 || t[x] > t[best]))
                best = x;
        if (best == 0)
            break;
        own[best] = (uint8_t)(++k);
    }
    int rest = 0;
    for (unsigned x = 1; x <= nb; x++)
        rest |= own[x] == 0;
    b->nvalue = k + (unsigned)rest;
    for (unsigned x = 1; x <= nb; x++)
        b->of_bin[x] = (uint8_t)(own[x] ? own[x] - 1u : k);
}

static void buckets_ordered(const struct feature *ft, unsigned nb, struct drift_buckets *b)
{
    const double *t = ft->train_share;
    double total = 0;
    for (unsigned x = 1; x <= nb; x++)
        total += t ? t[x] : 0;
    /* Walk the bins in order; close a group once it holds its share of what
     * is left, so that after a heavy value (a group of its own) the rest is
     * divided evenly again instead of leaving slivers. A group never closes
     * while nothing remains for the next one. */
    unsigned k = 0;
    double acc = 0, start = 0;
    for (unsigned x = 1; x <= nb; x++) {
        b->of_bin[x] = (uint8_t)k;
        acc += t ? t[x] : 0;
        double want = (total - start) / (double)(DRIFT_GROUPS - k);
        if (x < nb && k + 1 < DRIFT_GROUPS && total - acc > 1e-12 &&
            acc - start >= want * (1 - 1e-9)) {
            k++;
            start = acc;
        }
    }
    b->nvalue = k + 1;
}

void drift_buckets(const struct feature *ft, struct drift_buckets *b)
{
    memset(b, 0, sizeof *b);
    unsigned nb = ft->nbins;
    if (nb < 1)
        nb = 1;
    if (nb > BINS_MAX)
        nb = BINS_MAX;
    if (ft->kind == FEAT_CATEGORICAL)
        buckets_categorical(ft, nb, b);
    else
        buckets_ordered(ft, nb, b);
    assert(b->nvalue >= 1 && b->nvalue <= DRIFT_GROUPS);
    /* bin 0, and any bin past nbins (never written by bins_apply), are missing */
    b->of_bin[0] = (uint8_t)b->nvalue;
    for (unsigned x = nb + 1; x <= BINS_MAX; x++)
        b->of_bin[x] = (uint8_t)b->nvalue;
    b->nbucket = b->nvalue + 1 + (ft->kind == FEAT_CATEGORICAL);
}

double drift_epsilon(uint64_t n)
{
    double e = 0.5 / (double)(n ? n : 1);
    return e > DRIFT_EPS_MIN ? e : DRIFT_EPS_MIN;
}

double drift_psi(const double *expected, const double *actual, size_t k, double eps)
{
    double se = 0, sa = 0;
    for (size_t i = 0; i < k; i++) {
        se += expected[i];
        sa += actual[i];
    }
    double de = se + (double)k * eps, da = sa + (double)k * eps;
    if (!(de > 0) || !(da > 0))
        return NAN;
    double psi = 0;
    for (size_t i = 0; i < k; i++) {
        double p = (expected[i] + eps) / de, q = (actual[i] + eps) / da;
        if (p != q) /* both terms have the sign of q - p: the sum is never negative */
            psi += (q - p) * log(q / p);
    }
    /* equal shares reached by different sums differ in the last bits */
    return psi < 1e-12 ? 0 : psi;
}

static enum drift_status worst(enum drift_status a, enum drift_status b)
{
    return drift_severity(a) >= drift_severity(b) ? a : b;
}

void drift_compute(const struct bin_schema *s, const uint8_t *X, uint64_t n,
                   const struct bin_report *rep, struct drift_report *out)
{
    memset(out, 0, sizeof *out);
    out->nfeat = s->nfeat;
    out->rows = n;
    out->low_confidence = n < DRIFT_MIN_ROWS;
    out->col = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *out->col);
    double eps = drift_epsilon(n);
    for (size_t j = 0; j < s->nfeat; j++) {
        const struct feature *ft = &s->feat[j];
        struct drift_column *c = &out->col[j];
        if (rep->col[j] < 0) {
            c->psi = c->unseen_share = NAN;
            c->status = DRIFT_MISSING;
            out->status = worst(out->status, DRIFT_WATCH);
            continue;
        }
        struct drift_buckets bk;
        drift_buckets(ft, &bk);
        c->nbucket = bk.nbucket;

        uint64_t cnt[BINS_MAX + 1] = {0};
        const uint8_t *xj = X + j * n;
        for (uint64_t r = 0; r < n; r++)
            cnt[xj[r]]++;
        /* a loaded profile is data: a share that is not a finite positive
         * number counts as 0 */
        double e[DRIFT_MAX_BUCKETS] = {0}, a[DRIFT_MAX_BUCKETS] = {0}, etot = 0;
        for (unsigned b = 0; ft->train_share && b <= ft->nbins && b <= BINS_MAX; b++) {
            double v = ft->train_share[b];
            if (isfinite(v) && v > 0) {
                e[bk.of_bin[b]] += v;
                etot += v;
            }
        }
        for (unsigned b = 0; b <= BINS_MAX; b++)
            a[bk.of_bin[b]] += (double)cnt[b];
        /* unseen categories sit in BINS_UNSEEN (the missing bin for an older
         * model without a free code), which falls in the missing bucket: move
         * them to the unseen bucket */
        uint8_t ucode = bins_unseen_code(ft);
        uint64_t unseen = rep->unseen[j] < cnt[ucode] ? rep->unseen[j] : cnt[ucode];
        if (ft->kind == FEAT_CATEGORICAL) {
            a[bk.of_bin[ucode]] -= (double)unseen;
            a[bk.nvalue + 1] += (double)unseen;
        }
        c->unseen = unseen;
        c->unseen_share = n ? (double)unseen / (double)n : 0;
        if (n == 0 || !(etot > 0)) { /* nothing to compare (no rows, no profile) */
            c->psi = NAN;
            c->status = DRIFT_OK;
            continue;
        }
        for (unsigned i = 0; i < bk.nbucket; i++)
            a[i] /= (double)n;
        c->psi = drift_psi(e, a, bk.nbucket, eps);

        enum drift_status st = c->psi >= DRIFT_PSI_DRIFT   ? DRIFT_DRIFT
                               : c->psi >= DRIFT_PSI_WATCH ? DRIFT_WATCH
                                                           : DRIFT_OK;
        if (c->unseen_share >= DRIFT_UNSEEN_DRIFT)
            st = DRIFT_DRIFT;
        else if (c->unseen_share >= DRIFT_UNSEEN_WATCH && st == DRIFT_OK)
            st = DRIFT_WATCH;
        c->status = st;
        out->status = worst(out->status, st);
        if (c->psi > out->max_psi)
            out->max_psi = c->psi;
    }
}

void drift_report_cleanup(struct drift_report *r)
{
    free(r->col);
    memset(r, 0, sizeof *r);
}
