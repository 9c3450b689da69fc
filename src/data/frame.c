/*
 * frame.c — building a typed frame from CSV fields.
 *
 * Ingest is one pass: the CSV reader hands each field to the builder, which
 * interns it in its column's dictionary (dict.h) and stores the 32-bit code.
 * Typing then works per distinct value, not per cell:
 *
 *   1. Values matching a missing token (trimmed, case-insensitive) are missing.
 *   2. No value left, or one distinct value: constant.
 *   3. Every value a yes/no token (yes/no, true/false, y/n, t/f, 1/0), both
 *      sides present: boolean. Numbers that are exactly {0, 1}: boolean too.
 *   4. At least 90 % of the filled rows (FRAME_NUMERIC_SHARE) numbers, at
 *      least two distinct ones: numeric. The rest ("unknown", "?") become
 *      missing, are counted and sampled for a warning (frame_column_warning):
 *      a little junk in an export must not turn a measurement into a
 *      category with a thousand values. Numeric —
 *      unless the numbers are whole, all distinct, complete, at least 20, and
 *      either the name reads like an id ("... ID", "... Number", "Key") or
 *      they are dense (range < 50 x rows): then identifier.
 *   5. Every value a date in one layout (ISO, D/M/Y or M/D/Y): datetime.
 *   6. Text: long (mean >= 30 bytes), mostly distinct (>= 50 %) and mostly
 *      words (>= 50 % of values hold a space): free text;
 *      all distinct with >= 20 values, or an id-like name with >= 95 %
 *      distinct: identifier; otherwise categorical.
 *
 * The thresholds are documented in docs/ingest.md; change both together.
 */
#include "data/frame.h"

#include "core/mem.h"
#include "core/sort.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const frame_default_missing[] = {"",     "NA",  "N/A", "#N/A",   "null",
                                             "None", "nan", "-",   "Select", NULL};

static const char *const type_names[] = {"numeric",    "boolean", "categorical", "datetime",
                                         "identifier", "text",    "constant"};

const char *col_type_name(enum col_type t)
{
    return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "unknown";
}

void frame_opts_default(struct frame_opts *o)
{
    memset(o, 0, sizeof *o);
    csv_opts_default(&o->csv);
    o->missing_tokens = NULL;
}

/* ---- building ---------------------------------------------------------- */

struct builder {
    struct frame *f;
    uint64_t cap;
};

static int b_header(void *ctx, size_t ncols, const char *const *names, struct ls_error *err)
{
    (void)err;
    struct builder *b = ctx;
    struct frame *f = b->f;
    f->ncols = ncols;
    f->cols = xcalloc(ncols, sizeof *f->cols);
    /* size the row arrays from the reader's estimate, so they rarely move */
    b->cap = f->info.est_rows > 1024 ? f->info.est_rows : 1024;
    for (size_t i = 0; i < ncols; i++) {
        f->cols[i].name = xstrdup(names[i]);
        dict_init(&f->cols[i].dict);
        f->cols[i].codes = xmalloc(b->cap * sizeof(uint32_t));
    }
    return LS_OK;
}

static int b_field(void *ctx, size_t col, const char *p, size_t len, struct ls_error *err)
{
    (void)err;
    struct builder *b = ctx;
    struct column *c = &b->f->cols[col];
    c->codes[b->f->nrows] = dict_intern(&c->dict, p, len);
    return LS_OK;
}

static int b_row(void *ctx, size_t nfields, struct ls_error *err)
{
    (void)err;
    struct builder *b = ctx;
    struct frame *f = b->f;
    for (size_t i = nfields; i < f->ncols; i++)
        f->cols[i].codes[f->nrows] = FRAME_NA;
    f->nrows++;
    /* At 4096 rows and every doubling after: a column whose values are mostly
     * distinct stops interning (see dict.h, raw mode). */
    if (f->nrows >= 4096 && (f->nrows & (f->nrows - 1)) == 0)
        for (size_t i = 0; i < f->ncols; i++)
            if (!f->cols[i].dict.raw && (uint64_t)f->cols[i].dict.n * 2 > f->nrows)
                dict_make_raw(&f->cols[i].dict);
    if (f->nrows == b->cap) {
        b->cap *= 2;
        for (size_t i = 0; i < f->ncols; i++)
            f->cols[i].codes = xreallocarray(f->cols[i].codes, b->cap, sizeof(uint32_t));
    }
    return LS_OK;
}

