/*
 * forest.c — our side of the forest benchmark (bench/forest.py drives it).
 *
 * usage: bench_forest TRAIN.csv TEST.csv TARGET [--exclude a,b] [--trees N]
 *                     [--threads T] [--seed S]
 *
 * Trains on TRAIN.csv exactly as `leadscore train` does (library call timed
 * inside the process), predicts TEST.csv and then every row of both, and
 * prints one JSON object: fit_s, predict_test_s, predict_all_s, test_auc,
 * test_logloss (raw forest probabilities, as the peers' predict_proba),
 * test_logloss_calibrated, oob_auc, peak_rss_mb, model_bytes, single-lead
 * latency (median over 1000 leads of ls_model_score_lead: raw text values
 * -> bins -> trees -> calibrated score, microseconds).
 */
#include "app/train.h"
#include "data/target.h"
#include "ml/metrics.h"
#include "ml/model.h"

#include <leadscore.h>
#include <unistd.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct frame *load(const char *path)
{
    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_bytes = 1ull << 40;
    o.csv.limits.max_rows = 1ull << 40;
    struct frame *f;
    struct ls_error err;
    if (frame_read_file(path, &o, &f, &err)) {
        fprintf(stderr, "bench_forest: %s: %s\n", path, err.msg);
        exit(1);
    }
    return f;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_forest TRAIN.csv TEST.csv TARGET [options]\n");
        return 2;
    }
    struct train_opts o;
    train_opts_default(&o);
    o.skip_leakage_scan = 1; /* like the peers: every column, the forest's time alone */
    o.target = argv[3];
    o.forest.threads = 2;
    char *excl = NULL;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--exclude") == 0) {
            excl = strdup(argv[i + 1]);
            for (char *p = excl; p && *p && o.nexclude < TRAIN_MAX_EXCLUDE;) {
                char *c = strchr(p, ',');
                if (c)
                    *c = '\0';
                o.exclude[o.nexclude++] = p;
                p = c ? c + 1 : NULL;
            }
        } else if (strcmp(argv[i], "--trees") == 0) {
            o.forest.trees = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--threads") == 0) {
            o.forest.threads = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0) {
            o.forest.seed = strtoull(argv[i + 1], NULL, 10);
        }
    }
    struct frame *tr = load(argv[1]);
    struct frame *te = load(argv[2]);
    struct model m;
    struct train_summary sum;
    struct ls_error err;
    double t0 = now();
    if (app_train(tr, &o, &m, &sum, &err)) {
        fprintf(stderr, "bench_forest: %s\n", err.msg);
        return 1;
    }
    train_summary_cleanup(&sum);
    double fit = now() - t0;

    /* test rows: binned through the model's schema, predicted by every tree */
    t0 = now();
    uint8_t *X = malloc(m.schema.nfeat * te->nrows);
    struct bin_report rep;
    bins_apply(&m.schema, te, X, &rep);
    double *p = malloc(te->nrows * sizeof *p);
    forest_predict(&m.forest, X, te->nrows, p, o.forest.threads);
    double pred_test = now() - t0;
    struct target t;
    if (target_find(te, argv[3], &t, &err)) {
        fprintf(stderr, "bench_forest: %s\n", err.msg);
        return 1;
    }
    uint8_t *y = malloc(te->nrows);
    double *pl = malloc(te->nrows * sizeof *pl), *pc = malloc(te->nrows * sizeof *pc);
    uint64_t k = 0;
    for (uint64_t r = 0; r < te->nrows; r++) {
        int l = target_label(te, &t, r);
        if (l < 0)
            continue;
        y[k] = (uint8_t)l;
        pl[k] = p[r];
        pc[k] = calib_apply(&m.calib, p[r]);
        k++;
    }
    struct metrics mt, mc;
    metrics_compute(pl, y, k, &mt);
    metrics_compute(pc, y, k, &mc);

    /* all rows (train + test) */
    t0 = now();
    uint8_t *X2 = malloc(m.schema.nfeat * tr->nrows);
    struct bin_report rep2;
    bins_apply(&m.schema, tr, X2, &rep2);
    double *p2 = malloc(tr->nrows * sizeof *p2);
    forest_predict(&m.forest, X2, tr->nrows, p2, o.forest.threads);
    double pred_all = now() - t0 + pred_test;

    /* single-lead latency through the public API: a lead's raw text values
     * -> bins -> 100 trees -> calibrated score, 1000 leads, median */
    char tmp[] = "/tmp/bench_forest_model_XXXXXX";
    int fd = mkstemp(tmp);
    struct stat st = {0};
    struct ls_model *lm = NULL;
    char ebuf[256];
    if (fd >= 0) {
        close(fd);
        model_save(&m, tmp, &err);
        stat(tmp, &st);
        if (ls_model_load(tmp, &lm, ebuf, sizeof ebuf)) {
            fprintf(stderr, "bench_forest: %s\n", ebuf);
            return 1;
        }
        remove(tmp);
    }
    size_t nf = ls_model_features(lm);
    long *colof = malloc(nf * sizeof *colof);
    const char **vals = malloc(nf * sizeof *vals);
    for (size_t j = 0; j < nf; j++)
        colof[j] = frame_find(te, ls_model_feature_name(lm, j));
    double lat[1000];
    for (int i = 0; i < 1000; i++) {
        uint64_t r = (uint64_t)i % te->nrows;
        for (size_t j = 0; j < nf; j++)
            vals[j] = colof[j] >= 0 ? frame_cell(te, (size_t)colof[j], r) : NULL;
        double s = now(), sc;
        ls_model_score_lead(lm, vals, &sc, NULL, NULL);
        lat[i] = (now() - s) * 1e6;
    }
    qsort(lat, 1000, sizeof(double), cmp_d);
    ls_model_free(lm);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"fit_s\": %.4f, \"predict_test_s\": %.4f, \"predict_all_s\": %.4f, "
           "\"test_auc\": %.5f, \"test_logloss\": %.5f, \"test_logloss_calibrated\": %.5f, "
           "\"oob_auc\": %.5f, \"peak_rss_mb\": %.1f, \"model_bytes\": %lld, "
           "\"single_lead_us\": %.2f, \"train_rows\": %llu, \"test_rows\": %llu, "
           "\"features\": %zu}\n",
           fit, pred_test, pred_all, mt.auc, mt.logloss, mc.logloss, m.oob.auc,
           (double)ru.ru_maxrss / 1024.0, (long long)st.st_size, lat[500],
           (unsigned long long)sum.train_rows, (unsigned long long)k, sum.features);
    free(excl);
    return 0;
}
