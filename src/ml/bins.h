/*
 * bins.h — the model's view of its input: features and their bins.
 *
 * Every feature becomes a uint8 code per row, column-major, with bin 0
 * meaning missing and bins 1..nbins its values:
 *
 *   numeric, boolean, datetime   up to 255 quantile bins; a value v falls in
 *                                bin 1 + #{thresholds t : v > t}
 *   categorical                  one bin per category, most frequent first;
 *                                past 254 categories the 253 most frequent
 *                                keep their bins and the rest share an
 *                                "(other)" bin (254 value bins at most), so
 *                                that code 255 is free for BINS_UNSEEN
 *
 * The schema (struct bin_schema) is fitted once on the training frame and
 * saved in the model. bins_apply maps any frame to it by column name and by
 * raw text — never by the new file's own inferred types — so training and
 * scoring read values the same way. A category the model never saw takes
 * BINS_UNSEEN (the trees treat it as unknown: docs/model.md, "Unknown
 * values") — except that it goes to the "(other)" bin of a feature that has
 * one (rare training categories live there, and what the trees learned for
 * them applies). Unreadable values (text in a numeric column) take the
 * missing bin. Both are counted.
 */
#ifndef LS_ML_BINS_H
#define LS_ML_BINS_H

#include "core/err.h"
#include "data/frame.h"

#include <stdint.h>

#define BINS_MAX     255 /* value bins per feature (plus bin 0, missing) */
#define BINS_MISSING 0
#define BINS_UNSEEN  255 /* categorical: a category the model never saw */
#define BINS_CAT_MAX 254 /* value bins of a categorical feature fitted now */

enum feat_kind { FEAT_NUMERIC, FEAT_BOOLEAN, FEAT_DATETIME, FEAT_CATEGORICAL };

struct feature {
    char *name;
    enum feat_kind kind;
    uint8_t date_fmt;               /* FEAT_DATETIME: enum date_fmt */
    uint16_t nbins;                 /* value bins, 1..BINS_MAX */
    double *thresholds;             /* numeric kinds: nbins - 1 ascending cut points */
    char **cats;                    /* categorical: label of bin k+1 */
    uint8_t has_other;              /* categorical: the last bin is "(other)" */
    char *true_label, *false_label; /* boolean: how the training file wrote them */
    /* training profile: share of training rows in each bin (nbins + 1) */
    double *train_share;
};

struct bin_schema {
    size_t nfeat;
    struct feature *feat;
};

/* Per-feature findings of bins_apply (for warnings and drift). */
struct bin_report {
    size_t nfeat;
    long *col;            /* frame column used, -1 when absent */
    uint64_t *unseen;     /* cells with a category the model never saw */
    uint64_t *unreadable; /* cells that could not be read as the feature's kind */
    uint64_t *missing;    /* cells in the missing bin (absent column: all rows) */
};

/* The name of a kind ("numeric", ...). */
const char *feat_kind_name(enum feat_kind k);

/*
 * Fit a schema on frame f from the columns cols[0..ncols) (numeric, boolean,
 * datetime or categorical), using the rows where use[r] is 1 (NULL: all).
 */
void bins_fit(const struct frame *f, const size_t *cols, size_t ncols, const uint8_t *use,
              struct bin_schema *s);
void bins_schema_cleanup(struct bin_schema *s);

/*
 * Map frame f onto schema s: writes X (nfeat * nrows bytes, feature-major,
 * caller-allocated) and fills rep (caller frees with bins_report_cleanup).
 */
void bins_apply(const struct bin_schema *s, const struct frame *f, uint8_t *X,
                struct bin_report *rep);
void bins_report_cleanup(struct bin_report *rep);

/* Lookup tables for reading raw text onto a schema: per categorical feature,
 * its categories (trimmed, lower-cased) to bins. Build once, read from any
 * thread. */
struct bins_index {
    size_t nfeat;
    struct dict *cats; /* per feature; empty for non-categorical ones */
    uint8_t **bin_of;  /* per feature: dict entry -> bin */
};

void bins_index_build(const struct bin_schema *s, struct bins_index *ix);
void bins_index_cleanup(struct bins_index *ix);

/*
 * The bin of one raw cell for feature j. *how: 0 read, 1 an unseen category
 * (bins_unseen_code), 2 unreadable as the feature's kind (the missing bin).
 * Missing tokens are not recognised here: pass NULL text for a missing value.
 */
uint8_t bins_value(const struct bin_schema *s, const struct bins_index *ix, size_t j,
                   const char *text, size_t len, int decimal_comma, int *how);

/* The code an unseen category of ft takes: BINS_UNSEEN, or BINS_MISSING for a
 * categorical feature of an older model whose 255 value bins leave no free
 * code (it has no "(other)" bin: exactly 255 categories). */
uint8_t bins_unseen_code(const struct feature *ft);

/* Fill each feature's train_share from X over the rows where use[r] (NULL: all). */
void bins_profile(struct bin_schema *s, const uint8_t *X, uint64_t nrows, const uint8_t *use);

/* A human description of bin b of feature ft ("≤ 12.5", "12.5 – 20", "Google", "missing",
 * "(new value)" for BINS_UNSEEN). */
void bins_describe(const struct feature *ft, unsigned b, char *out, size_t cap);

#endif
