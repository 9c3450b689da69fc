/*
 * cards.c — a run's facts as cards, and the index the chat searches.
 *
 * A card is one fact a sentence can carry: a title ("Lead Source =
 * Google"), a text in words with its numbers ("2,873 leads ...; 40.0%
 * converted, against 38.5% overall"), and the numbers themselves as JSON
 * for a language model to quote. Cards are made for the run (overview,
 * model quality, each tier, importance, drift, leakage), for each column,
 * and for each value of a column (numeric columns: each bin). Leads get
 * their cards when a question names them (plan.c), from struct chat_leads:
 * the facts never copy leads.
 *
 * The index also keeps the columns and values as structs with their stems,
 * for the fuzzy matching of match.c, and a BM25 index over the cards' words
 * (bm25.c). Every string points into the index's own copy of the facts, so
 * the index owns everything it reads and is immutable once built.
 */
#include "chat/chat_internal.h"

#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CARD_TEXT_MAX 4096 /* bytes of a card's text */

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static uint64_t count(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *const kind_names[] = {"overview",   "quality", "tier",    "column", "value",
                                         "importance", "drift",   "leakage", "lead"};

json_t *chat__card_json(const struct chat_card *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "kind", json_string(kind_names[c->kind]));
    json_object_set_new(o, "title", json_string(c->title));
    json_object_set_new(o, "text", json_string(c->text));
    json_object_set_new(o, "numbers", c->numbers ? json_incref(c->numbers) : json_object());
    return o;
}

struct builder {
    struct chat_index *ix;
    size_t cap;
};

static size_t add_card(struct builder *b, enum chat_card_kind kind, const char *id,
                       const char *title, struct buf *text, json_t *numbers, long col, long val)
{
    struct chat_index *ix = b->ix;
    if (ix->ncards == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        ix->cards = xreallocarray(ix->cards, b->cap, sizeof *ix->cards);
    }
    struct chat_card *c = &ix->cards[ix->ncards];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->title = xstrdup(title);
    c->text = buf_take(text);
    if (!c->text)
        c->text = xstrdup("");
    c->numbers = numbers ? numbers : json_object();
    c->col = col;
    c->val = val;
    return ix->ncards++;
}

/* "40.0% of 2,868" */
static void rate_of(struct buf *t, double rate, uint64_t lab)
{
    char p[32], n[32];
    chat__fmt_pct(rate, p, sizeof p);
    chat__fmt_int(lab, n, sizeof n);
    buf_printf(t, "%s of %s", p, n);
}

static void overview_card(struct builder *b, const json_t *facts)
{
    struct chat_index *ix = b->ix;
    const json_t *ov = json_object_get(facts, "overview");
    ix->total = count(ov, "total");
    ix->labelled = count(ov, "labelled");
    ix->converted = count(ov, "converted");
    ix->rate = num(ov, "conversion_rate");
    ix->expected = num(ov, "expected_conversions");
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    char a[32], l[32], c[32], r[32], e[32];
    chat__fmt_int(ix->total, a, sizeof a);
    chat__fmt_int(ix->labelled, l, sizeof l);
    chat__fmt_int(ix->converted, c, sizeof c);
    chat__fmt_pct(ix->rate, r, sizeof r);
    chat__fmt_num(isfinite(ix->expected) ? round(ix->expected) : NAN, e, sizeof e);
    buf_printf(&t, "%s leads scored", a);
    if (ix->filename[0])
        buf_printf(&t, " from %s", ix->filename);
    buf_printf(&t,
               "; %s have a known outcome (%s), of which %s converted: a conversion rate of "
               "%s. The scores add up to %s expected conversions; the mean score is %.1f.",
               l, ix->target, c, r, e, num(ov, "mean_score"));
    ix->overview_card =
        add_card(b, CARD_OVERVIEW, "overview", "Run overview: leads, conversion, average score", &t,
                 json_deep_copy(ov), -1, -1);
}

