/*
 * bins.c — fitting and applying the feature bins of bins.h.
 *
 * Quantile bins: when a feature has at most 255 distinct training values,
 * each value gets its own bin (cut halfway between neighbours); otherwise the
 * sorted values are cut into 255 groups of about equal row count, never
 * splitting one value across two bins.
 */
#include "ml/bins.h"

#include "core/mem.h"
#include "core/sort.h"
#include "data/value.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *feat_kind_name(enum feat_kind k)
{
    static const char *const n[] = {"numeric", "boolean", "datetime", "categorical"};
    return (unsigned)k < 4 ? n[k] : "unknown";
}

/* Quantile thresholds for the sorted values v[0..n). */
static void fit_thresholds(struct feature *ft, const double *v, size_t n)
{
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || v[i] != v[i - 1];
    ft->thresholds = xmalloc(BINS_MAX * sizeof(double));
    size_t nt = 0;
    if (distinct <= BINS_MAX) {
        for (size_t i = 1; i < n; i++)
            if (v[i] != v[i - 1])
                ft->thresholds[nt++] = v[i - 1] + (v[i] - v[i - 1]) / 2;
    } else {
        /* walk the distinct values, cutting when a bin has its share of rows */
        double per_bin = (double)n / BINS_MAX;
        size_t i = 0;
        double taken = 0;
        while (i < n && nt < BINS_MAX - 1) {
            size_t j = i;
            while (j < n && v[j] == v[i])
                j++;
            taken += (double)(j - i);
            if (j < n && taken >= per_bin * (double)(nt + 1))
                ft->thresholds[nt++] = v[j - 1] + (v[j] - v[j - 1]) / 2;
            i = j;
        }
    }
    ft->nbins = (uint16_t)(nt + 1);
}

void bins_fit(const struct frame *f, const size_t *cols, size_t ncols, const uint8_t *use,
              struct bin_schema *s)
{
    s->nfeat = ncols;
    s->feat = xcalloc(ncols ? ncols : 1, sizeof *s->feat);
    double *v = xmalloc((f->nrows ? f->nrows : 1) * sizeof *v);
    for (size_t j = 0; j < ncols; j++) {
        const struct column *c = &f->cols[cols[j]];
        struct feature *ft = &s->feat[j];
        ft->name = xstrdup(c->name);
        if (c->type == COL_CATEGORICAL) {
            ft->kind = FEAT_CATEGORICAL;
            /* up to 254 categories have their own bins; past that 253 do and
             * "(other)" is the 254th: code 255 stays free for BINS_UNSEEN */
            ft->has_other = c->ncat > BINS_CAT_MAX;
            uint32_t own = ft->has_other ? BINS_CAT_MAX - 1 : c->ncat;
            ft->nbins = (uint16_t)(own + ft->has_other);
            if (ft->nbins == 0)
                ft->nbins = 1;
            ft->cats = xcalloc(ft->nbins, sizeof *ft->cats);
            for (uint32_t k = 0; k < own; k++)
                ft->cats[k] = xstrdup(c->cats[k]);
            if (ft->has_other)
                ft->cats[own] = xstrdup("(other)");
            if (own == 0)
                ft->cats[0] = xstrdup("(none)");
            continue;
        }
        ft->kind = c->type == COL_BOOLEAN    ? FEAT_BOOLEAN
                   : c->type == COL_DATETIME ? FEAT_DATETIME
                                             : FEAT_NUMERIC;
        ft->date_fmt = (uint8_t)c->prof.date_fmt;
        if (ft->kind == FEAT_BOOLEAN) {
            ft->true_label = xstrdup(c->true_label ? c->true_label : "true");
            ft->false_label = xstrdup(c->false_label ? c->false_label : "false");
            ft->thresholds = xmalloc(sizeof(double));
            ft->thresholds[0] = 0.5;
            ft->nbins = 2;
            continue;
        }
        size_t n = 0;
        for (uint64_t r = 0; r < f->nrows; r++)
            if ((!use || use[r]) && !isnan(c->num[r]))
                v[n++] = c->num[r];
        sort_doubles(v, n);
        fit_thresholds(ft, v, n);
    }
    free(v);
}

void bins_schema_cleanup(struct bin_schema *s)
{
    for (size_t j = 0; j < s->nfeat; j++) {
        struct feature *ft = &s->feat[j];
        free(ft->name);
        free(ft->thresholds);
        if (ft->cats)
            for (unsigned k = 0; k < ft->nbins; k++)
                free(ft->cats[k]);
        free(ft->cats);
        free(ft->true_label);
        free(ft->false_label);
        free(ft->train_share);
    }
    free(s->feat);
    s->feat = NULL;
    s->nfeat = 0;
}

