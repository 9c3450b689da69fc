/*
 * fuzz_http.c — libFuzzer target for the HTTP request layer's pure parts:
 * route matching against the real route table, query strings and JSON
 * bodies (src/http/route.c, json.c), and the error bodies built from
 * client text.
 *
 * An input is "M PATH?QUERY\nBODY": the first byte picks the method, the
 * first line is the request target, the rest the body. Every input must
 * give a match or a clean LS_E* code; the checks below state what a
 * success promises (ids positive, values within limits and valid UTF-8, a
 * parsed body that dumps again); ASan and UBSan catch the rest.
 */
#include "http/handlers.h"
#include "http/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum http_method methods[] = {HTTP_GET,   HTTP_POST,    HTTP_DELETE, HTTP_PUT,
                                               HTTP_PATCH, HTTP_OPTIONS, HTTP_HEAD,   HTTP_GET};
    if (size == 0)
        return 0;
    enum http_method m = methods[data[0] & 7];
    data++, size--;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    char *target = malloc(tlen + 1);
    memcpy(target, data, tlen);
    target[tlen] = '\0'; /* a NUL inside ends the C string early, as it would in a server */
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t blen = nl ? size - tlen - 1 : 0;

    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    const struct http_route *route = NULL;
    int64_t ids[2] = {0, 0};
    size_t nids = 0;
    unsigned allowed = 0;
    int rc = http_route_match(http_routes, m, target, &route, ids, &nids, &allowed);
    if (rc == 0) {
        check(route && (route->methods & (unsigned)m) && nids <= 2);
        for (size_t i = 0; i < nids; i++)
            check(ids[i] > 0);
    } else {
        check(rc == LS_ENOT_FOUND || (rc == LS_EMETHOD && allowed != 0));
    }

    struct http_param params[HTTP_PARAMS_MAX];
    size_t n = 0;
    struct ls_error err;
    ls_error_clear(&err);
    rc = http_query_parse(q, params, &n, &err);
    if (rc == 0) {
        check(n <= HTTP_PARAMS_MAX);
        for (size_t i = 0; i < n; i++) {
            size_t vl = strlen(params[i].value);
            check(vl <= HTTP_PARAM_MAX && strlen(params[i].name) <= HTTP_PARAM_MAX);
            check(http__utf8_valid((const unsigned char *)params[i].value, vl));
        }
        struct http_req rq = {0};
        memcpy(rq.params, params, n * sizeof params[0]);
        rq.nparams = n;
        (void)http_param(&rq, "limit");
        http_params_cleanup(params, n);
    } else {
        check(rc == LS_EINPUT || rc == LS_ELIMIT);
    }

    json_t *j = NULL;
    ls_error_clear(&err);
    rc = http_json_parse(body, blen, &j, &err);
    if (rc == 0) {
        char *s = json_dumps(j, JSON_REAL_PRECISION(10) | JSON_COMPACT | JSON_ENCODE_ANY);
        check(s != NULL);
        free(s);
        json_decref(j);
    } else {
        check(rc == LS_EINPUT || rc == LS_ELIMIT);
        /* the error body echoes client text: it must always encode */
        struct http_resp rs = {0};
        http_error(&rs, (blen & 1) ? HTTP_STYLE_COMPAT : HTTP_STYLE_API, 0, rc, target);
        check(rs.json != NULL);
        json_decref(rs.json);
    }
    free(target);
    return 0;
}
