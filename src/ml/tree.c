/*
 * tree.c — growing one tree: histogram split finding with Gini impurity.
 *
 * The rows of a node are a contiguous range of `recs` (row index, bootstrap
 * count and label in 4 bytes), kept in ascending row order by a stable
 * partition, so that gathering a feature's bins by row index walks its
 * column forward. (Keeping every feature's bins in node order instead, and
 * partitioning them all at each split, was measured slower: 4.5 s against
 * 2.6 s on 100k generated leads.) For each candidate
 * feature the node's rows are counted into a histogram over its bins (weight
 * and positive weight per bin), and the best threshold is found in one scan:
 *
 *   ordered features   bins in their natural order; each cut, with the
 *                      missing bin sent left or right (learned direction),
 *                      plus "missing vs the rest"
 *   categorical        bins sorted by positive share inside the node, then
 *                      scanned like an ordered feature — for binary Gini the
 *                      best subset split is a prefix of that order (Breiman
 *                      et al. 1984, §9.4), so no one-hot and no arbitrary codes
 *
 * Impurity: weighted Gini; the best split maximises
 *   (pL^2 + nL^2) / wL + (pR^2 + nR^2) / wR.
 *
 * Features: mtry drawn per node without replacement (a lazily initialised
 * Fisher-Yates permutation); when none of them gives a valid split, more are
 * drawn until one does or all were tried, as scikit-learn does.
 *
 * Parent - sibling subtraction: when a node splits, both children's first
 * mtry features are drawn at once. The smaller child's histograms are counted
 * from its rows, including the features the larger child drew that the parent
 * also had; for those the larger child's histogram is parent minus sibling,
 * with no pass over its (larger) set of rows.
 *
 * All scratch space lives in struct tree_scratch, allocated once per thread.
 */
#include "ml/tree.h"

#include "core/mem.h"

#include <math.h>
#include <string.h>

struct wp {
    float w; /* weight */
    float p; /* positive weight */
};

struct hist {
    struct wp b[256]; /* a bin's weight and positive weight side by side */
    uint16_t lo, hi;  /* non-empty value bins lie in [lo, hi]; lo > hi when none */
};

/* An in-bag row in 4 bytes: row index (bits 0-22), bootstrap count (23-30),
 * label (31). Bits 23-31 index struct tree_scratch.wtab for the weight and
 * positive weight, so histograms never touch the label array. */
typedef uint32_t rec_t;
#define REC_ROW(r) ((r) & (TREE_MAX_ROWS - 1))
#define REC_KEY(r) ((r) >> 23)

/* The bins of the row TREE_PF_DIST records ahead are prefetched: in deep nodes
 * of a large file consecutive records are far apart in the columns, and each
 * gather would otherwise wait for memory; so do the partitions and the
 * out-of-bag sums. recs and orecs have TREE_PF_DIST zeroed entries of
 * padding, so the look-ahead never reads past them. */
#ifndef TREE_PF_DIST
#define TREE_PF_DIST 16
#endif
#if TREE_PF_DIST > 0
#define TREE_PF(p) __builtin_prefetch(p)
#else
#define TREE_PF(p) ((void)(p))
#endif

struct slot {
    uint16_t *perm; /* permutation of features, valid where stamp == gen */
    uint32_t *stamp;
    uint32_t gen;
    uint32_t drawn;
    uint32_t nh;     /* histograms held */
    uint16_t *hfeat; /* their features */
    struct hist *h;
    uint16_t *consts; /* features constant in this node (and so in its subtree) */
    uint32_t nconst;
    uint32_t *cstamp; /* cstamp[f] == gen: f is in consts */
};

struct tree_scratch {
    rec_t *recs, *tmp;
    struct wp wtab[512];    /* by REC_KEY: weight and positive weight */
    uint32_t *orecs, *otmp; /* out-of-bag rows, routed along with the in-bag ones */
    /* out-of-bag rows with a missing value at a split that saw none in
     * training: prediction takes both children there (tree.h), so their
     * value is computed from that node once the tree is grown */
    uint32_t *drow, *dnode, ndefer;
    uint32_t nfeat, K;
    uint32_t gen;
    struct slot slots[TREE_MAX_DEPTH + 2][2];
    struct hist spare;
    uint16_t *want;      /* feature list being built */
    uint16_t *flist;     /* features to count in one pass (K of them at most) */
    struct hist **hlist; /* and where their histograms go */
};

struct split {
    int valid;
    double score;
    uint16_t feat;
    uint8_t kind;
    uint8_t missing_left;
    uint8_t missing_seen; /* the node's rows include missing ones (TNODE_MISSING_SEEN) */
    uint32_t thr;
    uint64_t set[4];
    double wl, pl, wr, pr;
};

