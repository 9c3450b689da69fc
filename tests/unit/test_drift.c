/*
 * test_drift.c — the Population Stability Index of ml/drift.h.
 *
 * Two halves. The math on hand-made schemas, whose right answers can be
 * worked out on paper: the PSI formula itself, identical distributions (0),
 * a two-bucket shift, smoothing of empty buckets on either side, a column
 * that is all missing, a file with no rows, an absent column, the unseen
 * thresholds, and how bins are grouped into buckets. Then the real
 * ../shared/data/Leads.csv with a model trained on it by app_train's
 * defaults: the file scored against its own model is ok on every column; a
 * random 1,000-row sample of it stays well under the watch threshold; and a
 * copy with `Total Time Spent on Website` doubled and a new `Lead Source`
 * ("TikTok Ads") in 30 % of rows drifts on exactly those two columns. The
 * copy is built in the test's temp directory, never committed. Without
 * Leads.csv those three are reported as skipped.
 */
#include "testutil.h"

#include "app/report.h"
#include "app/score.h"
#include "app/train.h"
#include "core/mem.h"
#include "core/rng.h"
#include "data/csvout.h"
#include "ml/drift.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ASSERT_STATUS(got, want)                                                                   \
    do {                                                                                           \
        enum drift_status g_ = (got), w_ = (want);                                                 \
        if (g_ != w_)                                                                              \
            fail_msg("%s is %s, expected %s", #got, drift_status_name(g_), drift_status_name(w_)); \
    } while (0)

/* ---- hand-made schemas ------------------------------------------------------ */

/* A schema of up to 4 features, each given its kind, bins and training
 * shares (nbins + 1 values, missing first). */
struct hand {
    struct bin_schema s;
    struct feature feat[4];
    double share[4][BINS_MAX + 1];
};

static void hand_feature(struct hand *h, size_t j, const char *name, enum feat_kind kind,
                         unsigned nbins, const double *share)
{
    struct feature *ft = &h->feat[j];
    memset(ft, 0, sizeof *ft);
    ft->name = (char *)name;
    ft->kind = kind;
    ft->nbins = (uint16_t)nbins;
    memcpy(h->share[j], share, (nbins + 1) * sizeof(double));
    ft->train_share = h->share[j];
    h->s.feat = h->feat;
    if (h->s.nfeat < j + 1)
        h->s.nfeat = j + 1;
}

/* bins_apply's report for n rows: every column present, no unseen. */
struct hand_rep {
    struct bin_report rep;
    long col[4];
    uint64_t unseen[4], unreadable[4], missing[4];
};

static void hand_rep_init(struct hand_rep *r, size_t nfeat)
{
    memset(r, 0, sizeof *r);
    r->rep.nfeat = nfeat;
    r->rep.col = r->col;
    r->rep.unseen = r->unseen;
    r->rep.unreadable = r->unreadable;
    r->rep.missing = r->missing;
    for (size_t j = 0; j < 4; j++)
        r->col[j] = (long)j;
}

/* Fill feature j's n rows of X with counts[b] rows of each bin b (in order). */
static void fill_rows(uint8_t *X, uint64_t n, size_t j, const uint64_t *counts, unsigned nbins)
{
    uint64_t r = 0;
    for (unsigned b = 0; b <= nbins; b++)
        for (uint64_t k = 0; k < counts[b]; k++) {
            assert_true(r < n);
            X[j * n + r++] = (uint8_t)b;
        }
    assert_int_equal(r, n);
}

/* Turn the first k rows of feature j that fill_rows put in the missing bin
 * into unseen categories (BINS_UNSEEN, as bins_apply writes them). */
static void make_unseen(uint8_t *X, uint64_t n, size_t j, uint64_t k)
{
    for (uint64_t r = 0; r < n && k > 0; r++)
        if (X[j * n + r] == BINS_MISSING) {
            X[j * n + r] = BINS_UNSEEN;
            k--;
        }
    assert_int_equal(k, 0);
}

/* PSI of smoothed shares, written out term by term (the reference). */
static double psi_by_hand(const double *e, const double *a, size_t k, double eps)
{
    double se = 0, sa = 0, psi = 0;
    for (size_t i = 0; i < k; i++) {
        se += e[i];
        sa += a[i];
    }
    for (size_t i = 0; i < k; i++) {
        double p = (e[i] + eps) / (se + (double)k * eps);
        double q = (a[i] + eps) / (sa + (double)k * eps);
        psi += (q - p) * (log(q) - log(p));
    }
    return psi;
}

static void test_psi_formula(void **state)
{
    (void)state;
    /* 50/50 -> 80/20: 0.3 ln 1.6 + 0.3 ln 2.5 = 0.3 ln 4 */
    const double e[2] = {0.5, 0.5}, a[2] = {0.8, 0.2};
    ASSERT_NEAR(drift_psi(e, a, 2, 0), 0.3 * log(4.0), 1e-15);
    ASSERT_NEAR(drift_psi(e, a, 2, 0), 0.41588830833596715, 1e-15);
    /* symmetric in its arguments, and 0 for identical shares */
    ASSERT_NEAR(drift_psi(a, e, 2, 0), 0.3 * log(4.0), 1e-15);
    ASSERT_SAME_BITS(drift_psi(e, e, 2, 1e-4), 0.0);
    const double e3[3] = {0.2, 0.3, 0.5};
    ASSERT_SAME_BITS(drift_psi(e3, e3, 3, 0), 0.0);
    /* an empty bucket: infinite without smoothing, finite with it */
    const double z[3] = {0.5, 0.5, 0}, y[3] = {0.5, 0.4, 0.1};
    assert_true(isinf(drift_psi(z, y, 3, 0)));
    assert_true(isinf(drift_psi(y, z, 3, 0)));
    double v = drift_psi(z, y, 3, 1e-4);
    assert_true(isfinite(v));
    ASSERT_NEAR(v, psi_by_hand(z, y, 3, 1e-4), 1e-12);
    /* on paper: p = (0.5, 0.5, 0) + 1e-4, q = (0.5, 0.4, 0.1) + 1e-4, over 1.0003 each */
    double d = 1.0003;
    double want = (0.4001 / d - 0.5001 / d) * log(0.4001 / 0.5001) +
                  (0.1001 / d - 0.0001 / d) * log(0.1001 / 0.0001);
    ASSERT_NEAR(v, want, 1e-12);
    ASSERT_NEAR(v, 0.71297094, 1e-8);
    /* nothing on either side and no smoothing: not a number */
    const double zero[2] = {0, 0};
    assert_true(isnan(drift_psi(zero, e, 2, 0)));
    /* nothing on one side, smoothed: read as uniform */
    ASSERT_NEAR(drift_psi(zero, e, 2, 1e-4), 0.0, 1e-15);
}

static void test_epsilon(void **state)
{
    (void)state;
    ASSERT_NEAR(drift_epsilon(1000), 5e-4, 1e-18);
    ASSERT_NEAR(drift_epsilon(10), 0.05, 1e-18);
    ASSERT_NEAR(drift_epsilon(5000), 1e-4, 1e-18);
    ASSERT_NEAR(drift_epsilon(1000000), DRIFT_EPS_MIN, 1e-18);
    assert_true(isfinite(drift_epsilon(0)));
}

/* A file with exactly the training shares: PSI 0 on every kind of feature. */
static void test_identical_distribution(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    double num[21], cat[6], bol[3];
    uint64_t cn[21], cc[6], cb[3];
    uint64_t n = 2000;
    num[0] = 0.1;
    cn[0] = 200;
    for (unsigned b = 1; b <= 20; b++) {
        num[b] = 0.045;
        cn[b] = 90;
    }
    const double cs[6] = {0.05, 0.4, 0.3, 0.2, 0.045, 0.005};
    for (unsigned b = 0; b < 6; b++) {
        cat[b] = cs[b];
        cc[b] = (uint64_t)llround(cs[b] * (double)n);
    }
    bol[0] = 0;
    bol[1] = 0.75;
    bol[2] = 0.25;
    cb[0] = 0;
    cb[1] = 1500;
    cb[2] = 500;
    hand_feature(&h, 0, "visits", FEAT_NUMERIC, 20, num);
    hand_feature(&h, 1, "source", FEAT_CATEGORICAL, 5, cat);
    hand_feature(&h, 2, "opted in", FEAT_BOOLEAN, 2, bol);
    uint8_t *X = xmalloc(3 * n);
    fill_rows(X, n, 0, cn, 20);
    fill_rows(X, n, 1, cc, 5);
    fill_rows(X, n, 2, cb, 2);
    struct hand_rep hr;
    hand_rep_init(&hr, 3);
    struct drift_report d;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    assert_int_equal(d.nfeat, 3);
    assert_int_equal(d.rows, n);
    assert_false(d.low_confidence);
    ASSERT_STATUS(d.status, DRIFT_OK);
    for (size_t j = 0; j < 3; j++) {
        ASSERT_NEAR(d.col[j].psi, 0.0, 1e-12);
        ASSERT_NEAR(d.col[j].unseen_share, 0.0, 0);
        ASSERT_STATUS(d.col[j].status, DRIFT_OK);
    }
    ASSERT_NEAR(d.max_psi, 0.0, 1e-12);
    /* buckets: 10 groups + missing; 4 frequent + rest + missing + unseen; 2 + missing */
    assert_int_equal(d.col[0].nbucket, 11);
    assert_int_equal(d.col[1].nbucket, 7);
    assert_int_equal(d.col[2].nbucket, 3);
    drift_report_cleanup(&d);
    assert_null(d.col);
    free(X);
}

/* Boolean 50/50 in training, 80/20 in the file: buckets false, true, missing. */
static void test_two_buckets_known_value(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    const double share[3] = {0, 0.5, 0.5};
    hand_feature(&h, 0, "flag", FEAT_BOOLEAN, 2, share);
    uint64_t n = 10000;
    uint8_t *X = xmalloc(n);
    const uint64_t counts[3] = {0, 2000, 8000};
    fill_rows(X, n, 0, counts, 2);
    struct hand_rep hr;
    hand_rep_init(&hr, 1);
    struct drift_report d;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    /* eps = max(1e-4, 0.5 / 10000) = 1e-4 on 3 buckets; the missing terms cancel */
    double eps = 1e-4, z = 1 + 3 * eps;
    double want = ((0.2 + eps) / z - (0.5 + eps) / z) * log((0.2 + eps) / (0.5 + eps)) +
                  ((0.8 + eps) / z - (0.5 + eps) / z) * log((0.8 + eps) / (0.5 + eps));
    ASSERT_NEAR(d.col[0].psi, want, 1e-12);
    ASSERT_NEAR(d.col[0].psi, 0.3 * log(4.0), 3e-4); /* the unsmoothed value */
    ASSERT_STATUS(d.col[0].status, DRIFT_DRIFT);
    ASSERT_STATUS(d.status, DRIFT_DRIFT);
    ASSERT_NEAR(d.max_psi, want, 1e-12);
    drift_report_cleanup(&d);

    /* 50/50 -> 55/45 is a small move: 0.05 ln(1.1) - 0.05 ln(0.9) ~ 0.0100 -> ok */
    const uint64_t small[3] = {0, 4500, 5500};
    fill_rows(X, n, 0, small, 2);
    drift_compute(&h.s, X, n, &hr.rep, &d);
    ASSERT_NEAR(d.col[0].psi, 0.05 * log(1.1 / 0.9), 1e-4);
    ASSERT_STATUS(d.col[0].status, DRIFT_OK);
    drift_report_cleanup(&d);
    /* 50/50 -> 70/30: 0.2 ln(0.7/0.3) ~ 0.169 -> watch */
    const uint64_t mid[3] = {0, 3000, 7000};
    fill_rows(X, n, 0, mid, 2);
    drift_compute(&h.s, X, n, &hr.rep, &d);
    ASSERT_NEAR(d.col[0].psi, 0.2 * log(0.7 / 0.3), 1e-3);
    ASSERT_STATUS(d.col[0].status, DRIFT_WATCH);
    ASSERT_STATUS(d.status, DRIFT_WATCH);
    drift_report_cleanup(&d);
    free(X);
}

/* A bucket empty in the file, and one empty in training (unseen, missing),
 * give finite PSIs equal to the smoothed formula. */
static void test_empty_buckets_smoothed(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    /* categorical: no missing in training, categories 60/30/10 */
    const double share[4] = {0, 0.6, 0.3, 0.1};
    hand_feature(&h, 0, "source", FEAT_CATEGORICAL, 3, share);
    uint64_t n = 1000;
    uint8_t *X = xmalloc(n);
    /* the file: 70 % first, 0 % third (empty), 20 % missing (half of them unseen) */
    const uint64_t counts[4] = {200, 700, 100, 0};
    fill_rows(X, n, 0, counts, 3);
    make_unseen(X, n, 0, 100);
    struct hand_rep hr;
    hand_rep_init(&hr, 1);
    hr.unseen[0] = 100;
    struct drift_report d;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    /* buckets: 3 categories, missing, unseen */
    assert_int_equal(d.col[0].nbucket, 5);
    const double e[5] = {0.6, 0.3, 0.1, 0, 0}, a[5] = {0.7, 0.1, 0, 0.1, 0.1};
    double eps = 0.5 / 1000; /* above the floor at 1,000 rows */
    double want = psi_by_hand(e, a, 5, eps);
    assert_true(isfinite(d.col[0].psi));
    ASSERT_NEAR(d.col[0].psi, want, 1e-12);
    assert_int_equal(d.col[0].unseen, 100);
    ASSERT_NEAR(d.col[0].unseen_share, 0.1, 1e-15);
    ASSERT_STATUS(d.col[0].status, DRIFT_DRIFT);
    drift_report_cleanup(&d);

    /* the unseen rows are counted in the unseen bucket, not in missing: the
     * same file read as all-missing instead differs */
    hr.unseen[0] = 0;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    const double a2[5] = {0.7, 0.1, 0, 0.2, 0};
    ASSERT_NEAR(d.col[0].psi, psi_by_hand(e, a2, 5, eps), 1e-12);
    assert_true(fabs(d.col[0].psi - want) > 0.01);
    drift_report_cleanup(&d);
    free(X);
}

static void test_all_rows_missing(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    double share[11] = {0.2};
    for (unsigned b = 1; b <= 10; b++)
        share[b] = 0.08;
    hand_feature(&h, 0, "score", FEAT_NUMERIC, 10, share);
    uint64_t n = 500;
    uint8_t *X = xcalloc(n, 1); /* every row bin 0 */
    struct hand_rep hr;
    hand_rep_init(&hr, 1);
    hr.missing[0] = n;
    struct drift_report d;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    /* 10 value buckets (one bin each) + missing */
    assert_int_equal(d.col[0].nbucket, 11);
    double e[11], a[11] = {0};
    for (int i = 0; i < 10; i++)
        e[i] = 0.08;
    e[10] = 0.2;
    a[10] = 1;
    ASSERT_NEAR(d.col[0].psi, psi_by_hand(e, a, 11, 1e-3), 1e-12);
    /* 0.8 ln 5 for the missing bucket, 0.08 ln 80 for each empty one: loud */
    ASSERT_NEAR(d.col[0].psi, 0.8 * log(5.0) + 10 * 0.08 * log(80.0), 0.05);
    ASSERT_STATUS(d.col[0].status, DRIFT_DRIFT);
    ASSERT_NEAR(d.col[0].unseen_share, 0, 0);
    drift_report_cleanup(&d);

    /* a training profile that was all missing too: identical, 0 */
    double blank[11] = {1};
    hand_feature(&h, 0, "score", FEAT_NUMERIC, 10, blank);
    drift_compute(&h.s, X, n, &hr.rep, &d);
    ASSERT_NEAR(d.col[0].psi, 0, 1e-15);
    ASSERT_STATUS(d.col[0].status, DRIFT_OK);
    drift_report_cleanup(&d);
    free(X);
}

static void test_zero_rows(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    const double share[3] = {0.1, 0.45, 0.45};
    hand_feature(&h, 0, "flag", FEAT_BOOLEAN, 2, share);
    hand_feature(&h, 1, "gone", FEAT_BOOLEAN, 2, share);
    struct hand_rep hr;
    hand_rep_init(&hr, 2);
    uint8_t dummy = 0;
    struct drift_report d;
    drift_compute(&h.s, &dummy, 0, &hr.rep, &d);
    assert_int_equal(d.rows, 0);
    assert_true(d.low_confidence);
    assert_true(isnan(d.col[0].psi)); /* not measured */
    ASSERT_NEAR(d.col[0].unseen_share, 0, 0);
    ASSERT_STATUS(d.col[0].status, DRIFT_OK);
    ASSERT_STATUS(d.status, DRIFT_OK);
    ASSERT_NEAR(d.max_psi, 0, 0);
    drift_report_cleanup(&d);
    /* an absent column still counts, even with no rows */
    hr.col[1] = -1;
    drift_compute(&h.s, &dummy, 0, &hr.rep, &d);
    ASSERT_STATUS(d.col[1].status, DRIFT_MISSING);
    ASSERT_STATUS(d.status, DRIFT_WATCH);
    drift_report_cleanup(&d);
}

static void test_absent_column(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    const double share[3] = {0, 0.5, 0.5};
    hand_feature(&h, 0, "flag", FEAT_BOOLEAN, 2, share);
    hand_feature(&h, 1, "gone", FEAT_BOOLEAN, 2, share);
    uint64_t n = 200;
    uint8_t *X = xmalloc(2 * n);
    const uint64_t same[3] = {0, 100, 100}, blank[3] = {200, 0, 0};
    fill_rows(X, n, 0, same, 2);
    fill_rows(X, n, 1, blank, 2); /* what bins_apply writes for an absent column */
    struct hand_rep hr;
    hand_rep_init(&hr, 2);
    hr.col[1] = -1;
    hr.missing[1] = n;
    struct drift_report d;
    drift_compute(&h.s, X, n, &hr.rep, &d);
    ASSERT_STATUS(d.col[0].status, DRIFT_OK);
    ASSERT_STATUS(d.col[1].status, DRIFT_MISSING);
    assert_true(isnan(d.col[1].psi));
    assert_true(isnan(d.col[1].unseen_share));
    ASSERT_STATUS(d.status, DRIFT_WATCH); /* missing counts as watch */
    ASSERT_NEAR(d.max_psi, 0, 1e-12);     /* the absent column's blank rows are not a PSI */
    drift_report_cleanup(&d);
    /* a drifting column beside it makes the whole file drift */
    const uint64_t shifted[3] = {0, 190, 10};
    fill_rows(X, n, 0, shifted, 2);
    drift_compute(&h.s, X, n, &hr.rep, &d);
    ASSERT_STATUS(d.col[0].status, DRIFT_DRIFT);
    ASSERT_STATUS(d.status, DRIFT_DRIFT);
    drift_report_cleanup(&d);
    free(X);
    assert_string_equal(drift_status_name(DRIFT_MISSING), "missing");
    ASSERT_STATUS(drift_severity(DRIFT_MISSING), DRIFT_WATCH);
}

/* Unseen categories raise the status by their share of rows, even when the
 * PSI (with "unseen" as its own bucket) would not yet. */
static void test_unseen_thresholds(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    const double share[3] = {0, 0.5, 0.5};
    hand_feature(&h, 0, "source", FEAT_CATEGORICAL, 2, share);
    uint64_t n = 10000;
    uint8_t *X = xmalloc(n);
    struct hand_rep hr;
    hand_rep_init(&hr, 1);
    struct {
        uint64_t unseen;
        enum drift_status psi_alone, status;
    } cases[] = {
        {50, DRIFT_OK, DRIFT_OK},        /* 0.5 %: PSI ~0.02 */
        {150, DRIFT_OK, DRIFT_WATCH},    /* 1.5 %: PSI ~0.08, under 0.1; watch by share */
        {400, DRIFT_WATCH, DRIFT_WATCH}, /* 4 %: PSI ~0.23 */
        {600, DRIFT_DRIFT, DRIFT_DRIFT}, /* 6 %: PSI ~0.39 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t u = cases[i].unseen, half = (n - u) / 2;
        const uint64_t counts[3] = {u, half, n - u - half};
        fill_rows(X, n, 0, counts, 2);
        make_unseen(X, n, 0, u);
        hr.unseen[0] = u;
        struct drift_report d;
        drift_compute(&h.s, X, n, &hr.rep, &d);
        double share_u = (double)u / (double)n;
        ASSERT_NEAR(d.col[0].unseen_share, share_u, 1e-15);
        const double e[4] = {0.5, 0.5, 0, 0};
        const double a[4] = {(double)half / (double)n, (double)(n - u - half) / (double)n, 0,
                             share_u};
        ASSERT_NEAR(d.col[0].psi, psi_by_hand(e, a, 4, 1e-4), 1e-12);
        enum drift_status by_psi = d.col[0].psi >= DRIFT_PSI_DRIFT   ? DRIFT_DRIFT
                                   : d.col[0].psi >= DRIFT_PSI_WATCH ? DRIFT_WATCH
                                                                     : DRIFT_OK;
        if (by_psi != cases[i].psi_alone)
            fail_msg("%.1f %% unseen: PSI %.4f gives %s, expected %s", 100 * share_u, d.col[0].psi,
                     drift_status_name(by_psi), drift_status_name(cases[i].psi_alone));
        ASSERT_STATUS(d.col[0].status, cases[i].status);
        drift_report_cleanup(&d);
    }
    free(X);
}

static void test_bucket_grouping(void **state)
{
    (void)state;
    struct feature ft;
    struct drift_buckets b;
    double share[BINS_MAX + 1];

    /* 255 equal bins: 10 groups of 25 or 26 consecutive bins */
    memset(&ft, 0, sizeof ft);
    ft.kind = FEAT_NUMERIC;
    ft.nbins = 255;
    share[0] = 0;
    for (unsigned x = 1; x <= 255; x++)
        share[x] = 1.0 / 255;
    ft.train_share = share;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 10);
    assert_int_equal(b.nbucket, 11);
    assert_int_equal(b.of_bin[0], 10);
    unsigned size[DRIFT_GROUPS] = {0};
    for (unsigned x = 1; x <= 255; x++) {
        if (x > 1)
            assert_true(b.of_bin[x] == b.of_bin[x - 1] || b.of_bin[x] == b.of_bin[x - 1] + 1);
        size[b.of_bin[x]]++;
    }
    for (unsigned k = 0; k < 10; k++)
        assert_in_range(size[k], 25, 26);

    /* a heavy first value (40 %) is a group of its own; the rest is divided
     * evenly among the other nine (no sliver right after it) */
    share[0] = 0.1;
    share[1] = 0.4;
    for (unsigned x = 2; x <= 255; x++)
        share[x] = 0.5 / 254;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 10);
    assert_int_equal(b.of_bin[1], 0);
    assert_int_equal(b.of_bin[2], 1);
    double mass[DRIFT_GROUPS] = {0};
    for (unsigned x = 1; x <= 255; x++)
        mass[b.of_bin[x]] += share[x];
    ASSERT_NEAR(mass[0], 0.4, 1e-12);
    for (unsigned k = 1; k < 10; k++)
        ASSERT_NEAR(mass[k], 0.5 / 9, 0.5 / 254 + 1e-12);

    /* fewer bins than groups: one bucket per bin */
    ft.nbins = 4;
    const double four[5] = {0, 0.1, 0.2, 0.3, 0.4};
    ft.train_share = (double *)four;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 4);
    for (unsigned x = 1; x <= 4; x++)
        assert_int_equal(b.of_bin[x], x - 1);

    /* categorical: the 9 largest of those >= 1 %, then one rest bucket */
    memset(&ft, 0, sizeof ft);
    ft.kind = FEAT_CATEGORICAL;
    ft.nbins = 20;
    const double cs[21] = {0.02,  0.3,   0.2,   0.1,   0.08,  0.06,  0.05,
                           0.04,  0.03,  0.025, 0.02,  0.015, 0.012, 0.009,
                           0.008, 0.006, 0.005, 0.004, 0.003, 0.002, 0.002};
    ft.train_share = (double *)cs;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 10);
    assert_int_equal(b.nbucket, 12); /* + missing + unseen */
    for (unsigned x = 1; x <= 9; x++)
        assert_int_equal(b.of_bin[x], x - 1);
    for (unsigned x = 10; x <= 20; x++)
        assert_int_equal(b.of_bin[x], 9);
    /* the order of the bins does not matter: the largest gets bucket 0 */
    const double rev[4] = {0, 0.005, 0.3, 0.695};
    ft.nbins = 3;
    ft.train_share = (double *)rev;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 3); /* 2 frequent + a rest for the 0.5 % one */
    assert_int_equal(b.of_bin[3], 0);
    assert_int_equal(b.of_bin[2], 1);
    assert_int_equal(b.of_bin[1], 2);
    /* every category frequent: no rest bucket */
    const double two[3] = {0, 0.5, 0.5};
    ft.nbins = 2;
    ft.train_share = (double *)two;
    drift_buckets(&ft, &b);
    assert_int_equal(b.nvalue, 2);
    assert_int_equal(b.nbucket, 4);
}

