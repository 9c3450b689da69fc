/*
 * cmd_chat.c — `leadscore chat MODEL FILE.csv [--json]`: questions about a
 * scored file, one per line on standard input, answered one per line.
 *
 * The file is scored and every lead explained (app/run.h, as `score
 * --explain` does), the run becomes facts and an index (chat/chat.h), and
 * each question is planned there and answered by the language-model chain
 * (llm/llm.h, configured from the environment) with the built-in
 * narrator's answer as the fallback — with no model configured, the
 * narrator answers. The leads the questions name are read from the run in
 * memory (struct chat_leads below): by the model's identifier column, or
 * by another column that reads like an identifier ("Lead Number"), or by
 * row. The last CHAT_HISTORY_MAX messages are kept as the conversation, so
 * "and for Google?" follows the question before it.
 *
 * Text mode prints each answer on stdout and its provider on stderr;
 * --json prints one object a line: {question, intent, provider, answer,
 * facts}. A question longer than CHAT_QUESTION_MAX bytes is refused (its
 * line is read to the end and skipped), blank lines are skipped.
 */
#include "app/explain.h"
#include "app/run.h"
#include "chat/chat.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "llm/llm.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage[] =
    "usage: leadscore chat MODEL FILE.csv [--json] [options]\n"
    "\n"
    "Scores and explains FILE.csv with MODEL, then answers questions about the run,\n"
    "one per line on standard input: conversion rates by a column's values, why a\n"
    "lead got its score (\"why is lead 660737 Low?\", \"row 5\"), comparisons, the\n"
    "best and worst values, how many leads are High, how good the model is, what\n"
    "drifted, which columns matter most. Answers come from the language model the\n"
    "environment configures (GEMINI_API_KEY, LEADSCORE_LLAMA_URL, LEADSCORE_LLM; see\n"
    "the README), always grounded in facts computed from the run; without one, the\n"
    "built-in narrator answers.\n"
    "\n"
    "  --json              one JSON object per answer: question, intent, provider,\n"
    "                      answer, facts (the cards the answer used)\n"
    "  --threads T         threads (default: all cores)\n";

struct chat_args {
    struct run_opts run;
    int json;
};

#define ARG(field) offsetof(struct chat_args, field)
static const struct cli_option options[] = {
    {"--json", NULL, 0, cli_opt_flag, ARG(json), 0, 0},
    {"--threads", NULL, 1, cli_opt_u32, ARG(run.score.threads), 1, FOREST_MAX_THREADS},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};
static const char *const file_names[] = {"MODEL", "FILE.csv", NULL};
static const struct cli_command command = {"chat", usage, options, file_names, 2};

/* ---- the run's leads ------------------------------------------------------ */

struct run_leads {
    const struct run_result *res;
    uint64_t *by_rank; /* row of rank k + 1 */
    long *id_cols;     /* columns a lead may be named by, the model's identifier first */
    size_t nid;
};

/* 1 when a column's name reads like an identifier: "Lead Number", "lead_id",
 * "ID", "Prospect ID". */
static int id_like(const char *name)
{
    char b[128];
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < sizeof b; p++)
        b[k++] = (char)tolower((unsigned char)*p);
    b[k] = 0;
    if (strcmp(b, "id") == 0 || strstr(b, "number") || strstr(b, " id") || strstr(b, "_id") ||
        strstr(b, "-id") || strncmp(b, "id ", 3) == 0 || strncmp(b, "id_", 3) == 0)
        return 1;
    return 0;
}

static json_t *lead_json(const struct run_leads *L, uint64_t i)
{
    const struct run_result *res = L->res;
    const struct score_result *r = &res->score;
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)i + 1));
    if (r->id_col >= 0) {
        json_t *s = json_string(frame_cell(res->f, (size_t)r->id_col, i));
        json_object_set_new(o, "id", s ? s : json_null());
    }
    json_object_set_new(o, "score", json_real(r->score[i]));
    json_object_set_new(o, "tier", json_string(tier_name((enum tier)r->tier[i])));
    json_object_set_new(o, "rank", json_integer((json_int_t)r->rank[i]));
    json_object_set_new(o, "label", r->label[i] >= 0 ? json_integer(r->label[i]) : json_null());
    if (res->explained && i >= res->ex.row0 && i - res->ex.row0 < res->ex.n) {
        json_t *tmp = json_object();
        explain_lead_json(res->m, res->f, r, &res->ex, i, tmp);
        json_t *rs = json_object_get(tmp, "reasons");
        if (rs)
            json_object_set(o, "reasons", rs);
        json_decref(tmp);
    }
    return o;
}

