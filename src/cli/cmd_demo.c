/*
 * cmd_demo.c — `leadscore demo-data [--rows N] [--seed S] [-o FILE]`.
 *
 * Writes a generated lead data set (see data/demo.h), so that `make run`, the
 * tests and the benchmarks work on a fresh clone with no data of their own.
 */
#include "cli/cli.h"
#include "core/outfile.h"
#include "data/demo.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore demo-data [--rows N] [--seed S] [--unknown SHARE] [-o FILE]\n"
    "\n"
    "Writes a realistic, generated CSV of leads (default 5000 rows, seed 42) to\n"
    "FILE or standard output. SHARE (default 0.1) of the leads have no outcome.\n";

struct demo_args {
    struct demo_opts demo;
    const char *out;
};

static int set_seed(const struct cli_option *opt, const char *v, void *target)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || *v == '-')
        return cli_fail(CLI_USAGE, "%s must be a non-negative integer", opt->name);
    ((struct demo_args *)target)->demo.seed = n;
    return 0;
}

#define ARG(field) offsetof(struct demo_args, field)
static const struct cli_option options[] = {
    {"--rows", NULL, 1, cli_opt_u64, ARG(demo.rows), 1, (double)DEMO_MAX_ROWS},
    {"--seed", NULL, 1, set_seed, 0, 0, 0},
    {"--unknown", NULL, 1, cli_opt_double, ARG(demo.unknown_share), 0, 1},
    {"--output", "-o", 1, cli_opt_string, ARG(out), 0, 0},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {NULL};
static const struct cli_command command = {"demo-data", usage, options, file_names, 0};

int cmd_demo_data(int argc, char **argv)
{
    struct demo_args args = {0};
    demo_opts_default(&args.demo);
    int rc = cli_parse(&command, argc, argv, &args, NULL, NULL);
    if (rc >= 0)
        return rc;
    const struct demo_opts o = args.demo;
    const char *path = args.out;
    struct ls_error err;
    ls_error_clear(&err);
    struct outfile of = {0};
    FILE *out = stdout;
    if (path) {
        if (outfile_open(&of, path, &err))
            return cli_fail(cli_code(&err), "demo-data: %s", err.msg);
        out = of.f;
    }
    static char iobuf[1 << 16];
    setvbuf(out, iobuf, _IOFBF, sizeof iobuf);
    rc = demo_write(out, &o, &err);
    if (path)
        rc = rc == LS_OK ? outfile_commit(&of, &err) : (outfile_abort(&of), rc);
    if (rc)
        return cli_fail(CLI_BAD_INPUT, "demo-data: %s", err.msg);
    return CLI_OK;
}