static void test_low_confidence(void **state)
{
    (void)state;
    struct hand h;
    memset(&h, 0, sizeof h);
    const double share[3] = {0, 0.5, 0.5};
    hand_feature(&h, 0, "flag", FEAT_BOOLEAN, 2, share);
    struct hand_rep hr;
    hand_rep_init(&hr, 1);
    uint8_t X[DRIFT_MIN_ROWS];
    for (uint64_t n = 1; n <= DRIFT_MIN_ROWS; n++) {
        for (uint64_t r = 0; r < n; r++)
            X[r] = (uint8_t)(1 + r % 2);
        struct drift_report d;
        drift_compute(&h.s, X, n, &hr.rep, &d);
        assert_int_equal(d.low_confidence, n < DRIFT_MIN_ROWS);
        assert_true(isfinite(d.col[0].psi));
        /* one row must sit in one bucket; smoothed by half a row (eps 0.5):
         * p = (1, 1, 0.5) / 2.5, q = (1.5, 0.5, 0.5) / 2.5, PSI = 0.2 ln 3 —
         * watch, not the 0.5 ln(1 / 1e-4) = 4.6 a fixed 1e-4 would give */
        if (n == 1) {
            ASSERT_NEAR(d.col[0].psi, 0.2 * log(3.0), 1e-12);
            ASSERT_STATUS(d.col[0].status, DRIFT_WATCH);
        }
        drift_report_cleanup(&d);
    }
}

