/*
 * cmd_score.c — `leadscore score MODEL FILE.csv [-o OUT] [--json] [--report R]`.
 *
 * Scores every lead of FILE.csv: the CSV out is the input columns plus
 * score (calibrated likelihood, 0-100), tier and rank; --json writes JSON
 * Lines instead, one lead a line. --explain adds each lead's reasons (CSV:
 * reason_1..3, against_1..3; JSON: base, contributions, reasons) and puts
 * the file's importance and per-category summary in the --report. Warnings
 * (missing columns, unseen categories, ignored columns, drift) go to stderr
 * and into the --report summary; a run without drift says so in one
 * "drift: ok" line on stderr. The run itself is app/run.h's, shared with the
 * server; this file parses the options and writes the outputs, each one
 * safely (core/outfile.h).
 */
#include "app/run.h"
#include "cli/cli.h"
#include "core/outfile.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore score MODEL FILE.csv [-o OUT] [--json] [--report R.json] [options]\n"
    "\n"
    "Scores every lead of FILE.csv with MODEL. Leads whose outcome is known and\n"
    "that the model learned from get their out-of-bag score, never an in-sample one.\n"
    "Outputs are written whole or not at all (a temp file renamed into place), never\n"
    "over an input, a device or a directory.\n"
    "\n"
    "  -o, --output OUT    write here instead of standard output\n"
    "  --json              JSON Lines: row, id, score, raw, tier, rank per lead\n"
    "  --report R.json     write the run's summary (tiers, warnings, drift, metrics)\n"
    "  --explain           add each lead's reasons: reason_1..3 and against_1..3\n"
    "                      columns (with --json: base, contributions, reasons)\n"
    "  --tiers quantile    tiers by rank: top 20% High, next 30% Medium\n"
    "  --high X --medium Y tier thresholds on the score (default: the model's)\n"
    "  --threads T         threads (default: all cores)\n";

struct score_args {
    struct run_opts run;
    const char *out, *report;
    int json;
};

static int set_tiers(const struct cli_option *opt, const char *v, void *target)
{
    struct score_args *a = target;
    if (strcmp(v, "quantile") == 0)
        a->run.score.quantile_tiers = 1;
    else if (strcmp(v, "score") == 0)
        a->run.score.quantile_tiers = 0;
    else
        return cli_fail(CLI_USAGE, "%s is 'score' or 'quantile' (not '%s')", opt->name, v);
    return 0;
}

#define ARG(field) offsetof(struct score_args, field)
static const struct cli_option options[] = {
    {"--output", "-o", 1, cli_opt_string, ARG(out), 0, 0},
    {"--report", NULL, 1, cli_opt_string, ARG(report), 0, 0},
    {"--json", NULL, 0, cli_opt_flag, ARG(json), 0, 0},
    {"--explain", NULL, 0, cli_opt_flag, ARG(run.explain), 0, 0},
    {"--tiers", NULL, 1, set_tiers, 0, 0, 0},
    {"--high", NULL, 1, cli_opt_double, ARG(run.score.high), 0, 100},
    {"--medium", NULL, 1, cli_opt_double, ARG(run.score.medium), 0, 100},
    {"--threads", NULL, 1, cli_opt_u32, ARG(run.score.threads), 1, FOREST_MAX_THREADS},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {"MODEL", "FILE.csv", NULL};
static const struct cli_command command = {"score", usage, options, file_names, 2};

/* The report of the run, written safely to path. */
static int write_report(const struct run_result *res, const char *path)
{
    struct outfile of;
    struct ls_error err;
    ls_error_clear(&err);
    if (outfile_open(&of, path, &err) != LS_OK)
        return cli_fail(cli_code(&err), "%s", err.msg);
    if (json_dumpf(res->report, of.f,
                   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0 ||
        fputc('\n', of.f) == EOF) {
        outfile_abort(&of);
        return cli_fail(CLI_BAD_INPUT, "cannot write report '%s'", path);
    }
    if (outfile_commit(&of, &err) != LS_OK)
        return cli_fail(CLI_BAD_INPUT, "cannot write report '%s': %s", path, err.msg);
    return CLI_OK;
}

int cmd_score(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct score_args a = {0};
    run_opts_default(&a.run);
    const char *files[2] = {NULL, NULL};
    struct run_result res = {0};
    struct outfile of = {0};
    struct ls_error err;
    ls_error_clear(&err);
    int rc = cli_parse(&command, argc, argv, &a, files, &rd);
    if (rc >= 0)
        goto out;
    rc = CLI_OK;
    const struct score_opts *so = &a.run.score;
    if (so->high >= 0 && so->medium >= 0 && so->medium > so->high) {
        rc = cli_fail(CLI_USAGE, "--medium must not be above --high");
        goto out;
    }
    /* before reading anything: no output may destroy an input or the other output */
    const char *others_out[] = {files[0], files[1], a.report};
    const char *others_rep[] = {files[0], files[1], a.out};
    if ((a.out && outfile_check(a.out, others_out, 3, &err)) ||
        (a.report && outfile_check(a.report, others_rep, 3, &err))) {
        rc = cli_fail(cli_code(&err), "score: %s", err.msg);
        goto out;
    }
    a.run.model_path = files[0];
    a.run.csv_path = files[1];
    a.run.read = rd.fo;
    a.run.user_missing = rd.user_missing;
    a.run.report = a.report != NULL;
    a.run.progress = cli_step_progress;
    if (app_run_score(&a.run, &res, &err)) {
        rc = cli_fail(cli_code(&err), "%s", err.msg);
        goto out;
    }
    size_t k;
    json_t *w;
    json_array_foreach(res.warnings, k, w)
        fprintf(stderr, "leadscore: warning: %s\n", json_string_value(w));
    if (res.score.drift.status == DRIFT_OK) /* otherwise the drift line is one of the warnings */
        fprintf(stderr, "leadscore: %s\n", res.drift_line);

    FILE *o = stdout;
    if (a.out) {
        if (outfile_open(&of, a.out, &err)) {
            rc = cli_fail(cli_code(&err), "%s", err.msg);
            goto out;
        }
        o = of.f;
    }
    if (a.json)
        run_write_jsonl(&res, o);
    else
        run_write_csv(&res, o);
    if (a.out ? outfile_commit(&of, &err) != 0 : (fflush(o) != 0 || ferror(o))) {
        rc = cli_fail(CLI_BAD_INPUT, "writing %s failed%s%s",
                      a.out ? "the scores" : "standard output", a.out ? ": " : "",
                      a.out ? err.msg : "");
        goto out;
    }
    if (a.report)
        rc = write_report(&res, a.report);
out:
    outfile_abort(&of);
    run_result_cleanup(&res);
    cli_read_cleanup(&rd);
    return rc;
}
