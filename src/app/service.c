/*
 * service.c — the service's life, its data sets and what is stored.
 *
 * service_open builds the language chain (llm/llm.h), opens the store and
 * starts the worker pools (jobs.c: the heavy one and the chat one) and the
 * insights worker; service_close stops the insights worker taking work,
 * drains both pools, joins the insights worker and only then closes the
 * store, so no job outlives what it writes to. Insights and chat are in
 * service_insights.c and service_chat.c. The training and scoring jobs are in
 * service_run.c; the views of stored runs (pages of leads, exports,
 * real-time scoring) in service_views.c.
 *
 * An upload is checked to be text before anything reads it as CSV (an
 * image or a zip renamed .csv is refused as LS_EMEDIA, not reported as a
 * strange CSV error), then read, typed, profiled, its target found and its
 * columns scanned for leakage; that answer is stored with the data set, so
 * the same bytes uploaded again are answered from the store without being
 * read (the fingerprint names the bytes). The frame just read stays in a
 * small cache, so the run that usually follows an upload does not read the
 * file a second time.
 */
#include "app/service_priv.h"

#include "app/leakage.h"
#include "app/profile.h"
#include "core/mem.h"
#include "core/sha256.h"
#include "data/target.h"
#include "llm/llm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREVIEW_ROWS        5
#define SERVICE_WORKERS_MAX 64
#define SNIFF_BYTES         1024

/* ---- small helpers ----------------------------------------------------- */

