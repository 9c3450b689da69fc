/*
 * test_explain.c — app/explain: contributions that add up, reasons in the
 * lead's own words, the file's summary; and treeshap_rows' tree skipping,
 * thread count and row ranges, which the explanations rest on.
 *
 * On ../shared/data/Leads.csv (skipped when absent) with the CLI's default
 * model, and on generated leads: every lead's base + contributions is the
 * raw its score comes from, training leads (out of bag, their in-bag trees
 * left out) included; a lead the model never trained on (the file without its
 * outcome column) is explained to exactly the raw its score used; the
 * summary's importance and per-category counts and conversion rates are
 * recomputed from the frame. Reasons, values and the cut of long values run
 * on small generated files; explain_top on hand-made contributions; tree
 * skipping against forests built from only the kept trees.
 */
#include "testutil.h"

#include "app/explain.h"
#include "app/train.h"
#include "core/mem.h"
#include "core/rng.h"
#include "ml/treeshap.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MINUS "\xE2\x88\x92" /* U+2212 */
#define ARROW "\xE2\x86\x92" /* U+2192 */

/* ---- shared state: Leads.csv, its default model, two explained runs -------- */

struct leads {
    struct frame *f;  /* Leads.csv */
    struct frame *nt; /* Leads.csv without its outcome column */
    struct model m;
    struct score_result r, rn;   /* scored: f, nt */
    struct explain_result e, en; /* every lead of r, rn */
};

static void train_default(const struct frame *f, uint32_t trees, struct model *m)
{
    struct train_opts o;
    train_opts_default(&o); /* the CLI's defaults: 100 trees, seed 42 */
    o.forest.threads = 2;
    if (trees)
        o.forest.trees = trees;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(f, &o, m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    train_summary_cleanup(&sum);
}

static int leads_setup(void **state)
{
    *state = NULL;
    const char *path = tu_leads_csv();
    if (!path)
        return 0;
    struct leads *L = xcalloc(1, sizeof *L);
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct ls_error err;
    ls_error_clear(&err);
    if (frame_read_file(path, &fo, &L->f, &err)) {
        fprintf(stderr, "reading Leads.csv failed: %s\n", err.msg);
        return -1;
    }
    train_default(L->f, 0, &L->m);
    tu_score_ok(&L->m, L->f, &L->r);
    app_explain(&L->m, &L->r, 0, L->r.n, 2, &L->e);
    char *text = tu_frame_csv(L->f, L->m.target);
    L->nt = tu_frame_mem(text);
    free(text);
    tu_score_ok(&L->m, L->nt, &L->rn);
    app_explain(&L->m, &L->rn, 0, L->rn.n, 2, &L->en);
    *state = L;
    return 0;
}

static int leads_teardown(void **state)
{
    struct leads *L = *state;
    if (L) {
        explain_result_cleanup(&L->e);
        explain_result_cleanup(&L->en);
        score_result_cleanup(&L->r);
        score_result_cleanup(&L->rn);
        model_cleanup(&L->m);
        frame_free(L->f);
        frame_free(L->nt);
        free(L);
    }
    return 0;
}

/* |a - b| relative to max(|b|, lo) */
static double rel_err(double a, double b, double lo)
{
    return fabs(a - b) / (fabs(b) > lo ? fabs(b) : lo);
}

/* ---- 1. contributions add up to the raw probability ------------------------- */

/*
 * Every lead of a scoring run, explained: base + sum(phi) = raw_explained =
 * 100 x the raw its score comes from, to 1e-9 relative (a floor of 0.1 point
 * under near-zero raws), training leads included. A lead scored by all trees
 * has the forest's base; a training lead scored out of bag has the mean
 * expected value of the trees its in-bag set leaves out, and its raw is the
 * out-of-bag raw the model stored for it (a float). Returns the leads scored
 * out of bag.
 */
static uint64_t check_adds_up(const struct model *m, const struct score_result *r,
                              const struct explain_result *e)
{
    size_t nf = m->schema.nfeat;
    assert_int_equal(e->row0, 0);
    assert_int_equal(e->n, r->n);
    assert_int_equal(e->nfeat, nf);
    assert_non_null(r->inbag);
    struct treeshap *ts = treeshap_new(&m->forest);
    double base = 100.0 * treeshap_base(ts);
    treeshap_free(ts);
    double *ev = malloc(m->forest.ntrees * sizeof *ev);
    for (uint32_t t = 0; t < m->forest.ntrees; t++)
        ev[t] = treeshap_expected(&m->forest.trees[t]);
    double worst = 0, worst_raw = 0;
    uint64_t worst_row = 0, oob = 0;
    for (uint64_t i = 0; i < e->n; i++) {
        double s = e->base[i];
        for (size_t j = 0; j < nf; j++)
            s += e->phi[i * nf + j];
        if (rel_err(s, e->raw[i], 0.1) > worst) {
            worst = rel_err(s, e->raw[i], 0.1);
            worst_row = i;
        }
        if (rel_err(e->raw[i], 100.0 * r->raw[i], 0.1) > worst_raw)
            worst_raw = rel_err(e->raw[i], 100.0 * r->raw[i], 0.1);
        const uint64_t *skip = r->inbag + i * r->inbag_words;
        if (!r->oob[i]) {
            for (size_t w = 0; w < r->inbag_words; w++)
                assert_int_equal(skip[w], 0);
            ASSERT_NEAR(e->base[i], base, 1e-12 * base);
            ASSERT_NEAR(r->raw[i], forest_predict_row(&m->forest, r->X, r->n, i), 1e-12);
            continue;
        }
        oob++;
        double sb = 0;
        uint32_t k = 0;
        for (uint32_t t = 0; t < m->forest.ntrees; t++)
            if (!(skip[t / 64] >> (t % 64) & 1)) {
                sb += ev[t];
                k++;
            }
        assert_true(k > 0 && k < m->forest.ntrees);
        ASSERT_NEAR(e->base[i], 100.0 * sb / k, 1e-9);
        double stored = model_oob_lookup(m, model_row_key(r->X, r->n, i, nf, r->label[i]));
        ASSERT_NEAR(r->raw[i], stored, 1e-6);
    }
    free(ev);
    if (worst > 1e-9)
        fail_msg("lead %llu: base + contributions differs from raw_explained by %.3g relative",
                 (unsigned long long)worst_row + 1, worst);
    if (worst_raw > 1e-9)
        fail_msg("raw_explained differs from the score's raw by %.3g relative", worst_raw);
    return oob;
}

/* Leads.csv scored with its own model: every lead adds up to its score's raw,
 * the 9,000-odd training leads (scored out of bag) included. */
static void test_leads_add_up(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    assert_int_equal(L->r.n, 9237);
    uint64_t oob = check_adds_up(&L->m, &L->r, &L->e);
    assert_int_equal(oob, L->r.oob_rows);
    assert_true(L->r.oob_rows > 9000);
}

/* The same on generated leads, which always run: the demo data, and a file of
 * few distinct leads repeated many times, whose copies share one key and the
 * first copy's in-bag set. */
static void test_generated_add_up(void **state)
{
    (void)state;
    char *text = tu_demo_text(1500, 3);
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct model m;
    train_default(f, 40, &m);
    struct score_result r;
    struct explain_result e;
    tu_score_ok(&m, f, &r);
    app_explain(&m, &r, 0, r.n, 2, &e);
    uint64_t oob = check_adds_up(&m, &r, &e);
    assert_true(oob > 1000);
    explain_result_cleanup(&e);
    score_result_cleanup(&r);
    model_cleanup(&m);
    frame_free(f);

    /* 600 leads, 3 x 4 x 2 distinct ones: every key is shared */
    struct rng g;
    rng_seed2(&g, 5, 0);
    size_t cap = 64 * 1024, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "Source,Visits,Mobile,Converted\n");
    static const char *src[] = {"Web", "Ads", "Referral"};
    for (int i = 0; i < 600; i++) {
        int a = (int)rng_below(&g, 3), v = (int)rng_below(&g, 4), mo = (int)rng_below(&g, 2);
        int y = rng_uniform(&g) < 0.2 + 0.2 * a + 0.1 * v - 0.1 * mo;
        len += (size_t)snprintf(csv + len, cap - len, "%s,%d,%s,%d\n", src[a], v, mo ? "Yes" : "No",
                                y);
    }
    f = tu_frame_mem(csv);
    free(csv);
    train_default(f, 30, &m);
    assert_true(m.noob <= 48);
    tu_score_ok(&m, f, &r);
    app_explain(&m, &r, 0, r.n, 1, &e);
    oob = check_adds_up(&m, &r, &e);
    assert_true(oob > 0);
    explain_result_cleanup(&e);
    score_result_cleanup(&r);
    model_cleanup(&m);
    frame_free(f);
}