/* ---- Leads.csv ------------------------------------------------------------- */

#define TIME_COL   "Total Time Spent on Website"
#define SOURCE_COL "Lead Source"
#define NEW_SOURCE "TikTok Ads"

struct leads {
    struct frame *f;
    struct model m;
};

static int leads_setup(void **state)
{
    *state = NULL;
    const char *path = tu_leads_csv();
    if (!path)
        return 0;
    struct leads *L = calloc(1, sizeof *L);
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct ls_error err;
    ls_error_clear(&err);
    if (frame_read_file(path, &fo, &L->f, &err)) {
        fprintf(stderr, "reading Leads.csv failed: %s\n", err.msg);
        return -1;
    }
    struct train_opts o;
    train_opts_default(&o); /* the CLI's defaults: 100 trees, seed 42 */
    o.forest.threads = 2;
    struct train_summary sum;
    if (app_train(L->f, &o, &L->m, &sum, &err)) {
        fprintf(stderr, "app_train failed: %s\n", err.msg);
        return -1;
    }
    train_summary_cleanup(&sum);
    *state = L;
    return 0;
}

static int leads_teardown(void **state)
{
    struct leads *L = *state;
    if (L) {
        model_cleanup(&L->m);
        frame_free(L->f);
        free(L);
    }
    return 0;
}

