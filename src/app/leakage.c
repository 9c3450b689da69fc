/*
 * leakage.c — the leakage scan of leakage.h.
 *
 * All columns are binned at once with the training bins (bins_fit over the
 * labelled rows), the labelled rows gathered feature-major, and then each
 * column's slice of that matrix is a one-feature training set: the forest
 * grows on X + j * n with nfeat = 1, so no per-column copy is made. The
 * near-pure counts come from the same bins, so the scan's "values" are
 * exactly what a model could isolate.
 */
#include "app/leakage.h"

#include "core/mem.h"
#include "core/rng.h"
#include "ml/bins.h"
#include "ml/forest.h"
#include "ml/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *leakage_level_name(enum leakage_level l)
{
    switch (l) {
    case LEAKAGE_NONE:
        return "none";
    case LEAKAGE_CHECK:
        return "check";
    case LEAKAGE_EXCLUDE:
        return "exclude";
    }
    return "none";
}

void leakage_opts_default(struct leakage_opts *o)
{
    memset(o, 0, sizeof *o);
    o->trees = LEAKAGE_TREES;
    o->seed = 42;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- name hints ------------------------------------------------------------ */

/* Words of fields that are usually written once the outcome is known. Kept to
 * outcome words: "score" or "activity" are left out on purpose, because
 * marketing scores and web activity are recorded before any call. */
static const char *const hint_words[] = {
    "status", "stage",   "stages",  "tag",         "tags",       "quality", "reason", "reasons",
    "result", "results", "outcome", "disposition", "rating",     "won",     "win",    "lost",
    "loss",   "closed",  "close",   "converted",   "conversion", NULL};

const char *leakage_name_hint(const char *name)
{
    char word[64];
    size_t w = 0;
    for (const char *p = name;; p++) {
        unsigned char ch = (unsigned char)*p;
        int alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        /* "dealStage": a capital after a small letter starts a new word */
        int camel = w > 0 && ch >= 'A' && ch <= 'Z' && p > name && p[-1] >= 'a' && p[-1] <= 'z';
        if ((!alnum || camel) && w > 0) {
            word[w < sizeof word ? w : sizeof word - 1] = '\0';
            if (w < sizeof word)
                for (size_t k = 0; hint_words[k]; k++)
                    if (strcmp(word, hint_words[k]) == 0)
                        return hint_words[k];
            w = 0;
        }
        if (!ch)
            break;
        if (alnum) {
            if (w < sizeof word)
                word[w] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
            w++;
        }
    }
    return NULL;
}

/* ---- values ------------------------------------------------------------------ */

/* Cut a string that snprintf may have cut inside a UTF-8 sequence back to
 * the last whole character, so that it stays valid text (and JSON). */
static void utf8_trim_end(char *s)
{
    size_t len = strlen(s), i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--; /* back over continuation bytes to the lead byte */
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

/* s shortened to at most cap - 1 bytes, on a character boundary. */
static void short_copy(const char *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s);
    utf8_trim_end(out);
}

static void day_string(double days, char *out, size_t cap)
{
    time_t t = (time_t)floor(days) * 86400;
    struct tm tm;
    if (!isfinite(days) || !gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d", &tm))
        snprintf(out, cap, "%.6g", days);
}

/* How bin b of feature ft reads: its category, its boolean label, or the
 * numbers (dates) the labelled rows in it hold, lo..hi. */
static void value_label(const struct feature *ft, unsigned b, double lo, double hi, char *out,
                        size_t cap)
{
    if (b == BINS_MISSING) {
        snprintf(out, cap, "(missing)");
        return;
    }
    if (ft->kind == FEAT_CATEGORICAL || ft->kind == FEAT_BOOLEAN || !(lo <= hi)) {
        bins_describe(ft, b, out, cap);
        return;
    }
    char a[48], z[48];
    if (ft->kind == FEAT_DATETIME) {
        day_string(lo, a, sizeof a);
        day_string(hi, z, sizeof z);
    } else {
        snprintf(a, sizeof a, "%.6g", lo);
        snprintf(z, sizeof z, "%.6g", hi);
    }
    if (strcmp(a, z) == 0)
        snprintf(out, cap, "%s", a);
    else
        snprintf(out, cap, "%s – %s", a, z);
}

struct bin_tally {
    uint64_t rows, pos;
    double lo, hi; /* the smallest and largest number in the bin */
};

static int by_rows_desc(const void *a, const void *b)
{
    const struct leakage_value *x = a, *y = b;
    if (x->rows != y->rows)
        return x->rows < y->rows ? 1 : -1;
    return strcmp(x->label, y->label);
}

/*
 * Is a bin of rows labelled rows, pos of them positive, near-pure given the
 * base positive rate p? See leakage.h: one class at LEAKAGE_PURE_RATE or
 * more, the other class at most a quarter of its overall share, and enough
 * rows that the other class would have been expected there.
 */
static int near_pure(uint64_t rows, uint64_t pos, double p)
{
    if (rows < LEAKAGE_PURE_MIN_ROWS)
        return 0;
    double n = (double)rows, r = (double)pos / n;
    if ((double)pos >= LEAKAGE_PURE_RATE * n) /* nearly all positive */
        return 1 - r <= (1 - p) / 4 && n * (1 - p) >= LEAKAGE_PURE_MIN_EXPECTED;
    if ((double)(rows - pos) >= LEAKAGE_PURE_RATE * n) /* nearly all negative */
        return r <= p / 4 && n * p >= LEAKAGE_PURE_MIN_EXPECTED;
    return 0;
}

/* Fill lc's near-pure figures from the bins x[0..n) of feature ft. */
static void tally_values(struct leakage_column *lc, const struct feature *ft, const uint8_t *x,
                         const uint8_t *y, const double *num, uint64_t n, double p)
{
    struct bin_tally *t = xcalloc(BINS_MAX + 1, sizeof *t);
    for (unsigned b = 0; b <= BINS_MAX; b++) {
        t[b].lo = INFINITY;
        t[b].hi = -INFINITY;
    }
    for (uint64_t k = 0; k < n; k++) {
        struct bin_tally *bt = &t[x[k]];
        bt->rows++;
        bt->pos += y[k];
        if (num && !isnan(num[k])) {
            bt->lo = num[k] < bt->lo ? num[k] : bt->lo;
            bt->hi = num[k] > bt->hi ? num[k] : bt->hi;
        }
    }
    struct leakage_value all[BINS_MAX + 1];
    size_t nall = 0;
    for (unsigned b = 0; b <= ft->nbins && b <= BINS_MAX; b++) {
        if (!near_pure(t[b].rows, t[b].pos, p))
            continue;
        char label[256];
        value_label(ft, b, t[b].lo, t[b].hi, label, sizeof label);
        utf8_trim_end(label);
        all[nall].label = xstrdup(label);
        all[nall].rows = t[b].rows;
        all[nall].rate = (double)t[b].pos / (double)t[b].rows;
        lc->pure_rows += t[b].rows;
        nall++;
    }
    qsort(all, nall, sizeof all[0], by_rows_desc);
    lc->pure_count = (uint32_t)nall;
    lc->pure_share = n ? (double)lc->pure_rows / (double)n : 0;
    for (size_t i = 0; i < nall; i++) {
        if (i < LEAKAGE_TOP_VALUES)
            lc->top[lc->ntop++] = all[i];
        else
            free(all[i].label);
    }
    free(t);
}

/* ---- levels ------------------------------------------------------------------- */

/* "37 %" for shares from 10 %, "1.5 %" below. */
static void pct(double share, char *out, size_t cap)
{
    snprintf(out, cap, share >= 0.0995 ? "%.0f %%" : "%.1f %%", 100 * share);
}

/* Append a formatted clause to the reason, "; " between clauses. */
static void clause(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void clause(char *out, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(out);
    if (len + 3 >= cap)
        return;
    if (len) {
        memcpy(out + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, cap - len, fmt, ap);
    va_end(ap);
}

enum { WHY_AUC, WHY_PURE, WHY_HINT };

static void add_figure(struct leakage_column *lc, int which)
{
    char *r = lc->reason;
    size_t cap = sizeof lc->reason;
    char a[16], b[16], label[64];
    switch (which) {
    case WHY_AUC:
        if (isfinite(lc->auc))
            clause(r, cap, "alone it predicts the outcome with out-of-bag AUC %.2f", lc->auc);
        break;
    case WHY_PURE:
        if (lc->pure_count == 0)
            break;
        pct(lc->pure_share, a, sizeof a);
        short_copy(lc->top[0].label, label, sizeof label);
        pct(lc->top[0].rate, b, sizeof b);
        clause(r, cap,
               "%u value%s of ≥ %.0f %% one class carr%s %s of the labelled rows (largest "
               "'%s': %llu rows, %s converted)",
               lc->pure_count, lc->pure_count == 1 ? "" : "s", 100 * LEAKAGE_PURE_RATE,
               lc->pure_count == 1 ? "ies" : "y", a, label, (unsigned long long)lc->top[0].rows, b);
        break;
    case WHY_HINT:
        if (lc->hint)
            clause(r, cap, "its name reads like a field filled after the outcome ('%s')", lc->hint);
        break;
    }
}

/* The level of a scanned column and the sentence that says why. */
static void judge(struct leakage_column *lc)
{
    double auc = isfinite(lc->auc) ? lc->auc : 0, share = lc->pure_share;
    int order[3] = {WHY_AUC, WHY_PURE, WHY_HINT};
    const char *tail = NULL;
    lc->reason[0] = '\0';
    if (auc >= LEAKAGE_AUC_EXCLUDE) {
        lc->level = LEAKAGE_EXCLUDE;
    } else if (share >= LEAKAGE_SHARE_EXCLUDE) {
        lc->level = LEAKAGE_EXCLUDE;
        order[0] = WHY_PURE, order[1] = WHY_AUC;
    } else if (lc->hint && (auc >= LEAKAGE_HINT_AUC || share >= LEAKAGE_HINT_SHARE)) {
        lc->level = LEAKAGE_EXCLUDE;
        order[0] = WHY_HINT, order[1] = WHY_AUC, order[2] = WHY_PURE;
    } else if (lc->hint) {
        lc->level = LEAKAGE_CHECK;
        order[0] = WHY_HINT, order[1] = WHY_AUC, order[2] = WHY_PURE;
        tail = "though its figures are weak: check when it is filled in";
    } else if (auc >= LEAKAGE_AUC_CHECK) {
        lc->level = LEAKAGE_CHECK;
        tail = "unusually strong for one column: check when it is filled in";
    } else if (share >= LEAKAGE_SHARE_CHECK) {
        lc->level = LEAKAGE_CHECK;
        order[0] = WHY_PURE, order[1] = WHY_AUC;
        tail = "check when it is filled in";
    } else {
        lc->level = LEAKAGE_NONE;
        return;
    }
    for (int k = 0; k < 3; k++)
        add_figure(lc, order[k]);
    if (tail)
        clause(lc->reason, sizeof lc->reason, "%s", tail);
    utf8_trim_end(lc->reason);
    if (lc->reason[0] >= 'a' && lc->reason[0] <= 'z')
        lc->reason[0] = (char)(lc->reason[0] - 'a' + 'A');
    size_t len = strlen(lc->reason);
    if (len + 1 < sizeof lc->reason) {
        lc->reason[len] = '.';
        lc->reason[len + 1] = '\0';
    }
}

/* ---- the scan -------------------------------------------------------------------- */

/* What the scan's threads share; each takes the next column until none is left. */
struct scan_job {
    const struct frame *f;
    const size_t *cols;
    const struct bin_schema *schema;
    const uint8_t *X, *y; /* labelled rows, feature-major; their labels */
    const uint64_t *row;  /* frame row of each labelled row */
    uint64_t n;
    double p; /* positive share of the labelled rows */
    struct forest_opts fo;
    struct leakage_column *out;
    size_t ncols;
    atomic_size_t next;
};

/* Column j alone: its forest's out-of-bag AUC, its near-pure values, its level. */
static void scan_column(const struct scan_job *job, size_t j, double *oob, double *num)
{
    const struct column *c = &job->f->cols[job->cols[j]];
    const struct feature *ft = &job->schema->feat[j];
    struct leakage_column *lc = &job->out[j];
    const uint8_t *x = job->X + j * job->n;
    uint64_t n = job->n;
    lc->name = xstrdup(c->name);
    lc->col = job->cols[j];
    lc->hint = leakage_name_hint(c->name);

    uint8_t is_cat = ft->kind == FEAT_CATEGORICAL;
    uint16_t nbins = ft->nbins;
    struct forest forest;
    struct ls_error ferr;
    lc->auc = NAN;
    if (forest_train(x, n, 1, job->y, &is_cat, &nbins, &job->fo, &forest, oob, &ferr) == LS_OK) {
        lc->auc = metrics_auc(oob, job->y, n);
        forest_cleanup(&forest);
    }
    int numeric = c->num && ft->kind != FEAT_BOOLEAN;
    if (numeric)
        for (uint64_t k = 0; k < n; k++)
            num[k] = c->num[job->row[k]];
    tally_values(lc, ft, x, job->y, numeric ? num : NULL, n, job->p);
    judge(lc);
}

static void *scan_worker(void *arg)
{
    struct scan_job *job = arg;
    double *oob = xmalloc(job->n * sizeof *oob), *num = xmalloc(job->n * sizeof *num);
    for (;;) {
        size_t j = atomic_fetch_add(&job->next, 1);
        if (j >= job->ncols)
            break;
        scan_column(job, j, oob, num);
    }
    free(oob);
    free(num);
    return NULL;
}

int leakage_scan(const struct frame *f, const struct target *t, const struct train_opts *tr,
                 const struct leakage_opts *o, struct leakage_report *out, struct ls_error *err)
{
    double t0 = now_ms();
    struct leakage_opts def;
    if (!o) {
        leakage_opts_default(&def);
        o = &def;
    }
    struct train_opts none;
    if (!tr) {
        train_opts_default(&none);
        tr = &none;
    }
    uint8_t *use = xcalloc(f->nrows ? f->nrows : 1, 1);
    uint64_t n = 0, npos = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        int lab = target_label(f, t, r);
        if (lab < 0)
            continue;
        use[r] = 1;
        n++;
        npos += lab == 1;
    }
    if (n > 0 && (npos == 0 || npos == n)) {
        free(use);
        return ls_error_set(err, LS_EONE_CLASS,
                            "the %llu rows with a known outcome all have one class; nothing "
                            "can be measured against it",
                            (unsigned long long)n);
    }
    if (n < LEAKAGE_MIN_ROWS) {
        free(use);
        return ls_error_set(err, LS_EINPUT,
                            "%llu rows with a known outcome; the leakage scan needs at least %d",
                            (unsigned long long)n, LEAKAGE_MIN_ROWS);
    }
    struct train_features tf;
    int rc = train_features_select(f, t->col, tr, &tf, err);
    if (rc) {
        free(use);
        return rc;
    }
    uint64_t labelled = n, cap = o->max_rows ? o->max_rows : LEAKAGE_MAX_ROWS;
    if (cap < LEAKAGE_MIN_ROWS)
        cap = LEAKAGE_MIN_ROWS;
    if (n > cap) {
        /* a seeded sample of exactly cap labelled rows (Knuth's
         * selection sampling, TAOCP vol. 2, 3.4.2 algorithm S) */
        struct rng rng;
        rng_seed2(&rng, o->seed, 0x1EA4u);
        uint64_t seen = 0, kept = 0;
        npos = 0;
        for (uint64_t r = 0; r < f->nrows; r++) {
            if (!use[r])
                continue;
            if ((double)(n - seen) * rng_uniform(&rng) < (double)(cap - kept)) {
                kept++;
                npos += target_label(f, t, r) == 1;
            } else {
                use[r] = 0;
            }
            seen++;
        }
        n = kept;
    }
    size_t nc = tf.ncols;

    struct bin_schema schema;
    bins_fit(f, tf.cols, nc, use, &schema);
    uint8_t *Xall = xmalloc(nc * f->nrows);
    struct bin_report brep;
    bins_apply(&schema, f, Xall, &brep);
    bins_report_cleanup(&brep);

    /* the labelled rows, feature-major: X + j * n is column j alone */
    uint8_t *X = xmalloc(nc * n), *y = xmalloc(n);
    uint64_t *row = xmalloc(n * sizeof *row);
    for (uint64_t r = 0, k = 0; r < f->nrows; r++)
        if (use[r]) {
            y[k] = target_label(f, t, r) == 1;
            row[k++] = r;
        }
    for (size_t j = 0; j < nc; j++)
        for (uint64_t k = 0; k < n; k++)
            X[j * n + k] = Xall[j * f->nrows + row[k]];
    free(Xall);
    free(use);

    struct leakage_report rep = {
        .ncols = nc, .labelled = labelled, .rows_used = n, .positives = npos};
    rep.cols = xcalloc(nc, sizeof *rep.cols);
    struct scan_job job = {.f = f,
                           .cols = tf.cols,
                           .schema = &schema,
                           .X = X,
                           .y = y,
                           .row = row,
                           .n = n,
                           .p = (double)npos / (double)n,
                           .out = rep.cols,
                           .ncols = nc};
    forest_opts_default(&job.fo);
    job.fo.trees = o->trees ? o->trees : LEAKAGE_TREES;
    job.fo.threads = 1; /* the columns are spread over the threads, not the trees */
    job.fo.seed = o->seed;
    job.fo.mtry = 1;
    atomic_init(&job.next, 0);
    uint32_t nt = o->threads ? o->threads : forest_cpu_count();
    if (nt > FOREST_MAX_THREADS)
        nt = FOREST_MAX_THREADS;
    if (nt > nc)
        nt = (uint32_t)nc;
    pthread_t *tid = xcalloc(nt, sizeof *tid);
    uint8_t *started = xcalloc(nt, 1);
    for (uint32_t k = 1; k < nt; k++)
        started[k] = pthread_create(&tid[k], NULL, scan_worker, &job) == 0;
    scan_worker(&job); /* a thread that failed to start leaves its share to the others */
    for (uint32_t k = 1; k < nt; k++)
        if (started[k])
            pthread_join(tid[k], NULL);
    free(started);
    free(tid);
    free(row);
    free(X);
    free(y);
    bins_schema_cleanup(&schema);
    train_features_cleanup(&tf);
    rep.took_ms = now_ms() - t0;
    *out = rep;
    return LS_OK;
}

void leakage_report_cleanup(struct leakage_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncols; i++) {
        free(r->cols[i].name);
        for (size_t k = 0; k < r->cols[i].ntop; k++)
            free(r->cols[i].top[k].label);
    }
    free(r->cols);
    memset(r, 0, sizeof *r);
}

size_t leakage_count(const struct leakage_report *r, enum leakage_level min)
{
    size_t k = 0;
    for (size_t i = 0; i < r->ncols; i++)
        k += r->cols[i].level >= min;
    return k;
}

int leakage_auto_exclude(const struct frame *f, struct train_opts *o, struct leakage_report *rep,
                         struct ls_error *err)
{
    struct target t;
    int rc = target_find(f, o->target, &t, err);
    if (rc)
        return rc;
    if ((rc = target_choose_positive(f, &t, o->positive, err)) != LS_OK) {
        target_cleanup(&t);
        return rc;
    }
    struct leakage_opts lo;
    leakage_opts_default(&lo);
    lo.seed = o->forest.seed;
    lo.threads = o->forest.threads;
    struct leakage_report r;
    rc = leakage_scan(f, &t, o, &lo, &r, err);
    target_cleanup(&t);
    if (rc)
        return rc;
    size_t k = leakage_count(&r, LEAKAGE_EXCLUDE);
    if (o->nexclude + k > TRAIN_MAX_EXCLUDE) {
        leakage_report_cleanup(&r);
        return ls_error_set(err, LS_ELIMIT, "more than %d columns to exclude", TRAIN_MAX_EXCLUDE);
    }
    for (size_t i = 0; i < r.ncols; i++)
        if (r.cols[i].level == LEAKAGE_EXCLUDE)
            o->exclude[o->nexclude++] = r.cols[i].name;
    *rep = r;
    return LS_OK;
}

/* ---- JSON ---------------------------------------------------------------------- */

/* jansson refuses invalid UTF-8; labels come from ingest, but stay safe. */
static json_t *str(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("\xEF\xBF\xBD");
}

json_t *leakage_json(const struct leakage_report *r, enum leakage_level min)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->ncols; i++) {
        const struct leakage_column *lc = &r->cols[i];
        if (lc->level < min)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "column", str(lc->name));
        json_object_set_new(o, "level", json_string(leakage_level_name(lc->level)));
        json_object_set_new(o, "auc", isfinite(lc->auc) ? json_real(lc->auc) : json_null());
        json_object_set_new(o, "pure_share", json_real(lc->pure_share));
        json_object_set_new(o, "pure_count", json_integer(lc->pure_count));
        json_t *vals = json_array();
        for (size_t k = 0; k < lc->ntop; k++) {
            json_t *v = json_object();
            json_object_set_new(v, "value", str(lc->top[k].label));
            json_object_set_new(v, "rows", json_integer((json_int_t)lc->top[k].rows));
            json_object_set_new(v, "rate", json_real(lc->top[k].rate));
            json_array_append_new(vals, v);
        }
        json_object_set_new(o, "pure_values", vals);
        json_object_set_new(o, "name_hint", json_boolean(lc->hint != NULL));
        if (lc->hint)
            json_object_set_new(o, "hint_word", json_string(lc->hint));
        json_object_set_new(o, "reason", str(lc->reason));
        json_array_append_new(arr, o);
    }
    return arr;
}