static void quality_card(struct builder *b, const json_t *facts)
{
    const json_t *q = json_object_get(facts, "quality");
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    char n[32], acc[32], p10[32];
    chat__fmt_int(count(q, "rows"), n, sizeof n);
    chat__fmt_pct(num(q, "accuracy"), acc, sizeof acc);
    chat__fmt_pct(num(q, "precision_top10"), p10, sizeof p10);
    double auc = num(q, "auc");
    if (isfinite(auc)) {
        buf_printf(&t, "Model quality is %s: AUC %.3f on %s leads with a known outcome",
                   str(q, "rating"), auc, n);
        double tauc = num(q, "training_auc");
        if (strcmp(str(q, "source"), "run") == 0) {
            buf_printf(&t, " (out-of-bag scores for the leads the model trained on)");
            if (isfinite(tauc) && fabs(tauc - auc) >= 0.0005)
                buf_printf(&t, "; out-of-bag AUC at training %.3f", tauc);
        } else {
            buf_printf(&t, " (out-of-bag, measured at training)");
        }
        if (isfinite(num(q, "accuracy")))
            buf_printf(&t, ". Accuracy %s at a 50%% score threshold;", acc);
        else
            buf_printf(&t, ";");
        buf_printf(&t, " the top 10%% of leads by score convert at %s", p10);
        double lift = num(q, "lift_top_decile");
        if (isfinite(lift))
            buf_printf(&t, ", %.1f times the average", lift);
        buf_printf(&t, ".");
    } else {
        buf_printf(&t, "Model quality cannot be measured on this run: no lead has both outcomes.");
    }
    b->ix->quality_card =
        add_card(b, CARD_QUALITY, "quality", "Model quality: how good is the model, AUC accuracy",
                 &t, json_deep_copy(q), -1, -1);
}

static void tier_cards(struct builder *b, const json_t *facts)
{
    const json_t *tiers = json_object_get(facts, "tiers"), *e;
    size_t i;
    json_array_foreach(tiers, i, e)
    {
        const char *name = str(e, "tier");
        int t = strcmp(name, "High") == 0 ? 2 : strcmp(name, "Medium") == 0 ? 1 : 0;
        struct buf x;
        buf_init(&x, CARD_TEXT_MAX);
        char n[32], sh[32], l[32];
        chat__fmt_int(count(e, "leads"), n, sizeof n);
        chat__fmt_pct(num(e, "share"), sh, sizeof sh);
        chat__fmt_int(count(e, "labelled"), l, sizeof l);
        buf_printf(&x, "%s leads (%s of all) are in the %s tier", n, sh, name);
        if (count(e, "leads"))
            buf_printf(&x, ", with a mean score of %.1f (from %.1f to %.1f)", num(e, "mean_score"),
                       num(e, "min_score"), num(e, "max_score"));
        if (count(e, "labelled")) {
            buf_printf(&x, "; ");
            rate_of(&x, num(e, "conversion_rate"), count(e, "labelled"));
            buf_printf(&x, " with a known outcome converted");
        }
        buf_printf(&x, ".");
        char id[32], title[64];
        snprintf(id, sizeof id, "tier:%s", name);
        snprintf(title, sizeof title, "%s tier: leads, priority", name);
        b->ix->tier_card[t] = add_card(b, CARD_TIER, id, title, &x, json_deep_copy(e), -1, -1);
    }
}

static void importance_card(struct builder *b, const json_t *facts)
{
    json_t *imp = json_object_get(facts, "importance"), *e;
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    json_t *nums = json_array();
    size_t i;
    if (!json_array_size(imp))
        buf_printf(&t, "Column importance is not known for this run (no lead was explained).");
    else
        buf_printf(&t, "The columns that move scores most, in mean points per lead:");
    json_array_foreach(imp, i, e)
    {
        if (i >= 10)
            break;
        buf_printf(&t, "%s %s %.1f", i ? "," : "", str(e, "column"), num(e, "mean_abs_points"));
        json_array_append_new(nums, json_deep_copy(e));
    }
    if (json_array_size(imp))
        buf_printf(&t, ".");
    json_t *o = json_object();
    json_object_set_new(o, "importance", nums);
    json_object_set_new(o, "columns", json_integer((json_int_t)json_array_size(imp)));
    b->ix->importance_card =
        add_card(b, CARD_IMPORTANCE, "importance", "Column importance: which columns matter most",
                 &t, o, -1, -1);
}

