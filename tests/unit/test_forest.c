/*
 * test_forest.c — the learning core: trees, forest, calibration, metrics.
 *
 * What a user relies on without being able to see it: a seed gives the same
 * model file whatever the thread count (and another seed another file); a
 * split that separates the classes perfectly is the one the tree takes, at
 * the right threshold or with the right category set; the calibration map is
 * monotone and is the pool-adjacent-violators fit; AUC, lift and the
 * calibration table mean what metrics.h says; a training lead scored later
 * gets its out-of-bag probability. Inputs are generated here (the
 * demo generator of data/demo.h, or small CSV texts built by hand), except
 * the out-of-bag versus holdout check, which needs the real
 * ../shared/data/Leads.csv and runs in a second group only when it exists.
 */
#include "testutil.h"

#include "app/score.h"
#include "app/train.h"
#include "core/buf.h"
#include "core/rng.h"
#include "data/demo.h"
#include "ml/bins.h"
#include "ml/calib.h"
#include "ml/forest.h"
#include "ml/metrics.h"
#include "ml/model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

static struct frame *demo_frame(uint64_t rows, uint64_t seed)
{
    char *text = tu_demo_text(rows, seed);
    struct frame *f = tu_frame_mem(text);
    free(text);
    return f;
}

static void small_opts(struct train_opts *o, uint32_t trees, uint32_t threads, uint64_t seed)
{
    train_opts_default(o);
    o->forest.trees = trees;
    o->forest.threads = threads;
    o->forest.seed = seed;
}

static void train_ok(const struct frame *f, const struct train_opts *o, struct model *m)
{
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(f, o, m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    train_summary_cleanup(&sum);
}

/* Save m to a temp file called name and return its bytes. */
static uint8_t *save_bytes(const struct model *m, const char *name, size_t *len)
{
    const char *path = tu_write_temp(name, "", 0);
    struct ls_error err;
    ls_error_clear(&err);
    int rc = model_save(m, path, &err);
    if (rc)
        fail_msg("model_save failed (%d): %s", rc, err.msg);
    return tu_slurp(path, len);
}

/* An appendable, bounded text buffer for hand-made CSVs. */
struct text {
    char b[64 * 1024];
    size_t n;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->b + t->n, sizeof t->b - t->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof t->b - t->n);
    t->n += (size_t)k;
}

/* ---- 1. determinism ------------------------------------------------------- */

/* One seed, one file: threads 1 and 2 give the same bytes; seed 8 another. */
static void test_same_seed_same_file(void **state)
{
    (void)state;
    struct frame *f = demo_frame(2000, 11);
    struct train_opts o;
    struct model m1, m2, m3;
    small_opts(&o, 15, 1, 7);
    train_ok(f, &o, &m1);
    small_opts(&o, 15, 2, 7);
    train_ok(f, &o, &m2);
    small_opts(&o, 15, 2, 8);
    train_ok(f, &o, &m3);

    size_t n1, n2, n3;
    uint8_t *b1 = save_bytes(&m1, "det1.lsm", &n1);
    uint8_t *b2 = save_bytes(&m2, "det2.lsm", &n2);
    uint8_t *b3 = save_bytes(&m3, "det3.lsm", &n3);
    assert_int_equal(n1, n2);
    for (size_t i = 0; i < n1; i++)
        if (b1[i] != b2[i])
            fail_msg("threads 1 and 2 differ first at byte %zu of %zu (%u vs %u)", i, n1, b1[i],
                     b2[i]);
    assert_true(n1 != n3 || memcmp(b1, b3, n1) != 0);
    /* the OOB predictions, not only the trees, are thread-independent */
    assert_int_equal(m1.noob, m2.noob);
    assert_memory_equal(m1.oob_raw, m2.oob_raw, m1.noob * sizeof *m1.oob_raw);
    assert_memory_equal(&m1.oob, &m2.oob, sizeof m1.oob);
    free(b1);
    free(b2);
    free(b3);
    model_cleanup(&m1);
    model_cleanup(&m2);
    model_cleanup(&m3);
    frame_free(f);
}

/* The same through forest_train directly, with many threads and OOB output. */
static void test_forest_threads_identical(void **state)
{
    (void)state;
    enum { N = 600, P = 4 };
    uint8_t X[P * N], y[N], is_cat[P] = {0, 0, 1, 0};
    uint16_t nbins[P] = {20, 7, 5, 255};
    struct rng r;
    rng_seed(&r, 99);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < P; j++)
            X[j * N + i] = (uint8_t)rng_below(&r, nbins[j] + 1u); /* bin 0: missing */
        y[i] = (uint8_t)(rng_uniform(&r) < (X[i] > 10 ? 0.8 : 0.2));
    }
    struct forest_opts fo;
    forest_opts_default(&fo);
    fo.trees = 12;
    fo.min_leaf = 3;
    struct forest a, b;
    double oa[N], ob[N];
    struct ls_error err;
    fo.threads = 1;
    assert_int_equal(forest_train(X, N, P, y, is_cat, nbins, &fo, &a, oa, &err), LS_OK);
    fo.threads = 5;
    assert_int_equal(forest_train(X, N, P, y, is_cat, nbins, &fo, &b, ob, &err), LS_OK);
    assert_int_equal(a.ntrees, b.ntrees);
    for (uint32_t i = 0; i < a.ntrees; i++) {
        assert_int_equal(a.trees[i].nnodes, b.trees[i].nnodes);
        assert_memory_equal(a.trees[i].nodes, b.trees[i].nodes,
                            a.trees[i].nnodes * sizeof *a.trees[i].nodes);
    }
    assert_memory_equal(oa, ob, sizeof oa);
    forest_cleanup(&a);
    forest_cleanup(&b);
}

/* FNV-1a over bytes. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/*
 * Trees and out-of-bag sums pinned to what the forest grew before the speed
 * work of issue 9 (fused histograms, inline bootstrap draws, one-feature trees
 * grown on bins): those changes must not move a single node. Four forests on
 * generated bins: several features (one categorical, one with 255 bins),
 * the same with balanced class weights, and one feature alone, ordered and
 * categorical (the leakage scan's forests), each with missing bins. The
 * expected values were printed by this test built against the code before.
 */
