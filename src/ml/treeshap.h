/*
 * treeshap.h — exact, model-faithful contributions of each feature to a
 * lead's raw forest probability.
 *
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, arXiv:1802.03888):
 * for every tree, the Shapley values of the function "expected leaf value
 * given the features in S", where a feature outside S is averaged over both
 * children in proportion to their training cover. Averaged over the trees,
 * the values add up exactly: base + sum(phi) = raw probability, where base is
 * the mean of the trees' expected values (the cover-weighted mean of their
 * leaves). One value per model feature — with native categorical splits
 * there are no one-hot groups to add up.
 *
 * Two implementations of the same values:
 *
 *   treeshap_rows      the one the product uses. A leaf's share for feature
 *                      i is v * (p_i - q_i) * integral over [0,1] of
 *                      prod_{j != i} (q_j + t (p_j - q_j)) dt, a polynomial
 *                      of degree < D (the unique features on the path). Gauss-
 *                      Legendre quadrature with ceil(D/2) points integrates it
 *                      exactly, so one depth-first pass per tree carries the
 *                      products at those points down and their sums up
 *                      (Linear TreeShap, Yu et al. 2022): O(nodes x D) per
 *                      tree and row instead of O(leaves x D^2). Four rows go
 *                      through a tree together, one per SIMD lane; threads
 *                      take blocks of rows. See treeshap.c for the repeated-
 *                      feature bookkeeping.
 *   treeshap_classic_* Algorithm 2 of the paper (EXTEND / UNWIND), kept as
 *                      an independent reference for tests and benchmarks.
 */
#ifndef LS_ML_TREESHAP_H
#define LS_ML_TREESHAP_H

#include "ml/forest.h"

#include <stddef.h>
#include <stdint.h>

/* A tree's expected value under the cover weights TreeSHAP uses: a leaf's
 * value, or the children's expected values weighted by cover / node cover.
 * (Not the stored root value, which is rounded to float.) */
double treeshap_expected(const struct tree *t);

/* Everything about a forest the explanation needs, computed once and read
 * by any number of threads. The forest must outlive it. */
struct treeshap;
struct treeshap *treeshap_new(const struct forest *f);
void treeshap_free(struct treeshap *ts);

/* The base value when every tree counts: the mean of the trees' expected values. */
double treeshap_base(const struct treeshap *ts);

/*
 * Contributions of rows row0 .. row0+n-1 of X (bins X[f * stride + row]):
 * phi[(r - row0) * nfeat + j] for feature j, in probability units, and
 * base[r - row0] (may be NULL), so base + sum_j phi = the raw probability
 * of the trees used.
 *
 * skip (may be NULL) restricts each row to a subset of the trees: row r
 * leaves out tree i when bit i of skip[(r - row0) * skip_words + i / 64] is
 * set — an out-of-bag explanation passes each training row's in-bag trees.
 * A row that would leave out every tree is explained by all of them.
 * Runs on `threads` threads (0: every core). Allocates its scratch up front.
 */
void treeshap_rows(const struct treeshap *ts, const uint8_t *X, uint64_t stride, uint64_t row0,
                   uint64_t n, const uint64_t *skip, size_t skip_words, uint32_t threads,
                   double *phi, double *base);

/*
 * Progress of long explanations: after each block of rows, treeshap_rows
 * calls progress(ctx, done, total) with the rows finished so far and the
 * rows asked for. Calls come from the worker threads, one at a time (under
 * a lock), with `done` increasing; the last has done == total. NULL (the
 * default) turns it off. Set it before treeshap_rows, not during.
 */
typedef void (*treeshap_progress_fn)(void *ctx, uint64_t done, uint64_t total);
void treeshap_set_progress(struct treeshap *ts, treeshap_progress_fn progress, void *ctx);

/* The reference algorithm, one row at a time (tests, benchmarks). */
struct treeshap_classic;
struct treeshap_classic *treeshap_classic_new(const struct forest *f);
void treeshap_classic_free(struct treeshap_classic *s);
void treeshap_classic_row(const struct forest *f, const uint8_t *X, uint64_t stride, uint64_t row,
                          struct treeshap_classic *s, double *phi, double *base);

#endif