/*
 * The rows rows[0..n) of f (NULL: all, in order) as CSV text (malloc'ed),
 * from the cells' raw text. With drifted, TIME_COL is doubled on every row
 * and SOURCE_COL is NEW_SOURCE on the rows where is_new[r].
 */
static char *leads_text(const struct frame *f, const uint64_t *rows, uint64_t n, int drifted,
                        const uint8_t *is_new)
{
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    long tc = drifted ? (long)tu_col(f, TIME_COL) : -1;
    long sc = drifted ? (long)tu_col(f, SOURCE_COL) : -1;
    for (size_t c = 0; c < f->ncols; c++) {
        fputs(c ? "," : "", o);
        csv_write_field(o, f->cols[c].name);
    }
    fputc('\n', o);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = rows ? rows[i] : i;
        for (size_t c = 0; c < f->ncols; c++) {
            const char *cell = frame_cell(f, c, r);
            fputs(c ? "," : "", o);
            char *end;
            double v;
            if ((long)c == tc && *cell && (v = strtod(cell, &end), *end == '\0'))
                fprintf(o, "%.17g", 2 * v);
            else if ((long)c == sc && is_new[r])
                fputs(NEW_SOURCE, o);
            else
                csv_write_field(o, cell);
        }
        fputc('\n', o);
    }
    assert_int_equal(fclose(o), 0);
    return text;
}

