/*
 * treeshap.c — path-dependent TreeSHAP in one pass per tree (see treeshap.h).
 *
 * For a leaf with value v whose path meets the unique features D, each with
 * q_j (the product of its cover ratios along the path) and p_j (1 when the
 * row follows every split on j, else 0), feature i's Shapley share is
 *
 *   v (p_i - q_i) sum_{S in D\i} |S|! (|D|-|S|-1)! / |D|! prod_S p_j prod_rest q_j
 *   = v (p_i - q_i) integral_0^1 prod_{j in D\i} (q_j + t (p_j - q_j)) dt
 *
 * (the Shapley weight is a Beta integral). The integrand is a polynomial of
 * degree |D| - 1, so Gauss-Legendre quadrature with K = ceil(Dmax / 2) points
 * is exact, and every polynomial is handled as its K values. One depth-first
 * walk per tree carries the product down (C), sums leaf values times C up
 * (H), and at each edge on feature i divides i's factor out of the subtree's
 * sum to get that edge's share.
 *
 * A feature met again below an edge e has a different factor for the leaves
 * under the deeper occurrence. Those leaves are taken out of e's sum and put
 * back with i's factor already removed: each deeper "next" occurrence e'
 * leaves its H and its A (sum with i's factor removed) in pendH[i] / pendA[i],
 * and e computes A_e = (H_e - pendH) / F_e + pendA. The share coefficients
 * ((p - q) at e minus (p - q) at the previous occurrence) telescope, so each
 * leaf adds its final (p_i - q_i) once.
 *
 * Work is split in blocks of rows handed to threads; for each tree a thread
 * walks it for every group of eight rows of the block. The tree's tables
 * (q, 1 / F at the quadrature points, "feature met again below") are built
 * once for all threads when every tree's fit TS_SHARED_MAX, else by the
 * thread once per block. All scratch is allocated before the walks.
 */
#include "ml/treeshap.h"

#include "core/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define TS_H     2          /* vectors of four rows walked through a tree together */
#define TS_LANES (4 * TS_H) /* rows in a group */
typedef double ts_v __attribute__((vector_size(32)));
typedef uint32_t ts_vi __attribute__((vector_size(16))); /* bins, unsigned compares */
typedef int64_t ts_vl __attribute__((vector_size(32)));  /* lane masks: all ones or 0 */
/* a where mask m is set, b elsewhere, bit for bit */
#define TS_SEL(m, a, b) ((ts_v)(((ts_vl)(a) & (m)) | ((ts_vl)(b) & ~(m))))

#define TS_KMAX  ((TREE_MAX_DEPTH + 1) / 2 + 1) /* quadrature points for any tree (>= 16) */
#define TS_BLOCK 256                            /* rows a thread takes at a time */

/* Per-node tables of one tree: q of each edge (by its child), 1 / q,
 * w_k / (q + t_k (1 - q)) for k < K, and whether the edge's feature is split
 * on again below it. wR1 holds one double a point, broadcast into the lanes
 * as the kernel loads it (costing what a vector load does): 8K + 17 bytes a
 * node rather than 32K + 17 with the values stored repeated, so a big
 * model's tables fit TS_SHARED_MAX and stream from memory four times less. */
struct ts_tables {
    double *qc, *invq;
    double *wR1; /* K per node */
    uint8_t *rep;
};

struct ts_tree {
    uint32_t K; /* quadrature points the kernel runs with (>= ceil(Dmax / 2)) */
    double expected;
    struct ts_tables tab; /* built once when all trees' tables fit TS_SHARED_MAX */
};

#define TS_SHARED_MAX (64u << 20) /* bytes of tables built once and shared by threads */

struct treeshap {
    const struct forest *f;
    struct ts_tree *tree;
    uint32_t kmax, nodes_max;
    int avx2, shared; /* the CPU has AVX2 + FMA; tables are built once (ts_tree.tab) */
    void *shared_mem;
    double base;
    treeshap_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* Gauss-Legendre rules on [0, 1] for K = 1..TS_KMAX: points t, weights w,
     * and w / (1 - t), 1 / w for the tables */
    double gl_t[TS_KMAX + 1][TS_KMAX], gl_w[TS_KMAX + 1][TS_KMAX];
    double gl_wu[TS_KMAX + 1][TS_KMAX], gl_iw[TS_KMAX + 1][TS_KMAX];
};

