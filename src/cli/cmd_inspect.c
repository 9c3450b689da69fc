/*
 * cmd_inspect.c — `leadscore inspect FILE.csv [--target NAME] [--json]`.
 *
 * Reads a CSV, types and profiles every column, finds the target, and prints
 * it as a table (or, with --json, as the profile object of app/profile.h).
 * A file that cannot be read exits 1 with the message on stderr; a file read
 * fine but with no usable target prints its profile and exits 1 too, because
 * nothing can be trained on it until a target is named.
 *
 * With a target, the leakage scan (app/leakage.h) runs too: columns that look
 * filled in after the outcome are listed after the column table, and under
 * "leakage" in the JSON.
 */
#include "app/leakage.h"
#include "app/profile.h"
#include "cli/cli.h"
#include "data/target.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: leadscore inspect FILE.csv [--target NAME] [--json] [read options]\n"
    "\n"
    "Reads FILE.csv, infers each column's type (numeric, boolean, categorical,\n"
    "datetime, identifier, text, constant), profiles it, and finds the target.\n"
    "Then it scans for leakage: columns that give the outcome away because they\n"
    "were filled in after it (each column alone against the target; see\n"
    "docs/leakage.md). Flagged columns are listed with their figures.\n"
    "\n"
    "  --target NAME       the outcome column (default: detected)\n"
    "  --json              print one JSON object instead of a table\n";

/* 9237 -> "9,237" */
static const char *group_digits(uint64_t v, char *out, size_t cap)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
    return out;
}

/* The mean of a numeric column's values, as a running mean: a sum of values
 * near 1e308 would overflow where their mean does not. NaN when none. */
static double column_mean(const struct frame *f, const struct column *c)
{
    double mu = NAN;
    uint64_t k = 0;
    for (uint64_t r = 0; c->num && r < f->nrows; r++) {
        double x = c->num[r];
        if (isnan(x))
            continue;
        k++;
        mu = k == 1 ? x : mu + (x / (double)k - mu / (double)k);
    }
    return mu;
}
static void summary(const struct frame *f, const struct column *c, char *out, size_t cap)
{
    out[0] = '\0';
    switch (c->type) {
    case COL_NUMERIC: {
        char mean[32] = "n/a";
        double mu = column_mean(f, c);
        if (isfinite(mu))
            snprintf(mean, sizeof mean, "%.6g", mu);
        snprintf(out, cap, "min %.6g · mean %s · max %.6g", c->prof.min, mean, c->prof.max);
        break;
    }
    case COL_BOOLEAN:
        snprintf(out, cap, "%s %.1f%% · %s %.1f%%", c->true_label, 100 * c->prof.mean,
                 c->false_label, 100 * (1 - c->prof.mean));
        break;
    case COL_CATEGORICAL: {
        size_t o = 0;
        uint64_t nonmiss = f->nrows - c->prof.missing;
        for (uint32_t k = 0; k < c->ncat && k < 3 && o + 1 < cap; k++) {
            char cat[128];
            cli_escape(c->cats[k], 24, cat, sizeof cat);
            int w = snprintf(out + o, cap - o, "%s%s %.0f%%", k ? " · " : "", cat,
                             nonmiss ? 100.0 * (double)c->cat_count[k] / (double)nonmiss : 0);
            if (w < 0 || (size_t)w >= cap - o)
                break;
            o += (size_t)w;
        }
        break;
    }
    case COL_DATETIME: {
        snprintf(out, cap, "%s dates, %.0f days apart", c->prof.has_time ? "time-stamped" : "",
                 c->prof.max - c->prof.min);
        if (!c->prof.has_time)
            memmove(out, out + 1, strlen(out));
        break;
    }
    case COL_IDENTIFIER:
    case COL_TEXT: {
        const char *cell = frame_cell(f, (size_t)(c - f->cols), 0);
        char ex[192];
        cli_escape(cell, 40, ex, sizeof ex);
        snprintf(out, cap, "e.g. %s", ex);
        break;
    }
    case COL_CONSTANT:
        snprintf(out, cap, "%s", c->prof.distinct ? "one value only" : "all missing");
        break;
    }
}

/* The leakage flags after the column table (or why there are none). */
static void print_leakage(const struct leakage_report *lr, const char *lerr, const char *target)
{
    if (!lr) {
        printf("\nleakage: not scanned — %s\n", lerr);
        return;
    }
    size_t flagged = leakage_count(lr, LEAKAGE_CHECK);
    printf("\nleakage: %zu of %zu columns flagged (each column alone against %s", flagged,
           lr->ncols, target);
    if (lr->rows_used < lr->labelled)
        printf(", on a sample of %llu rows", (unsigned long long)lr->rows_used);
    printf("; docs/leakage.md)\n");
    if (!flagged)
        return;
    printf("  %-34s %-8s %5s  %9s\n", "column", "level", "AUC", "near-pure");
    for (size_t i = 0; i < lr->ncols; i++) {
        const struct leakage_column *c = &lr->cols[i];
        if (c->level == LEAKAGE_NONE)
            continue;
        char auc[16] = "-";
        if (isfinite(c->auc))
            snprintf(auc, sizeof auc, "%.2f", c->auc);
        printf("  ");
        cli_print_padded(c->name, 34);
        printf(" %-8s %5s  %8.1f%%\n      ", leakage_level_name(c->level), auc,
               100 * c->pure_share);
        cli_print_text(c->reason, 0);
        fputc('\n', stdout);
    }
}