/* Per-column figures on stderr (for the record; the asserts are separate). */
static void print_drift(const char *what, const struct model *m, const struct drift_report *d)
{
    fprintf(stderr, "  %s: %llu rows, status %s, max PSI %.4f\n", what, (unsigned long long)d->rows,
            drift_status_name(d->status), d->max_psi);
    for (size_t j = 0; j < d->nfeat; j++)
        fprintf(stderr, "    %-46s PSI %8.4f  unseen %5.1f %%  %-7s (%u buckets)\n",
                m->schema.feat[j].name, d->col[j].psi, 100 * d->col[j].unseen_share,
                drift_status_name(d->col[j].status), d->col[j].nbucket);
}

static void test_leads_own_model(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    struct score_result res;
    tu_score_ok(&L->m, L->f, &res);
    const struct drift_report *d = &res.drift;
    print_drift("Leads.csv against its own model", &L->m, d);
    assert_int_equal(d->nfeat, L->m.schema.nfeat);
    assert_true(d->nfeat >= 20);
    assert_int_equal(d->rows, 9237);
    assert_false(d->low_confidence);
    ASSERT_STATUS(d->status, DRIFT_OK);
    for (size_t j = 0; j < d->nfeat; j++) {
        if (d->col[j].status != DRIFT_OK)
            fail_msg("'%s' is %s (PSI %g)", L->m.schema.feat[j].name,
                     drift_status_name(d->col[j].status), d->col[j].psi);
        ASSERT_NEAR(d->col[j].psi, 0, 1e-9); /* the very rows of the profile */
        assert_int_equal(d->col[j].unseen, 0);
    }
    /* the warnings carry no drift line; the summary line says ok */
    json_t *w = json_array();
    report_score_warnings(&L->m, &res, w);
    size_t i;
    json_t *v;
    json_array_foreach(w, i, v)
    {
        if (strstr(json_string_value(v), "drift"))
            fail_msg("a drift warning on the training file: %s", json_string_value(v));
    }
    json_decref(w);
    char line[256];
    report_drift_line(&L->m, &res, line, sizeof line);
    char want[64];
    snprintf(want, sizeof want, "drift: ok (%zu columns, max PSI 0.00)", d->nfeat);
    assert_string_equal(line, want);
    score_result_cleanup(&res);
}

