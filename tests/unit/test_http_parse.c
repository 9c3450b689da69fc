/*
 * test_http_parse.c — the HTTP layer's pure parts: route matching, query
 * strings, JSON bodies and error bodies (src/http/route.c, json.c).
 *
 * Those files live in the leadscore binary, not the library, so the test
 * compiles them in; a route table of its own keeps the handlers (and the
 * service behind them) out.
 */
#include "testutil.h"

#include "http/json.c"
#include "http/route.c"

static int h_a(struct http_req *rq, struct http_resp *rs)
{
    (void)rq, (void)rs;
    return 0;
}
static int h_b(struct http_req *rq, struct http_resp *rs)
{
    (void)rq, (void)rs;
    return 0;
}

static const struct http_route table[] = {
    {HTTP_GET, "/api/runs", h_a, HTTP_BODY_NONE, HTTP_STYLE_API, 0},
    {HTTP_POST, "/api/runs", h_b, HTTP_BODY_JSON, HTTP_STYLE_API, 0},
    {HTTP_GET | HTTP_DELETE, "/api/runs/{id}", h_a, HTTP_BODY_NONE, HTTP_STYLE_API, 0},
    {HTTP_GET, "/api/runs/{id}/leads/{row}", h_b, HTTP_BODY_NONE, HTTP_STYLE_API, 0},
    {0, NULL, NULL, HTTP_BODY_NONE, HTTP_STYLE_API, 0},
};

static int match(enum http_method m, const char *path, const struct http_route **r, int64_t ids[2],
                 size_t *n, unsigned *allowed)
{
    return http_route_match(table, m, path, r, ids, n, allowed);
}

static void test_routes(void **state)
{
    (void)state;
    const struct http_route *r = NULL;
    int64_t ids[2];
    size_t n = 9;
    unsigned allowed = 0;
    assert_int_equal(match(HTTP_GET, "/api/runs", &r, ids, &n, &allowed), 0);
    assert_ptr_equal(r, &table[0]);
    assert_int_equal(n, 0);
    assert_int_equal(match(HTTP_POST, "/api/runs", &r, ids, &n, &allowed), 0);
    assert_ptr_equal(r, &table[1]);
    assert_int_equal(match(HTTP_DELETE, "/api/runs/42", &r, ids, &n, &allowed), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 42);
    assert_int_equal(match(HTTP_GET, "/api/runs/7/leads/9223372036854775807", &r, ids, &n, NULL),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 7);
    assert_true(ids[1] == INT64_MAX);
    static const char *const not_found[] = {
        "/api/runs/",
        "/api/runs/0",
        "/api/runs/01",
        "/api/runs/-1",
        "/api/runs/+1",
        "/api/runs/1e3",
        "/api/runs/0x10",
        "/api/runs/abc",
        "/api/runs/1/",
        "/api/runs//1",
        "/API/runs",
        "api/runs",
        "",
        "/api/runs/9223372036854775808",
        "/api/runs/12345678901234567890",
        "/api/runs/../runs",
        "/api/runs/1/leads",
        "/api/runs/1/leads/x",
    };
    for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++)
        if (match(HTTP_GET, not_found[i], &r, ids, &n, &allowed) != LS_ENOT_FOUND)
            fail_msg("'%s' matched", not_found[i]);
    assert_int_equal(match(HTTP_GET, NULL, &r, ids, &n, &allowed), LS_ENOT_FOUND);
    allowed = 0;
    assert_int_equal(match(HTTP_PUT, "/api/runs", &r, ids, &n, &allowed), LS_EMETHOD);
    assert_int_equal(allowed, HTTP_GET | HTTP_POST);
    assert_int_equal(match(HTTP_POST, "/api/runs/3", &r, ids, &n, &allowed), LS_EMETHOD);
    assert_int_equal(allowed, HTTP_GET | HTTP_DELETE);
    char long_path[HTTP_PATH_MAX + 20] = "/api/runs/";
    memset(long_path + 10, 'a', HTTP_PATH_MAX);
    long_path[HTTP_PATH_MAX + 10] = '\0';
    assert_int_equal(match(HTTP_GET, long_path, &r, ids, &n, &allowed), LS_ENOT_FOUND);
}

