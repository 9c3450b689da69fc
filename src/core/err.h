/*
 * err.h — LeadScore's error codes, from one list.
 *
 * Every fallible function returns an int: 0 (LS_OK) on success, a negative
 * LS_E* code on failure. The list below is the single place that names a code,
 * gives its short message and the HTTP status the service will answer with,
 * so the CLI, the library and the server can never disagree about what a
 * failure means. Human detail ("line 812, column 4: unterminated quoted
 * field") goes into a caller-owned struct ls_error, never into a global.
 */
#ifndef LS_CORE_ERR_H
#define LS_CORE_ERR_H

#include <stddef.h>

/* The code list itself is public: LS_ERRORS and enum ls_err live in leadscore.h. */
#include <leadscore.h>

/* Detail of the last failure, owned by the caller (usually on its stack). */
struct ls_error {
    int code;
    char msg[512];
};

/* The short, fixed message of a code ("limit exceeded"); never NULL. */
const char *ls_err_name(int code);

/* The code's symbolic name without prefix ("LIMIT"), for JSON error codes. */
const char *ls_err_symbol(int code);

/* The HTTP status that code maps to (500 for unknown codes). */
int ls_err_http_status(int code);

/*
 * Record a failure: writes code and a printf-formatted detail into err (which
 * may be NULL) and returns code, so callers can write
 * `return ls_error_set(err, LS_EINPUT, "line %zu: ...", line);`.
 */
int ls_error_set(struct ls_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear an error record to "no error". */
void ls_error_clear(struct ls_error *err);

#endif