/* Random samples of 1,000 rows of the training file are not drift. */
static void test_leads_random_sample(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    const uint64_t N = L->f->nrows, n = 1000;
    uint64_t *idx = xmalloc(N * sizeof *idx);
    double worst = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        /* a partial Fisher-Yates shuffle: n distinct rows */
        struct rng r;
        rng_seed(&r, seed);
        for (uint64_t i = 0; i < N; i++)
            idx[i] = i;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t k = i + rng_below(&r, N - i), t = idx[i];
            idx[i] = idx[k];
            idx[k] = t;
        }
        char *text = leads_text(L->f, idx, n, 0, NULL);
        struct frame *f = tu_frame_mem(text);
        assert_int_equal(f->nrows, n);
        struct score_result res;
        tu_score_ok(&L->m, f, &res);
        const struct drift_report *d = &res.drift;
        char what[64];
        snprintf(what, sizeof what, "random 1,000 rows (seed %llu)", (unsigned long long)seed);
        if (seed == 1)
            print_drift(what, &L->m, d);
        else
            fprintf(stderr, "  %s: status %s, max PSI %.4f\n", what, drift_status_name(d->status),
                    d->max_psi);
        assert_false(d->low_confidence);
        ASSERT_STATUS(d->status, DRIFT_OK);
        for (size_t j = 0; j < d->nfeat; j++) {
            if (!(d->col[j].psi < 0.05)) /* well under the watch threshold of 0.1 */
                fail_msg("seed %llu: '%s' PSI %g on a random sample", (unsigned long long)seed,
                         L->m.schema.feat[j].name, d->col[j].psi);
            assert_int_equal(d->col[j].unseen, 0);
        }
        if (d->max_psi > worst)
            worst = d->max_psi;
        score_result_cleanup(&res);
        frame_free(f);
        free(text);
    }
    fprintf(stderr, "  worst column PSI over 5 random samples: %.4f\n", worst);
    assert_true(worst > 0); /* a sample is not the training file: PSI was measured */

    /* 100 rows: measured, but flagged low-confidence, and the line says so */
    char *text = leads_text(L->f, idx, 100, 0, NULL);
    struct frame *f = tu_frame_mem(text);
    struct score_result res;
    tu_score_ok(&L->m, f, &res);
    assert_true(res.drift.low_confidence);
    assert_int_equal(res.drift.rows, 100);
    assert_true(res.drift.max_psi > 0);
    char line[1024];
    report_drift_line(&L->m, &res, line, sizeof line);
    fprintf(stderr, "  100 random rows: %s\n", line);
    assert_non_null(strstr(line, "; low confidence: only 100 rows"));
    json_t *rep = report_score(&L->m, &res);
    assert_true(json_is_true(json_object_get(json_object_get(rep, "drift"), "low_confidence")));
    json_decref(rep);
    score_result_cleanup(&res);
    frame_free(f);
    free(text);
    free(idx);
}

