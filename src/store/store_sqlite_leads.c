/*
 * store_sqlite_leads.c — a run's leads in SQLite: stored, paged, explained.
 *
 * store_run_finish writes a run's status and every one of its leads in one
 * transaction, so a reader sees either no leads and a running run, or all
 * of them and a done one. The leads go in through one prepared INSERT,
 * in rank order: the two rank indexes then grow at their ends (the key
 * index (run_id, row) takes the random inserts), which is what keeps a
 * million-lead run's insert fast.
 *
 * Paging happens in SQL. Ranks follow scores (checked on the way in), so
 * sorting by score is walking the (run_id, rank) or (run_id, tier, rank)
 * index, and a page deep in a million leads costs its offset, never a sort.
 * A display column sorts by json_extract(display_json, ?) with the path
 * bound as a parameter — a column name never becomes SQL — and only after
 * the name is found among the run's display columns. The text filter is a
 * LIKE with % and _ escaped, over the lead's id and its display values.
 */
#include "store/sqlite_internal.h"

#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAD_COLS_SQL                                                                              \
    "row, lead_id, score, raw, tier, rank, label, oob, reasons_json, display_json, base, contrib"
#define CONTRIB_MAX     100000    /* contributions per lead (one per model feature) */
#define EXPLAIN_MAX     (1 << 20) /* leads per store_leads_explain call */
#define SORT_NAME_MAX   256
#define BIG_CACHE_LEADS 50000 /* a finish this big gets the big page cache */

/* ---- reading leads ---------------------------------------------------- */

/* Fill l from the current row. copy: fresh strings (freed by
 * store_lead_cleanup); else the strings are SQLite's, valid until the next
 * step, and only contrib (into *buf, grown as needed) is copied. */
static void read_lead(sqlite3_stmt *st, struct store_lead *l, int copy, double **buf, size_t *cap)
{
    memset(l, 0, sizeof *l);
    l->row = (uint64_t)sqlite3_column_int64(st, 0);
    l->score = sqlite3_column_double(st, 2);
    l->raw = sqlite3_column_double(st, 3);
    l->tier = sqlite3_column_int(st, 4);
    l->rank = (uint64_t)sqlite3_column_int64(st, 5);
    l->label = sqlite3_column_int(st, 6);
    l->oob = sqlite3_column_int(st, 7);
    l->base = sqlite3_column_double(st, 10);
    if (copy) {
        l->lead_id = sq__col_str(st, 1);
        l->reasons_json = sq__col_str(st, 8);
        l->display_json = sq__col_str(st, 9);
    } else {
        l->lead_id = (char *)sqlite3_column_text(st, 1);
        l->reasons_json = (char *)sqlite3_column_text(st, 8);
        l->display_json = (char *)sqlite3_column_text(st, 9);
    }
    const void *blob = sqlite3_column_blob(st, 11);
    size_t bytes = (size_t)sqlite3_column_bytes(st, 11);
    size_t n = bytes / sizeof(double);
    if (!blob || n == 0)
        return;
    double *dst;
    if (copy) {
        dst = xmalloc(n * sizeof *dst);
    } else {
        if (*cap < n) {
            *buf = xreallocarray(*buf, n, sizeof **buf);
            *cap = n;
        }
        dst = *buf;
    }
    memcpy(dst, blob, n * sizeof *dst); /* the blob need not be aligned for doubles */
    l->contrib = dst;
    l->ncontrib = n;
}

/* A done run's status check inside the caller's transaction: 0, LS_ENOT_FOUND,
 * or LS_ECONFLICT for a run that has no leads to show (not done). counts
 * (when not NULL) gets the run's total and its three tiers' counts, which
 * store_run_finish checked against the leads themselves. */
static int run_done(struct sq_conn *c, int64_t id, uint64_t counts[4], struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, SQ_RUN_STATUS, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        enum store_run_status status = (enum store_run_status)sqlite3_column_int(st, 0);
        if (status != STORE_RUN_DONE)
            rc = ls_error_set(err, LS_ECONFLICT,
                              "run %lld is %s: its leads are stored when it is done", (long long)id,
                              store_run_status_name(status));
        for (int k = 0; counts && k < 4; k++)
            counts[k] = (uint64_t)sqlite3_column_int64(st, 1 + k);
    } else if (step == SQLITE_DONE) {
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld not found", (long long)id);
    } else {
        rc = sq__fail(c, "reading a run", err);
    }
    sq__done(st);
    return rc;
}