/* ---- typing helpers ------------------------------------------------------ */

static int is_missing_token(const char *s, size_t len, const char *const *tokens, size_t longest)
{
    value_trim(&s, &len);
    if (len > longest)
        return 0;
    for (size_t i = 0; tokens[i]; i++)
        if (value_ieq(s, len, tokens[i]))
            return 1;
    return 0;
}

/* Does the column name read like an identifier ("Prospect ID", "leadId", "Lead Number")? */
static int name_is_id_like(const char *name)
{
    static const char *const words[] = {"id",  "uuid", "guid",      "key",  "number", "no",
                                        "num", "ref",  "reference", "code", NULL};
    char last[32];
    size_t n = 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        int upper = c >= 'A' && c <= 'Z';
        int prev_lower = p > name && p[-1] >= 'a' && p[-1] <= 'z';
        if (!alnum || (upper && prev_lower)) /* a word boundary */
            n = 0;
        if (alnum && n < sizeof last - 1)
            last[n++] = (char)(upper ? c - 'A' + 'a' : c);
    }
    last[n] = '\0';
    for (size_t i = 0; words[i]; i++)
        if (strcmp(last, words[i]) == 0)
            return 1;
    return 0;
}

/* Distinct values among n doubles (sorted in place). */
static uint64_t count_distinct(double *v, size_t n)
{
    if (n == 0)
        return 0;
    sort_doubles(v, n);
    uint64_t d = 1;
    for (size_t i = 1; i < n; i++)
        d += v[i] != v[i - 1];
    return d;
}

/* Fill num[] from per-entry values and the profile's moments. */
static void materialize_numeric(struct frame *f, struct column *c, const double *ev)
{
    c->num = xmalloc((f->nrows ? f->nrows : 1) * sizeof(double));
    for (uint64_t r = 0; r < f->nrows; r++) {
        uint32_t k = c->codes[r];
        c->num[r] = k == FRAME_NA ? NAN : ev[k];
    }
    double sum = 0, sumsq = 0, mn = INFINITY, mx = -INFINITY;
    uint64_t n = 0, whole = 0;
    for (uint32_t i = 0; i < c->dict.n; i++) {
        if (c->entry_na[i])
            continue;
        double v = ev[i], w = (double)c->dict.e[i].count;
        sum += v * w;
        n += c->dict.e[i].count;
        if (v < mn)
            mn = v;
        if (v > mx)
            mx = v;
        if (v == floor(v))
            whole += c->dict.e[i].count;
    }
    double mean = n ? sum / (double)n : NAN;
    for (uint32_t i = 0; i < c->dict.n; i++)
        if (!c->entry_na[i]) {
            double d = ev[i] - mean;
            sumsq += d * d * (double)c->dict.e[i].count;
        }
    c->prof.mean = mean;
    c->prof.sd = n > 1 ? sqrt(sumsq / (double)(n - 1)) : 0;
    c->prof.min = n ? mn : NAN;
    c->prof.max = n ? mx : NAN;
    c->prof.integer_share = n ? (double)whole / (double)n : 0;
}

struct group {
    uint64_t count;
    uint32_t best_entry; /* an entry holding the most frequent spelling */
    uint64_t best_count;
    uint32_t index;     /* position after sorting */
    uint32_t spellings; /* distinct trimmed spellings in the group */
};

static int cmp_group(const void *a, const void *b, void *ctx)
{
    const struct group *x = a, *y = b;
    const struct dict *d = ctx;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(dict_str(d, x->best_entry), dict_str(d, y->best_entry));
}

