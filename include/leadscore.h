/*
 * leadscore.h — the public C API of libleadscore.
 *
 * LeadScore learns from the leads whose outcome is known and scores the rest.
 * This header is the whole public surface: opaque structs created with
 * ls_*_open / ls_*_new and released with ls_*_free, int return codes (0 on
 * success, a negative LS_E* code on failure, with a human message written
 * into a caller-supplied buffer), and strings returned to the caller freed
 * with ls_free.
 *
 * So far: reading and profiling a CSV of leads (ls_dataset). The forest,
 * scoring and explanations join as they land.
 */
#ifndef LEADSCORE_H
#define LEADSCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LS_VERSION_MAJOR  0
#define LS_VERSION_MINOR  1
#define LS_VERSION_PATCH  0
#define LS_VERSION_STRING "0.1.0"

/* Symbols exported from libleadscore.so (everything else is hidden). */
#if defined(LS_BUILDING_SHARED)
#define LS_API __attribute__((visibility("default")))
#else
#define LS_API
#endif

/*
 * The error codes, from one list: X(name, message, http_status). The codes
 * are LS_E<name>, negative; LS_OK is 0.
 */
#define LS_ERRORS(X)                                                                               \
    X(NOMEM, "out of memory", 500)                                                                 \
    X(IO, "input/output error", 500)                                                               \
    X(USAGE, "bad usage", 400)                                                                     \
    X(INPUT, "bad input", 400)                                                                     \
    X(LIMIT, "limit exceeded", 413)                                                                \
    X(ENCODING, "unsupported encoding", 415)                                                       \
    X(EMPTY, "no data", 422)                                                                       \
    X(NO_TARGET, "no target column", 422)                                                          \
    X(ONE_CLASS, "target has one class", 422)                                                      \
    X(NOT_FOUND, "not found", 404)                                                                 \
    X(BUSY, "busy, try again shortly", 503)                                                        \
    X(AUTH, "unauthorized", 401)                                                                   \
    X(METHOD, "method not allowed", 405)                                                           \
    X(MEDIA, "unsupported media type", 415)                                                        \
    X(LENGTH, "length required", 411)                                                              \
    X(CONFLICT, "conflict", 409)                                                                   \
    X(STORE, "store error", 500)                                                                   \
    X(UPSTREAM, "language model failed", 502)                                                      \
    X(CANCELED, "cancelled", 499)

enum ls_err {
    LS_OK = 0,
    LS__ERR_FIRST = -100,
#define LS__ERR_ENUM(name, msg, status) LS_E##name,
    LS_ERRORS(LS__ERR_ENUM)
#undef LS__ERR_ENUM
        LS__ERR_END
};

/* The library's version, "MAJOR.MINOR.PATCH". */
LS_API const char *ls_version(void);

/* The short message of an error code ("limit exceeded"); never NULL. */
LS_API const char *ls_strerror(int code);

/* Free a string the library returned. */
LS_API void ls_free(void *p);

/* How a CSV is read. Initialise with ls_read_options_init, then adjust. */
struct ls_read_options {
    uint64_t max_bytes;     /* default 200 MB */
    uint64_t max_rows;      /* default 5,000,000 */
    size_t max_columns;     /* default 2,000 */
    size_t max_field_bytes; /* default 64 KB */
    char delimiter;         /* 0: sniff among , ; TAB | */
    /* Tokens read as missing (NULL-terminated, case-insensitive); NULL for the
     * default list: "", NA, N/A, #N/A, null, None, nan, -, Select. */
    const char *const *missing_tokens;
    /* The outcome column; NULL to detect it. */
    const char *target;
};

LS_API void ls_read_options_init(struct ls_read_options *o);

/* A CSV of leads read into a typed, profiled table. */
struct ls_dataset;

/*
 * Read and profile the CSV at path (or in memory). On success *out is a new
 * dataset to release with ls_dataset_free. On failure returns an LS_E* code
 * and writes a message naming the problem (with line and column where there
 * is one) into errbuf (errcap bytes; may be NULL). A missing or ambiguous
 * target is not a failure here: see ls_dataset_target.
 */
LS_API int ls_dataset_open(const char *path, const struct ls_read_options *o,
                           struct ls_dataset **out, char *errbuf, size_t errcap);
LS_API int ls_dataset_open_mem(const void *data, size_t len, const struct ls_read_options *o,
                               struct ls_dataset **out, char *errbuf, size_t errcap);
LS_API void ls_dataset_free(struct ls_dataset *d);

LS_API uint64_t ls_dataset_rows(const struct ls_dataset *d);
LS_API size_t ls_dataset_columns(const struct ls_dataset *d);
/* Column name and type ("numeric", "boolean", "categorical", "datetime",
 * "identifier", "text", "constant"); owned by d. NULL when i is out of range. */
LS_API const char *ls_dataset_column_name(const struct ls_dataset *d, size_t i);
LS_API const char *ls_dataset_column_type(const struct ls_dataset *d, size_t i);

/*
 * The target column's name and positive class (owned by d), or NULL when no
 * target was found; then the return of ls_dataset_target_error says why.
 */
LS_API const char *ls_dataset_target(const struct ls_dataset *d, const char **positive);
LS_API const char *ls_dataset_target_error(const struct ls_dataset *d, int *code);

/* The profile as a JSON object (see `leadscore inspect --json`); free with ls_free. */
LS_API char *ls_dataset_profile_json(const struct ls_dataset *d);

/* A trained model (see `leadscore train`). */
struct ls_model;

/* Load a model file; refuses foreign, truncated, corrupted or other-version
 * files with a message in errbuf. Release with ls_model_free. */
LS_API int ls_model_load(const char *path, struct ls_model **out, char *errbuf, size_t errcap);
LS_API void ls_model_free(struct ls_model *m);

/* The model's features, in the order ls_model_score_lead takes values. */
LS_API size_t ls_model_features(const struct ls_model *m);
LS_API const char *ls_model_feature_name(const struct ls_model *m, size_t i);

/*
 * Score one lead. values[i] is the lead's raw text for feature i (NULL, an
 * empty string or a missing token such as "NA" or "Select" for a missing
 * value). Writes the calibrated likelihood (0..100), the forest's raw
 * probability x 100 and the tier ("High", "Medium", "Low"; static strings);
 * any output pointer may be NULL. Allocates nothing; safe to call from many
 * threads on one model.
 */
LS_API int ls_model_score_lead(const struct ls_model *m, const char *const *values, double *score,
                               double *raw, const char **tier);

#ifdef __cplusplus
}
#endif

#endif