/* One thread's working state. Vectors first (32-byte aligned). */
struct ts_work {
    const struct tree *t;
    uint32_t K, fstride;
    /* the current rule, each value repeated in every lane (so multiply-adds
     * take it straight from memory): t, w, w / (1 - t), 1 / w */
    ts_v *gl_t, *gl_w, *gl_wu, *gl_iw;
    /* per node (the child end of an edge) of the current tree: q, 1 / q, and
     * w_k / (q + t_k (1 - q)) for k < K (struct ts_tables) */
    double *qc, *invq, *wR1;
    uint8_t *rep;
    /* per feature */
    int32_t *occ;  /* child-end node of the feature's latest occurrence on the path, or -1 */
    uint8_t *occg; /* 1 when some lane's p there is neither 0 nor 1 (unknown values) */
    ts_vl *occm;   /* those lanes (TS_H masks per feature) */
    ts_v *occp;    /* its p per row (TS_H vectors per feature) */
    ts_v *pendH, *pendA;
    ts_v *frame; /* (TREE_MAX_DEPTH + 2) frames of 6 polynomials of K x TS_H vectors */
    ts_v *Hroot;
    ts_v *phi;         /* contributions of the current group (points into phiblock) */
    ts_v use[TS_H];    /* 1 in the lanes whose row uses the current tree */
    const ts_vi *bins; /* the current group's bins: nfeat x TS_H */
    /* per-tree scratch for table building */
    int32_t *socc;
    uint32_t *count;
};

/* The kernels: AVX2 + FMA with 3..10, 12, 14 and 16 quadrature points fixed
 * at compile time (a tree needing K points uses the next count available:
 * more points than needed are exact too) and any K; the baseline for any K. */
#define TS_TARGET __attribute__((target("avx2,fma")))
#define TS_SUFFIX _avx2
#include "ml/treeshap_kernel.h"
#undef TS_SUFFIX
#define TS_K      3
#define TS_SUFFIX _avx2_k3
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      4
#define TS_SUFFIX _avx2_k4
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      5
#define TS_SUFFIX _avx2_k5
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      6
#define TS_SUFFIX _avx2_k6
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      7
#define TS_SUFFIX _avx2_k7
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      8
#define TS_SUFFIX _avx2_k8
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      9
#define TS_SUFFIX _avx2_k9
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      10
#define TS_SUFFIX _avx2_k10
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      12
#define TS_SUFFIX _avx2_k12
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      14
#define TS_SUFFIX _avx2_k14
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#define TS_K      16
#define TS_SUFFIX _avx2_k16
#include "ml/treeshap_kernel.h"
#undef TS_K
#undef TS_SUFFIX
#undef TS_TARGET
#define TS_TARGET
#define TS_SUFFIX _base
#include "ml/treeshap_kernel.h"
#undef TS_SUFFIX
#undef TS_TARGET

typedef void (*ts_group_fn)(struct ts_work *w);

/* The kernel for a tree needing K points, and the K it runs with. */
static ts_group_fn pick_kernel(int avx2, uint32_t K, uint32_t *run_k)
{
    static const struct {
        uint32_t k;
        ts_group_fn fn;
    } fixed[] = {{3, group_avx2_k3},   {4, group_avx2_k4},   {5, group_avx2_k5},
                 {6, group_avx2_k6},   {7, group_avx2_k7},   {8, group_avx2_k8},
                 {9, group_avx2_k9},   {10, group_avx2_k10}, {12, group_avx2_k12},
                 {14, group_avx2_k14}, {16, group_avx2_k16}};
    *run_k = K;
    if (!avx2)
        return group_base;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (K <= fixed[i].k) {
            *run_k = fixed[i].k;
            return fixed[i].fn;
        }
    return group_avx2;
}

static double expected_at(const struct tree *t, uint32_t j)
{
    const struct tnode *n = &t->nodes[j];
    if (n->kind == TNODE_LEAF)
        return n->value;
    double c = n->cover > 0 ? n->cover : 1;
    return t->nodes[n->left].cover / c * expected_at(t, n->left) +
           t->nodes[n->left + 1].cover / c * expected_at(t, n->left + 1);
}

double treeshap_expected(const struct tree *t)
{
    return expected_at(t, 0);
}

