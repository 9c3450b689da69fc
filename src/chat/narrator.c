/*
 * narrator.c — the built-in narrator: an answer in plain sentences, written
 * from the cards only.
 *
 * Every number it writes is read from a card it also lists as used, so the
 * answer can be checked against the facts; nothing is invented, and when
 * the facts cannot answer it says so and says what they can answer, with
 * examples from this run. Sentences are short and carry their numbers the
 * way a report would: "Lead Source = Reference converts at 91.8% (490 of
 * 534 leads with a known outcome), against 38.5% overall." Rates of groups
 * with fewer than MIN_LABELLED leads of known outcome are not ranked: a
 * best value found among tiny groups is noise, and the answer says so.
 */
#include "chat/chat_internal.h"

#include "core/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_LABELLED 30 /* leads of known outcome for a value to be ranked */
#define LISTED       5  /* values or leads named in one answer */
#define LEADS_LISTED 10 /* leads named when more are asked for */

static void use_card(const struct chat_index *ix, struct chat_answer *a, size_t card)
{
    const char *id = ix->cards[card].id;
    size_t i;
    json_t *e;
    json_array_foreach(a->cards, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            return;
    }
    json_array_append_new(a->cards, chat__card_json(&ix->cards[card]));
}

static void say(struct chat_answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct chat_answer *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->text.len && a->text.data[a->text.len - 1] != ' ')
        buf_putc(&a->text, ' ');
    buf_vprintf(&a->text, fmt, ap);
    va_end(ap);
}

static const char *tier_word(int t)
{
    return t == 2 ? "High" : t == 1 ? "Medium" : "Low";
}

/* "Lead Source = Google" */
static void value_name(const struct chat_index *ix, long c, long v, char *out, size_t cap)
{
    snprintf(out, cap, "%s = %s", ix->cols[c].name, ix->cols[c].v[v].name);
}

/* "converts at 40.0% (1,147 of 2,868 leads with a known outcome)" */
static void rate_phrase(const struct chat_value *v, char *out, size_t cap)
{
    char r[32], c[32], l[32], n[32];
    chat__fmt_pct(v->rate, r, sizeof r);
    chat__fmt_int(v->converted, c, sizeof c);
    chat__fmt_int(v->labelled, l, sizeof l);
    chat__fmt_int(v->leads, n, sizeof n);
    if (!v->labelled)
        snprintf(out, cap, "has %s leads, none with a known outcome, so no conversion rate", n);
    else
        snprintf(out, cap, "converts at %s (%s of %s leads with a known outcome)", r, c, l);
}

static void overall_phrase(const struct chat_index *ix, char *out, size_t cap)
{
    char r[32];
    chat__fmt_pct(ix->rate, r, sizeof r);
    snprintf(out, cap, "%s overall", r);
}

/* "12.3 percentage points higher than" */
static void diff_phrase(double a, double b, char *out, size_t cap)
{
    double d = 100.0 * (a - b);
    if (!isfinite(d))
        snprintf(out, cap, "not comparable with");
    else if (fabs(d) < 0.05)
        snprintf(out, cap, "the same as");
    else
        snprintf(out, cap, "%.1f percentage points %s than", fabs(d), d > 0 ? "higher" : "lower");
}

/* ---- about one value ------------------------------------------------------ */

static void tell_value(const struct chat_index *ix, long c, long v, int with_points,
                       struct chat_answer *a)
{
    const struct chat_value *val = &ix->cols[c].v[v];
    char name[512], rp[256], ov[64], df[96];
    value_name(ix, c, v, name, sizeof name);
    rate_phrase(val, rp, sizeof rp);
    overall_phrase(ix, ov, sizeof ov);
    if (val->labelled) {
        diff_phrase(val->rate, ix->rate, df, sizeof df);
        say(a, "%s %s: %s the %s.", name, rp, df, ov);
    } else {
        say(a, "%s %s.", name, rp);
    }
    if (with_points && isfinite(val->mean_points)) {
        char p[32];
        chat__fmt_pts(val->mean_points, p, sizeof p);
        say(a, "On average this value moves a lead's score by %s.", p);
    }
    use_card(ix, a, val->card);
}

/* The values of column c worth ranking (known outcomes, at least min_lab of
 * them; not the "other values" sum), best first (desc) or worst first, into
 * idx; returns the count. *small: the values left out for being small. */