/* qsort_r is a GNU extension; this keeps the comparator's context explicit. */
static _Thread_local const struct dict *sort_dict;
static int cmp_group_global(const void *a, const void *b)
{
    return cmp_group(a, b, (void *)sort_dict);
}

static char *trimmed_copy(const char *s, size_t len)
{
    value_trim(&s, &len);
    return xstrndup(s, len);
}

/*
 * Group the non-missing values of c whose trimmed, ASCII-lowercased text is
 * equal. First the exact (trimmed) spellings are counted — in raw mode a
 * spelling may span many entries — then spellings are grouped, each group
 * labelled by its most frequent spelling. Writes gi[entry] (FRAME_NA for
 * missing) and returns the groups, unsorted.
 */
static struct group *group_entries(struct column *c, uint32_t *gi, uint32_t *ngroups)
{
    uint32_t n = c->dict.n;
    struct dict spell, keys;
    dict_init(&spell);
    dict_init(&keys);
    uint32_t *sfirst = NULL, scap = 0; /* per spelling: its first entry */
    uint64_t *scount = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (c->entry_na[i]) {
            gi[i] = FRAME_NA;
            continue;
        }
        const char *s = dict_str(&c->dict, i);
        size_t len = c->dict.e[i].len;
        value_trim(&s, &len);
        uint32_t before = spell.n;
        uint32_t k = dict_intern(&spell, s, len);
        if (spell.n > before) {
            if (k == scap) {
                scap = scap ? scap * 2 : 16;
                sfirst = xreallocarray(sfirst, scap, sizeof *sfirst);
                scount = xreallocarray(scount, scap, sizeof *scount);
            }
            sfirst[k] = i;
            scount[k] = 0;
        }
        scount[k] += c->dict.e[i].count;
        gi[i] = k; /* the spelling for now; its group below */
    }
    struct group *g = NULL;
    uint32_t cap = 0;
    uint32_t *sgroup = xmalloc((spell.n ? spell.n : 1) * sizeof *sgroup);
    char small[256];
    for (uint32_t k = 0; k < spell.n; k++) {
        const char *s = dict_str(&spell, k);
        size_t len = spell.e[k].len;
        char *low = len < sizeof small ? small : xmalloc(len + 1);
        for (size_t j = 0; j < len; j++)
            low[j] = (s[j] >= 'A' && s[j] <= 'Z') ? (char)(s[j] - 'A' + 'a') : s[j];
        uint32_t before = keys.n;
        uint32_t gk = dict_intern(&keys, low, len);
        if (low != small)
            free(low);
        if (keys.n > before) {
            if (gk == cap) {
                cap = cap ? cap * 2 : 16;
                g = xreallocarray(g, cap, sizeof *g);
            }
            g[gk] = (struct group){0, sfirst[k], 0, 0, 0};
        }
        sgroup[k] = gk;
        g[gk].count += scount[k];
        g[gk].spellings++;
        if (scount[k] > g[gk].best_count) {
            g[gk].best_count = scount[k];
            g[gk].best_entry = sfirst[k];
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (gi[i] != FRAME_NA)
            gi[i] = sgroup[gi[i]];
    *ngroups = keys.n;
    free(sgroup);
    free(sfirst);
    free(scount);
    dict_cleanup(&spell);
    dict_cleanup(&keys);
    return g;
}

static void materialize_categorical(struct frame *f, struct column *c)
{
    uint32_t n = c->dict.n, ng = 0;
    uint32_t *gi = xmalloc((n ? n : 1) * sizeof *gi);
    struct group *g = group_entries(c, gi, &ng);
    uint32_t *order = xmalloc((ng ? ng : 1) * sizeof *order);
    struct group *sorted = xmalloc((ng ? ng : 1) * sizeof *sorted);
    for (uint32_t i = 0; i < ng; i++) {
        g[i].index = i;
        sorted[i] = g[i];
    }
    sort_dict = &c->dict;
    qsort(sorted, ng, sizeof *sorted, cmp_group_global);
    c->ncat = ng;
    c->cats = xmalloc((ng ? ng : 1) * sizeof *c->cats);
    c->cat_count = xmalloc((ng ? ng : 1) * sizeof *c->cat_count);
    for (uint32_t j = 0; j < ng; j++) {
        order[sorted[j].index] = j;
        uint32_t e = sorted[j].best_entry;
        c->cats[j] = trimmed_copy(dict_str(&c->dict, e), c->dict.e[e].len);
        c->cat_count[j] = sorted[j].count;
    }
    /* spellings merged into another: every spelling of a group but its label */
    uint64_t merged = 0;
    for (uint32_t i = 0; i < ng; i++)
        merged += g[i].spellings - 1;
    c->prof.merged = merged;
    uint32_t *lut = xmalloc((n ? n : 1) * sizeof *lut);
    for (uint32_t i = 0; i < n; i++)
        lut[i] = gi[i] == FRAME_NA ? FRAME_NA : order[gi[i]];
    c->cat = xmalloc((f->nrows ? f->nrows : 1) * sizeof *c->cat);
    for (uint64_t r = 0; r < f->nrows; r++) {
        uint32_t k = c->codes[r];
        c->cat[r] = k == FRAME_NA ? FRAME_NA : lut[k];
    }
    c->prof.distinct = ng;
    free(lut);
    free(gi);
    free(g);
    free(order);
    free(sorted);
}

/* The most frequent trimmed spelling among entries with value_bool == side. */
static char *bool_label(const struct column *c, int side)
{
    uint64_t best = 0;
    uint32_t bi = UINT32_MAX;
    for (uint32_t i = 0; i < c->dict.n; i++) {
        if (c->entry_na[i])
            continue;
        const char *s = dict_str(&c->dict, i);
        size_t len = c->dict.e[i].len;
        value_trim(&s, &len);
        int b = value_bool(s, len);
        if (b < 0) { /* numeric 0/1 spelled "1.0": decide by value */
            double v;
            b = value_parse_number(s, len, 1, &v) ? v != 0 : -1;
        }
        if (b == side && c->dict.e[i].count > best) {
            best = c->dict.e[i].count;
            bi = i;
        }
    }
    if (bi == UINT32_MAX)
        return xstrdup(side ? "true" : "false");
    return trimmed_copy(dict_str(&c->dict, bi), c->dict.e[bi].len);
}

/* ---- typing one column ---------------------------------------------------- */

/* 1. Mark the entries that are missing tokens and profile the rest. Returns
 * the non-missing rows; *spaced gets the rows whose value holds a space. */
static uint64_t mark_missing(struct frame *f, struct column *c, const char *const *tokens,
                             uint64_t *spaced)
{
    uint32_t n = c->dict.n;
    uint64_t nonmiss = 0;
    double len_sum = 0;
    size_t longest = 0;
    for (size_t i = 0; tokens[i]; i++)
        if (strlen(tokens[i]) > longest)
            longest = strlen(tokens[i]);
    *spaced = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct dict_entry *e = &c->dict.e[i];
        if (is_missing_token(dict_str(&c->dict, i), e->len, tokens, longest)) {
            c->entry_na[i] = 1;
        } else {
            nonmiss += e->count;
            len_sum += (double)e->len * (double)e->count;
            if (memchr(dict_str(&c->dict, i), ' ', e->len))
                *spaced += e->count;
        }
    }
    c->prof.missing = f->nrows - nonmiss; /* missing tokens plus absent cells */
    c->prof.mean_len = nonmiss ? len_sum / (double)nonmiss : 0;
    return nonmiss;
}

