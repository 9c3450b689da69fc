/*
 * score.c — the scoring orchestration of score.h.
 */
#include "app/score.h"

#include "core/mem.h"
#include "data/value.h"

#include <math.h>
#include <string.h>

const char *tier_name(enum tier t)
{
    return t == TIER_HIGH ? "High" : t == TIER_MEDIUM ? "Medium" : "Low";
}

void score_opts_default(struct score_opts *o)
{
    memset(o, 0, sizeof *o);
    o->high = o->medium = -1;
    o->q_high = 0.2;
    o->q_medium = 0.3;
}

/* Is text one of the n labels, compared without case? */
static int in_labels(const char *text, size_t len, char *const *labels, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (value_ieq(text, len, labels[i]))
            return 1;
    return 0;
}

/* The outcome written in a cell of the target column: 1, 0, or -1 unknown. */
static int cell_label(const struct model *m, const char *s, size_t len)
{
    value_trim(&s, &len);
    if (len == 0)
        return -1;
    if (in_labels(s, len, m->pos_labels, m->npos_labels))
        return 1;
    if (in_labels(s, len, m->neg_labels, m->nneg_labels))
        return 0;
    if (m->npos_labels != 1 || m->nneg_labels != 1)
        return -1;
    /* "yes" for "Yes", "1.0" for "1": compare as yes/no or as numbers */
    const char *pl = m->pos_labels[0], *nl = m->neg_labels[0];
    int b = value_bool(s, len), pb = value_bool(pl, strlen(pl));
    int nb = value_bool(nl, strlen(nl));
    if (b >= 0 && pb >= 0 && nb >= 0 && pb != nb)
        return b == pb;
    double v, pv, nv;
    if (value_parse_number(s, len, 0, &v) && value_parse_number(pl, strlen(pl), 0, &pv) &&
        value_parse_number(nl, strlen(nl), 0, &nv))
        return v == pv ? 1 : v == nv ? 0 : -1;
    return -1;
}

/*
 * The out-of-bag raw of the k training rows rows[] (in-bag sets sets[],
 * model.h): the mean of the trees each set leaves out, into raw[rows[q]].
 * Trees outer, rows inner, so one tree stays in cache while the rows stream
 * past (a row walking its trees in turn would reload every tree once per
 * row: 7x slower on 300,000 rows); each row still adds its trees in tree
 * order.
 */
static void raws_out_of_bag(const struct forest *fo, const uint64_t *rows,
                            const uint8_t *const *sets, uint64_t k, const uint8_t *X,
                            uint64_t stride, double *raw)
{
    double *sum = xcalloc(k ? k : 1, sizeof *sum);
    uint32_t *cnt = xcalloc(k ? k : 1, sizeof *cnt);
    for (uint32_t t = 0; t < fo->ntrees; t++) {
        const struct tree *tr = &fo->trees[t];
        for (uint64_t q = 0; q < k; q++)
            if (!(sets[q][t >> 3] >> (t & 7) & 1)) {
                sum[q] += tree_predict(tr, X, stride, rows[q]);
                cnt[q]++;
            }
    }
    for (uint64_t q = 0; q < k; q++)
        raw[rows[q]] = sum[q] / cnt[q]; /* cnt >= 1: model_load checks every set */
    free(sum);
    free(cnt);
}

struct ranked {
    double score, raw;
    uint64_t row;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->raw != y->raw)
        return x->raw > y->raw ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

int app_score(const struct model *m, const struct frame *f, const struct score_opts *o,
              struct score_result *res, struct ls_error *err)
{
    memset(res, 0, sizeof *res);
    uint64_t n = f->nrows;
    size_t nf = m->schema.nfeat;
    res->n = n;
    res->nfeat = nf;
    res->X = xmalloc(nf * (n ? n : 1));
    struct bin_report rep;
    bins_apply(&m->schema, f, res->X, &rep);
    res->missing_cols = xcalloc(nf, sizeof *res->missing_cols);
    for (size_t j = 0; j < nf; j++)
        if (rep.col[j] < 0)
            res->missing_cols[res->nmissing_cols++] = xstrdup(m->schema.feat[j].name);
    drift_compute(&m->schema, res->X, n, &rep, &res->drift);
    res->feat_col = xmalloc((nf ? nf : 1) * sizeof *res->feat_col);
    memcpy(res->feat_col, rep.col, nf * sizeof *res->feat_col);
    res->unseen = rep.unseen;
    res->unreadable = rep.unreadable;
    rep.unseen = rep.unreadable = NULL;
    if (res->nmissing_cols == nf) {
        bins_report_cleanup(&rep);
        score_result_cleanup(res);
        return ls_error_set(err, LS_EINPUT,
                            "the file has none of the model's %zu columns (such "
                            "as '%s'): is it the right file for this model?%s",
                            nf, m->schema.feat[0].name,
                            f->ncols == 1 ? " (it was read as one column: check --delimiter)" : "");
    }
    long target_col = m->target ? frame_find(f, m->target) : -1;
    res->id_col = m->id_column ? frame_find(f, m->id_column) : -1;
    res->extra_cols = xcalloc(f->ncols ? f->ncols : 1, sizeof *res->extra_cols);
    for (size_t i = 0; i < f->ncols; i++) {
        int used = (long)i == target_col || (long)i == res->id_col;
        for (size_t j = 0; j < nf && !used; j++)
            used = rep.col[j] == (long)i;
        if (!used)
            res->extra_cols[res->nextra_cols++] = xstrdup(f->cols[i].name);
    }
    res->new_cols = xcalloc(res->nextra_cols ? res->nextra_cols : 1, sizeof *res->new_cols);
    for (size_t i = 0; i < res->nextra_cols; i++) {
        int known = 0;
        for (uint32_t c = 0; c < m->ntrain_columns && !known; c++)
            known = value_ieq(res->extra_cols[i], strlen(res->extra_cols[i]), m->train_columns[c]);
        if (!known)
            res->new_cols[res->nnew_cols++] = xstrdup(res->extra_cols[i]);
    }
    bins_report_cleanup(&rep);

