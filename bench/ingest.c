/*
 * ingest.c — ingest benchmark: MB/s from a CSV file to a profiled typed frame.
 *
 * usage: bench_ingest [FILE.csv] [--mb N] [--runs R]
 *
 * Without FILE it generates a lead CSV of about N MB (default 100) with the
 * demo generator. It then times, on one core, over R runs (median):
 *   libcsv alone   csv_parse over the file with empty callbacks (the peer:
 *                  the floor any libcsv-based reader stands on)
 *   leadscore      frame_read_file: decode, sniff, parse, intern, type,
 *                  profile — everything `leadscore inspect` does
 * and prints both rates and their ratio.
 */
#include "data/demo.h"
#include "data/frame.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t nfields;
static void cb_field(void *s, size_t len, void *data)
{
    (void)s;
    (void)len;
    (void)data;
    nfields++;
}
static void cb_row(int c, void *data)
{
    (void)c;
    (void)data;
}

static double time_libcsv(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static char chunk[1 << 20];
    struct csv_parser p;
    csv_init(&p, 0);
    double t0 = now();
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        csv_parse(&p, chunk, n, cb_field, cb_row, NULL);
    csv_fini(&p, cb_field, cb_row, NULL);
    double t = now() - t0;
    csv_free(&p);
    fclose(f);
    return t;
}

static double time_frame(const char *path, uint64_t *rows, size_t *cols)
{
    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_bytes = 1ull << 40;
    o.csv.limits.max_rows = 1ull << 40;
    struct frame *f = NULL;
    struct ls_error err;
    double t0 = now();
    if (frame_read_file(path, &o, &f, &err)) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        exit(1);
    }
    double t = now() - t0;
    *rows = f->nrows;
    *cols = f->ncols;
    frame_free(f);
    return t;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    double mb = 100;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
            mb = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = (int)strtol(argv[++i], NULL, 10);
        else
            path = argv[i];
    }
    if (runs < 1 || runs > 50)
        runs = 5;
    char gen[256];
    if (!path) {
        snprintf(gen, sizeof gen, "bench-ingest-%.0fmb.csv", mb);
        struct stat st;
        if (stat(gen, &st) != 0) {
            FILE *out = fopen(gen, "wb");
            if (!out) {
                perror(gen);
                return 1;
            }
            struct demo_opts o;
            demo_opts_default(&o);
            o.rows = (uint64_t)(mb * 1024 * 1024 / 82.0); /* ~82 bytes a lead */
            struct ls_error err;
            if (demo_write(out, &o, &err) || fclose(out)) {
                fprintf(stderr, "bench_ingest: cannot write %s\n", gen);
                return 1;
            }
        }
        path = gen;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    double size_mb = (double)st.st_size / (1024.0 * 1024.0);
    double tc[50], tf[50];
    uint64_t rows = 0;
    size_t cols = 0;
    time_libcsv(path); /* warm the page cache */
    for (int r = 0; r < runs; r++) {
        tc[r] = time_libcsv(path);
        tf[r] = time_frame(path, &rows, &cols);
    }
    qsort(tc, (size_t)runs, sizeof(double), cmp);
    qsort(tf, (size_t)runs, sizeof(double), cmp);
    double mc = tc[runs / 2], mf = tf[runs / 2];
    printf("file: %s (%.1f MB, %llu rows x %zu columns), median of %d runs, one core\n", path,
           size_mb, (unsigned long long)rows, cols, runs);
    printf("%-34s %8.3f s %8.1f MB/s\n", "libcsv alone (empty callbacks)", mc, size_mb / mc);
    printf("%-34s %8.3f s %8.1f MB/s\n", "leadscore: CSV -> typed profile", mf, size_mb / mf);
    printf("ratio leadscore / libcsv alone: %.2f\n", mc / mf);
    return 0;
}