/* Roots and weights of the K-point Gauss-Legendre rule, moved to [0, 1]. */
static void gauss_legendre(uint32_t K, double *t, double *w, double *wu, double *iw)
{
    for (uint32_t i = 0; i < K; i++) {
        double x = cos(M_PI * (i + 0.75) / (K + 0.5)), dp = 1;
        for (int it = 0; it < 100; it++) {
            double p0 = 1, p1 = x; /* P_0, P_1, then the recurrence up to P_K */
            for (uint32_t k = 2; k <= K; k++) {
                double p2 = ((2.0 * k - 1) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            if (K == 1) {
                p1 = x;
                p0 = 1;
            }
            dp = K * (x * p1 - p0) / (x * x - 1);
            double dx = p1 / dp;
            x -= dx;
            if (fabs(dx) < 1e-16)
                break;
        }
        t[i] = (1 - x) / 2;
        w[i] = 1 / ((1 - x * x) * dp * dp);
        wu[i] = w[i] / (1 - t[i]);
        iw[i] = 1 / w[i];
    }
}

/* Unique features on the longest path below node j, given `seen` so far. */
static uint32_t max_unique(const struct tree *t, uint32_t j, uint8_t *seen, uint32_t depth)
{
    const struct tnode *n = &t->nodes[j];
    if (n->kind == TNODE_LEAF)
        return depth;
    int fresh = !seen[n->feat];
    seen[n->feat] = 1;
    uint32_t a = max_unique(t, n->left, seen, depth + fresh),
             b = max_unique(t, n->left + 1, seen, depth + fresh);
    if (fresh)
        seen[n->feat] = 0;
    return a > b ? a : b;
}

static void *aligned(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) {
        fputs("leadscore: out of memory\n", stderr);
        abort();
    }
    memset(p, 0, bytes);
    return p;
}

/* q of every edge (by its child), and whether its feature is split on again
 * below it; socc (per feature, -1) and count (per feature, 0) are scratch. */
static void tables_walk(const struct tree *t, uint32_t j, struct ts_tables *tb, int32_t *socc,
                        uint32_t *count)
{
    const struct tnode *n = &t->nodes[j];
    if (n->kind == TNODE_LEAF)
        return;
    uint32_t i = n->feat;
    int32_t prev = socc[i];
    double cover = n->cover, qprev = prev >= 0 ? tb->qc[prev] : 1;
    count[i]++;
    for (uint32_t side = 0; side < 2; side++) {
        uint32_t c = n->left + side;
        tb->qc[c] = qprev * (t->nodes[c].cover / cover);
        socc[i] = (int32_t)c;
        uint32_t before = count[i];
        tables_walk(t, c, tb, socc, count);
        tb->rep[c] = count[i] != before;
    }
    socc[i] = prev;
}

static void tables_build(const struct treeshap *ts, const struct tree *t, uint32_t K,
                         struct ts_tables *tb, int32_t *socc, uint32_t *count)
{
    const double *gt = ts->gl_t[K], *gw = ts->gl_w[K];
    tb->qc[0] = 1;
    tb->rep[0] = 0;
    tables_walk(t, 0, tb, socc, count);
    for (uint32_t c = 1; c < t->nnodes; c++) {
        double q = tb->qc[c];
        tb->invq[c] = 1 / q;
        for (uint32_t k = 0; k < K; k++)
            tb->wR1[(size_t)c * K + k] = gw[k] / (q + gt[k] * (1 - q));
    }
}

struct treeshap *treeshap_new(const struct forest *f)
{
    struct treeshap *ts = xcalloc(1, sizeof *ts);
    ts->f = f;
    __builtin_cpu_init();
    ts->avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    for (uint32_t K = 1; K <= TS_KMAX; K++)
        gauss_legendre(K, ts->gl_t[K], ts->gl_w[K], ts->gl_wu[K], ts->gl_iw[K]);
    ts->tree = xcalloc(f->ntrees ? f->ntrees : 1, sizeof *ts->tree);
    ts->kmax = 1;
    uint8_t *seen = xcalloc(f->nfeat ? f->nfeat : 1, 1);
    double sum = 0;
    for (uint32_t i = 0; i < f->ntrees; i++) {
        const struct tree *t = &f->trees[i];
        uint32_t D = max_unique(t, 0, seen, 0), K;
        pick_kernel(ts->avx2, D > 1 ? (D + 1) / 2 : 1, &K);
        ts->tree[i].K = K;
        ts->tree[i].expected = treeshap_expected(t);
        sum += ts->tree[i].expected;
        if (ts->tree[i].K > ts->kmax)
            ts->kmax = ts->tree[i].K;
        if (t->nnodes > ts->nodes_max)
            ts->nodes_max = t->nnodes;
    }
    free(seen);
    ts->base = f->ntrees ? sum / f->ntrees : 0;

    /* the tables of every tree, once, when they fit: per node 17 bytes plus
     * K doubles (blocks of leads then share them instead of rebuilding) */
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < f->ntrees; i++)
        bytes += (uint64_t)f->trees[i].nnodes * (17 + 8 * (uint64_t)ts->tree[i].K) + 192;
    if (bytes <= TS_SHARED_MAX) {
        char *mem = ts->shared_mem = aligned(bytes ? bytes : 1);
        int32_t *socc = xmalloc((f->nfeat ? f->nfeat : 1) * sizeof *socc);
        uint32_t *count = xcalloc(f->nfeat ? f->nfeat : 1, sizeof *count);
        for (uint32_t k = 0; k < f->nfeat; k++)
            socc[k] = -1;
        for (uint32_t i = 0; i < f->ntrees; i++) {
            const struct tree *t = &f->trees[i];
            struct ts_tables *tb = &ts->tree[i].tab;
            size_t nn = t->nnodes, K = ts->tree[i].K;
            tb->wR1 = (double *)mem; /* each tree's tables start 64-byte aligned */
            mem += (nn * K * sizeof(double) + 63) / 64 * 64;
            tb->qc = (double *)mem;
            mem += nn * sizeof(double);
            tb->invq = (double *)mem;
            mem += (2 * nn * sizeof(double) + 63) / 64 * 64 - nn * sizeof(double);
            tb->rep = (uint8_t *)mem;
            mem += (nn + 63) / 64 * 64;
            if (t->nodes[0].kind != TNODE_LEAF)
                tables_build(ts, t, (uint32_t)K, tb, socc, count);
        }
        free(socc);
        free(count);
        ts->shared = 1;
    }
    return ts;
}