/* 3. Every value a yes/no token, both sides present: boolean. */
static int try_boolean(struct frame *f, struct column *c, double *ev)
{
    int saw[2] = {0, 0};
    for (uint32_t i = 0; i < c->dict.n; i++) {
        if (c->entry_na[i]) {
            ev[i] = NAN;
            continue;
        }
        const char *s = dict_str(&c->dict, i);
        size_t len = c->dict.e[i].len;
        value_trim(&s, &len);
        int b = value_bool(s, len);
        if (b < 0)
            return 0;
        saw[b] = 1;
        ev[i] = b;
    }
    if (!saw[0] || !saw[1])
        return 0;
    c->type = COL_BOOLEAN;
    materialize_numeric(f, c, ev);
    c->prof.distinct = 2;
    c->true_label = bool_label(c, 1);
    c->false_label = bool_label(c, 0);
    return 1;
}

/* Keep the FRAME_JUNK_EXAMPLES most frequent stray values (trimmed) seen so
 * far in ex[] (most rows first), for the warning. */
static void keep_example(struct column *c, uint64_t *ex_rows, const char *s, size_t len,
                         uint64_t rows)
{
    for (size_t k = 0; k < FRAME_JUNK_EXAMPLES; k++)
        if (c->junk_example[k] && strlen(c->junk_example[k]) == len &&
            memcmp(c->junk_example[k], s, len) == 0) {
            ex_rows[k] += rows; /* the same spelling in another entry (raw mode) */
            return;
        }
    size_t at = FRAME_JUNK_EXAMPLES;
    while (at > 0 && (!c->junk_example[at - 1] || ex_rows[at - 1] < rows))
        at--;
    if (at == FRAME_JUNK_EXAMPLES)
        return;
    free(c->junk_example[FRAME_JUNK_EXAMPLES - 1]);
    memmove(c->junk_example + at + 1, c->junk_example + at,
            (FRAME_JUNK_EXAMPLES - 1 - at) * sizeof *c->junk_example);
    memmove(ex_rows + at + 1, ex_rows + at, (FRAME_JUNK_EXAMPLES - 1 - at) * sizeof *ex_rows);
    c->junk_example[at] = trimmed_copy(s, len);
    ex_rows[at] = rows;
}

