/*
 * cmd_serve.c — `leadscore serve`: the engine behind HTTP.
 *
 * Opens the service (the store under --data-dir, the job workers), starts
 * the HTTP server (src/http/) and waits for SIGINT or SIGTERM. Those
 * signals are blocked in every thread before any thread exists and taken
 * here with sigwait, so no handler runs inside a server or worker thread;
 * a stop is then graceful: no new connection, in-flight requests and jobs
 * finish, the store is closed. A second signal during the stop kills the
 * process at once (the store's crash safety covers that).
 *
 * With --demo (make run) an empty store first gets the generated demo
 * leads, uploaded and scored through the service like any client's file,
 * so the web app opens on a scored run.
 */
#include "app/service.h"
#include "cli/cli.h"
#include "core/sha256.h"
#include "data/demo.h"
#include "http/http.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LS_SOURCE_DIR
#define LS_SOURCE_DIR "."
#endif

static const char usage[] =
    "usage: leadscore serve [--host H] [--port P] [--data-dir DIR] [options]\n"
    "\n"
    "Serves the JSON API (/api/, described at /api/openapi.json), the old\n"
    "system's routes and the web app. Stops gracefully on Ctrl-C or SIGTERM.\n"
    "\n"
    "  --host H            address to bind (default 127.0.0.1); any other address\n"
    "                      needs LEADSCORE_API_TOKEN set, and clients then send\n"
    "                      Authorization: Bearer TOKEN\n"
    "  --port P            port (default 8000; 0: any free port, printed)\n"
    "  --data-dir DIR      where runs, models and uploads are kept\n"
    "                      (default ./leadscore-data)\n"
    "  --threads N         server threads (default: cores, at least 2)\n"
    "  --workers N         training / scoring jobs at once (default 1)\n"
    "  --queue N           jobs waiting beyond those before 503 (default 4)\n"
    "  --keep-runs N       runs kept; older finished runs are deleted (default 1000)\n"
    "  --cors-origin O     allow browser calls from origin O (repeatable)\n"
    "  --web-dir D         the web app's files (default: web/dist of the source)\n"
    "  --upload-max SIZE   largest upload (default 200M)\n"
    "  --demo              when the store has no runs, score generated demo leads\n"
    "                      before serving\n";

struct serve_args {
    struct http_config http;
    struct service_opts svc;
    const char *data_dir;
    uint32_t port;
    int demo;
};

static int add_cors(const struct cli_option *opt, const char *v, void *target)
{
    struct serve_args *a = target;
    (void)opt;
    if (a->http.ncors >= sizeof a->http.cors / sizeof a->http.cors[0])
        return cli_fail(CLI_USAGE, "serve: at most 16 --cors-origin");
    if (!v[0] || strchr(v, '\r') || strchr(v, '\n'))
        return cli_fail(CLI_USAGE, "serve: --cors-origin needs an origin like https://crm.example");
    a->http.cors[a->http.ncors++] = v;
    return 0;
}

