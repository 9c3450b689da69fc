/*
 * model_api.c — the ls_model part of the public API (include/leadscore.h):
 * loading a model and scoring one lead from its raw text values.
 */
#include <leadscore.h>

#include "app/score.h"
#include "core/mem.h"
#include "data/frame.h"
#include "data/value.h"
#include "ml/bins.h"
#include "ml/model.h"

#include <stdio.h>
#include <string.h>

#define LEAD_MAX_FEATURES 4096 /* one lead's bins live on the stack */

struct ls_model {
    struct model m;
    struct bins_index ix;
};

int ls_model_load(const char *path, struct ls_model **out, char *errbuf, size_t errcap)
{
    struct ls_model *lm = xcalloc(1, sizeof *lm);
    struct ls_error err;
    ls_error_clear(&err);
    int rc = model_load(path, &lm->m, &err);
    if (rc == LS_OK && lm->m.schema.nfeat > LEAD_MAX_FEATURES)
        rc =
            ls_error_set(&err, LS_ELIMIT, "the model has more than %d features", LEAD_MAX_FEATURES);
    if (rc) {
        if (errbuf && errcap)
            snprintf(errbuf, errcap, "%s", err.msg);
        model_cleanup(&lm->m);
        free(lm);
        return rc;
    }
    bins_index_build(&lm->m.schema, &lm->ix);
    *out = lm;
    return LS_OK;
}

void ls_model_free(struct ls_model *lm)
{
    if (!lm)
        return;
    bins_index_cleanup(&lm->ix);
    model_cleanup(&lm->m);
    free(lm);
}

size_t ls_model_features(const struct ls_model *lm)
{
    return lm->m.schema.nfeat;
}

const char *ls_model_feature_name(const struct ls_model *lm, size_t i)
{
    return i < lm->m.schema.nfeat ? lm->m.schema.feat[i].name : NULL;
}

/* Is s one of the tokens the model's training file was read with (the
 * reader's default list for a version 1 model)? */
static int is_missing(const struct model *m, const char *s)
{
    struct frame_opts fo;
    frame_opts_default(&fo);
    model_frame_opts(m, &fo);
    const char *const *tokens = fo.missing_tokens ? fo.missing_tokens : frame_default_missing;
    size_t len = strlen(s);
    value_trim(&s, &len);
    for (size_t i = 0; tokens[i]; i++)
        if (value_ieq(s, len, tokens[i]))
            return 1;
    return 0;
}

int ls_model_score_lead(const struct ls_model *lm, const char *const *values, double *score,
                        double *raw, const char **tier)
{
    const struct model *m = &lm->m;
    uint8_t row[LEAD_MAX_FEATURES];
    for (size_t j = 0; j < m->schema.nfeat; j++) {
        const char *v = values[j];
        int how;
        row[j] = !v || is_missing(m, v) ? BINS_MISSING
                                        : bins_value(&m->schema, &lm->ix, j, v, strlen(v), 0, &how);
    }
    double p = forest_predict_row(&m->forest, row, 1, 0);
    double sc = 100.0 * calib_apply(&m->calib, p);
    if (score)
        *score = sc;
    if (raw)
        *raw = 100.0 * p;
    if (tier)
        *tier = tier_name(sc >= m->tier_high     ? TIER_HIGH
                          : sc >= m->tier_medium ? TIER_MEDIUM
                                                 : TIER_LOW);
    return LS_OK;
}
