/*
 * forest.c — bagging, threads and out-of-bag predictions (see forest.h).
 *
 * Trees are handed out to worker threads through an atomic counter; each
 * worker owns its scratch space (tree.h) and its out-of-bag accumulators,
 * which are summed at the end. Tree i's bootstrap and feature draws come from
 * rng_seed2(seed, i) only, so the trees do not depend on which worker grew
 * them. Out-of-bag rows are scored while each tree grows (tree.h).
 */
#include "ml/forest.h"

#include "core/mem.h"
#include "ml/bins.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

_Static_assert(TNODE_UNSEEN_BIN == BINS_UNSEEN, "trees and bins agree on the unseen code");

void forest_opts_default(struct forest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->trees = 100;
    o->min_leaf = 0; /* auto: forest_min_leaf() */
    o->seed = 42;
}

uint32_t forest_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

void forest_cleanup(struct forest *f)
{
    if (f->trees)
        for (uint32_t i = 0; i < f->ntrees; i++)
            tree_cleanup(&f->trees[i]);
    free(f->trees);
    memset(f, 0, sizeof *f);
}

uint32_t forest_min_leaf(const struct forest_opts *o, uint64_t n)
{
    if (o->min_leaf)
        return o->min_leaf;
    uint64_t auto_leaf = n / 5000;
    return auto_leaf > 10 ? (uint32_t)auto_leaf : 10;
}

struct train_job {
    const struct tree_data *d;
    const struct forest_opts *o;
    struct forest *f;
    atomic_uint next;
    atomic_uint done;
    pthread_mutex_t progress_lock;
    int want_oob;
};

struct worker {
    struct train_job *job;
    pthread_t tid;
    uint64_t *oob; /* fixed point sums and counts (tree.h) */
};

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/*
 * count[r] = how many of n draws with replacement picked row r: exactly
 * `for n times: count[rng_below(rng, n)]++`, with rng_next and rng_below
 * (core/rng.c: xoshiro256**, Lemire's method) written out here so that the
 * state stays in registers and the rejection threshold is computed once.
 * The draws were an eighth of `train`'s instructions with the leakage scan's
 * 50-tree forests, through two calls each. tests/test_forest.c pins a forest
 * grown from a seed, so a stream that drifted from rng_below would show.
 */
static void bootstrap(struct rng *rng, uint64_t n, uint16_t *count)
{
    uint64_t s0 = rng->s[0], s1 = rng->s[1], s2 = rng->s[2], s3 = rng->s[3];
    uint64_t t = -n % n; /* draws below t are rejected (never when n is a power of 2) */
    memset(count, 0, n * sizeof *count);
    for (uint64_t k = 0; k < n; k++) {
        unsigned __int128 m;
        do {
            uint64_t x = rotl64(s1 * 5, 7) * 9, sh = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= sh;
            s3 = rotl64(s3, 45);
            m = (unsigned __int128)x * n;
        } while ((uint64_t)m < t);
        uint64_t r = (uint64_t)(m >> 64);
        count[r] += count[r] < UINT16_MAX;
    }
    rng->s[0] = s0, rng->s[1] = s1, rng->s[2] = s2, rng->s[3] = s3;
}

static void *train_worker(void *arg)
{
    struct worker *w = arg;
    struct train_job *j = w->job;
    const struct tree_data *d = j->d;
    struct tree_scratch *s = tree_scratch_new(d);
    uint16_t *count = xmalloc(d->n * sizeof *count);
    for (;;) {
        uint32_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->o->trees)
            break;
        struct rng rng;
        rng_seed2(&rng, j->o->seed, i);
        bootstrap(&rng, d->n, count);
        if (j->o->inbag) { /* tree i owns its words: no two threads write one */
            uint64_t *bits = j->o->inbag + (uint64_t)i * forest_inbag_words(d->n);
            for (uint64_t r = 0; r < d->n; r++)
                bits[r >> 6] |= (uint64_t)(count[r] != 0) << (r & 63);
        }
        struct tree *t = &j->f->trees[i];
        tree_grow(d, count, &rng, s, t, w->oob);
        uint32_t done = atomic_fetch_add(&j->done, 1) + 1;
        if (j->o->progress) {
            pthread_mutex_lock(&j->progress_lock);
            j->o->progress(j->o->progress_ctx, done, j->o->trees);
            pthread_mutex_unlock(&j->progress_lock);
        }
    }
    free(count);
    tree_scratch_free(s);
    return NULL;
}

