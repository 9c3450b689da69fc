/*
 * dataset.c — the ls_dataset part of the public API (include/leadscore.h).
 *
 * A thin shell over data/frame and data/target: it converts the public
 * options, keeps the frame and its target together, and turns internal error
 * records into the caller's message buffer.
 */
#include <leadscore.h>

#include "app/profile.h"
#include "core/mem.h"
#include "data/frame.h"
#include "data/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ls_dataset {
    struct frame *frame;
    char *path;
    int has_target;
    struct target target;
    int target_code;
    char target_error[512];
};

const char *ls_version(void)
{
    return LS_VERSION_STRING;
}

const char *ls_strerror(int code)
{
    return ls_err_name(code);
}

void ls_free(void *p)
{
    free(p);
}

void ls_read_options_init(struct ls_read_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_bytes = CSV_DEFAULT_MAX_BYTES;
    o->max_rows = CSV_DEFAULT_MAX_ROWS;
    o->max_columns = CSV_DEFAULT_MAX_COLS;
    o->max_field_bytes = CSV_DEFAULT_MAX_FIELD;
}

static void to_frame_opts(const struct ls_read_options *o, struct frame_opts *fo)
{
    frame_opts_default(fo);
    if (!o)
        return;
    fo->csv.limits.max_bytes = o->max_bytes;
    fo->csv.limits.max_rows = o->max_rows;
    fo->csv.limits.max_cols = o->max_columns;
    fo->csv.limits.max_field = o->max_field_bytes;
    fo->csv.delimiter = o->delimiter;
    fo->missing_tokens = o->missing_tokens;
}

static int finish_open(struct frame *f, int rc, const char *path, const struct ls_read_options *o,
                       struct ls_dataset **out, struct ls_error *err, char *errbuf, size_t errcap)
{
    if (rc) {
        if (errbuf && errcap)
            snprintf(errbuf, errcap, "%s", err->msg[0] ? err->msg : ls_err_name(rc));
        return rc;
    }
    struct ls_dataset *d = xcalloc(1, sizeof *d);
    d->frame = f;
    d->path = path ? xstrdup(path) : NULL;
    struct ls_error terr;
    ls_error_clear(&terr);
    int trc = target_find(f, o ? o->target : NULL, &d->target, &terr);
    if (trc == LS_OK) {
        d->has_target = 1;
    } else {
        d->target_code = trc;
        snprintf(d->target_error, sizeof d->target_error, "%s", terr.msg);
    }
    *out = d;
    return LS_OK;
}

int ls_dataset_open(const char *path, const struct ls_read_options *o, struct ls_dataset **out,
                    char *errbuf, size_t errcap)
{
    struct frame_opts fo;
    to_frame_opts(o, &fo);
    struct ls_error err;
    ls_error_clear(&err);
    struct frame *f = NULL;
    int rc = frame_read_file(path, &fo, &f, &err);
    return finish_open(f, rc, path, o, out, &err, errbuf, errcap);
}

int ls_dataset_open_mem(const void *data, size_t len, const struct ls_read_options *o,
                        struct ls_dataset **out, char *errbuf, size_t errcap)
{
    struct frame_opts fo;
    to_frame_opts(o, &fo);
    struct ls_error err;
    ls_error_clear(&err);
    struct frame *f = NULL;
    int rc = frame_read_mem(data, len, &fo, &f, &err);
    return finish_open(f, rc, NULL, o, out, &err, errbuf, errcap);
}

void ls_dataset_free(struct ls_dataset *d)
{
    if (!d)
        return;
    frame_free(d->frame);
    target_cleanup(&d->target);
    free(d->path);
    free(d);
}

uint64_t ls_dataset_rows(const struct ls_dataset *d)
{
    return d->frame->nrows;
}

size_t ls_dataset_columns(const struct ls_dataset *d)
{
    return d->frame->ncols;
}

const char *ls_dataset_column_name(const struct ls_dataset *d, size_t i)
{
    return i < d->frame->ncols ? d->frame->cols[i].name : NULL;
}

const char *ls_dataset_column_type(const struct ls_dataset *d, size_t i)
{
    return i < d->frame->ncols ? col_type_name(d->frame->cols[i].type) : NULL;
}

const char *ls_dataset_target(const struct ls_dataset *d, const char **positive)
{
    if (!d->has_target)
        return NULL;
    if (positive)
        *positive = d->target.positive;
    return d->target.name;
}

const char *ls_dataset_target_error(const struct ls_dataset *d, int *code)
{
    if (code)
        *code = d->target_code;
    return d->has_target ? NULL : d->target_error;
}

char *ls_dataset_profile_json(const struct ls_dataset *d)
{
    json_t *j = profile_json(d->frame, d->path, d->has_target ? &d->target : NULL,
                             d->has_target ? NULL : d->target_error);
    char *s = profile_dumps(j, 0);
    json_decref(j);
    return s;
}