int64_t service__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void service__iso8601(int64_t ms, char out[32])
{
    time_t sec = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) { /* before 1970: floor, so the fraction stays positive */
        frac += 1000;
        sec--;
    }
    struct tm tm;
    if (!gmtime_r(&sec, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

json_t *svc__iso_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char b[32];
    service__iso8601(ms, b);
    return json_string(b);
}

json_t *svc__parse(const char *s)
{
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    if (!j || !json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

char *svc__dumps(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
}

json_t *svc__str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* ---- open, close, health ------------------------------------------------ */

void service_opts_default(struct service_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data_dir = "leadscore-data";
    o->workers = 1;
    o->queue = 4;
    o->threads = 0;
    o->explain_max = SERVICE_EXPLAIN_ALL_MAX;
    o->explain_budget = SERVICE_EXPLAIN_BUDGET;
    o->max_rows = CSV_DEFAULT_MAX_ROWS;
    o->keep_runs = SERVICE_KEEP_RUNS;
    o->llm = NULL;
    o->insights = SERVICE_INSIGHTS_TOP;
    o->chat_workers = 4;
    o->chat_queue = 16;
}

int service_open(const struct service_opts *o, struct service **out, struct ls_error *err)
{
    struct service *s = xcalloc(1, sizeof *s);
    struct svc_state *st = NULL;
    struct llm_config env;
    struct llm_chain *chain = NULL;
    int rc = LS_OK;
    s->opts = *o;
    /* the language chain first: a bad LEADSCORE_* variable stops the start
     * (the operator sees which) before the store is touched */
    if (!o->llm && (rc = llm_config_from_env(&env, err)) != LS_OK)
        goto out;
    if ((rc = llm_chain_new(o->llm ? o->llm : &env, &chain, err)) != LS_OK)
        goto out;
    s->opts.llm = NULL; /* the caller's config need not outlive the call */
    if (!s->opts.chat_workers)
        s->opts.chat_workers = 4;
    if (s->opts.chat_workers > SERVICE_WORKERS_MAX)
        s->opts.chat_workers = SERVICE_WORKERS_MAX;
    if (!s->opts.workers)
        s->opts.workers = 1;
    if (s->opts.workers > SERVICE_WORKERS_MAX) /* each holds a whole job's memory */
        s->opts.workers = SERVICE_WORKERS_MAX;
    if (!s->opts.max_rows)
        s->opts.max_rows = CSV_DEFAULT_MAX_ROWS;
    if (!s->opts.keep_runs)
        s->opts.keep_runs = SERVICE_KEEP_RUNS;
    if ((rc = store_open(o->data_dir ? o->data_dir : "leadscore-data", &s->store, err)) != LS_OK)
        goto out;
    s->data_dir = xstrdup(s->store->dir);
    s->opts.data_dir = s->data_dir;
    s->started_ms = service__now_ms();
    pthread_mutex_init(&s->views_lock, NULL);
    st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
    st->pool = jobs_new(s->opts.workers, s->opts.queue);
    st->chat_pool = jobs_new(s->opts.chat_workers, s->opts.chat_queue);
    st->llm = chain;
    chain = NULL;
    st->chat = svc__chat_new();
    s->jobs = st;
    st->ins = svc__insights_new(s);
    *out = s;
    s = NULL;
out:
    llm_chain_free(chain);
    if (s) {
        store_close(s->store);
        free(s->data_dir);
        free(s);
    }
    return rc;
}

void service_close(struct service *s)
{
    if (!s)
        return;
    struct svc_state *st = svc__state(s);
    /* model calls in flight end now (their answers come from the narrator),
     * so the joins below never wait for a model's timeouts */
    llm_chain_shutdown(st->llm);
    /* insights first refuse new work (the run jobs below would queue some),
     * then the pools run what they hold, then the worker's lead in hand ends */
    svc__insights_stop(st->ins);
    jobs_free(st->pool); /* runs what is queued: nothing is left half-done */
    jobs_free(st->chat_pool);
    svc__insights_free(st->ins);
    svc__chat_free(st->chat);
    llm_chain_free(st->llm);
    for (size_t i = 0; i < SERVICE_FRAME_CACHE; i++)
        if (st->frames[i].ref)
            svc__frame_release(s, st->frames[i].ref);
    pthread_mutex_destroy(&st->lock);
    free(st);
    if (s->views_cleanup)
        s->views_cleanup(s);
    pthread_mutex_destroy(&s->views_lock);
    store_close(s->store);
    free(s->data_dir);
    free(s);
}

void service_stop_models(struct service *s)
{
    if (s)
        llm_chain_shutdown(svc__state(s)->llm);
}

struct store *service_store(struct service *s)
{
    return s->store;
}

json_t *service_health_json(struct service *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "store", json_string(s->store->ops->name));
    json_object_set_new(o, "data_dir", svc__str(s->data_dir));
    struct ls_error err;
    uint64_t nd = 0, nm = 0, nr = 0;
    if (store_counts(s->store, &nd, &nm, &nr, &err) == LS_OK) {
        json_object_set_new(o, "datasets", json_integer((json_int_t)nd));
        json_object_set_new(o, "models", json_integer((json_int_t)nm));
        json_object_set_new(o, "runs", json_integer((json_int_t)nr));
    } else { /* health still answers: the store's trouble is the news */
        json_object_set_new(o, "datasets", json_null());
        json_object_set_new(o, "models", json_null());
        json_object_set_new(o, "runs", json_null());
        json_object_set_new(o, "store_error", json_string(err.msg));
    }
    uint32_t running = 0, queued = 0;
    jobs_counts(svc__state(s)->pool, &running, &queued);
    json_object_set_new(o, "jobs_running", json_integer(running));
    json_object_set_new(o, "jobs_queued", json_integer(queued));
    json_object_set_new(o, "workers", json_integer(s->opts.workers));
    json_object_set_new(o, "queue", json_integer(s->opts.queue));
    json_object_set_new(o, "uptime_ms", json_integer(service__now_ms() - s->started_ms));
    struct svc_state *st = svc__state(s);
    jobs_counts(st->chat_pool, &running, &queued);
    json_object_set_new(o, "chat_running", json_integer(running));
    json_object_set_new(o, "chat_queued", json_integer(queued));
    uint64_t dropped = 0;
    svc__insights_counts(s, &queued, &dropped);
    json_object_set_new(o, "insights_queued", json_integer(queued));
    json_object_set_new(o, "insights_dropped", json_integer((json_int_t)dropped));
    json_object_set_new(o, "llm", llm_chain_health(st->llm));
    json_object_set_new(o, "llm_order", json_string(llm_chain_order(st->llm)));
    return o;
}

/* ---- the frame cache ---------------------------------------------------- */

void svc__frame_opts(const struct service *s, struct frame_opts *fo)
{
    frame_opts_default(fo);
    fo->csv.limits.max_rows = s->opts.max_rows;
}

void svc__frame_release(struct service *s, struct frame_ref *r)
{
    if (!r)
        return;
    struct svc_state *st = svc__state(s);
    pthread_mutex_lock(&st->lock);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&st->lock);
    if (last) {
        frame_free(r->f);
        free(r);
    }
}

void svc__frame_put(struct service *s, int64_t id, struct frame *f, struct frame_ref **out)
{
    struct svc_state *st = svc__state(s);
    struct frame_ref *r = xcalloc(1, sizeof *r), *evict = NULL, *drop = NULL;
    r->f = f;
    r->refs = 1; /* the caller's */
    pthread_mutex_lock(&st->lock);
    size_t slot = 0;
    int found = 0;
    for (size_t i = 0; i < SERVICE_FRAME_CACHE; i++) {
        if (st->frames[i].ref && st->frames[i].id == id) {
            /* another thread read it meanwhile: keep one copy */
            drop = r;
            r = st->frames[i].ref;
            r->refs++;
            st->frames[i].used = ++st->tick;
            found = 1;
            break;
        }
        /* an empty slot, else the least recently used */
        if (st->frames[slot].ref &&
            (!st->frames[i].ref || st->frames[i].used < st->frames[slot].used))
            slot = i;
    }
    if (!found) {
        evict = st->frames[slot].ref;
        st->frames[slot].id = id;
        st->frames[slot].ref = r;
        st->frames[slot].used = ++st->tick;
        r->refs++; /* the cache's */
    }
    pthread_mutex_unlock(&st->lock);
    if (drop) {
        frame_free(drop->f);
        free(drop);
    }
    svc__frame_release(s, evict);
    *out = r;
}

int svc__frame_get(struct service *s, int64_t id, const char *path, struct frame_ref **out,
                   struct ls_error *err)
{
    struct svc_state *st = svc__state(s);
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < SERVICE_FRAME_CACHE; i++)
        if (st->frames[i].ref && st->frames[i].id == id) {
            st->frames[i].used = ++st->tick;
            st->frames[i].ref->refs++;
            *out = st->frames[i].ref;
            pthread_mutex_unlock(&st->lock);
            return LS_OK;
        }
    pthread_mutex_unlock(&st->lock);
    struct frame_opts fo;
    svc__frame_opts(s, &fo);
    struct frame *f = NULL;
    int rc = frame_read_file(path, &fo, &f, err);
    if (rc != LS_OK)
        return rc;
    svc__frame_put(s, id, f, out);
    return LS_OK;
}

