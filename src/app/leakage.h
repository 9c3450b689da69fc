/*
 * leakage.h — the leakage scan: columns that give the outcome away.
 *
 * A CRM export mixes what was known about a lead before anyone called it
 * (source, pages visited, time on site) with what sales wrote down after
 * calling (tags, status, quality). The second kind predicts the outcome
 * because it was written knowing it; a model trained on it scores past leads
 * beautifully and new leads — where the field is still empty — badly. The
 * scan looks at every column training would use (train_features_select) and
 * measures three things:
 *
 *   AUC          the out-of-bag AUC of a small forest (LEAKAGE_TREES trees)
 *                trained on that column alone, binned as training bins it;
 *   near-pure    values with at least LEAKAGE_PURE_MIN_ROWS labelled rows of
 *                which at least LEAKAGE_PURE_RATE are one class, and the share
 *                of the labelled rows they carry. "Values" are the bins the
 *                model sees: categories, the two boolean values, each distinct
 *                number when a column has at most 255 of them, otherwise ~255
 *                quantile ranges; missing counts as a value. With an
 *                unbalanced outcome, purity must also be surprising: the
 *                value's share of the other class must be at most a quarter
 *                of that class's overall share, and at least
 *                LEAKAGE_PURE_MIN_EXPECTED of its rows would have been of the
 *                other class at the overall rate (both always hold when the
 *                classes are 30/70 or closer);
 *   name hint    the name has a word that reads like a field filled after the
 *                outcome (status, stage, tag(s), quality, reason, result,
 *                outcome, disposition, rating, won, win, lost, loss, closed,
 *                close, converted, conversion), compared without case or
 *                punctuation, camelCase split into words.
 *
 * The level of a column:
 *
 *   exclude  AUC >= LEAKAGE_AUC_EXCLUDE (0.95), or near-pure values carry
 *            >= LEAKAGE_SHARE_EXCLUDE (25 %) of the labelled rows, or a name
 *            hint backed by figures: AUC >= LEAKAGE_HINT_AUC (0.70) or
 *            near-pure share >= LEAKAGE_HINT_SHARE (5 %);
 *   check    a name hint alone, or AUC >= LEAKAGE_AUC_CHECK (0.85), or
 *            near-pure share >= LEAKAGE_SHARE_CHECK (10 %);
 *   none     anything else.
 *
 * Past LEAKAGE_MAX_ROWS labelled rows (struct leakage_opts' max_rows) the
 * scan measures a seeded sample of that many (the figures are shares and AUCs, which a sample of
 * 100,000 estimates to about a percent), so that `inspect` of a large file stays a matter of
 * seconds.
 *
 * The thresholds, the figures on Leads.csv they were set against and the
 * margins are in docs/leakage.md. `inspect` shows the scan; `train`
 * (app_train) leaves out the "exclude" columns by default and names them,
 * `--include-leaky` keeps them; nothing is dropped silently.
 */
#ifndef LS_APP_LEAKAGE_H
#define LS_APP_LEAKAGE_H

#include "app/train.h"
#include "core/err.h"
#include "data/frame.h"
#include "data/target.h"

#include <jansson.h>
#include <stdint.h>

#define LEAKAGE_TREES             50     /* trees per single-column forest */
#define LEAKAGE_MIN_ROWS          20     /* labelled rows the scan needs */
#define LEAKAGE_MAX_ROWS          100000 /* past this, a seeded sample of the labelled rows */
#define LEAKAGE_PURE_MIN_ROWS     30     /* rows a value needs to count as near-pure */
#define LEAKAGE_PURE_RATE         0.97   /* share of one class that makes a value near-pure */
#define LEAKAGE_PURE_MIN_EXPECTED 10     /* other-class rows expected at the base rate */
#define LEAKAGE_AUC_EXCLUDE       0.95
#define LEAKAGE_SHARE_EXCLUDE     0.25
#define LEAKAGE_HINT_AUC          0.70
#define LEAKAGE_HINT_SHARE        0.05
#define LEAKAGE_AUC_CHECK         0.85
#define LEAKAGE_SHARE_CHECK       0.10
#define LEAKAGE_TOP_VALUES        5 /* near-pure values kept per column */