static size_t ranked_values(const struct chat_column *c, int desc, size_t min_lab, size_t *idx,
                            size_t *small)
{
    size_t n = 0;
    *small = 0;
    for (size_t k = 0; k < c->nv; k++) {
        const struct chat_value *v = &c->v[k];
        if (v->is_other || !v->labelled || !isfinite(v->rate))
            continue;
        if (v->labelled < min_lab) {
            (*small)++;
            continue;
        }
        idx[n++] = k;
    }
    /* insertion sort: qsort has no context argument, and a column has at
     * most FACTS_VALUES values */
    for (size_t i = 1; i < n; i++) {
        size_t x = idx[i], j = i;
        while (j > 0) {
            const struct chat_value *a = &c->v[x], *b = &c->v[idx[j - 1]];
            int before =
                desc ? (a->rate > b->rate || (a->rate == b->rate && a->labelled > b->labelled))
                     : (a->rate < b->rate || (a->rate == b->rate && a->labelled > b->labelled));
            if (!before)
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
    return n;
}

static void tell_column_values(const struct chat_index *ix, long c, int desc, int ranked,
                               struct chat_answer *a)
{
    const struct chat_column *col = &ix->cols[c];
    size_t *idx = xmalloc((col->nv ? col->nv : 1) * sizeof *idx);
    size_t small = 0;
    size_t n = ranked_values(col, desc, MIN_LABELLED, idx, &small);
    char ov[64];
    overall_phrase(ix, ov, sizeof ov);
    use_card(ix, a, col->card); /* first: it carries the column's rates in one text */
    if (!ranked && col->v && (col->v[0].is_bin || col->v[0].is_missing)) {
        /* a numeric column: its bins in order */
        say(a, "Conversion rate by %s (bins of its values):", col->name);
        size_t shown = 0;
        for (size_t k = 0; k < col->nv; k++) {
            const struct chat_value *v = &col->v[k];
            char r[32], l[32];
            chat__fmt_pct(v->rate, r, sizeof r);
            chat__fmt_int(v->labelled, l, sizeof l);
            buf_printf(&a->text, "%s %s: %s of %s", shown ? ";" : "", v->name, r, l);
            use_card(ix, a, v->card);
            shown++;
        }
        buf_printf(&a->text, ", against %s.", ov);
        chat__split_text(col, &a->text);
        free(idx);
        return;
    }
    if (!n && !ix->labelled && ranked) {
        /* no outcome known: the model's view, the value that moves scores
         * most (among values with MIN_LABELLED leads) */
        long pick = -1;
        for (size_t k = 0; k < col->nv; k++) {
            const struct chat_value *v = &col->v[k];
            if (v->is_other || v->leads < MIN_LABELLED || !isfinite(v->mean_points))
                continue;
            if (pick < 0 || (desc ? v->mean_points > col->v[pick].mean_points
                                  : v->mean_points < col->v[pick].mean_points))
                pick = (long)k;
        }
        say(a, "No lead of this run has a known outcome, so conversion rates cannot be measured.");
        if (pick >= 0) {
            char p[32], nl[32];
            chat__fmt_pts(col->v[pick].mean_points, p, sizeof p);
            chat__fmt_int(col->v[pick].leads, nl, sizeof nl);
            say(a, "By the model, %s = %s %s scores most: %s on average over its %s leads.",
                col->name, col->v[pick].name, desc ? "raises" : "lowers", p, nl);
            use_card(ix, a, col->v[pick].card);
        }
        free(idx);
        return;
    }
    if (!n) {
        say(a,
            "No value of %s has %d or more leads with a known outcome, too few to rank "
            "conversion rates fairly.",
            col->name, MIN_LABELLED);
        use_card(ix, a, col->card);
        free(idx);
        return;
    }
    if (ranked) {
        const struct chat_value *b = &col->v[idx[0]];
        char rp[256];
        rate_phrase(b, rp, sizeof rp);
        say(a,
            "%s = %s converts %s among the values of %s with at least %d leads of known "
            "outcome: it %s, against %s.",
            col->name, b->name, desc ? "best" : "worst", col->name, MIN_LABELLED, rp, ov);
        use_card(ix, a, b->card);
        if (n > 1) {
            say(a, "%s:", desc ? "Next best" : "Next worst");
            for (size_t k = 1; k < n && k < LISTED; k++) {
                const struct chat_value *v = &col->v[idx[k]];
                char r[32], l[32];
                chat__fmt_pct(v->rate, r, sizeof r);
                chat__fmt_int(v->labelled, l, sizeof l);
                buf_printf(&a->text, "%s %s %s (%s lead%s)", k > 1 ? "," : "", v->name, r, l,
                           v->labelled == 1 ? "" : "s");
                use_card(ix, a, v->card);
            }
            buf_printf(&a->text, ".");
        }
    } else {
        say(a, "Conversion rate by %s:", col->name);
        size_t shown = 0;
        for (size_t k = 0; k < col->nv && shown < LISTED + 1; k++) {
            const struct chat_value *v = &col->v[k];
            if (v->is_other || !v->labelled)
                continue;
            char r[32], l[32];
            chat__fmt_pct(v->rate, r, sizeof r);
            chat__fmt_int(v->labelled, l, sizeof l);
            buf_printf(&a->text, "%s %s %s (%s lead%s)", shown ? "," : "", v->name, r, l,
                       v->labelled == 1 ? "" : "s");
            use_card(ix, a, v->card);
            shown++;
        }
        buf_printf(&a->text, ", against %s.", ov);
    }
    if (small)
        say(a, "%zu smaller value%s with fewer than %d leads of known outcome %s not ranked.",
            small, small == 1 ? "" : "s", MIN_LABELLED, small == 1 ? "is" : "are");
    use_card(ix, a, col->card);
    free(idx);
}

/* ---- leads --------------------------------------------------------------- */

/* The lead r names: by identifier, else (a number) by row; *as_row says
 * which found it, so the answer names it as it was found. */
static int lead_get(const struct chat_leads *L, const struct chat_ref *r, json_t **lead,
                    int *as_row)
{
    int rc = LS_ENOT_FOUND;
    *as_row = r->kind == 2;
    if (r->kind == 1 && L->by_id)
        rc = L->by_id(L->ctx, r->text, lead);
    if (rc == LS_ENOT_FOUND && L->by_row) {
        char *end;
        unsigned long long row = r->kind == 2 ? r->row : strtoull(r->text, &end, 10);
        if (r->kind == 2 || (*end == 0 && row > 0)) {
            rc = L->by_row(L->ctx, (uint64_t)row, lead);
            *as_row = 1;
        }
    }
    return rc;
}

static double jnum(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int tier_of(const json_t *lead)
{
    json_t *t = json_object_get(lead, "tier");
    if (json_is_integer(t))
        return (int)json_integer_value(t);
    const char *s = json_string_value(t);
    return s && strcmp(s, "High") == 0 ? 2 : s && strcmp(s, "Medium") == 0 ? 1 : 0;
}

static void reasons_phrase(const json_t *arr, struct buf *b)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (i >= 3)
            break;
        char p[32];
        chat__fmt_pts(jnum(e, "points"), p, sizeof p);
        buf_printf(b, "%s%s = %s (%s)",
                   i ? (i + 1 == json_array_size(arr) || i == 2 ? " and " : ", ") : "",
                   jstr(e, "column"), jstr(e, "value"), p);
    }
}

/* A lead as a card the plan lists: its score, tier, rank and reasons. */
static void lead_card(const struct chat_index *ix, const json_t *lead, const char *name,
                      struct chat_answer *a)
{
    struct chat_card c;
    memset(&c, 0, sizeof c);
    c.kind = CARD_LEAD;
    snprintf(c.id, sizeof c.id, "lead:%lld",
             (long long)json_integer_value(json_object_get(lead, "row")));
    char title[256];
    snprintf(title, sizeof title, "Lead %s", name);
    c.title = title;
    struct buf text;
    buf_init(&text, 4096);
    buf_printf(&text, "Score %.1f, %s tier, rank %lld of %llu.", jnum(lead, "score"),
               tier_word(tier_of(lead)),
               (long long)json_integer_value(json_object_get(lead, "rank")),
               (unsigned long long)ix->total);
    const json_t *rs = json_object_get(lead, "reasons");
    for (int side = 0; side < 2; side++) {
        const json_t *arr = json_object_get(rs, side ? "against" : "for");
        if (!json_array_size(arr))
            continue;
        buf_printf(&text, " %s: ", side ? "Lowered by" : "Raised by");
        reasons_phrase(arr, &text);
        buf_putc(&text, '.');
    }
    c.text = (char *)buf_str(&text);
    json_t *n = json_object();
    static const char *const keys[] = {"row",   "id",      "score",  "tier", "rank",
                                       "label", "reasons", "fields", NULL};
    for (size_t k = 0; keys[k]; k++) {
        json_t *v = json_object_get(lead, keys[k]);
        if (v)
            json_object_set(n, keys[k], v);
    }
    c.numbers = n;
    json_array_append_new(a->cards, chat__card_json(&c));
    json_decref(n);
    buf_cleanup(&text);
}

static void tell_lead(const struct chat_index *ix, const struct chat_leads *L,
                      const struct chat_match *m, const struct chat_ref *r, struct chat_answer *a)
{
    json_t *lead = NULL;
    char name[160];
    snprintf(name, sizeof name, "%s%s", r->kind == 2 ? "in row " : "", r->text);
    if (!L) {
        say(a, "I cannot look up single leads here; ask about columns, values, tiers or the "
               "model instead.");
        return;
    }
    int as_row = 0;
    if (lead_get(L, r, &lead, &as_row) != LS_OK) {
        char n[32];
        chat__fmt_int(ix->total, n, sizeof n);
        if (r->kind == 2)
            say(a, "There is no row %s: this run has %s leads.", r->text, n);
        else
            say(a, "No lead of this run has the identifier %s (the run has %s leads).", r->text, n);
        return;
    }
    if (as_row)
        snprintf(name, sizeof name, "in row %s", r->text);
    int t = tier_of(lead);
    char rank[32], tot[32];
    chat__fmt_int((uint64_t)json_integer_value(json_object_get(lead, "rank")), rank, sizeof rank);
    chat__fmt_int(ix->total, tot, sizeof tot);
    say(a, "%s %s scores %.1f out of 100: %s tier, rank %s of %s.", as_row ? "The lead" : "Lead",
        name, jnum(lead, "score"), tier_word(t), rank, tot);
    if (m->tier >= 0 && m->tier != t)
        say(a, "So it is not %s priority, it is %s.", tier_word(m->tier), tier_word(t));
    const json_t *rs = json_object_get(lead, "reasons");
    const json_t *pos = json_object_get(rs, "for"), *neg = json_object_get(rs, "against");
    if (json_array_size(pos) || json_array_size(neg)) {
        struct buf b;
        buf_init(&b, 4096);
        int up_first = t >= 1 || !json_array_size(neg);
        for (int side = 0; side < 2; side++) {
            const json_t *arr = (side == 0) == up_first ? pos : neg;
            if (!json_array_size(arr))
                continue;
            buf_reset(&b);
            reasons_phrase(arr, &b);
            if (arr == pos)
                say(a, "What raises it most: %s.", buf_str(&b));
            else
                say(a, "What holds it down most: %s.", buf_str(&b));
        }
        buf_cleanup(&b);
    } else if (!rs || json_is_null(rs)) {
        say(a, "Its reasons were not computed in this run.");
    } else {
        say(a, "No single value moves it far from the average lead.");
    }
    json_t *lab = json_object_get(lead, "label");
    if (json_is_integer(lab) && json_integer_value(lab) >= 0)
        say(a, "In the file it %s (%s = %lld).",
            json_integer_value(lab) == 1 ? "converted" : "did not convert", ix->target,
            (long long)json_integer_value(lab));
    lead_card(ix, lead, name, a);
    json_decref(lead);
}

/* Two leads side by side: scores, tiers and ranks, the gap, and each one's
 * strongest reason. */
static void tell_two_leads(const struct chat_index *ix, const struct chat_leads *L,
                           const struct chat_match *m, struct chat_answer *a)
{
    json_t *lead[2] = {NULL, NULL};
    char name[2][160];
    for (int k = 0; k < 2; k++) {
        int as_row = 0;
        if (!L || lead_get(L, &m->ref[k], &lead[k], &as_row) != LS_OK) {
            json_decref(lead[0]);
            tell_lead(ix, L, m, &m->ref[k], a); /* says it is not there */
            return;
        }
        snprintf(name[k], sizeof name[k], "%s%s", as_row ? "the lead in row " : "lead ",
                 m->ref[k].text);
    }
    for (int k = 0; k < 2; k++) {
        char rank[32];
        chat__fmt_int((uint64_t)json_integer_value(json_object_get(lead[k], "rank")), rank,
                      sizeof rank);
        say(a, "%c%s scores %.1f (%s tier, rank %s).", name[k][0] & ~0x20, name[k] + 1,
            jnum(lead[k], "score"), tier_word(tier_of(lead[k])), rank);
    }
    double d = jnum(lead[0], "score") - jnum(lead[1], "score");
    if (fabs(d) >= 0.05)
        say(a, "%c%s scores %.1f points higher.", name[d > 0 ? 0 : 1][0] & ~0x20,
            name[d > 0 ? 0 : 1] + 1, fabs(d));
    else
        say(a, "They score the same.");
    for (int k = 0; k < 2; k++) {
        const json_t *rs = json_object_get(lead[k], "reasons");
        const json_t *top = json_array_get(json_object_get(rs, "for"), 0),
                     *bot = json_array_get(json_object_get(rs, "against"), 0);
        const json_t *r = !bot                                                     ? top
                          : !top                                                   ? bot
                          : fabs(jnum(top, "points")) >= fabs(jnum(bot, "points")) ? top
                                                                                   : bot;
        if (r) {
            char p[32];
            chat__fmt_pts(jnum(r, "points"), p, sizeof p);
            say(a, "The strongest factor for %s: %s = %s (%s).", name[k], jstr(r, "column"),
                jstr(r, "value"), p);
        }
        lead_card(ix, lead[k], m->ref[k].text, a);
        json_decref(lead[k]);
    }
}

static void tell_ranked_leads(const struct chat_index *ix, const struct chat_leads *L,
                              const struct chat_match *m, struct chat_answer *a)
{
    size_t n = m->n ? m->n : LISTED;
    if (n > LEADS_LISTED)
        n = LEADS_LISTED;
    json_t *arr = NULL;
    if (!L || !L->ranked || L->ranked(L->ctx, m->desc, m->tier, n, &arr) != LS_OK) {
        const size_t tc = ix->tier_card[m->desc ? 2 : 0];
        say(a, "%s", ix->cards[tc].text);
        use_card(ix, a, tc);
        return;
    }
    if (!json_array_size(arr)) {
        say(a, "No lead%s%s.", m->tier >= 0 ? " is in the tier " : "",
            m->tier >= 0 ? tier_word(m->tier) : " was scored");
        json_decref(arr);
        return;
    }
    if (m->n > LEADS_LISTED)
        say(a, "Here are the first %d.", LEADS_LISTED);
    say(a, "The %zu %s-scoring leads%s%s:", json_array_size(arr), m->desc ? "highest" : "lowest",
        m->tier >= 0 ? " of the tier " : "", m->tier >= 0 ? tier_word(m->tier) : "");
    /* one card for the list (the first lead's own card follows, with its
     * reasons), so every lead named is in the facts */
    json_t *list = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        json_t *x = json_object();
        static const char *const keys[] = {"row", "id", "score", "tier", "rank", NULL};
        for (size_t k = 0; keys[k]; k++)
            if (json_object_get(e, keys[k]))
                json_object_set(x, keys[k], json_object_get(e, keys[k]));
        json_array_append_new(list, x);
    }
    struct chat_card lc;
    memset(&lc, 0, sizeof lc);
    lc.kind = CARD_LEAD;
    snprintf(lc.id, sizeof lc.id, "leads:%s", m->desc ? "best" : "worst");
    lc.title = m->desc ? "The highest-scoring leads" : "The lowest-scoring leads";
    lc.text = m->desc ? "Leads by rank, best first." : "Leads by rank, worst first.";
    lc.numbers = json_pack("{s:o}", "leads", list);
    json_array_append_new(a->cards, chat__card_json(&lc));
    json_decref(lc.numbers);
    json_array_foreach(arr, i, e)
    {
        const char *id = jstr(e, "id");
        char name[160];
        if (id[0])
            snprintf(name, sizeof name, "%s", id);
        else
            snprintf(name, sizeof name, "row %lld",
                     (long long)json_integer_value(json_object_get(e, "row")));
        buf_printf(&a->text, "%s %s (%.1f, %s)", i ? "," : "", name, jnum(e, "score"),
                   tier_word(tier_of(e)));
        if (i == 0)
            lead_card(ix, e, name, a);
    }
    buf_printf(&a->text, ".");
    json_t *first = json_array_get(arr, 0);
    const json_t *pos =
        json_object_get(json_object_get(first, "reasons"), m->desc ? "for" : "against");
    if (json_array_size(pos)) {
        struct buf b;
        buf_init(&b, 2048);
        reasons_phrase(pos, &b);
        say(a, "The first %s mostly because of %s.", m->desc ? "ranks high" : "ranks low",
            buf_str(&b));
        buf_cleanup(&b);
    }
    json_decref(arr);
}