/* The file without its outcome: no lead is out-of-bag, so each lead's score
 * raw (forest_predict) is exactly what its contributions add up to; and the
 * contributions do not depend on the outcome column being there. */
static void test_leads_not_oob(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    const struct score_result *rn = &L->rn;
    const struct explain_result *en = &L->en;
    size_t nf = L->m.schema.nfeat;
    assert_int_equal(frame_find(L->nt, L->m.target), -1);
    assert_int_equal(rn->n, L->r.n);
    assert_int_equal(rn->oob_rows, 0);
    assert_int_equal(memcmp(rn->X, L->r.X, nf * rn->n), 0);
    double worst = 0, worst_sum = 0;
    for (uint64_t i = 0; i < rn->n; i++) {
        assert_int_equal(rn->oob[i], 0);
        assert_int_equal(rn->label[i], -1);
        if (rel_err(en->raw[i] / 100.0, rn->raw[i], 1e-3) > worst)
            worst = rel_err(en->raw[i] / 100.0, rn->raw[i], 1e-3);
        double s = en->base[i];
        for (size_t j = 0; j < nf; j++)
            s += en->phi[i * nf + j];
        if (rel_err(s, en->raw[i], 0.1) > worst_sum)
            worst_sum = rel_err(s, en->raw[i], 0.1);
    }
    if (worst > 1e-9)
        fail_msg("raw_explained / 100 differs from the score's raw by %.3g relative", worst);
    if (worst_sum > 1e-9)
        fail_msg("base + contributions differs from raw_explained by %.3g relative", worst_sum);
    for (uint64_t i = 0; i < rn->n; i++)
        if (!L->r.oob[i]) /* a training lead of r leaves its in-bag trees out */
            for (size_t j = 0; j < nf; j++)
                ASSERT_SAME_BITS(en->phi[i * nf + j], L->e.phi[i * nf + j]);
}

/* Values that should be the same to the bit: how many are not, and the first. */
struct bit_diff {
    uint64_t count;
    char first[256];
};

static void bit_check(struct bit_diff *d, const char *what, uint64_t row, size_t j, double got,
                      double want)
{
    if (memcmp(&got, &want, sizeof got) == 0)
        return;
    if (d->count++ == 0)
        snprintf(d->first, sizeof d->first, "%s of row %llu, feature %zu: %.17g, expected %.17g",
                 what, (unsigned long long)row, j, got, want);
}

static void bit_report(const struct bit_diff *d, const char *where)
{
    if (d->count)
        fail_msg("%s: %llu values differ from the full run; first: %s", where,
                 (unsigned long long)d->count, d->first);
}

/* app_explain on a range of leads gives those leads' values of the full run,
 * to the bit, on any number of threads. */
static void test_leads_range(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    size_t nf = L->m.schema.nfeat;
    static const uint64_t ranges[][2] = {{0, 1}, {1000, 300}, {9236, 1}, {255, 258}, {4, 1}};
    struct bit_diff d = {0};
    /* rn: no lead out of bag; r: training leads, each with its own trees left out */
    const struct score_result *run[2] = {&L->rn, &L->r};
    const struct explain_result *full[2] = {&L->en, &L->e};
    for (size_t k = 0; k < 2 * sizeof ranges / sizeof ranges[0]; k++) {
        struct explain_result p;
        const uint64_t *rg = ranges[k / 2];
        const struct explain_result *fe = full[k % 2];
        app_explain(&L->m, run[k % 2], rg[0], rg[1], (uint32_t)(1 + k % 3), &p);
        assert_int_equal(p.row0, rg[0]);
        assert_int_equal(p.n, rg[1]);
        for (uint64_t i = 0; i < p.n; i++) {
            uint64_t row = p.row0 + i;
            bit_check(&d, "base", row, 0, p.base[i], fe->base[row]);
            bit_check(&d, "raw", row, 0, p.raw[i], fe->raw[row]);
            for (size_t j = 0; j < nf; j++)
                bit_check(&d, "phi", row, j, p.phi[i * nf + j], fe->phi[row * nf + j]);
        }
        explain_result_cleanup(&p);
    }
    bit_report(&d, "app_explain on ranges of leads");
}

/* ---- 2. explain_top ------------------------------------------------------------ */

/* Leads 10 and 11 of a run, 8 features each. */
static void test_top_hand_made(void **state)
{
    (void)state;
    double phi[2 * 8] = {
        0.3,  -2.0, 0.049,  5.0,  0.05, -0.05, -0.0499, 1.0,  /* lead 10 */
        -0.3, 2.0,  -0.049, -5.0, 7.5,  0.2,   0.0499,  -1.0, /* lead 11 */
    };
    double base[2] = {40, 40}, raw[2] = {45, 60};
    struct explain_result e = {
        .row0 = 10, .n = 2, .nfeat = 8, .phi = phi, .base = base, .raw = raw};
    size_t feat[11];

    /* positives, largest first, at most 3 */
    for (size_t i = 0; i < 11; i++)
        feat[i] = 99;
    assert_int_equal(explain_top(&e, 10, 1, feat, 3), 3);
    assert_int_equal(feat[0], 3);
    assert_int_equal(feat[1], 7);
    assert_int_equal(feat[2], 0);
    assert_int_equal(feat[3], 99); /* nothing written past max */

    /* all of them: 0.05 is a reason, 0.049 is not */
    assert_int_equal(explain_top(&e, 10, 1, feat, 10), 4);
    assert_int_equal(feat[0], 3);
    assert_int_equal(feat[1], 7);
    assert_int_equal(feat[2], 0);
    assert_int_equal(feat[3], 4);

    /* negatives, largest first: -0.05 is a reason, -0.0499 is not */
    assert_int_equal(explain_top(&e, 10, -1, feat, 3), 2);
    assert_int_equal(feat[0], 1);
    assert_int_equal(feat[1], 5);

    /* max 1 and max 0 */
    assert_int_equal(explain_top(&e, 10, 1, feat, 1), 1);
    assert_int_equal(feat[0], 3);
    feat[0] = 99;
    assert_int_equal(explain_top(&e, 10, 1, feat, 0), 0);
    assert_int_equal(feat[0], 99);

    /* lead 11 reads its own row */
    assert_int_equal(explain_top(&e, 11, 1, feat, 3), 3);
    assert_int_equal(feat[0], 4);
    assert_int_equal(feat[1], 1);
    assert_int_equal(feat[2], 5);
    assert_int_equal(explain_top(&e, 11, -1, feat, 3), 3);
    assert_int_equal(feat[0], 3);
    assert_int_equal(feat[1], 7);
    assert_int_equal(feat[2], 0);
}

