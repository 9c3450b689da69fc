/*
 * tree.h — one classification tree over binned features.
 *
 * Nodes are a flat array; the children of node i are nodes[left] and
 * nodes[left + 1]. A split sends a row left when its bin is at most the
 * threshold bin (ordered features) or is in the node's category set
 * (categorical features); the missing bin goes the way learned in training.
 * Every node keeps its positive share and its cover (the training weight that
 * reached it) — TreeSHAP needs both.
 *
 * Unknown values are neutral. At a split where the row's value tells the
 * tree nothing — a category the model never saw (TNODE_UNSEEN_BIN, any
 * categorical split), or a missing value where no training row with a
 * missing value reached the split (TNODE_MISSING_SEEN unset) — the row goes
 * down both children and takes their values weighted by cover / node cover:
 * the expectation of the tree given everything else about the row, as
 * TreeSHAP computes it for an absent feature. (The learned side of such a
 * split was an accident of the scan: the missing bin went right, the side
 * with the higher cut values.) The walk stays a loop; only a row that meets
 * such a split recurses (tree_value_from).
 */
#ifndef LS_ML_TREE_H
#define LS_ML_TREE_H

#include "core/rng.h"

#include <stddef.h>
#include <stdint.h>

#define TREE_MAX_DEPTH 64         /* hard cap on depth, whatever max_depth says */
#define TREE_MAX_ROWS  (1u << 23) /* training rows a tree can take (8,388,608) */

enum { TNODE_LEAF = 0, TNODE_ORDERED = 1, TNODE_CATEGORICAL = 2 };
/* Node flags */
#define TNODE_MISSING_LEFT 1 /* the missing bin goes left (where it was seen) */
#define TNODE_MISSING_SEEN 2 /* training rows with a missing value reached the split */
#define TNODE_SEEN_KNOWN                                                                           \
    4 /* MISSING_SEEN was recorded as the tree grew; older model                                   \
         files lack it (forest_infer_missing_seen fills it in) */
#define TNODE_BIN255_VALUE                                                                         \
    8                        /* categorical split of an older model whose bin 255 is a             \
                                category, not the unseen code */
#define TNODE_UNSEEN_BIN 255 /* = BINS_UNSEEN: a category the model never saw */

struct tnode {
    uint16_t feat;
    uint8_t kind;  /* TNODE_* */
    uint8_t flags; /* TNODE_MISSING_LEFT, ... */
    uint32_t arg;  /* ordered: threshold bin; categorical: index into catsets */
    uint32_t left; /* index of the left child; the right one follows it */
    float value;   /* share of positive weight at this node */
    float cover;   /* training weight at this node */
};

struct tree {
    uint32_t nnodes, cap;
    struct tnode *nodes;
    uint32_t ncatsets, catcap;
    uint64_t (*catsets)[4]; /* 256-bit sets of bins that go left */
};

/* Does a row whose bin for the node's feature is b go left? */
static inline int tnode_goes_left(const struct tree *t, const struct tnode *n, unsigned b)
{
    int missing_left = (b == 0) & (n->flags & TNODE_MISSING_LEFT);
    if (n->kind == TNODE_CATEGORICAL)
        return b ? (int)((t->catsets[n->arg][b >> 6] >> (b & 63)) & 1) : missing_left;
    /* ordered, without a branch: bins 1..arg go left, bin 0 as learned */
    return (int)((b - 1u) < n->arg) | missing_left;
}

/* Is bin b unknown at split n, so that the row takes both children? (The
 * test is branch-free: it sits in every step of every walk.) */
static inline int tnode_neutral(const struct tnode *n, unsigned b)
{
    return ((b == 0) & !(n->flags & TNODE_MISSING_SEEN)) |
           ((b == TNODE_UNSEEN_BIN) & (n->kind == TNODE_CATEGORICAL) &
            !(n->flags & TNODE_BIN255_VALUE));
}

/* The share of node n's training cover in each child: cover / node cover.
 * Prediction and TreeSHAP use these same ratios. */
static inline double tnode_ratio(const struct tree *t, const struct tnode *n, int side)
{
    double c = n->cover > 0 ? n->cover : 1;
    return t->nodes[n->left + (side != 0)].cover / c;
}

/* The value of the subtree under node i for the row (addressed as in
 * tree_predict), with unknown values neutral (see above). */
double tree_value_from(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row,
                       uint32_t i);

/* The tree's value for the row whose bin of feature f is X[f * stride + row]:
 * its leaf's value, or the cover-weighted mix of leaves at unknown values. */
static inline double tree_predict(const struct tree *t, const uint8_t *X, uint64_t stride,
                                  uint64_t row)
{
    const struct tnode *nodes = t->nodes;
    uint32_t i = 0;
    while (nodes[i].kind != TNODE_LEAF) {
        const struct tnode *n = &nodes[i];
        unsigned b = X[(uint64_t)n->feat * stride + row];
        if (__builtin_expect(tnode_neutral(n, b), 0))
            return tree_value_from(t, X, stride, row, i);
        i = n->left + !tnode_goes_left(t, n, b);
    }
    return nodes[i].value;
}

/* Index of the leaf the row reaches (same addressing as tree_predict),
 * following the learned side at unknown values: for routing only, not for
 * values (those are tree_predict's). */
uint32_t tree_leaf(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row);

/* The first leaf under node i, always going left: a parking place for a
 * lockstep walk whose row left the loop for tree_value_from. */
uint32_t tree_first_leaf(const struct tree *t, uint32_t i);

void tree_cleanup(struct tree *t);

/* What the grower needs to know about the data; shared by all trees. */
struct tree_data {
    const uint8_t *X; /* nfeat x n, feature-major */
    uint64_t n;       /* rows */
    uint32_t nfeat;
    const uint8_t *y;      /* 0/1 per row */
    const uint8_t *is_cat; /* per feature: 1 when categorical */
    const uint16_t *nbins; /* per feature: value bins (bins 1..nbins, 0 missing) */
    float wpos, wneg;      /* class weights (1, 1 unless balanced) */
    uint32_t mtry;
    uint32_t min_leaf;
    uint32_t max_depth; /* 0: TREE_MAX_DEPTH */
};

/* Per-thread scratch space, allocated once and reused for every tree. */
struct tree_scratch;
struct tree_scratch *tree_scratch_new(const struct tree_data *d);
void tree_scratch_free(struct tree_scratch *s);

/* Out-of-bag sums are fixed point: integers add up to the same total in any
 * order, so out-of-bag results do not depend on the thread count. One 64-bit
 * word per row holds the sum of leaf values (x 2^36, below bit 50) and the
 * number of trees that added one (bits 50..63, up to 16383 >= FOREST_MAX_TREES). */
#define TREE_OOB_ONE         ((double)(1ULL << 36))
#define TREE_OOB_COUNT_SHIFT 50
#define TREE_OOB_SUM_MASK    ((1ULL << TREE_OOB_COUNT_SHIFT) - 1)

/*
 * Grow one tree on the rows with count[r] > 0, each weighted by its count
 * (the bootstrap). rng drives feature sampling. The out-of-bag rows
 * (count 0) are routed down the splits as the tree grows, and each adds its
 * leaf's value and a count of one to oob[row] (see TREE_OOB_ONE) — no
 * separate walk through the tree. oob may be NULL. Allocates nothing but the
 * tree's own arrays.
 */
void tree_grow(const struct tree_data *d, const uint16_t *count, struct rng *rng,
               struct tree_scratch *s, struct tree *out, uint64_t *oob);

#endif
