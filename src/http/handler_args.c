/*
 * handler_args.c — strict readers for JSON body fields and query parameters
 * (see handler_args.h).
 *
 * A client that sends {"trees": "100"} or ?limit=abc learns exactly which
 * field is wrong and what it must be, instead of a default silently taking
 * its place: an API that quietly ignores a misspelt option trains a model
 * the caller did not ask for.
 */
#include "http/handler_args.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int args_fail(struct args *a, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_error(a->rs, a->style, a->status, LS_EINPUT, msg);
    return -1;
}

static int key_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(key, allowed[i]) == 0)
            return 1;
    return 0;
}

int args_body(struct args *a, const struct http_req *rq, struct http_resp *rs,
              enum http_style style, int status, const char *const *allowed, int strict)
{
    a->body = NULL;
    a->rs = rs;
    a->style = style;
    a->status = status;
    if (!rq->json)
        return args_fail(a, "the request needs a JSON object body");
    if (!json_is_object(rq->json))
        return args_fail(a, "the JSON body must be an object");
    a->body = rq->json;
    if (!strict)
        return 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rq->json, key, v)
    {
        (void)v;
        if (!key_allowed(key, allowed)) {
            char list[512];
            size_t len = 0;
            list[0] = '\0';
            for (size_t i = 0; allowed[i] && len < sizeof list; i++) {
                int k = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", allowed[i]);
                if (k < 0)
                    break;
                len += (size_t)k;
            }
            /* the key is the client's: cut it so the message stays readable */
            return args_fail(a, "unknown field \"%.*s\" (allowed: %s)", args_utf8_fit(key, 64), key,
                             list);
        }
    }
    return 0;
}

static json_t *field(struct args *a, const char *key)
{
    json_t *v = a->body ? json_object_get(a->body, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

int args_id(struct args *a, const char *key, int required, int64_t *out)
{
    json_t *v = field(a, key);
    *out = 0;
    if (!v)
        return required ? args_fail(a, "field required: %s", key) : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return args_fail(a, "%s must be a positive integer id", key);
    *out = json_integer_value(v);
    return 0;
}

int args_int(struct args *a, const char *key, int64_t min, int64_t max, int64_t *out, int *given)
{
    json_t *v = field(a, key);
    if (given)
        *given = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return args_fail(a, "%s must be an integer from %" PRId64 " to %" PRId64, key, min, max);
    *out = json_integer_value(v);
    if (given)
        *given = 1;
    return 0;
}

int args_bool(struct args *a, const char *key, int *out)
{
    json_t *v = field(a, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return args_fail(a, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int string_fits(const json_t *v, size_t max)
{
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
           strlen(json_string_value(v)) == json_string_length(v); /* no NUL inside */
}

static int string_ok(const json_t *v)
{
    return string_fits(v, ARGS_STRING_MAX);
}

int args_string_max(struct args *a, const char *key, int required, size_t max, const char **out)
{
    json_t *v = field(a, key);
    *out = NULL;
    if (max > ARGS_STRING_MAX)
        max = ARGS_STRING_MAX;
    if (!v)
        return required ? args_fail(a, "field required: %s", key) : 0;
    if (!string_fits(v, max))
        return args_fail(a, "%s must be a non-empty string of at most %zu bytes", key, max);
    *out = json_string_value(v);
    return 0;
}

int args_string(struct args *a, const char *key, int required, const char **out)
{
    return args_string_max(a, key, required, ARGS_STRING_MAX, out);
}

int args_strings(struct args *a, const char *key, const char **out, size_t max, size_t *n)
{
    json_t *v = field(a, key);
    *n = 0;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return args_fail(a, "%s must be an array of column names", key);
    if (json_array_size(v) > max)
        return args_fail(a, "%s holds %zu names; at most %zu", key, json_array_size(v), max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!string_ok(s))
            return args_fail(a, "%s[%zu] must be a non-empty string of at most %d bytes", key, i,
                             ARGS_STRING_MAX);
        out[i] = json_string_value(s);
    }
    *n = json_array_size(v);
    return 0;
}

int args_query_u64(struct args *a, const struct http_req *rq, const char *name, uint64_t min,
                   uint64_t max, uint64_t def, uint64_t *out)
{
    const char *v = http_param(rq, name);
    *out = def;
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    /* strtoull takes a sign and spaces: only plain digits are an integer here */
    if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' || x < min || x > max)
        return args_fail(a, "parameter %s must be an integer from %" PRIu64 " to %" PRIu64, name,
                         min, max);
    *out = (uint64_t)x;
    return 0;
}

int args_utf8_fit(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n < max || s[n] == '\0')
        return (int)n;
    /* cut before the sequence that straddles max: back over continuation bytes */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

int args_service_error(struct http_resp *rs, enum http_style style, const struct ls_error *err)
{
    if (err->code == LS_EBUSY)
        rs->retry_after = ARGS_RETRY_AFTER_S;
    return http_error_ls(rs, style, err);
}

int args_dataset_add(struct http_req *rq, struct http_resp *rs, enum http_style style, json_t **out)
{
    struct ls_error err = {0};
    if (!rq->upload) {
        http_error(rs, style, 400, LS_EINPUT, "a multipart/form-data field \"file\" is needed");
        return -1;
    }
    struct service_upload u = {
        .tmp_path = rq->upload->tmp_path,
        .filename = rq->upload->filename,
        .fingerprint = rq->upload->fingerprint,
        .bytes = rq->upload->bytes,
    };
    if (service_dataset_add(rq->svc, &u, out, &err) != 0) {
        args_service_error(rs, style, &err);
        return -1;
    }
    return 0;
}
