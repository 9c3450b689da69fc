/*
 * run.h — one scoring run, the whole sequence behind one call.
 *
 * The CLI (`leadscore score`, `leadscore explain`) and the HTTP server call
 * the same function: load the model (or take one) → read the file with the
 * model's reading options (unless the caller set its own missing tokens) →
 * bins → predict → out-of-bag scores for training leads → calibrate →
 * tiers → explanations (optional, a range of leads) → drift → the run's
 * warnings and, on request, its report object. The result owns everything it
 * points to; the writers below turn it into the scored CSV, JSON Lines, or
 * one lead's JSON object.
 */
#ifndef LS_APP_RUN_H
#define LS_APP_RUN_H

#include "app/explain.h"
#include "app/score.h"

#include <jansson.h>
#include <stdio.h>

/* Where a long step stands: step names the step ("scoring", "explaining"),
 * done of total units. Called from the caller's thread only. */
typedef void (*run_progress_fn)(void *ctx, const char *step, uint64_t done, uint64_t total);

struct run_opts {
    const char *model_path;    /* load the model from here, or */
    const struct model *model; /* use this one (borrowed) */
    const char *csv_path;      /* read the leads from here, or */
    const struct frame *frame; /* use these (borrowed) */
    struct frame_opts read;    /* how to read csv_path (limits, delimiter, progress) */
    int user_missing;          /* 1: read.missing_tokens were given by the user and win over
                                  the model's */
    struct score_opts score;
    int explain;              /* explain leads explain_row0 .. + explain_n */
    uint64_t explain_row0;    /* first lead to explain (0-based) */
    uint64_t explain_n;       /* leads to explain; 0: every lead from explain_row0 */
    const char *explain_id;   /* or: explain the (first) lead whose identifier is this */
    int report;               /* build the report object (report_score + explanations) */
    run_progress_fn progress; /* NULL: none */
    void *progress_ctx;
};

void run_opts_default(struct run_opts *o);

/* Columns of an input file that are outputs of a scoring run (a scored file
 * scored again): they are not copied into the new CSV, which writes its own. */
#define RUN_OUTPUT_COLUMNS 9

struct run_result {
    const struct model *m; /* the model used (owned when loaded) */
    const struct frame *f; /* the leads (owned when read) */
    struct score_result score;
    int explained;
    struct explain_result ex;
    json_t *warnings;      /* array of sentences, as printed on stderr */
    char drift_line[1024]; /* "drift: ok (...)" or the drift warning */
    json_t *report;        /* when opts.report, else NULL */
    uint8_t *replaced;     /* per frame column: 1 when it is a previous run's output column */
    size_t nreplaced;
    uint64_t id_matches; /* with explain_id: the leads that have that identifier */
    /* storage */
    struct model model_store;
    int own_model;
    struct frame *frame_store;
};

/*
 * Run the whole scoring sequence of o into res (which needs no
 * initialisation; release it with run_result_cleanup, also after an error).
 * Errors carry the failing file in their message ("model.lsm: not a model
 * file"): LS_EIO/LS_EINPUT/... from reading, LS_EINPUT when no model column
 * is in the file or the lead to explain is not in it.
 */
int app_run_score(const struct run_opts *o, struct run_result *res, struct ls_error *err);

void run_result_cleanup(struct run_result *res);

/* The scored CSV: the input columns (but a previous run's score, tier, rank
 * and reasons), then score, tier, rank and, when explained, reason_1..3 and
 * against_1..3. */
void run_write_csv(const struct run_result *res, FILE *o);

/* JSON Lines: one run_lead_json object per lead. */
void run_write_jsonl(const struct run_result *res, FILE *o);

/* One lead as a JSON object (the caller owns it): row (1-based), id, score,
 * raw, tier, rank, outcome (when known), out_of_bag, and its explanation when
 * the lead was explained. */
json_t *run_lead_json(const struct run_result *res, uint64_t row);

/* The rows whose identifier cell is id: the first in *row, the count
 * returned (0: none; -1 when the model has no identifier column in the file). */
long run_find_id(const struct run_result *res, const char *id, uint64_t *row);

#endif