enum leakage_level { LEAKAGE_NONE = 0, LEAKAGE_CHECK = 1, LEAKAGE_EXCLUDE = 2 };

/* "none", "check", "exclude". */
const char *leakage_level_name(enum leakage_level l);

struct leakage_opts {
    uint32_t trees;    /* per single-column forest; default LEAKAGE_TREES */
    uint32_t threads;  /* 0: every online core */
    uint64_t seed;     /* default 42 */
    uint64_t max_rows; /* labelled rows measured at most; 0: LEAKAGE_MAX_ROWS */
};

void leakage_opts_default(struct leakage_opts *o);

struct leakage_value {
    char *label;   /* the value as the model sees it ("Ringing", "3", "(missing)") */
    uint64_t rows; /* labelled rows with this value */
    double rate;   /* their positive (converted) share */
};

struct leakage_column {
    char *name;          /* the column's name (owned) */
    size_t col;          /* its index in the frame scanned */
    double auc;          /* single-column out-of-bag AUC; NaN when not measurable */
    uint32_t pure_count; /* near-pure values */
    uint64_t pure_rows;  /* labelled rows they carry */
    double pure_share;   /* pure_rows / labelled rows */
    size_t ntop;         /* near-pure values kept in top[], most rows first */
    struct leakage_value top[LEAKAGE_TOP_VALUES];
    const char *hint; /* the hinting word (static storage), NULL when none */
    enum leakage_level level;
    char reason[512]; /* one sentence with the figures; "" at level none */
};

struct leakage_report {
    size_t ncols; /* every column scanned, in frame order */
    struct leakage_column *cols;
    uint64_t labelled;  /* rows with a known outcome */
    uint64_t rows_used; /* of them, the rows measured (all, up to LEAKAGE_MAX_ROWS) */
    uint64_t positives; /* positives among the rows used */
    double took_ms;
};

/*
 * Scan the columns training would use on f (train_features_select with
 * target t->col and tr's exclusions; tr may be NULL for none) against the
 * target t. On success fills *out (free with leakage_report_cleanup); it
 * does not point into f. Errors: LS_EONE_CLASS (the labelled rows have one
 * class), LS_EINPUT (fewer than LEAKAGE_MIN_ROWS labelled rows, or no column
 * to scan), LS_ENOT_FOUND (an excluded name that is no column); *out is
 * untouched then.
 */
int leakage_scan(const struct frame *f, const struct target *t, const struct train_opts *tr,
                 const struct leakage_opts *o, struct leakage_report *out, struct ls_error *err);
void leakage_report_cleanup(struct leakage_report *r);

/* Columns at level min or above in r. */
size_t leakage_count(const struct leakage_report *r, enum leakage_level min);

/*
 * The first word of name that reads like a field filled after the outcome,
 * or NULL. Words are split at anything not a letter or digit and at
 * lower-to-upper case changes ("DealStage" is "deal stage").
 */
const char *leakage_name_hint(const char *name);

/*
 * Find the target as o->target says, scan f with
 * o's exclusions, seed and threads, and append the columns at level
 * "exclude" to o->exclude. The names appended point into *rep, which the
 * caller keeps until o is no longer used, then frees with
 * leakage_report_cleanup. Errors: those of target_find and leakage_scan, and
 * LS_ELIMIT when o->exclude would pass TRAIN_MAX_EXCLUDE; o is unchanged on
 * failure.
 */
int leakage_auto_exclude(const struct frame *f, struct train_opts *o, struct leakage_report *rep,
                         struct ls_error *err);

/*
 * The columns at level min or above as a JSON array of objects: column,
 * level, auc (null when not measurable), pure_share, pure_count,
 * pure_values [{value, rows, rate}], name_hint (bool), hint_word (when
 * name_hint), reason. Shared by `inspect --json`, `train --json` and later
 * the HTTP API. The caller owns the result (json_decref).
 */
json_t *leakage_json(const struct leakage_report *r, enum leakage_level min);

#endif