/* Random contributions against the definition: the chosen features have the
 * right sign and at least 0.05 points, come largest first, are as many as
 * min(max, eligible), and none left out is larger than one chosen. */
static void test_top_random(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    for (int trial = 0; trial < 2000; trial++) {
        size_t nf = 1 + (size_t)rng_below(&r, 40), max = (size_t)rng_below(&r, 8);
        double phi[40];
        for (size_t j = 0; j < nf; j++) {
            uint64_t kind = rng_below(&r, 6);
            phi[j] = kind == 0   ? 0.05 * (rng_below(&r, 2) ? 1 : -1) /* at the threshold */
                     : kind == 1 ? (rng_uniform(&r) - 0.5) * 0.1      /* around it */
                     : kind == 2 ? (double)(int)rng_below(&r, 5) - 2  /* ties */
                                 : (rng_uniform(&r) - 0.5) * 40;
        }
        struct explain_result e = {.row0 = 3, .n = 1, .nfeat = nf, .phi = phi};
        for (int sign = -1; sign <= 1; sign += 2) {
            size_t feat[9], eligible = 0;
            for (size_t i = 0; i < 9; i++)
                feat[i] = 1000;
            for (size_t j = 0; j < nf; j++)
                eligible += sign * phi[j] >= 0.05;
            size_t k = explain_top(&e, 3, sign, feat, max);
            size_t want = eligible < max ? eligible : max;
            if (k != want)
                fail_msg("trial %d sign %d: %zu reasons, expected %zu", trial, sign, k, want);
            assert_int_equal(feat[max], 1000);
            uint8_t chosen[40] = {0};
            for (size_t i = 0; i < k; i++) {
                assert_true(feat[i] < nf);
                assert_false(chosen[feat[i]]);
                chosen[feat[i]] = 1;
                assert_true(sign * phi[feat[i]] >= 0.05);
                if (i > 0 && sign * phi[feat[i]] > sign * phi[feat[i - 1]])
                    fail_msg("trial %d: reason %zu (%g) larger than reason %zu (%g)", trial, i,
                             phi[feat[i]], i - 1, phi[feat[i - 1]]);
            }
            for (size_t j = 0; j < nf; j++)
                if (!chosen[j] && k > 0 && sign * phi[j] >= 0.05 &&
                    sign * phi[j] > sign * phi[feat[k - 1]])
                    fail_msg("trial %d: feature %zu (%g) left out for %g", trial, j, phi[j],
                             phi[feat[k - 1]]);
        }
    }
}

/* ---- 3. values and reasons ---------------------------------------------------------- */

/* 250 x "é" (500 bytes), a training category */
static char long_seen[501];
/* "a" and 170 x "€" (511 bytes), never seen in training */
static char long_new[512];
/* 130 x U+1F600 (520 bytes), never seen in training */
static char long_emoji[521];

static void make_long_values(void)
{
    for (int i = 0; i < 250; i++)
        memcpy(long_seen + 2 * i, "\xC3\xA9", 2);
    long_seen[500] = '\0';
    long_new[0] = 'a';
    for (int i = 0; i < 170; i++)
        memcpy(long_new + 1 + 3 * i, "\xE2\x82\xAC", 3);
    long_new[511] = '\0';
    for (int i = 0; i < 130; i++)
        memcpy(long_emoji + 4 * i, "\xF0\x9F\x98\x80", 4);
    long_emoji[520] = '\0';
}

/* 240 leads: City (categorical, with "10", "20" and "30" among its values and one
 * 500-byte value), Visits (numeric), Source (categorical), Converted. */
static struct frame *small_training_frame(void)
{
    make_long_values();
    static const char *const cities[] = {"Paris", "London", "Berlin", "10", "20", "30", long_seen};
    static const char *const sources[] = {"Web", "Ads", "Email", "Phone"};
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    fputs("Lead ID,City,Visits,Source,Converted\n", o);
    struct rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < 240; i++) {
        int city = i % 7, visits = (int)rng_below(&r, 20), src = (int)rng_below(&r, 4);
        double z = (city == 0 || city == 3) + (visits > 10) + 0.5 * (src == 1) + rng_normal(&r);
        fprintf(o, "L%d,%s,%d,%s,%d\n", i, cities[city], visits, sources[src], z > 1.0);
    }
    assert_int_equal(fclose(o), 0);
    struct frame *f = tu_frame_mem(text);
    free(text);
    return f;
}

/* The value text of feature `name` for lead row. */
static void value_of(const struct model *m, const struct frame *f, const struct score_result *r,
                     const char *name, uint64_t row, char *out, size_t cap)
{
    explain_value(m, f, r, tu_feature_index(m, name), row, out, cap);
    if (!tu_utf8_valid(out, strlen(out)))
        fail_msg("the value of %s, lead %llu, is not valid UTF-8: '%s'", name,
                 (unsigned long long)row + 1, out);
}

/* out is cell cut at a character boundary, "...", then suffix: no longer
 * than EXPLAIN_VALUE_MAX bytes before the suffix, and cut no shorter than
 * needed (within one character). */
static void expect_cut(const char *out, const char *cell, const char *suffix)
{
    size_t olen = strlen(out), slen = strlen(suffix);
    if (olen < slen + 3 || strcmp(out + olen - slen, suffix) != 0)
        fail_msg("'%s' does not end with '...%s'", out, suffix);
    size_t vlen = olen - slen, keep = vlen - 3;
    if (memcmp(out + keep, "...", 3) != 0)
        fail_msg("'%s' is not marked '...' where it was cut", out);
    if (vlen > EXPLAIN_VALUE_MAX)
        fail_msg("a value of %zu bytes shown (at most %d)", vlen, EXPLAIN_VALUE_MAX);
    if (keep + 3 + 4 <= EXPLAIN_VALUE_MAX)
        fail_msg("cut to %zu bytes, shorter than needed", keep);
    assert_int_equal(memcmp(out, cell, keep), 0);
    assert_true(((unsigned char)cell[keep] & 0xC0) != 0x80); /* a character starts there */
}

