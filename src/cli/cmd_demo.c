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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore demo-data [--rows N] [--seed S] [--unknown SHARE] [-o FILE]\n"
    "\n"
    "Writes a realistic, generated CSV of leads (default 5000 rows, seed 42) to\n"
    "FILE or standard output. SHARE (default 0.1) of the leads have no outcome.\n";

int cmd_demo_data(int argc, char **argv)
{
    struct demo_opts o;
    demo_opts_default(&o);
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t n;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (i + 1 >= argc)
            return cli_fail(CLI_USAGE,
                            "demo-data: '%s' is not an option with a value (see "
                            "--help)",
                            a);
        const char *v = argv[++i];
        if (strcmp(a, "--rows") == 0) {
            if (cli_parse_size(v, &n) || n == 0 || n > DEMO_MAX_ROWS)
                return cli_fail(CLI_USAGE, "--rows must be 1..%llu",
                                (unsigned long long)DEMO_MAX_ROWS);
            o.rows = n;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            n = strtoull(v, &end, 10);
            if (errno || end == v || *end || *v == '-')
                return cli_fail(CLI_USAGE, "--seed must be a non-negative integer");
            o.seed = n;
        } else if (strcmp(a, "--unknown") == 0) {
            char *end;
            double s = strtod(v, &end);
            if (*end || !(s >= 0 && s <= 1))
                return cli_fail(CLI_USAGE, "--unknown must be a share between 0 and 1");
            o.unknown_share = s;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            path = v;
        } else {
            return cli_fail(CLI_USAGE, "demo-data: unknown option '%s'", a);
        }
    }
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
    int rc = demo_write(out, &o, &err);
    if (path)
        rc = rc == LS_OK ? outfile_commit(&of, &err) : (outfile_abort(&of), rc);
    if (rc)
        return cli_fail(CLI_BAD_INPUT, "demo-data: %s", err.msg);
    return CLI_OK;
}
