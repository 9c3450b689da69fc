/*
 * explain.c — contributions, reasons and summaries (see explain.h).
 */
#include "app/explain.h"

#include "core/mem.h"
#include "ml/treeshap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define REASON_MIN_POINTS 0.05

void app_explain(const struct model *m, const struct score_result *r, uint64_t row0, uint64_t n,
                 uint32_t threads, struct explain_result *out)
{
    app_explain_progress(m, r, row0, n, threads, NULL, NULL, out);
}

void app_explain_progress(const struct model *m, const struct score_result *r, uint64_t row0,
                          uint64_t n, uint32_t threads,
                          void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx,
                          struct explain_result *out)
{
    memset(out, 0, sizeof *out);
    size_t nf = m->schema.nfeat;
    out->row0 = row0;
    out->n = n;
    out->nfeat = nf;
    out->phi = xmalloc((n ? n : 1) * (nf ? nf : 1) * sizeof *out->phi);
    out->base = xmalloc((n ? n : 1) * sizeof *out->base);
    out->raw = xmalloc((n ? n : 1) * sizeof *out->raw);
    struct treeshap *ts = treeshap_new(&m->forest);
    /* a training lead leaves out the trees that drew it, as its score does */
    const uint64_t *skip = r->inbag ? r->inbag + row0 * r->inbag_words : NULL;
    treeshap_set_progress(ts, progress, ctx);
    treeshap_rows(ts, r->X, r->n, row0, n, skip, skip ? r->inbag_words : 0, threads, out->phi,
                  out->base);
    treeshap_free(ts);
    for (uint64_t i = 0; i < n; i++) {
        double *p = out->phi + i * nf, s = out->base[i];
        for (size_t j = 0; j < nf; j++)
            s += p[j];
        for (size_t j = 0; j < nf; j++)
            p[j] *= 100.0;
        out->base[i] *= 100.0;
        out->raw[i] = 100.0 * (s < 0 && s > -1e-12 ? 0 : s); /* no "-0.0" from rounding */
    }
}

void explain_result_cleanup(struct explain_result *e)
{
    free(e->phi);
    free(e->base);
    free(e->raw);
    memset(e, 0, sizeof *e);
}

size_t explain_top(const struct explain_result *e, uint64_t row, int sign, size_t *feat, size_t max)
{
    const double *p = e->phi + (row - e->row0) * e->nfeat;
    size_t k = 0;
    for (size_t j = 0; j < e->nfeat; j++) {
        double v = sign > 0 ? p[j] : -p[j];
        if (!(v >= REASON_MIN_POINTS))
            continue;
        /* insertion into the sorted top list */
        size_t at = k < max ? k : max;
        while (at > 0 && (sign > 0 ? p[feat[at - 1]] : -p[feat[at - 1]]) < v)
            at--;
        if (at >= max)
            continue;
        size_t last = k < max ? k : max - 1;
        for (size_t i = last; i > at; i--)
            feat[i] = feat[i - 1];
        feat[at] = j;
        if (k < max)
            k++;
    }
    return k;
}

/* Copy s into out, cut at a character boundary when too long. */
static void copy_cut(char *out, size_t cap, const char *s)
{
    size_t len = strlen(s), lim = cap - 1 < EXPLAIN_VALUE_MAX ? cap - 1 : EXPLAIN_VALUE_MAX;
    if (len <= lim) {
        memcpy(out, s, len + 1);
        return;
    }
    size_t cut = lim - 3; /* room for "..." */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
}

void explain_value(const struct model *m, const struct frame *f, const struct score_result *r,
                   size_t j, uint64_t row, char *out, size_t cap)
{
    long col = r->feat_col[j];
    if (col < 0) {
        snprintf(out, cap, "missing (no such column)");
        return;
    }
    /* the model's reading decides: a cell the file's own typing calls a
     * stray can still be a category the model knows */
    unsigned bin = r->X[j * r->n + row];
    int unseen = bin == BINS_UNSEEN && bins_unseen_code(&m->schema.feat[j]) == BINS_UNSEEN;
    int read = bin != BINS_MISSING;
    if (!read && frame_is_missing(f, (size_t)col, row)) {
        snprintf(out, cap, "missing");
        return;
    }
    char cell[EXPLAIN_VALUE_MAX + 1];
    copy_cut(cell, sizeof cell, frame_cell(f, (size_t)col, row));
    if (unseen) /* a category the model never saw: neutral, it counts for nothing */
        snprintf(out, cap, "%s (new value)", cell);
    else if (!read) /* not missing in the file: unreadable (or an older model's unseen) */
        snprintf(out, cap, "%s (new value, read as missing)", cell);
    else
        snprintf(out, cap, "%s", cell);
}

