/*
 * run.c — the scoring run of run.h.
 *
 * Explanations are computed in slices of leads so that a long run can report
 * its progress between slices; each slice is explained on all threads and
 * copied into the run's one result, so the slicing changes no number.
 */
#include "app/run.h"

#include "app/profile.h"
#include "app/report.h"
#include "core/mem.h"
#include "data/csvout.h"

#include <string.h>

/* The names of a scoring run's own output columns (see RUN_OUTPUT_COLUMNS). */
static const char *const output_columns[RUN_OUTPUT_COLUMNS] = {
    "score",    "tier",      "rank",      "reason_1", "reason_2",
    "reason_3", "against_1", "against_2", "against_3"};

/* leads explained per slice between progress reports */
#define EXPLAIN_SLICE 2048

void run_opts_default(struct run_opts *o)
{
    memset(o, 0, sizeof *o);
    frame_opts_default(&o->read);
    score_opts_default(&o->score);
}

/*
 * The one place where the model's own reading options (the missing-value
 * tokens, date layouts and decimal comma training used) are applied: unless
 * the user named their own missing tokens, the file is read as training read
 * it. The user's limits, delimiter and progress callback always stay.
 * (A version 1 model carries no reading options: model_frame_opts then
 * keeps the default tokens.)
 */
static void run_read_opts(const struct model *m, const struct run_opts *o, struct frame_opts *fo)
{
    *fo = o->read;
    if (o->user_missing) /* the user's --missing wins */
        return;
    model_frame_opts(m, fo); /* sets only the reading options: limits and delimiter stay */
}

static int is_output_column(const char *name)
{
    for (size_t k = 0; k < RUN_OUTPUT_COLUMNS; k++)
        if (strcmp(name, output_columns[k]) == 0)
            return 1;
    return 0;
}

/* Explain the requested leads slice by slice into res->ex. */
static void run_explain(const struct run_opts *o, struct run_result *res, uint64_t row0, uint64_t n)
{
    const struct score_result *r = &res->score;
    size_t nf = r->nfeat;
    struct explain_result *e = &res->ex;
    e->row0 = row0;
    e->n = n;
    e->nfeat = nf;
    e->phi = xmalloc((n && nf ? n * nf : 1) * sizeof *e->phi);
    e->base = xmalloc((n ? n : 1) * sizeof *e->base);
    e->raw = xmalloc((n ? n : 1) * sizeof *e->raw);
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < EXPLAIN_SLICE ? n - done : EXPLAIN_SLICE;
        struct explain_result s = {0};
        app_explain(res->m, r, row0 + done, k, o->score.threads, &s);
        memcpy(e->phi + done * nf, s.phi, k * nf * sizeof *e->phi);
        memcpy(e->base + done, s.base, k * sizeof *e->base);
        memcpy(e->raw + done, s.raw, k * sizeof *e->raw);
        explain_result_cleanup(&s);
        done += k;
        if (o->progress && n > EXPLAIN_SLICE)
            o->progress(o->progress_ctx, "explaining", done, n);
    }
    res->explained = 1;
}

int app_run_score(const struct run_opts *o, struct run_result *res, struct ls_error *err)
{
    memset(res, 0, sizeof *res);
    int rc = LS_OK;
    if (o->model) {
        res->m = o->model;
    } else {
        if ((rc = model_load(o->model_path, &res->model_store, err)) != LS_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return ls_error_set(err, rc, "%s: %s", o->model_path, msg);
        }
        res->own_model = 1;
        res->m = &res->model_store;
    }
    const char *path = o->csv_path ? o->csv_path : "the leads";
    if (o->frame) {
        res->f = o->frame;
    } else {
        struct frame_opts fo;
        run_read_opts(res->m, o, &fo);
        if ((rc = frame_read_file(o->csv_path, &fo, &res->frame_store, err)) != LS_OK)
            goto fail;
        res->f = res->frame_store;
    }
    if (o->progress)
        o->progress(o->progress_ctx, "scoring", 0, res->f->nrows);
    if ((rc = app_score(res->m, res->f, &o->score, &res->score, err)) != LS_OK)
        goto fail;
    if (o->progress)
        o->progress(o->progress_ctx, "scoring", res->f->nrows, res->f->nrows);
    if (o->explain) {
        uint64_t row0 = o->explain_row0, n = o->explain_n;
        if (o->explain_id) {
            long count = run_find_id(res, o->explain_id, &row0);
            if (count < 0) {
                rc = ls_error_set(err, LS_EINPUT,
                                  "the model has no identifier column in the file; "
                                  "name the lead by its row instead");
                goto fail;
            }
            if (count == 0) {
                rc = ls_error_set(err, LS_EINPUT, "no lead has %s '%s'",
                                  res->f->cols[res->score.id_col].name, o->explain_id);
                goto fail;
            }
            res->id_matches = (uint64_t)count;
            n = 1;
        }
        if (row0 >= res->score.n || (n && n > res->score.n - row0)) {
            rc = ls_error_set(err, LS_EINPUT, "lead %llu: the file has %llu leads",
                              (unsigned long long)row0 + 1, (unsigned long long)res->score.n);
            goto fail;
        }
        run_explain(o, res, row0, n ? n : res->score.n - row0);
    }

    res->replaced = xcalloc(res->f->ncols ? res->f->ncols : 1, 1);
    for (size_t c = 0; c < res->f->ncols; c++)
        if (is_output_column(res->f->cols[c].name)) {
            res->replaced[c] = 1;
            res->nreplaced++;
        }
    res->warnings = json_array();
    if (res->m->load_note) /* e.g. a version 1 model file */
        json_array_append_new(res->warnings, json_string(res->m->load_note));
    profile_read_warnings(res->f, res->warnings); /* as inspect says them */
    if (res->nreplaced) {
        char msg[512];
        int w = snprintf(msg, sizeof msg, "the file already has %s from an earlier run:",
                         res->nreplaced == 1 ? "a column" : "columns");
        for (size_t c = 0, k = 0; c < res->f->ncols && w > 0 && (size_t)w < sizeof msg; c++)
            if (res->replaced[c])
                w += snprintf(msg + w, sizeof msg - (size_t)w, "%s '%s'", k++ ? "," : "",
                              res->f->cols[c].name);
        if (w > 0 && (size_t)w < sizeof msg)
            snprintf(msg + w, sizeof msg - (size_t)w, "; the new scores replace %s",
                     res->nreplaced == 1 ? "it" : "them");
        json_array_append_new(res->warnings, json_string(msg));
    }
    report_score_warnings(res->m, &res->score, res->warnings);
    report_drift_line(res->m, &res->score, res->drift_line, sizeof res->drift_line);
    if (o->report) {
        res->report = report_score(res->m, &res->score);
        json_object_set_new(res->report, "warnings", json_deep_copy(res->warnings));
        /* a previous run's score, tier, rank are replaced, not new columns of the file */
        json_t *nc = json_object_get(res->report, "new_columns");
        for (size_t k = json_array_size(nc); k-- > 0;)
            if (is_output_column(json_string_value(json_array_get(nc, k))))
                json_array_remove(nc, k);
        /* every lead explained: their summary; otherwise an evenly spaced
         * sample, so the report costs at most EXPLAIN_SUMMARY_SAMPLE explanations */
        if (res->explained && res->ex.row0 == 0 && res->ex.n == res->score.n)
            json_object_set_new(res->report, "explanations",
                                explain_summary_json(res->m, &res->score, &res->ex));
        else
            json_object_set_new(res->report, "explanations",
                                explain_summary_sample(res->m, &res->score, EXPLAIN_SUMMARY_SAMPLE,
                                                       o->score.threads));
    }
    return LS_OK;
fail : {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return ls_error_set(err, rc, "%s: %s", path, msg);
}
}