/* ---- intents -------------------------------------------------------------- */

static void tell_tier(const struct chat_index *ix, int t, struct chat_answer *a)
{
    say(a, "%s", ix->cards[ix->tier_card[t]].text);
    use_card(ix, a, ix->tier_card[t]);
}

static void tell_overview(const struct chat_index *ix, struct chat_answer *a)
{
    say(a, "%s", ix->cards[ix->overview_card].text);
    use_card(ix, a, ix->overview_card);
}

static void answer_rate(const struct chat_index *ix, const struct chat_match *m,
                        struct chat_answer *a)
{
    if (m->nval) {
        for (size_t i = 0; i < m->nval && i < 3; i++)
            tell_value(ix, m->val[i].col, m->val[i].val, m->nval == 1, a);
        return;
    }
    if (m->ncol) {
        tell_column_values(ix, m->col[0], 1, 0, a);
        return;
    }
    if (m->tier >= 0) {
        tell_tier(ix, m->tier, a);
        return;
    }
    tell_overview(ix, a);
}

static void answer_compare(const struct chat_index *ix, const struct chat_leads *L,
                           const struct chat_match *m, struct chat_answer *a)
{
    if (m->nref == 2) {
        tell_two_leads(ix, L, m, a);
        return;
    }
    if (m->nval >= 3) { /* "referrals" are two values: every one, then the extremes */
        size_t hi = 0, lo = 0, n = m->nval < 4 ? m->nval : 4;
        for (size_t i = 0; i < n; i++) {
            const struct chat_value *v = &ix->cols[m->val[i].col].v[m->val[i].val];
            char nm[512], rp[256];
            value_name(ix, m->val[i].col, m->val[i].val, nm, sizeof nm);
            rate_phrase(v, rp, sizeof rp);
            say(a, "%s %s.", nm, rp);
            use_card(ix, a, v->card);
            const struct chat_value *h = &ix->cols[m->val[hi].col].v[m->val[hi].val],
                                    *l = &ix->cols[m->val[lo].col].v[m->val[lo].val];
            if (v->labelled && (!h->labelled || v->rate > h->rate))
                hi = i;
            if (v->labelled && (!l->labelled || v->rate < l->rate))
                lo = i;
        }
        const struct chat_value *h = &ix->cols[m->val[hi].col].v[m->val[hi].val],
                                *l = &ix->cols[m->val[lo].col].v[m->val[lo].val];
        if (hi != lo && h->labelled && l->labelled) {
            char df[96];
            diff_phrase(h->rate, l->rate, df, sizeof df);
            say(a, "%s converts best of these, %s %s, which converts worst.", h->name, df, l->name);
        }
        return;
    }
    if (m->nval >= 2) {
        const struct chat_value *x = &ix->cols[m->val[0].col].v[m->val[0].val],
                                *y = &ix->cols[m->val[1].col].v[m->val[1].val];
        char nx[512], ny[512], rx[256], ry[256], df[96];
        value_name(ix, m->val[0].col, m->val[0].val, nx, sizeof nx);
        value_name(ix, m->val[1].col, m->val[1].val, ny, sizeof ny);
        rate_phrase(x, rx, sizeof rx);
        rate_phrase(y, ry, sizeof ry);
        say(a, "%s %s; %s %s.", nx, rx, ny, ry);
        if (x->labelled && y->labelled) {
            const struct chat_value *hi = x->rate >= y->rate ? x : y, *lo = hi == x ? y : x;
            diff_phrase(hi->rate, lo->rate, df, sizeof df);
            /* one column: the values by their own names */
            int same = m->val[0].col == m->val[1].col;
            say(a, "%s converts at a rate %s %s.",
                same      ? hi->name
                : hi == x ? nx
                          : ny,
                df,
                same      ? lo->name
                : hi == x ? ny
                          : nx);
            if (hi->labelled < MIN_LABELLED || lo->labelled < MIN_LABELLED)
                say(a,
                    "One of the two has fewer than %d leads with a known outcome, so the gap is "
                    "not reliable.",
                    MIN_LABELLED);
        }
        char ov[64];
        overall_phrase(ix, ov, sizeof ov);
        say(a, "For reference, the run converts at %s.", ov);
        use_card(ix, a, x->card);
        use_card(ix, a, y->card);
        return;
    }
    if (m->ncol >= 2) {
        const struct chat_column *x = &ix->cols[m->col[0]], *y = &ix->cols[m->col[1]];
        if (isfinite(x->importance) && isfinite(y->importance)) {
            const struct chat_column *hi = x->importance >= y->importance ? x : y,
                                     *lo = hi == x ? y : x;
            say(a,
                "%s matters more to the scores than %s: %.1f against %.1f mean points per lead "
                "(ranks %zu and %zu of %zu columns).",
                hi->name, lo->name, hi->importance, lo->importance, hi->imp_rank, lo->imp_rank,
                ix->ncols);
        } else {
            say(a, "The importance of %s and %s is not known for this run.", x->name, y->name);
        }
        use_card(ix, a, x->card);
        use_card(ix, a, y->card);
        use_card(ix, a, ix->importance_card);
        return;
    }
    if (m->nval == 1) {
        tell_value(ix, m->val[0].col, m->val[0].val, 1, a);
        return;
    }
    if (m->ncol == 1) {
        tell_column_values(ix, m->col[0], 1, 1, a);
        return;
    }
    say(a, "Name two values to compare, for example two lead sources, or two columns.");
    tell_overview(ix, a);
}