/* "+12.3" / "−4.0" (a real minus sign) */
static void points_text(double v, char *out, size_t cap)
{
    if (v < 0)
        snprintf(out, cap, "\u2212%.1f", -v);
    else
        snprintf(out, cap, "+%.1f", v);
}

void explain_reason(const struct model *m, const struct frame *f, const struct score_result *r,
                    const struct explain_result *e, size_t j, uint64_t row, char *out, size_t cap)
{
    char name[EXPLAIN_VALUE_MAX + 1], val[EXPLAIN_VALUE_MAX + 64], pts[32];
    copy_cut(name, sizeof name, m->schema.feat[j].name);
    explain_value(m, f, r, j, row, val, sizeof val);
    points_text(e->phi[(row - e->row0) * e->nfeat + j], pts, sizeof pts);
    snprintf(out, cap, "%s = %s \u2192 %s pts", name, val, pts);
}

static json_t *reasons_json(const struct model *m, const struct frame *f,
                            const struct score_result *r, const struct explain_result *e,
                            uint64_t row, int sign)
{
    size_t feat[EXPLAIN_REASONS];
    size_t k = explain_top(e, row, sign, feat, EXPLAIN_REASONS);
    json_t *a = json_array();
    for (size_t i = 0; i < k; i++) {
        char val[EXPLAIN_VALUE_MAX + 64], text[512];
        explain_value(m, f, r, feat[i], row, val, sizeof val);
        explain_reason(m, f, r, e, feat[i], row, text, sizeof text);
        json_t *o = json_object();
        json_object_set_new(o, "column", json_string(m->schema.feat[feat[i]].name));
        json_t *v = json_string(val);
        json_object_set_new(o, "value", v ? v : json_null());
        json_object_set_new(o, "points", json_real(e->phi[(row - e->row0) * e->nfeat + feat[i]]));
        json_t *t = json_string(text);
        json_object_set_new(o, "text", t ? t : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

void explain_lead_json(const struct model *m, const struct frame *f, const struct score_result *r,
                       const struct explain_result *e, uint64_t row, json_t *obj)
{
    uint64_t i = row - e->row0;
    json_object_set_new(obj, "base", json_real(e->base[i]));
    json_object_set_new(obj, "raw_explained", json_real(e->raw[i]));
    json_t *c = json_object();
    for (size_t j = 0; j < e->nfeat; j++)
        json_object_set_new(c, m->schema.feat[j].name, json_real(e->phi[i * e->nfeat + j]));
    json_object_set_new(obj, "contributions", c);
    json_t *rs = json_object();
    json_object_set_new(rs, "for", reasons_json(m, f, r, e, row, 1));
    json_object_set_new(rs, "against", reasons_json(m, f, r, e, row, -1));
    json_object_set_new(obj, "reasons", rs);
}

struct imp {
    size_t j;
    double v;
};

static int cmp_imp(const void *a, const void *b)
{
    const struct imp *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/*
 * The summary from contributions e of some leads of r: lead k of e is row
 * at[k] of r (at NULL: e covers every lead, in order). Importance and each
 * value's mean contribution come from the leads of e; a value's lead count and
 * conversion rate from every lead of r, which costs nothing.
 */
static json_t *summary_json(const struct model *m, const struct score_result *r,
                            const struct explain_result *e, const uint64_t *at)
{
    size_t nf = e->nfeat;
    uint64_t n = e->n, nr = r->n;
    json_t *o = json_object();
    json_object_set_new(o, "sample_leads", json_integer((json_int_t)n));
    json_object_set_new(o, "sampled", json_boolean(n < nr));
    struct imp *im = xmalloc((nf ? nf : 1) * sizeof *im);
    for (size_t j = 0; j < nf; j++) {
        double s = 0;
        for (uint64_t i = 0; i < n; i++)
            s += fabs(e->phi[i * nf + j]);
        im[j] = (struct imp){j, n ? s / (double)n : 0};
    }
    qsort(im, nf, sizeof *im, cmp_imp);
    json_t *ia = json_array();
    for (size_t k = 0; k < nf; k++) {
        json_t *x = json_object();
        json_object_set_new(x, "column", json_string(m->schema.feat[im[k].j].name));
        json_object_set_new(x, "mean_abs_points", json_real(im[k].v));
        json_array_append_new(ia, x);
    }
    json_object_set_new(o, "importance", ia);
    free(im);

    json_t *cats = json_object();
    for (size_t j = 0; j < nf; j++) {
        const struct feature *ft = &m->schema.feat[j];
        if (ft->kind != FEAT_CATEGORICAL && ft->kind != FEAT_BOOLEAN)
            continue;
        unsigned nb = ft->nbins + 1u;
        /* every code has a slot: value bins, missing, and BINS_UNSEEN */
        double *sum = xcalloc(BINS_MAX + 1, sizeof *sum);
        uint64_t *cnt = xcalloc(BINS_MAX + 1, sizeof *cnt),
                 *scnt = xcalloc(BINS_MAX + 1, sizeof *scnt),
                 *lab = xcalloc(BINS_MAX + 1, sizeof *lab),
                 *pos = xcalloc(BINS_MAX + 1, sizeof *pos);
        for (uint64_t i = 0; i < nr; i++) {
            unsigned b = r->X[j * nr + i];
            cnt[b]++;
            if (r->label[i] >= 0) {
                lab[b]++;
                pos[b] += r->label[i] == 1;
            }
        }
        for (uint64_t k = 0; k < n; k++) {
            unsigned b = r->X[j * nr + (at ? at[k] : k)];
            scnt[b]++;
            sum[b] += e->phi[k * nf + j];
        }
        json_t *a = json_array();
        for (unsigned b = 1; b <= nb + 1; b++) {
            /* values first, then missing, then new categories */
            unsigned bin = b < nb ? b : b == nb ? 0u : BINS_UNSEEN;
            if (b == nb + 1 && bins_unseen_code(ft) != BINS_UNSEEN)
                continue; /* no separate code (an older model's 255 bins): listed already */
            if (!cnt[bin])
                continue;
            char label[256];
            bins_describe(ft, bin, label, sizeof label);
            json_t *x = json_object();
            json_t *lv = json_string(label);
            json_object_set_new(x, "value", lv ? lv : json_null());
            json_object_set_new(x, "leads", json_integer((json_int_t)cnt[bin]));
            json_object_set_new(x, "mean_points",
                                scnt[bin] ? json_real(sum[bin] / (double)scnt[bin]) : json_null());
            json_object_set_new(x, "conversion_rate",
                                lab[bin] ? json_real((double)pos[bin] / (double)lab[bin])
                                         : json_null());
            json_array_append_new(a, x);
        }
        json_object_set_new(cats, ft->name, a);
        free(sum);
        free(cnt);
        free(scnt);
        free(lab);
        free(pos);
    }
    json_object_set_new(o, "categories", cats);
    return o;
}

json_t *explain_summary_json(const struct model *m, const struct score_result *r,
                             const struct explain_result *e)
{
    if (e->row0 != 0 || e->n != r->n)
        return json_null();
    return summary_json(m, r, e, NULL);
}

json_t *explain_summary_sample(const struct model *m, const struct score_result *r,
                               uint64_t max_leads, uint32_t threads)
{
    uint64_t n = r->n, k = max_leads && max_leads < n ? max_leads : n;
    size_t nf = r->nfeat;
    /* a view of the chosen leads: their bins and in-bag sets, gathered */
    uint64_t *at = xmalloc((k ? k : 1) * sizeof *at);
    for (uint64_t i = 0; i < k; i++)
        at[i] = (uint64_t)((unsigned __int128)i * n / k); /* evenly spaced, first lead first */
    struct score_result v;
    memset(&v, 0, sizeof v);
    v.n = k;
    v.nfeat = nf;
    v.X = xmalloc((nf ? nf : 1) * (k ? k : 1));
    for (size_t j = 0; j < nf; j++)
        for (uint64_t i = 0; i < k; i++)
            v.X[j * k + i] = r->X[j * n + at[i]];
    if (r->inbag) {
        v.inbag_words = r->inbag_words;
        v.inbag = xmalloc((k ? k : 1) * r->inbag_words * sizeof *v.inbag);
        for (uint64_t i = 0; i < k; i++)
            memcpy(v.inbag + i * r->inbag_words, r->inbag + at[i] * r->inbag_words,
                   r->inbag_words * sizeof *v.inbag);
    }
    struct explain_result e;
    app_explain(m, &v, 0, k, threads, &e);
    json_t *o = summary_json(m, r, &e, at);
    explain_result_cleanup(&e);
    free(v.X);
    free(v.inbag);
    free(at);
    return o;
}