/* ---- data sets ---------------------------------------------------------- */

/* 1 when the first bytes look like UTF-16 text (a BOM, or the NUL of every
 * other byte that ASCII text in UTF-16 has): the CSV reader decodes it. */
static int looks_utf16(const unsigned char *b, size_t n)
{
    if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
        return 1;
    if (n < 4)
        return 0;
    size_t even = 0, odd = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        even += b[i] == 0;
        odd += b[i + 1] == 0;
    }
    size_t half = n / 2;
    return (odd * 10 >= half * 9 && even == 0) || (even * 10 >= half * 9 && odd == 0);
}

/*
 * LS_EMEDIA unless the file's first bytes can be CSV text: no known binary
 * signature (images, PDF, archives, office files, executables) and no NUL
 * byte outside UTF-16 text. Checked before parsing so a picture renamed
 * .csv gets "not a CSV file", not a parse error on line 1.
 */
static int check_text(const char *path, const char *name, struct ls_error *err)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } sigs[] = {
        {"\x89PNG", 4, "a PNG image"},
        {"\xFF\xD8\xFF", 3, "a JPEG image"},
        {"GIF8", 4, "a GIF image"},
        {"%PDF", 4, "a PDF document"},
        {"PK\x03\x04", 4, "a ZIP archive (an .xlsx workbook is one; save it as CSV)"},
        {"PK\x05\x06", 4, "a ZIP archive"},
        {"\x1F\x8B", 2, "a gzip file"},
        {"BZh", 3, "a bzip2 file"},
        {"\xFD"
         "7zXZ",
         5, "an xz file"},
        {"7z\xBC\xAF", 4, "a 7-Zip archive"},
        {"\xD0\xCF\x11\xE0", 4, "an old Office document (.xls; save it as CSV)"},
        {"\x7F"
         "ELF",
         4, "a program"},
        {"SQLite format 3", 15, "an SQLite database"},
        {"RIFF", 4, "a media file"},
    };
    unsigned char b[SNIFF_BYTES];
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ls_error_set(err, LS_EIO, "%s: cannot read the upload: %s", name, strerror(errno));
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (n >= sigs[i].len && memcmp(b, sigs[i].magic, sigs[i].len) == 0)
            return ls_error_set(err, LS_EMEDIA, "%s is not a CSV file: it is %s", name,
                                sigs[i].what);
    if (!looks_utf16(b, n) && memchr(b, 0, n))
        return ls_error_set(err, LS_EMEDIA,
                            "%s is not a CSV file: it holds binary bytes (NUL) in its first %zu "
                            "bytes",
                            name, n);
    return LS_OK;
}

