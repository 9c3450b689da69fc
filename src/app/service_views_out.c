/*
 * service_views_out.c — a run's leads whole: the export CSV and the old
 * client's "results" array.
 *
 * Both join the store's leads (store_leads_each, row order) with the data
 * set's file rows (the run context's frame). The CSV is streamed into a
 * temp file beside the target and renamed into place (core/outfile.h), one
 * lead at a time: nothing but the current row is built.
 *
 * Spreadsheet formula injection (OWASP "CSV Injection"): a cell whose first
 * character is = + - @ TAB or CR may be run as a formula by Excel, LibreOffice
 * or Google Sheets when the export is opened, so it is written with a
 * leading ' (which the spreadsheet shows as text). The one exception is a
 * cell that is a plain decimal number ("-3", "+1.5", "-2e-4"): it is the
 * data itself, a spreadsheet reads it as that number and nothing else, and
 * prefixing it would turn every negative number of the export into text.
 * "Plain" is strict — sign, digits, one point, an exponent — so "-1+1",
 * "-inf", "-0x1A" or "+1 " are neutralised. Header names and reasons are
 * treated the same as cells.
 *
 * Leads of a run explained on demand that no page has asked for yet have
 * no reasons: their reason cells are empty (explaining a million leads
 * for an export would take minutes).
 */
#include "app/narrate.h"
#include "app/service_views.h"
#include "core/mem.h"
#include "core/outfile.h"
#include "data/csvout.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is s a plain decimal number: [+-]digits[.digits][(e|E)[+-]digits], or
 * [+-].digits..., and nothing else? */
