/*
 * llm_config.c — the language layer's settings from the environment.
 *
 * Every variable is read once, checked, and refused by name when wrong: a
 * typo in LEADSCORE_LLM or a timeout of "5s" must stop `leadscore serve` at
 * start with a message that says which variable to fix, rather than
 * silently falling back to the narrator for every answer. Empty variables
 * count as unset. Keys go into HTTP headers, so a key with a control
 * character (a pasted newline) is refused instead of splitting a header.
 */
#include "llm/llm.h"

#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMINI_DEFAULT_URL   "https://generativelanguage.googleapis.com"
#define GEMINI_DEFAULT_MODEL "gemini-2.5-flash"
#define LLAMA_DEFAULT_MODEL  "local"

void llm_config_default(struct llm_config *c)
{
    memset(c, 0, sizeof *c);
    c->p[0].kind = LLM_BUILTIN;
    snprintf(c->p[0].name, sizeof c->p[0].name, "builtin");
    c->n = 1;
    c->connect_timeout_ms = 2000;
    c->first_token_timeout_ms = 15000;
    c->total_timeout_ms = 60000;
    c->reply_max = 32 * 1024;
    c->breaker_failures = 3;
    c->breaker_open_ms = 30000;
    c->retry_after_max_ms = 5000;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* A decimal number in [lo, hi] from variable name, left unchanged when unset. */
static int env_u64(const char *name, uint64_t lo, uint64_t hi, uint64_t *out, struct ls_error *err)
{
    const char *v = env(name);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || errno || *end || x < lo || x > hi)
        return ls_error_set(err, LS_EUSAGE, "%s: '%.40s' is not a whole number from %llu to %llu",
                            name, v, (unsigned long long)lo, (unsigned long long)hi);
    *out = x;
    return 0;
}

static int env_ms(const char *name, uint64_t lo, uint64_t hi, uint32_t *out, struct ls_error *err)
{
    uint64_t x = *out;
    int rc = env_u64(name, lo, hi, &x, err);
    if (rc == 0)
        *out = (uint32_t)x;
    return rc;
}

/* An http(s) URL with a host, no spaces or control characters; trailing
 * slashes are dropped. */
static int env_url(const char *name, const char *dflt, char *out, size_t cap, struct ls_error *err)
{
    const char *v = env(name);
    if (!v)
        v = dflt;
    size_t n = strlen(v);
    while (n && v[n - 1] == '/')
        n--;
    size_t scheme = strncmp(v, "http://", 7) == 0 ? 7 : strncmp(v, "https://", 8) == 0 ? 8 : 0;
    int ok = scheme && n > scheme && n < cap;
    for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
            ok = 0;
    if (!ok)
        return ls_error_set(err, LS_EUSAGE, "%s: '%.80s' is not an http:// or https:// URL", name,
                            v);
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* A model name; in_path: it goes into Gemini's URL, so only [A-Za-z0-9._-]. */
static int env_model(const char *name, const char *dflt, int in_path, char *out, size_t cap,
                     struct ls_error *err)
{
    const char *v = env(name);
    if (!v)
        v = dflt;
    size_t n = strlen(v);
    int ok = n > 0 && n < cap;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (in_path)
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        else
            ok = ch > ' ' && ch != 0x7f;
    }
    if (!ok)
        return ls_error_set(err, LS_EUSAGE, "%s: '%.80s' is not a model name", name, v);
    memcpy(out, v, n + 1);
    return 0;
}

static int env_key(const char *name, char *out, size_t cap, struct ls_error *err)
{
    const char *v = env(name);
    out[0] = '\0';
    if (!v)
        return 0;
    size_t n = strlen(v);
    int ok = n < cap;
    for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
            ok = 0;
    /* never echo a key, not even a wrong one */
    if (!ok)
        return ls_error_set(err, LS_EUSAGE,
                            "%s: the key is longer than %zu bytes or holds spaces or control "
                            "characters",
                            name, cap - 1);
    memcpy(out, v, n + 1);
    return 0;
}

static int add(struct llm_config *c, const struct llm_provider_config *p)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->p[i].name, p->name) == 0)
            return 1;
    c->p[c->n++] = *p;
    return 0;
}