struct tree_scratch *tree_scratch_new(const struct tree_data *d)
{
    struct tree_scratch *s = xcalloc(1, sizeof *s);
    for (unsigned key = 0; key < 512; key++) {
        unsigned count = key & 255, y = key >> 8;
        float w = (float)count * (y ? d->wpos : d->wneg);
        s->wtab[key].w = w;
        s->wtab[key].p = y ? w : 0;
    }
    s->recs = xcalloc(d->n + TREE_PF_DIST + 1, sizeof *s->recs);
    s->tmp = xmalloc((d->n ? d->n : 1) * sizeof *s->tmp);
    s->orecs = xcalloc(d->n + TREE_PF_DIST + 1, sizeof *s->orecs);
    s->otmp = xmalloc((d->n ? d->n : 1) * sizeof *s->otmp);
    s->drow = xmalloc((d->n ? d->n : 1) * sizeof *s->drow);
    s->dnode = xmalloc((d->n ? d->n : 1) * sizeof *s->dnode);
    s->nfeat = d->nfeat;
    s->K = 2 * d->mtry + 8;
    if (s->K > d->nfeat)
        s->K = d->nfeat;
    for (int l = 0; l < TREE_MAX_DEPTH + 2; l++)
        for (int k = 0; k < 2; k++) {
            struct slot *sl = &s->slots[l][k];
            sl->perm = xmalloc(d->nfeat * sizeof *sl->perm);
            sl->stamp = xcalloc(d->nfeat, sizeof *sl->stamp);
            sl->hfeat = xmalloc(s->K * sizeof *sl->hfeat);
            sl->h = xmalloc(s->K * sizeof *sl->h);
            sl->consts = xmalloc(d->nfeat * sizeof *sl->consts);
            sl->cstamp = xcalloc(d->nfeat, sizeof *sl->cstamp);
        }
    s->want = xmalloc(d->nfeat * sizeof *s->want);
    s->flist = xmalloc((s->K ? s->K : 1) * sizeof *s->flist);
    s->hlist = xmalloc((s->K ? s->K : 1) * sizeof *s->hlist);
    return s;
}

void tree_scratch_free(struct tree_scratch *s)
{
    if (!s)
        return;
    for (int l = 0; l < TREE_MAX_DEPTH + 2; l++)
        for (int k = 0; k < 2; k++) {
            struct slot *sl = &s->slots[l][k];
            free(sl->perm);
            free(sl->stamp);
            free(sl->hfeat);
            free(sl->h);
            free(sl->consts);
            free(sl->cstamp);
        }
    free(s->want);
    free(s->flist);
    free(s->hlist);
    free(s->recs);
    free(s->tmp);
    free(s->orecs);
    free(s->otmp);
    free(s->drow);
    free(s->dnode);
    free(s);
}

void tree_cleanup(struct tree *t)
{
    free(t->nodes);
    free(t->catsets);
    memset(t, 0, sizeof *t);
}

uint32_t tree_leaf(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row)
{
    uint32_t i = 0;
    while (t->nodes[i].kind != TNODE_LEAF) {
        const struct tnode *n = &t->nodes[i];
        i = n->left + !tnode_goes_left(t, n, X[(uint64_t)n->feat * stride + row]);
    }
    return i;
}

double tree_value_from(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row,
                       uint32_t i)
{
    for (;;) {
        const struct tnode *n = &t->nodes[i];
        if (n->kind == TNODE_LEAF)
            return n->value;
        unsigned b = X[(uint64_t)n->feat * stride + row];
        if (tnode_neutral(n, b)) /* both sides; depth bounds the recursion */
            return tnode_ratio(t, n, 0) * tree_value_from(t, X, stride, row, n->left) +
                   tnode_ratio(t, n, 1) * tree_value_from(t, X, stride, row, n->left + 1);
        i = n->left + !tnode_goes_left(t, n, b);
    }
}

uint32_t tree_first_leaf(const struct tree *t, uint32_t i)
{
    while (t->nodes[i].kind != TNODE_LEAF)
        i = t->nodes[i].left;
    return i;
}

/* ---- feature sampling ---------------------------------------------------- */

static void slot_reset(struct tree_scratch *s, struct slot *sl)
{
    sl->gen = ++s->gen;
    if (s->gen == 0) { /* wrapped: clear every stamp once */
        for (int l = 0; l < TREE_MAX_DEPTH + 2; l++)
            for (int k = 0; k < 2; k++) {
                memset(s->slots[l][k].stamp, 0, s->nfeat * sizeof(uint32_t));
                memset(s->slots[l][k].cstamp, 0, s->nfeat * sizeof(uint32_t));
            }
        sl->gen = s->gen = 1;
    }
    sl->drawn = 0;
    sl->nh = 0;
    sl->nconst = 0;
}

static void slot_add_const(struct slot *sl, uint16_t f)
{
    if (sl->cstamp[f] != sl->gen) {
        sl->cstamp[f] = sl->gen;
        sl->consts[sl->nconst++] = f;
    }
}

/* Does every row of the node fall in one bin? */
static int hist_constant(const struct hist *h)
{
    if (h->lo > h->hi)
        return 1; /* all missing */
    return h->lo == h->hi && h->b[0].w <= 0;
}

static inline uint16_t perm_get(const struct slot *sl, uint32_t i)
{
    return sl->stamp[i] == sl->gen ? sl->perm[i] : (uint16_t)i;
}

/* The k-th feature of the slot's permutation, drawing it if needed. */
static uint16_t slot_draw(struct slot *sl, uint32_t k, uint32_t nfeat, struct rng *rng)
{
    while (sl->drawn <= k) {
        uint32_t i = sl->drawn;
        uint32_t j = i + (uint32_t)rng_below(rng, nfeat - i);
        uint16_t a = perm_get(sl, i), b = perm_get(sl, j);
        sl->perm[i] = b;
        sl->stamp[i] = sl->gen;
        sl->perm[j] = a;
        sl->stamp[j] = sl->gen;
        sl->drawn++;
    }
    return sl->perm[k];
}

static struct hist *slot_find(struct slot *sl, uint16_t f)
{
    for (uint32_t i = 0; i < sl->nh; i++)
        if (sl->hfeat[i] == f)
            return &sl->h[i];
    return NULL;
}

/* ---- histograms ---------------------------------------------------------- */

