/*
 * train.c — the training orchestration of train.h.
 */
#include "app/train.h"

#include "app/leakage.h"
#include "app/profile.h"
#include "core/mem.h"
#include "core/rng.h"
#include "data/target.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

/* s[0..len) without surrounding spaces and tabs, as a new string. */
static char *trim_dup(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char *out = xmalloc(len + 1);
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/*
 * Mark in mask[] the columns o->exclude names. An entry that is a column's
 * name (trimmed; exact, then without case, as scoring finds columns) is that
 * column, commas and all; otherwise it is a comma-separated list of names.
 */
static int resolve_excludes(const struct frame *f, const struct train_opts *o, uint8_t *mask,
                            struct ls_error *err)
{
    int rc = LS_OK;
    char *name = NULL;
    for (size_t e = 0; e < o->nexclude && rc == LS_OK; e++) {
        const char *s = o->exclude[e];
        name = trim_dup(s, strlen(s));
        long ci = frame_find(f, name);
        free(name);
        name = NULL;
        if (ci >= 0) {
            mask[ci] = 1;
            continue;
        }
        for (const char *p = s; p && rc == LS_OK;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            name = trim_dup(p, len);
            ci = name[0] ? frame_find(f, name) : -2;
            if (ci == -1)
                rc = ls_error_set(err, LS_ENOT_FOUND, "--exclude: no column named '%.200s'%s", name,
                                  comma || p != s ? " (a name holding a comma is given whole, "
                                                    "as its own --exclude)"
                                                  : "");
            else if (ci >= 0)
                mask[ci] = 1;
            free(name);
            name = NULL;
            p = comma ? comma + 1 : NULL;
        }
    }
    return rc;
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
    uint8_t *excluded = xcalloc(f->ncols ? f->ncols : 1, 1);
    int rc = resolve_excludes(f, o, excluded, err);
    if (rc) {
        free(excluded);
        return rc;
    }
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

static void add_warning(struct train_summary *sum, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_warning(struct train_summary *sum, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sum->warnings = xreallocarray(sum->warnings, sum->nwarnings + 1, sizeof *sum->warnings);
    sum->warnings[sum->nwarnings++] = xstrdup(msg);
}

/* Enough outcomes to learn from and to measure: an error below
 * TRAIN_MIN_LABELLED / TRAIN_MIN_CLASS, a warning below TRAIN_ROUGH_LABELLED. */
static int check_outcomes(const struct target *t, struct train_summary *sum, struct ls_error *err)
{
    unsigned long long n = t->n_pos + t->n_neg, np = t->n_pos, nn = t->n_neg;
    if (n < TRAIN_MIN_LABELLED)
        return ls_error_set(err, LS_EINPUT,
                            "only %llu lead%s %s a known outcome in '%s' (%llu '%.40s', %llu "
                            "not): training needs at least %d, with at least %d of each outcome",
                            n, n == 1 ? "" : "s", n == 1 ? "has" : "have", t->name, np, t->positive,
                            nn, TRAIN_MIN_LABELLED, TRAIN_MIN_CLASS);
    if (np < TRAIN_MIN_CLASS || nn < TRAIN_MIN_CLASS)
        return ls_error_set(err, LS_EINPUT,
                            "only %llu of the %llu leads with a known outcome in '%s' %s: "
                            "training needs at least %d of each outcome",
                            np < nn ? np : nn, n, t->name,
                            np < nn ? "are positive" : "are negative", TRAIN_MIN_CLASS);
    if (n < TRAIN_ROUGH_LABELLED)
        add_warning(sum,
                    "only %llu leads have a known outcome (%llu '%.40s'): the metrics are "
                    "rough; they settle from about %d",
                    n, np, t->positive, TRAIN_ROUGH_LABELLED);
    return LS_OK;
}

/* Run the leakage scan on what training would use and, unless o says to
 * keep them, append its "exclude" columns to o->exclude (the names point
 * into the report, which sum then owns). */
static int exclude_leaky(const struct frame *f, const struct target *t, struct train_opts *o,
                         struct train_summary *sum, struct ls_error *err)
{
    struct leakage_opts lo;
    leakage_opts_default(&lo);
    lo.seed = o->forest.seed;
    lo.threads = o->forest.threads;
    struct leakage_report *r = xcalloc(1, sizeof *r);
    int rc = leakage_scan(f, t, o, &lo, r, err);
    if (rc) {
        free(r);
        return rc;
    }
    sum->leakage = r;
    if (o->include_leaky)
        return LS_OK;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->cols[i].level != LEAKAGE_EXCLUDE)
            continue;
        if (o->nexclude == TRAIN_MAX_EXCLUDE)
            return ls_error_set(err, LS_ELIMIT, "more than %d columns to exclude",
                                TRAIN_MAX_EXCLUDE);
        o->exclude[o->nexclude++] = r->cols[i].name;
    }
    return LS_OK;
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
    sum->include_leaky = o->include_leaky;
    struct target t = {.col = -1};
    struct train_features tf = {0};
    struct train_opts *eff = xmalloc(sizeof *eff); /* o plus the leaky columns */
    *eff = *o;
    uint8_t *use = NULL, *hold = NULL, *Xall = NULL, *X = NULL, *y = NULL, *Xh = NULL, *yh = NULL,
            *is_cat = NULL;
    uint16_t *nbins = NULL;
    double *oob = NULL;
    struct forest_opts fo = o->forest;
    fo.inbag = NULL;
    int rc = target_find(f, o->target, &t, err);
    if (rc)
        goto out;
    if ((rc = target_choose_positive(f, &t, o->positive, err)) != LS_OK)
        goto out;
    if ((rc = check_outcomes(&t, sum, err)) != LS_OK)
        goto out;
    if (!o->skip_leakage_scan && (rc = exclude_leaky(f, &t, eff, sum, err)) != LS_OK)
        goto out;
    if ((rc = train_features_select(f, t.col, eff, &tf, err)) != LS_OK)
        goto out;
    size_t *cols = tf.cols, nc = tf.ncols;
    sum->excluded = tf.skipped;
    { /* how the file was read (encoding, renamed columns, short rows), as inspect says */
        json_t *rw = json_array();
        profile_read_warnings(f, rw);
        for (size_t k = 0; k < json_array_size(rw); k++)
            add_warning(sum, "%s", json_string_value(json_array_get(rw, k)));
        json_decref(rw);
    }
    for (size_t j = 0; j < nc; j++) {
        char msg[512];
        if (frame_column_warning(&f->cols[cols[j]], msg, sizeof msg))
            add_warning(sum, "%s", msg);
    }

    /* labelled rows; a seeded holdout share of them is kept aside */
    use = xcalloc(f->nrows ? f->nrows : 1, 1);
    hold = xcalloc(f->nrows ? f->nrows : 1, 1);
    struct rng rng;
    rng_seed2(&rng, o->forest.seed, 0xB01D0u);
    for (uint64_t r = 0; r < f->nrows; r++) {
        int lab = target_label(f, &t, r);
        if (lab < 0)
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
    Xall = xmalloc(nc * (f->nrows ? f->nrows : 1));
    struct bin_report rep;
    bins_apply(&m->schema, f, Xall, &rep);
    bins_report_cleanup(&rep);
    bins_profile(&m->schema, Xall, f->nrows, use);

    uint64_t n = sum->train_rows, nh = sum->holdout_rows;
    X = xmalloc(nc * (n ? n : 1));
    y = xmalloc(n ? n : 1);
    Xh = xmalloc(nc * (nh ? nh : 1));
    yh = xmalloc(nh ? nh : 1);
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

    is_cat = xmalloc(nc);
    nbins = xmalloc(nc * sizeof *nbins);
    for (size_t j = 0; j < nc; j++) {
        is_cat[j] = m->schema.feat[j].kind == FEAT_CATEGORICAL;
        nbins[j] = m->schema.feat[j].nbins;
    }
    oob = xmalloc((n ? n : 1) * sizeof *oob);
    if (o->forest.trees <= FOREST_MAX_TREES) /* forest_train refuses more */
        fo.inbag =
            xmalloc(((size_t)o->forest.trees * forest_inbag_words(n) + 1) * sizeof *fo.inbag);
    rc = forest_train(X, n, (uint32_t)nc, y, is_cat, nbins, &fo, &m->forest, oob, err);
    if (rc)
        goto out;
    { /* settings that leave the model or its metrics hollow are said, not hidden */
        uint32_t split = 0;
        for (uint32_t i = 0; i < m->forest.ntrees; i++)
            split += m->forest.trees[i].nnodes > 1;
        if (split == 0)
            add_warning(sum,
                        "no tree could split (smallest leaf %u of %llu training rows): every lead "
                        "gets the base rate and the metrics mean nothing; lower --min-leaf",
                        forest_min_leaf(&o->forest, n), (unsigned long long)n);
        if (o->forest.trees < 10)
            add_warning(sum,
                        "%u trees: each lead's out-of-bag score rests on about %.0f of them, so "
                        "the metrics are rough (100 is the default)",
                        o->forest.trees, 0.368 * o->forest.trees);
        if (o->forest.mtry > nc)
            add_warning(sum,
                        "--mtry %u is more than the %zu features: every split tries all of them",
                        o->forest.mtry, nc);
    }
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
    m->ntrain_columns = (uint32_t)(f->ncols < MODEL_MAX_COLUMNS ? f->ncols : MODEL_MAX_COLUMNS);
    m->train_columns = xcalloc((size_t)m->ntrain_columns + 1, sizeof *m->train_columns);
    for (uint32_t c = 0; c < m->ntrain_columns; c++)
        m->train_columns[c] = xstrdup(f->cols[c].name);
    m->id_column = tf.id_col >= 0 ? xstrdup(f->cols[tf.id_col].name) : NULL;
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
out:
    free(oob);
    free(fo.inbag);
    free(is_cat);
    free(nbins);
    free(Xall);
    free(use);
    free(hold);
    free(X);
    free(y);
    free(Xh);
    free(yh);
    free(eff);
    train_features_cleanup(&tf);
    target_cleanup(&t);
    if (rc) {
        model_cleanup(m);
        train_summary_cleanup(sum);
        return rc;
    }
    sum->took_ms = now_ms() - t0;
    return LS_OK;
}

void train_summary_cleanup(struct train_summary *sum)
{
    if (!sum)
        return;
    leakage_report_cleanup(sum->leakage);
    free(sum->leakage);
    for (size_t i = 0; i < sum->nwarnings; i++)
        free(sum->warnings[i]);
    free(sum->warnings);
    sum->leakage = NULL;
    sum->warnings = NULL;
    sum->nwarnings = 0;
}

void train_summary_json(const struct train_summary *sum, json_t *o)
{
    json_t *excluded = json_array(), *auto_ex = json_array(), *checks = json_array();
    const struct leakage_report *r = sum->leakage;
    for (size_t i = 0; r && i < r->ncols; i++) {
        const struct leakage_column *c = &r->cols[i];
        if (c->level != LEAKAGE_EXCLUDE || sum->include_leaky)
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "column", json_string(c->name));
        json_object_set_new(e, "reason", json_string(c->reason));
        json_object_set_new(e, "level", json_string(leakage_level_name(c->level)));
        json_object_set_new(e, "auc", isfinite(c->auc) ? json_real(c->auc) : json_null());
        json_array_append_new(excluded, e);
    }
    if (r) {
        json_t *all = leakage_json(r, LEAKAGE_CHECK);
        size_t k;
        json_t *v;
        json_array_foreach(all, k, v)
        {
            int ex = strcmp(json_string_value(json_object_get(v, "level")), "exclude") == 0;
            json_array_append(ex && !sum->include_leaky ? auto_ex : checks, v);
        }
        json_decref(all);
    }
    /* the flagged columns kept on the user's word (include_leaky): named so
     * that every answer about the model can warn */
    json_t *kept = json_array();
    for (size_t i = 0; r && sum->include_leaky && i < r->ncols; i++) {
        const struct leakage_column *c = &r->cols[i];
        if (c->level != LEAKAGE_EXCLUDE)
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "column", json_string(c->name));
        json_object_set_new(e, "reason", json_string(c->reason));
        json_object_set_new(e, "auc", isfinite(c->auc) ? json_real(c->auc) : json_null());
        json_array_append_new(kept, e);
    }
    json_object_set_new(o, "excluded", excluded);
    json_object_set_new(o, "kept_leaky", kept);
    json_object_set_new(o, "auto_excluded", auto_ex);
    json_object_set_new(o, "leakage_checks", checks);
    json_object_set_new(o, "include_leaky", json_boolean(sum->include_leaky));
    json_t *w = json_array();
    for (size_t i = 0; i < sum->nwarnings; i++)
        json_array_append_new(w, json_string(sum->warnings[i]));
    json_object_set_new(o, "warnings", w);
}