/* What POST /api/datasets answers about a frame, without the store's fields. */
static json_t *dataset_info(const struct frame *f)
{
    struct target t;
    memset(&t, 0, sizeof t);
    struct ls_error terr;
    ls_error_clear(&terr);
    int have_t = target_find(f, NULL, &t, &terr) == LS_OK;
    json_t *o = profile_json(f, NULL, have_t ? &t : NULL, have_t ? NULL : terr.msg);
    json_object_del(o, "file"); /* the stored path means nothing to the client */

    json_t *leak = json_array();
    if (have_t) {
        struct leakage_opts lo;
        leakage_opts_default(&lo);
        struct leakage_report rep;
        struct ls_error lerr;
        if (leakage_scan(f, &t, NULL, &lo, &rep, &lerr) == LS_OK) {
            json_decref(leak);
            leak = leakage_json(&rep, LEAKAGE_CHECK);
            leakage_report_cleanup(&rep);
        } else {
            json_t *w = json_object_get(o, "warnings");
            char msg[600];
            snprintf(msg, sizeof msg, "leakage scan not run: %s", lerr.msg);
            json_array_append_new(w, json_string(msg));
        }
        target_cleanup(&t);
    }
    json_object_set_new(o, "leakage", leak);

    json_t *pv = json_array();
    for (uint64_t r = 0; r < f->nrows && r < PREVIEW_ROWS; r++) {
        json_t *row = json_object();
        for (size_t c = 0; c < f->ncols; c++)
            json_object_set_new(row, f->cols[c].name, svc__str(frame_cell(f, c, r)));
        json_array_append_new(pv, row);
    }
    json_object_set_new(o, "preview", pv);
    return o;
}

/* The answer for a stored data set: its info plus the store's fields. */
static json_t *dataset_answer(const struct store_dataset *d, const char *filename, int existed)
{
    json_t *o = json_object();
    json_object_set_new(o, "dataset_id", json_integer(d->id));
    json_object_set_new(o, "fingerprint", json_string(d->fingerprint));
    json_object_set_new(o, "filename", svc__str(filename ? filename : d->filename));
    json_object_set_new(o, "bytes", json_integer((json_int_t)d->bytes));
    json_object_set_new(o, "created", svc__iso_json(d->created));
    json_t *info = svc__parse(d->info_json);
    json_object_del(info, "bytes"); /* the reader's count; the file's is above */
    json_object_update_missing(o, info);
    json_decref(info);
    json_object_set_new(o, "existed", json_boolean(existed));
    return o;
}

