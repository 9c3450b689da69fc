/*
 * gemini.c — Gemini's wire format (Generative Language API v1beta).
 *
 * Request: POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse
 * with the key in the x-goog-api-key header (a header, not ?key=, so it is
 * never part of a URL that could be logged), our instructions in
 * systemInstruction and the conversation in contents (role "user" or
 * "model"). Each SSE event, like the body of :generateContent, is one
 * GenerateContentResponse: candidates[0].content.parts[].text hold the
 * text, finishReason says why it ended, promptFeedback.blockReason says a
 * prompt was refused, and {"error": {code, message, status}} a failure.
 * Without alt=sse the stream is one JSON array of those objects, which is
 * read too.
 */
#include "llm/llm_internal.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static json_t *text_parts(const char *text)
{
    json_t *s = json_string(text);
    if (!s)
        return NULL;
    return json_pack("[{s:o}]", "text", s);
}

int gemini__request(const struct llm_provider_config *p, const struct llm_request *rq,
                    struct llm__req *out, struct ls_error *err)
{
    json_t *root = json_object(), *contents = json_array(), *parts = NULL;
    struct buf b;
    int rc = 0;
    buf_init(&b, 4096);
    memset(out, 0, sizeof *out);
    if (rq->system && rq->system[0]) {
        if (!(parts = text_parts(rq->system))) {
            rc = ls_error_set(err, LS_EINPUT, "the instructions are not UTF-8");
            goto out;
        }
        json_object_set_new(root, "systemInstruction", json_pack("{s:o}", "parts", parts));
    }
    for (size_t i = 0; i < rq->nmsg; i++) {
        const struct llm_msg *m = &rq->msg[i];
        const char *role = m->role && strcmp(m->role, "assistant") == 0 ? "model"
                           : m->role && strcmp(m->role, "user") == 0    ? "user"
                                                                        : NULL;
        if (!role) {
            rc = ls_error_set(err, LS_EINPUT, "message %zu: role must be user or assistant", i);
            goto out;
        }
        if (!(parts = text_parts(m->text ? m->text : ""))) {
            rc = ls_error_set(err, LS_EINPUT, "message %zu is not UTF-8", i);
            goto out;
        }
        json_array_append_new(contents, json_pack("{s:s,s:o}", "role", role, "parts", parts));
    }
    json_object_set(root, "contents", contents);
    if (rq->json)
        json_object_set_new(root, "generationConfig",
                            json_pack("{s:s}", "responseMimeType", "application/json"));
    out->body = json_dumps(root, JSON_COMPACT);
    if (buf_printf(&b, "%s/v1beta/models/%s:streamGenerateContent?alt=sse", p->base_url,
                   p->model)) {
        rc = ls_error_set(err, LS_ELIMIT, "the provider URL is too long");
        goto out;
    }
    out->url = buf_take(&b);
    out->headers = curl_slist_append(out->headers, "Content-Type: application/json");
    out->headers = curl_slist_append(out->headers, "Accept: text/event-stream");
    char h[300];
    snprintf(h, sizeof h, "x-goog-api-key: %s", p->api_key);
    out->headers = curl_slist_append(out->headers, h);
    memset(h, 0, sizeof h);
out:
    if (rc) {
        free(out->body);
        curl_slist_free_all(out->headers);
        memset(out, 0, sizeof *out);
    }
    buf_cleanup(&b);
    json_decref(contents);
    json_decref(root);
    return rc;
}

static int fail(struct llm__emit *e, const char *fmt, const char *a, const char *b)
{
    char m[sizeof e->why];
    snprintf(m, sizeof m, fmt, a, b);
    llm__clean_text(e->why, sizeof e->why, m, strlen(m));
    return LS_EUPSTREAM;
}

static int parse_one(json_t *o, struct llm__emit *e)
{
    if (!json_is_object(o))
        return fail(e, "not a Gemini response%s%s", "", "");
    json_t *error = json_object_get(o, "error");
    if (error) {
        const char *status = json_string_value(json_object_get(error, "status"));
        const char *msg = json_string_value(json_object_get(error, "message"));
        return fail(e, "error %s: %s", status ? status : "?", msg ? msg : "?");
    }
    json_t *pf = json_object_get(o, "promptFeedback");
    const char *block = json_string_value(json_object_get(pf, "blockReason"));
    if (block)
        return fail(e, "prompt blocked (%s)%s", block, "");
    json_t *cands = json_object_get(o, "candidates");
    if (!json_is_array(cands)) {
        /* a chunk may carry only usage figures; anything else is not Gemini */
        if (json_object_get(o, "usageMetadata") || pf)
            return 0;
        return fail(e, "not a Gemini response (no candidates)%s%s", "", "");
    }
    json_t *c0 = json_array_get(cands, 0);
    json_t *parts = json_object_get(json_object_get(c0, "content"), "parts");
    size_t i;
    json_t *part;
    json_array_foreach(parts, i, part)
    {
        json_t *t = json_object_get(part, "text");
        if (!json_is_string(t) || json_is_true(json_object_get(part, "thought")))
            continue;
        size_t n = json_string_length(t);
        if (n) {
            int rc = e->text(e->ctx, json_string_value(t), n);
            if (rc)
                return rc;
        }
    }
    const char *fin = json_string_value(json_object_get(c0, "finishReason"));
    if (fin) {
        if (strcmp(fin, "STOP") == 0 || strcmp(fin, "MAX_TOKENS") == 0)
            e->done = 1;
        else if (strcmp(fin, "FINISH_REASON_UNSPECIFIED") != 0)
            return fail(e, "stopped by the model (%s)%s", fin, "");
    }
    return 0;
}

int gemini__parse(json_t *obj, struct llm__emit *e)
{
    if (!json_is_array(obj))
        return parse_one(obj, e);
    if (json_array_size(obj) == 0)
        return fail(e, "not a Gemini response (empty array)%s%s", "", "");
    size_t i;
    json_t *o;
    json_array_foreach(obj, i, o)
    {
        int rc = parse_one(o, e);
        if (rc)
            return rc;
    }
    return 0;
}