static void test_leads_drifted(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    const uint64_t N = L->f->nrows, nnew = (uint64_t)llround(0.3 * (double)N);
    /* exactly 30 % of the rows, chosen by a fixed RNG */
    uint64_t *idx = xmalloc(N * sizeof *idx);
    uint8_t *is_new = xcalloc(N, 1);
    struct rng r;
    rng_seed(&r, 2024);
    for (uint64_t i = 0; i < N; i++)
        idx[i] = i;
    for (uint64_t i = 0; i < nnew; i++) {
        uint64_t k = i + rng_below(&r, N - i), t = idx[i];
        idx[i] = idx[k];
        idx[k] = t;
        is_new[idx[i]] = 1;
    }
    char *text = leads_text(L->f, NULL, N, 1, is_new);
    struct frame *f = tu_frame_mem(text);
    assert_int_equal(f->nrows, N);
    /* the rewrite did what it says: doubled times, the new source */
    size_t tc = tu_col(f, TIME_COL), tc0 = tu_col(L->f, TIME_COL);
    for (uint64_t i = 0; i < N; i += 97)
        if (!frame_is_missing(L->f, tc0, i))
            ASSERT_NEAR(strtod(frame_cell(f, tc, i), NULL),
                        2 * strtod(frame_cell(L->f, tc0, i), NULL), 0);

    struct score_result res;
    tu_score_ok(&L->m, f, &res);
    const struct drift_report *d = &res.drift;
    print_drift("Leads.csv, time doubled, 30 % TikTok Ads", &L->m, d);
    size_t jt = tu_feature_index(&L->m, TIME_COL), js = tu_feature_index(&L->m, SOURCE_COL);
    ASSERT_STATUS(d->status, DRIFT_DRIFT);
    for (size_t j = 0; j < d->nfeat; j++) {
        enum drift_status want = j == jt || j == js ? DRIFT_DRIFT : DRIFT_OK;
        if (d->col[j].status != want)
            fail_msg("'%s' is %s (PSI %g, %.1f %% unseen), expected %s", L->m.schema.feat[j].name,
                     drift_status_name(d->col[j].status), d->col[j].psi,
                     100 * d->col[j].unseen_share, drift_status_name(want));
    }
    assert_true(d->col[jt].psi >= DRIFT_PSI_DRIFT);
    assert_true(d->col[js].psi >= DRIFT_PSI_DRIFT); /* the unseen bucket alone does it */
    assert_int_equal(d->col[js].unseen, nnew);
    ASSERT_NEAR(d->col[js].unseen_share, (double)nnew / (double)N, 1e-15);
    ASSERT_NEAR(d->col[js].unseen_share, 0.30, 0.0005);
    assert_int_equal(d->col[jt].unseen, 0);

    /* the warning names both, worst PSI first, with the unseen share */
    char line[1024];
    report_drift_line(&L->m, &res, line, sizeof line);
    fprintf(stderr, "  %s\n", line);
    assert_non_null(strstr(line, "drift: status drift — "));
    const char *pt = strstr(line, TIME_COL " PSI "), *ps = strstr(line, SOURCE_COL " PSI ");
    assert_non_null(pt);
    assert_non_null(ps);
    assert_non_null(strstr(ps, "30.0 % unseen (drift)"));
    assert_true(d->col[js].psi > d->col[jt].psi ? ps < pt : pt < ps);
    json_t *w = json_array();
    report_score_warnings(&L->m, &res, w);
    int found = 0;
    size_t i;
    json_t *v;
    json_array_foreach(w, i, v) found += strcmp(json_string_value(v), line) == 0;
    assert_int_equal(found, 1);
    json_decref(w);

    /* the report: drift.status and per column psi, unseen_share, status */
    json_t *rep = report_score(&L->m, &res);
    json_t *dj = json_object_get(rep, "drift");
    assert_string_equal(json_string_value(json_object_get(dj, "status")), "drift");
    json_t *cols = json_object_get(dj, "columns");
    assert_int_equal(json_object_size(cols), d->nfeat);
    json_t *cs = json_object_get(cols, SOURCE_COL);
    assert_string_equal(json_string_value(json_object_get(cs, "status")), "drift");
    ASSERT_NEAR(json_real_value(json_object_get(cs, "unseen_share")), d->col[js].unseen_share, 0);
    ASSERT_NEAR(json_real_value(json_object_get(cs, "psi")), d->col[js].psi, 0);
    json_t *ct = json_object_get(cols, TIME_COL);
    assert_string_equal(json_string_value(json_object_get(ct, "status")), "drift");
    json_decref(rep);

    score_result_cleanup(&res);
    frame_free(f);
    free(text);
    free(is_new);
    free(idx);
}

