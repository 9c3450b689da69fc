/*
 * err.c — messages and HTTP statuses for the codes listed in err.h.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

struct err_entry {
    const char *symbol;
    const char *message;
    int status;
};

static const struct err_entry err_table[] = {
#define LS__ERR_ROW(name, msg, status) {#name, msg, status},
    LS_ERRORS(LS__ERR_ROW)
#undef LS__ERR_ROW
};

static const struct err_entry *err_lookup(int code)
{
    int idx = code - LS__ERR_FIRST - 1;
    if (idx < 0 || idx >= (int)(sizeof err_table / sizeof err_table[0]))
        return NULL;
    return &err_table[idx];
}

const char *ls_err_name(int code)
{
    if (code == LS_OK)
        return "success";
    const struct err_entry *e = err_lookup(code);
    return e ? e->message : "unknown error";
}

const char *ls_err_symbol(int code)
{
    if (code == LS_OK)
        return "OK";
    const struct err_entry *e = err_lookup(code);
    return e ? e->symbol : "UNKNOWN";
}

int ls_err_http_status(int code)
{
    if (code == LS_OK)
        return 200;
    const struct err_entry *e = err_lookup(code);
    return e ? e->status : 500;
}

int ls_error_set(struct ls_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ls_error_clear(struct ls_error *err)
{
    if (err) {
        err->code = LS_OK;
        err->msg[0] = '\0';
    }
}