static void test_values(void **state)
{
    (void)state;
    struct frame *tf = small_training_frame();
    struct model m;
    train_default(tf, 30, &m);
    assert_string_equal(m.id_column, "Lead ID");
    tu_feature_index(&m, "City");
    tu_feature_index(&m, "Visits");
    tu_feature_index(&m, "Source");

    /* no Visits column; Source empty, "Select" (a missing token), or new */
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    fputs("Lead ID,City,Source,Converted\n", o);
    fputs("S1,Paris,Web,1\n", o);                             /* 0 */
    fputs("S2,Atlantis,,0\n", o);                             /* 1 */
    fputs("S3,paris,Select,\n", o);                           /* 2 */
    fprintf(o, "S4,%s,Ads,1\n", long_new);                    /* 3 */
    fprintf(o, "S5,%s,%s,0\n", long_seen, long_emoji);        /* 4 */
    fputs("S6,\"Paris, Texas\",\"Web \"\"beta\"\"\",0\n", o); /* 5 */
    assert_int_equal(fclose(o), 0);
    struct frame *sf = tu_frame_mem(text);
    free(text);
    struct score_result r;
    tu_score_ok(&m, sf, &r);
    size_t city = tu_feature_index(&m, "City");

    char v[EXPLAIN_VALUE_MAX + 64];
    value_of(&m, sf, &r, "City", 0, v, sizeof v);
    assert_string_equal(v, "Paris");
    value_of(&m, sf, &r, "Source", 0, v, sizeof v);
    assert_string_equal(v, "Web");
    for (uint64_t row = 0; row < sf->nrows; row++) {
        value_of(&m, sf, &r, "Visits", row, v, sizeof v);
        assert_string_equal(v, "missing (no such column)");
    }
    value_of(&m, sf, &r, "City", 1, v, sizeof v);
    assert_string_equal(v, "Atlantis (new value)");
    value_of(&m, sf, &r, "Source", 1, v, sizeof v);
    assert_string_equal(v, "missing");
    /* the lead's own spelling, read as the category Paris */
    assert_int_equal(r.X[city * r.n + 2], r.X[city * r.n + 0]);
    value_of(&m, sf, &r, "City", 2, v, sizeof v);
    assert_string_equal(v, "paris");
    value_of(&m, sf, &r, "Source", 2, v, sizeof v);
    assert_string_equal(v, "missing");
    /* long values: cut at a character boundary, marked, still valid UTF-8 */
    value_of(&m, sf, &r, "City", 3, v, sizeof v);
    expect_cut(v, long_new, " (new value)");
    value_of(&m, sf, &r, "City", 4, v, sizeof v);
    assert_true(r.X[city * r.n + 4] != BINS_MISSING); /* a training category */
    expect_cut(v, long_seen, "");
    value_of(&m, sf, &r, "Source", 4, v, sizeof v);
    expect_cut(v, long_emoji, " (new value)");
    /* a cell with a comma and quotes comes back as the lead wrote it */
    value_of(&m, sf, &r, "City", 5, v, sizeof v);
    assert_string_equal(v, "Paris, Texas (new value)");
    value_of(&m, sf, &r, "Source", 5, v, sizeof v);
    assert_string_equal(v, "Web \"beta\" (new value)");
    assert_int_equal(r.unseen[city], 3);

    /* a small buffer: cut, terminated, never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    explain_value(&m, sf, &r, city, 1, small, 6);
    assert_int_equal(strlen(small), 5);
    assert_int_equal(small[6], 'x');

    score_result_cleanup(&r);
    frame_free(sf);
    model_cleanup(&m);
    frame_free(tf);
}

/* Values the model does not know are neutral (ml/tree.h) and so count for
 * nothing: a new City, a blank or unreadable Visits (training had no blank
 * Visits) contribute exactly 0 points and are no reason; the contributions
 * still add up to the lead's raw; the summary lists new categories as
 * "(new value)". */
static void test_unknown_values_explained(void **state)
{
    (void)state;
    struct frame *tf = small_training_frame();
    struct model m;
    train_default(tf, 30, &m);
    struct frame *sf = tu_frame_mem("Lead ID,City,Visits,Source\n"
                                    "U1,Paris,15,Ads\n"      /* 0: all known */
                                    "U2,Atlantis,15,Ads\n"   /* 1: a new City */
                                    "U3,Paris,,Ads\n"        /* 2: Visits blank */
                                    "U4,Berlin,lots,Web\n"); /* 3: Visits unreadable */
    struct score_result r;
    tu_score_ok(&m, sf, &r);
    struct explain_result e;
    app_explain(&m, &r, 0, r.n, 2, &e);
    size_t nf = m.schema.nfeat, city = tu_feature_index(&m, "City"),
           vis = tu_feature_index(&m, "Visits");
    assert_int_equal(r.X[city * r.n + 1], BINS_UNSEEN);
    assert_int_equal(r.X[vis * r.n + 2], BINS_MISSING);
    assert_int_equal(r.X[vis * r.n + 3], BINS_MISSING);
    ASSERT_SAME_BITS(e.phi[1 * nf + city], 0.0);
    ASSERT_SAME_BITS(e.phi[2 * nf + vis], 0.0);
    ASSERT_SAME_BITS(e.phi[3 * nf + vis], 0.0);
    assert_true(fabs(e.phi[0 * nf + city]) > 0.05); /* a known City does count */
    for (uint64_t row = 0; row < r.n; row++) {
        ASSERT_NEAR(e.raw[row], 100 * r.raw[row], 1e-9);
        size_t feat[EXPLAIN_REASONS];
        for (int sign = -1; sign <= 1; sign += 2) {
            size_t k = explain_top(&e, row, sign, feat, EXPLAIN_REASONS);
            for (size_t i = 0; i < k; i++)
                if ((row == 1 && feat[i] == city) || (row >= 2 && feat[i] == vis))
                    fail_msg("lead %llu: an unknown value is a reason",
                             (unsigned long long)row + 1);
        }
    }
    char v[EXPLAIN_VALUE_MAX + 64];
    value_of(&m, sf, &r, "City", 1, v, sizeof v);
    assert_string_equal(v, "Atlantis (new value)");
    value_of(&m, sf, &r, "Visits", 2, v, sizeof v);
    assert_string_equal(v, "missing");
    value_of(&m, sf, &r, "Visits", 3, v, sizeof v);
    assert_string_equal(v, "lots (new value, read as missing)");
    json_t *sum = explain_summary_json(&m, &r, &e);
    json_t *cats = json_object_get(json_object_get(sum, "categories"), "City");
    json_t *last = json_array_get(cats, json_array_size(cats) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "value")), "(new value)");
    assert_int_equal(json_integer_value(json_object_get(last, "leads")), 1);
    ASSERT_NEAR(json_real_value(json_object_get(last, "mean_points")), 0, 0);
    json_decref(sum);
    explain_result_cleanup(&e);
    score_result_cleanup(&r);
    frame_free(sf);
    model_cleanup(&m);
    frame_free(tf);
}

