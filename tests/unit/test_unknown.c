/*
 * test_unknown.c — values the model cannot place are neutral: a category it
 * never saw, or a blank where training had none, moves a lead's score no
 * more than not knowing the value should.
 *
 * The check of issue 9: replace a whole column of the scored leads by a
 * category nobody used in training, or by blanks, and the mean score moves
 * by less than 3 points. The model is the default one (app_train), the
 * scores come from app_score (bins, forest, calibration), and the leads are
 * scored without their outcome column, so every score is the forest's own
 * prediction (no out-of-bag substitution) before and after the change.
 *
 * Blanks are checked on the columns with (almost) no missing values in
 * training: where training had many blanks, the model has learned what a
 * blank means (missingness itself predicts), and blanks follow what it
 * learned. Run on the generated demo leads (always) and on
 * ../shared/data/Leads.csv (skipped when absent). Every mean is printed, so
 * the test's output is the before/after table of docs/model.md.
 */
#include "testutil.h"

#include "app/score.h"
#include "app/train.h"
#include "core/mem.h"
#include "ml/bins.h"

#include <stdio.h>
#include <string.h>

#define SHIFT_MAX 3.0                   /* points of mean score */
#define NEW_VALUE "A value nobody used" /* not a category of any file here */

/* f as a frame again, without column drop, every cell of column `col` replaced
 * by `value` (col NULL: none replaced). */
static struct frame *rewrite(const struct frame *f, const char *drop, const char *col,
                             const char *value)
{
    char *text = tu_frame_csv_replace(f, drop, col, value);
    struct frame *out = tu_frame_mem(text);
    free(text);
    return out;
}

static double mean_score(const struct model *m, const struct frame *f)
{
    struct score_result r;
    tu_score_ok(m, f, &r);
    double s = 0;
    for (uint64_t i = 0; i < r.n; i++)
        s += r.score[i];
    s /= (double)(r.n ? r.n : 1);
    score_result_cleanup(&r);
    return s;
}

static void train_default(const struct frame *f, struct model *m)
{
    struct train_opts o;
    train_opts_default(&o);
    o.forest.threads = 2;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(f, &o, m, &sum, &err);
    if (rc)
        fail_msg("app_train failed (%d): %s", rc, err.msg);
    train_summary_cleanup(&sum);
}

/* Mean score of `leads` (outcome column dropped), then with each column of
 * cols replaced: by a new category (categorical features) and by blanks.
 * Fails when a replacement moves the mean by SHIFT_MAX or more — except
 * blanks in a column that had blanks in training, which are printed only:
 * there the trees learned what a blank means and follow it. */
static void check_shifts(const char *name, const struct model *m, const struct frame *leads,
                         const char *const *cols, size_t ncols)
{
    struct frame *f0 = rewrite(leads, m->target, NULL, NULL);
    double base = mean_score(m, f0);
    frame_free(f0);
    print_message("%s: mean score %.2f\n", name, base);
    double worst = 0;
    const char *worst_what = "";
    for (size_t i = 0; i < ncols; i++) {
        const struct feature *ft = &m->schema.feat[tu_feature_index(m, cols[i])];
        for (int blank = 0; blank < 2; blank++) {
            if (!blank && ft->kind != FEAT_CATEGORICAL)
                continue;
            int learned = blank && ft->train_share[BINS_MISSING] > 0;
            struct frame *f = rewrite(leads, m->target, cols[i], blank ? "" : NEW_VALUE);
            double mean = mean_score(m, f);
            frame_free(f);
            print_message("  %-32s %-6s mean %6.2f  shift %+6.2f%s\n", cols[i],
                          blank ? "blank" : "unseen", mean, mean - base,
                          learned ? "  (had blanks in training: not checked)" : "");
            if (!learned && fabs(mean - base) > worst) {
                worst = fabs(mean - base);
                worst_what = cols[i];
            }
        }
    }
    if (worst >= SHIFT_MAX)
        fail_msg("%s: replacing '%s' moves the mean score by %.2f points (limit %.1f)", name,
                 worst_what, worst, SHIFT_MAX);
}

/* Demo leads: train on one generated file, score new leads of another seed. */
static void test_demo(void **state)
{
    (void)state;
    char *text = tu_demo_text(4000, 42);
    struct frame *train = tu_frame_mem(text);
    free(text);
    text = tu_demo_text(2000, 7);
    struct frame *leads = tu_frame_mem(text);
    free(text);
    struct model m;
    train_default(train, &m);
    static const char *const cols[] = {
        "Lead Source",      "Industry",     "Country",
        "Job Title",        "Company Size", "Pages Visited",
        "Time on Site (s)", "Email Opens",  "Days Since Last Contact",
        "Webinar Attended", "Signup Date",
    };
    check_shifts("demo", &m, leads, cols, sizeof cols / sizeof cols[0]);
    model_cleanup(&m);
    frame_free(train);
    frame_free(leads);
}

/* Leads.csv: train on it, score its leads without their outcome. */
static void test_leads(void **state)
{
    (void)state;
    const char *path = tu_leads_csv();
    if (!path)
        skip();
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *f;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(frame_read_file(path, &fo, &f, &err), 0);
    struct model m;
    train_default(f, &m);
    static const char *const cols[] = {
        "Lead Source",
        "Total Time Spent on Website",
        "Last Activity",
        "TotalVisits",
        "Lead Origin",
        "Last Notable Activity",
        "Page Views Per Visit",
        "Do Not Email",
        "Specialization",
        "What is your current occupation",
        "City",
    };
    check_shifts("Leads.csv", &m, f, cols, sizeof cols / sizeof cols[0]);
    model_cleanup(&m);
    frame_free(f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo),
    };
    const struct CMUnitTest leads[] = {
        cmocka_unit_test(test_leads),
    };
    return TU_MAIN_SPLIT(argc, argv, "unknown", tests, NULL, NULL, leads, NULL, NULL);
}