static void answer_why(const struct chat_index *ix, const struct chat_leads *L,
                       const struct chat_match *m, struct chat_answer *a)
{
    if (m->nref) {
        tell_lead(ix, L, m, &m->ref[0], a);
        return;
    }
    if (m->nval) {
        for (size_t i = 0; i < m->nval && i < 3; i++)
            tell_value(ix, m->val[i].col, m->val[i].val, m->nval <= 2, a);
        const struct chat_column *c = &ix->cols[m->val[0].col];
        if (c->imp_rank)
            say(a, "%s ranks %zu of %zu columns by importance (%.1f mean points per lead).",
                c->name, c->imp_rank, ix->ncols, c->importance);
        use_card(ix, a, c->card);
        return;
    }
    if (m->ncol) {
        const struct chat_column *c = &ix->cols[m->col[0]];
        if (c->imp_rank)
            say(a, "%s ranks %zu of %zu columns by importance (%.1f mean points per lead).",
                c->name, c->imp_rank, ix->ncols, c->importance);
        tell_column_values(ix, m->col[0], 1, 1, a);
        return;
    }
    if (m->tier >= 0) {
        tell_tier(ix, m->tier, a);
        return;
    }
    tell_overview(ix, a);
}

static void answer_top(const struct chat_index *ix, const struct chat_leads *L,
                       const struct chat_match *m, struct chat_answer *a)
{
    long c = m->ncol ? m->col[0] : m->nval ? m->val[0].col : -1;
    if (c >= 0 && !(m->about_leads && m->n)) {
        tell_column_values(ix, c, m->desc, 1, a);
        return;
    }
    tell_ranked_leads(ix, L, m, a);
}