static void print_table(const struct frame *f, const char *path, const struct target *t,
                        const char *terr, const struct leakage_report *lr, const char *lerr)
{
    char a[32], b[32];
    cli_print_text(path, 0);
    printf(": %s rows × %zu columns (%s, delimiter '%s', %s line ends)\n",
           group_digits(f->nrows, a, sizeof a), f->ncols, f->info.encoding,
           f->info.delimiter == '\t' ? "tab" : (char[2]){f->info.delimiter, 0},
           f->info.line_ending);
    if (t) {
        char name[256], pos[256], why[1024];
        cli_escape(t->name, 60, name, sizeof name);
        cli_escape(t->positive, 40, pos, sizeof pos);
        cli_escape(t->reason, 0, why, sizeof why);
        printf("target: %s — positive '%s' (%s positive, %s negative, %llu unknown); "
               "confidence %.2f: %s\n",
               name, pos, group_digits(t->n_pos, a, sizeof a), group_digits(t->n_neg, b, sizeof b),
               (unsigned long long)t->n_unknown, t->confidence, why);
    } else {
        fputs("target: none — ", stdout);
        cli_print_text(terr ? terr : "not found", 0);
        fputc('\n', stdout);
    }
    printf("\n  #  %-34s %-12s %8s %9s  %s\n", "column", "type", "missing", "distinct", "summary");
    for (size_t i = 0; i < f->ncols; i++) {
        const struct column *c = &f->cols[i];
        char s[160];
        summary(f, c, s, sizeof s);
        printf("%3zu  ", i + 1);
        cli_print_padded(c->name, 34);
        printf(" %-12s %7.1f%% %9s  %s\n", col_type_name(c->type),
               f->nrows ? 100.0 * (double)c->prof.missing / (double)f->nrows : 0,
               group_digits(c->prof.distinct, a, sizeof a), s);
    }
    print_leakage(lr, lerr, t ? t->name : "the target");
    json_t *w = json_array();
    if (profile_warnings(f, w)) {
        printf("\nwarnings:\n");
        size_t k;
        json_t *v;
        json_array_foreach(w, k, v)
        {
            fputs("  - ", stdout);
            cli_print_text(json_string_value(v), 0);
            fputc('\n', stdout);
        }
    }
    json_decref(w);
}

struct inspect_args {
    const char *target;
    int json;
};

static const struct cli_option options[] = {
    {"--target", NULL, 1, cli_opt_string, offsetof(struct inspect_args, target), 0, 0},
    {"--json", NULL, 0, cli_opt_flag, offsetof(struct inspect_args, json), 0, 0},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {"FILE.csv", NULL};
static const struct cli_command command = {"inspect", usage, options, file_names, 1};

int cmd_inspect(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct inspect_args args = {0};
    const char *path = NULL;
    struct frame *f = NULL;
    int rc = cli_parse(&command, argc, argv, &args, &path, &rd);
    if (rc >= 0)
        goto out;
    rc = CLI_OK;
    const char *target_name = args.target;
    int json = args.json;

    struct ls_error err;
    ls_error_clear(&err);
    int frc = frame_read_file(path, &rd.fo, &f, &err);
    if (frc) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, err.msg[0] ? err.msg : ls_err_name(frc));
        goto out;
    }
    struct target t;
    struct ls_error terr, lerr;
    ls_error_clear(&terr);
    ls_error_clear(&lerr);
    int trc = target_find(f, target_name, &t, &terr);
    struct leakage_report lrep, *lr = NULL;
    if (trc) {
        ls_error_set(&lerr, LS_ENO_TARGET, "the scan needs a target");
    } else {
        cli_step_progress(NULL, "scanning for leakage", 0, 1);
        if (leakage_scan(f, &t, NULL, NULL, &lrep, &lerr) == LS_OK)
            lr = &lrep;
        cli_step_progress(NULL, "scanning for leakage", 1, 1);
    }
    if (json) {
        json_t *j = profile_json(f, path, trc ? NULL : &t, trc ? terr.msg : NULL);
        if (lr) {
            json_object_set_new(j, "leakage", leakage_json(lr, LEAKAGE_CHECK));
            json_object_set_new(j, "leakage_scanned", json_integer((json_int_t)lr->ncols));
        } else {
            json_object_set_new(j, "leakage", json_null());
            json_object_set_new(j, "leakage_error", json_string(lerr.msg));
        }
        char *s = profile_dumps(j, 1);
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    } else {
        print_table(f, path, trc ? NULL : &t, trc ? terr.msg : NULL, lr, lerr.msg);
    }
    leakage_report_cleanup(lr);
    if (trc) {
        rc = cli_fail(CLI_BAD_INPUT, "%s: %s", path, terr.msg);
    } else {
        target_cleanup(&t);
    }
out:
    frame_free(f);
    cli_read_cleanup(&rd);
    return rc;
}