/* A model column dropped from the file: "missing", and the file watch. */
static void test_leads_absent_column(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    /* the whole file with TIME_COL renamed: nothing else moves */
    char *text = leads_text(L->f, NULL, L->f->nrows, 0, NULL);
    char *h = strstr(text, TIME_COL);
    assert_non_null(h);
    h[0] = 'X'; /* "Xotal Time Spent on Website": not the model's column */
    struct frame *f = tu_frame_mem(text);
    struct score_result res;
    tu_score_ok(&L->m, f, &res);
    size_t jt = tu_feature_index(&L->m, TIME_COL);
    ASSERT_STATUS(res.drift.col[jt].status, DRIFT_MISSING);
    ASSERT_STATUS(res.drift.status, DRIFT_WATCH);
    json_t *rep = report_score(&L->m, &res);
    json_t *c =
        json_object_get(json_object_get(json_object_get(rep, "drift"), "columns"), TIME_COL);
    assert_true(json_is_null(json_object_get(c, "psi")));
    assert_string_equal(json_string_value(json_object_get(c, "status")), "missing");
    json_decref(rep);
    char line[1024];
    report_drift_line(&L->m, &res, line, sizeof line);
    fprintf(stderr, "  %s\n", line);
    assert_string_equal(line, "drift: status watch — " TIME_COL " absent from the file (missing)");
    score_result_cleanup(&res);
    frame_free(f);
    free(text);
}

/* A column with more categories than bins: the rare ones share the
 * "(other)" bin in training and when scoring, so the training file scored
 * against its own model has no unseen cells and no drift there, and "Select"
 * (a missing token) stays missing rather than joining "(other)". */
static void test_other_bin(void **state)
{
    (void)state;
    size_t cap = 1 << 20, o = 0;
    char *text = xmalloc(cap);
    o += (size_t)snprintf(text + o, cap - o, "Code,Visits,Converted\n");
    for (int r = 0; r < 3000; r++) {
        int code = r % 300, conv = (code % 3 == 0) ^ (r % 7 == 0);
        if (r % 50 == 7)
            o += (size_t)snprintf(text + o, cap - o, "Select,%d,%d\n", r % 9, conv);
        else
            o += (size_t)snprintf(text + o, cap - o, "c%03d,%d,%d\n", code, r % 9, conv);
    }
    struct frame *f = tu_frame_mem(text);
    struct train_opts to;
    train_opts_default(&to);
    to.forest.trees = 10;
    to.forest.threads = 1;
    struct model m;
    struct train_summary sum;
    struct ls_error err;
    assert_int_equal(app_train(f, &to, &m, &sum, &err), 0);
    train_summary_cleanup(&sum);
    long j = -1;
    for (size_t k = 0; k < m.schema.nfeat; k++)
        if (strcmp(m.schema.feat[k].name, "Code") == 0)
            j = (long)k;
    assert_true(j >= 0);
    const struct feature *ft = &m.schema.feat[j];
    assert_true(ft->has_other);
    assert_true(ft->train_share[ft->nbins] > 0); /* the "(other)" bin holds rows */
    struct score_opts so;
    score_opts_default(&so);
    so.threads = 1;
    struct score_result res;
    assert_int_equal(app_score(&m, f, &so, &res, &err), 0);
    assert_int_equal(res.unseen[j], 0);
    assert_int_equal(res.drift.col[j].status, DRIFT_OK);
    uint64_t missing = 0;
    for (uint64_t r = 0; r < res.n; r++)
        missing += res.X[(uint64_t)j * res.n + r] == BINS_MISSING;
    assert_int_equal(missing, 60); /* the "Select" rows */
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
    free(text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest math[] = {
        cmocka_unit_test(test_psi_formula),
        cmocka_unit_test(test_epsilon),
        cmocka_unit_test(test_identical_distribution),
        cmocka_unit_test(test_two_buckets_known_value),
        cmocka_unit_test(test_empty_buckets_smoothed),
        cmocka_unit_test(test_all_rows_missing),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_absent_column),
        cmocka_unit_test(test_unseen_thresholds),
        cmocka_unit_test(test_bucket_grouping),
        cmocka_unit_test(test_low_confidence),
        cmocka_unit_test(test_other_bin),
    };
    const struct CMUnitTest leads[] = {
        cmocka_unit_test(test_leads_own_model),
        cmocka_unit_test(test_leads_random_sample),
        cmocka_unit_test(test_leads_drifted),
        cmocka_unit_test(test_leads_absent_column),
    };
    return TU_MAIN_SPLIT(argc, argv, "drift", math, NULL, NULL, leads, leads_setup, leads_teardown);
}