static void drift_card(struct builder *b, const json_t *facts)
{
    const json_t *d = json_object_get(facts, "drift");
    const json_t *cols = json_object_get(facts, "columns"), *c;
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    json_t *o = json_deep_copy(d), *bad = json_array();
    buf_printf(&t, "Drift against the training data: status %s, largest PSI %.2f over %zu columns",
               str(d, "status"), isfinite(num(d, "max_psi")) ? num(d, "max_psi") : 0.0,
               json_array_size(cols));
    size_t i, k = 0;
    json_array_foreach(cols, i, c)
    {
        const json_t *dc = json_object_get(c, "drift");
        const char *st = str(dc, "status");
        if (!st[0] || strcmp(st, "ok") == 0)
            continue;
        if (k < 12) {
            buf_printf(&t, "%s %s", k ? "," : "; not ok:", str(c, "name"));
            if (isfinite(num(dc, "psi")))
                buf_printf(&t, " PSI %.2f", num(dc, "psi"));
            buf_printf(&t, " (%s)", st);
            json_t *x = json_object();
            json_object_set_new(x, "column", json_string(str(c, "name")));
            json_object_set_new(x, "psi", json_copy(json_object_get(dc, "psi")));
            json_object_set_new(x, "status", json_string(st));
            json_array_append_new(bad, x);
        }
        k++;
    }
    if (!k)
        buf_printf(&t, "; no column drifted, every one is ok");
    else if (k > 12)
        buf_printf(&t, " and %zu more", k - 12);
    buf_printf(&t, ".");
    if (json_is_true(json_object_get(d, "low_confidence")))
        buf_printf(&t, " Low confidence: few rows.");
    json_object_set_new(o, "columns_not_ok", bad);
    b->ix->drift_card =
        add_card(b, CARD_DRIFT, "drift", "Drift: what changed since training", &t, o, -1, -1);
}

static void leakage_card(struct builder *b, const json_t *facts)
{
    const json_t *l = json_object_get(facts, "leakage"), *e;
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    size_t i;
    if (!json_is_array(l))
        buf_printf(&t, "Which columns were left out of the model as leaky is not known for this "
                       "run (the model's training answer has the leakage scan).");
    else if (!json_array_size(l))
        buf_printf(&t, "No column was left out of the model as leaky.");
    else
        buf_printf(&t, "%zu column%s left out of the model as leaky (filled after the outcome):",
                   json_array_size(l), json_array_size(l) == 1 ? " was" : "s were");
    json_array_foreach(l, i, e)
    {
        buf_printf(&t, "%s %s", i ? ";" : "", str(e, "column"));
        if (isfinite(num(e, "auc")))
            buf_printf(&t, " (alone it predicts the outcome with AUC %.2f)", num(e, "auc"));
    }
    if (json_array_size(l))
        buf_printf(&t, ".");
    json_t *o = json_object();
    json_object_set_new(o, "leakage", json_deep_copy(l));
    b->ix->leakage_card = add_card(b, CARD_LEAKAGE, "leakage",
                                   "Leakage: columns left out, excluded as leaky", &t, o, -1, -1);
}

/* The value's card: its leads, its rate against the overall one, its mean
 * contribution. */