static void answer_count(const struct chat_index *ix, const struct chat_match *m,
                         struct chat_answer *a)
{
    char n[32], t[32], sh[32];
    chat__fmt_int(ix->total, t, sizeof t);
    if (m->nval) {
        for (size_t i = 0; i < m->nval && i < 2; i++) {
            const struct chat_value *v = &ix->cols[m->val[i].col].v[m->val[i].val];
            char name[512];
            value_name(ix, m->val[i].col, m->val[i].val, name, sizeof name);
            chat__fmt_int(v->leads, n, sizeof n);
            chat__fmt_pct(ix->total ? (double)v->leads / (double)ix->total : NAN, sh, sizeof sh);
            say(a, "%s leads have %s, %s of the %s leads.", n, name, sh, t);
            if (v->labelled) {
                char c[32], l[32], r[32];
                chat__fmt_int(v->converted, c, sizeof c);
                chat__fmt_int(v->labelled, l, sizeof l);
                chat__fmt_pct(v->rate, r, sizeof r);
                say(a, "%s of the %s with a known outcome converted (%s).", c, l, r);
            }
            use_card(ix, a, v->card);
        }
        return;
    }
    if (m->tier >= 0) {
        tell_tier(ix, m->tier, a);
        return;
    }
    if (m->ncol) {
        const struct chat_column *c = &ix->cols[m->col[0]];
        say(a, "%s has %zu distinct values in this run.", c->name, c->nv);
        tell_column_values(ix, m->col[0], 1, 0, a);
        return;
    }
    tell_overview(ix, a);
}

