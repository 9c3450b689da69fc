/*
 * model.h — a trained model and its file.
 *
 * The model is everything scoring needs: the feature schema (bins, category
 * labels, training profile), the trees, the calibration map, the tier
 * thresholds, the honest metrics it was trained with, and the out-of-bag
 * raw score of each training row (so a training lead scored later gets the
 * score of the trees that did not see it, never an in-sample one).
 *
 * File format (little-endian), version 1:
 *   "LSMODEL\0"  u32 version  u32 crc32(payload)  u64 payload length  payload
 * The payload is a sequence of sections written by model.c. It is written to
 * a temporary file beside the target, fsynced and renamed, so a crash leaves
 * either the old file or the new one. Loading refuses a foreign file (magic),
 * another version, a truncated file (length) and a corrupted one (CRC), and
 * checks every count and index it reads.
 */
#ifndef LS_ML_MODEL_H
#define LS_ML_MODEL_H

#include "core/err.h"
#include "ml/bins.h"
#include "ml/calib.h"
#include "ml/forest.h"
#include "ml/metrics.h"

#include <stdint.h>

#define MODEL_VERSION   1
#define MODEL_MAX_BYTES (2ULL << 30) /* a model file larger than 2 GB is refused */

struct model {
    /* how it was trained */
    uint32_t trees, mtry, min_leaf, max_depth;
    uint8_t balanced;
    uint64_t seed;
    /* what it predicts */
    char *target, *positive, *negative;
    char *id_column; /* the identifier column shown with scores, or NULL */
    struct bin_schema schema;
    struct forest forest;
    struct calib calib;
    double tier_high, tier_medium; /* calibrated score (0..100) thresholds */
    /* how good it is */
    uint64_t train_rows, train_pos;
    struct metrics oob;
    uint8_t has_holdout;
    struct metrics holdout;
    /* out-of-bag raw probability of each training row, by row key */
    uint64_t noob;
    uint64_t *oob_key; /* ascending */
    float *oob_raw;
};

void model_init(struct model *m);
void model_cleanup(struct model *m);

/* Write m to path atomically (temp file, fsync, rename). */
int model_save(const struct model *m, const char *path, struct ls_error *err);

/* Read a model file into m (initialised by this call). */
int model_load(const char *path, struct model *m, struct ls_error *err);

/* The same from memory (tests, fuzzing). */
int model_load_mem(const void *data, size_t len, struct model *m, struct ls_error *err);

/* The key of a row: a hash of its bins for every feature and its label. */
uint64_t model_row_key(const uint8_t *X, uint64_t stride, uint64_t row, size_t nfeat, int label);

/* The out-of-bag raw probability stored for key, or NaN. */
double model_oob_lookup(const struct model *m, uint64_t key);

#endif
