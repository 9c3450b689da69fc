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

struct llm_chain;
struct svc_insights; /* service_insights.c */
struct svc_chat;     /* service_chat.c */

struct svc_state {
    struct jobs *pool;
    struct jobs *chat_pool;   /* chat answers: a pool of their own */
    struct llm_chain *llm;    /* the language chain (llm/llm.h) */
    struct svc_insights *ins; /* the insights worker */
    struct svc_chat *chat;    /* the chat indexes kept per run */
    pthread_mutex_t lock;     /* the frame cache */
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

/* ---- the language layer (service_insights.c, service_chat.c) ------------- */

/* Start and stop the insights worker. svc__insights_stop first refuses new
 * work (queued work is dropped: GET answers it again later), then
 * svc__insights_free joins the thread once the lead in hand is done. */
struct svc_insights *svc__insights_new(struct service *s);
void svc__insights_stop(struct svc_insights *in);
void svc__insights_free(struct svc_insights *in);
/* Queue run_id's insights. leads: lead objects (chat_leads' JSON) of the
 * run's best leads, or NULL (the worker reads them); facts_text: the run's
 * facts as JSON text, or NULL (read from the store). Both are taken over.
 * A full queue drops its oldest run. */
void svc__insights_queue(struct service *s, int64_t run_id, json_t *leads, char *facts_text);
/* Queue run_id's insights when some are missing and none are pending
 * (a cached run, a run stored before a restart); total: the run's leads. */
void svc__insights_ensure(struct service *s, int64_t run_id, uint64_t total);
/* Insights queued and dropped so far (health). */
void svc__insights_counts(struct service *s, uint32_t *queued, uint64_t *dropped);

/* The chat index cache (service_chat.c). */
struct svc_chat *svc__chat_new(void);
void svc__chat_free(struct svc_chat *c);
/* Build and cache run_id's index from its facts now (the insights worker,
 * right after the run is stored), so its first question does not pay for
 * it. */
void svc__chat_warm(struct service *s, int64_t run_id, const json_t *facts);

/* The run's facts (a new object): stored with the run, or built again from
 * its model and file for a run stored without them. Errors: LS_ENOT_FOUND,
 * LS_ECONFLICT (not done; its model deleted), those of reading. */
int svc__run_facts(struct service *s, int64_t run_id, json_t **facts, struct ls_error *err);

/* Top leads as chat_leads' JSON {row, id, score, tier, rank, label,
 * reasons, fields} from a stored lead (fields: its display columns). */
struct store_lead;
json_t *svc__lead_json(const struct store_lead *l);

#endif
