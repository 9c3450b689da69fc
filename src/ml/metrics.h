/*
 * metrics.h — how good the scores are, measured honestly.
 *
 * Computed from out-of-bag (or holdout) probabilities only, never from rows
 * a tree learned from: AUC (Mann-Whitney, ties counted half), log-loss,
 * Brier score, precision and recall among the top 10 % and 20 %, lift by
 * decile, and a calibration table (mean predicted vs observed per decile).
 */
#ifndef LS_ML_METRICS_H
#define LS_ML_METRICS_H

#include <stdint.h>

#define METRICS_DECILES 10

struct metrics {
    uint64_t n, npos; /* rows measured (with a probability) */
    double auc, logloss, brier;
    double base_rate;
    double precision_top10, recall_top10;
    double precision_top20, recall_top20;
    double lift[METRICS_DECILES];     /* positive rate of decile / base rate, best first */
    double cal_pred[METRICS_DECILES]; /* mean prediction per decile of prediction */
    double cal_obs[METRICS_DECILES];  /* observed positive rate there */
    uint64_t cal_n[METRICS_DECILES];
};

/* Metrics of probabilities p (NaN entries skipped) against labels y (0/1). */
void metrics_compute(const double *p, const uint8_t *y, uint64_t n, struct metrics *m);

/* AUC alone (NaN entries skipped); NaN when a class is absent. */
double metrics_auc(const double *p, const uint8_t *y, uint64_t n);

#endif
