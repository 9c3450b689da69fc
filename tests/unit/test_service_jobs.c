/*
 * test_service_jobs.c — the service's worker pool seen through service.h:
 * a full pool refuses (LS_EBUSY) and leaves nothing behind, a queued run is
 * visible at once, a job released early frees itself and never calls back,
 * release from inside or beside a done callback is safe, and closing runs
 * what is queued. Run under ASan, these are the use-after-free and leak
 * checks of early release.
 */
#include "svctest.h"

/* ---- the pool ------------------------------------------------------------- */

static void test_busy_when_full(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 0);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 10;
    struct service_job *held = NULL, *job = NULL;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, gate_done, &g, &held, &err), 0);
    /* one job running, none may wait */
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), LS_EBUSY);
    if (!strstr(err.msg, "busy"))
        fail_msg("busy message: %s", err.msg);
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    r.train = t;
    int64_t run_id = 0;
    json_t *cached = NULL;
    assert_int_equal(service_run_submit(s, &r, NULL, NULL, &job, &run_id, &cached, &err), LS_EBUSY);
    json_t *h = service_health_json(s);
    assert_int_equal(jint(h, "workers"), 1);
    json_decref(h);
    /* a refused run left nothing in the history */
    json_t *list = NULL;
    assert_int_equal(service_run_list(s, 0, 10, &list, &err), 0);
    assert_int_equal(jint(list, "total"), 0);
    json_decref(list);

    gate_wait_entered(&g, 1);
    gate_open(&g);
    json_t *o = job_result_ok(held);
    assert_true(jint(o, "model_id") > 0);
    json_decref(o);
    /* room again */
    assert_int_equal(service_model_submit(s, &t, NULL, NULL, &job, &err), 0);
    json_decref(job_result_ok(job));
    assert_int_equal(g.calls, 1);
    service_close(s);
    gate_destroy(&g);
    rm_dir(dir);
}

/* A queued run is visible at once with its status. */
static void test_queued_run_visible(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 2);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 10;
    struct service_job *held = NULL;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, gate_done, &g, &held, &err), 0);
    gate_wait_entered(&g, 1); /* the only worker is held */
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    r.train = t;
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, NULL, NULL, &run_id, &cached);
    json_t *q = NULL;
    assert_int_equal(service_run_get(s, run_id, &q, &err), 0);
    assert_string_equal(json_string_value(json_object_get(q, "status")), "queued");
    assert_string_equal(json_string_value(json_object_get(q, "stage")), "queued");
    assert_null(json_object_get(q, "summary"));
    json_decref(q);
    json_t *h = service_health_json(s);
    assert_int_equal(jint(h, "jobs_running"), 1);
    assert_int_equal(jint(h, "jobs_queued"), 1);
    json_decref(h);
    /* a queued run cannot be deleted */
    assert_int_equal(service_run_delete(s, run_id, &err), LS_ECONFLICT);
    gate_open(&g);
    json_decref(job_result_ok(held));
    json_t *o = job_result_ok(job);
    assert_int_equal(jint(json_object_get(o, "summary"), "total"), DEMO_ROWS);
    /* the run reused the model the first job trained */
    assert_true(json_is_true(json_object_get(o, "model_cached")));
    json_decref(o);
    service_close(s);
    gate_destroy(&g);
    rm_dir(dir);
}

/* Released before it finished: the job frees itself, its run is stored, its
 * callback is never called (ASan would see a leak or a use after free). */
static void test_release_early(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate hold, calls;
    gate_init(&hold);
    gate_init(&calls);
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 10;
    struct service_job *held = NULL;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, gate_done, &hold, &held, &err), 0);
    gate_wait_entered(&hold, 1);

    /* queued behind the held job, then released while it waits */
    struct service_run_req r;
    memset(&r, 0, sizeof r);
    r.dataset_id = ds;
    r.train = t;
    int64_t run_id = 0;
    json_t *cached = NULL;
    struct service_job *job = run_submit_ok(s, &r, count_done, &calls, &run_id, &cached);
    service_job_release(job);
    gate_open(&hold);
    json_decref(job_result_ok(held));

    /* a run released while it works; then closing waits for it */
    r.train.trees = 12;
    int64_t run2 = 0;
    job = run_submit_ok(s, &r, count_done, &calls, &run2, &cached);
    service_job_release(job);
    service_close(s);
    assert_int_equal(calls.calls, 0);

    s = open_service(dir, 1, 4);
    json_t *g = NULL;
    assert_int_equal(service_run_get(s, run_id, &g, &err), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "done");
    json_decref(g);
    assert_int_equal(service_run_get(s, run2, &g, &err), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "done");
    json_decref(g);
    service_close(s);
    gate_destroy(&hold);
    gate_destroy(&calls);
    rm_dir(dir);
}