static void answer_drift(const struct chat_index *ix, const struct chat_match *m,
                         struct chat_answer *a)
{
    if (m->ncol || m->nval) {
        const struct chat_column *c = &ix->cols[m->ncol ? m->col[0] : m->val[0].col];
        if (c->drift_status && c->drift_status[0]) {
            say(a, "%s: drift status %s", c->name, c->drift_status);
            if (isfinite(c->psi))
                buf_printf(&a->text, " (PSI %.2f against the training data)", c->psi);
            buf_printf(&a->text, ".");
        } else {
            say(a, "Drift was not measured for %s.", c->name);
        }
        use_card(ix, a, c->card);
    }
    say(a, "%s", ix->cards[ix->drift_card].text);
    use_card(ix, a, ix->drift_card);
}

static void answer_importance(const struct chat_index *ix, const struct chat_match *m,
                              struct chat_answer *a)
{
    if (m->ncol == 1) {
        const struct chat_column *c = &ix->cols[m->col[0]];
        if (c->imp_rank)
            say(a,
                "%s ranks %zu of %zu columns by importance: it moves a lead's score by %.1f "
                "points on average.",
                c->name, c->imp_rank, ix->ncols, c->importance);
        else
            say(a, "The importance of %s is not known for this run.", c->name);
        use_card(ix, a, c->card);
    }
    const json_t *imp = json_object_get(ix->facts, "importance");
    if (!json_array_size(imp)) {
        say(a, "Column importance is not known for this run (no lead was explained).");
        use_card(ix, a, ix->importance_card);
        return;
    }
    say(a, "The columns that matter most, by the points they move a lead's score on average:");
    size_t i;
    json_t *e;
    json_array_foreach(imp, i, e)
    {
        if (i >= LISTED)
            break;
        buf_printf(&a->text, "%s %s (%.1f)", i ? "," : "", jstr(e, "column"),
                   jnum(e, "mean_abs_points"));
    }
    buf_printf(&a->text, ".");
    use_card(ix, a, ix->importance_card);
}