int forest_train(const uint8_t *X, uint64_t n, uint32_t nfeat, const uint8_t *y,
                 const uint8_t *is_cat, const uint16_t *nbins, const struct forest_opts *o,
                 struct forest *out, double *oob, struct ls_error *err)
{
    memset(out, 0, sizeof *out);
    if (o->trees == 0 || o->trees > FOREST_MAX_TREES)
        return ls_error_set(err, LS_EUSAGE, "trees must be 1..%d", FOREST_MAX_TREES);
    if (nfeat == 0)
        return ls_error_set(err, LS_EINPUT, "no feature to learn from");
    if (nfeat > UINT16_MAX)
        return ls_error_set(err, LS_ELIMIT, "more than %d features", UINT16_MAX);
    if (n < 2 || n > TREE_MAX_ROWS)
        return ls_error_set(err, LS_ELIMIT, "need between 2 and %u training rows", TREE_MAX_ROWS);
    uint64_t npos = 0;
    for (uint64_t r = 0; r < n; r++)
        npos += y[r] != 0;
    if (npos == 0 || npos == n)
        return ls_error_set(err, LS_EONE_CLASS, "the training rows have one class only");

    struct tree_data d = {.X = X,
                          .n = n,
                          .nfeat = nfeat,
                          .y = y,
                          .is_cat = is_cat,
                          .nbins = nbins,
                          .wpos = 1,
                          .wneg = 1,
                          .min_leaf = forest_min_leaf(o, n),
                          .max_depth = o->max_depth};
    d.mtry = o->mtry ? o->mtry : (uint32_t)lround(sqrt((double)nfeat));
    if (d.mtry < 1)
        d.mtry = 1;
    if (d.mtry > nfeat)
        d.mtry = nfeat;
    if (o->balanced) {
        d.wpos = (float)((double)n / (2.0 * (double)npos));
        d.wneg = (float)((double)n / (2.0 * (double)(n - npos)));
    }
    out->ntrees = o->trees;
    out->nfeat = nfeat;
    if (o->inbag)
        memset(o->inbag, 0, (size_t)o->trees * forest_inbag_words(n) * sizeof *o->inbag);
    out->trees = xcalloc(o->trees, sizeof *out->trees);

    uint32_t nt = o->threads ? o->threads : forest_cpu_count();
    if (nt > FOREST_MAX_THREADS)
        nt = FOREST_MAX_THREADS;
    if (nt > o->trees)
        nt = o->trees;
    struct train_job job = {.d = &d, .o = o, .f = out, .want_oob = oob != NULL};

    atomic_init(&job.next, 0);
    atomic_init(&job.done, 0);
    pthread_mutex_init(&job.progress_lock, NULL);
    struct worker *w = xcalloc(nt, sizeof *w);
    for (uint32_t t = 0; t < nt; t++) {
        w[t].job = &job;
        if (oob) {
            w[t].oob = xcalloc(n, sizeof *w[t].oob);
        }
    }
    for (uint32_t t = 1; t < nt; t++)
        if (pthread_create(&w[t].tid, NULL, train_worker, &w[t]) != 0)
            w[t].tid = 0; /* its share falls to the others */
    train_worker(&w[0]);
    for (uint32_t t = 1; t < nt; t++)
        if (w[t].tid)
            pthread_join(w[t].tid, NULL);
    pthread_mutex_destroy(&job.progress_lock);

    if (oob) {
        for (uint64_t r = 0; r < n; r++) {
            uint64_t sum = 0, cnt = 0;
            for (uint32_t t = 0; t < nt; t++) {
                sum += w[t].oob[r] & TREE_OOB_SUM_MASK;
                cnt += w[t].oob[r] >> TREE_OOB_COUNT_SHIFT;
            }
            oob[r] = cnt ? (double)sum / TREE_OOB_ONE / cnt : NAN;
        }
        for (uint32_t t = 0; t < nt; t++) {
            free(w[t].oob);
        }
    }
    free(w);
    return LS_OK;
}

void forest_infer_missing_seen(struct forest *f, const struct bin_schema *s)
{
    for (uint32_t i = 0; i < f->ntrees; i++) {
        struct tree *t = &f->trees[i];
        for (uint32_t k = 0; k < t->nnodes; k++) {
            struct tnode *n = &t->nodes[k];
            if (n->kind == TNODE_LEAF || (n->flags & TNODE_SEEN_KNOWN) || n->feat >= s->nfeat)
                continue;
            const struct feature *ft = &s->feat[n->feat];
            n->flags &= (uint8_t) ~(TNODE_MISSING_SEEN | TNODE_BIN255_VALUE);
            if (ft->train_share && ft->train_share[BINS_MISSING] > 0)
                n->flags |= TNODE_MISSING_SEEN;
            if (ft->kind == FEAT_CATEGORICAL && ft->nbins >= TNODE_UNSEEN_BIN)
                n->flags |= TNODE_BIN255_VALUE;
            n->flags |= TNODE_SEEN_KNOWN;
        }
    }
}

/*
 * One lead is latency-bound: each step of a tree walk waits for the node it
 * reads. Walking 8 trees in lockstep keeps 8 independent loads in flight,
 * so the waits overlap. Leaves sum in tree order, as in forest_predict.
 */
