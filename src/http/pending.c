/*
 * pending.c — TEMPORARY while the service is being built (issue 10): the
 * handlers not written yet answer 501. Each helper deletes the handlers it
 * implements; the file is gone before the issue closes.
 */
#include "http/handlers.h"

#define PENDING(fn)                                                                                \
    int fn(struct http_req *rq, struct http_resp *rs)                                              \
    {                                                                                              \
        (void)rq;                                                                                  \
        rs->status = 501;                                                                          \
        rs->json = json_pack("{s:{s:s,s:s}}", "error", "code", "NOT_IMPLEMENTED", "message", #fn); \
        return 0;                                                                                  \
    }

PENDING(api_openapi)
PENDING(api_dataset_create)
PENDING(api_dataset_get)
PENDING(api_model_create)
PENDING(api_model_list)
PENDING(api_model_get)
PENDING(api_model_delete)
PENDING(api_run_create)
PENDING(api_run_list)
PENDING(api_run_get)
PENDING(api_run_delete)
PENDING(api_run_leads)
PENDING(api_run_lead)
PENDING(api_run_export)
PENDING(api_score)
PENDING(compat_upload)
PENDING(compat_train)
PENDING(compat_predict)
PENDING(compat_history)
PENDING(compat_history_run)
