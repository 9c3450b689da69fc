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
 */
#ifndef LS_ML_CALIB_H
#define LS_ML_CALIB_H

#include <stdint.h>

#define CALIB_MAX_KNOTS 1024

struct calib {
    uint32_t n; /* knots */
    double *x;  /* raw probability, strictly increasing */
    double *y;  /* calibrated probability, non-decreasing */
};

/* Fit on raw probabilities p (NaN skipped) and labels y. With no usable row
 * the map is the identity. */
void calib_fit(const double *p, const uint8_t *y, uint64_t n, struct calib *c);
double calib_apply(const struct calib *c, double raw);
void calib_cleanup(struct calib *c);

#endif
