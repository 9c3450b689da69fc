/*
 * cmd_train.c — `leadscore train FILE.csv -o MODEL [options]`.
 *
 * Reads the CSV, trains the forest on the rows with a known outcome (app/train.h:
 * the leakage scan runs first and the columns it marks "exclude" are left out
 * unless --include-leaky), prints what was left out and why, the warnings,
 * out-of-bag metrics (never in-sample ones) and writes the model file.
 */
#include "app/leakage.h"
#include "app/profile.h"
#include "app/report.h"
#include "app/train.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "core/outfile.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: leadscore train FILE.csv -o MODEL [options] [read options]\n"
    "\n"
    "Learns from the leads whose outcome is known and writes MODEL. Metrics are\n"
    "measured on out-of-bag predictions: each lead is judged only by trees that\n"
    "did not learn from it.\n"
    "\n"
    "  -o, --output MODEL  where to write the model (required)\n"
    "  --target NAME       the outcome column (default: detected)\n"
    "  --positive LABEL    the target's value that counts as converted (default:\n"
    "                      detected)\n"
    "  --exclude A,B       columns to leave out; repeatable, names trimmed and\n"
    "                      matched without case; a name holding a comma is given\n"
    "                      whole as its own --exclude (identifiers, free text and\n"
    "                      constant columns are always left out)\n"
    "  --include-leaky     keep the columns the leakage scan marks \"exclude\"\n"
    "                      (filled in after the outcome; see leadscore inspect and\n"
    "                      docs/leakage.md). By default they are left out and named\n"
    "  --auto-exclude      accepted for old scripts: leaving them out is the default\n"
    "  --trees N           trees in the forest (default 100)\n"
    "  --mtry N            features tried per split (default: sqrt of features)\n"
    "  --min-leaf N        smallest leaf, in bootstrap-weighted rows (default:\n"
    "                      10, or rows / 5000 when that is larger)\n"
    "  --max-depth N       depth limit (default: none)\n"
    "  --balanced          weight the classes inversely to their frequency\n"
    "  --holdout SHARE     also keep SHARE (e.g. 0.2) of the labelled rows out and\n"
    "                      report metrics on them\n"
    "  --high X --medium Y tier thresholds on the 0-100 score (default 70, 30)\n"
    "  --seed S            random seed (default 42): same seed, same model\n"
    "  --threads T         threads (default: all cores)\n"
    "  --json              print one JSON object instead of text\n";

static void progress(void *ctx, uint32_t done, uint32_t total)
{
    (void)ctx;
    if (!isatty(STDERR_FILENO))
        return;
    cli_step_progress(NULL, "", 1, 1); /* clears the leakage scan's line, if shown */
    int width = 30, fill = (int)((uint64_t)done * (uint64_t)width / total);
    fprintf(stderr, "\rgrowing trees [%.*s%*s] %u/%u", fill, "##############################",
            width - fill, "", done, total);
    if (done == total)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* What the leakage scan left out (or kept, with --include-leaky), and the
 * flagged columns kept for a check. */
static void print_leakage(const struct train_summary *s)
{
    const struct leakage_report *lr = s->leakage;
    if (!lr)
        return;
    size_t n = leakage_count(lr, LEAKAGE_EXCLUDE);
    if (n == 0)
        printf("leakage scan: no column marked \"exclude\" (%zu scanned)\n", lr->ncols);
    else if (s->include_leaky)
        printf("kept %zu column%s the leakage scan marks \"exclude\" (--include-leaky): the "
               "metrics below are likely inflated\n",
               n, n == 1 ? "" : "s");
    else
        printf("left out %zu column%s the leakage scan marks \"exclude\" (--include-leaky "
               "keeps them):\n",
               n, n == 1 ? "" : "s");
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < lr->ncols; i++) {
            const struct leakage_column *c = &lr->cols[i];
            if (c->level == (pass ? LEAKAGE_CHECK : LEAKAGE_EXCLUDE))
                printf("  %s %s — %s\n",
                       pass               ? "kept (check):"
                       : s->include_leaky ? "+"
                                          : "-",
                       c->name, c->reason);
        }
    printf("\n");
}

static void print_text(const struct model *m, const struct train_summary *s, const char *out)
{
    printf("trained %u trees on %llu leads with a known outcome (%llu converted), %zu features, "
           "in %.2f s\n",
           m->trees, (unsigned long long)s->train_rows, (unsigned long long)m->train_pos,
           s->features, s->took_ms / 1000.0);
    printf("target: %s = %s\n\n", m->target, m->positive);
    printf("out-of-bag (each lead judged by the trees that did not see it):\n");
    printf("  AUC %.4f   log-loss %.4f   Brier %.4f\n", m->oob.auc, m->oob.logloss, m->oob.brier);
    printf("  top 10%%: precision %.1f%%, recall %.1f%%   top 20%%: precision %.1f%%, recall "
           "%.1f%%\n",
           100 * m->oob.precision_top10, 100 * m->oob.recall_top10, 100 * m->oob.precision_top20,
           100 * m->oob.recall_top20);
    printf("  lift by decile:");
    for (int k = 0; k < METRICS_DECILES; k++)
        printf(" %.2f", m->oob.lift[k]);
    printf("\n");
    if (m->has_holdout)
        printf("holdout (%llu leads): AUC %.4f   log-loss %.4f\n",
               (unsigned long long)s->holdout_rows, m->holdout.auc, m->holdout.logloss);
    printf("\nmodel written to %s\n", out);
}

