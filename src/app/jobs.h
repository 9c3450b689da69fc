/*
 * jobs.h — the service's bounded pool of worker threads.
 *
 * Heavy work (training, scoring, explaining) never runs on a request thread:
 * it becomes a job that one of `workers` threads runs, with at most `queue`
 * more waiting. A full pool refuses at once (LS_EBUSY) rather than letting
 * requests pile up, so the HTTP layer can answer 503 with Retry-After.
 *
 * A job outlives whoever is interested in it. Its submitter either takes the
 * result after the done callback (service_job_result, then
 * service_job_release), or releases it early; a released job frees itself
 * when it ends and never calls the callback. Each job has its own lock, so a
 * job may be released even after the pool (and the service) are gone.
 *
 * A submission may reserve its slot first (jobs_reserve) so that work done
 * between deciding to run and running — creating the run's row in the store
 * — happens only when the pool has room, and is never left behind by a
 * busy refusal.
 */
#ifndef LS_APP_JOBS_H
#define LS_APP_JOBS_H

#include "app/service.h"

struct jobs;

/* The work of a job, on a worker thread: 0 and *out (a new reference), or an
 * LS_E* code with err filled. */
typedef int (*jobs_fn)(void *arg, json_t **out, struct ls_error *err);

/* Start `workers` threads (at least 1) taking at most `queue` waiting jobs. */
struct jobs *jobs_new(uint32_t workers, uint32_t queue);

/* Stop taking jobs, run every queued job, join the workers, free the pool.
 * Jobs not yet released stay valid for their owners. Accepts NULL. */
void jobs_free(struct jobs *p);

/* Hold a slot for a job about to be submitted: 0, or LS_EBUSY (pool full or
 * closing) with the counts in the message. Give it back with jobs_unreserve
 * or use it with jobs_submit. */
int jobs_reserve(struct jobs *p, struct ls_error *err);
void jobs_unreserve(struct jobs *p);

/*
 * Queue fn(arg) in a reserved slot. arg_free (may be NULL) frees arg after
 * fn ran (or when the job is freed without having run). done(ctx) is called
 * from the worker thread once the result is set, unless the job was
 * released before. *job is the caller's until service_job_release.
 */
void jobs_submit(struct jobs *p, jobs_fn fn, void *arg, void (*arg_free)(void *),
                 service_done_fn done, void *ctx, struct service_job **job);

/* Jobs running and waiting now (reserved slots count as waiting). */
void jobs_counts(struct jobs *p, uint32_t *running, uint32_t *queued);

#endif
