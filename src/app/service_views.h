/*
 * service_views.h — what the views' files (service_views*.c) share: the
 * loaded-model cache and the run contexts. Nothing outside them includes it.
 *
 * A loaded model (struct vmodel) is everything per model that a request
 * must not redo: the model itself, its lookup tables for reading raw text
 * (bins_index), the TreeSHAP tables (built once per model: treeshap_new
 * costs a walk of every tree), an index of its feature and training-file
 * column names, and a memo of real-time explanations by binned lead.
 * A run context (struct vrun) is a done run's model, its data set's frame
 * and, once something needs it, app_run_score's result on them: a lead's
 * fields, exports and the old client's results need the frame only; the
 * value each contribution names and an on-demand explanation need the
 * bins (scoring Leads.csv again costs ~0.4 s of CPU, reading it ~0.05 s).
 *
 * Both caches are small LRU lists under s->views_lock, most recent first,
 * and refcounted: the cache holds one reference, every user one more, and
 * the last to let go frees it, so eviction never pulls a model from under
 * a request. Loading happens outside the lock (two requests may load the
 * same model at once; the second copy is dropped).
 */
#ifndef LS_APP_SERVICE_VIEWS_H
#define LS_APP_SERVICE_VIEWS_H

#include "app/run.h"
#include "app/service_internal.h"
#include "data/dict.h"
#include "ml/treeshap.h"

#define VIEWS_MODELS 8     /* loaded models kept */
#define VIEWS_RUNS   2     /* run contexts kept (each holds a whole data set) */
#define VIEWS_MEMO   16384 /* real-time explanations kept per model (4.5 MB for Leads.csv) */

struct vmemo; /* service_views_score.c */

struct vmodel {
    int64_t id;
    char *path;    /* the model file: gone once the model is deleted */
    unsigned refs; /* under views_lock */
    struct model m;
    struct bins_index ix;
    struct treeshap *ts;        /* built by views__ts on first use, under memo_lock */
    const char *const *missing; /* the missing-value tokens training read with */
    struct dict feat_names;     /* feature j is entry j */
    struct dict train_cols;     /* every column of the training file (version 2) */
    pthread_mutex_t memo_lock;
    struct vmemo *memo;
};

struct vrun {
    int64_t id;
    unsigned refs;
    struct vmodel *vm;     /* NULL when the run's model was deleted: the frame only */
    struct frame *frame;   /* the data set, read as the run read it */
    int scored;            /* res holds the file scored again (under lock) */
    struct run_result res; /* res.f (= frame) always; res.score once scored */
    pthread_mutex_t lock;  /* one on-demand explanation of this run at a time */
};

/* The model with that id, loaded or from the cache; release with
 * views__model_put. Errors: LS_ENOT_FOUND, those of model_load. */
int views__model_get(struct service *s, int64_t id, struct vmodel **out, struct ls_error *err);
void views__model_put(struct service *s, struct vmodel *vm);

/* The model's TreeSHAP tables (built once, then read by any thread). */
const struct treeshap *views__ts(struct vmodel *vm);

/* The run's stored record, checked to be done (LS_ECONFLICT while queued or
 * running, or failed; LS_ENOT_FOUND). The caller cleans it up. */
int views__run_done(struct service *s, int64_t id, struct store_run *out, struct ls_error *err);

/* The context of a done run; release with views__run_put. */
int views__run_get(struct service *s, const struct store_run *run, struct vrun **out,
                   struct ls_error *err);
void views__run_put(struct service *s, struct vrun *vr);

/* Score the run's file again into vr->res, once (needs vr->vm; a no-op
 * without it). */
int views__run_score(struct service *s, struct vrun *vr, struct ls_error *err);

/* Explain those of leads[0..n) that have no reasons yet (leads of vr's run,
 * which needs its model), fill in their reasons_json, base and contrib,
 * and store them. *explained: how many were. */
int views__explain(struct service *s, struct vrun *vr, struct store_lead *leads, size_t n,
                   size_t *explained, struct ls_error *err);

/* A string for JSON: s, or null when it is not valid UTF-8 (jansson refuses). */
json_t *views__str(const char *s);

/* Free what the views keep (s->views_cleanup). */
void views__cleanup(struct service *s);
/* service_views_score.c: the memo of a model. */
void views__memo_free(struct vmemo *m);

#endif