static void test_reasons(void **state)
{
    (void)state;
    struct frame *tf = small_training_frame();
    struct model m;
    train_default(tf, 30, &m);
    char text0[] = "Lead ID,City,Source,Converted\nS1,Paris,Web,1\nS2,Berlin,,0\n";
    char *text = xmalloc(sizeof text0 + 600);
    snprintf(text, sizeof text0 + 600, "%sS3,%s,Ads,0\n", text0, long_new);
    struct frame *sf = tu_frame_mem(text);
    free(text);
    struct score_result r;
    tu_score_ok(&m, sf, &r);
    size_t nf = m.schema.nfeat, city = tu_feature_index(&m, "City"),
           src = tu_feature_index(&m, "Source"), vis = tu_feature_index(&m, "Visits");

    /* hand-made contributions of lead 2 (row 1) and lead 3 (row 2) */
    double *phi = xcalloc(2 * nf, sizeof *phi), base[2] = {40, 40}, raw[2];
    phi[city] = 12.34;
    phi[src] = -3.96;
    phi[vis] = 0.04;
    phi[nf + city] = -0.26;
    raw[0] = 40 + 12.34 - 3.96 + 0.04;
    raw[1] = 40 - 0.26;
    struct explain_result e = {
        .row0 = 1, .n = 2, .nfeat = nf, .phi = phi, .base = base, .raw = raw};
    char out[512];
    explain_reason(&m, sf, &r, &e, city, 1, out, sizeof out);
    assert_string_equal(out, "City = Berlin " ARROW " +12.3 pts");
    explain_reason(&m, sf, &r, &e, src, 1, out, sizeof out);
    assert_string_equal(out, "Source = missing " ARROW " " MINUS "4.0 pts");
    explain_reason(&m, sf, &r, &e, vis, 1, out, sizeof out);
    assert_string_equal(out, "Visits = missing (no such column) " ARROW " +0.0 pts");
    explain_reason(&m, sf, &r, &e, city, 2, out, sizeof out);
    assert_true(tu_utf8_valid(out, strlen(out)));
    assert_int_equal(strncmp(out, "City = a\xE2\x82\xAC", 11), 0);
    const char *tail = "... (new value) " ARROW " " MINUS "0.3 pts";
    if (strlen(out) < strlen(tail) || strcmp(out + strlen(out) - strlen(tail), tail) != 0)
        fail_msg("reason '%s' does not end with '%s'", out, tail);

    /* the same as JSON: for and against, each with column, value, points, text */
    json_t *j = json_object();
    explain_lead_json(&m, sf, &r, &e, 1, j);
    ASSERT_NEAR(json_real_value(json_object_get(j, "base")), 40, 0);
    ASSERT_NEAR(json_real_value(json_object_get(j, "raw_explained")), raw[0], 0);
    json_t *c = json_object_get(j, "contributions");
    assert_int_equal(json_object_size(c), nf);
    ASSERT_NEAR(json_real_value(json_object_get(c, "City")), 12.34, 0);
    json_t *fr = json_object_get(json_object_get(j, "reasons"), "for");
    json_t *ag = json_object_get(json_object_get(j, "reasons"), "against");
    assert_int_equal(json_array_size(fr), 1); /* Visits' 0.04 is no reason */
    assert_int_equal(json_array_size(ag), 1);
    json_t *f0 = json_array_get(fr, 0), *a0 = json_array_get(ag, 0);
    assert_string_equal(json_string_value(json_object_get(f0, "column")), "City");
    assert_string_equal(json_string_value(json_object_get(f0, "value")), "Berlin");
    ASSERT_NEAR(json_real_value(json_object_get(f0, "points")), 12.34, 0);
    assert_string_equal(json_string_value(json_object_get(f0, "text")),
                        "City = Berlin " ARROW " +12.3 pts");
    assert_string_equal(json_string_value(json_object_get(a0, "column")), "Source");
    assert_string_equal(json_string_value(json_object_get(a0, "value")), "missing");
    assert_string_equal(json_string_value(json_object_get(a0, "text")),
                        "Source = missing " ARROW " " MINUS "4.0 pts");
    json_decref(j);

    free(phi);
    score_result_cleanup(&r);
    frame_free(sf);
    model_cleanup(&m);
    frame_free(tf);
}

/*
 * A column named by a long question (300 x "é", 600 bytes, as survey exports
 * write them): its reason, in the 512 bytes the CLI gives one (cmd_score.c,
 * explain.c's reasons_json), must still be valid UTF-8 and still say the
 * points — not stop mid-character, which makes the CSV invalid and the JSON
 * "text" null.
 */
static void test_reason_long_column_name(void **state)
{
    (void)state;
    char name[601];
    for (int i = 0; i < 300; i++)
        memcpy(name + 2 * i, "\xC3\xA9", 2);
    name[600] = '\0';
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    fprintf(o, "Lead ID,%s,Visits,Converted\n", name);
    struct rng r;
    rng_seed(&r, 3);
    static const char *const cities[] = {"Paris", "London", "Berlin"};
    for (int i = 0; i < 240; i++) {
        int c = i % 3, v = (int)rng_below(&r, 20);
        fprintf(o, "L%d,%s,%d,%d\n", i, cities[c], v, (c == 0) + (v > 10) + rng_normal(&r) > 1);
    }
    assert_int_equal(fclose(o), 0);
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct model m;
    train_default(f, 20, &m);
    struct score_result res;
    tu_score_ok(&m, f, &res);
    size_t j = tu_feature_index(&m, name), nf = m.schema.nfeat;
    double *phi = xcalloc(nf, sizeof *phi), base = 40, raw = 52.5;
    phi[j] = 12.5;
    struct explain_result e = {
        .row0 = 0, .n = 1, .nfeat = nf, .phi = phi, .base = &base, .raw = &raw};
    char out[512];
    explain_reason(&m, f, &res, &e, j, 0, out, sizeof out);
    free(phi);
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
    size_t n = strlen(out);
    if (!tu_utf8_valid(out, n))
        fail_msg("a reason of %zu bytes is not valid UTF-8 (last bytes %02X %02X)", n,
                 (unsigned char)out[n - 2], (unsigned char)out[n - 1]);
    const char *tail = "Paris " ARROW " +12.5 pts";
    if (n < strlen(tail) || strcmp(out + n - strlen(tail), tail) != 0)
        fail_msg("the reason of %zu bytes lost its value and points", n);
}

/*
 * A categorical column of a new file that holds mostly numbers: the file
 * types it numeric and counts "Paris" as a stray non-number, but the model
 * reads cells by their text and scores the lead with City = Paris — so the
 * explanation must show "Paris", not "missing".
 */
static void test_value_of_stray_category(void **state)
{
    (void)state;
    struct frame *tf = small_training_frame();
    struct model m;
    train_default(tf, 30, &m);
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    fputs("Lead ID,City,Visits,Source\n", o);
    for (int i = 0; i < 150; i++)
        fprintf(o, "N%d,%s,%d,Web\n", i,
                i == 77      ? "Paris"
                : i % 3 == 0 ? "10"
                : i % 3 == 1 ? "20"
                             : "30",
                i % 20);
    assert_int_equal(fclose(o), 0);
    struct frame *sf = tu_frame_mem(text);
    free(text);
    struct score_result r;
    tu_score_ok(&m, sf, &r);
    size_t city = tu_feature_index(&m, "City");
    uint8_t bin = r.X[city * r.n + 77];
    char label[256];
    bins_describe(&m.schema.feat[city], bin, label, sizeof label);
    assert_string_equal(label, "Paris"); /* the model read Paris */
    char v[EXPLAIN_VALUE_MAX + 64], v0[EXPLAIN_VALUE_MAX + 64];
    value_of(&m, sf, &r, "City", 77, v, sizeof v);
    value_of(&m, sf, &r, "City", 0, v0, sizeof v0);
    score_result_cleanup(&r);
    frame_free(sf);
    model_cleanup(&m);
    frame_free(tf);
    assert_string_equal(v0, "10");
    if (strcmp(v, "Paris") != 0)
        fail_msg("City of lead 78 shown as '%s'; the model scored it as 'Paris' (bin %u)", v, bin);
}

