/*
 * route.c — matching a request to the route table and reading its query
 * string. Pure functions of their arguments (no libmicrohttpd, no service),
 * so the fuzz target (tests/fuzz/fuzz_http.c) drives them directly.
 *
 * A pattern is literal segments and {name} segments; a {name} segment
 * matches a positive decimal integer that fits int64 and has no sign and no
 * leading zero, so an identifier is never anything but digits: "../x",
 * "1e3", "0x10", "01" and "-1" all fail to match and answer 404. Matching is
 * segment by segment on the decoded path, exact (no trailing-slash or case
 * folding), so one path has one meaning.
 *
 * The query string is decoded here rather than by libmicrohttpd, so that
 * the limits (HTTP_PARAMS_MAX parameters, HTTP_PARAM_MAX bytes each) and
 * the refusals (bad escapes, NUL, invalid UTF-8 — handlers put values into
 * JSON, and jansson refuses invalid UTF-8) are ours and are fuzzed.
 */
#include "http/http.h"
#include "http/internal.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The value of a {x} segment s[0..n): 1..INT64_MAX in plain decimal. */
static int segment_id(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 19 || s[0] == '0')
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) /* 19 digits fit uint64 without wrapping */
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Does path match pattern? ids gets the {x} values (at most 2). */
static int pattern_match(const char *pattern, const char *path, int64_t ids[2], size_t *nids)
{
    size_t n = 0;
    const char *p = pattern, *q = path;
    for (;;) {
        if (*p != '/' || *q != '/')
            return 0;
        p++, q++;
        const char *pe = strchr(p, '/'), *qe = strchr(q, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t qlen = qe ? (size_t)(qe - q) : strlen(q);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            int64_t v;
            if (n >= 2 || segment_id(q, qlen, &v) != 0)
                return 0;
            ids[n++] = v;
        } else if (plen != qlen || memcmp(p, q, plen) != 0) {
            return 0;
        }
        p += plen, q += qlen;
        if (*p == '\0' || *q == '\0') {
            if (*p != *q)
                return 0;
            *nids = n;
            return 1;
        }
    }
}

int http_route_match(const struct http_route *routes, enum http_method method, const char *path,
                     const struct http_route **route, int64_t ids[2], size_t *nids,
                     unsigned *allowed)
{
    unsigned methods = 0;
    if (!path || path[0] != '/' || strlen(path) > HTTP_PATH_MAX)
        return LS_ENOT_FOUND;
    for (const struct http_route *r = routes; r && r->pattern; r++) {
        int64_t v[2] = {0, 0};
        size_t k = 0;
        if (!pattern_match(r->pattern, path, v, &k))
            continue;
        if (r->methods & (unsigned)method) {
            *route = r;
            ids[0] = v[0], ids[1] = v[1];
            *nids = k;
            return 0;
        }
        methods |= r->methods;
    }
    if (!methods)
        return LS_ENOT_FOUND;
    if (allowed)
        *allowed = methods;
    return LS_EMETHOD;
}

const char *http_param(const struct http_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (strcmp(rq->params[i].name, name) == 0)
            return rq->params[i].value;
    return NULL;
}

void http_params_cleanup(struct http_param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        free(params[i].value);
        params[i].name = params[i].value = NULL;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http__utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Decode s[0..n) ('+' is a space, %XX a byte) into a fresh string. */
static int decode_part(const char *s, size_t n, char **out, struct ls_error *err)
{
    int rc = 0;
    char *d = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1; /* two hex digits must follow */
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                rc = ls_error_set(err, LS_EINPUT, "query string: bad %% escape");
                goto out;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            rc = ls_error_set(err, LS_EINPUT, "query string: NUL byte");
            goto out;
        }
        d[k++] = c;
    }
    d[k] = '\0';
    if (k > HTTP_PARAM_MAX) {
        rc = ls_error_set(err, LS_ELIMIT, "query string: a value over %u bytes", HTTP_PARAM_MAX);
        goto out;
    }
    if (!http__utf8_valid((const unsigned char *)d, k)) {
        rc = ls_error_set(err, LS_EINPUT, "query string: not UTF-8");
        goto out;
    }
    *out = d;
    d = NULL;
out:
    free(d);
    return rc;
}

int http_query_parse(const char *query, struct http_param *params, size_t *n, struct ls_error *err)
{
    int rc = 0;
    size_t k = 0;
    const char *s = query ? query : "";
    while (*s) {
        const char *e = strchr(s, '&');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len > 0) { /* "a=1&&b=2": empty pairs are skipped */
            if (k >= HTTP_PARAMS_MAX) {
                rc = ls_error_set(err, LS_ELIMIT, "query string: over %u parameters",
                                  HTTP_PARAMS_MAX);
                goto out;
            }
            const char *eq = memchr(s, '=', len);
            size_t nlen = eq ? (size_t)(eq - s) : len;
            params[k].name = params[k].value = NULL;
            if ((rc = decode_part(s, nlen, &params[k].name, err)) != 0)
                goto out;
            if ((rc = decode_part(eq ? eq + 1 : s + len, eq ? len - nlen - 1 : 0, &params[k].value,
                                  err)) != 0) {
                free(params[k].name);
                params[k].name = NULL;
                goto out;
            }
            k++;
        }
        s += len;
        if (*s == '&')
            s++;
    }
    *n = k;
out:
    if (rc)
        http_params_cleanup(params, k);
    return rc;
}
