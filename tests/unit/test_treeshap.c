/*
 * test_treeshap.c — TreeSHAP against brute-force Shapley values, and local
 * accuracy (base + contributions = raw) on real data.
 *
 * The brute force enumerates every subset S of the features and evaluates
 * the path-dependent conditional expectation E[f | x_S] directly: at a split
 * on a feature in S follow the row, otherwise average the two children by
 * their training cover — and average them too when the row's value is
 * unknown at that split (tree.h: an unseen category, or a missing value
 * where training had none), feature in S or not. Shapley weights |S|! (M-|S|-1)! / M! then give each
 * feature's value; TreeSHAP must match them to 1e-9.
 */
#include "testutil.h"

#include "app/train.h"
#include "core/mem.h"
#include "core/rng.h"
#include "ml/bins.h"
#include "ml/treeshap.h"

#include <math.h>
#include <string.h>

static double cond_expect(const struct tree *t, uint32_t j, const uint8_t *x, unsigned S)
{
    const struct tnode *n = &t->nodes[j];
    if (n->kind == TNODE_LEAF)
        return n->value;
    if ((S >> n->feat & 1u) && !tnode_neutral(n, x[n->feat]))
        return cond_expect(t, n->left + !tnode_goes_left(t, n, x[n->feat]), x, S);
    /* unknown to the game (not in S) or to the tree (an unknown value): both sides */
    double c = n->cover, cl = t->nodes[n->left].cover, cr = t->nodes[n->left + 1].cover;
    return cl / c * cond_expect(t, n->left, x, S) + cr / c * cond_expect(t, n->left + 1, x, S);
}

static double fact(int k)
{
    double r = 1;
    for (int i = 2; i <= k; i++)
        r *= i;
    return r;
}

static void brute_force(const struct forest *f, const uint8_t *x, int M, double *phi)
{
    memset(phi, 0, (size_t)M * sizeof *phi);
    for (uint32_t ti = 0; ti < f->ntrees; ti++)
        for (int i = 0; i < M; i++)
            for (unsigned S = 0; S < (1u << M); S++) {
                if (S >> i & 1u)
                    continue;
                int s = __builtin_popcount(S);
                double wgt = fact(s) * fact(M - s - 1) / fact(M);
                phi[i] += wgt * (cond_expect(&f->trees[ti], 0, x, S | 1u << i) -
                                 cond_expect(&f->trees[ti], 0, x, S));
            }
    for (int i = 0; i < M; i++)
        phi[i] /= f->ntrees;
}

/* What lead x meets along its trees: splits where its value is unknown
 * (an unseen category; a missing value where training had none) and splits
 * where its missing value follows the learned side. */
struct meets {
    int unseen, missing_neutral, missing_learned;
};

static void count_meets(const struct tree *t, uint32_t j, const uint8_t *x, struct meets *m)
{
    const struct tnode *n = &t->nodes[j];
    if (n->kind == TNODE_LEAF)
        return;
    unsigned b = x[n->feat];
    if (tnode_neutral(n, b)) {
        m->unseen += b == BINS_UNSEEN;
        m->missing_neutral += b == BINS_MISSING;
        count_meets(t, n->left, x, m);
        count_meets(t, n->left + 1, x, m);
        return;
    }
    m->missing_learned += b == BINS_MISSING;
    count_meets(t, n->left + !tnode_goes_left(t, n, b), x, m);
}

/* Random small forests: up to 8 features (some categorical), depth <= 6;
 * the first 25 training rows, then 25 leads made from them with values the
 * model does not know: categories it never saw (BINS_UNSEEN) and blanks,
 * met at splits where training had missing rows and where it had none. */
