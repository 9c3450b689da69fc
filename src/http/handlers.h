/*
 * handlers.h — the handlers the route table (routes.c) points to.
 *
 * api.c serves /api/ (the service's own JSON API, described by
 * openapi.json); compat.c serves the old system's routes with its field
 * names (../shared/SEED.md, "Compatible routes"); static files and the
 * OpenAPI document are answered by the server itself.
 */
#ifndef LS_HTTP_HANDLERS_H
#define LS_HTTP_HANDLERS_H

#include "http/http.h"

/* /api/ */
int api_health(struct http_req *rq, struct http_resp *rs);
int api_openapi(struct http_req *rq, struct http_resp *rs);
int api_dataset_create(struct http_req *rq, struct http_resp *rs);
int api_dataset_get(struct http_req *rq, struct http_resp *rs);
int api_model_create(struct http_req *rq, struct http_resp *rs);
int api_model_list(struct http_req *rq, struct http_resp *rs);
int api_model_get(struct http_req *rq, struct http_resp *rs);
int api_model_delete(struct http_req *rq, struct http_resp *rs);
int api_run_create(struct http_req *rq, struct http_resp *rs);
int api_run_list(struct http_req *rq, struct http_resp *rs);
int api_run_get(struct http_req *rq, struct http_resp *rs);
int api_run_delete(struct http_req *rq, struct http_resp *rs);
int api_run_leads(struct http_req *rq, struct http_resp *rs);
int api_run_lead(struct http_req *rq, struct http_resp *rs);
int api_run_export(struct http_req *rq, struct http_resp *rs);
int api_score(struct http_req *rq, struct http_resp *rs);
int api_run_insights(struct http_req *rq, struct http_resp *rs);
int api_run_chat(struct http_req *rq, struct http_resp *rs); /* a stream of events */
int api_run_chat_history(struct http_req *rq, struct http_resp *rs);

/* the old system's routes */
int compat_root(struct http_req *rq, struct http_resp *rs);
int compat_upload(struct http_req *rq, struct http_resp *rs);
int compat_train(struct http_req *rq, struct http_resp *rs);
int compat_predict(struct http_req *rq, struct http_resp *rs);
int compat_history(struct http_req *rq, struct http_resp *rs);
int compat_history_run(struct http_req *rq, struct http_resp *rs);
int compat_chat(struct http_req *rq, struct http_resp *rs); /* always 200 with words */

#endif