static uint64_t pinned_forest(uint32_t P, int cat_only, int balanced, uint64_t seed,
                              uint32_t threads, double *oob_out)
{
    enum { N = 3000 };
    static uint8_t X[4 * N], y[N];
    uint8_t is_cat[4] = {0, 0, 1, 0};
    uint16_t nbins[4] = {40, 7, 9, 255};
    if (cat_only) {
        is_cat[0] = 1;
        nbins[0] = 12;
    }
    struct rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        for (uint32_t j = 0; j < P; j++)
            X[j * N + i] = (uint8_t)rng_below(&r, nbins[j] + 1u); /* bin 0: missing */
        double p = 0.15 + 0.5 * (X[i] > nbins[0] / 2) + (P > 3 ? 0.2 * (X[3 * N + i] < 60) : 0);
        y[i] = (uint8_t)(rng_uniform(&r) < p);
    }
    struct forest_opts fo;
    forest_opts_default(&fo);
    fo.trees = 16;
    fo.min_leaf = 2;
    fo.balanced = balanced;
    fo.threads = threads;
    fo.mtry = P == 1 ? 1 : 0;
    struct forest f;
    static double oob[N];
    struct ls_error err;
    assert_int_equal(forest_train(X, N, P, y, is_cat, nbins, &fo, &f, oob, &err), LS_OK);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < f.ntrees; i++) {
        const struct tree *t = &f.trees[i];
        for (uint32_t k = 0; k < t->nnodes; k++) {
            const struct tnode *n = &t->nodes[k];
            h = fnv(h, &n->feat, sizeof n->feat);
            h = fnv(h, &n->kind, sizeof n->kind);
            h = fnv(h, &n->arg, sizeof n->arg);
            h = fnv(h, &n->left, sizeof n->left);
            h = fnv(h, &n->value, sizeof n->value);
            h = fnv(h, &n->cover, sizeof n->cover);
            uint8_t ml = n->flags & TNODE_MISSING_LEFT;
            h = fnv(h, &ml, 1);
        }
        if (t->ncatsets)
            h = fnv(h, t->catsets, t->ncatsets * sizeof *t->catsets);
    }
    if (oob_out)
        memcpy(oob_out, oob, sizeof oob);
    else
        h = fnv(h, oob, sizeof oob);
    forest_cleanup(&f);
    return h;
}

static void test_forest_pinned(void **state)
{
    (void)state;
    /* the balanced forest's trees only: its out-of-bag sums were fixed (below) */
    static double oob[3000];
    uint64_t got[4] = {pinned_forest(4, 0, 0, 5, 2, NULL), pinned_forest(4, 0, 1, 6, 2, oob),
                       pinned_forest(1, 0, 0, 7, 2, NULL), pinned_forest(1, 1, 0, 8, 2, NULL)};
    /* forest 0 hashes its out-of-bag sums too: re-pinned when out-of-bag rows
     * missing a value at a split that saw none took both children, as
     * prediction does (its trees are unchanged: forest 1 is the same grower) */
    const uint64_t want[4] = {0x70f69cb3d4cf7e2bULL, 0x5d512a25a890b968ULL, 0x927903dbdfca67cbULL,
                              0x31b11e287fbaac84ULL};
    for (int i = 0; i < 4; i++) {
        if (got[i] != want[i])
            print_error("forest %d: fingerprint 0x%016llxULL, pinned 0x%016llxULL\n", i,
                        (unsigned long long)got[i], (unsigned long long)want[i]);
    }
    assert_memory_equal(got, want, sizeof got);
}

/* Balanced class weights make some leaf values a hair below zero (P - pl in
 * floating point); packed into the fixed-point out-of-bag word such a value
 * borrowed from the tree count, and the borrow split differently between
 * threads: out-of-bag results changed with the thread count. */
static void test_balanced_oob_threads(void **state)
{
    (void)state;
    static double a[3000], b[3000];
    pinned_forest(4, 0, 1, 6, 1, a);
    pinned_forest(4, 0, 1, 6, 2, b);
    for (int i = 0; i < 3000; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0)
            fail_msg("row %d: out-of-bag %.17g with 1 thread, %.17g with 2", i, a[i], b[i]);
}

/* ---- 2. known best splits -------------------------------------------------- */

/* x in 1..20, twenty rows each, converted exactly when x > 10; a noise
 * column beside it. Every tree (mtry = all features) must cut x at 10.5. */
static void test_root_ordered_split(void **state)
{
    (void)state;
    static struct text t;
    t.n = 0;
    add(&t, "noise,x,Converted\n");
    struct rng r;
    rng_seed(&r, 5);
    for (int rep = 0; rep < 20; rep++)
        for (int x = 1; x <= 20; x++)
            add(&t, "%.3f,%d,%d\n", rng_uniform(&r) * 100, x, x > 10);
    struct frame *f = tu_frame_mem(t.b);
    struct train_opts o;
    small_opts(&o, 3, 1, 42);
    o.forest.mtry = 2;
    o.forest.min_leaf = 1;
    o.include_leaky = 1; /* x gives the outcome away: that is the point here */
    struct model m;
    train_ok(f, &o, &m);

    assert_int_equal(m.schema.nfeat, 2);
    size_t jx = tu_feature_index(&m, "x");
    const struct feature *ft = &m.schema.feat[jx];
    assert_int_equal(ft->kind, FEAT_NUMERIC);
    assert_int_equal(ft->nbins, 20);
    uint64_t n = f->nrows;
    uint8_t *X = malloc(m.schema.nfeat * n);
    struct bin_report rep;
    bins_apply(&m.schema, f, X, &rep);
    bins_report_cleanup(&rep);
    for (uint32_t i = 0; i < m.forest.ntrees; i++) {
        const struct tree *tr = &m.forest.trees[i];
        const struct tnode *root = &tr->nodes[0];
        assert_int_equal(root->kind, TNODE_ORDERED);
        assert_int_equal(root->feat, jx);
        /* bins 1..arg go left; the cut is thresholds[arg - 1], between 10 and 11 */
        assert_in_range(root->arg, 1, ft->nbins - 1u);
        double cut = ft->thresholds[root->arg - 1];
        if (!(cut > 10 && cut < 11))
            fail_msg("tree %u cuts x at %g (bin %u), expected between 10 and 11", i, cut,
                     root->arg);
        /* both children are pure leaves: no positive on the left, all on the right */
        const struct tnode *l = &tr->nodes[root->left], *rt = &tr->nodes[root->left + 1];
        assert_int_equal(l->kind, TNODE_LEAF);
        assert_int_equal(rt->kind, TNODE_LEAF);
        ASSERT_NEAR(l->value, 0.0, 0);
        ASSERT_NEAR(rt->value, 1.0, 0);
        /* and every training row is routed by the value it has */
        for (uint64_t row = 0; row < n; row++) {
            unsigned b = X[jx * n + row];
            double v = f->cols[tu_col(f, "x")].num[row];
            assert_int_equal(tnode_goes_left(tr, root, b), v <= 10);
            ASSERT_NEAR(tree_predict(tr, X, n, row), v > 10 ? 1.0 : 0.0, 0);
        }
    }
    /* the out-of-bag rows were routed by the same cut: each OOB probability
     * is exactly its class, so the OOB AUC is 1 */
    assert_true(m.noob > 0);
    for (uint64_t k = 0; k < m.noob; k++)
        if (m.oob_raw[k] != 0.0f && m.oob_raw[k] != 1.0f)
            fail_msg("stored OOB probability %g, expected 0 or 1", m.oob_raw[k]);
    ASSERT_NEAR(m.oob.auc, 1.0, 0);
    free(X);
    model_cleanup(&m);
    frame_free(f);
}