double forest_predict_row(const struct forest *f, const uint8_t *X, uint64_t stride, uint64_t row)
{
    enum { LANES = 8 };
    double v[LANES];
    double s = 0;
    uint32_t i = 0;
    for (; i + LANES <= f->ntrees; i += LANES) {
        uint32_t at[LANES] = {0};
        unsigned mixed = 0; /* lanes whose value came from tree_value_from */
        const struct tree *t = &f->trees[i];
        for (;;) {
            int moving = 0;
            for (int k = 0; k < LANES; k++) {
                const struct tnode *n = &t[k].nodes[at[k]];
                if (n->kind == TNODE_LEAF)
                    continue;
                moving = 1;
                unsigned b = X[(uint64_t)n->feat * stride + row];
                if (__builtin_expect(tnode_neutral(n, b), 0)) {
                    v[k] = tree_value_from(&t[k], X, stride, row, at[k]);
                    mixed |= 1u << k;
                    at[k] = tree_first_leaf(&t[k], at[k]);
                    continue;
                }
                at[k] = n->left + !tnode_goes_left(&t[k], n, b);
            }
            if (!moving)
                break;
        }
        for (int k = 0; k < LANES; k++)
            if (!(mixed >> k & 1))
                v[k] = t[k].nodes[at[k]].value;
        for (int k = 0; k < LANES; k++)
            s += v[k];
    }
    for (; i < f->ntrees; i++)
        s += tree_predict(&f->trees[i], X, stride, row);
    return s / f->ntrees;
}

struct predict_job {
    const struct forest *f;
    const uint8_t *X;
    uint64_t n;
    double *out;
    atomic_ulong next;
};

#define PREDICT_BLOCK 2048

static void *predict_worker(void *arg)
{
    struct predict_job *j = arg;
    uint32_t nf = j->f->nfeat;
    /* rows are copied to row-major order a block at a time, so a tree walk
     * reads one row's features from one or two cache lines */
    uint8_t *rows = xmalloc((size_t)PREDICT_BLOCK * (nf ? nf : 1));
    for (;;) {
        uint64_t lo = atomic_fetch_add(&j->next, PREDICT_BLOCK);
        if (lo >= j->n)
            break;
        uint64_t hi = lo + PREDICT_BLOCK < j->n ? lo + PREDICT_BLOCK : j->n;
        uint64_t m = hi - lo;
        for (uint32_t f = 0; f < nf; f++) {
            const uint8_t *col = j->X + (uint64_t)f * j->n + lo;
            for (uint64_t r = 0; r < m; r++)
                rows[r * nf + f] = col[r];
        }
        /* trees outer, rows inner: a tree stays in cache over the block, and
         * 8 rows walk it in lockstep so their loads overlap. Each row sums its
         * trees in order, so the result does not depend on the threads. */
        for (uint64_t r = lo; r < hi; r++)
            j->out[r] = 0;
        for (uint32_t i = 0; i < j->f->ntrees; i++) {
            const struct tree *t = &j->f->trees[i];
            uint64_t r = 0;
            for (; r + 8 <= m; r += 8) {
                uint32_t at[8] = {0};
                unsigned mixed = 0; /* lanes whose value came from tree_value_from */
                double v[8];
                for (;;) {
                    int moving = 0;
                    for (int k = 0; k < 8; k++) {
                        const struct tnode *n = &t->nodes[at[k]];
                        if (n->kind == TNODE_LEAF)
                            continue;
                        moving = 1;
                        const uint8_t *row = rows + (r + k) * nf;
                        unsigned b = row[n->feat];
                        if (__builtin_expect(tnode_neutral(n, b), 0)) {
                            v[k] = tree_value_from(t, row, 1, 0, at[k]);
                            mixed |= 1u << k;
                            at[k] = tree_first_leaf(t, at[k]);
                            continue;
                        }
                        at[k] = n->left + !tnode_goes_left(t, n, b);
                    }
                    if (!moving)
                        break;
                }
                for (int k = 0; k < 8; k++)
                    j->out[lo + r + k] += mixed >> k & 1 ? v[k] : t->nodes[at[k]].value;
            }
            for (; r < m; r++)
                j->out[lo + r] += tree_predict(t, rows + r * nf, 1, 0);
        }
        for (uint64_t r = lo; r < hi; r++)
            j->out[r] /= j->f->ntrees;
    }
    free(rows);
    return NULL;
}

void forest_predict(const struct forest *f, const uint8_t *X, uint64_t n, double *out,
                    uint32_t threads)
{
    struct predict_job job = {.f = f, .X = X, .n = n, .out = out};
    atomic_init(&job.next, 0);
    uint32_t nt = threads ? threads : forest_cpu_count();
    if (nt > FOREST_MAX_THREADS)
        nt = FOREST_MAX_THREADS;
    uint64_t blocks = (n + PREDICT_BLOCK - 1) / PREDICT_BLOCK;
    if (nt > blocks)
        nt = blocks ? (uint32_t)blocks : 1;
    pthread_t tid[FOREST_MAX_THREADS];
    int started[FOREST_MAX_THREADS] = {0};
    for (uint32_t t = 1; t < nt; t++)
        started[t] = pthread_create(&tid[t], NULL, predict_worker, &job) == 0;
    predict_worker(&job);
    for (uint32_t t = 1; t < nt; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
}