int service_dataset_add(struct service *s, const struct service_upload *u, json_t **out,
                        struct ls_error *err)
{
    int rc = LS_OK;
    const char *name = u->filename && u->filename[0] ? u->filename : "upload.csv";
    char fp[SHA256_HEX];
    struct store_dataset d;
    memset(&d, 0, sizeof d);
    struct frame *f = NULL;
    struct frame_ref *ref = NULL;
    json_t *info = NULL;
    char *info_s = NULL;
    int tmp_owned = 1; /* we still have to remove u->tmp_path */

    if (u->fingerprint && strlen(u->fingerprint) == 64) {
        snprintf(fp, sizeof fp, "%s", u->fingerprint);
    } else if ((rc = sha256_file_hex(u->tmp_path, fp, err)) != LS_OK) {
        goto out;
    }
    /* the same bytes: the stored answer, nothing read; the put records the
     * name they came under this time (the old client asks for it next) and
     * removes the temp file */
    if (store_dataset_find(s->store, fp, NULL, &d, err) == LS_OK) {
        store_dataset_cleanup(&d);
        memset(&d, 0, sizeof d);
        snprintf(d.fingerprint, sizeof d.fingerprint, "%s", fp);
        d.filename = (char *)name; /* borrowed: *d becomes the store's record */
        rc = store_dataset_put(s->store, u->tmp_path, &d, err);
        if (rc == LS_ECONFLICT) {
            tmp_owned = 0;
            rc = LS_OK;
            ls_error_clear(err);
            *out = dataset_answer(&d, name, 1);
            goto out;
        }
        if (rc == LS_OK) { /* unreachable while data sets are never deleted */
            tmp_owned = 0;
            rc = ls_error_set(err, LS_ESTORE,
                              "%s: the data set changed during the upload; "
                              "upload it again",
                              name);
        } else {
            memset(&d, 0, sizeof d); /* *d still holds our borrowed name */
        }
        goto out;
    }
    store_dataset_cleanup(&d);
    memset(&d, 0, sizeof d);
    ls_error_clear(err);

    if ((rc = check_text(u->tmp_path, name, err)) != LS_OK)
        goto out;
    struct frame_opts fo;
    svc__frame_opts(s, &fo);
    if ((rc = frame_read_file(u->tmp_path, &fo, &f, err)) != LS_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ls_error_set(err, rc, "%s: %s", name, msg);
        goto out;
    }
    info = dataset_info(f);
    info_s = svc__dumps(info);
    snprintf(d.fingerprint, sizeof d.fingerprint, "%s", fp);
    d.filename = (char *)name; /* borrowed: the store copies, and *d becomes its record */
    d.bytes = u->bytes ? u->bytes : f->info.bytes;
    d.rows = f->nrows;
    d.ncols = (uint32_t)f->ncols;
    d.info_json = info_s;
    rc = store_dataset_put(s->store, u->tmp_path, &d, err);
    if (rc != LS_OK && rc != LS_ECONFLICT) /* *d still holds our borrowed strings */
        memset(&d, 0, sizeof d);
    if (rc == LS_OK || rc == LS_ECONFLICT) {
        tmp_owned = 0; /* moved, or removed by the store */
        int existed = rc == LS_ECONFLICT;
        rc = LS_OK;
        ls_error_clear(err);
        *out = dataset_answer(&d, name, existed);
        if (!existed) {
            svc__frame_put(s, d.id, f, &ref); /* the run that follows uses it */
            f = NULL;
        }
    }
out:
    if (tmp_owned && u->tmp_path)
        unlink(u->tmp_path);
    svc__frame_release(s, ref);
    frame_free(f);
    free(info_s);
    json_decref(info);
    store_dataset_cleanup(&d);
    return rc;
}