/* Which way a category goes at a categorical node. */
static int cat_left(const struct model *m, const struct tree *tr, const struct tnode *nd, size_t j,
                    const char *label)
{
    const struct feature *ft = &m->schema.feat[j];
    for (unsigned k = 0; k < ft->nbins; k++)
        if (strcmp(ft->cats[k], label) == 0)
            return tnode_goes_left(tr, nd, k + 1);
    fail_msg("feature '%s' has no category '%s'", ft->name, label);
    return -1;
}

/* Alpha and Charlie convert, Bravo and Delta never do: the root is a
 * categorical split putting Alpha and Charlie on one side. */
static void test_root_categorical_split(void **state)
{
    (void)state;
    static struct text t;
    t.n = 0;
    add(&t, "Plan,Noise,Converted\n");
    static const char *const plan[] = {"Alpha", "Bravo", "Charlie", "Delta"};
    static const int count[] = {120, 100, 80, 60}, pos[] = {1, 0, 1, 0};
    struct rng r;
    rng_seed(&r, 6);
    /* interleaved so that no category sits in one block of rows */
    for (int rep = 0; rep < 120; rep++)
        for (int c = 0; c < 4; c++)
            if (rep < count[c])
                add(&t, "%s,%.2f,%d\n", plan[c], rng_uniform(&r) * 50, pos[c]);
    struct frame *f = tu_frame_mem(t.b);
    struct train_opts o;
    small_opts(&o, 3, 2, 42);
    o.forest.mtry = 2;
    o.forest.min_leaf = 1;
    o.include_leaky = 1; /* the split column gives the outcome away: the point here */
    struct model m;
    train_ok(f, &o, &m);

    size_t jp = tu_feature_index(&m, "Plan");
    assert_int_equal(m.schema.feat[jp].kind, FEAT_CATEGORICAL);
    assert_int_equal(m.schema.feat[jp].nbins, 4);
    for (uint32_t i = 0; i < m.forest.ntrees; i++) {
        const struct tree *tr = &m.forest.trees[i];
        const struct tnode *root = &tr->nodes[0];
        assert_int_equal(root->kind, TNODE_CATEGORICAL);
        assert_int_equal(root->feat, jp);
        assert_true(root->arg < tr->ncatsets);
        int a = cat_left(&m, tr, root, jp, "Alpha"), b = cat_left(&m, tr, root, jp, "Bravo");
        int c = cat_left(&m, tr, root, jp, "Charlie"), d = cat_left(&m, tr, root, jp, "Delta");
        if (!(a == c && b == d && a != b))
            fail_msg("tree %u: left side Alpha %d Bravo %d Charlie %d Delta %d; expected "
                     "{Alpha, Charlie} apart from {Bravo, Delta}",
                     i, a, b, c, d);
        const struct tnode *l = &tr->nodes[root->left], *rt = &tr->nodes[root->left + 1];
        assert_int_equal(l->kind, TNODE_LEAF);
        assert_int_equal(rt->kind, TNODE_LEAF);
        ASSERT_NEAR(l->value, a ? 1.0 : 0.0, 0);
        ASSERT_NEAR(rt->value, a ? 0.0 : 1.0, 0);
    }
    model_cleanup(&m);
    frame_free(f);
}

/* ---- 3. out-of-bag versus holdout on Leads.csv ---------------------------- */

