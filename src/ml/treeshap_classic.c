/*
 * treeshap_classic.c — path-dependent TreeSHAP, the paper's Algorithm 2, kept
 * as an independent reference for the linear-time method in treeshap.c.
 *
 * A depth-first walk keeps the "unique path" of features met from the root:
 * for each, the fraction of cover that flows along the path when the feature
 * is unknown (zero fraction) and whether the row itself follows it (one
 * fraction, 1 or 0), plus the permutation weights of every subset size
 * (Lundberg et al. 2018, Algorithm 2: EXTEND, UNWIND, UNWOUND_SUM). A feature
 * met twice on a path is unwound first, so each appears once. At a leaf,
 * each path feature receives its share of the leaf value.
 *
 * At a split where the row's value is unknown (tree.h: an unseen category,
 * a missing value where training had none) the row follows both children
 * in proportion to their cover, so both get a one fraction equal to the
 * zero fraction's factor: the split changes nothing whether the feature is
 * known or not. The algorithm's polynomial arithmetic holds for any one
 * fraction; UNWIND's division by it stays stable because a one fraction is
 * either 0 or at least its zero fraction.
 *
 * Every level of the walk copies its parent's path into the next slice of
 * one preallocated array, so the walk allocates nothing.
 */
#include "ml/treeshap.h"

#include "core/mem.h"

#include <string.h>

struct pelem {
    int feat;    /* -1 for the root's placeholder */
    double zero; /* share of cover along the path when the feature is unknown */
    double one;  /* 1 when the row follows the path, else 0 */
    double w;    /* permutation weight */
};

/* Paths of depth up to TREE_MAX_DEPTH + 1, each a slice of the next size. */
#define SLICES (TREE_MAX_DEPTH + 2)
struct treeshap_classic {
    struct pelem path[SLICES * (SLICES + 1) / 2 + SLICES];
    double *expected; /* per tree */
    uint32_t ntrees;
};

struct treeshap_classic *treeshap_classic_new(const struct forest *f)
{
    struct treeshap_classic *s = xcalloc(1, sizeof *s);
    s->ntrees = f->ntrees;
    s->expected = xmalloc((f->ntrees ? f->ntrees : 1) * sizeof *s->expected);
    for (uint32_t i = 0; i < f->ntrees; i++)
        s->expected[i] = treeshap_expected(&f->trees[i]);
    return s;
}

void treeshap_classic_free(struct treeshap_classic *s)
{
    if (s)
        free(s->expected);
    free(s);
}

static void extend(struct pelem *m, int l, double zero, double one, int feat)
{
    m[l].feat = feat;
    m[l].zero = zero;
    m[l].one = one;
    m[l].w = l == 0 ? 1.0 : 0.0;
    for (int i = l - 1; i >= 0; i--) {
        m[i + 1].w += one * m[i].w * (i + 1) / (double)(l + 1);
        m[i].w = zero * m[i].w * (l - i) / (double)(l + 1);
    }
}

static void unwind(struct pelem *m, int l, int k)
{
    double one = m[k].one, zero = m[k].zero, next = m[l].w;
    for (int i = l - 1; i >= 0; i--) {
        if (one != 0) {
            double t = m[i].w;
            m[i].w = next * (l + 1) / ((i + 1) * one);
            next = t - m[i].w * zero * (l - i) / (double)(l + 1);
        } else {
            m[i].w = m[i].w * (l + 1) / (zero * (l - i));
        }
    }
    for (int i = k; i < l; i++) {
        m[i].feat = m[i + 1].feat;
        m[i].zero = m[i + 1].zero;
        m[i].one = m[i + 1].one;
    }
}

/* The total permutation weight of the path with element k unwound. */
static double unwound_sum(const struct pelem *m, int l, int k)
{
    double one = m[k].one, zero = m[k].zero, next = m[l].w, total = 0;
    if (one != 0) {
        for (int i = l - 1; i >= 0; i--) {
            double t = next / ((i + 1) * one);
            total += t;
            next = m[i].w - t * zero * (l - i);
        }
    } else if (zero != 0) {
        for (int i = l - 1; i >= 0; i--)
            total += m[i].w / ((l - i) * zero);
    }
    return total * (l + 1);
}

struct walk {
    const struct tree *t;
    const uint8_t *X;
    uint64_t stride, row;
    double *phi;
};

static void recurse(const struct walk *w, uint32_t j, struct pelem *parent, int l, double zero,
                    double one, int feat)
{
    struct pelem *m = parent + l + 1; /* this level's slice, after the parent's */
    memcpy(m, parent, (size_t)(l + 1) * sizeof *m);
    extend(m, l, zero, one, feat);
    const struct tnode *n = &w->t->nodes[j];
    if (n->kind == TNODE_LEAF) {
        for (int i = 1; i <= l; i++)
            w->phi[m[i].feat] += unwound_sum(m, l, i) * (m[i].one - m[i].zero) * n->value;
        return;
    }
    unsigned b = w->X[(uint64_t)n->feat * w->stride + w->row];
    uint32_t hot = n->left + !tnode_goes_left(w->t, n, b), cold = n->left + (hot == n->left);
    int neutral = tnode_neutral(n, b);
    double in_zero = 1, in_one = 1;
    for (int k = 1; k <= l; k++)
        if (m[k].feat == n->feat) { /* met before: unwind it, carry its fractions on */
            in_zero = m[k].zero;
            in_one = m[k].one;
            unwind(m, l, k);
            l--;
            break;
        }
    if (neutral) { /* an unknown value: the row itself splits by cover (tree.h) */
        for (int side = 0; side < 2; side++) {
            double q = tnode_ratio(w->t, n, side);
            recurse(w, n->left + (uint32_t)side, m, l + 1, in_zero * q, in_one * q, n->feat);
        }
        return;
    }
    double cover = n->cover > 0 ? n->cover : 1;
    recurse(w, hot, m, l + 1, in_zero * w->t->nodes[hot].cover / cover, in_one, n->feat);
    recurse(w, cold, m, l + 1, in_zero * w->t->nodes[cold].cover / cover, 0, n->feat);
}

static void tree_add(const struct tree *t, const uint8_t *X, uint64_t stride, uint64_t row,
                     struct treeshap_classic *s, double *phi)
{
    struct walk w = {t, X, stride, row, phi};
    /* the root extends an empty path: its slice is path[1], after a one-element
     * parent slice path[0] whose content is overwritten */
    recurse(&w, 0, s->path, 0, 1, 1, -1);
}

void treeshap_classic_row(const struct forest *f, const uint8_t *X, uint64_t stride, uint64_t row,
                          struct treeshap_classic *s, double *phi, double *base)
{
    memset(phi, 0, f->nfeat * sizeof *phi);
    double b = 0;
    for (uint32_t i = 0; i < f->ntrees; i++) {
        tree_add(&f->trees[i], X, stride, row, s, phi);
        b += s->expected[i];
    }
    for (uint32_t k = 0; k < f->nfeat; k++)
        phi[k] /= f->ntrees;
    *base = b / f->ntrees;
}
