/*
 * jobs.c — the worker pool of jobs.h.
 *
 * One lock guards the pool's queue and counts; each job has its own lock
 * and condition for its state, so a job's owner never touches the pool and
 * may release a job after the pool is gone.
 *
 * A job's life: QUEUED → RUNNING → (CALLBACK while the done callback runs)
 * → DONE. The invariant that makes early release safe: after
 * service_job_release returns, the callback is not running and will not
 * run, so the submitter may free whatever ctx points to. Release therefore
 * waits out a callback in progress on another thread; called from inside
 * the callback itself it only marks the job, which the worker frees when
 * the callback returns.
 */
#include "app/jobs.h"

#include "core/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_CALLBACK, JOB_DONE };

struct service_job {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled when state changes to DONE or leaves CALLBACK */
    enum job_state state;
    int released;        /* the owner has let go: the worker frees the job */
    pthread_t cb_thread; /* the thread running the callback (state CALLBACK) */
    jobs_fn fn;
    void *arg;
    void (*arg_free)(void *);
    service_done_fn done;
    void *ctx;
    int rc;
    json_t *result;
    struct ls_error err;
    struct service_job *next; /* in the pool's queue */
};

struct jobs {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    struct service_job *head, *tail;
    uint32_t workers, queue;
    uint32_t running, queued, reserved;
    int stopping;
    pthread_t *threads;
    uint32_t nthreads;
};

static void job_free(struct service_job *j)
{
    if (j->arg_free && j->arg)
        j->arg_free(j->arg);
    json_decref(j->result);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void job_ended(struct jobs *p)
{
    pthread_mutex_lock(&p->lock);
    p->running--;
    pthread_mutex_unlock(&p->lock);
}

/* Run one job and hand its result over (see the life in the file comment). */
static void job_run(struct jobs *p, struct service_job *j)
{
    pthread_mutex_lock(&j->lock);
    j->state = JOB_RUNNING;
    pthread_mutex_unlock(&j->lock);

    json_t *out = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = j->fn(j->arg, &out, &err);
    if (rc != LS_OK) {
        json_decref(out);
        out = NULL;
    }
    if (j->arg_free)
        j->arg_free(j->arg);
    j->arg = NULL;

    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->result = out;
    j->err = err;
    if (j->released) {
        pthread_mutex_unlock(&j->lock);
        job_free(j);
        job_ended(p);
        return;
    }
    if (j->done) {
        j->state = JOB_CALLBACK;
        j->cb_thread = pthread_self();
        pthread_mutex_unlock(&j->lock);
        j->done(j->ctx);
        pthread_mutex_lock(&j->lock);
    }
    /* the pool has room again before anyone waiting on the job wakes up, so a
     * waiter that submits at once is not refused by this very job */
    job_ended(p);
    j->state = JOB_DONE;
    int released = j->released;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (released) /* released from inside its own callback */
        job_free(j);
}

static void *worker(void *arg)
{
    struct jobs *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head) /* stopping, and the queue is drained */
            break;
        struct service_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        p->running++;
        pthread_mutex_unlock(&p->lock);
        job_run(p, j); /* counts itself out of running */
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct jobs *jobs_new(uint32_t workers, uint32_t queue)
{
    struct jobs *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->workers = workers ? workers : 1;
    p->queue = queue;
    p->threads = xcalloc(p->workers, sizeof *p->threads);
    for (uint32_t i = 0; i < p->workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break; /* fewer workers: the pool still runs every job */
        p->nthreads++;
    }
    if (p->nthreads == 0) { /* not even one thread: nothing could ever run */
        fprintf(stderr, "leadscore: cannot start a worker thread\n");
        abort();
    }
    return p;
}

void jobs_free(struct jobs *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (uint32_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int jobs_reserve(struct jobs *p, struct ls_error *err)
{
    int rc = LS_OK;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        rc = ls_error_set(err, LS_EBUSY, "the server is shutting down; try again shortly");
        goto out;
    }
    uint32_t waiting = p->queued + p->reserved;
    if (p->running + waiting >= p->workers + p->queue) {
        rc = ls_error_set(err, LS_EBUSY,
                          "the server is busy: %u job%s running, %u waiting; try again in a few "
                          "seconds",
                          p->running, p->running == 1 ? "" : "s", waiting);
        goto out;
    }
    p->reserved++;
out:
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void jobs_unreserve(struct jobs *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->reserved)
        p->reserved--;
    pthread_mutex_unlock(&p->lock);
}

void jobs_submit(struct jobs *p, jobs_fn fn, void *arg, void (*arg_free)(void *),
                 service_done_fn done, void *ctx, struct service_job **job)
{
    struct service_job *j = xcalloc(1, sizeof *j);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->state = JOB_QUEUED;
    j->fn = fn;
    j->arg = arg;
    j->arg_free = arg_free;
    j->done = done;
    j->ctx = ctx;
    *job = j; /* before it is queued: a fast worker may call done at once */
    pthread_mutex_lock(&p->lock);
    if (p->reserved)
        p->reserved--;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void jobs_counts(struct jobs *p, uint32_t *running, uint32_t *queued)
{
    pthread_mutex_lock(&p->lock);
    *running = p->running;
    *queued = p->queued + p->reserved;
    pthread_mutex_unlock(&p->lock);
}

int service_job_result(struct service_job *job, json_t **out, struct ls_error *err)
{
    int rc;
    pthread_mutex_lock(&job->lock);
    if (job->state < JOB_CALLBACK) {
        rc = ls_error_set(err, LS_EINPUT, "the job has not finished");
    } else if (job->rc != LS_OK) {
        rc = job->rc;
        if (err)
            *err = job->err;
    } else {
        rc = LS_OK;
        *out = job->result ? job->result : json_null(); /* the caller's now */
        job->result = NULL;
    }
    pthread_mutex_unlock(&job->lock);
    return rc;
}

void service_job_release(struct service_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->lock);
    if (job->state == JOB_CALLBACK && pthread_equal(job->cb_thread, pthread_self())) {
        job->released = 1; /* inside its own callback: the worker frees it after */
        pthread_mutex_unlock(&job->lock);
        return;
    }
    while (job->state == JOB_CALLBACK) /* the callback must be over before we return */
        pthread_cond_wait(&job->cond, &job->lock);
    if (job->state == JOB_DONE) {
        pthread_mutex_unlock(&job->lock);
        job_free(job);
        return;
    }
    job->released = 1; /* queued or running: the worker frees it when it ends */
    pthread_mutex_unlock(&job->lock);
}

void service_job_wait(struct service_job *job)
{
    pthread_mutex_lock(&job->lock);
    while (job->state != JOB_DONE)
        pthread_cond_wait(&job->cond, &job->lock);
    pthread_mutex_unlock(&job->lock);
}