static void test_leads_oob_matches_holdout(void **state)
{
    (void)state;
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_file(tu_leads_csv(), &fo, &f, &err);
    if (rc)
        fail_msg("reading Leads.csv failed (%d): %s", rc, err.msg);
    struct train_opts o;
    train_opts_default(&o);
    o.holdout = 0.2;
    o.forest.threads = 2;
    struct model m;
    struct train_summary sum;
    rc = app_train(f, &o, &m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    train_summary_cleanup(&sum);
    assert_int_equal(m.has_holdout, 1);
    assert_int_equal(sum.train_rows + sum.holdout_rows, sum.labelled);
    assert_in_range(sum.holdout_rows, sum.labelled * 17 / 100, sum.labelled * 23 / 100);
    assert_int_equal(m.holdout.n, sum.holdout_rows);
    /* with 100 trees every training row is out of bag for some of them */
    assert_int_equal(m.oob.n, sum.train_rows);
    fprintf(stderr, "  Leads.csv: OOB AUC %.4f, holdout AUC %.4f\n", m.oob.auc, m.holdout.auc);
    assert_true(m.oob.auc > 0.9 && m.holdout.auc > 0.9);
    ASSERT_NEAR(m.oob.auc, m.holdout.auc, 0.01);
    model_cleanup(&m);
    frame_free(f);
}

/* ---- 4. calibration ------------------------------------------------------- */

static void check_calib_monotone(const struct calib *c)
{
    assert_true(c->n >= 1 && c->n <= CALIB_MAX_KNOTS);
    for (uint32_t k = 0; k < c->n; k++) {
        if (!(c->y[k] >= 0 && c->y[k] <= 1 && c->x[k] >= 0 && c->x[k] <= 1))
            fail_msg("knot %u = (%g, %g) is outside [0, 1]", k, c->x[k], c->y[k]);
        if (k > 0 && !(c->x[k] > c->x[k - 1]))
            fail_msg("x[%u] = %.17g does not exceed x[%u] = %.17g", k, c->x[k], k - 1, c->x[k - 1]);
        if (k > 0 && !(c->y[k] >= c->y[k - 1]))
            fail_msg("y[%u] = %.17g is below y[%u] = %.17g", k, c->y[k], k - 1, c->y[k - 1]);
    }
    double prev = -1;
    for (int i = 0; i <= 10000; i++) {
        double v = calib_apply(c, i / 10000.0);
        if (!(v >= 0 && v <= 1 && v >= prev))
            fail_msg("calib_apply(%g) = %.17g (previous %.17g)", i / 10000.0, v, prev);
        prev = v;
    }
}

/* The map a trained model carries is monotone and in [0, 1]. */
static void test_trained_calibration_monotone(void **state)
{
    (void)state;
    struct frame *f = demo_frame(3000, 12);
    struct train_opts o;
    small_opts(&o, 20, 2, 3);
    struct model m;
    train_ok(f, &o, &m);
    assert_true(m.calib.n >= 3);
    check_calib_monotone(&m.calib);
    /* the map spans the observed rates: it starts below the base rate and
     * ends above it (the demo data has real signal) */
    double base = (double)m.oob.npos / (double)m.oob.n;
    if (!(m.calib.y[0] < base && m.calib.y[m.calib.n - 1] > base))
        fail_msg("calibration runs from %g to %g; base rate %g", m.calib.y[0],
                 m.calib.y[m.calib.n - 1], base);
    model_cleanup(&m);
    frame_free(f);
}

/* Pool-adjacent-violators on a hand-made example (ties in p give fractional
 * rates). By raw value: 0.1 -> {0,0,1}, 0.2 -> {0}, 0.3 -> {1,1,0,1},
 * 0.4 -> {1,0}, 0.5 -> {1}. The violators 1/3 > 0 and 3/4 > 1/2 pool, so
 * the fit is 1/4 for 0.1 and 0.2, 2/3 for 0.3 and 0.4, 1 for 0.5, with knots
 * at the blocks' mean raw values 0.125, 1/3 and 0.5. */
static void test_isotonic_textbook(void **state)
{
    (void)state;
    /* shuffled, with a NaN that must be skipped */
    const double p[] = {0.3, 0.1, 0.5, NAN, 0.4, 0.3, 0.1, 0.2, 0.3, 0.4, 0.1, 0.3};
    const uint8_t y[] = {1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1};
    struct calib c;
    calib_fit_ends(p, y, sizeof y, 1, &c); /* plain PAVA: no end pooling */
    assert_int_equal(c.n, 3);
    ASSERT_NEAR(c.x[0], 0.125, 1e-12);
    ASSERT_NEAR(c.x[1], 1.0 / 3, 1e-12);
    ASSERT_NEAR(c.x[2], 0.5, 1e-12);
    ASSERT_NEAR(c.y[0], 0.25, 1e-12);
    ASSERT_NEAR(c.y[1], 2.0 / 3, 1e-12);
    ASSERT_NEAR(c.y[2], CALIB_MAX_P, 1e-12); /* the rate 1 of one lead, clipped */
    /* clamped outside the knots, linear between them */
    ASSERT_NEAR(calib_apply(&c, 0.0), 0.25, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 0.1), 0.25, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 0.9), CALIB_MAX_P, 1e-12);
    ASSERT_NEAR(calib_apply(&c, (0.125 + 1.0 / 3) / 2), (0.25 + 2.0 / 3) / 2, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 1.0 / 3), 2.0 / 3, 1e-12);
    check_calib_monotone(&c);
    calib_cleanup(&c);

    /* end blocks of at least 4 rows: the last block (0.5 -> {1}, one row)
     * pools with its neighbour (6 rows at 2/3) into 5/7 at mean raw 2.5/7;
     * the first block already has 4 rows and stays */
    calib_fit_ends(p, y, sizeof y, 4, &c);
    assert_int_equal(c.n, 2);
    ASSERT_NEAR(c.x[0], 0.125, 1e-12);
    ASSERT_NEAR(c.y[0], 0.25, 1e-12);
    ASSERT_NEAR(c.x[1], 2.5 / 7, 1e-12);
    ASSERT_NEAR(c.y[1], 5.0 / 7, 1e-12);
    check_calib_monotone(&c);
    calib_cleanup(&c);

    /* already increasing: no pooling, one knot per distinct value */
    const double p2[] = {0.2, 0.4, 0.6, 0.6};
    const uint8_t y2[] = {0, 0, 1, 0};
    calib_fit_ends(p2, y2, 4, 1, &c);
    assert_int_equal(c.n, 2);
    ASSERT_NEAR(c.x[0], 0.3, 1e-12);
    ASSERT_NEAR(c.y[0], CALIB_MIN_P, 0); /* the rate 0, clipped */
    ASSERT_NEAR(c.x[1], 0.6, 1e-12);
    ASSERT_NEAR(c.y[1], 0.5, 1e-12);
    calib_cleanup(&c);

    /* fully reversed: everything pools into one block at the base rate */
    const double p3[] = {0.1, 0.2, 0.3, 0.4};
    const uint8_t y3[] = {1, 1, 0, 0};
    calib_fit_ends(p3, y3, 4, 1, &c);
    assert_int_equal(c.n, 1);
    ASSERT_NEAR(c.y[0], 0.5, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 0.0), 0.5, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 1.0), 0.5, 1e-12);
    calib_cleanup(&c);

    /* nothing usable: the identity */
    const double p4[] = {NAN, NAN};
    const uint8_t y4[] = {1, 0};
    calib_fit(p4, y4, 2, &c);
    ASSERT_NEAR(calib_apply(&c, 0.37), 0.37, 1e-12);
    ASSERT_NEAR(calib_apply(&c, 0.0), CALIB_MIN_P, 0); /* even the identity is clipped */
    ASSERT_NEAR(calib_apply(&c, 1.0), CALIB_MAX_P, 0);
    calib_cleanup(&c);
}

