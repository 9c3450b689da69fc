/*
 * test_api.c — the public C API of include/leadscore.h: datasets and
 * one-lead scoring agree with the internal engine.
 */
#include "testutil.h"

#include <leadscore.h>

#include "app/score.h"
#include "app/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *demo_csv(void)
{
    static char path[1024];
    if (path[0])
        return path;
    char *buf = tu_demo_text(3000, 11);
    size_t len = strlen(buf);
    snprintf(path, sizeof path, "%s", tu_write_temp("api-demo.csv", buf, len));
    free(buf);
    return path;
}

/* ls_model_score_lead on a file's rows gives what app_score gives. */
static void test_score_lead_matches_batch(void **state)
{
    (void)state;
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *f = NULL;
    struct ls_error err;
    assert_int_equal(frame_read_file(demo_csv(), &fo, &f, &err), 0);
    struct train_opts to;
    train_opts_default(&to);
    to.forest.trees = 30;
    to.forest.threads = 2;
    struct model m;
    struct train_summary sum;
    assert_int_equal(app_train(f, &to, &m, &sum, &err), 0);
    train_summary_cleanup(&sum);
    const char *path = tu_write_temp("api.lsm", "", 0);
    assert_int_equal(model_save(&m, path, &err), 0);

    struct score_opts so;
    score_opts_default(&so);
    struct score_result res;
    assert_int_equal(app_score(&m, f, &so, &res, &err), 0);

    struct ls_model *lm = NULL;
    char ebuf[256];
    assert_int_equal(ls_model_load(path, &lm, ebuf, sizeof ebuf), 0);
    size_t nf = ls_model_features(lm);
    assert_int_equal(nf, m.schema.nfeat);
    assert_null(ls_model_feature_name(lm, nf));
    const char *vals[64];
    assert_true(nf <= 64);
    int compared = 0;
    for (uint64_t r = 0; r < f->nrows && compared < 200; r++) {
        if (res.oob[r]) /* batch scoring gives training rows their OOB score */
            continue;
        for (size_t j = 0; j < nf; j++) {
            long c = frame_find(f, ls_model_feature_name(lm, j));
            assert_true(c >= 0);
            vals[j] = frame_cell(f, (size_t)c, r);
        }
        double score, raw;
        const char *tier;
        assert_int_equal(ls_model_score_lead(lm, vals, &score, &raw, &tier), 0);
        if (fabs(score - res.score[r]) > 1e-9 || fabs(raw - 100 * res.raw[r]) > 1e-9)
            fail_msg("row %llu: lead %.12f/%.12f, batch %.12f/%.12f", (unsigned long long)r, score,
                     raw, res.score[r], 100 * res.raw[r]);
        assert_string_equal(tier, tier_name((enum tier)res.tier[r]));
        compared++;
    }
    assert_true(compared > 50);

    /* every value missing still scores, with all outputs optional */
    for (size_t j = 0; j < nf; j++)
        vals[j] = j % 2 ? NULL : "Select";
    double score = -1;
    assert_int_equal(ls_model_score_lead(lm, vals, &score, NULL, NULL), 0);
    assert_true(score >= 0 && score <= 100);

    ls_model_free(lm);
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

/* ls_model_score_lead reads missing values with the model's tokens: a model
 * trained with only "" as missing (the CLI's --missing "") takes "Select" as
 * the category it learned, as batch scoring of the same file does; a value
 * of the default list ("NA") is a category too, never silently missing. */
static void test_score_lead_model_tokens(void **state)
{
    (void)state;
    static const char *const only_empty[] = {"", NULL};
    struct frame_opts fo;
    frame_opts_default(&fo);
    fo.missing_tokens = only_empty;
    struct frame *f = NULL;
    struct ls_error err;
    assert_int_equal(frame_read_file(demo_csv(), &fo, &f, &err), 0);
    struct train_opts to;
    train_opts_default(&to);
    to.forest.trees = 30;
    to.forest.threads = 2;
    to.missing_tokens = only_empty;
    struct model m;
    struct train_summary sum;
    assert_int_equal(app_train(f, &to, &m, &sum, &err), 0);
    train_summary_cleanup(&sum);
    const char *path = tu_write_temp("api-tokens.lsm", "", 0);
    assert_int_equal(model_save(&m, path, &err), 0);
    struct score_opts so;
    score_opts_default(&so);
    struct score_result res;
    assert_int_equal(app_score(&m, f, &so, &res, &err), 0);
    struct ls_model *lm = NULL;
    char ebuf[256];
    assert_int_equal(ls_model_load(path, &lm, ebuf, sizeof ebuf), 0);
    size_t nf = ls_model_features(lm);
    const char *vals[64];
    assert_true(nf <= 64);
    int compared = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        if (res.oob[r])
            continue;
        int select = 0;
        for (size_t j = 0; j < nf; j++) {
            long c = frame_find(f, ls_model_feature_name(lm, j));
            vals[j] = frame_cell(f, (size_t)c, r);
            select += strcmp(vals[j], "Select") == 0;
        }
        if (!select)
            continue;
        double raw;
        assert_int_equal(ls_model_score_lead(lm, vals, NULL, &raw, NULL), 0);
        ASSERT_NEAR(raw, 100 * res.raw[r], 1e-9);
        compared++;
    }
    assert_true(compared > 5);
    ls_model_free(lm);
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

static void test_model_load_errors(void **state)
{
    (void)state;
    struct ls_model *lm = NULL;
    char ebuf[256] = "";
    const char *bad = tu_write_temp("not-a-model.lsm", "hello,world\n", 12);
    assert_int_not_equal(ls_model_load(bad, &lm, ebuf, sizeof ebuf), 0);
    assert_null(lm);
    assert_non_null(strstr(ebuf, "not a LeadScore model"));
    assert_int_not_equal(ls_model_load("/nonexistent/m.lsm", &lm, ebuf, sizeof ebuf), 0);
    assert_non_null(strstr(ebuf, "cannot open"));
    ls_model_free(NULL);
}

static void test_dataset_api(void **state)
{
    (void)state;
    struct ls_read_options o;
    ls_read_options_init(&o);
    struct ls_dataset *d = NULL;
    char ebuf[256];
    assert_int_equal(ls_dataset_open(demo_csv(), &o, &d, ebuf, sizeof ebuf), 0);
    assert_int_equal(ls_dataset_rows(d), 3000);
    assert_int_equal(ls_dataset_columns(d), 13);
    const char *pos = NULL;
    assert_string_equal(ls_dataset_target(d, &pos), "Converted");
    assert_string_equal(pos, "1");
    assert_string_equal(ls_dataset_column_type(d, 0), "identifier");
    char *json = ls_dataset_profile_json(d);
    assert_non_null(strstr(json, "\"rows\":3000"));
    ls_free(json);
    ls_dataset_free(d);
    assert_string_equal(ls_version(), LS_VERSION_STRING);
    assert_string_equal(ls_strerror(LS_ELIMIT), "limit exceeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_lead_matches_batch),
        cmocka_unit_test(test_score_lead_model_tokens),
        cmocka_unit_test(test_model_load_errors),
        cmocka_unit_test(test_dataset_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
