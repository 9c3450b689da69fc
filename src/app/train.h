/*
 * train.h — from a frame to a trained, calibrated model.
 *
 * The orchestration the CLI and the service share: pick the target and the
 * features (never identifiers, free text, constants or the target itself;
 * never a column the user excluded), check there are enough outcomes to learn
 * from, run the leakage scan (leakage.h) and leave out the columns it marks
 * "exclude" unless asked to keep them, fit the bins on the rows with a known
 * outcome, grow the forest, measure it on out-of-bag predictions (and on a
 * holdout when asked), fit the calibration on the out-of-bag predictions,
 * and keep each training row's out-of-bag score and in-bag trees, with how
 * the file was read (missing tokens, decimal mark) and the target's labels.
 *
 * Honest by default: a column written after the outcome (a sales status, a
 * tag) makes a model that scores past leads beautifully and new ones badly,
 * and too few outcomes make metrics that mean nothing. So leaky columns are
 * left out unless include_leaky says otherwise, and everything left out or
 * doubtful is named in the summary (leakage, warnings) for the caller to say.
 */
#ifndef LS_APP_TRAIN_H
#define LS_APP_TRAIN_H

#include "data/frame.h"
#include "ml/model.h"

#include <jansson.h>

#define TRAIN_MAX_EXCLUDE    256
#define TRAIN_MIN_LABELLED   50  /* leads with a known outcome training needs */
#define TRAIN_MIN_CLASS      10  /* of each outcome */
#define TRAIN_ROUGH_LABELLED 200 /* below this, a warning: the metrics are rough */

struct leakage_report; /* leakage.h */

struct train_opts {
    const char *target; /* NULL: detect */
    /* the positive class, one of the target's labels (target_choose_positive);
     * NULL: the one detection picks */
    const char *positive;
    /* Columns to leave out, as the user gave them: each entry is a column
     * name, or (when it is no column's name) a comma-separated list of them.
     * Names are trimmed and matched as scoring matches columns: exactly,
     * then without case (frame_find). */
    const char *exclude[TRAIN_MAX_EXCLUDE];
    size_t nexclude;
    int include_leaky; /* 1: keep the columns the leakage scan marks "exclude" */
    /* 1: no leakage scan at all (nothing excluded, nothing named): for
     * benchmarks that compare the forest with libraries given every column */
    int skip_leakage_scan;
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
 * named in o->exclude (see struct train_opts for how names are matched). The one selection
 * app_train and the leakage scan (leakage.h) share, so the scan looks at exactly what a model would
 * see. On success fills *out (free with train_features_cleanup). Errors: LS_ENOT_FOUND (an excluded
 * name that is no column), LS_EINPUT (no column is left). *out is untouched on failure.
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
    size_t excluded; /* columns left out: ids, text, constants, --exclude, leaky */
    /* The leakage scan of the columns training would otherwise use (owned;
     * NULL when it could not run). Its "exclude" columns were left out
     * unless include_leaky was set; its "check" columns were kept. */
    struct leakage_report *leakage;
    int include_leaky; /* copied from the options: were "exclude" columns kept? */
    char **warnings;   /* sentences for the user (owned): few outcomes, junk in numbers */
    size_t nwarnings;
    double took_ms;
};

/*
 * Train on f. On success *m holds the model (model_cleanup to free) and *sum
 * the summary (train_summary_cleanup to free). Errors: those of target_find,
 * train_features_select and leakage_scan; LS_EINPUT when fewer than
 * TRAIN_MIN_LABELLED rows have a known outcome or fewer than TRAIN_MIN_CLASS
 * have either one (the message gives the counts and what is needed). On
 * failure *sum holds nothing to free.
 */
int app_train(const struct frame *f, const struct train_opts *o, struct model *m,
              struct train_summary *sum, struct ls_error *err);
void train_summary_cleanup(struct train_summary *sum);

/*
 * Add what training left out and why to the JSON object o (train --json and
 * later the HTTP API): "excluded" [{column, reason, level, auc}] — the
 * columns left out as leaky (empty with include_leaky) —, "auto_excluded"
 * (the same columns in leakage_json's fuller form, kept for scripts written
 * for --auto-exclude), "leakage_checks" (flagged "check" columns, and with
 * include_leaky the "exclude" ones, all kept), "include_leaky" and
 * "warnings" [string].
 */
void train_summary_json(const struct train_summary *sum, json_t *o);

#endif