/* ---- 4. the file's summary -------------------------------------------------------- */

/* A feature's value of lead row as the frame types it: the label the
 * summary must use. */
static const char *frame_label(const struct column *c, uint64_t row)
{
    if (c->type == COL_CATEGORICAL)
        return c->cat[row] == FRAME_NA ? "missing" : c->cats[c->cat[row]];
    assert_int_equal(c->type, COL_BOOLEAN);
    double v = c->num[row];
    return isnan(v) ? "missing" : v != 0 ? c->true_label : c->false_label;
}

struct tally {
    const char *label;
    uint64_t leads, labelled, pos;
    double points;
};

/* importance: every feature once, largest first, = mean |phi|; categories:
 * each categorical (and boolean) feature's values with the frame's counts,
 * conversion rates (null when outcome is unknown) and mean points. */
static void check_summary(const struct model *m, const struct frame *f,
                          const struct score_result *r, const struct explain_result *e,
                          int with_outcome)
{
    size_t nf = m->schema.nfeat;
    uint64_t n = r->n;
    json_t *s = explain_summary_json(m, r, e);
    assert_true(json_is_object(s));
    json_t *imp = json_object_get(s, "importance");
    assert_int_equal(json_array_size(imp), nf);
    uint8_t *seen = xcalloc(nf, 1);
    double prev = INFINITY;
    size_t i;
    json_t *x;
    json_array_foreach(imp, i, x)
    {
        size_t j = tu_feature_index(m, json_string_value(json_object_get(x, "column")));
        assert_false(seen[j]);
        seen[j] = 1;
        double v = json_real_value(json_object_get(x, "mean_abs_points")), want = 0;
        for (uint64_t k = 0; k < n; k++)
            want += fabs(e->phi[k * nf + j]);
        want /= (double)n;
        ASSERT_NEAR(v, want, 1e-9 * want + 1e-12);
        if (v > prev)
            fail_msg("importance %zu (%s, %g) above the one before it (%g)", i,
                     m->schema.feat[j].name, v, prev);
        prev = v;
    }
    free(seen);
    double top = json_real_value(json_object_get(json_array_get(imp, 0), "mean_abs_points"));
    assert_true(top > 1.0); /* some column matters by more than a point */

    json_t *cats = json_object_get(s, "categories");
    assert_true(json_is_object(cats));
    long target = with_outcome ? frame_find(f, m->target) : -1;
    assert_true(!with_outcome || target >= 0);
    size_t ncat = 0, values = 0;
    struct tally *t = xcalloc(BINS_MAX + 2, sizeof *t);
    for (size_t j = 0; j < nf; j++) {
        const struct feature *ft = &m->schema.feat[j];
        json_t *a = json_object_get(cats, ft->name);
        if (ft->kind != FEAT_CATEGORICAL && ft->kind != FEAT_BOOLEAN) {
            assert_null(a);
            continue;
        }
        ncat++;
        if (!json_is_array(a))
            fail_msg("no categories for '%s'", ft->name);
        const struct column *c = &f->cols[tu_col(f, ft->name)];
        size_t nt = 0;
        for (uint64_t k = 0; k < n; k++) {
            const char *lab = frame_label(c, k);
            size_t q = 0;
            while (q < nt && strcmp(t[q].label, lab) != 0)
                q++;
            assert_true(q <= BINS_MAX);
            if (q == nt)
                t[nt++] = (struct tally){.label = lab};
            t[q].leads++;
            t[q].points += e->phi[k * nf + j];
            if (target >= 0 && !isnan(f->cols[target].num[k])) {
                t[q].labelled++;
                t[q].pos += f->cols[target].num[k] == 1;
            }
        }
        if (json_array_size(a) != nt)
            fail_msg("'%s': %zu values in the summary, %zu in the file", ft->name,
                     json_array_size(a), nt);
        uint64_t total = 0;
        json_array_foreach(a, i, x)
        {
            const char *lab = json_string_value(json_object_get(x, "value"));
            assert_non_null(lab);
            size_t q = 0;
            while (q < nt && strcmp(t[q].label, lab) != 0)
                q++;
            if (q == nt)
                fail_msg("'%s': value '%s' is not in the file", ft->name, lab);
            if (strcmp(lab, "missing") == 0 && i + 1 != json_array_size(a))
                fail_msg("'%s': missing is not listed last", ft->name);
            json_int_t leads = json_integer_value(json_object_get(x, "leads"));
            if ((uint64_t)leads != t[q].leads)
                fail_msg("'%s' = '%s': %lld leads, the file has %llu", ft->name, lab,
                         (long long)leads, (unsigned long long)t[q].leads);
            total += (uint64_t)leads;
            ASSERT_NEAR(json_real_value(json_object_get(x, "mean_points")),
                        t[q].points / (double)t[q].leads, 1e-9);
            json_t *cr = json_object_get(x, "conversion_rate");
            if (t[q].labelled) {
                if (!json_is_real(cr))
                    fail_msg("'%s' = '%s': conversion_rate is not a number", ft->name, lab);
                ASSERT_NEAR(json_real_value(cr), (double)t[q].pos / (double)t[q].labelled, 1e-12);
            } else if (!json_is_null(cr)) {
                fail_msg("'%s' = '%s': conversion_rate %g without a known outcome", ft->name, lab,
                         json_real_value(cr));
            }
            t[q].leads = 0; /* each value once */
            values++;
        }
        assert_int_equal(total, n);
    }
    assert_int_equal(json_object_size(cats), ncat);
    assert_true(ncat >= 10 && values > 50);
    free(t);
    json_decref(s);
}

static void test_summary_leads(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    check_summary(&L->m, L->f, &L->r, &L->e, 1);
}

static void test_summary_no_outcome(void **state)
{
    struct leads *L = *state;
    if (!L)
        skip();
    check_summary(&L->m, L->nt, &L->rn, &L->en, 0);
    /* a part of the run is no summary of the file */
    struct explain_result p;
    app_explain(&L->m, &L->rn, 10, 20, 1, &p);
    json_t *s = explain_summary_json(&L->m, &L->rn, &p);
    assert_true(json_is_null(s));
    json_decref(s);
    explain_result_cleanup(&p);
}

/* The report's summary on a sample: with every lead it equals the full
 * summary; with fewer, counts and conversion rates are still the file's, and
 * mean contributions are those of the sampled leads, which are evenly spaced
 * (row i * n / k) and explained exactly as in the full run. */