    res->raw = xmalloc((n ? n : 1) * sizeof *res->raw);
    res->score = xmalloc((n ? n : 1) * sizeof *res->score);
    res->tier = xmalloc(n ? n : 1);
    res->rank = xmalloc((n ? n : 1) * sizeof *res->rank);
    res->label = xmalloc(n ? n : 1);
    res->oob = xcalloc(n ? n : 1, 1);
    if (m->inbag) {
        res->inbag_words = (m->forest.ntrees + 63) / 64;
        res->inbag = xcalloc((n ? n : 1) * res->inbag_words, sizeof *res->inbag);
    }
    forest_predict(&m->forest, res->X, n, res->raw, o->threads);
    uint64_t *tr_rows = NULL, ntr = 0; /* training rows with an in-bag set */
    const uint8_t **tr_sets = NULL;
    if (m->inbag) {
        tr_rows = xmalloc((n ? n : 1) * sizeof *tr_rows);
        tr_sets = xmalloc((n ? n : 1) * sizeof *tr_sets);
    }
    for (uint64_t r = 0; r < n; r++) {
        res->label[r] = -1;
        if (target_col >= 0) {
            const struct column *c = &f->cols[target_col];
            uint32_t k = c->codes[r];
            if (k != FRAME_NA)
                res->label[r] = (int8_t)cell_label(m, dict_str(&c->dict, k), c->dict.e[k].len);
        }
        if (res->label[r] < 0 || !m->noob)
            continue;
        uint64_t i = model_oob_find(m, model_row_key(res->X, n, r, nf, res->label[r]));
        const uint8_t *set = model_inbag(m, i);
        if (i >= m->noob || (!set && isnan(m->oob_raw[i])))
            continue;
        res->oob[r] = 1;
        res->oob_rows++;
        if (!set) { /* version 1: the stored raw */
            res->raw[r] = m->oob_raw[i];
            continue;
        }
        tr_rows[ntr] = r;
        tr_sets[ntr++] = set;
        uint64_t *bits = res->inbag + r * res->inbag_words;
        for (uint32_t t = 0; t < m->forest.ntrees; t++)
            bits[t >> 6] |= (uint64_t)(set[t >> 3] >> (t & 7) & 1) << (t & 63);
    }
    if (ntr)
        raws_out_of_bag(&m->forest, tr_rows, tr_sets, ntr, res->X, n, res->raw);
    free(tr_rows);
    free(tr_sets);
    for (uint64_t r = 0; r < n; r++)
        res->score[r] = 100.0 * calib_apply(&m->calib, res->raw[r]);

    struct ranked *rk = xmalloc((n ? n : 1) * sizeof *rk);
    for (uint64_t r = 0; r < n; r++)
        rk[r] = (struct ranked){res->score[r], res->raw[r], r};
    qsort(rk, n, sizeof *rk, cmp_ranked);
    double high = o->high >= 0 ? o->high : m->tier_high;
    double medium = o->medium >= 0 ? o->medium : m->tier_medium;
    uint64_t qh = (uint64_t)llround(o->q_high * (double)n);
    uint64_t qm = qh + (uint64_t)llround(o->q_medium * (double)n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = rk[i].row;
        res->rank[r] = i + 1;
        enum tier t;
        if (o->quantile_tiers)
            t = i < qh ? TIER_HIGH : i < qm ? TIER_MEDIUM : TIER_LOW;
        else
            t = res->score[r] >= high     ? TIER_HIGH
                : res->score[r] >= medium ? TIER_MEDIUM
                                          : TIER_LOW;
        res->tier[r] = (uint8_t)t;
        res->tier_count[t]++;
    }
    free(rk);

    /* metrics on the rows whose outcome the file gives */
    uint64_t nl = 0;
    for (uint64_t r = 0; r < n; r++)
        nl += res->label[r] >= 0;
    if (nl > 0) {
        double *p = xmalloc(nl * sizeof *p);
        uint8_t *y = xmalloc(nl);
        uint64_t k = 0;
        for (uint64_t r = 0; r < n; r++)
            if (res->label[r] >= 0) {
                p[k] = res->score[r] / 100.0;
                y[k++] = (uint8_t)res->label[r];
            }
        metrics_compute(p, y, nl, &res->metrics);
        res->has_metrics = 1;
        free(p);
        free(y);
    }
    return LS_OK;
}

void score_result_cleanup(struct score_result *res)
{
    free(res->raw);
    free(res->score);
    free(res->tier);
    free(res->rank);
    free(res->label);
    free(res->oob);
    free(res->inbag);
    free(res->X);
    free(res->feat_col);
    for (size_t i = 0; i < res->nmissing_cols; i++)
        free(res->missing_cols[i]);
    free(res->missing_cols);
    for (size_t i = 0; i < res->nextra_cols; i++)
        free(res->extra_cols[i]);
    free(res->extra_cols);
    for (size_t i = 0; i < res->nnew_cols; i++)
        free(res->new_cols[i]);
    free(res->new_cols);
    free(res->unseen);
    free(res->unreadable);
    drift_report_cleanup(&res->drift);
    memset(res, 0, sizeof *res);
}
