/*
 * drift.h — does a scored file look like the data the model learned from?
 *
 * For every model feature, the distribution of the scored file is compared
 * with the training profile saved in the model (struct feature.train_share)
 * by the Population Stability Index (Siddiqi, "Credit Risk Scorecards",
 * 2006; sampling properties: Yurdakul, "Statistical Properties of Population
 * Stability Index", 2018):
 *
 *   PSI = sum over buckets i of (a_i - e_i) * ln(a_i / e_i)
 *
 * where e_i is the training share and a_i the file's share of bucket i.
 *
 * Buckets, not bins. A numeric feature has up to 255 bins; PSI over 255 thin
 * bins of a 1,000-row file is mostly sampling noise (its expectation under
 * no change is about (buckets - 1) / rows, so 0.25 there). The bins are
 * therefore grouped into a few buckets fixed by the training profile alone:
 *
 *   ordered features (numeric, datetime, boolean)
 *       up to DRIFT_GROUPS groups of consecutive bins holding about equal
 *       shares of the non-missing training rows (a value heavier than a
 *       group, such as 0 visits, is a group of its own);
 *   categorical features
 *       the DRIFT_CAT_TOP most frequent categories that hold at least
 *       DRIFT_CAT_MIN_SHARE of the training rows each, and one bucket for
 *       every other category;
 *   every feature
 *       "missing" (empty cells, missing tokens, values unreadable as the
 *       feature's kind — as in training, where they took the missing bin too);
 *   categorical features
 *       "unseen": categories the model never saw (empty in training).
 *
 * Smoothing. An empty bucket would make ln(a/e) infinite. Both sides get
 * eps = max(DRIFT_EPS_MIN, 0.5 / rows) added to every bucket and are
 * renormalised — half a row of the scored file, and never less than 1e-4 —
 * so identical distributions give exactly 0, a bucket a small file left empty
 * counts as the half row it might have held, and the PSI of a given shift
 * does not grow without bound with the file's size.
 *
 * Status per column: ok (PSI < 0.1), watch (0.1 <= PSI < 0.25), drift
 * (PSI >= 0.25), raised by the share of rows whose category was unseen:
 * watch from DRIFT_UNSEEN_WATCH (1 %), drift from DRIFT_UNSEEN_DRIFT (5 %).
 * A model column absent from the file is "missing" (no PSI) and counts as
 * watch toward the overall status, which is the worst column's.
 *
 * Small files. Files under DRIFT_MIN_ROWS rows are measured the same way but
 * flagged low-confidence: random samples of Leads.csv's own rows (29
 * columns) reach watch somewhere in 13 % of 200-row files and 95 % of
 * 100-row files, 1 % at 300 rows and none at 400 or more (docs/model.md).
 * A file with no rows is not measured (PSI NaN, status ok, low-confidence).
 */
#ifndef LS_ML_DRIFT_H
#define LS_ML_DRIFT_H

#include "ml/bins.h"

#include <stdint.h>

#define DRIFT_GROUPS        10   /* value buckets of an ordered feature, at most */
#define DRIFT_CAT_TOP       9    /* categories with a bucket of their own, at most */
#define DRIFT_CAT_MIN_SHARE 0.01 /* ... each holding at least this share of training rows */
#define DRIFT_MAX_BUCKETS   (DRIFT_GROUPS + 2) /* value buckets + missing + unseen */
#define DRIFT_EPS_MIN       1e-4               /* smoothing floor (see above) */
#define DRIFT_PSI_WATCH     0.10
#define DRIFT_PSI_DRIFT     0.25
#define DRIFT_UNSEEN_WATCH  0.01 /* share of the file's rows */
#define DRIFT_UNSEEN_DRIFT  0.05
#define DRIFT_MIN_ROWS      300 /* fewer rows: the report is marked low-confidence */

/* Ordered by severity, except DRIFT_MISSING, which counts as DRIFT_WATCH. */
enum drift_status { DRIFT_OK = 0, DRIFT_WATCH = 1, DRIFT_DRIFT = 2, DRIFT_MISSING = 3 };

/* "ok", "watch", "drift", "missing". */
const char *drift_status_name(enum drift_status s);

/* The severity of a status toward the overall one: missing counts as watch. */
enum drift_status drift_severity(enum drift_status s);

/* How one feature's bins are grouped: bucket of bin b is of_bin[b]. Value
 * buckets are 0..nvalue-1, then missing (nvalue), then unseen (nvalue + 1,
 * categorical features only). */
struct drift_buckets {
    unsigned nvalue;  /* value buckets, 1..DRIFT_GROUPS */
    unsigned nbucket; /* nvalue + 1, or nvalue + 2 for categorical features */
    uint8_t of_bin[BINS_MAX + 1];
};

/* Group the bins of ft by its training profile (ft->train_share; NULL is
 * read as an empty profile). */
void drift_buckets(const struct feature *ft, struct drift_buckets *b);

/*
 * The PSI between shares expected[0..k) (training) and actual[0..k) (file),
 * each smoothed as (x + eps) / (sum + k * eps). eps >= 0; with eps = 0 an
 * empty bucket on one side gives +inf, and a side summing to 0 gives NaN.
 * Values under 1e-12 (rounding) are returned as 0.
 */
double drift_psi(const double *expected, const double *actual, size_t k, double eps);

/* The smoothing of a file of n rows: max(DRIFT_EPS_MIN, 0.5 / n). */
double drift_epsilon(uint64_t n);

struct drift_column {
    double psi;          /* NaN when not measured (column absent, or no rows) */
    double unseen_share; /* rows with an unseen category / rows; NaN when absent */
    uint64_t unseen;     /* rows with an unseen category */
    unsigned nbucket;    /* buckets compared */
    enum drift_status status;
};

struct drift_report {
    size_t nfeat;
    uint64_t rows;
    int low_confidence;       /* rows < DRIFT_MIN_ROWS */
    enum drift_status status; /* overall: ok, watch or drift (never missing) */
    double max_psi;           /* over measured columns; 0 when none is */
    struct drift_column *col; /* per model feature, schema order */
};

/*
 * Compare the n rows binned in X (feature-major, nfeat x n, as bins_apply
 * writes them) with the training profile of schema s. rep is what bins_apply
 * reported for the same rows: rep->col[j] < 0 marks an absent column, and
 * rep->unseen[j] the rows among the missing bin that held an unseen category.
 * Fills out (the caller frees it with drift_report_cleanup). Never fails.
 */
void drift_compute(const struct bin_schema *s, const uint8_t *X, uint64_t n,
                   const struct bin_report *rep, struct drift_report *out);
void drift_report_cleanup(struct drift_report *r);

#endif
