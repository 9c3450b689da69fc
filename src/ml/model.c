/*
 * model.c — model file writing and reading (format in model.h).
 *
 * Version 2 is version 1 with sections appended, so one reader serves both:
 * it reads the common sections, then either the version 2 sections or, for
 * a version 1 file, derives what it can (the label lists from the joined
 * labels) and leaves a note saying what the old file cannot give.
 */
#include "ml/model.h"

#include "core/buf.h"
#include "core/crc32.h"
#include "core/mem.h"
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char MAGIC[8] = {'L', 'S', 'M', 'O', 'D', 'E', 'L', '\0'};
#define HEADER_BYTES 24
#define MAX_STRING   (64u * 1024)
#define MAX_NODES    (1u << 30)

void model_init(struct model *m)
{
    memset(m, 0, sizeof *m);
    m->format_version = MODEL_VERSION;
    m->kind = MODEL_RANDOM_FOREST;
    m->tier_high = 70;
    m->tier_medium = 30;
}

static void free_strv(char **v, size_t n)
{
    if (v)
        for (size_t i = 0; i < n; i++)
            free(v[i]);
    free(v);
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void model_cleanup(struct model *m)
{
    free(m->target);
    free(m->positive);
    free(m->negative);
    free(m->id_column);
    bins_schema_cleanup(&m->schema);
    forest_cleanup(&m->forest);
    calib_cleanup(&m->calib);
    free(m->oob_key);
    free(m->oob_raw);
    free(m->inbag);
    free(m->load_note);
    free_strv(m->missing_tokens, strv_len(m->missing_tokens));
    free_strv(m->pos_labels, m->npos_labels);
    free_strv(m->neg_labels, m->nneg_labels);
    free_strv(m->train_columns, m->ntrain_columns);
    memset(m, 0, sizeof *m);
}

uint64_t model_row_key(const uint8_t *X, uint64_t stride, uint64_t row, size_t nfeat, int label)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(label + 7);
    for (size_t f = 0; f < nfeat; f++) {
        h ^= X[f * stride + row];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 31;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

uint64_t model_oob_find(const struct model *m, uint64_t key)
{
    uint64_t lo = 0, hi = m->noob;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (m->oob_key[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->noob && m->oob_key[lo] == key ? lo : m->noob;
}

double model_oob_lookup(const struct model *m, uint64_t key)
{
    uint64_t i = model_oob_find(m, key);
    return i < m->noob ? m->oob_raw[i] : NAN;
}

const uint8_t *model_inbag(const struct model *m, uint64_t i)
{
    return m->inbag && i < m->noob ? m->inbag + i * m->inbag_bytes : NULL;
}

void model_frame_opts(const struct model *m, struct frame_opts *fo)
{
    if (m->missing_tokens)
        fo->missing_tokens = (const char *const *)m->missing_tokens;
}

/* ---- writing ------------------------------------------------------------ */

struct w {
    struct buf b;
    int failed;
};

static void put(struct w *w, const void *p, size_t n)
{
    if (!w->failed && buf_append(&w->b, p, n))
        w->failed = 1;
}
#define PUT(w, v) put((w), &(v), sizeof(v))

static void put_u8(struct w *w, uint8_t v)
{
    PUT(w, v);
}
static void put_u16(struct w *w, uint16_t v)
{
    PUT(w, v);
}
static void put_u32(struct w *w, uint32_t v)
{
    PUT(w, v);
}
static void put_u64(struct w *w, uint64_t v)
{
    PUT(w, v);
}
static void put_f64(struct w *w, double v)
{
    PUT(w, v);
}

static void put_str(struct w *w, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
    put_u32(w, n);
    if (s)
        put(w, s, n);
}

static void put_strv(struct w *w, char *const *v, size_t n)
{
    put_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        put_str(w, v[i]);
}

static void put_metrics(struct w *w, const struct metrics *m)
{
    put_u64(w, m->n);
    put_u64(w, m->npos);
    const double *d[] = {
        &m->auc,          &m->logloss,         &m->brier,       &m->base_rate, &m->precision_top10,
        &m->recall_top10, &m->precision_top20, &m->recall_top20};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        put_f64(w, *d[i]);
    for (int k = 0; k < METRICS_DECILES; k++) {
        put_f64(w, m->lift[k]);
        put_f64(w, m->cal_pred[k]);
        put_f64(w, m->cal_obs[k]);
        put_u64(w, m->cal_n[k]);
    }
}

static void serialize(const struct model *m, struct w *w)
{
    put_u32(w, m->trees);
    put_u32(w, m->mtry);
    put_u32(w, m->min_leaf);
    put_u32(w, m->max_depth);
    put_u8(w, m->balanced);
    put_u64(w, m->seed);
    put_str(w, m->target);
    put_str(w, m->positive);
    put_str(w, m->negative);
    put_str(w, m->id_column);
    put_u32(w, (uint32_t)m->schema.nfeat);
    for (size_t j = 0; j < m->schema.nfeat; j++) {
        const struct feature *ft = &m->schema.feat[j];
        put_str(w, ft->name);
        put_u8(w, (uint8_t)ft->kind);
        put_u8(w, ft->date_fmt);
        put_u16(w, ft->nbins);
        put_u8(w, ft->has_other);
        if (ft->kind == FEAT_CATEGORICAL)
            for (unsigned k = 0; k < ft->nbins; k++)
                put_str(w, ft->cats[k]);
        else
            for (unsigned k = 0; k + 1 < ft->nbins; k++)
                put_f64(w, ft->thresholds[k]);
        put_str(w, ft->true_label);
        put_str(w, ft->false_label);
        for (unsigned k = 0; k <= ft->nbins; k++)
            put_f64(w, ft->train_share ? ft->train_share[k] : 0);
    }
    put_u32(w, m->forest.ntrees);
    for (uint32_t i = 0; i < m->forest.ntrees; i++) {
        const struct tree *t = &m->forest.trees[i];
        put_u32(w, t->nnodes);
        for (uint32_t k = 0; k < t->nnodes; k++) {
            const struct tnode *n = &t->nodes[k];
            put_u16(w, n->feat);
            put_u8(w, n->kind);
            put_u8(w, n->flags);
            put_u32(w, n->arg);
            put_u32(w, n->left);
            put(w, &n->value, sizeof n->value);
            put(w, &n->cover, sizeof n->cover);
        }
        put_u32(w, t->ncatsets);
        put(w, t->catsets, (size_t)t->ncatsets * sizeof *t->catsets);
    }
    put_u32(w, m->calib.n);
    for (uint32_t k = 0; k < m->calib.n; k++) {
        put_f64(w, m->calib.x[k]);
        put_f64(w, m->calib.y[k]);
    }
    put_f64(w, m->tier_high);
    put_f64(w, m->tier_medium);
    put_u64(w, m->train_rows);
    put_u64(w, m->train_pos);
    put_metrics(w, &m->oob);
    put_u8(w, m->has_holdout);
    put_metrics(w, &m->holdout);
    put_u64(w, m->noob);
    put(w, m->oob_key, m->noob * sizeof *m->oob_key);
    put(w, m->oob_raw, m->noob * sizeof *m->oob_raw);
    /* version 2 */
    put_u32(w, (uint32_t)m->kind);
    put_u8(w, m->decimal_comma);
    put_strv(w, m->missing_tokens, strv_len(m->missing_tokens));
    put_strv(w, m->pos_labels, m->npos_labels);
    put_strv(w, m->neg_labels, m->nneg_labels);
    put_strv(w, m->train_columns, m->ntrain_columns);
    put_u32(w, m->inbag ? m->inbag_bytes : 0);
    if (m->inbag)
        put(w, m->inbag, m->noob * m->inbag_bytes);
}

int model_save(const struct model *m, const char *path, struct ls_error *err)
{
    /* write a symlink's target, never over a device, FIFO or directory (core/outfile.h) */
    char *target = NULL;
    int rc = outfile_target(path, &target, err);
    if (rc != LS_OK)
        return rc;
    path = target;
    struct w w = {0};
    buf_init(&w.b, MODEL_MAX_BYTES);
    uint8_t header[HEADER_BYTES] = {0};
    put(&w, header, sizeof header);
    serialize(m, &w);
    if (w.failed) {
        buf_cleanup(&w.b);
        free(target);
        return ls_error_set(err, LS_ELIMIT, "the model is larger than %llu bytes",
                            (unsigned long long)MODEL_MAX_BYTES);
    }
    uint64_t plen = w.b.len - HEADER_BYTES;
    uint32_t version = MODEL_VERSION;
    uint32_t crc = crc32_update(0, w.b.data + HEADER_BYTES, plen);
    memcpy(w.b.data, MAGIC, 8);
    memcpy(w.b.data + 8, &version, 4);
    memcpy(w.b.data + 12, &crc, 4);
    memcpy(w.b.data + 16, &plen, 8);

    size_t plen_path = strlen(path);
    char *tmp = xmalloc(plen_path + 16);
    snprintf(tmp, plen_path + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = ls_error_set(err, LS_EIO, "cannot write beside '%s': %s", path, strerror(errno));
        goto out;
    }
    outfile_track(tmp); /* an interrupted train removes it (core/outfile.h) */
    const char *p = w.b.data;
    size_t left = w.b.len;
    while (left > 0) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = ls_error_set(err, LS_EIO, "writing '%s': %s", tmp, strerror(errno));
            break;
        }
        p += k;
        left -= (size_t)k;
    }
    if (rc == LS_OK && fsync(fd) != 0)
        rc = ls_error_set(err, LS_EIO, "fsync '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == LS_OK)
        rc = ls_error_set(err, LS_EIO, "closing '%s': %s", tmp, strerror(errno));
    if (rc == LS_OK && chmod(tmp, 0644) != 0)
        rc = ls_error_set(err, LS_EIO, "chmod '%s': %s", tmp, strerror(errno));
    if (rc == LS_OK && rename(tmp, path) != 0)
        rc = ls_error_set(err, LS_EIO, "renaming to '%s': %s", path, strerror(errno));
    if (rc != LS_OK) {
        unlink(tmp);
        goto out;
    }
    /* make the rename itself durable */
    char *dir = xstrdup(path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
out:
    if (tmp)
        outfile_untrack(tmp);
    free(tmp);
    free(target);
    buf_cleanup(&w.b);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

struct r {
    const uint8_t *p, *end;
    int bad;
    char why[128];
};

static void bad(struct r *r, const char *why)
{
    if (!r->bad) {
        r->bad = 1;
        snprintf(r->why, sizeof r->why, "%s", why);
    }
}

static void get(struct r *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        bad(r, "it ends too early");
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p, n);
    r->p += n;
}

static uint8_t get_u8(struct r *r)
{
    uint8_t v;
    get(r, &v, 1);
    return v;
}
static uint16_t get_u16(struct r *r)
{
    uint16_t v;
    get(r, &v, 2);
    return v;
}
static uint32_t get_u32(struct r *r)
{
    uint32_t v;
    get(r, &v, 4);
    return v;
}
static uint64_t get_u64(struct r *r)
{
    uint64_t v;
    get(r, &v, 8);
    return v;
}
static double get_f64(struct r *r)
{
    double v;
    get(r, &v, 8);
    return v;
}

static char *get_str(struct r *r)
{
    uint32_t n = get_u32(r);
    if (n == UINT32_MAX || r->bad)
        return NULL;
    if (n > MAX_STRING || (size_t)(r->end - r->p) < n) {
        bad(r, "a text field is too long");
        return NULL;
    }
    char *s = xstrndup((const char *)r->p, n);
    r->p += n;
    return s;
}

/* Read n * size bytes into a new array, checking the bytes are there. */
static void *get_array(struct r *r, uint64_t n, size_t size)
{
    if (r->bad)
        return NULL;
    if (size && n > (uint64_t)(r->end - r->p) / size) {
        bad(r, "an array runs past the end");
        return NULL;
    }
    void *a = xmalloc(n * size > 0 ? n * size : 1);
    get(r, a, n * size);
    return a;
}

/* n (at most max) strings, none NULL, in a new NULL-terminated array. */
static char **get_strv(struct r *r, uint32_t max, uint32_t *count)
{
    uint32_t n = get_u32(r);
    *count = 0;
    if (r->bad)
        return NULL;
    if (n > max || n > (uint64_t)(r->end - r->p) / 4) {
        bad(r, "a list of labels, tokens or columns is too long");
        return NULL;
    }
    char **v = xcalloc((size_t)n + 1, sizeof *v);
    for (uint32_t i = 0; i < n; i++) {
        v[i] = get_str(r);
        if (!v[i]) {
            bad(r, "a label, token or column name is missing");
            break;
        }
        *count = i + 1;
    }
    return v;
}

/* A version 1 file joined each class's labels with " | ": split them. */
static char **split_labels(const char *joined, uint32_t *count)
{
    *count = 0;
    if (!joined)
        return NULL;
    size_t cap = 1;
    for (const char *p = joined; (p = strstr(p, " | ")); p += 3)
        cap++;
    char **v = xcalloc(cap + 1, sizeof *v);
    for (const char *p = joined; p;) {
        const char *bar = strstr(p, " | ");
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n)
            v[(*count)++] = xstrndup(p, n);
        p = bar ? bar + 3 : NULL;
    }
    return v;
}

/* The version 2 sections (model.h), checked against what came before. */
static void deserialize_v2(struct r *r, struct model *m)
{
    uint32_t kind = get_u32(r);
    if (!r->bad && kind != MODEL_RANDOM_FOREST) {
        bad(r, "its kind of ensemble is unknown to this build");
        return;
    }
    m->kind = (enum model_kind)kind;
    m->decimal_comma = get_u8(r);
    if (m->decimal_comma > 1)
        bad(r, "its decimal mark is not valid");
    uint32_t ntok;
    m->missing_tokens = get_strv(r, MODEL_MAX_TOKENS, &ntok);
    m->pos_labels = get_strv(r, MODEL_MAX_LABELS, &m->npos_labels);
    m->neg_labels = get_strv(r, MODEL_MAX_LABELS, &m->nneg_labels);
    m->train_columns = get_strv(r, MODEL_MAX_COLUMNS, &m->ntrain_columns);
    if (!r->bad && m->target && (m->npos_labels == 0 || m->nneg_labels == 0)) {
        bad(r, "its target has a class without labels");
        return;
    }
    uint32_t b = get_u32(r);
    if (r->bad || b == 0)
        return; /* no in-bag sets kept */
    uint32_t ntrees = m->forest.ntrees;
    if (b != (ntrees + 7) / 8) {
        bad(r, "its in-bag sets do not match its trees");
        return;
    }
    if (m->noob > (uint64_t)(r->end - r->p) / b) {
        bad(r, "an array runs past the end");
        return;
    }
    m->inbag_bytes = b;
    m->inbag = get_array(r, m->noob, b);
    /* no bit past the last tree, and every row out of some tree's bag (its
     * score is the mean of those trees) */
    uint8_t tail = ntrees % 8 ? (uint8_t)(0xFFu << (ntrees % 8)) : 0;
    for (uint64_t i = 0; i < m->noob && !r->bad; i++) {
        const uint8_t *s = m->inbag + i * b;
        uint32_t in = 0;
        for (uint32_t k = 0; k < b; k++)
            in += (uint32_t)__builtin_popcount(s[k]);
        if ((s[b - 1] & tail) || in >= ntrees)
            bad(r, "an in-bag set is not valid");
    }
}

static void get_metrics(struct r *r, struct metrics *m)
{
    m->n = get_u64(r);
    m->npos = get_u64(r);
    double *d[] = {
        &m->auc,          &m->logloss,         &m->brier,       &m->base_rate, &m->precision_top10,
        &m->recall_top10, &m->precision_top20, &m->recall_top20};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        *d[i] = get_f64(r);
    for (int k = 0; k < METRICS_DECILES; k++) {
        m->lift[k] = get_f64(r);
        m->cal_pred[k] = get_f64(r);
        m->cal_obs[k] = get_f64(r);
        m->cal_n[k] = get_u64(r);
    }
}

static void deserialize(struct r *r, struct model *m, uint32_t version)
{
    m->trees = get_u32(r);
    m->mtry = get_u32(r);
    m->min_leaf = get_u32(r);
    m->max_depth = get_u32(r);
    m->balanced = get_u8(r);
    m->seed = get_u64(r);
    m->target = get_str(r);
    m->positive = get_str(r);
    m->negative = get_str(r);
    m->id_column = get_str(r);
    uint32_t nfeat = get_u32(r);
    if (r->bad || nfeat == 0 || nfeat > UINT16_MAX) {
        bad(r, "its feature count is not valid");
        return;
    }
    m->schema.feat = xcalloc(nfeat, sizeof *m->schema.feat);
    m->schema.nfeat = nfeat;
    for (uint32_t j = 0; j < nfeat && !r->bad; j++) {
        struct feature *ft = &m->schema.feat[j];
        ft->name = get_str(r);
        ft->kind = (enum feat_kind)get_u8(r);
        ft->date_fmt = get_u8(r);
        ft->nbins = get_u16(r);
        ft->has_other = get_u8(r);
        if (r->bad || !ft->name || ft->kind > FEAT_CATEGORICAL || ft->nbins < 1 ||
            ft->nbins > BINS_MAX) {
            bad(r, "a feature description is not valid");
            return;
        }
        if (ft->kind == FEAT_CATEGORICAL) {
            ft->cats = xcalloc(ft->nbins, sizeof *ft->cats);
            for (unsigned k = 0; k < ft->nbins; k++)
                if (!(ft->cats[k] = get_str(r))) {
                    bad(r, "a category label is missing");
                    return;
                }
        } else {
            ft->thresholds = get_array(r, ft->nbins - 1u, sizeof(double));
        }
        ft->true_label = get_str(r);
        ft->false_label = get_str(r);
        ft->train_share = get_array(r, ft->nbins + 1u, sizeof(double));
    }
    uint32_t ntrees = get_u32(r);
    if (r->bad || ntrees == 0 || ntrees > FOREST_MAX_TREES) {
        bad(r, "its tree count is not valid");
        return;
    }
    m->forest.trees = xcalloc(ntrees, sizeof *m->forest.trees);
    m->forest.ntrees = ntrees;
    m->forest.nfeat = nfeat;
    for (uint32_t i = 0; i < ntrees && !r->bad; i++) {
        struct tree *t = &m->forest.trees[i];
        uint32_t nn = get_u32(r);
        if (r->bad || nn == 0 || nn > MAX_NODES || nn > (uint64_t)(r->end - r->p) / 20) {
            bad(r, "a tree's node count is not valid");
            return;
        }
        t->nodes = xmalloc((size_t)nn * sizeof *t->nodes);
        t->nnodes = t->cap = nn;
        for (uint32_t k = 0; k < nn; k++) {
            struct tnode *n = &t->nodes[k];
            n->feat = get_u16(r);
            n->kind = get_u8(r);
            n->flags = get_u8(r);
            n->arg = get_u32(r);
            n->left = get_u32(r);
            get(r, &n->value, sizeof n->value);
            get(r, &n->cover, sizeof n->cover);
        }
        t->ncatsets = t->catcap = get_u32(r);
        if (r->bad || t->ncatsets > nn) {
            bad(r, "a tree's category sets are not valid");
            return;
        }
        t->catsets = get_array(r, t->ncatsets, sizeof *t->catsets);
        /* every split must point forward inside the tree: no cycles, no escape;
         * every node but the root has exactly one parent (a tree, not a graph
         * whose walks could multiply), depth stays within TREE_MAX_DEPTH (the
         * explanation's frames are sized by it), and covers and values are
         * finite, covers positive (TreeSHAP divides by them) */
        uint8_t *depth = xcalloc(nn, 1), *parents = xcalloc(nn, 1);
        for (uint32_t k = 0; k < nn && !r->bad; k++) {
            const struct tnode *n = &t->nodes[k];
            if (!(n->cover > 0) || !isfinite(n->cover) || !(n->value >= 0 && n->value <= 1)) {
                bad(r, "a tree node has an invalid cover or value");
                break;
            }
            if (n->kind == TNODE_LEAF)
                continue;
            if (n->kind > TNODE_CATEGORICAL || n->feat >= nfeat || n->left <= k ||
                n->left >= nn - 1 || (n->kind == TNODE_CATEGORICAL && n->arg >= t->ncatsets)) {
                bad(r, "a tree node points outside its tree");
                break;
            }
            if (k > 0 && parents[k] != 1) /* parents come before children */
                break;
            if (depth[k] >= TREE_MAX_DEPTH || parents[n->left]++ || parents[n->left + 1]++) {
                bad(r, "a tree is not a tree (shared nodes or deeper than the limit)");
                break;
            }
            depth[n->left] = depth[n->left + 1] = (uint8_t)(depth[k] + 1);
        }
        for (uint32_t k = 1; k < nn && !r->bad; k++)
            if (parents[k] != 1)
                bad(r, "a tree has nodes no split reaches");
        free(depth);
        free(parents);
    }
    if (r->bad)
        return;
    m->calib.n = get_u32(r);
    if (m->calib.n == 0 || m->calib.n > CALIB_MAX_KNOTS) {
        bad(r, "its calibration map is not valid");
        return;
    }
    m->calib.x = xmalloc(m->calib.n * sizeof(double));
    m->calib.y = xmalloc(m->calib.n * sizeof(double));
    for (uint32_t k = 0; k < m->calib.n; k++) {
        m->calib.x[k] = get_f64(r);
        m->calib.y[k] = get_f64(r);
    }
    m->tier_high = get_f64(r);
    m->tier_medium = get_f64(r);
    m->train_rows = get_u64(r);
    m->train_pos = get_u64(r);
    get_metrics(r, &m->oob);
    m->has_holdout = get_u8(r);
    get_metrics(r, &m->holdout);
    m->noob = get_u64(r);
    m->oob_key = get_array(r, m->noob, sizeof *m->oob_key);
    m->oob_raw = get_array(r, m->noob, sizeof *m->oob_raw);
    if (r->bad)
        return;
    if (version >= 2) {
        deserialize_v2(r, m);
    } else {
        m->pos_labels = split_labels(m->positive, &m->npos_labels);
        m->neg_labels = split_labels(m->negative, &m->nneg_labels);
        m->load_note = xstrdup("the model file is of format version 1: it is read with the "
                               "default missing-value tokens, and leads it trained on are "
                               "explained by all its trees; train again to store both");
    }
    m->format_version = version;
    if (!r->bad && r->p != r->end)
        bad(r, "it has bytes past its end");
}

int model_load_mem(const void *data, size_t len, struct model *m, struct ls_error *err)
{
    model_init(m);
    const uint8_t *b = data;
    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return ls_error_set(err, LS_EINPUT, "not a LeadScore model file");
    if (len < HEADER_BYTES)
        return ls_error_set(err, LS_EINPUT,
                            "the model file is truncated (%zu bytes, its header "
                            "alone is %d)",
                            len, HEADER_BYTES);
    uint32_t version, crc;
    uint64_t plen;
    memcpy(&version, b + 8, 4);
    memcpy(&crc, b + 12, 4);
    memcpy(&plen, b + 16, 8);
    if (version < 1 || version > MODEL_VERSION)
        return ls_error_set(err, LS_EINPUT,
                            "model file format version %u; this build reads "
                            "versions 1 to %u: retrain the model",
                            version, MODEL_VERSION);
    if (plen != len - HEADER_BYTES)
        return ls_error_set(err, LS_EINPUT,
                            "the model file is truncated or padded (%zu bytes, "
                            "expected %llu)",
                            len, (unsigned long long)(plen + HEADER_BYTES));
    if (crc32_update(0, b + HEADER_BYTES, plen) != crc)
        return ls_error_set(err, LS_EINPUT, "the model file is corrupted (checksum mismatch)");
    struct r r = {b + HEADER_BYTES, b + len, 0, ""};
    deserialize(&r, m, version);
    if (r.bad) {
        model_cleanup(m);
        model_init(m);
        return ls_error_set(err, LS_EINPUT, "the model file is not valid: %s", r.why);
    }
    forest_infer_missing_seen(&m->forest, &m->schema); /* older files: tree.h, forest.h */
    return LS_OK;
}

int model_load(const char *path, struct model *m, struct ls_error *err)
{
    model_init(m);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ls_error_set(err, LS_EIO, "cannot open model '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ls_error_set(err, LS_EIO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > MODEL_MAX_BYTES) {
        fclose(f);
        return ls_error_set(err, LS_ELIMIT, "'%s' is larger than a model can be", path);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *data = xmalloc(len ? len : 1);
    size_t got = fread(data, 1, len, f);
    fclose(f);
    int rc;
    if (got != len)
        rc = ls_error_set(err, LS_EIO, "reading '%s' failed", path);
    else
        rc = model_load_mem(data, len, m, err);
    free(data);
    return rc;
}
