/*
 * json.c — JSON request bodies in, error bodies out. Pure (no
 * libmicrohttpd): the fuzz target calls http_json_parse directly.
 *
 * jansson has no depth limit of its own below 2048 and recurses per level,
 * so a body's nesting is measured first by a scan that skips string
 * contents; a body deeper than HTTP_JSON_DEPTH never reaches the parser.
 * Duplicate keys are refused (JSON_REJECT_DUPLICATES): two "dataset_id"
 * keys would otherwise mean whichever jansson kept, and the handler and a
 * proxy in front of it could read different requests. jansson itself
 * refuses invalid UTF-8 and \u0000 (no JSON_ALLOW_NUL), which keeps every
 * string a handler sees a valid C string.
 */
#include "http/http.h"
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

/* The deepest nesting of [ and { in p[0..n), strings skipped; stops
 * counting past limit + 1. */
static size_t json_depth(const char *p, size_t n, size_t limit)
{
    size_t depth = 0, max = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

int http_json_parse(const char *body, size_t len, json_t **out, struct ls_error *err)
{
    if (len > HTTP_JSON_MAX)
        return ls_error_set(err, LS_ELIMIT, "JSON body over %u bytes", HTTP_JSON_MAX);
    if (len == 0 || !body)
        return ls_error_set(err, LS_EINPUT, "invalid JSON: empty body");
    if (memchr(body, '\0', len))
        return ls_error_set(err, LS_EINPUT, "invalid JSON: NUL byte in the body");
    if (json_depth(body, len, HTTP_JSON_DEPTH) > HTTP_JSON_DEPTH)
        return ls_error_set(err, LS_EINPUT, "invalid JSON: nested deeper than %d levels",
                            HTTP_JSON_DEPTH);
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j) {
        /* jansson names its own flag here ("... without JSON_ALLOW_NUL"):
         * say what is wrong instead */
        const char *why = strstr(je.text, "JSON_ALLOW_NUL") || strstr(je.text, "\\u0000")
                              ? "a NUL character (\\u0000) is not allowed"
                              : je.text;
        return ls_error_set(err, LS_EINPUT, "invalid JSON at line %d, column %d: %s", je.line,
                            je.column, why);
    }
    *out = j;
    return 0;
}

/* A copy of s fit for a JSON string: invalid UTF-8 bytes become '?', and
 * the text is cut at cap - 1 bytes on a character boundary. */
static void utf8_clean(const char *s, char *out, size_t cap)
{
    size_t k = 0, n = strlen(s);
    for (size_t i = 0; i < n && k + 1 < cap;) {
        size_t len = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0xC0)
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c >= 0x80 && (c < 0xC0 || i + len > n || !http__utf8_valid((const void *)(s + i), len)))
            len = 0; /* not the start of a valid character */
        if (len == 0) {
            out[k++] = '?';
            i++;
            continue;
        }
        if (k + len >= cap)
            break;
        memcpy(out + k, s + i, len);
        k += len, i += len;
    }
    out[k] = '\0';
}

int http_error(struct http_resp *rs, enum http_style style, int status, int code,
               const char *message)
{
    char msg[1024];
    utf8_clean(message ? message : ls_err_name(code), msg, sizeof msg);
    json_decref(rs->json);
    free(rs->body);
    rs->body = NULL;
    rs->body_len = 0;
    rs->status = status > 0 ? status : ls_err_http_status(code);
    if (style == HTTP_STYLE_COMPAT)
        rs->json = json_pack("{s:s}", "detail", msg);
    else
        rs->json = json_pack("{s:{s:s,s:s}}", "error", "code", ls_err_symbol(code), "message", msg);
    if (rs->status == 503 && rs->retry_after <= 0)
        rs->retry_after = 1;
    return 0;
}

int http_error_ls(struct http_resp *rs, enum http_style style, const struct ls_error *err)
{
    return http_error(rs, style, 0, err->code, err->msg[0] ? err->msg : ls_err_name(err->code));
}
