/*
 * routes.c — every route of the service, in one table (kore's habit).
 *
 * A request's path is matched against these patterns in order by
 * http_route_match; {id} and {row} match positive integers only, so an
 * identifier can never smuggle a path. Paths that match nothing and do not
 * start with /api/ are static files of the web app (server.c).
 */
#include "http/handlers.h"

#define API  HTTP_STYLE_API
#define OLD  HTTP_STYLE_COMPAT
#define NONE HTTP_BODY_NONE
#define JSON HTTP_BODY_JSON
#define UPL  HTTP_BODY_UPLOAD
#define ANY  HTTP_BODY_JSON_ANY

const struct http_route http_routes[] = {
    {HTTP_GET, "/api/health", api_health, NONE, API, 1},
    {HTTP_GET, "/api/openapi.json", api_openapi, NONE, API, 1},
    {HTTP_POST, "/api/datasets", api_dataset_create, UPL, API, 0},
    {HTTP_GET, "/api/datasets/{id}", api_dataset_get, NONE, API, 0},
    {HTTP_GET, "/api/models", api_model_list, NONE, API, 0},
    {HTTP_POST, "/api/models", api_model_create, JSON, API, 0},
    {HTTP_GET, "/api/models/{id}", api_model_get, NONE, API, 0},
    {HTTP_DELETE, "/api/models/{id}", api_model_delete, NONE, API, 0},
    {HTTP_GET, "/api/runs", api_run_list, NONE, API, 0},
    {HTTP_POST, "/api/runs", api_run_create, JSON, API, 0},
    {HTTP_GET, "/api/runs/{id}", api_run_get, NONE, API, 0},
    {HTTP_DELETE, "/api/runs/{id}", api_run_delete, NONE, API, 0},
    {HTTP_GET, "/api/runs/{id}/leads", api_run_leads, NONE, API, 0},
    {HTTP_GET, "/api/runs/{id}/leads/{row}", api_run_lead, NONE, API, 0},
    {HTTP_GET, "/api/runs/{id}/export.csv", api_run_export, NONE, API, 0},
    {HTTP_GET, "/api/runs/{id}/insights", api_run_insights, NONE, API, 0},
    {HTTP_GET, "/api/runs/{id}/chat", api_run_chat_history, NONE, API, 0},
    {HTTP_POST, "/api/runs/{id}/chat", api_run_chat, JSON, API, 0},
    {HTTP_POST, "/api/score", api_score, JSON, API, 0},
    /* the old system's routes (../shared/SEED.md) */
    {HTTP_POST, "/upload", compat_upload, UPL, OLD, 0},
    {HTTP_POST, "/train", compat_train, JSON, OLD, 0},
    {HTTP_POST, "/predict", compat_predict, JSON, OLD, 0},
    {HTTP_GET, "/prediction-history", compat_history, NONE, OLD, 0},
    {HTTP_GET, "/prediction-history/{id}", compat_history_run, NONE, OLD, 0},
    {HTTP_POST, "/chat", compat_chat, ANY, OLD, 0}, /* never a 4xx for its body */
    {0, NULL, NULL, NONE, API, 0},
};
