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

/* Warnings of a scoring run as sentences (appended to arr). */
void report_score_warnings(const struct model *m, const struct score_result *r, json_t *arr);

#endif