static void test_summary_sample(void **state)
{
    (void)state;
    char *text = tu_demo_text(2000, 11);
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct model m;
    train_default(f, 30, &m);
    struct score_result r;
    struct explain_result e;
    tu_score_ok(&m, f, &r);
    app_explain(&m, &r, 0, r.n, 2, &e);
    json_t *full = explain_summary_json(&m, &r, &e);
    json_t *all = explain_summary_sample(&m, &r, 0, 2);
    assert_true(json_equal(full, all));
    assert_int_equal(json_integer_value(json_object_get(full, "sample_leads")), 2000);
    assert_true(json_is_false(json_object_get(full, "sampled")));
    json_t *part = explain_summary_sample(&m, &r, 250, 1);
    assert_int_equal(json_integer_value(json_object_get(part, "sample_leads")), 250);
    assert_true(json_is_true(json_object_get(part, "sampled")));
    size_t nf = m.schema.nfeat, checked = 0;
    json_t *fc = json_object_get(full, "categories"), *pc = json_object_get(part, "categories");
    const char *col;
    json_t *fa;
    json_object_foreach(fc, col, fa)
    {
        json_t *pa = json_object_get(pc, col);
        assert_int_equal(json_array_size(pa), json_array_size(fa));
        size_t j = tu_feature_index(&m, col), i;
        json_t *fx;
        json_array_foreach(fa, i, fx)
        {
            json_t *px = json_array_get(pa, i);
            assert_string_equal(json_string_value(json_object_get(px, "value")),
                                json_string_value(json_object_get(fx, "value")));
            assert_true(json_equal(json_object_get(px, "leads"), json_object_get(fx, "leads")));
            assert_true(json_equal(json_object_get(px, "conversion_rate"),
                                   json_object_get(fx, "conversion_rate")));
            /* the mean over the sampled leads holding this value, from the full run */
            double s = 0;
            uint64_t cnt = 0;
            for (uint64_t k = 0; k < 250; k++) {
                uint64_t row = k * r.n / 250;
                if (m.schema.feat[j].kind == FEAT_CATEGORICAL ||
                    m.schema.feat[j].kind == FEAT_BOOLEAN) {
                    char label[256];
                    bins_describe(&m.schema.feat[j], r.X[j * r.n + row], label, sizeof label);
                    if (strcmp(label, json_string_value(json_object_get(fx, "value"))) == 0) {
                        s += e.phi[row * nf + j];
                        cnt++;
                    }
                }
            }
            json_t *mp = json_object_get(px, "mean_points");
            if (cnt == 0) {
                assert_true(json_is_null(mp));
            } else {
                ASSERT_NEAR(json_real_value(mp), s / (double)cnt, 1e-9);
                checked++;
            }
        }
    }
    assert_true(checked > 10);
    json_decref(full);
    json_decref(all);
    json_decref(part);
    explain_result_cleanup(&e);
    score_result_cleanup(&r);
    model_cleanup(&m);
    frame_free(f);
}

/* ---- 5. treeshap_rows: skipped trees, threads, row ranges ------------------------------- */

#define SK_FEAT  6
#define SK_ROWS  1000
#define SK_TREES 70 /* two words of skip bits */
#define SK_WORDS 2

struct small_forest {
    uint8_t X[SK_FEAT * SK_ROWS];
    struct forest f;
};

static void small_forest_grow(struct small_forest *s)
{
    struct rng r;
    rng_seed(&r, 5);
    uint8_t y[SK_ROWS], is_cat[SK_FEAT];
    uint16_t nbins[SK_FEAT];
    for (uint32_t j = 0; j < SK_FEAT; j++) {
        is_cat[j] = j % 3 == 2;
        nbins[j] = (uint16_t)(3 + rng_below(&r, 10));
        for (uint32_t k = 0; k < SK_ROWS; k++)
            s->X[j * SK_ROWS + k] =
                rng_below(&r, 12) == 0 ? 0 : (uint8_t)(1 + rng_below(&r, nbins[j]));
    }
    for (uint32_t k = 0; k < SK_ROWS; k++) {
        double z = (s->X[k] > nbins[0] / 2) + (s->X[SK_ROWS + k] % 3 == 0) +
                   0.5 * (s->X[2 * SK_ROWS + k] == 1) + 0.8 * rng_normal(&r);
        y[k] = z > 0.9;
    }
    struct forest_opts o;
    forest_opts_default(&o);
    o.trees = SK_TREES;
    o.max_depth = 7;
    o.min_leaf = 3;
    o.threads = 2;
    o.seed = 17;
    struct ls_error err;
    ls_error_clear(&err);
    if (forest_train(s->X, SK_ROWS, SK_FEAT, y, is_cat, nbins, &o, &s->f, NULL, &err))
        fail_msg("forest_train: %s", err.msg);
    assert_int_equal(s->f.ntrees, SK_TREES);
}

struct progress_log {
    uint64_t calls, last, total;
    int backwards;
};

static void log_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress_log *p = ctx;
    p->backwards |= done <= p->last || done > total;
    p->calls++;
    p->last = done;
    p->total = total;
}

/* Progress reports come one block at a time, rising to the number of leads
 * asked for (a range that starts mid-group included), on two threads; and
 * they change nothing in the values. */
static void test_progress(void **state)
{
    (void)state;
    static struct small_forest s;
    small_forest_grow(&s);
    struct treeshap *ts = treeshap_new(&s.f);
    enum { ROW0 = 5, N = 900 };
    double *phi = xmalloc(2 * N * SK_FEAT * sizeof *phi), base[2 * N];
    treeshap_rows(ts, s.X, SK_ROWS, ROW0, N, NULL, 0, 2, phi, base);
    struct progress_log log = {0, 0, 0, 0};
    treeshap_set_progress(ts, log_progress, &log);
    treeshap_rows(ts, s.X, SK_ROWS, ROW0, N, NULL, 0, 2, phi + N * SK_FEAT, base + N);
    assert_int_equal(log.backwards, 0);
    assert_int_equal(log.last, N);
    assert_int_equal(log.total, N);
    assert_true(log.calls >= 3); /* 900 leads in blocks of 256 */
    assert_memory_equal(phi, phi + N * SK_FEAT, N * SK_FEAT * sizeof *phi);
    treeshap_free(ts);
    forest_cleanup(&s.f);
    free(phi);
}

/* Per row: random skip bits, some rows skipping no tree, some every tree. */
static void make_skips(uint64_t *skip)
{
    struct rng r;
    rng_seed(&r, 23);
    for (uint64_t k = 0; k < SK_ROWS; k++) {
        uint64_t *w = skip + k * SK_WORDS;
        int kind = k % 10 == 3 ? 0 : k % 10 == 6 ? 1 : 2;
        for (int i = 0; i < SK_TREES; i++) {
            int bit = kind == 0 ? 0 : kind == 1 ? 1 : rng_below(&r, 100) < 40 + k % 50;
            if (i % 64 == 0)
                w[i / 64] = 0;
            w[i / 64] |= (uint64_t)bit << (i % 64);
        }
    }
}

static int skips(const uint64_t *skip, uint64_t row, uint32_t tree)
{
    return skip[row * SK_WORDS + tree / 64] >> (tree % 64) & 1;
}

/* Row r with the trees of its skip bits left out = row r explained by a
 * forest of only the kept trees; base = the kept trees' mean expected value;
 * a row that would skip every tree is explained by all of them. */
