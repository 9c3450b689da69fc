/*
 * meta.c — the answers about the server itself: GET /api/health (open,
 * for load balancers and the tests' start-up wait) and GET / when no web
 * app is served (the old system answered it with a status object).
 *
 * Health is answered without a token, so when one is configured (the
 * server faces a network) it leaves out the data folder's path.
 */
#include "http/handlers.h"
#include "http/internal.h"

#include <leadscore.h>

int api_health(struct http_req *rq, struct http_resp *rs)
{
    json_t *j = json_pack("{s:s,s:s,s:f}", "status", "ok", "version", ls_version(), "uptime_s",
                          http__uptime());
    json_t *svc = rq->svc ? service_health_json(rq->svc) : NULL;
    if (svc) {
        if (rq->cfg && rq->cfg->token)
            json_object_del(svc, "data_dir");
        json_object_update(j, svc);
        json_decref(svc);
    }
    rs->status = 200;
    rs->json = j;
    return 0;
}

int compat_root(struct http_req *rq, struct http_resp *rs)
{
    (void)rq;
    rs->status = 200;
    rs->json = json_pack("{s:s,s:s}", "status", "ok", "message",
                         "LeadScore is running: the API is under /api/ (GET /api/openapi.json)");
    return 0;
}
