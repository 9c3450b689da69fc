/*
 * bench/store.c — how fast the SQLite store takes and pages a big run.
 *
 *   bench_store [LEADS] [DIR]     (default 1000000 leads, a fresh temp dir)
 *
 * Stores LEADS synthetic leads with store_run_finish (one transaction),
 * first without contributions (a run too big to explain every lead), then a
 * tenth as many with 20 contributions each (a run explained up front), and
 * times a few pages of the big run: by score at the top and deep, one tier,
 * a text filter, a display column. Prints leads/s, the database's size and
 * the process's peak RSS. Timings only: nothing here passes or fails.
 */
#include "core/mem.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system seconds of the process: steadier than wall time on a shared machine */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, int rc, const struct ls_error *e)
{
    fprintf(stderr, "bench_store: %s: %d %s\n", what, rc, e->msg);
    exit(1);
}

static const char *const CITIES[] = {"Mumbai", "Delhi", "Pune", "Chennai", "Other Cities"};
static const char *const SOURCES[] = {"Google", "Direct Traffic", "Olark Chat", "Organic Search"};

static struct store_lead *make_leads(size_t n, size_t ncontrib)
{
    struct store_lead *l = xcalloc(n, sizeof *l);
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        l[i].rank = i + 1;
        l[i].row = (i * 7919) % n + 1; /* n not a multiple of 7919 */
        l[i].score = 100.0 - (double)i * 100.0 / (double)n;
        l[i].raw = l[i].score / 100.0;
        l[i].tier = l[i].score >= 70 ? 2 : l[i].score >= 40 ? 1 : 0;
        l[i].label = -1;
        snprintf(buf, sizeof buf, "%08zx-lead", i * 2654435761u);
        l[i].lead_id = xstrdup(buf);
        snprintf(buf, sizeof buf,
                 "{\"Lead Source\":\"%s\",\"City\":\"%s\",\"TotalVisits\":%zu,"
                 "\"Total Time Spent on Website\":%zu,\"Last Activity\":\"Email Opened\"}",
                 SOURCES[i % 4], CITIES[i % 5], i % 17, (i * 31) % 2000);
        l[i].display_json = xstrdup(buf);
        snprintf(buf, sizeof buf,
                 "{\"for\":[{\"column\":\"Total Time Spent on Website\",\"value\":\"%zu\","
                 "\"points\":12.5}],\"against\":[{\"column\":\"Lead Source\",\"value\":\"%s\","
                 "\"points\":-3.25}]}",
                 (i * 31) % 2000, SOURCES[i % 4]);
        l[i].reasons_json = xstrdup(buf);
        if (ncontrib) {
            l[i].ncontrib = ncontrib;
            l[i].contrib = xmalloc(ncontrib * sizeof(double));
            for (size_t k = 0; k < ncontrib; k++)
                l[i].contrib[k] = (double)(i % 100) / 10.0 - (double)k;
            l[i].base = 38.5;
        }
    }
    return l;
}

static int64_t store_run(struct store *s, int64_t ds, size_t n, size_t ncontrib, double *secs)
{
    struct ls_error e = {0};
    struct store_run r = {.dataset_id = ds};
    int rc = store_run_create(s, &r, &e);
    if (rc)
        die("run_create", rc, &e);
    struct store_lead *l = make_leads(n, ncontrib);
    struct store_run fin = {.id = r.id, .total = n, .explained = ncontrib > 0};
    for (size_t i = 0; i < n; i++)
        fin.tier[l[i].tier]++;
    fin.summary_json = (char *)"{}";
    double t0 = now_s(), c0 = cpu_s();
    if ((rc = store_run_finish(s, &fin, l, n, &e)))
        die("run_finish", rc, &e);
    *secs = now_s() - t0;
    printf("  (CPU %.2f s of %.2f s)\n", cpu_s() - c0, *secs);
    store_lead_list_free(l, n);
    return r.id;
}

static void page(struct store *s, int64_t run, const char *label, struct store_lead_query q)
{
    struct ls_error e = {0};
    struct store_lead *p = NULL;
    size_t n = 0;
    uint64_t total = 0;
    double t0 = now_s();
    int rc = store_leads_query(s, run, &q, &p, &n, &total, &e);
    if (rc)
        die(label, rc, &e);
    printf("  page %-34s %7.1f ms  (%zu of %llu)\n", label, (now_s() - t0) * 1e3, n,
           (unsigned long long)total);
    store_lead_list_free(p, n);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    char dir[256];
    if (argc > 2) {
        snprintf(dir, sizeof dir, "%s", argv[2]);
    } else {
        snprintf(dir, sizeof dir, "/tmp/bench_store.XXXXXX");
        if (!mkdtemp(dir))
            return 1;
    }
    struct store *s = NULL;
    struct ls_error e = {0};
    int rc = store_open(dir, &s, &e);
    if (rc)
        die("open", rc, &e);
    char path[512];
    if ((rc = store_tmp_path(s, "up", "csv", path, sizeof path, &e)))
        die("tmp", rc, &e);
    FILE *f = fopen(path, "w");
    fputs("a\n1\n", f);
    fclose(f);
    struct store_dataset d = {.filename = (char *)"bench.csv", .rows = n, .ncols = 1};
    memset(d.fingerprint, 'a', 64);
    if ((rc = store_dataset_put(s, path, &d, &e)))
        die("dataset_put", rc, &e);

    double secs;
    int64_t big = store_run(s, d.id, n, 0, &secs);
    printf("store_run_finish: %zu leads, no contributions: %.2f s, %.0f leads/s\n", n, secs,
           (double)n / secs);
    size_t n2 = n / 10 ? n / 10 : 1;
    store_run(s, d.id, n2, 20, &secs);
    printf("store_run_finish: %zu leads, 20 contributions: %.2f s, %.0f leads/s\n", n2, secs,
           (double)n2 / secs);

    page(s, big, "score desc, first 50",
         (struct store_lead_query){.tier = -1, .desc = 1, .limit = 50});
    page(s, big, "score desc, offset n/2",
         (struct store_lead_query){.tier = -1, .desc = 1, .offset = n / 2, .limit = 50});
    page(s, big, "score asc, first 50", (struct store_lead_query){.tier = -1, .limit = 50});
    page(s, big, "tier High, first 50",
         (struct store_lead_query){.tier = 2, .desc = 1, .limit = 50});
    page(s, big, "q=\"chennai\", first 50",
         (struct store_lead_query){.tier = -1, .q = "chennai", .desc = 1, .limit = 50});
    page(s, big, "sort City, first 50",
         (struct store_lead_query){.tier = -1, .sort = "City", .limit = 50});
    page(s, big, "sort TotalVisits desc, first 50",
         (struct store_lead_query){.tier = -1, .sort = "TotalVisits", .desc = 1, .limit = 50});

    double t0 = now_s(), c0 = cpu_s();
    if ((rc = store_run_delete(s, big, &e)))
        die("delete", rc, &e);
    printf("store_run_delete: %.2f s (CPU %.2f s)\n", now_s() - t0, cpu_s() - c0);

    char db[600];
    snprintf(db, sizeof db, "%s/leadscore.db", s->dir);
    struct stat sb;
    if (stat(db, &sb) == 0)
        printf("database: %.1f MB (%s)\n", (double)sb.st_size / 1e6, db);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB (the leads arrays included)\n", (double)ru.ru_maxrss / 1024.0);
    store_dataset_cleanup(&d);
    store_close(s);
    return 0;
}