static void test_skip_equals_subforest(void **state)
{
    (void)state;
    struct small_forest *s = xmalloc(sizeof *s);
    small_forest_grow(s);
    uint64_t *skip = xmalloc(SK_ROWS * SK_WORDS * sizeof *skip);
    make_skips(skip);
    double *phi = xmalloc(SK_ROWS * SK_FEAT * sizeof *phi), *base = xmalloc(SK_ROWS * sizeof *base);
    double *full = xmalloc(SK_ROWS * SK_FEAT * sizeof *full),
           *fbase = xmalloc(SK_ROWS * sizeof *fbase);
    struct treeshap *ts = treeshap_new(&s->f);
    treeshap_rows(ts, s->X, SK_ROWS, 0, SK_ROWS, skip, SK_WORDS, 2, phi, base);
    treeshap_rows(ts, s->X, SK_ROWS, 0, SK_ROWS, NULL, 0, 2, full, fbase);

    struct tree kept[SK_TREES]; /* copies of the forest's trees: never freed here */
    int partial = 0, none = 0, every = 0;
    for (uint64_t row = 0; row < 200; row++) {
        uint32_t nk = 0;
        double esum = 0;
        for (uint32_t i = 0; i < SK_TREES; i++)
            if (!skips(skip, row, i)) {
                kept[nk++] = s->f.trees[i];
                esum += treeshap_expected(&s->f.trees[i]);
            }
        if (nk == 0) { /* every tree skipped: all of them explain it */
            every++;
            ASSERT_SAME_BITS(base[row], fbase[row]);
            for (uint32_t j = 0; j < SK_FEAT; j++)
                ASSERT_SAME_BITS(phi[row * SK_FEAT + j], full[row * SK_FEAT + j]);
            continue;
        }
        none += nk == SK_TREES;
        partial += nk < SK_TREES;
        struct forest sub = {.ntrees = nk, .nfeat = s->f.nfeat, .trees = kept};
        struct treeshap *tsub = treeshap_new(&sub);
        double sphi[SK_FEAT], sbase;
        treeshap_rows(tsub, s->X, SK_ROWS, row, 1, NULL, 0, 1, sphi, &sbase);
        double raw = forest_predict_row(&sub, s->X, SK_ROWS, row), sum = base[row];
        for (uint32_t j = 0; j < SK_FEAT; j++) {
            if (fabs(phi[row * SK_FEAT + j] - sphi[j]) > 1e-12)
                fail_msg("row %llu (%u trees kept), feature %u: %.17g with skip bits, %.17g "
                         "with the kept trees",
                         (unsigned long long)row, nk, j, phi[row * SK_FEAT + j], sphi[j]);
            sum += phi[row * SK_FEAT + j];
        }
        ASSERT_NEAR(base[row], sbase, 1e-12);
        ASSERT_NEAR(base[row], esum / nk, 1e-12);
        ASSERT_NEAR(sum, raw, 1e-9);
        treeshap_free(tsub);
    }
    assert_true(every >= 20);
    assert_true(none >= 20);
    assert_true(partial >= 150);
    /* the skips matter: a partial row differs from its all-trees value */
    int differ = 0;
    for (uint64_t row = 0; row < 200; row++)
        differ += base[row] != fbase[row];
    assert_true(differ >= 150);

    treeshap_free(ts);
    free(phi);
    free(base);
    free(full);
    free(fbase);
    free(skip);
    forest_cleanup(&s->f);
    free(s);
}

/* The same values to the bit on 1 and 3 threads, and for any range of rows
 * (the skip bits of a range start at its first row). */
static void test_threads_and_ranges(void **state)
{
    (void)state;
    struct small_forest *s = xmalloc(sizeof *s);
    small_forest_grow(s);
    uint64_t *skip = xmalloc(SK_ROWS * SK_WORDS * sizeof *skip);
    make_skips(skip);
    size_t np = SK_ROWS * SK_FEAT;
    double *p1 = xmalloc(np * sizeof *p1), *p3 = xmalloc(np * sizeof *p3);
    double *b1 = xmalloc(SK_ROWS * sizeof *b1), *b3 = xmalloc(SK_ROWS * sizeof *b3);
    double *pr = xmalloc(np * sizeof *pr), *br = xmalloc(SK_ROWS * sizeof *br);
    struct treeshap *ts = treeshap_new(&s->f);
    static const uint64_t ranges[][2] = {{0, 1},     {3, 8},   {250, 20}, {256, 256},
                                         {511, 489}, {999, 1}, {1, 998},  {4, 1}};
    struct bit_diff threads = {0}, range = {0};
    double sentinel;
    memset(&sentinel, 0xFF, sizeof sentinel);
    uint64_t overrun = 0;
    for (int with_skip = 0; with_skip < 2; with_skip++) {
        const uint64_t *sk = with_skip ? skip : NULL;
        size_t words = with_skip ? SK_WORDS : 0;
        treeshap_rows(ts, s->X, SK_ROWS, 0, SK_ROWS, sk, words, 1, p1, b1);
        treeshap_rows(ts, s->X, SK_ROWS, 0, SK_ROWS, sk, words, 3, p3, b3);
        for (size_t k = 0; k < np; k++)
            bit_check(&threads, "phi", k / SK_FEAT, k % SK_FEAT, p3[k], p1[k]);
        for (size_t k = 0; k < SK_ROWS; k++)
            bit_check(&threads, "base", k, 0, b3[k], b1[k]);
        for (size_t q = 0; q < sizeof ranges / sizeof ranges[0]; q++) {
            uint64_t row0 = ranges[q][0], n = ranges[q][1];
            memset(pr, 0xFF, np * sizeof *pr);
            treeshap_rows(ts, s->X, SK_ROWS, row0, n, sk ? sk + row0 * SK_WORDS : NULL, words,
                          (uint32_t)(1 + q % 3), pr, br);
            for (uint64_t i = 0; i < n; i++) {
                bit_check(&range, "base", row0 + i, 0, br[i], b1[row0 + i]);
                for (size_t j = 0; j < SK_FEAT; j++)
                    bit_check(&range, "phi", row0 + i, j, pr[i * SK_FEAT + j],
                              p1[(row0 + i) * SK_FEAT + j]);
            }
            /* nothing written past the range */
            overrun += n < SK_ROWS && memcmp(&pr[n * SK_FEAT], &sentinel, sizeof sentinel) != 0;
        }
    }
    treeshap_free(ts);
    free(p1);
    free(p3);
    free(b1);
    free(b3);
    free(pr);
    free(br);
    free(skip);
    forest_cleanup(&s->f);
    free(s);
    bit_report(&threads, "3 threads against 1");
    bit_report(&range, "ranges of rows");
    assert_int_equal(overrun, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest leads[] = {
        cmocka_unit_test(test_leads_add_up),       cmocka_unit_test(test_leads_not_oob),
        cmocka_unit_test(test_leads_range),        cmocka_unit_test(test_summary_leads),
        cmocka_unit_test(test_summary_no_outcome),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_add_up),
        cmocka_unit_test(test_summary_sample),
        cmocka_unit_test(test_top_hand_made),
        cmocka_unit_test(test_top_random),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_unknown_values_explained),
        cmocka_unit_test(test_reason_long_column_name),
        cmocka_unit_test(test_value_of_stray_category),
        cmocka_unit_test(test_skip_equals_subforest),
        cmocka_unit_test(test_threads_and_ranges),
        cmocka_unit_test(test_progress),
    };
    return TU_MAIN_SPLIT(argc, argv, "explain", tests, NULL, NULL, leads, leads_setup,
                         leads_teardown);
}
