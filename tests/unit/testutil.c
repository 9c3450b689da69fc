/*
 * testutil.c — see testutil.h.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void tu_cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "testutil: could not remove %s\n", tmpdir);
    }
}

static const char *tu_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/lstest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(tu_cleanup);
    }
    return tmpdir;
}

const char *tu_fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", LS_FIXTURES, name);
    return path;
}

const char *tu_leads_csv(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/Leads.csv", LS_SHARED_DATA);
    return access(path, R_OK) == 0 ? path : NULL;
}

const char *tu_write_temp(const char *name, const void *data, size_t len)
{
    static char path[8][1024];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 1024, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

struct frame *tu_frame_mem(const char *text)
{
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_mem(text, strlen(text), &o, &f, &err);
    if (rc)
        fail_msg("frame_read_mem failed (%d): %s", rc, err.msg);
    return f;
}

int tu_frame_error(const void *data, size_t len, const struct frame_opts *o, char *msg, size_t cap)
{
    struct frame_opts def;
    if (!o) {
        frame_opts_default(&def);
        o = &def;
    }
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_mem(data, len, o, &f, &err);
    if (msg && cap)
        snprintf(msg, cap, "%s", err.msg);
    if (rc == 0)
        frame_free(f);
    return rc;
}

size_t tu_col(const struct frame *f, const char *name)
{
    long i = frame_find(f, name);
    if (i < 0)
        fail_msg("no column '%s'", name);
    return (size_t)i;
}