static int leads_by_row(void *ctx, uint64_t row, json_t **lead)
{
    const struct run_leads *L = ctx;
    if (row < 1 || row > L->res->score.n)
        return LS_ENOT_FOUND;
    *lead = lead_json(L, row - 1);
    return LS_OK;
}

static int leads_by_id(void *ctx, const char *id, json_t **lead)
{
    const struct run_leads *L = ctx;
    const struct frame *f = L->res->f;
    for (size_t k = 0; k < L->nid; k++)
        for (uint64_t i = 0; i < f->nrows; i++)
            if (strcmp(frame_cell(f, (size_t)L->id_cols[k], i), id) == 0) {
                *lead = lead_json(L, i);
                return LS_OK;
            }
    for (size_t k = 0; k < L->nid; k++) /* "l-0000101" as "L-0000101" */
        for (uint64_t i = 0; i < f->nrows; i++)
            if (strcasecmp(frame_cell(f, (size_t)L->id_cols[k], i), id) == 0) {
                *lead = lead_json(L, i);
                return LS_OK;
            }
    return LS_ENOT_FOUND;
}

static int leads_ranked(void *ctx, int desc, int tier, size_t n, json_t **leads)
{
    const struct run_leads *L = ctx;
    const struct score_result *r = &L->res->score;
    json_t *a = json_array();
    for (uint64_t k = 0; k < r->n && json_array_size(a) < n; k++) {
        uint64_t i = L->by_rank[desc ? k : r->n - 1 - k];
        if (i == UINT64_MAX || (tier >= 0 && r->tier[i] != tier))
            continue;
        json_array_append_new(a, lead_json(L, i));
    }
    *leads = a;
    return LS_OK;
}

static void run_leads_init(struct run_leads *L, const struct run_result *res)
{
    const struct score_result *r = &res->score;
    L->res = res;
    L->by_rank = xmalloc((r->n ? r->n : 1) * sizeof *L->by_rank);
    for (uint64_t k = 0; k < r->n; k++)
        L->by_rank[k] = UINT64_MAX;
    for (uint64_t i = 0; i < r->n; i++)
        if (r->rank[i] >= 1 && r->rank[i] <= r->n && L->by_rank[r->rank[i] - 1] == UINT64_MAX)
            L->by_rank[r->rank[i] - 1] = i;
    L->id_cols = xmalloc((res->f->ncols + 1) * sizeof *L->id_cols);
    L->nid = 0;
    if (r->id_col >= 0)
        L->id_cols[L->nid++] = r->id_col;
    for (size_t c = 0; c < res->f->ncols; c++)
        if ((long)c != r->id_col &&
            (res->f->cols[c].type == COL_IDENTIFIER || id_like(res->f->cols[c].name)))
            L->id_cols[L->nid++] = (long)c;
}

static void run_leads_cleanup(struct run_leads *L)
{
    free(L->by_rank);
    free(L->id_cols);
}

/* ---- questions -------------------------------------------------------------- */

/* One line of stdin into line (cap bytes): 1 read, 0 end of input, -1 too
 * long (the rest of the line is skipped). The newline is dropped. */
static int read_line(char *line, size_t cap)
{
    if (!fgets(line, (int)cap, stdin))
        return 0;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') {
        line[--n] = 0;
        if (n && line[n - 1] == '\r')
            line[--n] = 0;
        return 1;
    }
    if (feof(stdin))
        return 1;
    int c;
    while ((c = getchar()) != EOF && c != '\n')
        ;
    return -1;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static void history_add(json_t *h, const char *role, const char *text)
{
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string(role));
    json_t *t = json_string(text);
    json_object_set_new(m, "text", t ? t : json_string(""));
    json_array_append_new(h, m);
    while (json_array_size(h) > CHAT_HISTORY_MAX)
        json_array_remove(h, 0);
}

struct asker {
    struct llm_chain *chain;
};

/* The chain's answer to a planned question, with the history before it as
 * the conversation. */
static int ask(struct asker *k, const struct chat_plan *p, const json_t *history,
               struct llm_answer *ans, struct ls_error *err)
{
    struct llm_msg msg[CHAT_HISTORY_MAX + 1];
    size_t n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(history, i, e)
    {
        msg[n].role = json_string_value(json_object_get(e, "role"));
        msg[n].text = json_string_value(json_object_get(e, "text"));
        if (msg[n].role && msg[n].text && n < CHAT_HISTORY_MAX)
            n++;
    }
    msg[n].role = "user";
    msg[n].text = p->prompt;
    n++;
    struct llm_request rq;
    memset(&rq, 0, sizeof rq);
    rq.system = p->system;
    rq.msg = msg;
    rq.nmsg = n;
    rq.fallback = p->answer;
    return llm_chain_ask(k->chain, &rq, NULL, ans, err);
}