int llm_config_from_env(struct llm_config *c, struct ls_error *err)
{
    struct llm_config t;
    struct llm_provider_config gem, lla, bin;
    int has_gem = 0, has_lla = 0;
    int rc = 0;
    llm_config_default(&t);
    memset(&gem, 0, sizeof gem);
    memset(&lla, 0, sizeof lla);
    bin = t.p[0];
    t.n = 0;

    gem.kind = LLM_GEMINI;
    snprintf(gem.name, sizeof gem.name, "gemini");
    if ((rc = env_key("GEMINI_API_KEY", gem.api_key, sizeof gem.api_key, err)))
        goto out;
    has_gem = gem.api_key[0] != '\0';
    if ((rc = env_model("LEADSCORE_GEMINI_MODEL", GEMINI_DEFAULT_MODEL, 1, gem.model,
                        sizeof gem.model, err)))
        goto out;
    if ((rc = env_url("LEADSCORE_GEMINI_URL", GEMINI_DEFAULT_URL, gem.base_url, sizeof gem.base_url,
                      err)))
        goto out;

    lla.kind = LLM_OPENAI;
    snprintf(lla.name, sizeof lla.name, "llama");
    has_lla = env("LEADSCORE_LLAMA_URL") != NULL;
    if (has_lla &&
        (rc = env_url("LEADSCORE_LLAMA_URL", "", lla.base_url, sizeof lla.base_url, err)))
        goto out;
    if ((rc = env_model("LEADSCORE_LLAMA_MODEL", LLAMA_DEFAULT_MODEL, 0, lla.model,
                        sizeof lla.model, err)))
        goto out;
    if ((rc = env_key("LEADSCORE_LLAMA_KEY", lla.api_key, sizeof lla.api_key, err)))
        goto out;

    if ((rc = env_ms("LEADSCORE_LLM_CONNECT_TIMEOUT_MS", 1, 600000, &t.connect_timeout_ms, err)) ||
        (rc = env_ms("LEADSCORE_LLM_FIRST_TOKEN_TIMEOUT_MS", 1, 3600000, &t.first_token_timeout_ms,
                     err)) ||
        (rc = env_ms("LEADSCORE_LLM_TIMEOUT_MS", 1, 3600000, &t.total_timeout_ms, err)) ||
        (rc = env_ms("LEADSCORE_LLM_BREAKER_FAILURES", 1, 1000, &t.breaker_failures, err)) ||
        (rc = env_ms("LEADSCORE_LLM_BREAKER_MS", 1, 86400000, &t.breaker_open_ms, err)) ||
        (rc = env_ms("LEADSCORE_LLM_RETRY_AFTER_MAX_MS", 0, 600000, &t.retry_after_max_ms, err)))
        goto out;
    uint64_t rmax = t.reply_max;
    if ((rc = env_u64("LEADSCORE_LLM_REPLY_MAX", 16, 16u << 20, &rmax, err)))
        goto out;
    t.reply_max = (size_t)rmax;

    const char *order = env("LEADSCORE_LLM");
    if (!order) {
        if (has_gem)
            add(&t, &gem);
        if (has_lla)
            add(&t, &lla);
        add(&t, &bin);
        goto done;
    }
    /* names, comma-separated, spaces around them allowed */
    const char *s = order;
    int builtin_seen = 0;
    for (;;) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, ",");
        size_t k = n;
        while (k && s[k - 1] == ' ')
            k--;
        const struct llm_provider_config *p = NULL;
        if (k == 6 && memcmp(s, "gemini", 6) == 0) {
            if (!has_gem) {
                rc = ls_error_set(err, LS_EUSAGE,
                                  "LEADSCORE_LLM: gemini is named but GEMINI_API_KEY is not set");
                goto out;
            }
            p = &gem;
        } else if (k == 5 && memcmp(s, "llama", 5) == 0) {
            if (!has_lla) {
                rc = ls_error_set(
                    err, LS_EUSAGE,
                    "LEADSCORE_LLM: llama is named but LEADSCORE_LLAMA_URL is not set");
                goto out;
            }
            p = &lla;
        } else if (k == 7 && memcmp(s, "builtin", 7) == 0) {
            p = &bin;
        } else {
            rc = ls_error_set(err, LS_EUSAGE,
                              "LEADSCORE_LLM: unknown provider '%.*s' (known: gemini, llama, "
                              "builtin)",
                              (int)(k < 40 ? k : 40), s);
            goto out;
        }
        if (builtin_seen) {
            rc = ls_error_set(err, LS_EUSAGE,
                              "LEADSCORE_LLM: builtin must come last (it always answers)");
            goto out;
        }
        if (add(&t, p)) {
            rc = ls_error_set(err, LS_EUSAGE, "LEADSCORE_LLM: %s is named twice", p->name);
            goto out;
        }
        builtin_seen = p->kind == LLM_BUILTIN;
        if (s[n] != ',')
            break;
        s += n + 1;
    }
    if (!builtin_seen)
        add(&t, &bin);
done:
    *c = t;
out:
    return rc;
}