static void test_query(void **state)
{
    (void)state;
    struct http_param p[HTTP_PARAMS_MAX];
    size_t n = 0;
    struct ls_error err;
    assert_int_equal(http_query_parse("a=1&b=x%20y+z&&c&d=%C3%A9&", p, &n, &err), 0);
    assert_int_equal(n, 4);
    struct http_req rq = {0};
    memcpy(rq.params, p, sizeof p);
    rq.nparams = n;
    assert_string_equal(http_param(&rq, "a"), "1");
    assert_string_equal(http_param(&rq, "b"), "x y z");
    assert_string_equal(http_param(&rq, "c"), "");
    assert_string_equal(http_param(&rq, "d"), "\xc3\xa9");
    assert_null(http_param(&rq, "e"));
    http_params_cleanup(p, n);
    assert_int_equal(http_query_parse(NULL, p, &n, &err), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {"a=%zz", "a=%4",     "a=%",         "a=1%00",  "%00=1",
                                      "a=%ff", "a=%c3%28", "a=%ed%a0%80", "a=%c0%80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        if (http_query_parse(bad[i], p, &n, &err) != LS_EINPUT)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(n, 99); /* written only on success */
    }
    char many[HTTP_PARAMS_MAX * 8 + 16] = "";
    for (int i = 0; i <= HTTP_PARAMS_MAX; i++) {
        size_t k = strlen(many);
        snprintf(many + k, sizeof many - k, "%sp%d=1", i ? "&" : "", i);
    }
    assert_int_equal(http_query_parse(many, p, &n, &err), LS_ELIMIT);
    char big[HTTP_PARAM_MAX + 8] = "q=";
    memset(big + 2, 'x', HTTP_PARAM_MAX);
    big[HTTP_PARAM_MAX + 2] = '\0';
    assert_int_equal(http_query_parse(big, p, &n, &err), 0); /* exactly the limit */
    http_params_cleanup(p, n);
    big[HTTP_PARAM_MAX + 2] = 'x';
    big[HTTP_PARAM_MAX + 3] = '\0';
    assert_int_equal(http_query_parse(big, p, &n, &err), LS_ELIMIT);
}

static void test_json(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct ls_error err;
    assert_int_equal(http_json_parse("{", 1, &j, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "line 1, column"));
    const char *two = "{\n \"a\": 1,\n \"b\": x}";
    assert_int_equal(http_json_parse(two, strlen(two), &j, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "line 3"));
    const char *dup = "{\"a\": 1, \"a\": 2}";
    assert_int_equal(http_json_parse(dup, strlen(dup), &j, &err), LS_EINPUT);
    const char *nul = "{\"a\": \"x\\u0000y\"}";
    assert_int_equal(http_json_parse(nul, strlen(nul), &j, &err), LS_EINPUT);
    /* said plainly, without jansson's flag name */
    assert_non_null(strstr(err.msg, "a NUL character (\\u0000) is not allowed"));
    assert_null(strstr(err.msg, "JSON_ALLOW_NUL"));
    assert_int_equal(http_json_parse("{\"a\":\0}", 7, &j, &err), LS_EINPUT);
    assert_int_equal(http_json_parse("\"\xff\"", 3, &j, &err), LS_EINPUT);
    assert_int_equal(http_json_parse("", 0, &j, &err), LS_EINPUT);
    char deep[200];
    for (int d = 63; d <= 66; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        int rc = http_json_parse(deep, 2 * (size_t)d, &j, &err);
        if (d <= HTTP_JSON_DEPTH) {
            assert_int_equal(rc, 0);
            json_decref(j);
        } else {
            assert_int_equal(rc, LS_EINPUT);
            assert_non_null(strstr(err.msg, "nested"));
        }
    }
    /* brackets and an escaped quote inside a string are not nesting */
    const char *str =
        "{\"a\": \"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    assert_int_equal(http_json_parse(str, strlen(str), &j, &err), 0);
    json_decref(j);
    assert_int_equal(http_json_parse("5", 1, &j, &err), 0);
    assert_int_equal(json_integer_value(j), 5);
    json_decref(j);
    size_t big = HTTP_JSON_MAX + 1;
    char *b = malloc(big);
    memset(b, ' ', big);
    assert_int_equal(http_json_parse(b, big, &j, &err), LS_ELIMIT);
    free(b);
}

static void test_errors(void **state)
{
    (void)state;
    struct http_resp rs = {0};
    http_error(&rs, HTTP_STYLE_API, 0, LS_ENOT_FOUND, "no run 7");
    assert_int_equal(rs.status, 404);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rs.json, "error"), "code")), "NOT_FOUND");
    http_error(&rs, HTTP_STYLE_COMPAT, 422, LS_EINPUT, "bad \xff name \xc3");
    assert_int_equal(rs.status, 422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "detail")), "bad ? name ?");
    http_error(&rs, HTTP_STYLE_API, 0, LS_EBUSY, "busy");
    assert_int_equal(rs.status, 503);
    assert_int_equal(rs.retry_after, 1);
    struct ls_error e;
    ls_error_set(&e, LS_ELIMIT, "too big");
    http_error_ls(&rs, HTTP_STYLE_API, &e);
    assert_int_equal(rs.status, 413);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rs.json, "error"), "message")),
        "too big");
    json_decref(rs.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