static int plain_number(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++, digits++;
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* Does a spreadsheet risk reading s as a formula? */
static int risky(const char *s)
{
    return (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
            s[0] == '\r') &&
           !plain_number(s);
}

struct export
{
    FILE *o;
    const struct frame *f;
    const uint8_t *replaced;
    char *scratch; /* "'" + a risky cell */
    size_t scratch_cap;
    struct narrate_parsed reasons; /* the current lead's */
};

static void safe_field(struct export *x, const char *s)
{
    if (!risky(s)) {
        csv_write_field(x->o, s);
        return;
    }
    size_t n = strlen(s);
    if (n + 2 > x->scratch_cap) {
        x->scratch_cap = n + 2 > 2 * x->scratch_cap ? n + 2 : 2 * x->scratch_cap;
        x->scratch = xrealloc(x->scratch, x->scratch_cap);
    }
    x->scratch[0] = '\'';
    memcpy(x->scratch + 1, s, n + 1);
    csv_write_field(x->o, x->scratch);
}

static int export_lead(void *ctx, const struct store_lead *l)
{
    struct export *x = ctx;
    const struct frame *f = x->f;
    if (l->row < 1 || l->row > f->nrows)
        return LS_ESTORE;
    for (size_t c = 0; c < f->ncols; c++) {
        if (x->replaced && x->replaced[c])
            continue;
        safe_field(x, frame_cell(f, c, l->row - 1));
        fputc(',', x->o);
    }
    fprintf(x->o, "%.1f,%s,%llu", l->score, tier_name((enum tier)l->tier),
            (unsigned long long)l->rank);
    narrate_parse(l->reasons_json, &x->reasons);
    for (size_t k = 0; k < 3; k++) {
        fputc(',', x->o);
        safe_field(x, k < x->reasons.npos ? x->reasons.pos_text[k] : "");
    }
    fputc('\n', x->o);
    return ferror(x->o) ? LS_EIO : 0;
}

/* Per column of f: 1 when it is an earlier scoring run's output (the file
 * was a scored export): the export writes its own, as run_write_csv does
 * (run.c's list, RUN_OUTPUT_COLUMNS names). */
static uint8_t *output_columns(const struct frame *f)
{
    static const char *const names[RUN_OUTPUT_COLUMNS] = {"score",     "tier",      "rank",
                                                          "reason_1",  "reason_2",  "reason_3",
                                                          "against_1", "against_2", "against_3"};
    uint8_t *r = xcalloc(f->ncols ? f->ncols : 1, 1);
    for (size_t c = 0; c < f->ncols; c++)
        for (size_t k = 0; k < RUN_OUTPUT_COLUMNS; k++)
            r[c] |= strcmp(f->cols[c].name, names[k]) == 0;
    return r;
}

/* The leads of filter (tier and text, any sort), best first, page by page. */
static int export_filtered(struct service *s, int64_t run_id, const struct store_lead_query *filter,
                           struct export *x, struct ls_error *err)
{
    struct store_lead_query q = *filter;
    q.sort = "rank";
    q.desc = 0;
    q.limit = STORE_PAGE_MAX;
    q.offset = 0;
    for (;;) {
        struct store_lead *list = NULL;
        size_t n = 0;
        uint64_t total = 0;
        int rc = store_leads_query(s->store, run_id, &q, &list, &n, &total, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = export_lead(x, &list[i]);
        store_lead_list_free(list, n);
        if (rc)
            return rc;
        q.offset += n;
        if (n == 0 || q.offset >= total)
            return 0;
    }
}

int service_export(struct service *s, int64_t run_id, const char *path, struct ls_error *err)
{
    return service_export_filtered(s, run_id, NULL, path, err);
}

int service_export_filtered(struct service *s, int64_t run_id, const struct store_lead_query *filter,
                            const char *path, struct ls_error *err)
{
    struct store_run run = {0};
    struct vrun *vr = NULL;
    struct outfile of = {0};
    struct export x = {0};
    uint8_t *replaced = NULL;
    int rc = views__run_done(s, run_id, &run, err);
    if (rc)
        return rc;
    if ((rc = views__run_get(s, &run, &vr, err)) != LS_OK ||
        (rc = outfile_open(&of, path, err)) != LS_OK)
        goto out;
    x.o = of.f;
    x.f = vr->res.f;
    x.replaced = replaced = output_columns(x.f);
    for (size_t c = 0; c < x.f->ncols; c++) {
        if (x.replaced && x.replaced[c])
            continue;
        safe_field(&x, x.f->cols[c].name);
        fputc(',', x.o);
    }
    fputs("score,tier,rank,reason_1,reason_2,reason_3\n", x.o);
    ls_error_clear(err); /* a message after this is the store's */
    rc = filter ? export_filtered(s, run_id, filter, &x, err)
                : store_leads_each(s->store, run_id, export_lead, &x, err);
    if (rc == LS_ESTORE && !err->msg[0])
        rc = ls_error_set(err, LS_ESTORE, "run %lld: a lead's row is outside its data set",
                          (long long)run_id);
    else if (rc == LS_EIO && !err->msg[0])
        rc = ls_error_set(err, LS_EIO, "%s: write failed", path);
    if (rc) {
        outfile_abort(&of);
        goto out;
    }
    rc = outfile_commit(&of, err);
out:
    free(replaced);
    free(x.scratch);
    views__run_put(s, vr);
    store_run_cleanup(&run);
    return rc;
}

/* ---- the old client's results ------------------------------------------- */

struct ranked {
    uint64_t rank, row;
    json_t *o;
};

struct results {
    const struct frame *f;
    int has_outcomes;
    long source_col, lead_number_col;
    struct ranked *a;
    size_t n, cap;
    struct narrate_parsed reasons; /* the current lead's */
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* A cell as the old server's pandas gave it: a number for a numeric column
 * (an integer when whole), null when missing, else the text. */
static json_t *cell_json(const struct frame *f, size_t c, uint64_t row)
{
    const struct column *col = &f->cols[c];
    if (frame_is_missing(f, c, row))
        return json_null();
    if (col->type == COL_NUMERIC && col->num) {
        double v = col->num[row];
        if (isnan(v))
            return json_null();
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            return json_integer((json_int_t)v);
        return json_real(v);
    }
    return views__str(frame_cell(f, c, row));
}

static const char *accuracy(int tier, int label)
{
    if (tier == TIER_MEDIUM)
        return "medium";
    if (tier == TIER_HIGH)
        return label ? "correct" : "false_positive";
    return label ? "missed" : "correct";
}

static int result_lead(void *ctx, const struct store_lead *l)
{
    struct results *R = ctx;
    const struct frame *f = R->f;
    if (l->row < 1 || l->row > f->nrows)
        return LS_ESTORE;
    uint64_t row = l->row - 1;
    json_t *o = json_object();
    for (size_t c = 0; c < f->ncols; c++)
        json_object_set_new(o, f->cols[c].name, cell_json(f, c, row));
    struct narrate_parsed *p = &R->reasons;
    narrate_parse(l->reasons_json, p);
    char text[NARRATE_TEXT_MAX];
    json_object_set_new(o, "score", json_real(l->score / 100.0));
    /* the old server sent its probability under both names; ours is the calibrated one */
    json_object_set_new(o, "prediction_score", json_real(l->score / 100.0));
    json_object_set_new(o, "priority", json_string(tier_name((enum tier)l->tier)));
    json_object_set_new(o, "explanation",
                        views__str(narrate_sentence(l->score, p->pos, p->npos, p->neg, p->nneg,
                                                    text, sizeof text)));
    json_object_set_new(
        o, "next_action",
        views__str(narrate_next_action(l->tier, p->npos ? p->pos : NULL, p->nneg ? p->neg : NULL,
                                       text, sizeof text)));
    if (l->lead_id)
        json_object_set_new(o, "lead_id", views__str(l->lead_id));
    else if (R->lead_number_col >= 0 && !frame_is_missing(f, (size_t)R->lead_number_col, row))
        json_object_set_new(o, "lead_id",
                            views__str(frame_cell(f, (size_t)R->lead_number_col, row)));
    else {
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)l->row);
        json_object_set_new(o, "lead_id", json_string(id));
    }
    const char *src = R->source_col >= 0 && !frame_is_missing(f, (size_t)R->source_col, row)
                          ? frame_cell(f, (size_t)R->source_col, row)
                          : "Unknown";
    json_object_set_new(o, "Source", views__str(src));
    if (R->has_outcomes) {
        json_object_set_new(o, "actual_converted",
                            l->label >= 0 ? json_integer(l->label) : json_null());
        json_object_set_new(o, "prediction_accuracy",
                            l->label >= 0 ? json_string(accuracy(l->tier, l->label)) : json_null());
    }
    if (R->n == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 1024;
        R->a = xreallocarray(R->a, R->cap, sizeof *R->a);
    }
    R->a[R->n++] = (struct ranked){l->rank, l->row, o};
    return 0;
}

int service_run_results(struct service *s, int64_t run_id, json_t **out, struct ls_error *err)
{
    struct store_run run = {0};
    struct vrun *vr = NULL;
    int rc = views__run_done(s, run_id, &run, err);
    if (rc)
        return rc;
    struct results *R = xcalloc(1, sizeof *R); /* its parse buffer is 11 KB */
    if ((rc = views__run_get(s, &run, &vr, err)) != LS_OK)
        goto out;
    R->f = vr->res.f;
    R->has_outcomes = run.has_outcomes;
    R->source_col = frame_find(R->f, "Source");
    if (R->source_col < 0)
        R->source_col = frame_find(R->f, "Lead Source");
    R->lead_number_col = frame_find(R->f, "Lead Number");
    ls_error_clear(err);
    rc = store_leads_each(s->store, run_id, result_lead, R, err);
    if (rc == LS_ESTORE && !err->msg[0])
        rc = ls_error_set(err, LS_ESTORE, "run %lld: a lead's row is outside its data set",
                          (long long)run_id);
    if (rc)
        goto out;
    qsort(R->a, R->n, sizeof *R->a, cmp_ranked);
    json_t *a = json_array();
    for (size_t i = 0; i < R->n; i++) {
        json_array_append_new(a, R->a[i].o);
        R->a[i].o = NULL;
    }
    *out = a;
out:
    for (size_t i = 0; i < R->n; i++)
        json_decref(R->a[i].o);
    free(R->a);
    free(R);
    views__run_put(s, vr);
    store_run_cleanup(&run);
    return rc;
}
