/*
 * score.h — scoring a frame with a model.
 *
 * Columns are matched by name. A model column missing from the file becomes
 * missing values and a warning naming it; unseen categories follow the
 * missing path and are counted; columns the model does not use are listed.
 * A file with none of the model's columns is an error, not a page of equal
 * scores. Rows whose outcome is known and that were training rows of this
 * model get their out-of-bag score — the mean of the trees whose bootstrap
 * did not draw them (the model's in-bag sets; a version 1 model keeps only
 * the raw) — and the trees to leave out of their explanation; every other
 * row is scored by all trees. The outcome is read with the model's labels
 * of each class, every one of them.
 * Every run also measures drift: each model column of the file against the
 * model's training profile (ml/drift.h).
 */
#ifndef LS_APP_SCORE_H
#define LS_APP_SCORE_H

#include "data/frame.h"
#include "ml/drift.h"
#include "ml/model.h"

enum tier { TIER_LOW = 0, TIER_MEDIUM = 1, TIER_HIGH = 2 };

const char *tier_name(enum tier t);

struct score_opts {
    uint32_t threads;
    int quantile_tiers;      /* tiers by rank instead of by score */
    double high, medium;     /* score thresholds (0..100); <0: the model's */
    double q_high, q_medium; /* quantile tiers: shares of leads (default 0.2, 0.3) */
};

void score_opts_default(struct score_opts *o);

struct score_result {
    uint64_t n;
    double *raw;    /* forest probability (0..1) */
    double *score;  /* calibrated likelihood, 0..100 */
    uint8_t *tier;  /* enum tier */
    uint64_t *rank; /* 1 = best */
    int8_t *label;  /* outcome in the file: 1, 0, or -1 unknown / no target column */
    uint8_t *oob;   /* 1 when the score is the row's out-of-bag score */
    /* per row, the trees its score leaves out (its in-bag set): n x
     * inbag_words, bit i of word i / 64 for tree i; all zero for a row scored
     * by every tree; NULL when the model keeps no in-bag sets (version 1) */
    uint64_t *inbag;
    size_t inbag_words;
    long id_col; /* frame column of the model's identifier, or -1 */
    uint64_t tier_count[3];
    uint64_t oob_rows;
    /* column matching */
    size_t nmissing_cols;
    char **missing_cols; /* model features absent from the file */
    size_t nextra_cols;
    char **extra_cols; /* file columns the model does not use */
    size_t nnew_cols;
    char **new_cols;      /* of those, the ones its training file did not have (a version 1
                             model, which does not name them: all of them) */
    uint64_t *unseen;     /* per model feature: cells with an unseen category */
    uint64_t *unreadable; /* per model feature: cells unreadable as its kind */
    uint8_t *X;           /* binned rows, nfeat x n (kept for explanations) */
    long *feat_col;       /* per model feature: its frame column, -1 when absent */
    size_t nfeat;
    struct drift_report drift; /* per model feature, against the training profile */
    int has_metrics;
    struct metrics metrics; /* on rows with a known outcome */
};

/* Score every row of f. Errors: LS_EINPUT when no model column is in f. */
int app_score(const struct model *m, const struct frame *f, const struct score_opts *o,
              struct score_result *res, struct ls_error *err);
void score_result_cleanup(struct score_result *res);

#endif
