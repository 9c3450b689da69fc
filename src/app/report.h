/*
 * report.h — training and scoring results as JSON objects.
 *
 * Shared by the CLI (--json, --report) and, later, the HTTP API.
 */
#ifndef LS_APP_REPORT_H
#define LS_APP_REPORT_H

#include "app/score.h"
#include "app/train.h"

#include <jansson.h>

/* The metrics object: auc, logloss, brier, precision/recall at 10/20 %,
 * lift by decile, calibration table. */
json_t *report_metrics(const struct metrics *m);

/* The training summary `leadscore train --json` prints. */
json_t *report_train(const struct model *m, const struct train_summary *s, const char *path);

/* The run summary of `leadscore score --report`: tiers, warnings, columns,
 * metrics when the file has outcomes. */
json_t *report_score(const struct model *m, const struct score_result *r);

#define REPORT_HIST_BINS 20 /* bins of the score histogram, 5 points each */

/*
 * The distribution of n scores on the 0-100 scale, as REPORT_HIST_BINS
 * objects {from, to, leads}: bin k holds the scores s with 5k <= s < 5k + 5,
 * and the last one also 100 itself, so the bins' leads sum to n. A score
 * below 0 (or NaN) counts in the first bin, above 100 in the last: no lead
 * is ever left out. So a dashboard draws a run's distribution without
 * fetching its leads.
 */
json_t *report_score_histogram(const double *score, uint64_t n);

/* Warnings of a scoring run as sentences (appended to arr); when the drift
 * status is not ok, one of them is the drift line of report_drift_line. */
void report_score_warnings(const struct model *m, const struct score_result *r, json_t *arr);

/* The drift object of a scoring run: status (ok, watch, drift), rows,
 * low_confidence, max_psi, and columns — an object keyed by model column
 * name, each {psi, unseen_share, status}; psi and unseen_share are null for a
 * column absent from the file (status "missing"). */
json_t *report_drift(const struct model *m, const struct score_result *r);

/* One line on the drift of a run into out (cap bytes): "drift: ok (29
 * columns, max PSI 0.00)", or "drift: status drift — NAME PSI 0.87 (drift),
 * ..." naming every column that is not ok, worst first. */
void report_drift_line(const struct model *m, const struct score_result *r, char *out, size_t cap);

#endif