static void value_card(struct builder *b, size_t ci, size_t vi, const json_t *vj)
{
    struct chat_index *ix = b->ix;
    struct chat_column *c = &ix->cols[ci];
    struct chat_value *v = &c->v[vi];
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    char n[32], l[32], cv[32], r[32], o[32];
    chat__fmt_int(v->leads, n, sizeof n);
    chat__fmt_int(v->labelled, l, sizeof l);
    chat__fmt_int(v->converted, cv, sizeof cv);
    chat__fmt_pct(v->rate, r, sizeof r);
    chat__fmt_pct(ix->rate, o, sizeof o);
    buf_printf(&t, "%s leads have %s = %s", n, c->name, v->name);
    if (v->labelled)
        buf_printf(&t,
                   "; %s of the %s with a known outcome converted: a conversion rate of %s, "
                   "against %s overall",
                   cv, l, r, o);
    else
        buf_printf(&t, "; none has a known outcome");
    if (isfinite(v->mean_points)) {
        char p[32];
        chat__fmt_pts(v->mean_points, p, sizeof p);
        buf_printf(&t, ". On average this value moves a lead's score by %s", p);
    }
    buf_printf(&t, ".");
    char id[64], title[CARD_TEXT_MAX];
    snprintf(id, sizeof id, "value:%zu:%zu", ci, vi);
    snprintf(title, sizeof title, "%s = %s", c->name, v->name);
    json_t *nums = json_deep_copy(vj);
    json_object_set_new(nums, "column", json_string(c->name));
    v->card = add_card(b, CARD_VALUE, id, title, &t, nums, (long)ci, (long)vi);
}

void chat__split_text(const struct chat_column *c, struct buf *b)
{
    if (!c->has_split || !c->above.labelled || !c->below.labelled)
        return;
    char t[64], ra[32], rb[32], ca[32], la[32], cb[32], lb[32];
    chat__fmt_num(c->threshold, t, sizeof t);
    chat__fmt_pct(c->above.rate, ra, sizeof ra);
    chat__fmt_pct(c->below.rate, rb, sizeof rb);
    chat__fmt_int(c->above.converted, ca, sizeof ca);
    chat__fmt_int(c->above.labelled, la, sizeof la);
    chat__fmt_int(c->below.converted, cb, sizeof cb);
    chat__fmt_int(c->below.labelled, lb, sizeof lb);
    buf_printf(b,
               "%sLeads with %s over %s (its median) convert at %s (%s of %s with a known "
               "outcome); those at %s or less at %s (%s of %s).",
               b->len ? " " : "", c->name, t, ra, ca, la, t, rb, cb, lb);
}

static void column_card(struct builder *b, size_t ci, const json_t *cj)
{
    struct chat_index *ix = b->ix;
    struct chat_column *c = &ix->cols[ci];
    struct buf t;
    buf_init(&t, CARD_TEXT_MAX);
    buf_printf(&t, "%s is a %s column", c->name, c->kind);
    if (c->imp_rank) {
        char p[32];
        snprintf(p, sizeof p, "%.1f", c->importance);
        buf_printf(&t, ", ranked %zu of %zu by importance (%s mean points per lead)", c->imp_rank,
                   ix->ncols, p);
    }
    if (c->drift_status && c->drift_status[0]) {
        buf_printf(&t, "; drift %s", c->drift_status);
        if (isfinite(c->psi))
            buf_printf(&t, " (PSI %.2f)", c->psi);
    }
    buf_printf(&t, ". Conversion rate by value:");
    size_t shown = 0;
    for (size_t k = 0; k < c->nv && shown < 8; k++) {
        const struct chat_value *v = &c->v[k];
        if (!v->labelled)
            continue;
        char r[32], n[32];
        chat__fmt_pct(v->rate, r, sizeof r);
        chat__fmt_int(v->leads, n, sizeof n);
        buf_printf(&t, "%s %s %s (%s lead%s)", shown ? "," : "", v->name, r, n,
                   v->leads == 1 ? "" : "s");
        shown++;
    }
    if (!shown)
        buf_printf(&t, " no value has a lead with a known outcome");
    buf_printf(&t, ".");
    chat__split_text(c, &t);
    json_t *nums = json_object();
    json_object_set_new(nums, "column", json_string(c->name));
    json_object_set_new(nums, "kind", json_string(c->kind));
    json_object_set_new(nums, "importance", json_copy(json_object_get(cj, "importance")));
    json_object_set_new(nums, "importance_rank", json_copy(json_object_get(cj, "importance_rank")));
    json_object_set_new(nums, "drift", json_deep_copy(json_object_get(cj, "drift")));
    json_object_set_new(nums, "values", json_integer((json_int_t)c->nv));
    if (json_object_get(cj, "median_split"))
        json_object_set_new(nums, "median_split",
                            json_deep_copy(json_object_get(cj, "median_split")));
    char id[64], title[512];
    snprintf(id, sizeof id, "column:%zu", ci);
    snprintf(title, sizeof title, "Column %s", c->name);
    c->card = add_card(b, CARD_COLUMN, id, title, &t, nums, (long)ci, -1);
}

