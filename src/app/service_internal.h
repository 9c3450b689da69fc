/*
 * service_internal.h — the service's state, shared by its files only.
 *
 * service.c (open/close, data sets, models, runs, the job pool, the cache)
 * and service_views.c (pages of leads, one lead, exports, the old client's
 * results, real-time scoring, the loaded-model cache) both see struct
 * service; nothing outside src/app/service*.c does.
 */
#ifndef LS_APP_SERVICE_INTERNAL_H
#define LS_APP_SERVICE_INTERNAL_H

#include "app/service.h"

#include <pthread.h>

struct service {
    struct service_opts opts;
    char *data_dir;      /* absolute */
    struct store *store; /* owned */
    int64_t started_ms;  /* Unix ms, for uptime */

    /* the job pool (service.c) */
    void *jobs;

    /* the views' state (service_views.c): created on first use under
     * views_lock, released by views_cleanup from service_close */
    pthread_mutex_t views_lock;
    void *views;
    void (*views_cleanup)(struct service *s);
};

/* The insights of a run's leads by row, for service_leads and service_lead
 * (service_insights.c): a new object {"ROW": {why, next_action, provider,
 * created}} (empty when there are none or the store fails: a page of leads
 * does not fail for want of insights). svc__insight_of: the entry of row,
 * a new reference, or null. */
json_t *svc__insight_map(struct service *s, int64_t run_id);
json_t *svc__insight_of(const json_t *map, uint64_t row);

/* Unix time in milliseconds. */
int64_t service__now_ms(void);

/* ISO 8601 UTC with milliseconds and a Z ("2026-11-29T22:16:39.120Z"). */
void service__iso8601(int64_t ms, char out[32]);

#endif