/* Release from inside the done callback, after taking the result. */
struct in_cb {
    struct service_job *job;
    int rc;
    int64_t model_id;
    struct gate *g;
};

static void release_in_callback(void *ctx)
{
    struct in_cb *c = ctx;
    /* the job pointer is set before the job can run (service.h) */
    json_t *o = NULL;
    struct ls_error err;
    c->rc = service_job_result(c->job, &o, &err);
    c->model_id = json_integer_value(json_object_get(o, "model_id"));
    json_decref(o);
    service_job_release(c->job);
    count_done(c->g);
}

static void test_release_in_callback(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct in_cb c = {NULL, -1, 0, &g};
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 10;
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, release_in_callback, &c, &c.job, &err), 0);
    service_close(s); /* drains: the callback has run when close returns */
    assert_int_equal(g.calls, 1);
    assert_int_equal(c.rc, 0);
    assert_true(c.model_id > 0);
    gate_destroy(&g);
    rm_dir(dir);
}

/* Released from another thread while its callback runs: release returns
 * only once the callback is over, so the submitter may free its context. */
struct slow_cb {
    struct gate *g;
    int finished; /* under g->lock */
};

static void slow_done(void *ctx)
{
    struct slow_cb *c = ctx;
    gate_done(c->g);
    pthread_mutex_lock(&c->g->lock);
    c->finished = 1;
    pthread_mutex_unlock(&c->g->lock);
}

struct releaser {
    struct service_job *job;
    struct slow_cb *cb;
    int finished_at_return;
};

static void *release_thread(void *arg)
{
    struct releaser *r = arg;
    service_job_release(r->job);
    pthread_mutex_lock(&r->cb->g->lock);
    r->finished_at_return = r->cb->finished;
    pthread_mutex_unlock(&r->cb->g->lock);
    return NULL;
}

static void test_release_waits_for_callback(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 4);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate g;
    gate_init(&g);
    struct slow_cb cb = {&g, 0};
    struct service_train t;
    service_train_init(&t);
    t.dataset_id = ds;
    t.trees = 10;
    struct releaser rel = {NULL, &cb, -1};
    struct ls_error err;
    assert_int_equal(service_model_submit(s, &t, slow_done, &cb, &rel.job, &err), 0);
    gate_wait_entered(&g, 1); /* the callback runs and waits at the gate */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release_thread, &rel), 0);
    struct timespec pause = {0, 20 * 1000 * 1000}; /* give release time to return early if wrong */
    nanosleep(&pause, NULL);
    gate_open(&g);
    pthread_join(th, NULL);
    assert_int_equal(rel.finished_at_return, 1);
    service_close(s);
    gate_destroy(&g);
    rm_dir(dir);
}

/* Closing with jobs still queued runs them all; their owners may release them
 * after the service is gone. */
static void test_close_with_queued(void **state)
{
    (void)state;
    const char *dir = fresh_dir();
    struct service *s = open_service(dir, 1, 3);
    int64_t ds = upload_ok(s, demo_csv, "leads.csv");
    struct gate calls;
    gate_init(&calls);
    struct service_job *jobs[3];
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        struct service_run_req r;
        memset(&r, 0, sizeof r);
        r.dataset_id = ds;
        service_train_init(&r.train);
        r.train.trees = (uint32_t)(10 + i);
        json_t *cached = NULL;
        jobs[i] = run_submit_ok(s, &r, count_done, &calls, &ids[i], &cached);
        assert_non_null(jobs[i]);
    }
    service_close(s);
    assert_int_equal(calls.calls, 3);
    for (int i = 0; i < 3; i++) {
        json_t *o = NULL;
        struct ls_error err;
        assert_int_equal(service_job_result(jobs[i], &o, &err), 0);
        assert_int_equal(jint(o, "run_id"), ids[i]);
        json_decref(o);
        service_job_release(jobs[i]);
    }
    gate_destroy(&calls);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_when_full),
        cmocka_unit_test(test_queued_run_visible),
        cmocka_unit_test(test_release_early),
        cmocka_unit_test(test_release_in_callback),
        cmocka_unit_test(test_release_waits_for_callback),
        cmocka_unit_test(test_close_with_queued),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
