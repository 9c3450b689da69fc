/*
 * svctest.h — what the service's tests share (test_service.c,
 * test_service_jobs.c): a fresh data folder per service, uploads as the HTTP
 * layer makes them, jobs run to their result, and a gate that holds a worker
 * inside a done callback.
 *
 * Jobs are held where a test needs them to be (running, or waiting behind
 * one that runs) by a done callback that waits at a gate the test opens: the
 * worker stays busy while its callback runs, so "the pool is full" is a
 * state the test makes, not a race it hopes to win.
 */
#ifndef LS_SVCTEST_H
#define LS_SVCTEST_H

#include "testutil.h"

#include "app/service.h"
#include "app/service_internal.h"
#include "core/sha256.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEMO_ROWS 600

static char *demo_csv; /* generated leads, DEMO_ROWS of them */

static inline int setup(void **state)
{
    (void)state;
    demo_csv = tu_demo_text(DEMO_ROWS, 7);
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    free(demo_csv);
    return 0;
}

/* A fresh data folder for one service. */
static inline const char *fresh_dir(void)
{
    static char dir[512];
    static int n;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lssvc.%d.%d.XXXXXX", base && *base ? base : "/tmp", (int)getpid(),
             n++);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static inline void rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Open a service on dir with o (o->data_dir and o->threads are set here). */
static inline struct service *open_service_opts(const char *dir, struct service_opts *o)
{
    o->data_dir = dir;
    o->threads = 2;
    struct service *s = NULL;
    struct ls_error err;
    if (service_open(o, &s, &err))
        fail_msg("service_open: %s", err.msg);
    return s;
}

static inline struct service *open_service(const char *dir, uint32_t workers, uint32_t queue)
{
    struct service_opts o;
    service_opts_default(&o);
    o.data_dir = dir;
    o.workers = workers;
    o.queue = queue;
    o.threads = 2;
    struct service *s = NULL;
    struct ls_error err;
    int rc = service_open(&o, &s, &err);
    if (rc)
        fail_msg("service_open: %s", err.msg);
    return s;
}

/* Upload data as the HTTP layer does: written whole under the store's tmp/,
 * hashed while written. */
static inline int upload(struct service *s, const void *data, size_t len, const char *name,
                         json_t **out, struct ls_error *err, char tmp_out[4096])
{
    char tmp[4096];
    assert_int_equal(store_tmp_path(service_store(s), "upload", "csv", tmp, sizeof tmp, err), 0);
    FILE *fp = fopen(tmp, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    char fpr[SHA256_HEX];
    sha256_hex(data, len, fpr);
    struct service_upload u = {tmp, name, fpr, len};
    if (tmp_out)
        snprintf(tmp_out, 4096, "%s", tmp);
    return service_dataset_add(s, &u, out, err);
}

static inline int64_t upload_ok(struct service *s, const char *text, const char *name)
{
    json_t *o = NULL;
    struct ls_error err;
    int rc = upload(s, text, strlen(text), name, &o, &err, NULL);
    if (rc)
        fail_msg("upload %s: %s", name, err.msg);
    int64_t id = json_integer_value(json_object_get(o, "dataset_id"));
    assert_true(id > 0);
    json_decref(o);
    return id;
}

static inline int64_t jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

/* ---- a gate that holds a worker inside a done callback ----------------- */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
    int entered; /* callbacks that reached the gate */
    int calls;   /* callbacks called in all */
};

static inline void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->open = 0;
    g->entered = 0;
    g->calls = 0;
}

static inline void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

static inline void gate_done(void *ctx)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->calls++;
    g->entered++;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static inline void gate_wait_entered(struct gate *g, int n)
{
    pthread_mutex_lock(&g->lock);
    while (g->entered < n)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static inline void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static inline void count_done(void *ctx)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->calls++;
    pthread_mutex_unlock(&g->lock);
}

/* ---- helpers for jobs ---------------------------------------------------- */

static inline json_t *job_result_ok(struct service_job *job)
{
    service_job_wait(job);
    json_t *o = NULL;
    struct ls_error err;
    int rc = service_job_result(job, &o, &err);
    if (rc)
        fail_msg("job failed (%d): %s", rc, err.msg);
    service_job_release(job);
    return o;
}

static inline json_t *train_ok(struct service *s, const struct service_train *t)
{
    struct service_job *job = NULL;
    struct ls_error err;
    int rc = service_model_submit(s, t, NULL, NULL, &job, &err);
    if (rc)
        fail_msg("model submit: %s", err.msg);
    return job_result_ok(job);
}

/* Submit a run; returns its job (NULL when answered from the cache: *cached). */
static inline struct service_job *run_submit_ok(struct service *s, const struct service_run_req *r,
                                                service_done_fn done, void *ctx, int64_t *run_id,
                                                json_t **cached)
{
    struct service_job *job = NULL;
    struct ls_error err;
    int rc = service_run_submit(s, r, done, ctx, &job, run_id, cached, &err);
    if (rc)
        fail_msg("run submit: %s", err.msg);
    return job;
}

/* Train (with `trees` trees) and score data set ds, waiting: the run's
 * answer (caller owns), its id in *run_id; fails the test when the cache
 * answers instead. */
static inline json_t *run_trees_ok(struct service *s, int64_t ds, uint32_t trees, int64_t *run_id)
{
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    service_train_init(&r.train);
    r.train.trees = trees;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, run_id, &cached);
    if (!job)
        fail_msg("run of data set %lld answered from the cache", (long long)ds);
    return job_result_ok(job);
}

static inline uint64_t stored_leads(struct service *s, int64_t run_id)
{
    struct store_lead_query q = {-1, NULL, "rank", 0, 0, 10};
    struct store_lead *list = NULL;
    size_t n = 0;
    uint64_t total = 0;
    struct ls_error err;
    int rc = store_leads_query(service_store(s), run_id, &q, &list, &n, &total, &err);
    if (rc)
        fail_msg("leads_query: %s", err.msg);
    assert_true(n > 0);
    assert_int_equal(list[0].rank, 1);
    store_lead_list_free(list, n);
    return total;
}

#endif