/* ---- store_run_finish ------------------------------------------------- */

/* What the store relies on: rows and ranks in range, ranks 1..n each once
 * and following the scores. *order gets the leads' indexes in rank order. */
static int check_leads(const struct store_run *r, const struct store_lead *leads, size_t n,
                       size_t **order, struct ls_error *err)
{
    size_t *by_rank = xmalloc((n ? n : 1) * sizeof *by_rank);
    uint64_t tiers[3] = {0, 0, 0};
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        by_rank[i] = SIZE_MAX;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct store_lead *l = &leads[i];
        if (l->row < 1 || l->row > INT64_MAX)
            rc = ls_error_set(err, LS_EINPUT, "lead %zu: row %llu out of range", i,
                              (unsigned long long)l->row);
        else if (l->tier < 0 || l->tier > 2)
            rc = ls_error_set(err, LS_EINPUT, "lead at row %llu: tier %d is not 0, 1 or 2",
                              (unsigned long long)l->row, l->tier);
        else if (!isfinite(l->score) || !isfinite(l->raw))
            rc = ls_error_set(err, LS_EINPUT, "lead at row %llu: its score is not a number",
                              (unsigned long long)l->row);
        else if (l->ncontrib > CONTRIB_MAX || (l->ncontrib && !l->contrib))
            rc = ls_error_set(err, LS_EINPUT, "lead at row %llu: bad contributions",
                              (unsigned long long)l->row);
        else if (l->rank < 1 || l->rank > n || by_rank[l->rank - 1] != SIZE_MAX)
            rc = ls_error_set(err, LS_EINPUT,
                              "lead at row %llu: rank %llu is out of 1..%zu or given twice",
                              (unsigned long long)l->row, (unsigned long long)l->rank, n);
        else
            by_rank[l->rank - 1] = i;
        if (!rc)
            tiers[l->tier]++;
    }
    /* the run's counts are the page totals without a text filter: they
     * must be the leads' own */
    if (!rc && (r->total != n || r->tier[0] != tiers[0] || r->tier[1] != tiers[1] ||
                r->tier[2] != tiers[2]))
        rc = ls_error_set(err, LS_EINPUT,
                          "the run's counts (total %llu; tiers %llu, %llu, %llu) are not its "
                          "leads' (%zu; %llu, %llu, %llu)",
                          (unsigned long long)r->total, (unsigned long long)r->tier[0],
                          (unsigned long long)r->tier[1], (unsigned long long)r->tier[2], n,
                          (unsigned long long)tiers[0], (unsigned long long)tiers[1],
                          (unsigned long long)tiers[2]);
    for (size_t k = 1; k < n && !rc; k++)
        if (leads[by_rank[k]].score > leads[by_rank[k - 1]].score)
            rc = ls_error_set(err, LS_EINPUT,
                              "ranks must follow scores: rank %zu scores %g, rank %zu %g", k,
                              leads[by_rank[k - 1]].score, k + 1, leads[by_rank[k]].score);
    if (rc) {
        free(by_rank);
        return rc;
    }
    *order = by_rank;
    return 0;
}

/* The run's display columns (the first lead's display_json): an object of
 * at most STORE_DISPLAY_MAX keys. Every lead's is checked well-formed by the
 * table's CHECK as it goes in. */
static int check_display(struct sq_conn *c, const char *json, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!json)
        return 0;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT json_valid(?1) AND json_type(?1) = 'object',"
                           " (SELECT count(*) FROM json_each(?1) WHERE json_valid(?1))",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "checking display columns", err);
        goto out;
    }
    sq__bind_str(st, 1, json);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = sq__fail(c, "checking display columns", err);
        goto out;
    }
    if (!sqlite3_column_int(st, 0))
        rc = ls_error_set(err, LS_EINPUT, "a lead's display fields are not a JSON object");
    else if (sqlite3_column_int(st, 1) > STORE_DISPLAY_MAX)
        rc = ls_error_set(err, LS_EINPUT, "a run keeps at most %d display columns, not %d",
                          STORE_DISPLAY_MAX, sqlite3_column_int(st, 1));
out:
    sqlite3_finalize(st);
    return rc;
}