/* 4. Numbers. At least FRAME_NUMERIC_SHARE of the filled rows parse as
 * numbers (and at least two distinct numbers do): numeric (or boolean,
 * identifier, constant); the rest is read as missing, counted in
 * prof.non_numeric and sampled in junk_example[]. */
static int try_numeric(struct frame *f, struct column *c, uint64_t nonmiss, int decimal_comma,
                       double *ev)
{
    uint32_t n = c->dict.n, good_entries = 0;
    uint64_t bad_rows = 0, ex_rows[FRAME_JUNK_EXAMPLES] = {0};
    int numeric = 1;
    for (uint32_t i = 0; i < n && numeric; i++) {
        if (c->entry_na[i]) {
            ev[i] = NAN;
            continue;
        }
        const char *s = dict_str(&c->dict, i);
        size_t len = c->dict.e[i].len;
        value_trim(&s, &len);
        if (value_parse_number(s, len, decimal_comma, &ev[i])) {
            good_entries++;
        } else {
            ev[i] = NAN;
            bad_rows += c->dict.e[i].count;
            keep_example(c, ex_rows, s, len, c->dict.e[i].count);
            /* stop parsing as soon as the column cannot be numeric */
            numeric = (double)bad_rows <= (1.0 - FRAME_NUMERIC_SHARE) * (double)nonmiss;
        }
    }
    if (!numeric || (bad_rows > 0 && good_entries < 2)) {
        for (size_t k = 0; k < FRAME_JUNK_EXAMPLES; k++) {
            free(c->junk_example[k]);
            c->junk_example[k] = NULL;
        }
        return 0;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!c->entry_na[i] && isnan(ev[i]))
            c->entry_na[i] = 1;
    c->prof.non_numeric = bad_rows;
    c->prof.missing += bad_rows;
    size_t m = 0;
    double *vals = xmalloc((n ? n : 1) * sizeof *vals);
    for (uint32_t i = 0; i < n; i++)
        if (!c->entry_na[i])
            vals[m++] = ev[i];
    c->prof.distinct = count_distinct(vals, m);
    int zero_one = c->prof.distinct == 2 && vals[0] == 0 && vals[m - 1] == 1;
    free(vals);
    materialize_numeric(f, c, ev);
    uint64_t valid = nonmiss - bad_rows;
    if (c->prof.distinct <= 1) {
        c->type = COL_CONSTANT;
        free(c->num); /* not a feature: raw text only */
        c->num = NULL;
    } else if (zero_one) {
        c->type = COL_BOOLEAN;
        c->true_label = bool_label(c, 1);
        c->false_label = bool_label(c, 0);
    } else if (c->prof.integer_share == 1.0 && c->prof.distinct == valid && c->prof.missing == 0 &&
               valid >= 20 &&
               (name_is_id_like(c->name) || c->prof.max - c->prof.min < 50.0 * (double)f->nrows)) {
        c->type = COL_IDENTIFIER;
        free(c->num);
        c->num = NULL;
    } else {
        c->type = COL_NUMERIC;
    }
    return 1;
}