static struct chat_tok *tokens_of(const char *s, size_t *n)
{
    struct chat_tok tmp[64];
    *n = chat__tokens(s, tmp, 64);
    struct chat_tok *t = xmalloc((*n ? *n : 1) * sizeof *t);
    memcpy(t, tmp, *n * sizeof *t);
    return t;
}

struct word_at {
    const char *s;
    size_t col, i;
};

static int cmp_word_at(const void *a, const void *b)
{
    const struct word_at *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->col > y->col) - (x->col < y->col);
}

/* Each name word's weight: rare words among the column names say more
 * ("source" names one column, "lead" many). Once, at build. */
static void column_word_weights(struct chat_index *ix)
{
    size_t total = 0;
    for (size_t c = 0; c < ix->ncols; c++) {
        total += ix->cols[c].ntok;
        ix->cols[c].tokw = xcalloc(ix->cols[c].ntok ? ix->cols[c].ntok : 1, sizeof(double));
    }
    struct word_at *w = xmalloc((total ? total : 1) * sizeof *w);
    size_t n = 0;
    for (size_t c = 0; c < ix->ncols; c++)
        for (size_t i = 0; i < ix->cols[c].ntok; i++)
            w[n++] = (struct word_at){ix->cols[c].tok[i].s, c, i};
    qsort(w, n, sizeof *w, cmp_word_at);
    for (size_t a = 0; a < n;) {
        size_t b = a, df = 0;
        for (; b < n && strcmp(w[b].s, w[a].s) == 0; b++)
            df += b == a || w[b].col != w[b - 1].col;
        double idf = log(1.0 + (double)ix->ncols / (double)df);
        for (size_t k = a; k < b; k++)
            ix->cols[w[k].col].tokw[w[k].i] = idf;
        a = b;
    }
    free(w);
}

static void columns_build(struct builder *b, const json_t *facts)
{
    struct chat_index *ix = b->ix;
    const json_t *cols = json_object_get(facts, "columns"), *cj;
    ix->ncols = json_array_size(cols);
    ix->cols = xcalloc(ix->ncols ? ix->ncols : 1, sizeof *ix->cols);
    size_t i;
    json_array_foreach(cols, i, cj)
    {
        struct chat_column *c = &ix->cols[i];
        c->name = str(cj, "name");
        c->kind = str(cj, "kind");
        c->importance = num(cj, "importance");
        c->imp_rank = count(cj, "importance_rank");
        const json_t *d = json_object_get(cj, "drift");
        c->drift_status = json_string_value(json_object_get(d, "status"));
        c->psi = num(d, "psi");
        c->tok = tokens_of(c->name, &c->ntok);
        const json_t *sp = json_object_get(cj, "median_split");
        if (json_is_object(sp)) {
            c->has_split = 1;
            c->threshold = num(sp, "threshold");
            struct chat_value *side[2] = {&c->above, &c->below};
            const char *key[2] = {"above", "at_or_below"};
            for (int k = 0; k < 2; k++) {
                const json_t *x = json_object_get(sp, key[k]);
                side[k]->leads = count(x, "leads");
                side[k]->labelled = count(x, "labelled");
                side[k]->converted = count(x, "converted");
                side[k]->rate = num(x, "conversion_rate");
                side[k]->mean_points = NAN;
            }
        }
        const json_t *vals = json_object_get(cj, "values"), *vj;
        c->nv = json_array_size(vals);
        c->v = xcalloc(c->nv ? c->nv : 1, sizeof *c->v);
        size_t k;
        json_array_foreach(vals, k, vj)
        {
            struct chat_value *v = &c->v[k];
            v->name = str(vj, "value");
            v->is_bin = json_object_get(vj, "lo") != NULL;
            v->is_missing = json_is_true(json_object_get(vj, "missing"));
            v->is_other = json_is_true(json_object_get(vj, "other"));
            v->leads = count(vj, "leads");
            v->labelled = count(vj, "labelled");
            v->converted = count(vj, "converted");
            v->rate = num(vj, "conversion_rate");
            v->mean_points = num(vj, "mean_points");
            v->tok = tokens_of(v->name, &v->ntok);
        }
    }
    column_word_weights(ix);
    json_array_foreach(cols, i, cj)
    {
        column_card(b, i, cj);
        const json_t *vals = json_object_get(cj, "values"), *vj;
        size_t k;
        json_array_foreach(vals, k, vj) value_card(b, i, k, vj);
    }
}