static uint8_t bin_of(const struct feature *ft, double v)
{
    /* first threshold >= v, by binary search: bin = 1 + #thresholds below v */
    size_t lo = 0, hi = (size_t)ft->nbins - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v > ft->thresholds[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)(1 + lo);
}

/* Lower-case, trimmed copy of s into out (cap bytes); returns its length. */
static size_t fold(const char *s, size_t len, char *out, size_t cap)
{
    value_trim(&s, &len);
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[len] = '\0';
    return len;
}

void bins_index_build(const struct bin_schema *s, struct bins_index *ix)
{
    ix->nfeat = s->nfeat;
    ix->cats = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *ix->cats);
    ix->bin_of = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *ix->bin_of);
    for (size_t j = 0; j < s->nfeat; j++) {
        const struct feature *ft = &s->feat[j];
        dict_init(&ix->cats[j]);
        if (ft->kind != FEAT_CATEGORICAL)
            continue;
        ix->bin_of[j] = xmalloc(ft->nbins);
        char key[512];
        for (unsigned k = 0; k < ft->nbins; k++) {
            size_t kl = fold(ft->cats[k], strlen(ft->cats[k]), key, sizeof key);
            uint32_t before = ix->cats[j].n;
            uint32_t e = dict_intern(&ix->cats[j], key, kl);
            if (ix->cats[j].n > before) /* a label that folds like an earlier one keeps that bin */
                ix->bin_of[j][e] = (uint8_t)(k + 1);
        }
    }
}

void bins_index_cleanup(struct bins_index *ix)
{
    for (size_t j = 0; j < ix->nfeat; j++) {
        dict_cleanup(&ix->cats[j]);
        free(ix->bin_of[j]);
    }
    free(ix->cats);
    free(ix->bin_of);
    memset(ix, 0, sizeof *ix);
}

/* The bin of one raw cell text for feature ft; *how: 0 ok, 1 unseen, 2 unreadable. */
static uint8_t cell_bin(const struct feature *ft, const struct dict *cats, const uint8_t *cat_bin,
                        const char *s, size_t len, int decimal_comma, int *how)
{
    *how = 0;
    value_trim(&s, &len);
    double v;
    int ht;
    switch (ft->kind) {
    case FEAT_CATEGORICAL: {
        char key[512];
        size_t kl = fold(s, len, key, sizeof key);
        uint32_t k = dict_find(cats, key, kl);
        if (k != UINT32_MAX)
            return cat_bin[k];
        if (ft->has_other) /* the rare categories of training (and new ones) share it */
            return (uint8_t)ft->nbins;
        *how = 1;
        return bins_unseen_code(ft);
    }
    case FEAT_BOOLEAN: {
        int b = value_bool(s, len);
        if (b < 0 && value_parse_number(s, len, decimal_comma, &v) && (v == 0 || v == 1))
            b = v == 1;
        if (b < 0 && ft->true_label && value_ieq(s, len, ft->true_label))
            b = 1;
        if (b < 0 && ft->false_label && value_ieq(s, len, ft->false_label))
            b = 0;
        if (b < 0) {
            *how = 2;
            return BINS_MISSING;
        }
        return (uint8_t)(1 + b);
    }
    case FEAT_DATETIME:
        if (value_parse_date(s, len, (enum date_fmt)ft->date_fmt, &v, &ht) ||
            value_parse_date(s, len, DATE_ISO, &v, &ht))
            return bin_of(ft, v);
        *how = 2;
        return BINS_MISSING;
    case FEAT_NUMERIC:
        if (value_parse_number(s, len, decimal_comma, &v) ||
            value_parse_number(s, len, !decimal_comma, &v))
            return bin_of(ft, v);
        *how = 2;
        return BINS_MISSING;
    }
    return BINS_MISSING;
}