/* 5. Dates, in the first layout every value fits. */
static int try_datetime(struct frame *f, struct column *c, double *ev)
{
    static const enum date_fmt fmts[] = {DATE_ISO, DATE_MDY, DATE_DMY};
    uint32_t n = c->dict.n;
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        int ok = 1, any_time = 0;
        for (uint32_t i = 0; i < n && ok; i++) {
            if (c->entry_na[i]) {
                ev[i] = NAN;
                continue;
            }
            const char *s = dict_str(&c->dict, i);
            size_t len = c->dict.e[i].len;
            value_trim(&s, &len);
            int ht = 0;
            ok = value_parse_date(s, len, fmts[k], &ev[i], &ht);
            any_time |= ht;
        }
        if (!ok)
            continue;
        c->type = COL_DATETIME;
        c->prof.date_fmt = fmts[k];
        c->prof.has_time = any_time;
        size_t m = 0;
        double *vals = xmalloc((n ? n : 1) * sizeof *vals);
        for (uint32_t i = 0; i < n; i++)
            if (!c->entry_na[i])
                vals[m++] = ev[i];
        c->prof.distinct = count_distinct(vals, m);
        free(vals);
        materialize_numeric(f, c, ev);
        if (c->prof.distinct <= 1) {
            c->type = COL_CONSTANT;
            free(c->num);
            c->num = NULL;
        }
        return 1;
    }
    return 0;
}

/* 6. Text: free text, identifier or categorical (constant when one category). */
static void type_text(struct frame *f, struct column *c, uint64_t nonmiss, uint64_t spaced)
{
    uint64_t distinct = dict_count_distinct(&c->dict, c->entry_na);
    c->prof.distinct = distinct;
    if (c->prof.mean_len >= 30 && distinct * 2 >= nonmiss && distinct > 20 &&
        spaced * 2 >= nonmiss) {
        c->type = COL_TEXT;
        return;
    }
    if ((distinct == nonmiss && nonmiss >= 20) ||
        (name_is_id_like(c->name) && distinct * 100 >= nonmiss * 95 && nonmiss >= 2)) {
        c->type = COL_IDENTIFIER;
        return;
    }
    materialize_categorical(f, c);
    if (c->prof.distinct > 1) {
        c->type = COL_CATEGORICAL;
        return;
    }
    c->type = COL_CONSTANT;
    /* Not a feature: drop the category view, keep the raw text. */
    free(c->cat);
    c->cat = NULL;
}

/* Type one column by the rules at the top of this file, in their order. */
static void type_column(struct frame *f, struct column *c, const char *const *tokens,
                        int decimal_comma)
{
    uint32_t n = c->dict.n;
    double *ev = NULL; /* per dict entry: the value a rule parsed */
    c->entry_na = xcalloc(n ? n : 1, 1);
    uint64_t spaced;
    uint64_t nonmiss = mark_missing(f, c, tokens, &spaced);
    if (nonmiss == 0) { /* 2. nothing left */
        c->type = COL_CONSTANT;
        c->prof.distinct = 0;
        goto out;
    }
    ev = xmalloc((n ? n : 1) * sizeof *ev);
    if (try_boolean(f, c, ev) || try_numeric(f, c, nonmiss, decimal_comma, ev) ||
        try_datetime(f, c, ev))
        goto out;
    type_text(f, c, nonmiss, spaced);
out:
    free(ev);
}