/* Run sql with id bound; *found (when not NULL): whether it gave a row. */
static int exec_id(struct sq_conn *c, const char *sql, int64_t id, int *found, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, sql, err);
    } else {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            rc = sq__fail(c, sql, err);
        if (found)
            *found = step == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return rc;
}

static int insert_leads(struct sq_conn *c, int64_t run_id, const struct store_lead *leads,
                        const size_t *order, size_t n, struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq__stmt(c, SQ_LEAD_INSERT, &st, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < n && !rc; k++) {
        const struct store_lead *l = &leads[order[k]];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, (int64_t)l->row);
        sq__bind_str(st, 3, l->lead_id);
        sqlite3_bind_double(st, 4, l->score);
        sqlite3_bind_double(st, 5, l->raw);
        sqlite3_bind_int(st, 6, l->tier);
        sqlite3_bind_int64(st, 7, (int64_t)l->rank);
        sqlite3_bind_int(st, 8, l->label);
        sqlite3_bind_int(st, 9, l->oob ? 1 : 0);
        sq__bind_str(st, 10, l->reasons_json);
        sq__bind_str(st, 11, l->display_json);
        if (l->contrib && l->ncontrib) {
            sqlite3_bind_double(st, 12, l->base);
            sqlite3_bind_blob(st, 13, l->contrib, (int)(l->ncontrib * sizeof(double)),
                              SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 12);
            sqlite3_bind_null(st, 13);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[64];
            snprintf(what, sizeof what, "storing the lead at row %llu", (unsigned long long)l->row);
            rc = sq__fail(c, what, err);
        }
        sqlite3_reset(st);
    }
    sq__done(st);
    return rc;
}

int sq__run_finish(struct store *base, const struct store_run *r, const struct store_lead *leads,
                   size_t n, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    size_t *order = NULL;
    int rc = 0;
    if (!r || (n && !leads))
        return ls_error_set(err, LS_EINPUT, "no run or no leads given");
    if (r->facts_json && strlen(r->facts_json) > STORE_FACTS_MAX)
        return ls_error_set(err, LS_ELIMIT, "a run's facts have at most %u bytes",
                            (unsigned)STORE_FACTS_MAX);
    if ((rc = check_leads(r, leads, n, &order, err)))
        return rc;
    if ((rc = sq__acquire(s, &c, err)))
        goto out;
    sq__big_cache(c, n >= BIG_CACHE_LEADS);
    if ((rc = sq__write_begin(s, c, 1, err)))
        goto out;
    if (n && (rc = check_display(c, leads[0].display_json, err)))
        goto end;
    if (r->model_id) {
        int found = 0;
        if ((rc = exec_id(c, "SELECT 1 FROM models WHERE id = ?", r->model_id, &found, err)))
            goto end;
        if (!found) {
            rc = ls_error_set(err, LS_ENOT_FOUND, "model %lld not found", (long long)r->model_id);
            goto end;
        }
    }
    if (sqlite3_prepare_v2(
            c->db,
            "UPDATE runs SET status = 2, stage = 'done', progress = 1, error = NULL, total = ?2,"
            " tier_low = ?3, tier_medium = ?4, tier_high = ?5, has_outcomes = ?6,"
            " explained = ?7, summary_json = ?8,"
            " model_id = CASE WHEN ?9 != 0 THEN ?9 ELSE model_id END, finished = ?10,"
            " facts_json = ?11"
            " WHERE id = ?1 AND status IN (0, 1)",
            -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "finishing a run", err);
        goto end;
    }
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, (int64_t)r->total);
    for (int t = 0; t < 3; t++)
        sqlite3_bind_int64(st, 3 + t, (int64_t)r->tier[t]);
    sqlite3_bind_int(st, 6, r->has_outcomes ? 1 : 0);
    sqlite3_bind_int(st, 7, r->explained ? 1 : 0);
    sq__bind_str(st, 8, r->summary_json);
    sqlite3_bind_int64(st, 9, r->model_id);
    sqlite3_bind_int64(st, 10, sq__now_ms());
    sq__bind_str(st, 11, r->facts_json);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq__fail(c, "finishing a run", err);
    sqlite3_finalize(st);
    if (rc)
        goto end;
    if (sqlite3_changes(c->db) == 0) {
        enum store_run_status status;
        if ((rc = sq__run_status(c, r->id, &status, err)) == 0)
            rc = ls_error_set(err, LS_ECONFLICT, "run %lld is already %s", (long long)r->id,
                              store_run_status_name(status));
        goto end;
    }
    if ((rc = exec_id(c, "DELETE FROM leads WHERE run_id = ?", r->id, NULL, err)))
        goto end;
    rc = insert_leads(c, r->id, leads, order, n, err);