long chat__find_column(const struct chat_index *ix, const char *name)
{
    for (size_t i = 0; i < ix->ncols; i++)
        if (strcmp(ix->cols[i].name, name) == 0)
            return (long)i;
    for (size_t i = 0; i < ix->ncols; i++)
        if (strcasecmp(ix->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

int chat_index_new(const json_t *facts, struct chat_index **out, struct ls_error *err)
{
    if (!json_is_object(facts) || !json_is_object(json_object_get(facts, "overview")) ||
        !json_is_array(json_object_get(facts, "columns")))
        return ls_error_set(err, LS_EINPUT, "these are not a run's facts");
    struct chat_index *ix = xcalloc(1, sizeof *ix);
    ix->facts = json_deep_copy(facts);
    ix->target = str(ix->facts, "target");
    ix->filename = str(ix->facts, "filename");
    ix->id_column = str(ix->facts, "id_column");
    struct builder b = {ix, 0};
    overview_card(&b, ix->facts);
    quality_card(&b, ix->facts);
    tier_cards(&b, ix->facts);
    importance_card(&b, ix->facts);
    drift_card(&b, ix->facts);
    leakage_card(&b, ix->facts);
    columns_build(&b, ix->facts);

    ix->card_tok = xcalloc(ix->ncards ? ix->ncards : 1, sizeof *ix->card_tok);
    ix->card_ntok = xcalloc(ix->ncards ? ix->ncards : 1, sizeof *ix->card_ntok);
    struct chat_tok *tmp = xmalloc(CHAT_TOKS_MAX * sizeof *tmp);
    for (size_t i = 0; i < ix->ncards; i++) {
        size_t n = chat__tokens(ix->cards[i].title, tmp, CHAT_TOKS_MAX);
        n += chat__tokens(ix->cards[i].text, tmp + n, CHAT_TOKS_MAX - n);
        ix->card_tok[i] = xmalloc((n ? n : 1) * sizeof *tmp);
        memcpy(ix->card_tok[i], tmp, n * sizeof *tmp);
        ix->card_ntok[i] = n;
    }
    free(tmp);
    ix->bm25 =
        chat__bm25_new((const struct chat_tok *const *)ix->card_tok, ix->card_ntok, ix->ncards);
    *out = ix;
    return LS_OK;
}

void chat_index_free(struct chat_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->ncards; i++) {
        free(ix->cards[i].title);
        free(ix->cards[i].text);
        json_decref(ix->cards[i].numbers);
        if (ix->card_tok)
            free(ix->card_tok[i]);
    }
    free(ix->cards);
    free(ix->card_tok);
    free(ix->card_ntok);
    for (size_t i = 0; i < ix->ncols; i++) {
        for (size_t k = 0; k < ix->cols[i].nv; k++)
            free(ix->cols[i].v[k].tok);
        free(ix->cols[i].v);
        free(ix->cols[i].tok);
        free(ix->cols[i].tokw);
    }
    free(ix->cols);
    chat__bm25_free(ix->bm25);
    json_decref(ix->facts);
    free(ix);
}
