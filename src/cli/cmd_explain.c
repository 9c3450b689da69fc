/*
 * cmd_explain.c — `leadscore explain MODEL FILE.csv --row N | --id ID`.
 *
 * One lead's score taken apart: the base value, each column's contribution
 * as a bar (largest first, in the lead's own values), the raw forest
 * probability they add up to, and the calibration step to the score as its
 * own line. --json prints the same as one object.
 */
#include "app/explain.h"
#include "app/report.h"
#include "app/score.h"
#include "cli/cli.h"

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

    printf("Lead %llu of %s", (unsigned long long)row + 1, path);
    if (r->id_col >= 0)
        printf(" (%s %s)", f->cols[r->id_col].name, frame_cell(f, (size_t)r->id_col, row));
    printf("\nScore %.1f / 100, tier %s, rank %llu of %llu", r->score[row],
           tier_name((enum tier)r->tier[row]), (unsigned long long)r->rank[row],
           (unsigned long long)r->n);
    if (r->label[row] >= 0)
        printf(" — %s in the file: %s", m->target, r->label[row] ? m->positive : m->negative);
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

int cmd_explain(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct score_opts so;
    score_opts_default(&so);
    const char *files[2] = {NULL, NULL}, *id = NULL;
    uint64_t row_arg = 0, top = 12;
    int json = 0, rc = CLI_OK, have_model = 0, have_result = 0;
    struct frame *f = NULL;
    struct model m;
    struct score_result res;
    struct explain_result ex = {0};

    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(argc, argv, &i, &rd, usage, &json);
        if (r == CLI_ARG_ERROR || r == CLI_ARG_HELP) {
            rc = r == CLI_ARG_ERROR ? CLI_USAGE : CLI_OK;
            goto out;
        }
        if (r == CLI_ARG_TAKEN)
            continue;
        const char *a = argv[i];
        const char *v = NULL;
        int fr = cli_file_or_value("explain", argc, argv, &i, files, 2, &v);
        if (fr == CLI_ARG_ERROR) {
            rc = CLI_USAGE;
            goto out;
        }
        if (fr == CLI_ARG_TAKEN)
            continue;
        uint64_t n;
        if (strcmp(a, "--row") == 0) {
            if (cli_parse_size(v, &row_arg) || row_arg < 1)
                rc = cli_fail(CLI_USAGE, "--row must be a lead number from 1");
        } else if (strcmp(a, "--id") == 0)
            id = v;
        else if (strcmp(a, "--top") == 0) {
            if (cli_parse_size(v, &top) || top > 100000)
                rc = cli_fail(CLI_USAGE, "--top must be 0..100000");
        } else if (strcmp(a, "--threads") == 0) {
            if (cli_parse_size(v, &n) || n < 1 || n > FOREST_MAX_THREADS)
                rc = cli_fail(CLI_USAGE, "--threads must be 1..%d", FOREST_MAX_THREADS);
            so.threads = (uint32_t)n;
        } else
            rc = cli_fail(CLI_USAGE, "explain: unknown option '%s' (see leadscore explain --help)",
                          a);
        if (rc)
            goto out;
    }
    const char *model_path = files[0], *path = files[1];
    if (!model_path || !path || (!row_arg && !id) || (row_arg && id)) {
        fputs(usage, stderr);
        rc = CLI_USAGE;
        goto out;
    }
    struct ls_error err;
    ls_error_clear(&err);
    if (model_load(model_path, &m, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", model_path, err.msg);
        goto out;
    }
    have_model = 1;
    if (m.load_note)
        fprintf(stderr, "leadscore: note: %s\n", m.load_note);
    if (!rd.fo.missing_tokens) /* read as training did, unless --missing says otherwise */
        model_frame_opts(&m, &rd.fo);
    if (frame_read_file(path, &rd.fo, &f, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    if (app_score(&m, f, &so, &res, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    have_result = 1;
    uint64_t row = row_arg - 1;
    if (id) {
        if (res.id_col < 0) {
            rc = cli_fail(CLI_USAGE, "--id: the model has no identifier column in %s; use --row",
                          path);
            goto out;
        }
        for (row = 0; row < f->nrows; row++)
            if (strcmp(frame_cell(f, (size_t)res.id_col, row), id) == 0)
                break;
        if (row == f->nrows) {
            rc = cli_fail(CLI_BAD_INPUT, "no lead of %s has %s '%s'", path,
                          f->cols[res.id_col].name, id);
            goto out;
        }
    } else if (row >= f->nrows) {
        rc = cli_fail(CLI_USAGE, "--row %llu: %s has %llu leads", (unsigned long long)row_arg, path,
                      (unsigned long long)f->nrows);
        goto out;
    }
    app_explain(&m, &res, row, 1, so.threads, &ex);
    if (json) {
        json_t *j = json_object();
        json_object_set_new(j, "row", json_integer((json_int_t)row + 1));
        if (res.id_col >= 0) {
            json_t *idv = json_string(frame_cell(f, (size_t)res.id_col, row));
            json_object_set_new(j, "id", idv ? idv : json_null());
        }
        json_object_set_new(j, "score", json_real(res.score[row]));
        json_object_set_new(j, "raw", json_real(100.0 * res.raw[row]));
        json_object_set_new(j, "tier", json_string(tier_name((enum tier)res.tier[row])));
        if (res.oob[row])
            json_object_set_new(j, "out_of_bag", json_true());
        explain_lead_json(&m, f, &res, &ex, row, j);
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    } else {
        print_chart(&m, f, &res, &ex, row, path, (size_t)top);
    }
out:
    explain_result_cleanup(&ex);
    if (have_result)
        score_result_cleanup(&res);
    if (have_model)
        model_cleanup(&m);
    frame_free(f);
    cli_read_cleanup(&rd);
    return rc;
}
