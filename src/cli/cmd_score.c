/*
 * cmd_score.c — `leadscore score MODEL FILE.csv [-o OUT] [--json] [--report R]`.
 *
 * Scores every lead of FILE.csv: the CSV out is the input columns plus
 * score (calibrated likelihood, 0-100), tier and rank; --json writes JSON
 * Lines instead, one lead a line. --explain adds each lead's reasons (CSV:
 * reason_1..3, against_1..3; JSON: base, contributions, reasons) and puts
 * the file's importance and per-category summary in the --report. Warnings (missing columns, unseen
 * categories, ignored columns, drift) go to stderr and into the --report
 * summary; a run without drift says so in one "drift: ok" line on stderr.
 */
#include "app/explain.h"
#include "app/profile.h"
#include "app/report.h"
#include "app/score.h"
#include "cli/cli.h"
#include "core/outfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore score MODEL FILE.csv [-o OUT] [--json] [--report R.json] [options]\n"
    "\n"
    "Scores every lead of FILE.csv with MODEL. Leads whose outcome is known and\n"
    "that the model learned from get their out-of-bag score, never an in-sample one.\n"
    "\n"
    "  -o, --output OUT    write here instead of standard output\n"
    "  --json              JSON Lines: row, id, score, raw, tier, rank per lead\n"
    "  --report R.json     write the run's summary (tiers, warnings, drift, metrics)\n"
    "  --explain           add each lead's reasons: reason_1..3 and against_1..3\n"
    "                      columns (with --json: base, contributions, reasons)\n"
    "  --tiers quantile    tiers by rank: top 20%% High, next 30%% Medium\n"
    "  --high X --medium Y tier thresholds on the score (default: the model's)\n"
    "  --threads T         threads (default: all cores)\n";

/* A CSV field, quoted when it holds a delimiter, a quote or a line break. */
static void put_field(FILE *o, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, o);
        return;
    }
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

/* reason_1..3 or against_1..3 of one lead, each a CSV field ("" when fewer) */
static void put_reasons(FILE *o, const struct model *m, const struct frame *f,
                        const struct score_result *r, const struct explain_result *e, uint64_t i,
                        int sign)
{
    size_t feat[EXPLAIN_REASONS];
    size_t k = explain_top(e, i, sign, feat, EXPLAIN_REASONS);
    for (size_t t = 0; t < EXPLAIN_REASONS; t++) {
        char text[512] = "";
        if (t < k)
            explain_reason(m, f, r, e, feat[t], i, text, sizeof text);
        fputc(',', o);
        put_field(o, text);
    }
}

static void write_csv(FILE *o, const struct model *m, const struct frame *f,
                      const struct score_result *r, const struct explain_result *e)
{
    for (size_t c = 0; c < f->ncols; c++) {
        put_field(o, f->cols[c].name);
        fputc(',', o);
    }
    fputs("score,tier,rank", o);
    if (e)
        fputs(",reason_1,reason_2,reason_3,against_1,against_2,against_3", o);
    fputc('\n', o);
    for (uint64_t i = 0; i < f->nrows; i++) {
        for (size_t c = 0; c < f->ncols; c++) {
            put_field(o, frame_cell(f, c, i));
            fputc(',', o);
        }
        fprintf(o, "%.1f,%s,%llu", r->score[i], tier_name((enum tier)r->tier[i]),
                (unsigned long long)r->rank[i]);
        if (e) {
            put_reasons(o, m, f, r, e, i, 1);
            put_reasons(o, m, f, r, e, i, -1);
        }
        fputc('\n', o);
    }
}

static void write_jsonl(FILE *o, const struct model *m, const struct frame *f,
                        const struct score_result *r, const struct explain_result *e)
{
    for (uint64_t i = 0; i < f->nrows; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "row", json_integer((json_int_t)i + 1));
        if (r->id_col >= 0) {
            json_t *id = json_string(frame_cell(f, (size_t)r->id_col, i));
            json_object_set_new(j, "id", id ? id : json_null());
        }
        json_object_set_new(j, "score", json_real(r->score[i]));
        json_object_set_new(j, "raw", json_real(100.0 * r->raw[i]));
        json_object_set_new(j, "tier", json_string(tier_name((enum tier)r->tier[i])));
        json_object_set_new(j, "rank", json_integer((json_int_t)r->rank[i]));
        if (r->label[i] >= 0)
            json_object_set_new(j, "outcome", json_integer(r->label[i]));
        if (r->oob[i])
            json_object_set_new(j, "out_of_bag", json_true());
        if (e)
            explain_lead_json(m, f, r, e, i, j);
        /* 10 digits: contributions add up to raw_explained in the printed numbers too */
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (s) {
            fputs(s, o);
            fputc('\n', o);
        }
        free(s);
        json_decref(j);
    }
}

