/*
 * train.c — the training orchestration of train.h.
 */
#include "app/train.h"

#include "core/mem.h"
#include "core/rng.h"
#include "data/target.h"

#include <math.h>
#include <string.h>
#include <time.h>

void train_opts_default(struct train_opts *o)
{
    memset(o, 0, sizeof *o);
    forest_opts_default(&o->forest);
    o->tier_high = 70;
    o->tier_medium = 30;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct key_row {
    uint64_t key;
    uint64_t row;
};

static int cmp_key(const void *a, const void *b)
{
    const struct key_row *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->row > y->row) - (x->row < y->row);
}

/*
 * Keep each training row's out-of-bag probability and in-bag trees by row
 * key; inbag is forest_train's output (tree-major bits). Rows with equal keys
 * are one lead to a later scoring run: they keep the first copy's set and
 * raw. (An average over the copies, as version 1 kept, is a weighted mix of
 * trees that no set of trees explains; and the training metrics judged each
 * copy, as this one, by the trees that did not draw it.) A row that every
 * bootstrap drew has no out-of-bag raw and is not kept.
 */
static void keep_oob(struct model *m, const uint8_t *X, uint64_t n, const uint8_t *y,
                     const double *oob, const uint64_t *inbag)
{
    uint32_t ntrees = m->forest.ntrees, nb = (ntrees + 7) / 8;
    uint64_t words = forest_inbag_words(n), k = 0;
    struct key_row *kr = xmalloc((n ? n : 1) * sizeof *kr);
    for (uint64_t r = 0; r < n; r++)
        if (!isnan(oob[r]))
            kr[k++] = (struct key_row){model_row_key(X, n, r, m->schema.nfeat, y[r]), r};
    qsort(kr, k, sizeof *kr, cmp_key); /* by key, then row: the first copy leads */
    m->oob_key = xmalloc((k ? k : 1) * sizeof *m->oob_key);
    m->oob_raw = xmalloc((k ? k : 1) * sizeof *m->oob_raw);
    m->inbag = xcalloc((k ? k : 1) * nb, 1);
    m->inbag_bytes = nb;
    uint64_t o = 0;
    for (uint64_t i = 0; i < k; i++) {
        if (i > 0 && kr[i].key == kr[i - 1].key)
            continue;
        uint64_t row = kr[i].row;
        uint8_t *set = m->inbag + o * nb;
        for (uint32_t t = 0; t < ntrees; t++)
            if (inbag[(uint64_t)t * words + (row >> 6)] >> (row & 63) & 1)
                set[t >> 3] |= (uint8_t)(1u << (t & 7));
        m->oob_key[o] = kr[i].key;
        m->oob_raw[o] = (float)oob[row];
        o++;
    }
    m->noob = o;
    free(kr);
}