int frame_column_warning(const struct column *c, char *buf, size_t cap)
{
    if (c->prof.non_numeric == 0 || cap == 0)
        return 0;
    size_t at = (size_t)snprintf(
        buf, cap,
        "column '%.80s': %llu value%s that %s not a number %s read as "
        "missing (e.g.",
        c->name, (unsigned long long)c->prof.non_numeric, c->prof.non_numeric == 1 ? "" : "s",
        c->prof.non_numeric == 1 ? "is" : "are", c->prof.non_numeric == 1 ? "was" : "were");
    for (size_t k = 0; k < FRAME_JUNK_EXAMPLES && c->junk_example[k] && at < cap; k++)
        at +=
            (size_t)snprintf(buf + at, cap - at, "%s \"%.40s\"", k ? "," : "", c->junk_example[k]);
    if (at < cap)
        snprintf(buf + at, cap - at, ")");
    return 1;
}

/* ---- reading ------------------------------------------------------------ */

static int frame_finish(struct frame *f, const struct frame_opts *o, int rc, struct frame **out,
                        struct ls_error *err)
{
    if (rc == LS_OK && f->ncols > 0 && f->nrows == 0)
        rc = ls_error_set(err, LS_EEMPTY, "the file has a header (%zu columns) but no data rows",
                          f->ncols);
    if (rc) {
        frame_free(f);
        return rc;
    }
    const char *const *tokens = o->missing_tokens ? o->missing_tokens : frame_default_missing;
    for (size_t i = 0; i < f->ncols; i++)
        type_column(f, &f->cols[i], tokens, f->info.decimal_comma);
    *out = f;
    return LS_OK;
}

int frame_read_file(const char *path, const struct frame_opts *o, struct frame **out,
                    struct ls_error *err)
{
    struct frame *f = xcalloc(1, sizeof *f);
    struct builder b = {.f = f};
    struct csv_sink sink = {&b, b_header, b_field, b_row};
    int rc = csv_read_file(path, &o->csv, &sink, &f->info, err);
    return frame_finish(f, o, rc, out, err);
}

int frame_read_mem(const void *data, size_t len, const struct frame_opts *o, struct frame **out,
                   struct ls_error *err)
{
    struct frame *f = xcalloc(1, sizeof *f);
    struct builder b = {.f = f};
    struct csv_sink sink = {&b, b_header, b_field, b_row};
    int rc = csv_read_mem(data, len, &o->csv, &sink, &f->info, err);
    return frame_finish(f, o, rc, out, err);
}

void frame_free(struct frame *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncols; i++) {
        struct column *c = &f->cols[i];
        free(c->name);
        dict_cleanup(&c->dict);
        free(c->codes);
        free(c->entry_na);
        free(c->num);
        free(c->cat);
        for (uint32_t k = 0; k < c->ncat; k++)
            free(c->cats[k]);
        free(c->cats);
        free(c->cat_count);
        free(c->true_label);
        free(c->false_label);
        for (size_t k = 0; k < FRAME_JUNK_EXAMPLES; k++)
            free(c->junk_example[k]);
    }
    free(f->cols);
    free(f);
}

long frame_find(const struct frame *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return (long)i;
    for (size_t i = 0; i < f->ncols; i++)
        if (value_ieq(f->cols[i].name, strlen(f->cols[i].name), name))
            return (long)i;
    return -1;
}

const char *frame_cell(const struct frame *f, size_t col, uint64_t row)
{
    uint32_t k = f->cols[col].codes[row];
    return k == FRAME_NA ? "" : dict_str(&f->cols[col].dict, k);
}

int frame_is_missing(const struct frame *f, size_t col, uint64_t row)
{
    uint32_t k = f->cols[col].codes[row];
    return k == FRAME_NA || f->cols[col].entry_na[k];
}