void run_result_cleanup(struct run_result *res)
{
    json_decref(res->report);
    json_decref(res->warnings);
    explain_result_cleanup(&res->ex);
    if (res->score.raw)
        score_result_cleanup(&res->score);
    free(res->replaced);
    frame_free(res->frame_store);
    if (res->own_model)
        model_cleanup(&res->model_store);
    memset(res, 0, sizeof *res);
}

/* reason_1..3 or against_1..3 of one lead, each a CSV field ("" when fewer) */
static void put_reasons(FILE *o, const struct run_result *res, uint64_t i, int sign)
{
    size_t feat[EXPLAIN_REASONS];
    size_t k = explain_top(&res->ex, i, sign, feat, EXPLAIN_REASONS);
    for (size_t t = 0; t < EXPLAIN_REASONS; t++) {
        char text[512] = "";
        if (t < k)
            explain_reason(res->m, res->f, &res->score, &res->ex, feat[t], i, text, sizeof text);
        fputc(',', o);
        csv_write_field(o, text);
    }
}

static int row_explained(const struct run_result *res, uint64_t i)
{
    return res->explained && i >= res->ex.row0 && i - res->ex.row0 < res->ex.n;
}

void run_write_csv(const struct run_result *res, FILE *o)
{
    const struct frame *f = res->f;
    const struct score_result *r = &res->score;
    int ex = res->explained && res->ex.row0 == 0 && res->ex.n == r->n;
    for (size_t c = 0; c < f->ncols; c++) {
        if (res->replaced && res->replaced[c])
            continue;
        csv_write_field(o, f->cols[c].name);
        fputc(',', o);
    }
    fputs("score,tier,rank", o);
    if (ex)
        fputs(",reason_1,reason_2,reason_3,against_1,against_2,against_3", o);
    fputc('\n', o);
    for (uint64_t i = 0; i < f->nrows; i++) {
        for (size_t c = 0; c < f->ncols; c++) {
            if (res->replaced && res->replaced[c])
                continue;
            csv_write_field(o, frame_cell(f, c, i));
            fputc(',', o);
        }
        fprintf(o, "%.1f,%s,%llu", r->score[i], tier_name((enum tier)r->tier[i]),
                (unsigned long long)r->rank[i]);
        if (ex) {
            put_reasons(o, res, i, 1);
            put_reasons(o, res, i, -1);
        }
        fputc('\n', o);
    }
}

json_t *run_lead_json(const struct run_result *res, uint64_t i)
{
    const struct score_result *r = &res->score;
    const struct frame *f = res->f;
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
    if (row_explained(res, i))
        explain_lead_json(res->m, f, r, &res->ex, i, j);
    return j;
}

void run_write_jsonl(const struct run_result *res, FILE *o)
{
    for (uint64_t i = 0; i < res->f->nrows; i++) {
        json_t *j = run_lead_json(res, i);
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

long run_find_id(const struct run_result *res, const char *id, uint64_t *row)
{
    long col = res->score.id_col;
    if (col < 0)
        return -1;
    long count = 0;
    for (uint64_t i = res->f->nrows; i-- > 0;)
        if (strcmp(frame_cell(res->f, (size_t)col, i), id) == 0) {
            *row = i;
            count++;
        }
    return count;
}