end:
    rc = sq__write_end(s, c, 1, rc, err);
out:
    if (c)
        sq__big_cache(c, 0);
    sq__release(s, c);
    free(order);
    return rc;
}

/* ---- store_leads_query ------------------------------------------------ */

/* '%' + q with \ % _ escaped + '%', for LIKE ... ESCAPE '\'. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *p = xmalloc(2 * n + 3);
    p[k++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
            p[k++] = '\\';
        p[k++] = q[i];
    }
    p[k++] = '%';
    p[k] = '\0';
    return p;
}

/* Is name one of the run's display columns (the keys of its leads' display_json)? */
static int display_column(struct sq_conn *c, int64_t run_id, const char *name, int *found,
                          struct ls_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT 1 FROM json_each((SELECT display_json FROM leads"
                           " WHERE run_id = ?1 AND display_json IS NOT NULL LIMIT 1))"
                           " WHERE key = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "looking up a display column", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sq__bind_str(st, 2, name);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sq__fail(c, "looking up a display column", err);
    *found = step == SQLITE_ROW;
out:
    sqlite3_finalize(st);
    return rc;
}

static int check_query(const struct store_lead_query *q, struct ls_error *err)
{
    if (!q)
        return ls_error_set(err, LS_EINPUT, "no lead query given");
    if (q->limit < 1 || q->limit > STORE_PAGE_MAX)
        return ls_error_set(err, LS_EINPUT, "limit %llu is outside 1..%d",
                            (unsigned long long)q->limit, STORE_PAGE_MAX);
    if (q->offset > INT64_MAX)
        return ls_error_set(err, LS_EINPUT, "offset %llu is too large",
                            (unsigned long long)q->offset);
    if (q->tier < -1 || q->tier > 2)
        return ls_error_set(err, LS_EINPUT, "tier %d is not 0 (Low), 1 (Medium) or 2 (High)",
                            q->tier);
    if (q->q && strlen(q->q) > STORE_QUERY_MAX)
        return ls_error_set(err, LS_EINPUT, "a text filter has at most %d bytes", STORE_QUERY_MAX);
    if (q->sort && strlen(q->sort) > SORT_NAME_MAX)
        return ls_error_set(err, LS_EINPUT, "a sort column's name has at most %d bytes",
                            SORT_NAME_MAX);
    return 0;
}

int sq__leads_query(struct store *base, int64_t run_id, const struct store_lead_query *q,
                    struct store_lead **out, size_t *n, uint64_t *total, struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct store_lead *list = NULL;
    char *pattern = NULL, path[SORT_NAME_MAX + 8] = "", sql[1400], where[512], order[160];
    size_t got = 0;
    int rc = check_query(q, err);
    if (rc || (rc = sq__acquire(s, &c, err)))
        return rc;
    uint64_t counts[4];
    if ((rc = sq__read_begin(c, err)) || (rc = run_done(c, run_id, counts, err)))
        goto out;

    const char *sort = q->sort && *q->sort ? q->sort : "score";
    const char *dir = q->desc ? "DESC" : "ASC";
    /* ranks follow scores: score descending is rank ascending */
    if (!strcmp(sort, "score"))
        snprintf(order, sizeof order, "rank %s", q->desc ? "ASC" : "DESC");
    else if (!strcmp(sort, "rank"))
        snprintf(order, sizeof order, "rank %s", dir);
    else if (!strcmp(sort, "row"))
        snprintf(order, sizeof order, "row %s", dir);
    else if (!strcmp(sort, "id"))
        snprintf(order, sizeof order, "lead_id %s, rank ASC", dir);
    else {
        int found = 0;
        if ((rc = display_column(c, run_id, sort, &found, err)))
            goto out;
        if (!found) {
            rc = ls_error_set(err, LS_EINPUT,
                              "cannot sort by '%s': sort by score, rank, row, id or one of the "
                              "run's display columns",
                              sort);
            goto out;
        }
        /* a JSON path's quoted label cannot hold a double quote */
        if (strchr(sort, '"')) {
            rc = ls_error_set(err, LS_EINPUT, "cannot sort by a column whose name has a \"");
            goto out;
        }
        snprintf(path, sizeof path, "$.\"%s\"", sort);
        snprintf(order, sizeof order, "json_extract(display_json, ?6) %s, rank ASC", dir);
    }
    if (q->q && *q->q)
        pattern = like_pattern(q->q);
    /* When q holds no character that JSON may escape (" \ / controls,
     * non-ASCII), a display value that matches also matches in
     * display_json's text: a LIKE over that text is then a cheap first test
     * that never drops a match, and json_each (which alone tells values
     * from keys) only runs on the rows that pass it. (A number matches as
     * display_json writes it: 1e+20 is not found as "1.0e".) */
    int plain = pattern != NULL;
    for (const char *p = q->q; plain && *p; p++)
        plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '/';
    snprintf(where, sizeof where, "run_id = ?1%s%s%s%s", q->tier >= 0 ? " AND tier = ?2" : "",
             pattern ? " AND (lead_id LIKE ?3 ESCAPE '\\' OR (" : "",
             plain ? "display_json LIKE ?3 ESCAPE '\\' AND " : "",
             pattern ? "EXISTS (SELECT 1 FROM json_each(leads.display_json) AS j"
                       " WHERE j.value LIKE ?3 ESCAPE '\\')))"
                     : "");

    /* A scan of the whole run (a filter, a display column) walks a rank
     * index: the leads went in in rank order, so that reads the table in
     * order, where the planner's pick, the (run_id, row) key, jumps around
     * it (3-4x slower on 300,000 leads). Sorting by row keeps that key. */
    const char *hint = !strcmp(sort, "row") ? ""
                       : q->tier >= 0       ? "INDEXED BY leads_tier_rank"
                                            : "INDEXED BY leads_rank";
    /* without a text filter the counts are the run's own */
    uint64_t count = q->tier < 0 ? counts[0] : counts[1 + q->tier];
    if (pattern)
        snprintf(sql, sizeof sql, "SELECT count(*) FROM leads %s WHERE %s", hint, where);
    for (int pass = pattern ? 0 : 1; pass < 2; pass++) {
        if (pass == 1)
            /* the sort carries rowids, not whole leads: a display column
             * sorts a million keys, then reads the page's rows */
            snprintf(sql, sizeof sql,
                     "SELECT " LEAD_COLS_SQL " FROM leads WHERE rowid IN (SELECT rowid FROM leads"
                     " %s WHERE %s ORDER BY %s LIMIT ?4 OFFSET ?5) ORDER BY %s",
                     hint, where, order, order);
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = sq__fail(c, "querying leads", err);
            goto out;
        }
        /* parameters a statement lacks answer SQLITE_RANGE: harmless */
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, q->tier);
        sq__bind_str(st, 3, pattern);
        sqlite3_bind_int64(st, 4, (int64_t)q->limit);
        sqlite3_bind_int64(st, 5, (int64_t)q->offset);
        sq__bind_str(st, 6, path);
        if (pass == 0) {
            if (sqlite3_step(st) != SQLITE_ROW) {
                rc = sq__fail(c, "counting leads", err);
                goto out;
            }
            count = (uint64_t)sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
            st = NULL;
        }
    }
    list = xcalloc(q->limit, sizeof *list);
    int step = SQLITE_DONE;
    while (got < q->limit && (step = sqlite3_step(st)) == SQLITE_ROW)
        read_lead(st, &list[got++], 1, NULL, NULL);
    if (got < q->limit && step != SQLITE_DONE) {
        rc = sq__fail(c, "querying leads", err);
        goto out;
    }
    *out = list;
    list = NULL;
    *n = got;
    *total = count;
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    store_lead_list_free(list, got);
    free(pattern);
    return rc;
}