struct train_args {
    struct train_opts o;
    const char *out;
    int json, auto_exclude;
};

/* Each --exclude is kept whole: app_train reads it as one column name or a
 * comma-separated list (train.h). */
static int add_exclude(const struct cli_option *opt, const char *v, void *target)
{
    struct train_opts *o = &((struct train_args *)target)->o;
    if (o->nexclude == TRAIN_MAX_EXCLUDE)
        return cli_fail(CLI_USAGE, "%s: at most %d arguments", opt->name, TRAIN_MAX_EXCLUDE);
    o->exclude[o->nexclude++] = v;
    return 0;
}

static int set_seed(const struct cli_option *opt, const char *v, void *target)
{
    uint64_t seed;
    if (cli_parse_size(v, &seed))
        return cli_fail(CLI_USAGE, "%s must be a non-negative integer", opt->name);
    ((struct train_args *)target)->o.forest.seed = seed;
    return 0;
}

#define ARG(field) offsetof(struct train_args, field)
static const struct cli_option options[] = {
    {"--output", "-o", 1, cli_opt_string, ARG(out), 0, 0},
    {"--target", NULL, 1, cli_opt_string, ARG(o.target), 0, 0},
    {"--positive", NULL, 1, cli_opt_string, ARG(o.positive), 0, 0},
    {"--exclude", NULL, 1, add_exclude, 0, 0, 0},
    {"--include-leaky", NULL, 0, cli_opt_flag, ARG(o.include_leaky), 0, 0},
    {"--auto-exclude", NULL, 0, cli_opt_flag, ARG(auto_exclude), 0, 0}, /* the default now */
    {"--balanced", NULL, 0, cli_opt_flag, ARG(o.forest.balanced), 0, 0},
    {"--trees", NULL, 1, cli_opt_u32, ARG(o.forest.trees), 1, FOREST_MAX_TREES},
    {"--mtry", NULL, 1, cli_opt_u32, ARG(o.forest.mtry), 1, 65535},
    {"--min-leaf", NULL, 1, cli_opt_u32, ARG(o.forest.min_leaf), 1, 1000000},
    {"--max-depth", NULL, 1, cli_opt_u32, ARG(o.forest.max_depth), 1, TREE_MAX_DEPTH},
    {"--threads", NULL, 1, cli_opt_u32, ARG(o.forest.threads), 1, FOREST_MAX_THREADS},
    {"--holdout", NULL, 1, cli_opt_double, ARG(o.holdout), 0, 0.9},
    {"--high", NULL, 1, cli_opt_double, ARG(o.tier_high), 0, 100},
    {"--medium", NULL, 1, cli_opt_double, ARG(o.tier_medium), 0, 100},
    {"--seed", NULL, 1, set_seed, 0, 0, 0},
    {"--json", NULL, 0, cli_opt_flag, ARG(json), 0, 0},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {"FILE.csv", NULL};
static const struct cli_command command = {"train", usage, options, file_names, 1};

int cmd_train(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct train_args a = {0};
    train_opts_default(&a.o);
    struct train_opts o; /* filled from a once parsed */
    const char *path = NULL, *out = NULL;
    int json = 0;
    struct frame *f = NULL;
    struct model m;
    model_init(&m);
    struct train_summary sum = {0};
    int rc = cli_parse(&command, argc, argv, &a, &path, &rd);
    if (rc >= 0)
        goto out;
    rc = CLI_OK;
    o = a.o;
    out = a.out;
    json = a.json;
    if (!out) {
        rc = cli_fail(CLI_USAGE, "train: missing -o MODEL (where to write the model)");
        goto out;
    }
    if (o.tier_medium > o.tier_high) {
        rc = cli_fail(CLI_USAGE, "--medium (%g) must not be above --high (%g)", o.tier_medium,
                      o.tier_high);
        goto out;
    }
    o.forest.progress = progress;

    struct ls_error err;
    ls_error_clear(&err);
    /* before reading anything: the model must not replace the training file */
    if (outfile_check(out, &path, 1, &err)) {
        rc = cli_fail(cli_code(&err), "train: %s", err.msg);
        goto out;
    }
    if (frame_read_file(path, &rd.fo, &f, &err)) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    o.missing_tokens = rd.fo.missing_tokens; /* the model keeps how its file was read */
    if (!o.skip_leakage_scan)                /* the scan runs first in app_train */
        cli_step_progress(NULL, "scanning for leakage", 0, 1);
    int trc = app_train(f, &o, &m, &sum, &err);
    cli_step_progress(NULL, "", 1, 1);
    if (trc) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg);
        goto out;
    }
    if (model_save(&m, out, &err)) {
        rc = cli_fail(cli_code(&err), "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < sum.nwarnings; i++)
        fprintf(stderr, "leadscore: warning: %s\n", sum.warnings[i]);
    if (json) {
        json_t *j = report_train(&m, &sum, out);
        train_summary_json(&sum, j);
        char *s = profile_dumps(j, 1);
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    } else {
        print_leakage(&sum);
        print_text(&m, &sum, out);
    }
out:
    train_summary_cleanup(&sum);
    model_cleanup(&m);
    frame_free(f);
    cli_read_cleanup(&rd);
    return rc;
}
