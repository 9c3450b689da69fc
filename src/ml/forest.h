/*
 * forest.h — a random forest of histogram trees, grown in parallel.
 *
 * Bagging by per-row bootstrap counts (n draws with replacement), one tree
 * per (seed, tree index) RNG stream so a seed gives the same forest whatever
 * the number of threads. Out-of-bag predictions are summed in fixed point
 * (integers add in any order to the same total), so they too are identical
 * for any thread count.
 */
#ifndef LS_ML_FOREST_H
#define LS_ML_FOREST_H

#include "core/err.h"
#include "ml/tree.h"

#include <stdint.h>

#define FOREST_MAX_TREES   10000
#define FOREST_MAX_THREADS 256

struct forest_opts {
    uint32_t trees;     /* default 100 */
    uint32_t mtry;      /* features tried per split; 0: round(sqrt(p)) */
    uint32_t min_leaf;  /* smallest leaf weight; 0: max(10, rows / 5000) (docs/model.md) */
    uint32_t max_depth; /* 0: no limit (TREE_MAX_DEPTH) */
    int balanced;       /* weight classes inversely to their frequency */
    uint64_t seed;      /* default 42 */
    uint32_t threads;   /* 0: every online core */
    void (*progress)(void *ctx, uint32_t trees_done, uint32_t trees_total);
    void *progress_ctx;
    /* Output, may be NULL: each tree's bootstrap, trees x forest_inbag_words(n)
     * words; bit r of tree i's words is set when tree i drew row r. Written
     * by forest_train (every word), so a model can later leave a training
     * row's own trees out of its score and its explanation. */
    uint64_t *inbag;
};

/* The words of one tree's in-bag bitset over n rows. */
static inline uint64_t forest_inbag_words(uint64_t n)
{
    return (n + 63) / 64;
}

void forest_opts_default(struct forest_opts *o);

/* The smallest leaf weight used for n training rows: o->min_leaf, or when it
 * is 0 the default max(10, n / 5000), chosen by out-of-bag log-loss. */
uint32_t forest_min_leaf(const struct forest_opts *o, uint64_t n);

struct forest {
    uint32_t ntrees;
    uint32_t nfeat;
    struct tree *trees;
};

/*
 * Grow a forest on X (nfeat x n, feature-major bins), labels y (0/1), with
 * is_cat / nbins describing each feature. oob (n doubles, may be NULL)
 * receives each row's out-of-bag probability, NaN for a row that was in
 * every bootstrap. Returns 0 or LS_EINPUT (bad options, one class).
 */
int forest_train(const uint8_t *X, uint64_t n, uint32_t nfeat, const uint8_t *y,
                 const uint8_t *is_cat, const uint16_t *nbins, const struct forest_opts *o,
                 struct forest *out, double *oob, struct ls_error *err);

void forest_cleanup(struct forest *f);

/* The forest's probability for one row (X addressed as in tree_predict):
 * the mean of the trees' values, unknown values neutral (tree.h). */
double forest_predict_row(const struct forest *f, const uint8_t *X, uint64_t stride, uint64_t row);

/* Probabilities for all n rows of X (nfeat x n) into out, with threads. */
void forest_predict(const struct forest *f, const uint8_t *X, uint64_t n, double *out,
                    uint32_t threads);

/*
 * Fill in what older model files did not record: a split node without
 * TNODE_SEEN_KNOWN gets TNODE_MISSING_SEEN when its feature had missing
 * values in training (s->feat[].train_share[0] > 0: the learned direction
 * stays), none when it had none (a missing value is then neutral, tree.h),
 * and TNODE_BIN255_VALUE on a categorical feature with 255 value bins (its
 * bin 255 is a category). Nodes grown now keep their recorded flags. Call
 * after loading a model, with its schema.
 */
struct bin_schema;
void forest_infer_missing_seen(struct forest *f, const struct bin_schema *s);

/* The number of online cores (at least 1). */
uint32_t forest_cpu_count(void);

#endif
