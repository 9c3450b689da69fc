/*
 * shap.c — our side of the explanation benchmark (bench/shap.py drives it).
 *
 * usage: bench_shap FILE.csv [--runs R] [--classic-rows N] [--threads T] [--rows N]
 *
 * Trains the default model on FILE.csv exactly as `leadscore train` does,
 * bins every row, then times TreeSHAP over every row (linear-time method,
 * on 1 and on T threads, best of R runs) and the classic algorithm on the
 * first N rows (one thread). Prints one JSON object: rows, trees, leaves,
 * linear_s_1t, linear_s, classic_per_row_s, per-row and per row·leaf times,
 * and the worst local-accuracy error |base + sum - raw|.
 */
#include "app/train.h"
#include "ml/bins.h"
#include "ml/model.h"
#include "ml/treeshap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: bench_shap FILE.csv [--runs R] [--classic-rows N] [--threads T]\n", stderr);
        return 2;
    }
    int runs = 3;
    uint64_t classic_rows = 200;
    uint32_t threads = 2;
    uint64_t limit = 0; /* explain only the first rows (profiling) */
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--classic-rows") == 0)
            classic_rows = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (uint32_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rows") == 0)
            limit = strtoull(argv[i + 1], NULL, 10);
    }
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *fr;
    struct ls_error err;
    if (frame_read_file(argv[1], &fo, &fr, &err)) {
        fprintf(stderr, "bench_shap: %s\n", err.msg);
        return 1;
    }
    struct train_opts to;
    train_opts_default(&to);
    to.forest.threads = threads;
    struct model m;
    struct train_summary sum;
    if (app_train(fr, &to, &m, &sum, &err)) {
        fprintf(stderr, "bench_shap: %s\n", err.msg);
        return 1;
    }
    train_summary_cleanup(&sum);
    size_t nf = m.schema.nfeat;
    uint64_t n = fr->nrows, leaves = 0;
    if (limit && limit < n)
        n = limit;
    for (uint32_t t = 0; t < m.forest.ntrees; t++)
        for (uint32_t k = 0; k < m.forest.trees[t].nnodes; k++)
            leaves += m.forest.trees[t].nodes[k].kind == TNODE_LEAF;
    uint8_t *X = malloc(nf * fr->nrows);
    struct bin_report rep;
    bins_apply(&m.schema, fr, X, &rep);
    bins_report_cleanup(&rep);
    double *phi = malloc(n * nf * sizeof *phi), *base = malloc(n * sizeof *base);
    double *raw = malloc(fr->nrows * sizeof *raw);
    forest_predict(&m.forest, X, fr->nrows, raw, threads);

    double t0 = now();
    struct treeshap *ts = treeshap_new(&m.forest);
    double setup = now() - t0, best1 = 1e30, bestT = 1e30;
    for (int r = 0; r < runs; r++) {
        t0 = now();
        treeshap_rows(ts, X, fr->nrows, 0, n, NULL, 0, 1, phi, base);
        double d = now() - t0;
        best1 = d < best1 ? d : best1;
        t0 = now();
        treeshap_rows(ts, X, fr->nrows, 0, n, NULL, 0, threads, phi, base);
        d = now() - t0;
        bestT = d < bestT ? d : bestT;
    }
    double worst = 0;
    for (uint64_t r = 0; r < n; r++) {
        double s = base[r];
        for (size_t j = 0; j < nf; j++)
            s += phi[r * nf + j];
        if (fabs(s - raw[r]) > worst)
            worst = fabs(s - raw[r]);
    }
    if (classic_rows > n)
        classic_rows = n;
    struct treeshap_classic *sc = treeshap_classic_new(&m.forest);
    t0 = now();
    for (uint64_t r = 0; r < classic_rows; r++)
        treeshap_classic_row(&m.forest, X, fr->nrows, r, sc, phi, base);
    double classic = classic_rows ? (now() - t0) / (double)classic_rows : 0;
    printf("{\"rows\": %llu, \"trees\": %u, \"leaves\": %llu, \"features\": %zu, "
           "\"setup_s\": %.6f, \"linear_s_1t\": %.4f, \"linear_s\": %.4f, \"threads\": %u, "
           "\"linear_us_per_row_1t\": %.2f, \"linear_ns_per_row_leaf_1t\": %.3f, "
           "\"classic_us_per_row\": %.1f, \"classic_ns_per_row_leaf\": %.3f, "
           "\"max_abs_error\": %.3g}\n",
           (unsigned long long)n, m.forest.ntrees, (unsigned long long)leaves, nf, setup, best1,
           bestT, threads, best1 / (double)n * 1e6, best1 / ((double)n * (double)leaves) * 1e9,
           classic * 1e6, classic / (double)leaves * 1e9, worst);
    treeshap_classic_free(sc);
    treeshap_free(ts);
    free(X);
    free(phi);
    free(base);
    free(raw);
    model_cleanup(&m);
    frame_free(fr);
    return 0;
}