void treeshap_free(struct treeshap *ts)
{
    if (ts) {
        free(ts->tree);
        free(ts->shared_mem);
    }
    free(ts);
}

void treeshap_set_progress(struct treeshap *ts, treeshap_progress_fn progress, void *ctx)
{
    ts->progress = progress;
    ts->progress_ctx = ctx;
}

double treeshap_base(const struct treeshap *ts)
{
    return ts->base;
}

/* ---- per-thread work ---------------------------------------------------- */

struct ts_thread {
    struct ts_work w;
    struct ts_tables tab; /* this thread's tables, unless they are shared */
    ts_vi *blockbins;     /* groups x nfeat x TS_H */
    ts_v *phiblock;       /* groups x nfeat x TS_H */
    double *basesum, *nused;
    uint8_t *all_skipped;
};

static void thread_init(struct ts_thread *th, const struct treeshap *ts)
{
    const struct forest *f = ts->f;
    size_t nf = f->nfeat ? f->nfeat : 1, nn = ts->nodes_max ? ts->nodes_max : 1;
    size_t K = ts->kmax < 16 ? 16 : ts->kmax; /* pick_kernel rounds up to 16 */
    struct ts_work *w = &th->w;
    memset(th, 0, sizeof *th);
    if (!ts->shared) { /* each block builds each tree's tables here */
        th->tab.qc = xmalloc(nn * sizeof *th->tab.qc);
        th->tab.invq = xmalloc(nn * sizeof *th->tab.invq);
        th->tab.wR1 = aligned(nn * K * sizeof *th->tab.wR1);
        th->tab.rep = xmalloc(nn);
    }
    w->gl_t = aligned(4 * K * sizeof *w->gl_t);
    w->gl_w = w->gl_t + K;
    w->gl_wu = w->gl_w + K;
    w->gl_iw = w->gl_wu + K;
    w->occ = xmalloc(nf * sizeof *w->occ);
    w->occg = xcalloc(nf, 1);
    w->socc = xmalloc(nf * sizeof *w->socc);
    w->count = xcalloc(nf, sizeof *w->count);
    for (size_t i = 0; i < nf; i++)
        w->occ[i] = w->socc[i] = -1;
    w->occp = aligned(nf * TS_H * sizeof *w->occp);
    w->occm = aligned(nf * TS_H * sizeof *w->occm);
    w->pendH = aligned(nf * K * TS_H * sizeof *w->pendH);
    w->pendA = aligned(nf * K * TS_H * sizeof *w->pendA);
    w->fstride = (uint32_t)(6 * K * TS_H);
    w->frame = aligned((TREE_MAX_DEPTH + 2) * (size_t)w->fstride * sizeof *w->frame);
    w->Hroot = aligned(K * TS_H * sizeof *w->Hroot);
    size_t groups = (TS_BLOCK + TS_LANES - 1) / TS_LANES;
    th->blockbins = aligned(groups * nf * TS_H * sizeof *th->blockbins);
    th->phiblock = aligned(groups * nf * TS_H * sizeof *th->phiblock);
    th->basesum = xmalloc(TS_BLOCK * sizeof *th->basesum);
    th->nused = xmalloc(TS_BLOCK * sizeof *th->nused);
    th->all_skipped = xmalloc(TS_BLOCK);
}

