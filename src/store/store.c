/*
 * store.c — the backend-independent part of the store (store.h).
 *
 * Which backend store_open picks (SQLite, the only one today), fresh temp
 * paths under DATA_DIR/tmp/, and the functions that free the records every
 * backend hands out. A second backend adds a case to store_open and reuses
 * the rest.
 */
#include "store/store.h"

#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

const char *store_run_status_name(enum store_run_status s)
{
    switch (s) {
    case STORE_RUN_QUEUED:
        return "queued";
    case STORE_RUN_RUNNING:
        return "running";
    case STORE_RUN_DONE:
        return "done";
    case STORE_RUN_FAILED:
        return "failed";
    }
    return "unknown";
}

int store_open(const char *dir, struct store **out, struct ls_error *err)
{
    if (!dir || !*dir)
        return ls_error_set(err, LS_EUSAGE, "no data directory given");
    return store_sqlite_open(dir, out, err);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

/* A name part: letters, digits, '-' and '_' only, so a temp path can never
 * leave tmp/ or surprise a shell. */
static int name_part_ok(const char *p, size_t max)
{
    size_t n = strlen(p);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

int store_tmp_path(const struct store *s, const char *prefix, const char *suffix, char *out,
                   size_t cap, struct ls_error *err)
{
    if (!prefix)
        prefix = "tmp";
    if (!suffix)
        suffix = "";
    if (!name_part_ok(prefix, 32) || !name_part_ok(suffix, 16))
        return ls_error_set(err, LS_EINPUT,
                            "a temp file's prefix and suffix are letters, digits, - and _ "
                            "(at most 32 and 16)");
    /* 64 random bits: two writers never pick the same name, and a name
     * cannot be guessed by anyone who shares the folder. */
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return ls_error_set(err, LS_EIO, "no random bytes for a temp file name: %s",
                            strerror(errno));
    int k = snprintf(out, cap, "%s/tmp/%s-%016llx%s%s", s->dir, prefix, (unsigned long long)r,
                     *suffix ? "." : "", suffix);
    if (k < 0 || (size_t)k >= cap)
        return ls_error_set(err, LS_ELIMIT, "a temp path under %s does not fit %zu bytes", s->dir,
                            cap);
    return 0;
}

void store_dataset_cleanup(struct store_dataset *d)
{
    if (!d)
        return;
    free(d->filename);
    free(d->path);
    free(d->info_json);
    memset(d, 0, sizeof *d);
}

void store_model_cleanup(struct store_model *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->cache_key);
    free(m->options_json);
    free(m->info_json);
    memset(m, 0, sizeof *m);
}

void store_model_list_free(struct store_model *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        store_model_cleanup(&list[i]);
    free(list);
}

void store_run_cleanup(struct store_run *r)
{
    if (!r)
        return;
    free(r->filename);
    free(r->cache_key);
    free(r->error);
    free(r->summary_json);
    free(r->facts_json);
    memset(r, 0, sizeof *r);
}

void store_run_list_free(struct store_run *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        store_run_cleanup(&list[i]);
    free(list);
}

void store_lead_cleanup(struct store_lead *l)
{
    if (!l)
        return;
    free(l->lead_id);
    free(l->reasons_json);
    free(l->display_json);
    free(l->contrib);
    memset(l, 0, sizeof *l);
}

void store_lead_list_free(struct store_lead *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        store_lead_cleanup(&list[i]);
    free(list);
}

void store_insight_list_free(struct store_insight *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].why);
        free(v[i].next_action);
        free(v[i].provider);
    }
    free(v);
}

void store_chat_list_free(struct store_chat_msg *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].provider);
        free(v[i].facts_json);
    }
    free(v);
}
