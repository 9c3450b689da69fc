/*
 * openai.c — the OpenAI-compatible chat-completions wire format, as served
 * by llama.cpp's llama-server and by Ollama (/v1/chat/completions).
 *
 * Request: {model, messages: [{role: system|user|assistant, content}],
 * stream: true}, with response_format {"type": "json_object"} when one JSON
 * object is wanted (both servers then constrain the sampling to JSON).
 * Streamed reply: SSE events whose data is a chat.completion.chunk with the
 * new text in choices[0].delta.content, ending with "data: [DONE]" (the
 * caller sees that marker, not this file). A server that ignores stream
 * answers one chat.completion with choices[0].message.content. Errors come
 * as {"error": {message, type, code}} (Ollama: sometimes a bare string),
 * either as the body of a non-200 reply or as an event in the stream
 * (llama-server names that event "error").
 */
#include "llm/llm_internal.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static int msg_add(json_t *arr, const char *role, const char *text)
{
    json_t *s = json_string(text);
    if (!s)
        return LS_EINPUT;
    json_array_append_new(arr, json_pack("{s:s,s:o}", "role", role, "content", s));
    return 0;
}

int openai__request(const struct llm_provider_config *p, const struct llm_request *rq,
                    struct llm__req *out, struct ls_error *err)
{
    json_t *root = NULL, *msgs = json_array();
    struct buf b;
    int rc = 0;
    buf_init(&b, 4096);
    memset(out, 0, sizeof *out);
    if (rq->system && rq->system[0] && msg_add(msgs, "system", rq->system)) {
        rc = ls_error_set(err, LS_EINPUT, "the instructions are not UTF-8");
        goto out;
    }
    for (size_t i = 0; i < rq->nmsg; i++) {
        const struct llm_msg *m = &rq->msg[i];
        if (!m->role || (strcmp(m->role, "user") != 0 && strcmp(m->role, "assistant") != 0)) {
            rc = ls_error_set(err, LS_EINPUT, "message %zu: role must be user or assistant", i);
            goto out;
        }
        if (msg_add(msgs, m->role, m->text ? m->text : "")) {
            rc = ls_error_set(err, LS_EINPUT, "message %zu is not UTF-8", i);
            goto out;
        }
    }
    root = json_pack("{s:s,s:O,s:b}", "model", p->model, "messages", msgs, "stream", 1);
    if (!root) {
        rc = ls_error_set(err, LS_EINPUT, "the model name is not UTF-8");
        goto out;
    }
    if (rq->json)
        json_object_set_new(root, "response_format", json_pack("{s:s}", "type", "json_object"));
    out->body = json_dumps(root, JSON_COMPACT);
    if (buf_printf(&b, "%s/v1/chat/completions", p->base_url)) {
        rc = ls_error_set(err, LS_ELIMIT, "the provider URL is too long");
        goto out;
    }
    out->url = buf_take(&b);
    out->headers = curl_slist_append(out->headers, "Content-Type: application/json");
    out->headers = curl_slist_append(out->headers, "Accept: text/event-stream");
    if (p->api_key[0]) {
        char h[300];
        snprintf(h, sizeof h, "Authorization: Bearer %s", p->api_key);
        out->headers = curl_slist_append(out->headers, h);
        memset(h, 0, sizeof h);
    }
out:
    if (rc) {
        free(out->body);
        curl_slist_free_all(out->headers);
        memset(out, 0, sizeof *out);
    }
    buf_cleanup(&b);
    json_decref(msgs);
    json_decref(root);
    return rc;
}

static int fail(struct llm__emit *e, const char *what, const char *detail)
{
    char m[sizeof e->why];
    snprintf(m, sizeof m, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    llm__clean_text(e->why, sizeof e->why, m, strlen(m));
    return LS_EUPSTREAM;
}

int openai__parse(json_t *obj, struct llm__emit *e)
{
    if (!json_is_object(obj))
        return fail(e, "not a chat completion", NULL);
    json_t *error = json_object_get(obj, "error");
    if (error) {
        const char *msg = json_is_string(error)
                              ? json_string_value(error)
                              : json_string_value(json_object_get(error, "message"));
        return fail(e, "error", msg ? msg : "?");
    }
    json_t *choices = json_object_get(obj, "choices");
    if (!json_is_array(choices))
        return fail(e, "not a chat completion (no choices)", NULL);
    /* a last chunk may carry only usage figures, with no choices */
    json_t *c0 = json_array_get(choices, 0);
    if (!c0)
        return 0;
    json_t *t = json_object_get(json_object_get(c0, "delta"), "content");
    if (!t)
        t = json_object_get(json_object_get(c0, "message"), "content");
    if (json_is_string(t) && json_string_length(t)) {
        int rc = e->text(e->ctx, json_string_value(t), json_string_length(t));
        if (rc)
            return rc;
    }
    const char *fin = json_string_value(json_object_get(c0, "finish_reason"));
    if (fin) {
        if (strcmp(fin, "content_filter") == 0)
            return fail(e, "stopped by the model", fin);
        e->done = 1;
    }
    return 0;
}
