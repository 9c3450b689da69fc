/*
 * csv.h — streaming CSV reader: bytes in, fields out.
 *
 * The reader turns the bytes of a file (or a memory block) into a header and
 * a stream of fields, handling what CRM exports throw at us: a UTF-8 BOM,
 * UTF-16 LE/BE (with a BOM, or recognised by its NUL pattern), lines that are
 * not valid UTF-8 (read as Windows-1252 and converted), delimiters sniffed
 * among , ; TAB |, quoted fields holding delimiters, line breaks and doubled
 * quotes, and LF, CRLF or CR line ends. libcsv does the quote-aware parsing;
 * this wrapper feeds it one physical line at a time so that every error can
 * name its line and column, and it enforces every limit in struct csv_limits.
 *
 * The reader knows nothing about types: it hands each field to a sink
 * (struct csv_sink) by column index; the frame builder is the usual sink.
 */
#ifndef LS_DATA_CSV_H
#define LS_DATA_CSV_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Defaults, documented in the README ("Limits"). */
#define CSV_DEFAULT_MAX_BYTES (200ULL * 1024 * 1024)
#define CSV_DEFAULT_MAX_ROWS  5000000ULL
#define CSV_DEFAULT_MAX_COLS  2000u
#define CSV_DEFAULT_MAX_FIELD (64u * 1024)

struct csv_limits {
    uint64_t max_bytes; /* size of the file */
    uint64_t max_rows;  /* data rows, header excluded */
    size_t max_cols;    /* columns in the header */
    size_t max_field;   /* bytes in one field, after decoding */
};

struct csv_opts {
    struct csv_limits limits;
    char delimiter; /* 0: sniff among , ; \t | */
    /* Parse every line with libcsv, even lines without quotes (tests use it to
     * check the fast path against libcsv). */
    int no_fast_path;
    /* Called now and then with bytes read so far and the total (0 if unknown). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* Fill opts with the defaults above (sniffed delimiter, no progress). */
void csv_opts_default(struct csv_opts *opts);

/*
 * Where the fields go. Each callback returns 0 to go on or an LS_E* code
 * (with detail written to err) to stop the read.
 */
struct csv_sink {
    void *ctx;
    /* Once, with the cleaned header names (owned by the reader; copy them). */
    int (*header)(void *ctx, size_t ncols, const char *const *names, struct ls_error *err);
    /* A field of the current data row, col < ncols; p is not NUL-terminated. */
    int (*field)(void *ctx, size_t col, const char *p, size_t len, struct ls_error *err);
    /* End of a data row that had nfields <= ncols fields (the rest are missing). */
    int (*row)(void *ctx, size_t nfields, struct ls_error *err);
};

/* What the reader found out about the file. */
struct csv_info {
    char encoding[32];            /* "utf-8", "utf-8 (BOM)", "utf-16le", "windows-1252", ... */
    char line_ending[8];          /* "LF", "CRLF", "CR" */
    char delimiter;               /* the one used */
    int delimiter_sniffed;        /* 1 when it was detected, 0 when given */
    int decimal_comma;            /* 1 when numbers may use ',' as decimal mark */
    uint64_t bytes;               /* bytes read from the source */
    uint64_t lines;               /* physical lines */
    uint64_t rows;                /* data rows delivered */
    uint64_t est_rows;            /* estimate from the file size, known when header() runs */
    size_t cols;                  /* header columns */
    uint64_t cp1252_lines;        /* lines converted from Windows-1252 */
    uint64_t utf8_lines;          /* lines holding non-ASCII UTF-8 */
    uint64_t short_rows;          /* rows padded with missing values */
    uint64_t trailing_empty_rows; /* rows whose extra, empty trailing fields were dropped */
    size_t renamed_cols;          /* blank or duplicate header names that were renamed */
};

/*
 * Read a CSV file through sink. Returns 0, or LS_EIO (cannot open/read),
 * LS_ELIMIT (a limit passed; the message names it), LS_EINPUT (malformed:
 * the message names line and column), LS_EENCODING, LS_EEMPTY (no header),
 * or whatever a sink callback returned. info may be NULL.
 */
int csv_read_file(const char *path, const struct csv_opts *opts, const struct csv_sink *sink,
                  struct csv_info *info, struct ls_error *err);

/* The same over a memory block (tests, fuzzing, uploads already in memory). */
int csv_read_mem(const void *data, size_t len, const struct csv_opts *opts,
                 const struct csv_sink *sink, struct csv_info *info, struct ls_error *err);

/*
 * Validate UTF-8: returns 0 when p[0..n) is valid UTF-8 without NUL bytes,
 * 1 when it is not valid UTF-8, 2 when it holds a NUL byte. *non_ascii (may be
 * NULL) is set when a byte >= 0x80 was seen.
 */
int csv_utf8_check(const unsigned char *p, size_t n, int *non_ascii);

#endif
