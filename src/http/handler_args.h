/*
 * handler_args.h — reading a handler's arguments strictly: the fields of a
 * JSON body and the query parameters.
 *
 * Every reader checks type and range and, on a bad value, fills the
 * response with an error that names the field or parameter and what it
 * must be ("trees must be an integer from 1 to 2000"), in the route's
 * style and with the status the caller chose (400 under /api/, 422 on the
 * old routes as FastAPI answered a bad body). They return 0 when the value
 * is good (or absent and optional) and -1 after filling the error, so a
 * handler reads `if (args_id(&a, "dataset_id", 1, &id) != 0) goto out;`.
 * Strings come back borrowed from the request's JSON, which outlives the
 * handler call.
 */
#ifndef LS_HTTP_HANDLER_ARGS_H
#define LS_HTTP_HANDLER_ARGS_H

#include "http/http.h"

#include <stdint.h>

#define ARGS_STRING_MAX 1024 /* bytes of a name-like string field */

struct args {
    const json_t *body;    /* the JSON object (NULL: none yet) */
    struct http_resp *rs;  /* where errors go */
    enum http_style style; /* how they read */
    int status;            /* their status (400 or 422) */
};

/* Fill a's response with an error (status a->status) and return -1. */
int args_fail(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Start reading rq's JSON body: it must be an object whose keys are all in
 * allowed (NULL-terminated). strict 0 ignores unknown keys (the old routes,
 * like FastAPI); strict 1 rejects the first one, naming it and the allowed.
 */
int args_body(struct args *a, const struct http_req *rq, struct http_resp *rs,
              enum http_style style, int status, const char *const *allowed, int strict);

/* A positive integer id; absent or null: *out = 0 (an error when required). */
int args_id(struct args *a, const char *key, int required, int64_t *out);
/* An integer in [min, max]; absent or null: *out untouched, *given 0. */
int args_int(struct args *a, const char *key, int64_t min, int64_t max, int64_t *out, int *given);
/* A boolean; absent or null: *out untouched. */
int args_bool(struct args *a, const char *key, int *out);
/* A non-empty string of at most ARGS_STRING_MAX bytes; absent or null: *out NULL. */
int args_string(struct args *a, const char *key, int required, const char **out);
/* The same with a ceiling of max bytes (at most ARGS_STRING_MAX). */
int args_string_max(struct args *a, const char *key, int required, size_t max, const char **out);
/* An array of at most max such strings (borrowed into out[]). */
int args_strings(struct args *a, const char *key, const char **out, size_t max, size_t *n);

/* Query parameter name as an unsigned integer in [min, max] (default def). */
int args_query_u64(struct args *a, const struct http_req *rq, const char *name, uint64_t min,
                   uint64_t max, uint64_t def, uint64_t *out);

/* The bytes of the longest prefix of s, at most max, that does not cut a
 * UTF-8 sequence: for quoting a client's name in a message ("%.*s") that
 * must stay valid UTF-8 (jansson refuses anything else). */
int args_utf8_fit(const char *s, size_t max);

/* Fill rs from err (http_error_ls in style), with Retry-After when the
 * worker pool was full (LS_EBUSY). Returns 0. */
int args_service_error(struct http_resp *rs, enum http_style style, const struct ls_error *err);

/* Hand the request's streamed upload to service_dataset_add: 0 with *out
 * (the data set's answer, caller owns), or -1 with rs filled in style (400
 * when the request had no "file" field, else the service's error). */
int args_dataset_add(struct http_req *rq, struct http_resp *rs, enum http_style style,
                     json_t **out);

#define ARGS_RETRY_AFTER_S 2 /* seconds a client waits after a 503 */

#endif
