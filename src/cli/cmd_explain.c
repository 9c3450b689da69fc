/*
 * cmd_explain.c — `leadscore explain MODEL FILE.csv --row N | --id ID`.
 *
 * One lead's score taken apart: the base value, each column's contribution
 * as a bar (largest first, in the lead's own values), the raw forest
 * probability they add up to, and the calibration step to the score as its
 * own line. --json prints the same as one object. The run is app/run.h's,
 * shared with `score` and the server; cell text is escaped before it reaches
 * the terminal.
 */
#include "app/run.h"
#include "cli/cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore explain MODEL FILE.csv (--row N | --id ID) [--top K] [--json]\n"
    "\n"
    "Shows why one lead of FILE.csv got its score: the average lead's value\n"
    "(base), what each column added or took away in points, the raw forest\n"
    "probability they sum to exactly, and the calibrated score.\n"
    "\n"
    "  --row N             the Nth lead of the file (1 = the first data row)\n"
    "  --id ID             the lead whose identifier column holds ID\n"
    "  --top K             columns shown one by one (default 12; 0: all)\n"
    "  --json              one JSON object instead of the chart\n"
    "  --threads T         threads (default: all cores)\n";

#define LABEL_WIDTH 52
#define BAR_WIDTH   24

static void put_bar(double v, double scale)
{
    int len = scale > 0 ? (int)(BAR_WIDTH * (v < 0 ? -v : v) / scale + 0.5) : 0;
    if (len == 0 && v != 0)
        len = 1;
    if (len > BAR_WIDTH) /* a sum of columns can outgrow the largest one: stay in the column */
        len = BAR_WIDTH;
    for (int k = 0; k < len; k++)
        fputs(v < 0 ? "░" : "█", stdout);
    printf("%*s", BAR_WIDTH - len, "");
}

struct contrib {
    size_t j;
    double v;
};