static void print_json_line(const char *question, const struct chat_plan *p, const char *provider,
                            const char *answer)
{
    json_t *o = json_object();
    json_t *q = json_string(question);
    json_object_set_new(o, "question", q ? q : json_null());
    json_object_set_new(o, "intent", json_string(p->intent));
    json_object_set_new(o, "provider", json_string(provider));
    json_t *a = json_string(answer);
    json_object_set_new(o, "answer", a ? a : json_string(p->answer));
    json_object_set(o, "facts", p->facts);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static void print_json_error(const char *question, const struct ls_error *err)
{
    json_t *o = json_object();
    json_t *q = json_string(question);
    json_object_set_new(o, "question", q ? q : json_null());
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(ls_err_name(err->code)));
    json_object_set_new(e, "message", json_string(err->msg));
    json_object_set_new(o, "error", e);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

int cmd_chat(int argc, char **argv)
{
    struct cli_read rd;
    cli_read_init(&rd);
    struct chat_args a = {0};
    run_opts_default(&a.run);
    const char *files[2] = {NULL, NULL};
    struct run_result res = {0};
    json_t *summary = NULL, *facts = NULL, *history = NULL;
    struct chat_index *ix = NULL;
    struct run_leads rl = {0};
    struct asker k = {0};
    char *line = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = cli_parse(&command, argc, argv, &a, files, &rd);
    if (rc >= 0)
        goto out;
    rc = CLI_OK;
    struct llm_config cfg;
    if (llm_config_from_env(&cfg, &err) != LS_OK || llm_chain_new(&cfg, &k.chain, &err) != LS_OK) {
        rc = cli_fail(cli_code(&err), "%s", err.msg);
        goto out;
    }
    a.run.model_path = files[0];
    a.run.csv_path = files[1];
    a.run.read = rd.fo;
    a.run.user_missing = rd.user_missing;
    a.run.explain = 1; /* every lead: the reasons of any lead a question names */
    a.run.progress = cli_step_progress;
    if (app_run_score(&a.run, &res, &err)) {
        rc = cli_fail(cli_code(&err), "%s", err.msg);
        goto out;
    }
    summary = explain_summary_json(res.m, &res.score, &res.ex);
    const char *base = strrchr(files[1], '/');
    struct chat_run_input in = {res.m, &res, summary, NULL, NULL, base ? base + 1 : files[1]};
    facts = chat_facts_build(&in);
    if (!facts || chat_index_new(facts, &ix, &err) != LS_OK) {
        rc = cli_fail(CLI_BAD_INPUT, "%s", facts ? err.msg : "out of memory");
        goto out;
    }
    run_leads_init(&rl, &res);
    struct chat_leads leads = {leads_by_id, leads_by_row, leads_ranked, &rl};
    history = json_array();
    size_t cap = CHAT_QUESTION_MAX + 2; /* the question, its newline, the NUL */
    line = xmalloc(cap);
    for (;;) {
        int got = read_line(line, cap);
        if (got == 0)
            break;
        if (got < 0) {
            ls_error_set(&err, LS_ELIMIT, "the question is longer than %d bytes",
                         CHAT_QUESTION_MAX);
            if (a.json)
                print_json_error("", &err);
            else
                fprintf(stderr, "leadscore: %s\n", err.msg);
            continue;
        }
        if (blank(line))
            continue;
        struct chat_plan p;
        if (chat_plan(ix, &leads, line, history, &p, &err) != LS_OK) {
            if (a.json)
                print_json_error(line, &err);
            else
                fprintf(stderr, "leadscore: %s\n", err.msg);
            continue;
        }
        struct llm_answer ans;
        memset(&ans, 0, sizeof ans);
        const char *answer = p.answer, *provider = "builtin";
        if (ask(&k, &p, history, &ans, &err) == LS_OK && ans.text) {
            answer = ans.text;
            provider = ans.provider;
        }
        if (a.json) {
            print_json_line(line, &p, provider, answer);
        } else {
            cli_print_text(answer, 0);
            putchar('\n');
            fflush(stdout); /* the answer before its provider on a shared terminal */
            fprintf(stderr, "(%s)\n", provider);
        }
        fflush(stdout);
        history_add(history, "user", line);
        history_add(history, "assistant", answer);
        llm_answer_cleanup(&ans);
        chat_plan_cleanup(&p);
    }
out:
    free(line);
    json_decref(history);
    run_leads_cleanup(&rl);
    chat_index_free(ix);
    json_decref(facts);
    json_decref(summary);
    llm_chain_free(k.chain);
    run_result_cleanup(&res);
    cli_read_cleanup(&rd);
    return rc;
}
