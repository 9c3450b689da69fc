/*
 * service_priv.h — what service.c and service_run.c share, and no one else.
 *
 * service.c owns the service's life (open, close, health), data sets, the
 * cache of recently read frames and the stored-record readers;
 * service_run.c owns the jobs that train and score. Both reach this state
 * through struct service's `jobs` pointer (service_internal.h).
 */
#ifndef LS_APP_SERVICE_PRIV_H
#define LS_APP_SERVICE_PRIV_H

#include "app/jobs.h"
#include "app/service_internal.h"
#include "data/frame.h"

#include <pthread.h>

/* Recently read frames kept per data set id, so that an upload followed by
 * a run (or a second run) does not read and type the file again. */
#define SERVICE_FRAME_CACHE 3

/* A frame shared by the cache and the jobs using it; frames are never
 * changed once read, so sharing needs only the count. */
struct frame_ref {
    struct frame *f;
    int refs; /* under svc_state.lock */
};

struct svc_state {
    struct jobs *pool;
    pthread_mutex_t lock; /* the frame cache */
    struct {
        int64_t id;
        struct frame_ref *ref;
        uint64_t used;
    } frames[SERVICE_FRAME_CACHE];
    uint64_t tick;
};

static inline struct svc_state *svc__state(struct service *s)
{
    return (struct svc_state *)s->jobs;
}

/* How uploads are read (the service's row limit). */
void svc__frame_opts(const struct service *s, struct frame_opts *fo);

/* The frame of data set id (stored at path): from the cache, or read and
 * cached. Release with svc__frame_release. Errors: those of frame_read_file. */
int svc__frame_get(struct service *s, int64_t id, const char *path, struct frame_ref **out,
                   struct ls_error *err);
/* Hand a frame just read to the cache (a new reference for the caller is
 * returned in *out). */
void svc__frame_put(struct service *s, int64_t id, struct frame *f, struct frame_ref **out);
void svc__frame_release(struct service *s, struct frame_ref *r);

/* The JSON text s parsed (an empty object when s is NULL or unreadable). */
json_t *svc__parse(const char *s);

/* An ISO 8601 string of Unix ms, or null for 0. */
json_t *svc__iso_json(int64_t ms);
/* A JSON string, or null for NULL (or text that is not UTF-8). */
json_t *svc__str(const char *s);
/* A stored model as the API shows it (model_id, dataset_id, created,
 * options, and its info's fields). */
struct store_model;
json_t *svc__model_answer(const struct store_model *m);
/* A run's status fields (run_id, ..., status, stage, progress, error,
 * created, finished) set on o. */
struct store_run;
void svc__run_status(const struct store_run *r, json_t *o);

/* Dump with the project's float precision; NULL on failure (caller frees). */
char *svc__dumps(const json_t *j);

#endif
