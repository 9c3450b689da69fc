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

PENDING(api_health)
PENDING(compat_root)