/* Count rows [lo, hi) into h: x[IDX(k)] is row k's bin. */
#define HIST_LOOPS(IDX)                                                                            \
    do {                                                                                           \
        if (hi - lo < nb / 2) {                                                                    \
            /* few rows: gather their bins once, clear only the range they use */                  \
            uint8_t got[128];                                                                      \
            for (uint32_t k = lo; k < hi; k++) {                                                   \
                unsigned b = x[IDX(k)];                                                            \
                got[k - lo] = (uint8_t)b;                                                          \
                mn = b && b < mn ? b : mn;                                                         \
                mx = b > mx ? b : mx;                                                              \
            }                                                                                      \
            h->b[0].w = h->b[0].p = 0;                                                             \
            if (mx)                                                                                \
                memset(h->b + mn, 0, (mx - mn + 1) * sizeof(struct wp));                           \
            for (uint32_t k = lo; k < hi; k++) {                                                   \
                const struct wp *v = &s->wtab[REC_KEY(r[k])];                                      \
                unsigned b = got[k - lo];                                                          \
                h->b[b].w += v->w;                                                                 \
                h->b[b].p += v->p;                                                                 \
            }                                                                                      \
        } else {                                                                                   \
            memset(h->b, 0, (nb + 1) * sizeof(struct wp));                                         \
            for (uint32_t k = lo; k < hi; k++) {                                                   \
                const struct wp *v = &s->wtab[REC_KEY(r[k])];                                      \
                unsigned b = x[IDX(k)];                                                            \
                h->b[b].w += v->w;                                                                 \
                h->b[b].p += v->p;                                                                 \
                mn = b && b < mn ? b : mn;                                                         \
                mx = b > mx ? b : mx;                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define IDX_GATHER(k) REC_ROW(r[k])

static void hist_build(const struct tree_data *d, const struct tree_scratch *s, uint32_t lo,
                       uint32_t hi, uint16_t f, struct hist *h)
{
    unsigned nb = d->nbins[f];
    const rec_t *r = s->recs;
    unsigned mn = 255, mx = 0;
    const uint8_t *x = d->X + (uint64_t)f * d->n;
    HIST_LOOPS(IDX_GATHER);
    h->lo = (uint16_t)(mx ? mn : 1);
    h->hi = (uint16_t)mx;
}

/* The non-empty value bins of a histogram counted without tracking them:
 * every in-bag row has a positive weight, so a bin is non-empty when its
 * weight is. Same lo / hi as hist_build's running min / max. */
static void hist_range(struct hist *h, unsigned nb)
{
    unsigned mn = 1, mx = nb;
    while (mn <= nb && h->b[mn].w <= 0)
        mn++;
    while (mx >= mn && h->b[mx].w <= 0)
        mx--;
    h->lo = (uint16_t)(mn <= nb ? mn : 1);
    h->hi = (uint16_t)(mn <= nb ? mx : 0);
}

/*
 * Histograms of nf features over rows [lo, hi) in one pass over the rows:
 * each record is read and looked up in wtab once for all the features, and
 * the features' read-modify-write chains are independent, so they overlap.
 * Every histogram still adds its rows in row order, so its sums are the ones
 * hist_build gives, bit for bit. Small nodes go feature by feature through
 * hist_build, which clears only the bins they use.
 */
#define HIST_FUSE_MAX 4
static void hist_build_many(const struct tree_data *d, const struct tree_scratch *s, uint32_t lo,
                            uint32_t hi, const uint16_t *feats, uint32_t nf, struct hist **hs)
{
    const rec_t *r = s->recs;
    while (nf > 0) {
        uint32_t m = 0;
        const uint8_t *x[HIST_FUSE_MAX];
        struct wp *hb[HIST_FUSE_MAX];
        struct hist *hh[HIST_FUSE_MAX];
        unsigned nbs[HIST_FUSE_MAX];
        while (nf > 0 && m < HIST_FUSE_MAX) {
            unsigned nb = d->nbins[*feats];
            if (hi - lo < nb / 2) {
                hist_build(d, s, lo, hi, *feats, *hs);
            } else {
                x[m] = d->X + (uint64_t)*feats * d->n;
                hh[m] = *hs;
                hb[m] = (*hs)->b;
                nbs[m] = nb;
                memset(hb[m], 0, (nb + 1) * sizeof(struct wp));
                m++;
            }
            feats++, hs++, nf--;
        }
        switch (m) {
        case 4:
            for (uint32_t k = lo; k < hi; k++) {
                rec_t rc = r[k];
                const struct wp *v = &s->wtab[REC_KEY(rc)];
                uint32_t row = REC_ROW(rc);
                float w = v->w, p = v->p;
                uint32_t ahead = REC_ROW(r[k + TREE_PF_DIST]);
                TREE_PF(x[0] + ahead), TREE_PF(x[1] + ahead), TREE_PF(x[2] + ahead);
                TREE_PF(x[3] + ahead);
                unsigned b0 = x[0][row], b1 = x[1][row], b2 = x[2][row], b3 = x[3][row];
                hb[0][b0].w += w, hb[0][b0].p += p;
                hb[1][b1].w += w, hb[1][b1].p += p;
                hb[2][b2].w += w, hb[2][b2].p += p;
                hb[3][b3].w += w, hb[3][b3].p += p;
            }
            break;
        case 3:
            for (uint32_t k = lo; k < hi; k++) {
                rec_t rc = r[k];
                const struct wp *v = &s->wtab[REC_KEY(rc)];
                uint32_t row = REC_ROW(rc);
                float w = v->w, p = v->p;
                uint32_t ahead = REC_ROW(r[k + TREE_PF_DIST]);
                TREE_PF(x[0] + ahead), TREE_PF(x[1] + ahead), TREE_PF(x[2] + ahead);
                unsigned b0 = x[0][row], b1 = x[1][row], b2 = x[2][row];
                hb[0][b0].w += w, hb[0][b0].p += p;
                hb[1][b1].w += w, hb[1][b1].p += p;
                hb[2][b2].w += w, hb[2][b2].p += p;
            }
            break;
        case 2:
            for (uint32_t k = lo; k < hi; k++) {
                rec_t rc = r[k];
                const struct wp *v = &s->wtab[REC_KEY(rc)];
                uint32_t row = REC_ROW(rc);
                float w = v->w, p = v->p;
                uint32_t ahead = REC_ROW(r[k + TREE_PF_DIST]);
                TREE_PF(x[0] + ahead), TREE_PF(x[1] + ahead);
                unsigned b0 = x[0][row], b1 = x[1][row];
                hb[0][b0].w += w, hb[0][b0].p += p;
                hb[1][b1].w += w, hb[1][b1].p += p;
            }
            break;
        case 1:
            for (uint32_t k = lo; k < hi; k++) {
                rec_t rc = r[k];
                const struct wp *v = &s->wtab[REC_KEY(rc)];
                TREE_PF(x[0] + REC_ROW(r[k + TREE_PF_DIST]));
                unsigned b0 = x[0][REC_ROW(rc)];
                hb[0][b0].w += v->w, hb[0][b0].p += v->p;
            }
            break;
        default:
            break;
        }
        for (uint32_t j = 0; j < m; j++)
            hist_range(hh[j], nbs[j]);
    }
}

/* Only bin 0 and [lo, hi] are ever read, so only they are written. */
static void hist_subtract(const struct hist *parent, const struct hist *sib, struct hist *out)
{
    float w = parent->b[0].w - sib->b[0].w, p = parent->b[0].p - sib->b[0].p;
    out->b[0].w = w > 1e-4f ? w : 0;
    out->b[0].p = w > 1e-4f && p > 0 ? p : 0;
    for (unsigned b = parent->lo; b <= parent->hi; b++) {
        int in = b >= sib->lo && b <= sib->hi; /* outside its range sib holds stale data */
        w = parent->b[b].w - (in ? sib->b[b].w : 0);
        p = parent->b[b].p - (in ? sib->b[b].p : 0);
        out->b[b].w = w > 1e-4f ? w : 0;
        out->b[b].p = w > 1e-4f && p > 0 ? p : 0;
    }
    out->lo = parent->lo;
    out->hi = parent->hi;
}

/* The histogram of feature f for the node held in sl: stored, or counted. */
static struct hist *node_hist(const struct tree_data *d, struct tree_scratch *s, struct slot *sl,
                              uint32_t lo, uint32_t hi, uint16_t f)
{
    struct hist *h = slot_find(sl, f);
    if (h)
        return h;
    if (sl->nh < s->K) {
        h = &sl->h[sl->nh];
        sl->hfeat[sl->nh++] = f;
    } else {
        h = &s->spare;
    }
    hist_build(d, s, lo, hi, f, h);
    return h;
}

/* ---- split search -------------------------------------------------------- */

static inline double side(double w, double p)
{
    return w > 0 ? (p * p + (w - p) * (w - p)) / w : 0;
}

static void consider(struct split *best, double wl, double pl, double W, double P, double minw,
                     int missing_left)
{
    double wr = W - wl, pr = P - pl;
    if (wl < minw || wr < minw)
        return;
    double sc = side(wl, pl) + side(wr, pr);
    if (sc > best->score) {
        best->valid = 1;
        best->score = sc;
        best->missing_left = (uint8_t)missing_left;
        best->wl = wl, best->pl = pl, best->wr = wr, best->pr = pr;
    }
}

/* Best cut of one feature; updates *best when it beats it. */
static void eval_feature(const struct tree_data *d, const struct hist *h, uint16_t f, double W,
                         double P, struct split *best)
{
    double minw = d->min_leaf > 0 ? (double)d->min_leaf : 1.0;
    double w0 = h->b[0].w, p0 = h->b[0].p;
    struct split cand = *best;
    cand.valid = 0;
    cand.missing_seen = w0 >= minw; /* fewer missing rows than a leaf: no learned direction */
    if (!d->is_cat[f]) {
        double wl = 0, pl = 0;
        unsigned last = 0;
        for (unsigned b = h->lo; b < h->hi; b++) {
            if (h->b[b].w <= 0)
                continue;
            wl += h->b[b].w;
            pl += h->b[b].p;
            if (W - wl < minw)
                break; /* the right side only shrinks from here: no later cut is valid */
            double before = cand.score;
            consider(&cand, wl, pl, W, P, minw, 0);
            if (w0 > 0)
                consider(&cand, wl + w0, pl + p0, W, P, minw, 1);
            if (cand.score > before)
                last = b;
        }
        if (w0 > 0 && h->lo <= h->hi) { /* every value left, missing right */
            double before = cand.score;
            consider(&cand, W - w0, P - p0, W, P, minw, 0);
            if (cand.score > before)
                last = 255;
        }
        if (cand.valid && cand.score > best->score) {
            *best = cand;
            best->feat = f;
            best->kind = TNODE_ORDERED;
            best->thr = last;
        }
        return;
    }
    /* categorical: order the present categories by positive share */
    uint8_t order[256];
    double rate[256];
    unsigned m = 0;
    for (unsigned b = h->lo; b <= h->hi; b++)
        if (h->b[b].w > 0) {
            order[m] = (uint8_t)b;
            rate[b] = h->b[b].p / h->b[b].w;
            m++;
        }
    for (unsigned i = 1; i < m; i++) { /* insertion sort: m is small, order is stable */
        uint8_t v = order[i];
        unsigned j = i;
        while (j > 0 && (rate[order[j - 1]] > rate[v] ||
                         (rate[order[j - 1]] == rate[v] && order[j - 1] > v))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    double wl = 0, pl = 0;
    unsigned cut = 0;
    for (unsigned i = 0; i + 1 < m; i++) {
        wl += h->b[order[i]].w;
        pl += h->b[order[i]].p;
        double before = cand.score;
        consider(&cand, wl, pl, W, P, minw, 0);
        if (w0 > 0)
            consider(&cand, wl + w0, pl + p0, W, P, minw, 1);
        if (cand.score > before)
            cut = i + 1;
    }
    if (w0 > 0 && m > 0) {
        double before = cand.score;
        consider(&cand, W - w0, P - p0, W, P, minw, 0);
        if (cand.score > before)
            cut = m;
    }
    if (cand.valid && cand.score > best->score) {
        *best = cand;
        best->feat = f;
        best->kind = TNODE_CATEGORICAL;
        memset(best->set, 0, sizeof best->set);
        for (unsigned i = 0; i < cut; i++)
            best->set[order[i] >> 6] |= 1ULL << (order[i] & 63);
    }
}

/* ---- growing -------------------------------------------------------------- */

struct grower {
    const struct tree_data *d;
    struct tree_scratch *s;
    struct rng *rng;
    struct tree *t;
    uint32_t max_depth;
    uint64_t *oob; /* may be NULL */
};

/* A leaf value as an out-of-bag word (tree.h). With class weights, P - pl in
 * floating point can leave a leaf a hair below 0 (or above 1); a negative value
 * would borrow from the tree count in the packed word — and the borrow landed
 * differently with the thread count — so it is clamped to [0, 1] first. */
static inline uint64_t oob_word(double value)
{
    double v = value > 0 ? (value < 1 ? (double)value : 1.0) : 0.0;
    return (uint64_t)llround(v * TREE_OOB_ONE) + (1ULL << TREE_OOB_COUNT_SHIFT);
}

/* A leaf: its out-of-bag rows get its value (fixed point, see tree.h). */
static void leaf_oob(struct grower *g, const struct tnode *n, uint32_t olo, uint32_t ohi)
{
    if (!g->oob)
        return;
    uint64_t v = oob_word(n->value);
    const uint32_t *o = g->s->orecs;
    for (uint32_t k = olo; k < ohi; k++) {
        __builtin_prefetch(g->oob + o[k + TREE_PF_DIST], 1);
        g->oob[o[k]] += v;
    }
}

/* Route the out-of-bag rows [olo, ohi) by the split at node; returns the
 * first right one. When the split saw no missing training rows (neutral0), a
 * row missing the feature leaves the routing: it is set aside with the node,
 * and tree_grow adds its value as prediction computes it (both children,
 * weighted by cover) once the tree is complete. Rows set aside are moved to
 * the end of the range, past the right ones; *ohi_out is the new end. */
static uint32_t partition_oob(const struct tree_data *d, struct tree_scratch *s, uint32_t olo,
                              uint32_t *ohi_out, const uint8_t *go, uint16_t feat, int neutral0,
                              uint32_t node)
{
    const uint8_t *x = d->X + (uint64_t)feat * d->n;
    uint32_t ohi = *ohi_out, l = olo, r = 0;
    if (neutral0) { /* rare: rows with bin 0 are few where training saw under min_leaf of them */
        uint32_t w = olo;
        for (uint32_t k = olo; k < ohi; k++) {
            uint32_t row = s->orecs[k];
            if (x[row] == 0) {
                s->drow[s->ndefer] = row;
                s->dnode[s->ndefer++] = node;
            } else {
                s->orecs[w++] = row;
            }
        }
        if (w < ohi) /* keep the prefetch padding past the live records harmless */
            memset(s->orecs + w, 0, (ohi - w) * sizeof *s->orecs);
        ohi = w;
        *ohi_out = w;
    }
    for (uint32_t k = olo; k < ohi; k++) {
        uint32_t row = s->orecs[k];
        TREE_PF(x + s->orecs[k + TREE_PF_DIST]);
        unsigned gl = go[x[row]];
        s->orecs[l] = row;
        s->otmp[r] = row;
        l += gl;
        r += gl ^ 1u;
    }
    memcpy(s->orecs + l, s->otmp, r * sizeof *s->otmp);
    return l;
}

static uint32_t add_nodes(struct tree *t, uint32_t k)
{
    if (t->nnodes + k > t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        while (t->cap < t->nnodes + k)
            t->cap *= 2;
        t->nodes = xreallocarray(t->nodes, t->cap, sizeof *t->nodes);
    }
    uint32_t first = t->nnodes;
    t->nnodes += k;
    return first;
}

/* go[b] = 1 when a row with bin b of the split's feature goes left. */
static void split_go(const struct tree_data *d, const struct split *sp, uint8_t *go)
{
    unsigned nb = d->nbins[sp->feat];
    memset(go, 0, 256);
    go[0] = sp->missing_left;
    for (unsigned b = 1; b <= nb; b++)
        go[b] =
            sp->kind == TNODE_ORDERED ? b <= sp->thr : (uint8_t)((sp->set[b >> 6] >> (b & 63)) & 1);
}

/* Stable partition of recs[lo, hi); returns the first right position and leaves the split's bin ->
 * side table in go. Branch-free: the side is a coin flip to the predictor. */
static uint32_t partition(const struct tree_data *d, struct tree_scratch *s, uint32_t lo,
                          uint32_t hi, const struct split *sp, uint8_t *go)
{
    split_go(d, sp, go);
    const uint8_t *x = d->X + (uint64_t)sp->feat * d->n;
    uint32_t l = lo, r = 0;
    for (uint32_t k = lo; k < hi; k++) {
        rec_t rc = s->recs[k];
        TREE_PF(x + REC_ROW(s->recs[k + TREE_PF_DIST]));
        unsigned g = go[x[REC_ROW(rc)]];
        s->recs[l] = rc;
        s->tmp[r] = rc;
        l += g;
        r += g ^ 1u;
    }
    memcpy(s->recs + l, s->tmp, r * sizeof *s->tmp);
    return l;
}

/* Does a node at depth with weight W, positive weight P stay a leaf? */
static inline int stays_leaf(const struct grower *g, uint32_t depth, double W, double P)
{
    double minw = g->d->min_leaf > 0 ? (double)g->d->min_leaf : 1.0;
    return depth >= g->max_depth || W < 2 * minw || P <= 1e-6 || P >= W - 1e-6;
}

/* A node known to stay a leaf: its fields as grow() writes them, and its
 * out-of-bag rows [olo, ohi). */
static void leaf_only(struct grower *g, uint32_t node, double W, double P, uint32_t olo,
                      uint32_t ohi)
{
    struct tnode *n = &g->t->nodes[node];
    n->value = W > 0 ? (float)(P / W) : 0;
    n->cover = (float)W;
    n->kind = TNODE_LEAF;
    n->feat = 0;
    n->flags = 0;
    n->arg = 0;
    n->left = 0;
    leaf_oob(g, n, olo, ohi);
}

static void grow(struct grower *g, uint32_t node, uint32_t lo, uint32_t hi, uint32_t olo,
                 uint32_t ohi, uint32_t depth, struct slot *sl, double W, double P)
{
    const struct tree_data *d = g->d;
    struct tree_scratch *s = g->s;
    struct tnode *n = &g->t->nodes[node];
    n->value = W > 0 ? (float)(P / W) : 0;
    n->cover = (float)W;
    n->kind = TNODE_LEAF;
    n->feat = 0;
    n->flags = 0;
    n->arg = 0;
    n->left = 0;
    if (stays_leaf(g, depth, W, P)) {
        leaf_oob(g, n, olo, ohi);
        return;
    }

    struct split best;
    memset(&best, 0, sizeof best);
    best.score = side(W, P) + 1e-9 * W; /* a split must beat the node itself */
    /* mtry features are tried, then more until a split is valid or none is
     * left. A feature known to be constant here (found so in an ancestor) is
     * tried without counting its rows; it still counts as tried, which keeps
     * the trees as random as plain mtry sampling (skipping it made them
     * greedier and raised the OOB log-loss on Leads.csv). */
    /* The first mtry features are always tried: count the ones not held yet
     * in one pass (drawing them first uses the RNG in the same order). */
    {
        uint32_t m = d->mtry < d->nfeat ? d->mtry : d->nfeat, nb = 0;
        for (uint32_t k = 0; k < m && sl->nh < s->K; k++) {
            uint16_t f = slot_draw(sl, k, d->nfeat, g->rng);
            if (sl->cstamp[f] == sl->gen || slot_find(sl, f))
                continue;
            s->flist[nb] = f;
            s->hlist[nb++] = &sl->h[sl->nh];
            sl->hfeat[sl->nh++] = f;
        }
        hist_build_many(d, s, lo, hi, s->flist, nb, s->hlist);
    }
    for (uint32_t k = 0; k < d->nfeat; k++) {
        if (k >= d->mtry && best.valid)
            break;
        uint16_t f = slot_draw(sl, k, d->nfeat, g->rng);
        if (sl->cstamp[f] == sl->gen)
            continue;
        struct hist *h = node_hist(d, s, sl, lo, hi, f);
        if (hist_constant(h)) {
            slot_add_const(sl, f);
            continue;
        }
        eval_feature(d, h, f, W, P, &best);
    }
    if (!best.valid) {
        leaf_oob(g, n, olo, ohi);
        return;
    }

    /* When both children will stay leaves (known from the split's weights),
     * their in-bag rows need no partition and no histograms: only the
     * out-of-bag rows are routed. In a grown tree that is most of the last
     * level's work. */
    int leaves =
        stays_leaf(g, depth + 1, best.wl, best.pl) && stays_leaf(g, depth + 1, best.wr, best.pr);
    uint8_t go[256];
    uint32_t mid = lo;
    if (leaves) {
        split_go(d, &best, go);
    } else {
        mid = partition(d, s, lo, hi, &best, go);
        if (mid == lo || mid == hi) { /* cannot happen with min_leaf >= 1; stay safe */
            leaf_oob(g, n, olo, ohi);
            return;
        }
    }
    uint32_t omid = partition_oob(d, s, olo, &ohi, go, best.feat, !best.missing_seen, node);
    uint32_t c = add_nodes(g->t, 2);
    n = &g->t->nodes[node]; /* the array may have moved */
    n->kind = best.kind;
    n->feat = best.feat;
    n->flags = (uint8_t)((best.missing_left ? TNODE_MISSING_LEFT : 0) |
                         (best.missing_seen ? TNODE_MISSING_SEEN : 0) | TNODE_SEEN_KNOWN);
    n->left = c;
    if (best.kind == TNODE_ORDERED) {
        n->arg = best.thr;
    } else {
        struct tree *t = g->t;
        if (t->ncatsets == t->catcap) {
            t->catcap = t->catcap ? t->catcap * 2 : 16;
            t->catsets = xreallocarray(t->catsets, t->catcap, sizeof *t->catsets);
        }
        memcpy(t->catsets[t->ncatsets], best.set, sizeof best.set);
        n->arg = t->ncatsets++;
    }

    if (leaves) {
        /* the same draws as below, so the rest of the tree sees the same
         * random numbers; the leaves never use them */
        uint32_t m = d->mtry < d->nfeat ? d->mtry : d->nfeat;
        for (int twice = 0; twice < 2; twice++)
            for (uint32_t k = 0; k < m; k++)
                (void)rng_below(g->rng, d->nfeat - k);
        leaf_only(g, c, best.wl, best.pl, olo, omid);
        leaf_only(g, c + 1, best.wr, best.pr, omid, ohi);
        return;
    }

    /* Children: draw both first-mtry sets now; count the smaller child's
     * histograms, derive the larger child's shared ones by subtraction. */
    int left_small = (mid - lo) <= (hi - mid);
    struct slot *A = &s->slots[depth + 1][0], *B = &s->slots[depth + 1][1];
    slot_reset(s, A);
    slot_reset(s, B);
    for (uint32_t i = 0; i < sl->nconst; i++) {
        slot_add_const(A, sl->consts[i]);
        slot_add_const(B, sl->consts[i]);
    }
    uint32_t m = d->mtry < d->nfeat ? d->mtry : d->nfeat;
    uint32_t slo = left_small ? lo : mid, shi = left_small ? mid : hi;
    uint32_t nw = 0;
    for (uint32_t k = 0; k < m; k++) {
        uint16_t f = slot_draw(A, k, d->nfeat, g->rng);
        if (A->cstamp[f] != A->gen)
            s->want[nw++] = f;
    }
    for (uint32_t k = 0; k < m; k++) {
        uint16_t f = slot_draw(B, k, d->nfeat, g->rng);
        if (!slot_find(sl, f) || B->cstamp[f] == B->gen)
            continue;
        int dup = 0;
        for (uint32_t i = 0; i < nw; i++)
            dup |= s->want[i] == f;
        if (!dup)
            s->want[nw++] = f;
    }
    {
        uint32_t nb = 0;
        for (uint32_t i = 0; i < nw && A->nh < s->K; i++) {
            s->hlist[nb++] = &A->h[A->nh];
            A->hfeat[A->nh++] = s->want[i];
        }
        hist_build_many(d, s, slo, shi, s->want, nb, s->hlist);
    }
    for (uint32_t k = 0; k < m && B->nh < s->K; k++) {
        uint16_t f = B->perm[k];
        struct hist *ph = slot_find(sl, f), *ah = slot_find(A, f);
        if (!ph || !ah)
            continue;
        struct hist *h = &B->h[B->nh];
        B->hfeat[B->nh++] = f;
        hist_subtract(ph, ah, h);
    }
    double wl = best.wl, pl = best.pl, wr = best.wr, pr = best.pr;
    if (left_small) {
        grow(g, c, lo, mid, olo, omid, depth + 1, A, wl, pl);
        grow(g, c + 1, mid, hi, omid, ohi, depth + 1, B, wr, pr);
    } else {
        grow(g, c + 1, mid, hi, omid, ohi, depth + 1, A, wr, pr);
        grow(g, c, lo, mid, olo, omid, depth + 1, B, wl, pl);
    }
}

/* ---- one feature: growing on bins ------------------------------------------ */

/*
 * With one feature (the leakage scan grows 50-tree forests on each column
 * alone) every row of a bin takes the same side at every split, so a node is
 * a set of bins, and its histogram is the root's restricted to that set: the
 * row path counts each bin's rows in row order in every node, and the parent
 * minus sibling of a bin is either the parent's sum or an exact zero. So the
 * tree is grown on the <= 256 bins instead of the rows, with the histograms
 * and the choices the row path makes — which child is counted (the one with
 * fewer rows) and keeps its narrowed bin range, which is derived and keeps its
 * parent's — and comes out the same, node for node. Out-of-bag rows take the
 * value of their bin's leaf at the end. The scan's cost falls from rows x
 * depth per tree to one pass over the rows.
 */
struct bin_grower {
    struct grower g;
    uint32_t recs[256];  /* in-bag records per bin */
    uint64_t leafv[256]; /* per bin: what its leaf adds to an out-of-bag row (tree.h) */
};

/* h restricted to the bins with go[b] == side; lo / hi narrowed as hist_build
 * would (counted) or kept (derived by subtraction). */
static void hist_restrict(const struct hist *h, const uint8_t *go, unsigned side, int narrow,
                          struct hist *out)
{
    out->b[0] = go[0] == side ? h->b[0] : (struct wp){0, 0};
    unsigned mn = 256, mx = 0;
    for (unsigned b = h->lo; b <= h->hi; b++) {
        int in = go[b] == side;
        out->b[b] = in ? h->b[b] : (struct wp){0, 0};
        if (in && h->b[b].w > 0) {
            mn = b < mn ? b : mn;
            mx = b;
        }
    }
    if (narrow) {
        out->lo = (uint16_t)(mx ? mn : 1);
        out->hi = (uint16_t)mx;
    } else {
        out->lo = h->lo;
        out->hi = h->hi;
    }
}

static void grow_bins(struct bin_grower *bg, uint32_t node, const struct hist *h,
                      const uint64_t mask[4], uint32_t depth, double W, double P)
{
    struct grower *g = &bg->g;
    const struct tree_data *d = g->d;
    struct tree_scratch *s = g->s;
    struct tnode *n = &g->t->nodes[node];
    n->value = W > 0 ? (float)(P / W) : 0;
    n->cover = (float)W;
    n->kind = TNODE_LEAF;
    n->feat = 0;
    n->flags = 0;
    n->arg = 0;
    n->left = 0;
    double minw = d->min_leaf > 0 ? (double)d->min_leaf : 1.0;
    struct split best;
    memset(&best, 0, sizeof best);
    uint8_t go[256];
    uint64_t nl = 0, nr = 0;
    if (!(depth >= g->max_depth || W < 2 * minw || P <= 1e-6 || P >= W - 1e-6)) {
        best.score = side(W, P) + 1e-9 * W;
        if (!hist_constant(h))
            eval_feature(d, h, 0, W, P, &best);
    }
    if (best.valid) {
        split_go(d, &best, go);
        for (unsigned b = 0; b < 256; b++)
            if ((mask[b >> 6] >> (b & 63)) & 1)
                *(go[b] ? &nl : &nr) += bg->recs[b];
    }
    if (!best.valid || nl == 0 || nr == 0) {
        uint64_t v = oob_word(n->value);
        for (unsigned b = 0; b < 256; b++)
            if ((mask[b >> 6] >> (b & 63)) & 1)
                bg->leafv[b] = v;
        return;
    }
    /* the node's fields as grow() sets them: keep the two in step */
    uint32_t c = add_nodes(g->t, 2);
    n = &g->t->nodes[node];
    n->kind = best.kind;
    n->feat = best.feat;
    n->flags = best.missing_left ? TNODE_MISSING_LEFT : 0;
    n->left = c;
    if (best.kind == TNODE_ORDERED) {
        n->arg = best.thr;
    } else {
        struct tree *t = g->t;
        if (t->ncatsets == t->catcap) {
            t->catcap = t->catcap ? t->catcap * 2 : 16;
            t->catsets = xreallocarray(t->catsets, t->catcap, sizeof *t->catsets);
        }
        memcpy(t->catsets[t->ncatsets], best.set, sizeof best.set);
        n->arg = t->ncatsets++;
    }
    uint64_t ml[4], mr[4];
    memset(ml, 0, sizeof ml);
    memset(mr, 0, sizeof mr);
    for (unsigned b = 0; b < 256; b++)
        if ((mask[b >> 6] >> (b & 63)) & 1)
            (go[b] ? ml : mr)[b >> 6] |= 1ULL << (b & 63);
    int left_small = nl <= nr;
    struct hist *A = &s->slots[depth + 1][0].h[0], *B = &s->slots[depth + 1][1].h[0];
    hist_restrict(h, go, left_small ? 1 : 0, 1, A);
    hist_restrict(h, go, left_small ? 0 : 1, 0, B);
    if (left_small) {
        grow_bins(bg, c, A, ml, depth + 1, best.wl, best.pl);
        grow_bins(bg, c + 1, B, mr, depth + 1, best.wr, best.pr);
    } else {
        grow_bins(bg, c + 1, A, mr, depth + 1, best.wr, best.pr);
        grow_bins(bg, c, B, ml, depth + 1, best.wl, best.pl);
    }
}

static void tree_grow_one_feature(const struct tree_data *d, const uint16_t *count,
                                  struct tree_scratch *s, struct tree *out, uint64_t *oob)
{
    struct bin_grower grower, *bg = &grower; /* 3 KB */
    memset(bg->recs, 0, sizeof bg->recs);
    struct hist *h = &s->slots[0][0].h[0];
    unsigned nb = d->nbins[0];
    memset(h->b, 0, (nb + 1) * sizeof(struct wp));
    double W = 0, P = 0;
    for (uint64_t r = 0; r < d->n; r++) {
        if (!count[r])
            continue;
        unsigned c = count[r] < 255 ? count[r] : 255, y = d->y[r] != 0;
        const struct wp *v = &s->wtab[c | y << 8];
        unsigned b = d->X[r];
        h->b[b].w += v->w; /* row order, as hist_build adds them */
        h->b[b].p += v->p;
        bg->recs[b]++;
        W += v->w;
        P += v->p;
    }
    hist_range(h, nb);
    add_nodes(out, 1);
    bg->g = (struct grower){
        d,
        s,
        NULL,
        out,
        d->max_depth && d->max_depth < TREE_MAX_DEPTH ? d->max_depth : TREE_MAX_DEPTH,
        oob};
    const uint64_t all[4] = {~0ULL, ~0ULL, ~0ULL, ~0ULL};
    grow_bins(bg, 0, h, all, 0, W, P);
    if (oob)
        for (uint64_t r = 0; r < d->n; r++)
            if (!count[r])
                oob[r] += bg->leafv[d->X[r]];
}

void tree_grow(const struct tree_data *d, const uint16_t *count, struct rng *rng,
               struct tree_scratch *s, struct tree *out, uint64_t *oob)
{
    memset(out, 0, sizeof *out);
    if (d->nfeat == 1) {
        tree_grow_one_feature(d, count, s, out, oob);
        return;
    }
    uint32_t m = 0, mo = 0;
    double W = 0, P = 0;
    for (uint64_t r = 0; r < d->n; r++) {
        if (!count[r]) {
            s->orecs[mo++] = (uint32_t)r;
            continue;
        }
        unsigned c = count[r] < 255 ? count[r] : 255, y = d->y[r] != 0;
        rec_t rc = (rec_t)r | (rec_t)c << 23 | (rec_t)y << 31;
        s->recs[m++] = rc;
        W += s->wtab[REC_KEY(rc)].w;
        P += s->wtab[REC_KEY(rc)].p;
    }

    add_nodes(out, 1);
    struct grower g = {
        d,
        s,
        rng,
        out,
        d->max_depth && d->max_depth < TREE_MAX_DEPTH ? d->max_depth : TREE_MAX_DEPTH,
        oob};
    struct slot *root = &s->slots[0][0];
    slot_reset(s, root);
    s->ndefer = 0;
    grow(&g, 0, 0, m, 0, mo, 0, root, W, P);
    if (oob)
        for (uint32_t k = 0; k < s->ndefer; k++)
            oob[s->drow[k]] += oob_word(tree_value_from(out, d->X, d->n, s->drow[k], s->dnode[k]));
}