/* ---- one lead, explaining, exporting ---------------------------------- */

int sq__lead_get(struct store *base, int64_t run_id, uint64_t row, struct store_lead *out,
                 struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__read_begin(c, err)) || (rc = run_done(c, run_id, NULL, err)))
        goto out;
    if ((rc = sq__stmt(c, SQ_LEAD_GET, &st, err)))
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, row > INT64_MAX ? -1 : (int64_t)row);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_lead(st, out, 1, NULL, NULL);
    else if (step == SQLITE_DONE)
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld has no lead at row %llu", (long long)run_id,
                          (unsigned long long)row);
    else
        rc = sq__fail(c, "reading a lead", err);
out:
    sq__done(st);
    sq__read_end(c);
    sq__release(s, c);
    return rc;
}

int sq__lead_find(struct store *base, int64_t run_id, const char *lead_id, struct store_lead *out,
                  struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    if (!lead_id || !*lead_id)
        return ls_error_set(err, LS_EINPUT, "no lead identifier given");
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    if ((rc = sq__read_begin(c, err)) || (rc = run_done(c, run_id, NULL, err)))
        goto out;
    /* no index on lead_id (it would cost every run's insert): the run's
     * leads are read in key order, which is fast next to a text filter
     * over their display values (9,237 leads: ~2 ms against ~40 ms) */
    if (sqlite3_prepare_v2(c->db,
                           "SELECT " LEAD_COLS_SQL " FROM leads WHERE run_id = ? AND lead_id = ?"
                           " ORDER BY rank LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "finding a lead", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sq__bind_str(st, 2, lead_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_lead(st, out, 1, NULL, NULL);
    else if (step == SQLITE_DONE)
        rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld has no lead with that identifier",
                          (long long)run_id);
    else
        rc = sq__fail(c, "finding a lead", err);
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    return rc;
}

int sq__leads_explain(struct store *base, int64_t run_id, const struct store_lead *leads, size_t n,
                      struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    if (n > EXPLAIN_MAX)
        return ls_error_set(err, LS_EINPUT, "at most %d leads are explained in one call",
                            EXPLAIN_MAX);
    if (n && !leads)
        return ls_error_set(err, LS_EINPUT, "no leads given");
    for (size_t i = 0; i < n; i++)
        if (leads[i].ncontrib > CONTRIB_MAX || (leads[i].ncontrib && !leads[i].contrib))
            return ls_error_set(err, LS_EINPUT, "lead at row %llu: bad contributions",
                                (unsigned long long)leads[i].row);
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    /* not durable: these are a cache of what can be computed again */
    if ((rc = sq__write_begin(s, c, 0, err)))
        goto out;
    if ((rc = run_done(c, run_id, NULL, err)) || (rc = sq__stmt(c, SQ_LEAD_EXPLAIN, &st, err)))
        goto end;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct store_lead *l = &leads[i];
        sq__bind_str(st, 1, l->reasons_json);
        if (l->contrib && l->ncontrib) {
            sqlite3_bind_double(st, 2, l->base);
            sqlite3_bind_blob(st, 3, l->contrib, (int)(l->ncontrib * sizeof(double)),
                              SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 2);
            sqlite3_bind_null(st, 3);
        }
        sqlite3_bind_int64(st, 4, run_id);
        sqlite3_bind_int64(st, 5, l->row > INT64_MAX ? -1 : (int64_t)l->row);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sq__fail(c, "storing a lead's explanation", err);
        else if (sqlite3_changes(c->db) == 0)
            rc = ls_error_set(err, LS_ENOT_FOUND, "run %lld has no lead at row %llu",
                              (long long)run_id, (unsigned long long)l->row);
        sqlite3_reset(st);
    }
    sq__done(st);
end:
    rc = sq__write_end(s, c, 0, rc, err);
out:
    sq__release(s, c);
    return rc;
}

int sq__leads_each(struct store *base, int64_t run_id,
                   int (*fn)(void *ctx, const struct store_lead *l), void *ctx,
                   struct ls_error *err)
{
    struct sq_store *s = sq_of(base);
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    double *buf = NULL;
    size_t cap = 0;
    int rc = sq__acquire(s, &c, err);
    if (rc)
        return rc;
    /* one snapshot for the whole walk: an export is one consistent run */
    if ((rc = sq__read_begin(c, err)) || (rc = run_done(c, run_id, NULL, err)))
        goto out;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT " LEAD_COLS_SQL " FROM leads WHERE run_id = ? ORDER BY row", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = sq__fail(c, "reading leads", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_lead l;
        read_lead(st, &l, 0, &buf, &cap);
        if ((rc = fn(ctx, &l)) != 0)
            goto out;
    }
    if (step != SQLITE_DONE)
        rc = sq__fail(c, "reading leads", err);
out:
    sqlite3_finalize(st);
    sq__read_end(c);
    sq__release(s, c);
    free(buf);
    return rc;
}