static void thread_cleanup(struct ts_thread *th)
{
    struct ts_work *w = &th->w;
    free(th->tab.qc);
    free(th->tab.invq);
    free(th->tab.wR1);
    free(th->tab.rep);
    free(w->gl_t);
    free(w->occ);
    free(w->occg);
    free(w->socc);
    free(w->count);
    free(w->occp);
    free(w->occm);
    free(w->pendH);
    free(w->pendA);
    free(w->frame);
    free(w->Hroot);
    free(th->blockbins);
    free(th->phiblock);
    free(th->basesum);
    free(th->nused);
    free(th->all_skipped);
}

struct ts_job {
    const struct treeshap *ts;
    const uint8_t *X;
    uint64_t stride, row0, n, pad; /* pad: see do_block */
    const uint64_t *skip;
    size_t skip_words;
    double *phi, *base;
    atomic_uint_fast64_t next;
    uint64_t done; /* rows finished, under progress_lock */
    pthread_mutex_t progress_lock;
};

static int row_skips(const struct ts_job *j, uint64_t r, uint32_t tree)
{
    return j->skip && (j->skip[r * j->skip_words + tree / 64] >> (tree % 64) & 1);
}

/* Leads are walked in "virtual" positions v = 0 .. pad + n - 1, v = pad + (row
 * - row0), with pad = row0 % TS_LANES: a lead always sits in lane row %
 * TS_LANES of its group, so its values do not depend on which range of rows
 * a call covers (the compiler may fuse the two halves' arithmetic
 * differently). Positions before pad are empty lanes. */
