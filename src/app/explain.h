/*
 * explain.h — why each lead got its score, in the lead's own values.
 *
 * Contributions are exact path-dependent TreeSHAP values of the forest's raw
 * probability (ml/treeshap.h), one per model column, in points (x 100):
 * base + sum(contributions) = raw, the probability the lead's score comes
 * from. The calibrated score is a monotone map of raw, shown as its own
 * last step, never folded into the contributions.
 *
 * A lead the model trained on is scored out-of-bag (app/score.h), by the
 * trees whose bootstrap did not draw it; its explanation leaves out the
 * same trees, so its base (the mean expected value of those trees) is its
 * own and base + sum(contributions) is still its score's raw. A version 1
 * model keeps no in-bag sets: its training leads are explained by all
 * trees and their raw can differ from the score's (the load note says so).
 *
 * Reasons are the largest positive and negative contributions phrased with
 * the lead's value: "Total Time Spent on Website = 1532 → +18.0 pts". A
 * value the model does not know (a new category; a blank where training had
 * none) is neutral in the trees (ml/tree.h), so it contributes nothing
 * (exactly 0 for a new category) and is no reason.
 * Summaries for the whole file: global importance (mean |contribution|) and,
 * per categorical value, its mean contribution and the file's conversion
 * rate (the chat will use these).
 */
#ifndef LS_APP_EXPLAIN_H
#define LS_APP_EXPLAIN_H

#include "app/score.h"

#include <jansson.h>

#define EXPLAIN_REASONS   3   /* reasons for and against per lead */
#define EXPLAIN_VALUE_MAX 120 /* bytes of a lead's value shown in a reason */

struct explain_result {
    uint64_t row0, n; /* the leads explained: rows row0 .. row0 + n - 1 of the run */
    size_t nfeat;
    double *phi;  /* n x nfeat, points; lead `row` at (row - row0) * nfeat */
    double *base; /* per lead, points */
    double *raw;  /* per lead, points: base + sum of its contributions */
};

/* Explain leads row0 .. row0 + n - 1 of a scoring run r (of model m) on
 * `threads` threads; app_explain(m, r, 0, r->n, ...) explains them all. */
void app_explain(const struct model *m, const struct score_result *r, uint64_t row0, uint64_t n,
                 uint32_t threads, struct explain_result *out);
void explain_result_cleanup(struct explain_result *e);

/* app_explain with progress reports: progress(ctx, done, total) after each
 * block of leads, from the worker threads one call at a time, done rising
 * to total = n (see treeshap_set_progress). progress may be NULL. */
void app_explain_progress(const struct model *m, const struct score_result *r, uint64_t row0,
                          uint64_t n, uint32_t threads,
                          void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx,
                          struct explain_result *out);

/* The features of lead `row` (within row0 .. row0 + n - 1) with the largest positive (sign > 0) or
 * negative (sign < 0) contributions, largest first, at most max; returns the
 * count. Contributions under 0.05 points are not reasons. */
size_t explain_top(const struct explain_result *e, uint64_t row, int sign, size_t *feat,
                   size_t max);

/* The lead's own value of feature j as text: the file's cell, "missing", the
 * cell with "(new value)" for a category the model never saw (neutral: it
 * contributes nothing, tree.h), or with "(new value, read as missing)" for a
 * cell the model could not read as its kind (text in a numeric column). */
void explain_value(const struct model *m, const struct frame *f, const struct score_result *r,
                   size_t j, uint64_t row, char *out, size_t cap);

/* "Column = value → +12.3 pts" */
void explain_reason(const struct model *m, const struct frame *f, const struct score_result *r,
                    const struct explain_result *e, size_t j, uint64_t row, char *out, size_t cap);

/* Per lead, for --json: base, contributions (column -> points), reasons
 * {for, against} with column, value, points, text; and raw_explained (base +
 * contributions: the score's raw, except for a training lead of a version 1
 * model, explained by all trees). */
void explain_lead_json(const struct model *m, const struct frame *f, const struct score_result *r,
                       const struct explain_result *e, uint64_t row, json_t *obj);

/* The file's summary (e must cover every lead of r): {"sample_leads": n,
 * "sampled": false, "importance": [{column, mean_abs_points}...]
 * largest first, "categories": {column: [{value, leads, mean_points, conversion_rate}...]}}
 * (conversion_rate over the leads with a known outcome, null without any;
 * values in the model's order, then "missing", then "(new value)" for the
 * categories the model never saw). */
json_t *explain_summary_json(const struct model *m, const struct score_result *r,
                             const struct explain_result *e);

/* The same summary without explaining every lead: at most max_leads leads
 * (0: all), evenly spaced through the file (always the same ones for the same
 * file), are explained on `threads` threads; importance and mean_points come
 * from them, each value's lead count and conversion rate from every lead.
 * "sample_leads" says how many were explained and "sampled" whether that is
 * fewer than all (explain_summary_json says the same, with every lead). The
 * cost is max_leads explanations, whatever the size of the file. */
#define EXPLAIN_SUMMARY_SAMPLE 2000
json_t *explain_summary_sample(const struct model *m, const struct score_result *r,
                               uint64_t max_leads, uint32_t threads);

#endif