int service_dataset_get(struct service *s, int64_t id, json_t **out, struct ls_error *err)
{
    struct store_dataset d;
    memset(&d, 0, sizeof d);
    int rc = store_dataset_get(s->store, id, &d, err);
    if (rc == LS_OK) {
        *out = dataset_answer(&d, NULL, 1);
        json_object_del(*out, "existed");
    }
    store_dataset_cleanup(&d);
    return rc;
}

int service_dataset_by_name(struct service *s, const char *filename, int64_t *id,
                            struct ls_error *err)
{
    if (!filename || !filename[0])
        return ls_error_set(err, LS_EINPUT, "no file name given");
    struct store_dataset d;
    memset(&d, 0, sizeof d);
    int rc = store_dataset_find(s->store, NULL, filename, &d, err);
    if (rc == LS_ENOT_FOUND)
        rc = ls_error_set(err, LS_ENOT_FOUND, "no uploaded file is named '%.255s'; upload it first",
                          filename);
    if (rc == LS_OK)
        *id = d.id;
    store_dataset_cleanup(&d);
    return rc;
}

/* ---- models ------------------------------------------------------------- */

json_t *svc__model_answer(const struct store_model *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "model_id", json_integer(m->id));
    json_object_set_new(o, "dataset_id", json_integer(m->dataset_id));
    json_object_set_new(o, "created", svc__iso_json(m->created));
    json_object_set_new(o, "options", svc__parse(m->options_json));
    json_t *info = svc__parse(m->info_json);
    json_object_update_missing(o, info);
    json_decref(info);
    return o;
}

int service_model_get(struct service *s, int64_t id, json_t **out, struct ls_error *err)
{
    struct store_model m;
    memset(&m, 0, sizeof m);
    int rc = store_model_get(s->store, id, &m, err);
    if (rc == LS_OK)
        *out = svc__model_answer(&m);
    store_model_cleanup(&m);
    return rc;
}

static uint64_t page_limit(uint64_t limit)
{
    if (limit == 0)
        return 50;
    return limit > STORE_PAGE_MAX ? STORE_PAGE_MAX : limit;
}

int service_model_list(struct service *s, uint64_t offset, uint64_t limit, json_t **out,
                       struct ls_error *err)
{
    struct store_model *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    limit = page_limit(limit);
    int rc = store_model_list(s->store, offset, limit, &list, &n, &total, err);
    if (rc != LS_OK)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *m = svc__model_answer(&list[i]);
        /* a list shows what tells models apart, not every importance */
        json_t *slim = json_object();
        static const char *const keep[] = {"model_id", "dataset_id", "created", "options",
                                           "target",   "features",   "took_ms"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            json_t *v = json_object_get(m, keep[k]);
            if (v)
                json_object_set(slim, keep[k], v);
        }
        json_t *auc = json_object_get(json_object_get(m, "metrics"), "auc");
        json_object_set(slim, "auc", auc ? auc : json_null());
        json_array_append_new(a, slim);
        json_decref(m);
    }
    store_model_list_free(list, n);
    *out = json_object();
    json_object_set_new(*out, "models", a);
    json_object_set_new(*out, "total", json_integer((json_int_t)total));
    json_object_set_new(*out, "offset", json_integer((json_int_t)offset));
    json_object_set_new(*out, "limit", json_integer((json_int_t)limit));
    return LS_OK;
}

int service_model_delete(struct service *s, int64_t id, struct ls_error *err)
{
    return store_model_delete(s->store, id, err);
}

/* ---- runs --------------------------------------------------------------- */