int cmd_score(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct score_opts so;
    score_opts_default(&so);
    const char *files[2] = {NULL, NULL}, *out = NULL, *report = NULL;
    int json = 0, rc = CLI_OK, have_model = 0, have_result = 0, explain = 0;
    struct explain_result ex = {0};
    struct frame *f = NULL;
    struct model m;
    struct score_result res;
    FILE *o = NULL;
    struct outfile of = {0};

    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(argc, argv, &i, &rd, usage, &json);
        if (r == CLI_ARG_ERROR || r == CLI_ARG_HELP) {
            rc = r == CLI_ARG_ERROR ? CLI_USAGE : CLI_OK;
            goto out;
        }
        if (r == CLI_ARG_TAKEN)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--explain") == 0) {
            explain = 1;
            continue;
        }
        const char *v = NULL;
        int fr = cli_file_or_value("score", argc, argv, &i, files, 2, &v);
        if (fr == CLI_ARG_ERROR) {
            rc = CLI_USAGE;
            goto out;
        }
        if (fr == CLI_ARG_TAKEN)
            continue;
        uint64_t n;
        char *end;
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            out = v;
        else if (strcmp(a, "--report") == 0)
            report = v;
        else if (strcmp(a, "--tiers") == 0) {
            if (strcmp(v, "quantile") == 0)
                so.quantile_tiers = 1;
            else if (strcmp(v, "score") != 0)
                rc = cli_fail(CLI_USAGE, "--tiers is 'score' or 'quantile'");
        } else if (strcmp(a, "--high") == 0 || strcmp(a, "--medium") == 0) {
            double d = strtod(v, &end);
            if (end == v || *end || !(d >= 0 && d <= 100))
                rc = cli_fail(CLI_USAGE, "%s must be a score from 0 to 100", a);
            *(a[2] == 'h' ? &so.high : &so.medium) = d;
        } else if (strcmp(a, "--threads") == 0) {
            if (cli_parse_size(v, &n) || n < 1 || n > FOREST_MAX_THREADS)
                rc = cli_fail(CLI_USAGE, "--threads must be 1..%d", FOREST_MAX_THREADS);
            so.threads = (uint32_t)n;
        } else
            rc = cli_fail(CLI_USAGE, "score: unknown option '%s' (see leadscore score --help)", a);
        if (rc)
            goto out;
    }
    const char *model_path = files[0], *path = files[1];
    if (!model_path || !path) {
        fputs(usage, stderr);
        rc = CLI_USAGE;
        goto out;
    }
    struct ls_error err;
    ls_error_clear(&err);
    /* before reading anything: no output may destroy an input or the other output */
    const char *others_out[] = {model_path, path, report}, *others_rep[] = {model_path, path, out};
    if ((out && outfile_check(out, others_out, 3, &err)) ||
        (report && outfile_check(report, others_rep, 3, &err))) {
        rc = cli_fail(cli_code(&err), "score: %s", err.msg);
        goto out;
    }
    if (model_load(model_path, &m, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", model_path, err.msg);
        goto out;
    }
    have_model = 1;
    if (so.high >= 0 && so.medium >= 0 && so.medium > so.high) {
        rc = cli_fail(CLI_USAGE, "--medium must not be above --high");
        goto out;
    }
    if (frame_read_file(path, &rd.fo, &f, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    if (app_score(&m, f, &so, &res, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    have_result = 1;
    json_t *w = json_array();
    report_score_warnings(&m, &res, w);
    size_t k;
    json_t *v;
    json_array_foreach(w, k, v) fprintf(stderr, "leadscore: warning: %s\n", json_string_value(v));
    json_decref(w);
    if (res.drift.status == DRIFT_OK) { /* otherwise the drift line is one of the warnings */
        char line[256];
        report_drift_line(&m, &res, line, sizeof line);
        fprintf(stderr, "leadscore: %s\n", line);
    }

    if (explain)
        app_explain(&m, &res, 0, res.n, so.threads, &ex);

    if (out) {
        if (outfile_open(&of, out, &err)) {
            rc = cli_fail(cli_code(&err), "%s", err.msg);
            goto out;
        }
        o = of.f;
    } else {
        o = stdout;
    }
    if (json)
        write_jsonl(o, &m, f, &res, explain ? &ex : NULL);
    else
        write_csv(o, &m, f, &res, explain ? &ex : NULL);
    if (out ? outfile_commit(&of, &err) != 0 : (fflush(o) != 0 || ferror(o))) {
        rc = cli_fail(CLI_BAD_INPUT, "writing %s failed%s%s",
                      out ? "the scores" : "standard output", out ? ": " : "", out ? err.msg : "");
        goto out;
    }
    if (report) {
        json_t *j = report_score(&m, &res);
        if (explain)
            json_object_set_new(j, "explanations", explain_summary_json(&m, &res, &ex));
        if (outfile_open(&of, report, &err) != 0 ||
            json_dumpf(j, of.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) !=
                0 ||
            fputc('\n', of.f) == EOF || outfile_commit(&of, &err) != 0)
            rc = cli_fail(CLI_BAD_INPUT, "cannot write report '%s': %s", report, err.msg);
        json_decref(j);
    }
out:
    outfile_abort(&of);
    explain_result_cleanup(&ex);
    if (have_result)
        score_result_cleanup(&res);
    if (have_model)
        model_cleanup(&m);
    frame_free(f);
    cli_read_cleanup(&rd);
    return rc;
}