/* A weak model (AUC about 0.6) whose lowest raw lead did not convert and
 * whose highest did: plain PAVA makes one-lead end blocks at exactly 0 and
 * 1, i.e. scores of 0.0 and 100.0. With end pooling each end block holds at
 * least CALIB_MIN_END_ROWS leads, so its rate is a real average, and every
 * likelihood is within [CALIB_MIN_P, CALIB_MAX_P]. */
static void test_calibration_weak_model_ends(void **state)
{
    (void)state;
    enum { N = 3000 };
    double *p = malloc(N * sizeof *p);
    uint8_t *y = malloc(N);
    struct rng r;
    rng_seed(&r, 23);
    for (int i = 0; i < N; i++) {
        p[i] = 0.2 + 0.4 * (double)i / N;                               /* raw, increasing */
        y[i] = (uint8_t)(rng_uniform(&r) < 0.25 + 0.2 * (double)i / N); /* weak signal */
    }
    y[0] = 0;
    y[N - 1] = 1;
    struct calib c;
    calib_fit_ends(p, y, N, 1, &c); /* what training did before: the ends are 0 and 1 */
    assert_true(c.y[0] <= CALIB_MIN_P && c.y[c.n - 1] >= CALIB_MAX_P);
    calib_cleanup(&c);

    calib_fit(p, y, N, &c);
    check_calib_monotone(&c);
    double lo = calib_apply(&c, 0.0), hi = calib_apply(&c, 1.0);
    if (!(lo > 0.05 && lo < 0.4 && hi > 0.3 && hi < 0.8))
        fail_msg("weak model's ends map to %g and %g; want rates near 0.25 and 0.45", lo, hi);
    for (int i = 0; i <= 100; i++) {
        double v = calib_apply(&c, i / 100.0);
        assert_true(v >= CALIB_MIN_P && v <= CALIB_MAX_P);
    }
    calib_cleanup(&c);
    free(p);
    free(y);
}

/* Many blocks: the map is thinned to CALIB_MAX_KNOTS and stays monotone. */
static void test_calibration_many_knots(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *p = malloc(N * sizeof *p);
    uint8_t *y = malloc(N);
    struct rng r;
    rng_seed(&r, 17);
    for (int i = 0; i < N; i++) {
        p[i] = (double)i / N;
        y[i] = (uint8_t)(rng_uniform(&r) < p[i] * p[i]);
    }
    struct calib c;
    calib_fit(p, y, N, &c);
    assert_true(c.n > 2);
    check_calib_monotone(&c);
    /* the fit tracks p^2 loosely at the top and bottom */
    assert_true(calib_apply(&c, 0.05) < 0.1);
    assert_true(calib_apply(&c, 0.95) > 0.7);
    calib_cleanup(&c);
    free(p);
    free(y);
}

/* ---- 11. honest training: outcomes, junk, exclusions, score range ----------- */

/* n rows: Visits (weak signal), Segment, "Price, EUR", Time (numeric with
 * junk every junk_every rows, 0: none) and Converted (pos of every 10 rows
 * positive, the rest negative; -1 for a noisy weak signal, plus two rare
 * segments of a handful of leads that all convert / none do). */