void bins_apply(const struct bin_schema *s, const struct frame *f, uint8_t *X,
                struct bin_report *rep)
{
    uint64_t n = f->nrows;
    rep->nfeat = s->nfeat;
    rep->col = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *rep->col);
    rep->unseen = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *rep->unseen);
    rep->unreadable = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *rep->unreadable);
    rep->missing = xcalloc(s->nfeat ? s->nfeat : 1, sizeof *rep->missing);
    struct bins_index ix;
    bins_index_build(s, &ix);
    for (size_t j = 0; j < s->nfeat; j++) {
        const struct feature *ft = &s->feat[j];
        uint8_t *xj = X + j * n;
        long ci = frame_find(f, ft->name);
        rep->col[j] = ci;
        if (ci < 0) {
            memset(xj, BINS_MISSING, n);
            rep->missing[j] = n;
            continue;
        }
        const struct column *c = &f->cols[ci];
        uint8_t *lut = xmalloc(c->dict.n ? c->dict.n : 1);
        for (uint32_t e = 0; e < c->dict.n; e++) {
            if (c->entry_na[e] && c->prof.non_numeric == 0) {
                lut[e] = BINS_MISSING;
                continue;
            }
            int how;
            lut[e] = cell_bin(ft, &ix.cats[j], ix.bin_of[j], dict_str(&c->dict, e),
                              c->dict.e[e].len, f->info.decimal_comma, &how);
            int other = ft->kind == FEAT_CATEGORICAL && ft->has_other && lut[e] == ft->nbins;
            if (c->entry_na[e] && (how || other)) { /* a token the frame read as missing */
                lut[e] = BINS_MISSING;
                continue;
            }
            if (how == 1)
                rep->unseen[j] += c->dict.e[e].count;
            else if (how == 2)
                rep->unreadable[j] += c->dict.e[e].count;
        }
        uint64_t miss = 0;
        for (uint64_t r = 0; r < n; r++) {
            uint32_t k = c->codes[r];
            uint8_t b = k == FRAME_NA ? BINS_MISSING : lut[k];
            xj[r] = b;
            miss += b == BINS_MISSING;
        }
        rep->missing[j] = miss;
        free(lut);
    }
    bins_index_cleanup(&ix);
}

uint8_t bins_unseen_code(const struct feature *ft)
{
    return ft->kind == FEAT_CATEGORICAL && ft->nbins < BINS_UNSEEN ? BINS_UNSEEN : BINS_MISSING;
}

uint8_t bins_value(const struct bin_schema *s, const struct bins_index *ix, size_t j,
                   const char *text, size_t len, int decimal_comma, int *how)
{
    *how = 0;
    if (!text)
        return BINS_MISSING;
    return cell_bin(&s->feat[j], &ix->cats[j], ix->bin_of[j], text, len, decimal_comma, how);
}

void bins_report_cleanup(struct bin_report *rep)
{
    free(rep->col);
    free(rep->unseen);
    free(rep->unreadable);
    free(rep->missing);
    memset(rep, 0, sizeof *rep);
}

void bins_profile(struct bin_schema *s, const uint8_t *X, uint64_t nrows, const uint8_t *use)
{
    for (size_t j = 0; j < s->nfeat; j++) {
        struct feature *ft = &s->feat[j];
        uint64_t cnt[BINS_MAX + 1] = {0}, tot = 0;
        const uint8_t *xj = X + j * nrows;
        for (uint64_t r = 0; r < nrows; r++)
            if (!use || use[r]) {
                cnt[xj[r]]++;
                tot++;
            }
        free(ft->train_share);
        ft->train_share = xmalloc(((size_t)ft->nbins + 1) * sizeof(double));
        for (unsigned b = 0; b <= ft->nbins; b++)
            ft->train_share[b] = tot ? (double)cnt[b] / (double)tot : 0;
    }
}

void bins_describe(const struct feature *ft, unsigned b, char *out, size_t cap)
{
    if (b == bins_unseen_code(ft) && b != BINS_MISSING) {
        snprintf(out, cap, "(new value)");
        return;
    }
    if (b == BINS_MISSING || b > ft->nbins) {
        snprintf(out, cap, "missing");
        return;
    }
    switch (ft->kind) {
    case FEAT_CATEGORICAL:
        snprintf(out, cap, "%s", ft->cats[b - 1]);
        return;
    case FEAT_BOOLEAN:
        snprintf(out, cap, "%s", b == 2 ? ft->true_label : ft->false_label);
        return;
    default:
        break;
    }
    unsigned nt = ft->nbins - 1u;
    if (nt == 0)
        snprintf(out, cap, "any");
    else if (b == 1)
        snprintf(out, cap, "≤ %.6g", ft->thresholds[0]);
    else if (b == ft->nbins)
        snprintf(out, cap, "> %.6g", ft->thresholds[nt - 1]);
    else
        snprintf(out, cap, "%.6g – %.6g", ft->thresholds[b - 2], ft->thresholds[b - 1]);
}