void svc__run_status(const struct store_run *r, json_t *o)
{
    json_object_set_new(o, "run_id", json_integer(r->id));
    json_object_set_new(o, "dataset_id", json_integer(r->dataset_id));
    json_object_set_new(o, "model_id", r->model_id ? json_integer(r->model_id) : json_null());
    json_object_set_new(o, "filename", svc__str(r->filename));
    json_object_set_new(o, "status", json_string(store_run_status_name(r->status)));
    json_object_set_new(o, "stage", json_string(r->stage));
    json_object_set_new(o, "progress", json_real(r->progress));
    json_object_set_new(o, "error", svc__str(r->error));
    json_object_set_new(o, "created", svc__iso_json(r->created));
    json_object_set_new(o, "finished", svc__iso_json(r->finished));
}

int service_run_get(struct service *s, int64_t id, json_t **out, struct ls_error *err)
{
    struct store_run r;
    memset(&r, 0, sizeof r);
    int rc = store_run_get(s->store, id, &r, err);
    if (rc != LS_OK)
        goto out;
    json_t *o = r.status == STORE_RUN_DONE ? svc__parse(r.summary_json) : json_object();
    svc__run_status(&r, o);
    if (r.status == STORE_RUN_DONE)
        json_object_set_new(o, "cached", json_false());
    *out = o;
out:
    store_run_cleanup(&r);
    return rc;
}

int service_run_list(struct service *s, uint64_t offset, uint64_t limit, json_t **out,
                     struct ls_error *err)
{
    struct store_run *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    limit = page_limit(limit);
    int rc = store_run_list(s->store, offset, limit, &list, &n, &total, err);
    if (rc != LS_OK)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct store_run *r = &list[i];
        json_t *o = json_object();
        json_object_set_new(o, "run_id", json_integer(r->id));
        json_object_set_new(o, "dataset_id", json_integer(r->dataset_id));
        json_object_set_new(o, "model_id", r->model_id ? json_integer(r->model_id) : json_null());
        json_object_set_new(o, "filename", svc__str(r->filename));
        json_object_set_new(o, "status", json_string(store_run_status_name(r->status)));
        json_object_set_new(o, "stage", json_string(r->stage));
        json_object_set_new(o, "progress", json_real(r->progress));
        json_object_set_new(o, "created", svc__iso_json(r->created));
        json_object_set_new(o, "total", json_integer((json_int_t)r->total));
        json_t *tiers = json_object();
        json_object_set_new(tiers, "High", json_integer((json_int_t)r->tier[2]));
        json_object_set_new(tiers, "Medium", json_integer((json_int_t)r->tier[1]));
        json_object_set_new(tiers, "Low", json_integer((json_int_t)r->tier[0]));
        json_object_set_new(o, "tiers", tiers);
        json_object_set_new(o, "has_outcomes", json_boolean(r->has_outcomes));
        json_t *auc = json_null();
        if (r->summary_json) {
            json_t *sum = svc__parse(r->summary_json);
            json_t *v = json_object_get(json_object_get(sum, "metrics"), "auc");
            if (v) {
                json_decref(auc);
                auc = json_incref(v);
            }
            /* which outcome the run's model learned, and the leaky columns it
             * kept: two runs of one file with other options tell apart */
            static const char *const keep[] = {"target", "positive", "kept_leaky"};
            for (size_t k = 0; k < sizeof keep / sizeof *keep; k++)
                if ((v = json_object_get(sum, keep[k])) != NULL)
                    json_object_set(o, keep[k], v);
            json_decref(sum);
        }
        json_object_set_new(o, "auc", auc);
        if (r->error)
            json_object_set_new(o, "error", json_string(r->error));
        json_array_append_new(a, o);
    }
    store_run_list_free(list, n);
    *out = json_object();
    json_object_set_new(*out, "runs", a);
    json_object_set_new(*out, "total", json_integer((json_int_t)total));
    json_object_set_new(*out, "offset", json_integer((json_int_t)offset));
    json_object_set_new(*out, "limit", json_integer((json_int_t)limit));
    return LS_OK;
}

int service_run_delete(struct service *s, int64_t id, struct ls_error *err)
{
    return store_run_delete(s->store, id, err);
}