static struct frame *honest_frame(unsigned n, int pos, unsigned junk_every)
{
    struct buf b;
    buf_init(&b, 1u << 22);
    buf_puts(&b, "Visits,Segment,\"Price, EUR\",Time,Converted\n");
    struct rng r;
    rng_seed(&r, 99);
    for (unsigned i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        int y = pos >= 0 ? (int)(i % 10) < pos : rng_uniform(&r) < 0.1 + 0.5 * u;
        char t[32];
        if (junk_every && i % junk_every == 3)
            snprintf(t, sizeof t, "unknown");
        else
            snprintf(t, sizeof t, "%.1f", rng_uniform(&r) * 600);
        const char *seg = (const char *[]){"A", "B", "C"}[i % 3];
        if (pos < 0 && i % 375 < 2) { /* a rare segment that always (never) converts */
            seg = i % 375 ? "Q" : "Z";
            y = i % 375 == 0;
        }
        buf_printf(&b, "%d,%s,%.2f,%s,%d\n", (int)(u * 20), seg, 10 + rng_uniform(&r) * 90, t, y);
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    return f;
}

static int train_rc(const struct frame *f, const struct train_opts *o, struct model *m,
                    struct train_summary *sum, char *msg, size_t cap)
{
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(f, o, m, sum, &err);
    snprintf(msg, cap, "%s", err.msg);
    return rc;
}

/* Fewer than 50 labelled leads, or fewer than 10 of either outcome, is an
 * error that gives the counts and what is needed; under 200 a warning says
 * the metrics are rough. Before, 3 rows trained and printed AUC 0. */
/* Settings that leave a model hollow train, but say so: no tree could split,
 * too few trees for out-of-bag metrics, more features per split than exist. */
static void test_train_hollow_settings(void **state)
{
    (void)state;
    struct frame *f = honest_frame(300, 3, 0);
    struct model m;
    struct train_summary sum;
    char msg[512];
    struct {
        uint32_t trees, min_leaf, mtry;
        const char *says;
    } cases[] = {
        {10, 100000, 0, "no tree could split"},
        {5, 0, 0, "5 trees: each lead's out-of-bag score"},
        {10, 0, 1000, "--mtry 1000 is more than"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct train_opts o;
        small_opts(&o, cases[c].trees, 2, 1);
        o.forest.min_leaf = cases[c].min_leaf;
        o.forest.mtry = cases[c].mtry;
        if (train_rc(f, &o, &m, &sum, msg, sizeof msg))
            fail_msg("app_train failed: %s", msg);
        int found = 0;
        for (size_t k = 0; k < sum.nwarnings; k++)
            found |= strstr(sum.warnings[k], cases[c].says) != NULL;
        if (!found)
            fail_msg("case %zu: no warning saying '%s' (%zu warnings)", c, cases[c].says,
                     sum.nwarnings);
        train_summary_cleanup(&sum);
        model_cleanup(&m);
    }
    frame_free(f);
}

static void test_train_too_few_outcomes(void **state)
{
    (void)state;
    struct train_opts o;
    small_opts(&o, 10, 2, 1);
    struct model m;
    struct train_summary sum;
    char msg[512];

    struct frame *f = honest_frame(40, 5, 0); /* 40 labelled, 20 positive */
    assert_int_equal(train_rc(f, &o, &m, &sum, msg, sizeof msg), LS_EINPUT);
    if (!strstr(msg, "only 40 leads have a known outcome") || !strstr(msg, "at least 50"))
        fail_msg("message '%s'", msg);
    frame_free(f);

    f = honest_frame(300, 0, 0); /* no positive among 300 */
    assert_int_equal(train_rc(f, &o, &m, &sum, msg, sizeof msg), LS_EONE_CLASS);
    frame_free(f);

    /* 80 leads, 8 positive: too few of one outcome */
    f = honest_frame(80, 1, 0);
    assert_int_equal(train_rc(f, &o, &m, &sum, msg, sizeof msg), LS_EINPUT);
    if (!strstr(msg, "only 8 of the 80") || !strstr(msg, "at least 10 of each"))
        fail_msg("message '%s'", msg);
    frame_free(f);

    /* 120 leads, 36 positive: trains, with a warning */
    f = honest_frame(120, 3, 0);
    if (train_rc(f, &o, &m, &sum, msg, sizeof msg))
        fail_msg("app_train failed: %s", msg);
    assert_int_equal(sum.nwarnings, 1);
    if (!strstr(sum.warnings[0], "only 120 leads") || !strstr(sum.warnings[0], "rough"))
        fail_msg("warning '%s'", sum.warnings[0]);
    model_cleanup(&m);
    train_summary_cleanup(&sum);
    frame_free(f);

    /* 200: no warning */
    f = honest_frame(200, 3, 0);
    if (train_rc(f, &o, &m, &sum, msg, sizeof msg))
        fail_msg("app_train failed: %s", msg);
    assert_int_equal(sum.nwarnings, 0);
    model_cleanup(&m);
    train_summary_cleanup(&sum);
    frame_free(f);
}

/* A numeric feature with a little junk: training warns naming it, and
 * scoring reads the junk as missing — in a file typed like the training one
 * and in one with so much junk that it reads as categories (bins.c's side). */
static void test_train_numeric_junk(void **state)
{
    (void)state;
    struct frame *f = honest_frame(1000, -1, 40); /* "unknown" in 2.5 % of Time */
    assert_int_equal(f->cols[tu_col(f, "Time")].type, COL_NUMERIC);
    struct train_opts o;
    small_opts(&o, 10, 2, 1);
    struct model m;
    struct train_summary sum;
    char msg[512];
    if (train_rc(f, &o, &m, &sum, msg, sizeof msg))
        fail_msg("app_train failed: %s", msg);
    assert_int_equal(sum.nwarnings, 1);
    if (!strstr(sum.warnings[0], "'Time'") || !strstr(sum.warnings[0], "25 values") ||
        !strstr(sum.warnings[0], "\"unknown\""))
        fail_msg("warning '%s'", sum.warnings[0]);
    train_summary_cleanup(&sum);
    size_t jt = tu_feature_index(&m, "Time");
    assert_int_equal(m.schema.feat[jt].kind, FEAT_NUMERIC);
    for (int pass = 0; pass < 2; pass++) {
        struct frame *g = pass ? honest_frame(300, -1, 4) : f; /* 25 % junk: categorical */
        if (pass)
            assert_int_equal(g->cols[tu_col(g, "Time")].type, COL_CATEGORICAL);
        uint8_t *X = malloc(m.schema.nfeat * g->nrows);
        struct bin_report rep;
        bins_apply(&m.schema, g, X, &rep);
        for (uint64_t r = 0; r < g->nrows; r++) {
            int junk = strcmp(frame_cell(g, tu_col(g, "Time"), r), "unknown") == 0;
            if (junk && X[jt * g->nrows + r] != BINS_MISSING)
                fail_msg("pass %d row %llu: 'unknown' binned as %u", pass, (unsigned long long)r,
                         X[jt * g->nrows + r]);
            if (!junk && X[jt * g->nrows + r] == BINS_MISSING)
                fail_msg("pass %d row %llu: a number binned as missing", pass,
                         (unsigned long long)r);
        }
        bins_report_cleanup(&rep);
        free(X);
        if (pass)
            frame_free(g);
    }
    model_cleanup(&m);
    frame_free(f);
}

/* --exclude: entries accumulate, names are trimmed and matched without case
 * (as scoring matches columns), an entry that is a whole column name is that
 * column even with a comma in it, other entries are comma-separated lists. */
static void test_exclude_names(void **state)
{
    (void)state;
    struct frame *f = honest_frame(60, 5, 0);
    long target = (long)tu_col(f, "Converted");
    struct train_opts o;
    train_opts_default(&o);
    struct train_features tf;
    struct ls_error err;

    o.exclude[o.nexclude++] = " visits ";
    o.exclude[o.nexclude++] = "Price, EUR"; /* a name with a comma, given whole */
    ls_error_clear(&err);
    assert_int_equal(train_features_select(f, target, &o, &tf, &err), LS_OK);
    assert_int_equal(tf.ncols, 2); /* Segment, Time */
    assert_int_equal(tf.cols[0], tu_col(f, "Segment"));
    assert_int_equal(tf.cols[1], tu_col(f, "Time"));
    train_features_cleanup(&tf);

    train_opts_default(&o);
    o.exclude[o.nexclude++] = "Visits, segment"; /* a list, with a space after the comma */
    o.exclude[o.nexclude++] = "TIME";
    ls_error_clear(&err);
    assert_int_equal(train_features_select(f, target, &o, &tf, &err), LS_OK);
    assert_int_equal(tf.ncols, 1);
    assert_int_equal(tf.cols[0], tu_col(f, "Price, EUR"));
    train_features_cleanup(&tf);

    train_opts_default(&o);
    o.exclude[o.nexclude++] = "Visits,Nope";
    ls_error_clear(&err);
    assert_int_equal(train_features_select(f, target, &o, &tf, &err), LS_ENOT_FOUND);
    if (!strstr(err.msg, "'Nope'") || !strstr(err.msg, "given whole"))
        fail_msg("message '%s'", err.msg);
    frame_free(f);
}

/* A weak model (AUC near 0.6) scores every lead within 1..99, through the
 * whole path (train, calibrate, score). A guard for the wiring: the forest
 * averages its trees, so this data does not reach 0 or 100 even without the
 * end pooling; test_calibration_weak_model_ends is the test that fails
 * without it. */
static void test_weak_model_scores_within_1_99(void **state)
{
    (void)state;
    struct frame *f = honest_frame(400, -1, 0);
    struct train_opts o;
    small_opts(&o, 30, 2, 4);
    o.forest.min_leaf = 1;
    struct model m;
    train_ok(f, &o, &m);
    struct score_result res;
    tu_score_ok(&m, f, &res);
    double lo = 100, hi = 0;
    for (uint64_t r = 0; r < res.n; r++) {
        lo = res.score[r] < lo ? res.score[r] : lo;
        hi = res.score[r] > hi ? res.score[r] : hi;
    }
    printf("  weak model: out-of-bag AUC %.3f, scores from %.1f to %.1f\n", m.oob.auc, lo, hi);
    if (!(lo >= 1.0 && hi <= 99.0))
        fail_msg("scores from %g to %g, outside 1..99", lo, hi);
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

/* ---- 10. metrics ----------------------------------------------------------- */

static void test_metrics_auc(void **state)
{
    (void)state;
    const double p[] = {0.9, 0.8, 0.7, 0.2, 0.1};
    const uint8_t y[] = {1, 1, 1, 0, 0}, yr[] = {0, 0, 0, 1, 1};
    struct metrics m;
    metrics_compute(p, y, 5, &m);
    ASSERT_NEAR(m.auc, 1.0, 0);
    ASSERT_NEAR(metrics_auc(p, y, 5), 1.0, 0);
    metrics_compute(p, yr, 5, &m);
    ASSERT_NEAR(m.auc, 0.0, 0);
    const double tie[] = {0.4, 0.4, 0.4, 0.4};
    const uint8_t yt[] = {1, 0, 0, 1};
    ASSERT_NEAR(metrics_auc(tie, yt, 4), 0.5, 0);
    /* partial tie: pos 0.8 and 0.5, neg 0.5 and 0.2 -> (1 + 1 + 0.5 + 1) / 4 */
    const double pp[] = {0.5, 0.2, 0.8, 0.5};
    const uint8_t yp[] = {0, 0, 1, 1};
    ASSERT_NEAR(metrics_auc(pp, yp, 4), 0.875, 1e-15);
    /* NaN entries are skipped; one class gives NaN */
    const double pn[] = {0.9, NAN, 0.1};
    const uint8_t yn[] = {1, 0, 0};
    ASSERT_NEAR(metrics_auc(pn, yn, 3), 1.0, 0);
    metrics_compute(pn, yn, 3, &m);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.npos, 1);
    const uint8_t yone[] = {1, 1, 1};
    assert_true(isnan(metrics_auc(p, yone, 3)));
}

/* Log-loss and Brier on a four-row example computed by hand. */
static void test_metrics_losses(void **state)
{
    (void)state;
    const double p[] = {0.8, 0.4, 0.3, 0.1};
    const uint8_t y[] = {1, 1, 0, 0};
    struct metrics m;
    metrics_compute(p, y, 4, &m);
    double ll = -(log(0.8) + log(0.4) + log(0.7) + log(0.9)) / 4;
    double br = (0.04 + 0.36 + 0.09 + 0.01) / 4;
    ASSERT_NEAR(m.logloss, ll, 1e-12);
    ASSERT_NEAR(m.brier, br, 1e-12);
    ASSERT_NEAR(m.base_rate, 0.5, 0);
    /* top 10 % of 4 rows is 1 row (0.8, positive); top 20 % also 1 row */
    ASSERT_NEAR(m.precision_top10, 1.0, 0);
    ASSERT_NEAR(m.recall_top10, 0.5, 0);
    ASSERT_NEAR(m.precision_top20, 1.0, 0);
}

/* Deciles hold every row once: cal_n sums to n, lift x rows sums to n,
 * observed x rows sums to the positives, predicted x rows to sum(p). */
static void check_deciles(uint64_t n, uint64_t seed, int perfect)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    uint8_t *y = malloc(n ? n : 1);
    struct rng r;
    rng_seed(&r, seed);
    double sp = 0;
    uint64_t npos = 0;
    for (uint64_t i = 0; i < n; i++) {
        p[i] = rng_uniform(&r);
        y[i] = perfect ? p[i] > 0.6 : (uint8_t)(rng_uniform(&r) < p[i]);
        sp += p[i];
        npos += y[i];
    }
    struct metrics m;
    metrics_compute(p, y, n, &m);
    assert_int_equal(m.n, n);
    assert_int_equal(m.npos, npos);
    uint64_t cn = 0;
    double lift_rows = 0, obs_rows = 0, pred_rows = 0;
    for (int d = 0; d < METRICS_DECILES; d++) {
        cn += m.cal_n[d];
        if (m.cal_n[d] == 0)
            continue;
        lift_rows += m.lift[d] * (double)m.cal_n[d];
        obs_rows += m.cal_obs[d] * (double)m.cal_n[d];
        pred_rows += m.cal_pred[d] * (double)m.cal_n[d];
        if (d > 0 && m.cal_n[d - 1] > 0 && !(m.cal_pred[d] <= m.cal_pred[d - 1]))
            fail_msg("decile %d predicts %g, above decile %d's %g", d, m.cal_pred[d], d - 1,
                     m.cal_pred[d - 1]);
    }
    assert_int_equal(cn, n);
    if (npos > 0)
        ASSERT_NEAR(lift_rows, (double)n, 1e-6 * (double)n);
    ASSERT_NEAR(obs_rows, (double)npos, 1e-6 * (double)n);
    ASSERT_NEAR(pred_rows, sp, 1e-6 * (double)n);
    if (perfect && npos > 0 && npos < n) {
        ASSERT_NEAR(m.auc, 1.0, 0);
        ASSERT_NEAR(m.lift[0], (double)n / (double)npos, 1e-9 * (double)n);
    }
    free(p);
    free(y);
}

static void test_metrics_deciles(void **state)
{
    (void)state;
    check_deciles(1000, 1, 0);
    check_deciles(1000, 2, 1);
    check_deciles(37, 3, 0);
    check_deciles(7, 4, 0); /* fewer rows than deciles: some are empty */
}

/* ---- 8. training rows get their out-of-bag score -------------------------- */

/* Scoring the training file: every labelled row (distinct once binned) gets
 * the out-of-bag probability the forest computed for it, rows without an
 * outcome are scored by all trees. 40 trees, so that no row is in every
 * bootstrap (chance 0.632^40 per row). */
static void test_training_rows_get_oob(void **state)
{
    (void)state;
    char *text = tu_demo_text(1200, 21);
    struct frame *tf = tu_frame_mem(text);
    struct train_opts o;
    small_opts(&o, 40, 2, 5);
    struct model model;
    train_ok(tf, &o, &model);
    const struct model *m = &model;
    struct score_result res;
    tu_score_ok(m, tf, &res);
    uint64_t n = res.n, nl = 0;
    size_t nf = res.nfeat;
    for (uint64_t r = 0; r < n; r++)
        nl += res.label[r] >= 0;
    assert_int_equal(nl, m->train_rows);
    /* the rows are distinct once binned (else they would share a key) */
    uint64_t *keys = malloc(nl * sizeof *keys);
    for (uint64_t r = 0, k = 0; r < n; r++)
        if (res.label[r] >= 0)
            keys[k++] = model_row_key(res.X, n, r, nf, res.label[r]);
    for (uint64_t a = 0; a < nl; a++)
        for (uint64_t b = a + 1; b < nl; b++)
            assert_true(keys[a] != keys[b]);
    free(keys);
    assert_int_equal(m->noob, nl);
    assert_int_equal(res.oob_rows, nl);

    /* the out-of-bag probabilities themselves, from the same forest grown
     * again on the same rows (forest_train is deterministic) */
    uint8_t *X = malloc(nf * nl), *y = malloc(nl), *is_cat = malloc(nf);
    uint16_t *nbins = malloc(nf * sizeof *nbins);
    double *oob = malloc(nl * sizeof *oob);
    for (uint64_t r = 0, k = 0; r < n; r++)
        if (res.label[r] >= 0) {
            y[k] = (uint8_t)res.label[r];
            for (size_t j = 0; j < nf; j++)
                X[j * nl + k] = res.X[j * n + r];
            k++;
        }
    for (size_t j = 0; j < nf; j++) {
        is_cat[j] = m->schema.feat[j].kind == FEAT_CATEGORICAL;
        nbins[j] = m->schema.feat[j].nbins;
    }
    struct forest again;
    struct ls_error err;
    assert_int_equal(
        forest_train(X, nl, (uint32_t)nf, y, is_cat, nbins, &o.forest, &again, oob, &err), LS_OK);
    assert_int_equal(again.ntrees, m->forest.ntrees);
    for (uint32_t i = 0; i < again.ntrees; i++)
        assert_memory_equal(again.trees[i].nodes, m->forest.trees[i].nodes,
                            again.trees[i].nnodes * sizeof *again.trees[i].nodes);
    for (uint64_t r = 0, k = 0; r < n; r++) {
        if (res.label[r] < 0) {
            /* no outcome: never out of bag, scored by every tree */
            assert_int_equal(res.oob[r], 0);
            ASSERT_SAME_BITS(res.raw[r], forest_predict_row(&m->forest, res.X, n, r));
            continue;
        }
        assert_int_equal(res.oob[r], 1);
        assert_false(isnan(oob[k]));
        /* the mean of the trees that did not draw it (in-bag sets), as forest_train's
         * out-of-bag sum had it in fixed point */
        ASSERT_NEAR(res.raw[r], oob[k], 1e-9);
        k++;
    }
    for (uint64_t r = 0; r < n; r++)
        ASSERT_SAME_BITS(res.score[r], 100.0 * calib_apply(&m->calib, res.raw[r]));
    forest_cleanup(&again);
    free(X);
    free(y);
    free(is_cat);
    free(nbins);
    free(oob);
    score_result_cleanup(&res);

    /* a training row in another file keeps its OOB score; with its outcome
     * flipped it is another lead, scored by all trees */
    char header[512], line[512], flipped[512];
    uint64_t row = 0;
    while (frame_is_missing(tf, tu_col(tf, "Converted"), row))
        row++;
    tu_text_line(text, row + 1, line, sizeof line);
    size_t ll = strlen(line);
    assert_true(line[ll - 1] == '0' || line[ll - 1] == '1');
    snprintf(flipped, sizeof flipped, "%.*s%c", (int)(ll - 1), line,
             line[ll - 1] == '0' ? '1' : '0');
    tu_text_line(text, 0, header, sizeof header);
    static char csv[2048];
    snprintf(csv, sizeof csv, "%s\n%s\n%s\n", header, flipped, line);
    struct frame *f = tu_frame_mem(csv);
    tu_score_ok(m, f, &res);
    assert_int_equal(res.oob_rows, 1);
    assert_int_equal(res.oob[0], 0);
    assert_int_equal(res.oob[1], 1);
    ASSERT_SAME_BITS(res.raw[0], forest_predict_row(&m->forest, res.X, 2, 0));
    double stored = model_oob_lookup(m, model_row_key(res.X, 2, 1, nf, res.label[1]));
    assert_false(isnan(stored));
    ASSERT_NEAR(res.raw[1], stored, 1e-6); /* stored as a float */
    score_result_cleanup(&res);
    frame_free(f);
    model_cleanup(&model);
    frame_free(tf);
    free(text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_file),
        cmocka_unit_test(test_forest_threads_identical),
        cmocka_unit_test(test_forest_pinned),
        cmocka_unit_test(test_balanced_oob_threads),
        cmocka_unit_test(test_root_ordered_split),
        cmocka_unit_test(test_root_categorical_split),
        cmocka_unit_test(test_trained_calibration_monotone),
        cmocka_unit_test(test_isotonic_textbook),
        cmocka_unit_test(test_calibration_many_knots),
        cmocka_unit_test(test_calibration_weak_model_ends),
        cmocka_unit_test(test_train_too_few_outcomes),
        cmocka_unit_test(test_train_hollow_settings),
        cmocka_unit_test(test_train_numeric_junk),
        cmocka_unit_test(test_exclude_names),
        cmocka_unit_test(test_weak_model_scores_within_1_99),
        cmocka_unit_test(test_metrics_auc),
        cmocka_unit_test(test_metrics_losses),
        cmocka_unit_test(test_metrics_deciles),
        cmocka_unit_test(test_training_rows_get_oob),
    };
    const struct CMUnitTest leads_tests[] = {
        cmocka_unit_test(test_leads_oob_matches_holdout),
    };
    return TU_MAIN_SPLIT(argc, argv, "forest", tests, NULL, NULL, leads_tests, NULL, NULL);
}
