/*
 * train.h — from a frame to a trained, calibrated model.
 *
 * The orchestration the CLI and the service share: pick the target and the
 * features (never identifiers, free text, constants or the target itself;
 * never a column the user excluded), fit the bins on the rows with a known
 * outcome, grow the forest, measure it on out-of-bag predictions (and on a
 * holdout when asked), fit the calibration on the out-of-bag predictions,
 * and keep each training row's out-of-bag score and in-bag trees, with how
 * the file was read (missing tokens, decimal mark) and the target's labels.
 */
#ifndef LS_APP_TRAIN_H
#define LS_APP_TRAIN_H

#include "data/frame.h"
#include "ml/model.h"

#define TRAIN_MAX_EXCLUDE 256

struct train_opts {
    const char *target;                     /* NULL: detect */
    const char *exclude[TRAIN_MAX_EXCLUDE]; /* column names */
    size_t nexclude;
    struct forest_opts forest;
    double holdout; /* share of the labelled rows kept out for a holdout check; 0: none */
    double tier_high, tier_medium;
    /* the missing-value tokens f was read with (NULL: the reader's default
     * list), kept in the model so scoring reads the same way */
    const char *const *missing_tokens;
};

void train_opts_default(struct train_opts *o);

/* The columns a model learns from (see train_features_select). */
struct train_features {
    size_t *cols;   /* frame column indices, in frame order (owned) */
    size_t ncols;   /* how many */
    long id_col;    /* the first identifier column, -1 when there is none */
    size_t skipped; /* columns left out: identifiers, text, constants, excluded */
};

/*
 * The features training would use on f: every column except target_col (the
 * target; -1 for none), identifiers, free text, constants and the columns
 * named in o->exclude. The one selection app_train and the leakage scan
 * (leakage.h) share, so the scan looks at exactly what a model would see.
 * On success fills *out (free with train_features_cleanup). Errors:
 * LS_ENOT_FOUND (an excluded name that is no column), LS_EINPUT (no column
 * is left). *out is untouched on failure.
 */
int train_features_select(const struct frame *f, long target_col, const struct train_opts *o,
                          struct train_features *out, struct ls_error *err);
void train_features_cleanup(struct train_features *tf);

struct train_summary {
    uint64_t rows;       /* rows in the file */
    uint64_t labelled;   /* rows with a known outcome */
    uint64_t train_rows; /* rows the forest learned from */
    uint64_t holdout_rows;
    size_t features;
    size_t excluded; /* columns left out: ids, text, constants, --exclude */
    double took_ms;
};

/* Train on f. On success *m holds the model (model_cleanup to free). */
int app_train(const struct frame *f, const struct train_opts *o, struct model *m,
              struct train_summary *sum, struct ls_error *err);

#endif