static void answer_general(const struct chat_index *ix, struct chat_answer *a)
{
    char n[32];
    chat__fmt_int(ix->total, n, sizeof n);
    say(a, "I can only answer from this run's facts: %s leads scored for %s.", n, ix->target);
    /* examples from this run: its most important column and that column's
     * most frequent value */
    const struct chat_column *c = NULL;
    for (size_t i = 0; i < ix->ncols; i++)
        if (ix->cols[i].nv && !ix->cols[i].v[0].is_bin && !ix->cols[i].v[0].is_missing &&
            (!c || (isfinite(ix->cols[i].importance) && ix->cols[i].importance > c->importance)))
            c = &ix->cols[i];
    if (c)
        say(a,
            "Ask for example \"What is the conversion rate of %s = %s?\", \"Which %s converts "
            "best?\",",
            c->name, c->v[0].name, c->name);
    else
        say(a, "Ask for example");
    buf_printf(&a->text, " \"How many leads are High?\", \"How good is the model?\", \"Which "
                         "columns matter most?\", \"What drifted?\" or \"Why is row 1 scored as "
                         "it is?\".");
    use_card(ix, a, ix->overview_card);
}

void chat__narrate(const struct chat_index *ix, const struct chat_leads *leads,
                   const struct chat_match *m, struct chat_answer *a)
{
    const char *in = m->intent;
    int tiers = m->about_tiers && m->tier < 0 && !m->nval && !m->ncol && !m->nref;
    if (tiers &&
        (strcmp(in, "top") == 0 || strcmp(in, "bottom") == 0 || strcmp(in, "compare") == 0 ||
         strcmp(in, "rate") == 0 || strcmp(in, "count") == 0)) {
        for (int t = 2; t >= 0; t--) /* "which tier converts best?": the three */
            tell_tier(ix, t, a);
        return;
    }
    if (strcmp(in, "why") == 0)
        answer_why(ix, leads, m, a);
    else if (strcmp(in, "compare") == 0)
        answer_compare(ix, leads, m, a);
    else if (strcmp(in, "top") == 0 || strcmp(in, "bottom") == 0)
        answer_top(ix, leads, m, a);
    else if (strcmp(in, "count") == 0)
        answer_count(ix, m, a);
    else if (strcmp(in, "drift") == 0)
        answer_drift(ix, m, a);
    else if (strcmp(in, "quality") == 0) {
        say(a, "%s", ix->cards[ix->quality_card].text);
        use_card(ix, a, ix->quality_card);
    } else if (strcmp(in, "importance") == 0)
        answer_importance(ix, m, a);
    else if (strcmp(in, "leakage") == 0) {
        say(a, "%s", ix->cards[ix->leakage_card].text);
        use_card(ix, a, ix->leakage_card);
    } else if (strcmp(in, "rate") == 0)
        answer_rate(ix, m, a);
    else
        answer_general(ix, a);
}
