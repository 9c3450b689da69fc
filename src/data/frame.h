/*
 * frame.h — the typed table ingest produces.
 *
 * A frame is a set of columns of equal length. Every column keeps its raw
 * text (a dictionary of distinct strings plus one code per row), so a value
 * can always be shown as the user wrote it; and, by type, a typed view:
 *
 *   numeric, boolean, datetime   double per row (NaN = missing;
 *                                boolean is 0/1, datetime days since 1970)
 *   categorical                  category index per row (FRAME_NA = missing),
 *                                categories sorted by frequency, spellings
 *                                that differ only in case or spaces merged
 *   identifier, text, constant   raw text only (never a model feature)
 *
 * Typing follows ARCHITECTURE.md §3 and is decided once per distinct value,
 * then applied to the rows through a lookup table. The rules and thresholds
 * are in frame.c's comment and in docs/ingest.md.
 */
#ifndef LS_DATA_FRAME_H
#define LS_DATA_FRAME_H

#include "core/err.h"
#include "data/csv.h"
#include "data/dict.h"
#include "data/value.h"

#include <stddef.h>
#include <stdint.h>

#define FRAME_NA                 UINT32_MAX /* missing category / absent cell code */
#define FRAME_TOP_CATEGORIES     10         /* categories listed in a profile */
#define FRAME_MAX_MISSING_TOKENS 64
#define FRAME_NUMERIC_SHARE      0.90 /* filled rows that must be numbers for numeric */
#define FRAME_JUNK_EXAMPLES      3    /* stray non-numbers kept for the warning */

enum col_type {
    COL_NUMERIC,
    COL_BOOLEAN,
    COL_CATEGORICAL,
    COL_DATETIME,
    COL_IDENTIFIER,
    COL_TEXT,
    COL_CONSTANT,
};

/* "numeric", "boolean", ... as used in JSON and the CLI. */
const char *col_type_name(enum col_type t);

struct col_profile {
    uint64_t missing;          /* cells that are empty, a missing token, or absent */
    uint64_t distinct;         /* distinct non-missing values (typed, merged) */
    uint64_t non_numeric;      /* numeric columns: stray non-numbers read as missing */
    double min, max, mean, sd; /* numeric / datetime / boolean */
    double mean_len;           /* mean length of non-missing raw values, bytes */
    uint64_t merged;           /* categorical: spellings merged into another */
    enum date_fmt date_fmt;
    int has_time;
    double integer_share; /* numeric: share of values that are whole numbers */
};

struct column {
    char *name;
    enum col_type type;
    struct dict dict;  /* distinct raw strings */
    uint32_t *codes;   /* per row: dict index, or FRAME_NA when the row was short */
    uint8_t *entry_na; /* per dict entry: 1 when the value counts as missing */
    double *num;       /* numeric / boolean / datetime, else NULL */
    uint32_t *cat;     /* categorical, else NULL */
    uint32_t ncat;
    char **cats; /* category labels (owned), most frequent first */
    uint64_t *cat_count;
    char *true_label, *false_label; /* boolean: the most common spellings */
    /* numeric: the most frequent stray non-numbers read as missing (owned,
     * trimmed; NULL past the last) */
    char *junk_example[FRAME_JUNK_EXAMPLES];
    struct col_profile prof;
};

/* Options of a read: CSV limits plus the missing-value tokens. */
struct frame_opts {
    struct csv_opts csv;
    /* Tokens read as missing (case-insensitive, trimmed); NULL-terminated.
     * NULL means the default list: "", NA, N/A, #N/A, null, None, nan, -, Select. */
    const char *const *missing_tokens;
};

struct frame {
    size_t ncols;
    uint64_t nrows;
    struct column *cols;
    struct csv_info info;
};

void frame_opts_default(struct frame_opts *o);

/* The default missing tokens (NULL-terminated). */
extern const char *const frame_default_missing[];

/*
 * Read and type a CSV file. On success *out is a new frame the caller frees
 * with frame_free. Errors: those of csv_read_file, and LS_EEMPTY when the
 * file has a header but no data rows.
 */
int frame_read_file(const char *path, const struct frame_opts *o, struct frame **out,
                    struct ls_error *err);
int frame_read_mem(const void *data, size_t len, const struct frame_opts *o, struct frame **out,
                   struct ls_error *err);
void frame_free(struct frame *f);

/*
 * The warning a column's typing deserves, written to buf (NUL-terminated, cut
 * at cap): today, a numeric column with stray non-numbers read as missing —
 * its name, the count and up to FRAME_JUNK_EXAMPLES examples. Returns 1 when
 * there is one, 0 (buf untouched) otherwise.
 */
int frame_column_warning(const struct column *c, char *buf, size_t cap);

/* The column named name (exact, then case-insensitive), or -1. */
long frame_find(const struct frame *f, const char *name);

/* The raw text of a cell ("" when the row was short). */
const char *frame_cell(const struct frame *f, size_t col, uint64_t row);

/* 1 when the cell is missing (empty, a missing token, absent, or unparsable). */
int frame_is_missing(const struct frame *f, size_t col, uint64_t row);

#endif
