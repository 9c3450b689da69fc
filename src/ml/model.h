/*
 * model.h — a trained model and its file.
 *
 * The model is everything scoring needs: the feature schema (bins, category
 * labels, training profile), the trees, the calibration map, the tier
 * thresholds, the honest metrics it was trained with, and the out-of-bag
 * raw score of each training row (so a training lead scored later gets the
 * score of the trees that did not see it, never an in-sample one).
 *
 * File format (little-endian), version 2:
 *   "LSMODEL\0"  u32 version  u32 crc32(payload)  u64 payload length  payload
 * The payload is a sequence of sections written by model.c: the version 1
 * sections (training options, target, schema, trees, calibration, tiers,
 * metrics, out-of-bag raws by row key), then what version 2 adds:
 *   u32 kind                  enum model_kind (random forest; boosted trees can follow)
 *   u8  decimal_comma         the training file's decimal mark
 *   u32 n, n strings          the missing-value tokens training read with
 *   u32 n, n strings          the target's positive labels, as written in the file
 *   u32 n, n strings          its negative labels
 *   u32 b, noob x b bytes     each training row's in-bag trees, by the row keys
 *                             above: bit i of byte i / 8 set when tree i's
 *                             bootstrap drew the row; b = ceil(trees / 8)
 * The in-bag sets are a plain bitmap on purpose: a bootstrap draws a row into
 * a tree with probability 1 - 1/e = 0.632, so each bit carries 0.95 bit of
 * entropy and no run-length or dictionary coding can save more than 5 %. At
 * 100 trees that is 13 bytes a training row (25 with its key and raw): 120 KB
 * for Leads.csv, 13 MB for a million rows.
 * Datetime layouts are per feature in the schema since version 1.
 *
 * The file is written to a temporary file beside the target, fsynced and
 * renamed, so a crash leaves either the old file or the new one. Loading
 * refuses a foreign file (magic), an unknown version, a truncated file
 * (length) and a corrupted one (CRC), and checks every count and index it
 * reads. Version 1 files still load, with a note (load_note): they read
 * with the default missing tokens and explain training leads by all trees.
 */
#ifndef LS_ML_MODEL_H
#define LS_ML_MODEL_H

#include "core/err.h"
#include "data/frame.h"
#include "ml/bins.h"
#include "ml/calib.h"
#include "ml/forest.h"
#include "ml/metrics.h"

#include <stdint.h>

#define MODEL_VERSION     2
#define MODEL_MAX_TOKENS  256          /* missing-value tokens kept */
#define MODEL_MAX_LABELS  4096         /* labels of one target class */
#define MODEL_MAX_COLUMNS 1000000      /* columns of the training file named in the model */
#define MODEL_MAX_BYTES   (2ULL << 30) /* a model file larger than 2 GB is refused */

/* The kind of ensemble: how the trees' leaves add up to a probability. */
enum model_kind {
    MODEL_RANDOM_FOREST = 1, /* the mean of the trees' leaf shares */
};

struct model {
    uint32_t format_version; /* of the file it was read from; MODEL_VERSION once trained */
    char *load_note;         /* a sentence for the user when the file is of an older format */
    enum model_kind kind;
    /* how training read its file */
    char **missing_tokens; /* NULL-terminated; NULL (version 1): the reader's default list */
    uint8_t decimal_comma; /* numbers of the training file used ',' as decimal mark */
    char **train_columns;  /* every column of the training file, in its order (version 2):
                              a scored file's column outside it is new, one inside it that
                              is no feature was left out on purpose (ids, text, excluded) */
    uint32_t ntrain_columns;
    /* how it was trained */
    uint32_t trees, mtry, min_leaf, max_depth;
    uint8_t balanced;
    uint64_t seed;
    /* what it predicts */
    char *target, *positive, *negative; /* positive, negative: joined, for messages */
    char **pos_labels, **neg_labels;    /* every label of each class, as in the file */
    uint32_t npos_labels, nneg_labels;
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
    /* the trees each of those rows was drawn into (version 2; NULL before):
     * noob x inbag_bytes, bit i of byte i / 8 for tree i; copies of a row
     * (equal keys) keep the first copy's set; every set leaves at least one
     * tree out, and oob_raw is the mean of the trees it leaves out */
    uint32_t inbag_bytes;
    uint8_t *inbag;
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

/* The index of key among the stored training rows, or m->noob when absent. */
uint64_t model_oob_find(const struct model *m, uint64_t key);

/* The in-bag set of stored training row i (< m->noob), or NULL when the model
 * keeps none (version 1). */
const uint8_t *model_inbag(const struct model *m, uint64_t i);

/* Set fo's reading options to those training used, as far as the model
 * knows them: today the missing-value tokens (left alone for a version 1
 * model). Pointers stay valid while m lives. A user's explicit option
 * should win: call this only for what the user did not give. (The decimal
 * mark is kept in m->decimal_comma; the reader derives its own from the
 * delimiter and numeric features accept either mark.) */
void model_frame_opts(const struct model *m, struct frame_opts *fo);

#endif