#define ARG(field) offsetof(struct serve_args, field)
static const struct cli_option options[] = {
    {"--host", NULL, 1, cli_opt_string, ARG(http.host), 0, 0},
    {"--port", "-p", 1, cli_opt_u32, ARG(port), 0, 65535},
    {"--data-dir", NULL, 1, cli_opt_string, ARG(data_dir), 0, 0},
    {"--threads", NULL, 1, cli_opt_u32, ARG(http.threads), 1, 256},
    {"--workers", NULL, 1, cli_opt_u32, ARG(svc.workers), 1, 64},
    {"--queue", NULL, 1, cli_opt_u32, ARG(svc.queue), 0, 1000},
    {"--keep-runs", NULL, 1, cli_opt_u64, ARG(svc.keep_runs), 1, 1e9},
    {"--cors-origin", NULL, 1, add_cors, 0, 0, 0},
    {"--web-dir", NULL, 1, cli_opt_string, ARG(http.web_dir), 0, 0},
    {"--upload-max", NULL, 1, cli_opt_u64, ARG(http.upload_max), 1, (double)(16ull << 30)},
    {"--demo", NULL, 0, cli_opt_flag, ARG(demo), 0, 0},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {NULL};
static const struct cli_command command = {"serve", usage, options, file_names, 0};

static void demo_done(void *ctx)
{
    (void)ctx; /* the command waits with service_job_wait */
}

/* An empty store gets the demo leads, uploaded and scored as a client would. */
static int seed_demo(struct service *svc, struct ls_error *err)
{
    int rc = 0;
    json_t *list = NULL, *ds = NULL, *cached = NULL, *res = NULL;
    struct service_job *job = NULL;
    char tmp[4096] = "", fp[SHA256_HEX];
    FILE *f = NULL;
    if ((rc = service_run_list(svc, 0, 1, &list, err)) != 0)
        goto out;
    if (json_integer_value(json_object_get(list, "total")) > 0)
        goto out;
    if ((rc = store_tmp_path(service_store(svc), "demo", "csv", tmp, sizeof tmp, err)) != 0)
        goto out;
    if (!(f = fopen(tmp, "wx"))) {
        rc = ls_error_set(err, LS_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    struct demo_opts o;
    demo_opts_default(&o);
    rc = demo_write(f, &o, err);
    if (fclose(f) != 0 && rc == 0)
        rc = ls_error_set(err, LS_EIO, "writing %s failed", tmp);
    f = NULL;
    if (rc || (rc = sha256_file_hex(tmp, fp, err)) != 0)
        goto out;
    struct service_upload up = {tmp, "demo-leads.csv", fp, 0};
    rc = service_dataset_add(svc, &up, &ds, err);
    tmp[0] = '\0'; /* the service moved or removed it */
    if (rc)
        goto out;
    struct service_run_req rr = {0};
    service_train_init(&rr.train);
    rr.dataset_id = json_integer_value(json_object_get(ds, "dataset_id"));
    int64_t run_id = 0;
    if ((rc = service_run_submit(svc, &rr, demo_done, NULL, &job, &run_id, &cached, err)) != 0)
        goto out;
    if (job) {
        service_job_wait(job);
        if ((rc = service_job_result(job, &res, err)) != 0)
            goto out;
    }
    fprintf(stderr, "demo leads scored: run %lld\n", (long long)run_id);
out:
    if (f)
        fclose(f);
    if (tmp[0])
        unlink(tmp);
    service_job_release(job);
    json_decref(list);
    json_decref(ds);
    json_decref(cached);
    json_decref(res);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_args a;
    memset(&a, 0, sizeof a);
    service_opts_default(&a.svc);
    a.port = 8000;
    a.data_dir = "leadscore-data";
    a.http.host = "127.0.0.1";
    a.http.web_dir = LS_SOURCE_DIR "/web/dist";
    a.http.upload_max = HTTP_UPLOAD_MAX;
    int rc = cli_parse(&command, argc, argv, &a, NULL, NULL);
    if (rc >= 0)
        return rc;
    if (a.http.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a.http.threads = n < 2 ? 2 : n > 64 ? 64 : (uint32_t)n;
    }
    a.http.port = (uint16_t)a.port;
    a.http.token = getenv("LEADSCORE_API_TOKEN");
    if (a.http.token && !a.http.token[0])
        a.http.token = NULL;
    a.svc.data_dir = a.data_dir;

    /* Before any thread exists: the stop signals are taken by sigwait below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct ls_error err;
    ls_error_clear(&err);
    struct service *svc = NULL;
    struct http_server *srv = NULL;
    uint16_t port = 0;
    if (service_open(&a.svc, &svc, &err) != 0) {
        rc = cli_fail(cli_code(&err), "serve: %s", err.msg);
        goto out;
    }
    /* listen first: a busy port is said at once, not after the demo's work */
    if (http_server_start(&a.http, svc, &srv, &port, &err) != 0) {
        rc = cli_fail(cli_code(&err), "serve: %s", err.msg);
        goto out;
    }
    if (a.demo && seed_demo(svc, &err) != 0)
        fprintf(stderr, "leadscore: serve: the demo leads were not scored: %s\n", err.msg);
    char dir[PATH_MAX];
    if (!realpath(a.data_dir, dir))
        snprintf(dir, sizeof dir, "%s", a.data_dir);
    int v6 = strchr(a.http.host, ':') != NULL;
    printf("LeadScore serving on http://%s%s%s:%u (data: %s)\n", v6 ? "[" : "", a.http.host,
           v6 ? "]" : "", (unsigned)port, dir);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    fprintf(stderr, "LeadScore stopping (%s): finishing requests and jobs...\n",
            sig == SIGINT    ? "SIGINT"
            : sig == SIGTERM ? "SIGTERM"
                             : "SIGHUP");
    /* A second signal ends the process at once. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    /* before the server waits for requests in flight: one waiting for a
     * model's answer (the old POST /chat) must not wait for its timeouts */
    service_stop_models(svc);
    http_server_stop(srv);
    srv = NULL;
    rc = CLI_OK;
out:
    http_server_stop(srv);
    service_close(svc);
    if (rc == CLI_OK)
        fprintf(stderr, "LeadScore stopped\n");
    return rc;
}
