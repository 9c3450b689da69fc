/*
 * calib.h — isotonic calibration of forest probabilities.
 *
 * A random forest's averaged votes are pulled toward the middle: a raw 0.8
 * may mean 95 % of such leads convert. Isotonic regression (Barlow et al.
 * 1972; pool-adjacent-violators) fitted on the out-of-bag probabilities finds
 * the non-decreasing map raw -> observed rate that fits best in squared error;
 * LeadScore reads it between the fitted points by linear interpolation and
 * clamps outside them. The map is monotone, so calibration never reorders
 * leads; it only makes "70" mean "about 70 of 100 such leads convert".
 *
 * Two guards keep the ends honest. PAVA's first and last blocks are often a
 * handful of leads that all converted (or none did), which would map the
 * highest raw scores to exactly 100 % and the lowest to 0 %: a rate measured
 * on five leads is not evidence of certainty. So the end blocks are pooled
 * with their neighbours until each holds at least CALIB_MIN_END_ROWS
 * labelled rows (pooling adjacent blocks keeps the map monotone), and every
 * likelihood is clipped to [CALIB_MIN_P, CALIB_MAX_P], so a score is always
 * within 1-99. docs/model.md says the same for users.
 */
#ifndef LS_ML_CALIB_H
#define LS_ML_CALIB_H

#include <stdint.h>

#define CALIB_MAX_KNOTS    1024
#define CALIB_MIN_END_ROWS 30   /* labelled rows the first and last block need */
#define CALIB_MIN_P        0.01 /* no likelihood below 1 % ... */
#define CALIB_MAX_P        0.99 /* ... or above 99 % */

struct calib {
    uint32_t n; /* knots */
    double *x;  /* raw probability, strictly increasing */
    double *y;  /* calibrated probability, non-decreasing */
};

/* Fit on raw probabilities p (NaN skipped) and labels y, with end blocks of
 * at least CALIB_MIN_END_ROWS rows. With no usable row the map is the
 * identity (clipped like every map). */
void calib_fit(const double *p, const uint8_t *y, uint64_t n, struct calib *c);

/* calib_fit with end blocks of at least min_end rows (1: plain PAVA; the
 * knots are still clipped). For tests of the algorithm itself. */
void calib_fit_ends(const double *p, const uint8_t *y, uint64_t n, uint64_t min_end,
                    struct calib *c);

/* The calibrated likelihood of raw, within [CALIB_MIN_P, CALIB_MAX_P] (also
 * for maps loaded from files written before the clip); NaN stays NaN. */
double calib_apply(const struct calib *c, double raw);
void calib_cleanup(struct calib *c);

#endif
