/*
 * treeshap.h — exact, model-faithful contributions of each feature to a
 * lead's raw forest probability.
 *
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, arXiv:1802.03888,
 * Algorithm 2): for every tree, the Shapley values of the function "expected
 * leaf value given the features in S", where a feature outside S is averaged
 * over both children in proportion to their training cover. Averaged over the
 * trees, the values add up exactly: base + sum(phi) = raw probability, where
 * base is the mean of the trees' root values (the cover-weighted mean of
 * their leaves). One value per model feature — with native categorical
 * splits there are no one-hot groups to add up.
 *
 * The classic algorithm costs O(leaves x depth^2) per tree and row.
 */
#ifndef LS_ML_TREESHAP_H
#define LS_ML_TREESHAP_H

#include "ml/forest.h"

#include <stddef.h>
#include <stdint.h>

/* Scratch for one thread and one forest: the unique paths of a depth-first
 * walk, and each tree's expected value (computed once here). */
struct treeshap_scratch;
struct treeshap_scratch *treeshap_scratch_new(const struct forest *f);
void treeshap_scratch_free(struct treeshap_scratch *s);

/* A tree's expected value under the cover weights TreeSHAP uses: a leaf's
 * value, or the children's expected values weighted by cover / node cover.
 * (Not the stored root value, which is rounded to float.) */
double treeshap_expected(const struct tree *t);

/*
 * Contributions for one row (bins X[f * stride + row]) into phi[0..nfeat)
 * (overwritten) and *base; raw probability = *base + sum(phi).
 */
void treeshap_row(const struct forest *f, const uint8_t *X, uint64_t stride, uint64_t row,
                  struct treeshap_scratch *s, double *phi, double *base);

/* The same for one tree, added to phi (not averaged). */
void treeshap_tree_add(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row,
                       struct treeshap_scratch *s, double *phi);

#endif