static void test_matches_brute_force(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 99);
    int checked = 0;
    struct meets met = {0, 0, 0};
    for (int trial = 0; trial < 12; trial++) {
        uint32_t M = 2 + (uint32_t)rng_below(&r, 7), n = 300;
        uint8_t *X = xmalloc(M * n), *y = xmalloc(n), is_cat[8];
        uint16_t nbins[8];
        for (uint32_t f = 0; f < M; f++) {
            is_cat[f] = rng_below(&r, 3) == 0;
            nbins[f] = (uint16_t)(2 + rng_below(&r, 12));
            for (uint32_t k = 0; k < n; k++) /* bin 0 (missing) now and then */
                X[f * n + k] = rng_below(&r, 10) == 0 ? 0 : (uint8_t)(1 + rng_below(&r, nbins[f]));
        }
        for (uint32_t k = 0; k < n; k++) {
            double z = (X[k] > nbins[0] / 2) + (M > 1 && X[n + k] % 3 == 0) + rng_normal(&r) * 0.7;
            y[k] = z > 0.8;
        }
        struct forest_opts o;
        forest_opts_default(&o);
        o.trees = 3;
        o.max_depth = 6;
        o.min_leaf = 2;
        o.threads = 1;
        o.seed = (uint64_t)trial;
        struct forest f;
        struct ls_error err;
        if (forest_train(X, n, M, y, is_cat, nbins, &o, &f, NULL, &err))
            fail_msg("forest_train: %s", err.msg);
        enum { L = 50 };
        uint8_t leads[8 * L];
        for (uint32_t k = 0; k < L; k++)
            for (uint32_t j = 0; j < M; j++) {
                uint8_t v = X[j * n + k % 25];
                if (k >= 25 && rng_below(&r, 3) == 0)
                    v = is_cat[j] && rng_below(&r, 2) ? BINS_UNSEEN : BINS_MISSING;
                leads[j * L + k] = v;
            }
        struct treeshap *ts = treeshap_new(&f);
        struct treeshap_classic *sc = treeshap_classic_new(&f);
        double phi[L * 8], cl[8], bf[8], base[L], cbase;
        treeshap_rows(ts, leads, L, 0, L, NULL, 0, 2, phi, base);
        for (uint32_t k = 0; k < L; k++) {
            uint8_t x[8];
            for (uint32_t j = 0; j < M; j++)
                x[j] = leads[j * L + k];
            for (uint32_t ti = 0; ti < f.ntrees; ti++)
                count_meets(&f.trees[ti], 0, x, &met);
            brute_force(&f, x, (int)M, bf);
            treeshap_classic_row(&f, x, 1, 0, sc, cl, &cbase);
            double raw = forest_predict_row(&f, x, 1, 0), sum = base[k];
            for (uint32_t j = 0; j < M; j++) {
                ASSERT_NEAR(phi[k * M + j], bf[j], 1e-9);
                ASSERT_NEAR(cl[j], bf[j], 1e-9);
                sum += phi[k * M + j];
            }
            ASSERT_NEAR(sum, raw, 1e-9);
            ASSERT_NEAR(base[k], cbase, 1e-12);
            checked++;
        }
        treeshap_classic_free(sc);
        treeshap_free(ts);
        forest_cleanup(&f);
        free(X);
        free(y);
    }
    assert_int_equal(checked, 12 * 50);
    /* the leads did meet all three kinds of split */
    print_message("unseen %d, missing neutral %d, missing learned %d splits met\n", met.unseen,
                  met.missing_neutral, met.missing_learned);
    assert_true(met.unseen >= 20 && met.missing_neutral >= 20 && met.missing_learned >= 20);
}

/* Every lead of Leads.csv with the default model, every fifth with one
 * value made unknown: base + contributions = raw, to 1e-9 relative
 * (relative to max(raw, 0.001)); every 40th lead also against the classic
 * algorithm, feature by feature. */
static void test_local_accuracy_leads(void **state)
{
    (void)state;
    const char *path = tu_leads_csv();
    if (!path)
        skip();
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *fr;
    struct ls_error err;
    assert_int_equal(frame_read_file(path, &fo, &fr, &err), 0);
    struct train_opts to;
    train_opts_default(&to);
    to.forest.threads = 2;
    struct model m;
    struct train_summary sum;
    assert_int_equal(app_train(fr, &to, &m, &sum, &err), 0);
    train_summary_cleanup(&sum);
    size_t nf = m.schema.nfeat;
    uint64_t n = fr->nrows;
    uint8_t *X = xmalloc(nf * n);
    struct bin_report rep;
    bins_apply(&m.schema, fr, X, &rep);
    bins_report_cleanup(&rep);
    /* every fifth lead with one value the model does not know: a new
     * category, or a blank */
    for (uint64_t r = 1; r < n; r += 5) {
        size_t j = (size_t)(r / 5) % nf;
        X[j * n + r] = m.schema.feat[j].kind == FEAT_CATEGORICAL ? BINS_UNSEEN : BINS_MISSING;
    }
    double *raw = xmalloc(n * sizeof *raw), *phi = xmalloc(n * nf * sizeof *phi);
    double *base = xmalloc(n * sizeof *base), *cl = xmalloc(nf * sizeof *cl);
    forest_predict(&m.forest, X, n, raw, 2);
    struct treeshap *ts = treeshap_new(&m.forest);
    treeshap_rows(ts, X, n, 0, n, NULL, 0, 2, phi, base);
    struct treeshap_classic *sc = treeshap_classic_new(&m.forest);
    double worst = 0, worst_classic = 0;
    for (uint64_t r = 0; r < n; r++) {
        double s = base[r];
        for (size_t j = 0; j < nf; j++)
            s += phi[r * nf + j];
        /* relative, with a floor of 0.001 (0.1 point) under near-zero scores */
        double rel = fabs(s - raw[r]) / (fabs(raw[r]) > 1e-3 ? fabs(raw[r]) : 1e-3);
        if (rel > worst)
            worst = rel;
        if (r % 40 == 0) {
            double cbase;
            treeshap_classic_row(&m.forest, X, n, r, sc, cl, &cbase);
            for (size_t j = 0; j < nf; j++)
                if (fabs(cl[j] - phi[r * nf + j]) > worst_classic)
                    worst_classic = fabs(cl[j] - phi[r * nf + j]);
            ASSERT_NEAR(cbase, base[r], 1e-12);
        }
    }
    assert_int_equal(n, 9237);
    if (worst > 1e-9)
        fail_msg("worst relative error %.3g over %llu leads", worst, (unsigned long long)n);
    if (worst_classic > 1e-9)
        fail_msg("linear and classic TreeSHAP differ by %.3g", worst_classic);
    treeshap_classic_free(sc);
    treeshap_free(ts);
    free(raw);
    free(phi);
    free(base);
    free(cl);
    free(X);
    model_cleanup(&m);
    frame_free(fr);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_brute_force),
    };
    const struct CMUnitTest leads[] = {
        cmocka_unit_test(test_local_accuracy_leads),
    };
    return TU_MAIN_SPLIT(argc, argv, "treeshap", tests, NULL, NULL, leads, NULL, NULL);
}