static int cmp_abs(const void *a, const void *b)
{
    const struct contrib *x = a, *y = b;
    double ax = x->v < 0 ? -x->v : x->v, ay = y->v < 0 ? -y->v : y->v;
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

static void print_chart(const struct model *m, const struct frame *f, const struct score_result *r,
                        const struct explain_result *e, uint64_t row, const char *path, size_t top)
{
    size_t nf = e->nfeat;
    struct contrib *c = malloc((nf ? nf : 1) * sizeof *c);
    if (!c)
        return;
    double scale = 0;
    for (size_t j = 0; j < nf; j++) {
        c[j] = (struct contrib){j, e->phi[j]};
        double a = c[j].v < 0 ? -c[j].v : c[j].v;
        scale = a > scale ? a : scale;
    }
    qsort(c, nf, sizeof *c, cmp_abs);
    if (top == 0 || top > nf)
        top = nf;

    printf("Lead %llu of ", (unsigned long long)row + 1);
    cli_print_text(path, 0);
    if (r->id_col >= 0) {
        fputs(" (", stdout);
        cli_print_text(f->cols[r->id_col].name, 60);
        fputs(" ", stdout);
        cli_print_text(frame_cell(f, (size_t)r->id_col, row), 60);
        fputs(")", stdout);
    }
    printf("\nScore %.1f / 100, tier %s, rank %llu of %llu", r->score[row],
           tier_name((enum tier)r->tier[row]), (unsigned long long)r->rank[row],
           (unsigned long long)r->n);
    if (r->label[row] >= 0) {
        fputs(" — ", stdout);
        cli_print_text(m->target, 60);
        fputs(" in the file: ", stdout);
        cli_print_text(r->label[row] ? m->positive : m->negative, 60);
    }
    printf("\n\n");

    cli_print_padded("base: the average lead (points)", LABEL_WIDTH);
    printf("%*s%8.1f\n", BAR_WIDTH, "", e->base[0]);
    for (size_t k = 0; k < top; k++) {
        char val[EXPLAIN_VALUE_MAX + 64], label[EXPLAIN_VALUE_MAX + 512];
        explain_value(m, f, r, c[k].j, row, val, sizeof val);
        snprintf(label, sizeof label, "%s = %s", m->schema.feat[c[k].j].name, val);
        fputs("  ", stdout);
        cli_print_padded(label, LABEL_WIDTH - 2);
        put_bar(c[k].v, scale);
        printf("%+8.1f\n", c[k].v);
    }
    if (top < nf) {
        double rest = 0;
        for (size_t k = top; k < nf; k++)
            rest += c[k].v;
        char label[64];
        snprintf(label, sizeof label, "  %zu more columns together", nf - top);
        cli_print_padded(label, LABEL_WIDTH);
        put_bar(rest, scale);
        printf("%+8.1f\n", rest);
    }
    cli_print_padded("= raw forest probability (points)", LABEL_WIDTH);
    printf("%*s%8.1f\n", BAR_WIDTH, "", e->raw[0]);
    if (r->oob[row] && !r->inbag) { /* a version 1 model: no in-bag sets */
        cli_print_padded("  the score uses the out-of-bag raw instead", LABEL_WIDTH);
        printf("%*s%8.1f\n", BAR_WIDTH, "", 100.0 * r->raw[row]);
        printf("  (the model trained on this lead: its score comes from the trees that did\n"
               "   not see it; the bars explain all trees)\n");
    }
    cli_print_padded("→ calibrated likelihood (isotonic map of raw)", LABEL_WIDTH);
    printf("%*s%8.1f\n", BAR_WIDTH, "", r->score[row]);
    free(c);
}

struct explain_args {
    struct run_opts run;
    uint64_t row, top;
    int json;
};

#define ARG(field) offsetof(struct explain_args, field)
static const struct cli_option options[] = {
    {"--row", NULL, 1, cli_opt_u64, ARG(row), 1, 1e15},
    {"--id", NULL, 1, cli_opt_string, ARG(run.explain_id), 0, 0},
    {"--top", NULL, 1, cli_opt_u64, ARG(top), 0, 100000},
    {"--json", NULL, 0, cli_opt_flag, ARG(json), 0, 0},
    {"--threads", NULL, 1, cli_opt_u32, ARG(run.score.threads), 1, FOREST_MAX_THREADS},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {"MODEL", "FILE.csv", NULL};
static const struct cli_command command = {"explain", usage, options, file_names, 2};

int cmd_explain(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct explain_args a = {0};
    run_opts_default(&a.run);
    a.top = 12;
    const char *files[2] = {NULL, NULL};
    struct run_result res = {0};
    int rc = cli_parse(&command, argc, argv, &a, files, &rd);
    if (rc >= 0)
        goto out;
    rc = CLI_OK;
    if (!a.row == !a.run.explain_id) {
        rc = cli_fail(CLI_USAGE, "explain: name the lead with --row N or --id ID (one of them)");
        goto out;
    }
    a.run.model_path = files[0];
    a.run.csv_path = files[1];
    a.run.read = rd.fo;
    a.run.user_missing = rd.user_missing;
    a.run.explain = 1;
    a.run.explain_row0 = a.row ? a.row - 1 : 0;
    a.run.explain_n = 1;
    a.run.progress = cli_step_progress;
    struct ls_error err;
    ls_error_clear(&err);
    if (app_run_score(&a.run, &res, &err)) {
        if (res.score.raw) /* scored: the lead named is not in the file */
            rc = cli_fail(cli_code(&err), "%s%s: %s", a.row ? "--row" : "--id ",
                          a.row ? "" : a.run.explain_id, err.msg);
        else
            rc = cli_fail(cli_code(&err), "%s", err.msg);
        goto out;
    }
    uint64_t row = res.ex.row0;
    if (res.id_matches > 1)
        fprintf(stderr,
                "leadscore: note: %llu leads have %s '%s'; shown: the first, lead %llu of the "
                "file (use --row to pick another)\n",
                (unsigned long long)res.id_matches, res.f->cols[res.score.id_col].name,
                a.run.explain_id, (unsigned long long)row + 1);
    if (a.json) {
        json_t *j = run_lead_json(&res, row);
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    } else {
        print_chart(res.m, res.f, &res.score, &res.ex, row, files[1], (size_t)a.top);
    }
out:
    run_result_cleanup(&res);
    cli_read_cleanup(&rd);
    return rc;
}