static void do_block(struct ts_job *j, struct ts_thread *th, uint64_t b0, uint64_t bn)
{
    const struct treeshap *ts = j->ts;
    const struct forest *f = ts->f;
    struct ts_work *w = &th->w;
    size_t nf = f->nfeat;
    uint64_t groups = (bn + TS_LANES - 1) / TS_LANES, pad = j->pad;
    /* gather each group's bins; empty lanes copy a lead of the block */
    for (uint64_t g = 0; g < groups; g++)
        for (int l = 0; l < TS_LANES; l++) {
            uint64_t r = g * TS_LANES + (uint64_t)l, v = b0 + (r < bn ? r : bn - 1);
            uint64_t rel = v < pad ? (b0 + bn - 1) - pad : v - pad;
            for (size_t ft = 0; ft < nf; ft++)
                th->blockbins[(g * nf + ft) * TS_H + (uint64_t)l / 4][l % 4] =
                    j->X[ft * j->stride + j->row0 + rel];
        }
    memset(th->phiblock, 0, groups * nf * TS_H * sizeof *th->phiblock);
    for (uint64_t r = 0; r < bn; r++) {
        th->basesum[r] = th->nused[r] = 0;
        th->all_skipped[r] = 0;
        if (b0 + r < pad)
            continue;
        uint32_t used = 0;
        for (uint32_t i = 0; i < f->ntrees && !used; i++)
            used += !row_skips(j, b0 + r - pad, i);
        th->all_skipped[r] = !used;
    }
    for (uint32_t ti = 0; ti < f->ntrees; ti++) {
        const struct tree *t = &f->trees[ti];
        uint32_t K;
        ts_group_fn kernel = pick_kernel(ts->avx2, ts->tree[ti].K, &K);
        w->t = t;
        w->K = K;
        for (uint32_t k = 0; k < K; k++) {
            w->gl_t[k] = (ts_v){0} + ts->gl_t[K][k];
            w->gl_w[k] = (ts_v){0} + ts->gl_w[K][k];
            w->gl_wu[k] = (ts_v){0} + ts->gl_wu[K][k];
            w->gl_iw[k] = (ts_v){0} + ts->gl_iw[K][k];
        }
        int built = ts->shared;
        const struct ts_tables *tb = ts->shared ? &ts->tree[ti].tab : &th->tab;
        w->qc = tb->qc;
        w->invq = tb->invq;
        w->wR1 = tb->wR1;
        w->rep = tb->rep;
        for (uint64_t g = 0; g < groups; g++) {
            ts_v use[TS_H];
            int any = 0;
            for (int l = 0; l < TS_LANES; l++) {
                uint64_t r = g * TS_LANES + (uint64_t)l;
                int u = r < bn && b0 + r >= pad &&
                        (th->all_skipped[r] || !row_skips(j, b0 + r - pad, ti));
                use[l / 4][l % 4] = u;
                any |= u;
                if (u) {
                    th->basesum[r] += ts->tree[ti].expected;
                    th->nused[r] += 1;
                }
            }
            if (!any || t->nodes[0].kind == TNODE_LEAF)
                continue;
            if (!built) {
                tables_build(ts, t, K, &th->tab, w->socc, w->count);
                built = 1;
            }
            memcpy(w->use, use, sizeof use);
            w->bins = th->blockbins + g * nf * TS_H;
            w->phi = th->phiblock + g * nf * TS_H;
            kernel(w);
        }
    }
    for (uint64_t r = 0; r < bn; r++) {
        if (b0 + r < pad)
            continue;
        uint64_t rel = b0 + r - pad;
        double inv = th->nused[r] > 0 ? 1 / th->nused[r] : 0;
        const ts_v *ph = th->phiblock + (r / TS_LANES) * nf * TS_H;
        double *out = j->phi + rel * nf;
        unsigned lane = (unsigned)(r % TS_LANES);
        for (size_t ft = 0; ft < nf; ft++)
            out[ft] = ph[ft * TS_H + lane / 4][lane % 4] * inv;
        if (j->base)
            j->base[rel] = th->basesum[r] * inv;
    }
}

static void *worker(void *arg)
{
    struct ts_job *j = arg;
    struct ts_thread th;
    thread_init(&th, j->ts);
    for (;;) {
        uint64_t b0 = atomic_fetch_add(&j->next, TS_BLOCK), end = j->pad + j->n;
        if (b0 >= end)
            break;
        uint64_t bn = end - b0 < TS_BLOCK ? end - b0 : TS_BLOCK;
        do_block(j, &th, b0, bn);
        if (j->ts->progress) {
            /* the block's leads, without the empty lanes before row0 */
            uint64_t lo = b0 > j->pad ? b0 : j->pad, rows = b0 + bn - lo;
            pthread_mutex_lock(&j->progress_lock);
            j->done += rows;
            j->ts->progress(j->ts->progress_ctx, j->done, j->n);
            pthread_mutex_unlock(&j->progress_lock);
        }
    }
    thread_cleanup(&th);
    return NULL;
}

void treeshap_rows(const struct treeshap *ts, const uint8_t *X, uint64_t stride, uint64_t row0,
                   uint64_t n, const uint64_t *skip, size_t skip_words, uint32_t threads,
                   double *phi, double *base)
{
    if (n == 0)
        return;
    struct ts_job job = {.ts = ts,
                         .X = X,
                         .stride = stride,
                         .row0 = row0,
                         .n = n,
                         .skip = skip,
                         .skip_words = skip_words,
                         .phi = phi,
                         .base = base,
                         .pad = row0 % TS_LANES};
    atomic_init(&job.next, 0);
    pthread_mutex_init(&job.progress_lock, NULL);
    if (threads == 0)
        threads = forest_cpu_count();
    uint64_t blocks = (job.pad + n + TS_BLOCK - 1) / TS_BLOCK;
    if (threads > blocks)
        threads = (uint32_t)blocks;
    if (threads > FOREST_MAX_THREADS)
        threads = FOREST_MAX_THREADS;
    pthread_t tid[FOREST_MAX_THREADS];
    uint32_t started = 0;
    for (uint32_t i = 1; i < threads; i++, started++)
        if (pthread_create(&tid[i], NULL, worker, &job) != 0)
            break;
    worker(&job); /* this thread works too; then waits for the others */
    for (uint32_t i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&job.progress_lock);
}