/* A NULL-terminated copy of v. */
static char **strv_dup(const char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    char **d = xcalloc(n + 1, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = xstrdup(v[i]);
    return d;
}

/* A copy of n labels (an empty class keeps a 1-slot array). */
static char **labels_dup(char *const *v, size_t n)
{
    char **d = xcalloc(n + 1, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = xstrdup(v[i]);
    return d;
}

int train_features_select(const struct frame *f, long target_col, const struct train_opts *o,
                          struct train_features *out, struct ls_error *err)
{
    for (size_t e = 0; e < o->nexclude; e++)
        if (frame_find(f, o->exclude[e]) < 0)
            return ls_error_set(err, LS_ENOT_FOUND, "--exclude: no column named '%s'",
                                o->exclude[e]);
    /* frame_find once per name, not once per (column, name) pair */
    uint8_t *excluded = xcalloc(f->ncols ? f->ncols : 1, 1);
    for (size_t e = 0; e < o->nexclude; e++)
        excluded[frame_find(f, o->exclude[e])] = 1;
    struct train_features tf = {.cols = xmalloc((f->ncols ? f->ncols : 1) * sizeof *tf.cols),
                                .id_col = -1};
    for (size_t i = 0; i < f->ncols; i++) {
        const struct column *c = &f->cols[i];
        if ((long)i == target_col)
            continue;
        if (c->type == COL_IDENTIFIER && tf.id_col < 0)
            tf.id_col = (long)i;
        if (excluded[i] || c->type == COL_IDENTIFIER || c->type == COL_TEXT ||
            c->type == COL_CONSTANT) {
            tf.skipped++;
            continue;
        }
        tf.cols[tf.ncols++] = i;
    }
    free(excluded);
    if (tf.ncols == 0) {
        train_features_cleanup(&tf);
        return ls_error_set(err, LS_EINPUT,
                            "no column is left to learn from (identifiers, free "
                            "text, constant and excluded columns are never used)");
    }
    *out = tf;
    return LS_OK;
}

void train_features_cleanup(struct train_features *tf)
{
    free(tf->cols);
    tf->cols = NULL;
    tf->ncols = 0;
}

int app_train(const struct frame *f, const struct train_opts *o, struct model *m,
              struct train_summary *sum, struct ls_error *err)
{
    double t0 = now_ms();
    model_init(m);
    memset(sum, 0, sizeof *sum);
    sum->rows = f->nrows;
    size_t ntok = 0; /* the model file keeps at most MODEL_MAX_TOKENS */
    while (o->missing_tokens && o->missing_tokens[ntok])
        ntok++;
    if (ntok > MODEL_MAX_TOKENS)
        return ls_error_set(err, LS_ELIMIT, "more than %d missing-value tokens", MODEL_MAX_TOKENS);
    struct target t;
    int rc = target_find(f, o->target, &t, err);
    if (rc)
        return rc;
    struct train_features tf;
    rc = train_features_select(f, t.col, o, &tf, err);
    if (rc) {
        target_cleanup(&t);
        return rc;
    }
    size_t *cols = tf.cols, nc = tf.ncols;
    long id_col = tf.id_col;
    sum->excluded = tf.skipped;

    /* labelled rows; a seeded holdout share of them is kept aside */
    uint8_t *use = xcalloc(f->nrows ? f->nrows : 1, 1);
    uint8_t *hold = xcalloc(f->nrows ? f->nrows : 1, 1);
    struct rng rng;
    rng_seed2(&rng, o->forest.seed, 0xB01D0u);
    for (uint64_t r = 0; r < f->nrows; r++) {
        int y = target_label(f, &t, r);
        if (y < 0)
            continue;
        sum->labelled++;
        if (o->holdout > 0 && rng_uniform(&rng) < o->holdout) {
            hold[r] = 1;
            sum->holdout_rows++;
        } else {
            use[r] = 1;
            sum->train_rows++;
        }
    }

    bins_fit(f, cols, nc, use, &m->schema);
    uint8_t *Xall = xmalloc(nc * (f->nrows ? f->nrows : 1));
    struct bin_report rep;
    bins_apply(&m->schema, f, Xall, &rep);
    bins_report_cleanup(&rep);
    bins_profile(&m->schema, Xall, f->nrows, use);

    uint64_t n = sum->train_rows, nh = sum->holdout_rows;
    uint8_t *X = xmalloc(nc * (n ? n : 1)), *y = xmalloc(n ? n : 1);
    uint8_t *Xh = xmalloc(nc * (nh ? nh : 1)), *yh = xmalloc(nh ? nh : 1);
    uint64_t k = 0, kh = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        if (use[r]) {
            y[k] = target_label(f, &t, r) == 1;
            for (size_t j = 0; j < nc; j++)
                X[j * n + k] = Xall[j * f->nrows + r];
            k++;
        } else if (hold[r]) {
            yh[kh] = target_label(f, &t, r) == 1;
            for (size_t j = 0; j < nc; j++)
                Xh[j * nh + kh] = Xall[j * f->nrows + r];
            kh++;
        }
    }
    free(Xall);
    free(use);
    free(hold);

    uint8_t *is_cat = xmalloc(nc);
    uint16_t *nbins = xmalloc(nc * sizeof *nbins);
    for (size_t j = 0; j < nc; j++) {
        is_cat[j] = m->schema.feat[j].kind == FEAT_CATEGORICAL;
        nbins[j] = m->schema.feat[j].nbins;
    }
    double *oob = xmalloc((n ? n : 1) * sizeof *oob);
    struct forest_opts fo = o->forest;
    fo.inbag =
        o->forest.trees <= FOREST_MAX_TREES
            ? xmalloc(((size_t)o->forest.trees * forest_inbag_words(n) + 1) * sizeof *fo.inbag)
            : NULL;
    rc = forest_train(X, n, (uint32_t)nc, y, is_cat, nbins, &fo, &m->forest, oob, err);
    if (rc == LS_OK) {
        m->trees = o->forest.trees;
        m->mtry = o->forest.mtry ? o->forest.mtry : (uint32_t)lround(sqrt((double)nc));
        m->min_leaf = forest_min_leaf(&o->forest, n);
        m->max_depth = o->forest.max_depth;
        m->balanced = (uint8_t)o->forest.balanced;
        m->seed = o->forest.seed;
        m->target = xstrdup(t.name);
        m->positive = xstrdup(t.positive);
        m->negative = xstrdup(t.negative);
        /* the lists from target_find; its joined labels if a path left them out */
        char *pos1[] = {t.positive}, *neg1[] = {t.negative};
        m->npos_labels = t.npos_labels ? (uint32_t)t.npos_labels : 1;
        m->pos_labels = labels_dup(t.npos_labels ? t.pos_labels : pos1, m->npos_labels);
        m->nneg_labels = t.nneg_labels ? (uint32_t)t.nneg_labels : 1;
        m->neg_labels = labels_dup(t.nneg_labels ? t.neg_labels : neg1, m->nneg_labels);
        m->missing_tokens = strv_dup(o->missing_tokens ? o->missing_tokens : frame_default_missing);
        m->decimal_comma = (uint8_t)(f->info.decimal_comma != 0);
        m->id_column = id_col >= 0 ? xstrdup(f->cols[id_col].name) : NULL;
        m->tier_high = o->tier_high;
        m->tier_medium = o->tier_medium;
        m->train_rows = n;
        for (uint64_t r = 0; r < n; r++)
            m->train_pos += y[r];
        metrics_compute(oob, y, n, &m->oob);
        calib_fit(oob, y, n, &m->calib);
        keep_oob(m, X, n, y, oob, fo.inbag);
        if (nh > 0) {
            double *ph = xmalloc(nh * sizeof *ph);
            forest_predict(&m->forest, Xh, nh, ph, o->forest.threads);
            metrics_compute(ph, yh, nh, &m->holdout);
            m->has_holdout = 1;
            free(ph);
        }
        sum->features = nc;
    }
    free(oob);
    free(fo.inbag);
    free(is_cat);
    free(nbins);
    free(X);
    free(y);
    free(Xh);
    free(yh);
    train_features_cleanup(&tf);
    target_cleanup(&t);
    if (rc) {
        model_cleanup(m);
        return rc;
    }
    sum->took_ms = now_ms() - t0;
    return LS_OK;
}
