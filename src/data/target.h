/*
 * target.h — finding the outcome column and its positive class.
 *
 * The user's --target always wins. Otherwise a column is a candidate when its
 * name reads like an outcome (converted, conversion, target, label, outcome,
 * won, purchased, subscribed, status, stage, result, and what web shops,
 * trials, campaigns and deal exports call it: revenue, ordered, signed up,
 * upgraded, deal won, churn, ...; compared without case or punctuation, with
 * small typos forgiven) and its values confirm it: two classes, or a status
 * whose values map to won / lost (other values, such as "Open", are leads
 * whose outcome is not known yet). A true/false column named like an
 * attribute of the visit (Weekend, Mobile, Newsletter, Returning Visitor) is
 * never the outcome.
 *
 * When no name reads like an outcome, the file's last column is taken if it
 * has two classes (exports usually keep the outcome last), with confidence
 * TARGET_LAST_COLUMN_CONFIDENCE and a reason that says so. Any other binary
 * column whose name says nothing is never picked silently: it is listed as
 * a candidate in the error, with the advice to pass --target.
 */
#ifndef LS_DATA_TARGET_H
#define LS_DATA_TARGET_H

#include "core/err.h"
#include "data/frame.h"

#include <stdint.h>

#define TARGET_LABEL_MAX              128
#define TARGET_LAST_COLUMN_CONFIDENCE 0.4 /* taken as the last column, not by name */

/* How the outcome of row r is read off the column. */
enum target_kind {
    TARGET_BOOLEAN,     /* boolean column: num[r] == 1 is positive (0 when invert) */
    TARGET_NUMERIC,     /* two distinct numbers: num[r] == pos_value */
    TARGET_CATEGORICAL, /* per category: positive, negative or unknown */
};

struct target {
    long col;
    enum target_kind kind;
    char name[256];
    char positive[TARGET_LABEL_MAX]; /* the positive class as written in the file */
    char negative[TARGET_LABEL_MAX]; /* the negative class (or "lost" values, joined) */
    /* Every label of each class as written in the file (owned, freed by
     * target_cleanup): what a model keeps to read the column again. The
     * joined positive / negative above are cut to TARGET_LABEL_MAX and are
     * for messages only; a status column can have many long "lost" values. */
    char **pos_labels, **neg_labels;
    size_t npos_labels, nneg_labels;
    double pos_value;  /* TARGET_NUMERIC */
    int invert;        /* TARGET_BOOLEAN: 1 when the false label was chosen as positive */
    int8_t *cat_class; /* TARGET_CATEGORICAL: per category 1, 0, or -1 unknown */
    double confidence; /* 0..1 */
    char reason[512];
    uint64_t n_pos, n_neg, n_unknown; /* rows by outcome */
};

/*
 * Find the target of f. name may be NULL (detect). On success fills *t (free
 * its storage with target_cleanup). Errors: LS_ENOT_FOUND (named column
 * absent), LS_ENO_TARGET (no plausible target; the message lists the
 * candidates), LS_EONE_CLASS (only one class among rows with an outcome),
 * LS_EINPUT (the named column is not two-class).
 */
int target_find(const struct frame *f, const char *name, struct target *t, struct ls_error *err);
void target_cleanup(struct target *t);

/*
 * Make the class that label belongs to the positive one (the user's
 * --positive, the API's "positive"). label is one of the target's labels
 * (pos_labels / neg_labels) or one class's joined form (positive /
 * negative), matched exactly, then without case; NULL or "" changes
 * nothing. Choosing the negative class swaps the classes: every label, the
 * counts and how target_label reads a row. Errors: LS_EINPUT when label is
 * no class of the target (the message lists the labels it may be); t is
 * then unchanged.
 */
int target_choose_positive(const struct frame *f, struct target *t, const char *label,
                           struct ls_error *err);

/* The outcome of row r: 1 positive, 0 negative, -1 unknown (to be scored). */
int target_label(const struct frame *f, const struct target *t, uint64_t r);

#endif
