/*
 * match.c — what a question asks and what it names.
 *
 * A question is read as stems (text.c). It names:
 *   columns   when the stems of a column's name are found in it, fuzzily
 *             (typos), weighted by how rare each word is among the names
 *             ("lead" is in many names, "source" in one), or through the
 *             small table of synonyms below ("time on site");
 *   values    the same over each column's category values, plus the
 *             synonyms ("referrals" are Lead Source = Reference and
 *             Referral Sites); a value with no word of its own (Yes, No,
 *             missing) only with its column named;
 *   leads     "lead 660737", "lead #101", "#101", "id X", a UUID, "row 5";
 *   a tier    High, Medium or Low ("hot" leads are High).
 * Its intent comes from its words in a fixed order of precedence: a named
 * lead makes a "why" question; then compare, quality, drift, leakage,
 * importance, count, top / bottom, rate; "why" about a value is a segment
 * question. Nothing here guesses beyond the table: a word that names
 * nothing is left to BM25 (plan.c).
 */
#include "chat/chat_internal.h"

#include "core/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words of questions about the run, never evidence that a column or value
 * is named ("which lead source converts best": "lead" alone names nothing,
 * and "Converted to Lead" is not asked about). Stems. */
static const char *const question_words[] = {
    /* sorted: searched by bsearch */
    "average",  "bad",     "best",      "better",  "bottom",     "call",     "came",
    "category", "chance",  "cold",      "column",  "come",       "compare",  "conversion",
    "convert",  "count",   "customer",  "did",     "doing",      "drift",    "explain",
    "factor",   "feature", "first",     "focus",   "good",       "group",    "high",
    "highest",  "hot",     "important", "lead",    "least",      "less",     "likely",
    "low",      "lowest",  "matter",    "mean",    "medium",     "model",    "more",
    "most",     "number",  "overall",   "percent", "percentage", "priority", "probability",
    "prospect", "rate",    "reason",    "score",   "scored",     "segment",  "tier",
    "top",      "total",   "value",     "warm",    "why",        "worse",    "worst",
};

static int cmp_word(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static int generic(const char *stem)
{
    return chat__stopword(stem) ||
           bsearch(stem, question_words, sizeof question_words / sizeof question_words[0],
                   sizeof question_words[0], cmp_word) != NULL;
}

/* ---- synonyms ---------------------------------------------------------- */

enum syn_kind { SYN_COLUMN, SYN_VALUE, SYN_COLVAL /* target "Column=Value" */ };

/* A phrase (its content words, stems, space-separated) and what it names
 * when the run has it: a column or a category value, by name. */
static const struct syn {
    const char *phrase;
    enum syn_kind kind;
    const char *target;
} synonyms[] = {
    {"referr", SYN_VALUE, "Reference"},
    {"referr", SYN_VALUE, "Referral Sites"},
    {"not email", SYN_COLVAL, "Do Not Email=Yes"},
    {"not call", SYN_COLVAL, "Do Not Call=Yes"},
    {"time site", SYN_COLUMN, "Total Time Spent on Website"},
    {"time website", SYN_COLUMN, "Total Time Spent on Website"},
    {"time spent", SYN_COLUMN, "Total Time Spent on Website"},
    {"visit", SYN_COLUMN, "TotalVisits"},
    {"page view", SYN_COLUMN, "Page Views Per Visit"},
    {"source", SYN_COLUMN, "Lead Source"},
    {"channel", SYN_COLUMN, "Lead Source"},
    {"origin", SYN_COLUMN, "Lead Origin"},
    {"occupation", SYN_COLUMN, "What is your current occupation"},
    {"job", SYN_COLUMN, "What is your current occupation"},
    {"profession", SYN_COLUMN, "What is your current occupation"},
    {"activity", SYN_COLUMN, "Last Activity"},
    {"time site", SYN_COLUMN, "Time on Site (s)"},
    {"time website", SYN_COLUMN, "Time on Site (s)"},
    {"time spent", SYN_COLUMN, "Time on Site (s)"},
    {"job", SYN_COLUMN, "Job Title"},
    {"webinar", SYN_COLUMN, "Webinar Attended"},
    {"email open", SYN_COLUMN, "Email Opens"},
    {"company size", SYN_COLUMN, "Company Size"},
    {"page", SYN_COLUMN, "Pages Visited"},
};

/* What took a word of the question. */
#define USED_COL    1  /* a column's name */
#define USED_SYN    2  /* a synonym */
#define USED_REF    4  /* a lead reference ("lead 660737") */
#define USED_VAL    8  /* a category value */
#define USED_SYNVAL 16 /* a synonym naming a value ("referrals") */

/* The content words of the question: stems with their index in toks. */
struct qword {
    const char *s;
    const char *raw;
    size_t at;
    int used; /* USED_*: what took it */
};

/* 1 when the phrase's words appear in the question's words t in order, with
 * at most 3 stopwords between two of them ("time on the site"); the content
 * words it took (indices into q) into hit. */
static int phrase_at(const struct chat_tok *t, size_t nt, const struct qword *q, size_t nq,
                     const char *phrase, size_t *hit, size_t *nhit)
{
    char words[8][CHAT_TOK_MAX];
    size_t nw = 0;
    for (const char *p = phrase; *p && nw < 8;) {
        size_t k = strcspn(p, " ");
        snprintf(words[nw++], CHAT_TOK_MAX, "%.*s", (int)k, p);
        p += k;
        while (*p == ' ')
            p++;
    }
    for (size_t i = 0; i < nt; i++) {
        size_t at[8], k = 0, j = i;
        while (k < nw && j < nt) {
            if (chat__word_eq(t[j].s, words[k]) || strcmp(t[j].raw, words[k]) == 0) {
                at[k++] = j++;
                continue;
            }
            if (!k || !chat__stopword(t[j].s) || j - at[k - 1] > 3)
                break;
            j++;
        }
        if (k < nw)
            continue;
        *nhit = 0;
        for (k = 0; k < nw; k++)
            for (size_t x = 0; x < nq; x++)
                if (q[x].at == at[k])
                    hit[(*nhit)++] = x;
        return 1;
    }
    return 0;
}

/* ---- columns and values ------------------------------------------------ */

/* Two words the same, typos allowed — but not for the words every question
 * has: "conversion" is no typo of "Conversation". */
static int words_eq(const char *q, const char *name)
{
    if (generic(q) || generic(name))
        return strcmp(q, name) == 0;
    return chat__word_eq(q, name);
}

/* How much of a name's content words the question has, weighted by rarity:
 * 0..1; the question words it used are marked in used[] (nq). */
static double name_score(const struct chat_tok *t, size_t nt, const double *w,
                         const struct qword *q, size_t nq, uint8_t *used, int *specific)
{
    double have = 0, all = 0;
    *specific = 0;
    for (size_t i = 0; i < nt; i++) {
        if (chat__stopword(t[i].s))
            continue;
        all += w[i];
        for (size_t k = 0; k < nq; k++)
            if (!(q[k].used & USED_REF) && words_eq(q[k].s, t[i].s)) {
                have += w[i];
                used[k] = 1;
                if (!generic(t[i].s))
                    *specific = 1;
                break;
            }
    }
    return all > 0 ? have / all : 0;
}

static void add_col(struct chat_match *m, long c)
{
    for (size_t i = 0; i < m->ncol; i++)
        if (m->col[i] == c)
            return;
    if (m->ncol < CHAT_MATCH_MAX)
        m->col[m->ncol++] = c;
}

static void add_val(struct chat_match *m, long c, long v, double score)
{
    for (size_t i = 0; i < m->nval; i++)
        if (m->val[i].col == c && m->val[i].val == v)
            return;
    if (m->nval < CHAT_MATCH_MAX) {
        m->val[m->nval].col = c;
        m->val[m->nval].val = v;
        m->val[m->nval].score = score;
        m->nval++;
    }
}

static int has_col(const struct chat_match *m, long c)
{
    for (size_t i = 0; i < m->ncol; i++)
        if (m->col[i] == c)
            return 1;
    return 0;
}

static double importance_key(const struct chat_index *ix, long c)
{
    double v = ix->cols[c].importance;
    return isfinite(v) ? v : -1;
}

static void match_columns(const struct chat_index *ix, struct qword *q, size_t nq,
                          struct chat_match *m)
{
    if (!ix->ncols || !nq)
        return;
    double *score = xcalloc(ix->ncols, sizeof *score);
    uint8_t *used = xcalloc(ix->ncols * nq, 1);
    double best = 0;
    for (size_t c = 0; c < ix->ncols; c++) {
        const struct chat_column *col = &ix->cols[c];
        double w[64];
        for (size_t i = 0; i < col->ntok && i < 64; i++)
            w[i] = col->tokw[i] * (generic(col->tok[i].s) ? 0.3 : 1.0);
        int spec = 0;
        score[c] =
            name_score(col->tok, col->ntok < 64 ? col->ntok : 64, w, q, nq, used + c * nq, &spec);
        if (!spec)
            score[c] = 0;
        best = score[c] > best ? score[c] : best;
    }
    /* whole names first (all of them: "compare Lead Origin and Lead
     * Source"); else the best partial one */
    for (size_t c = 0; c < ix->ncols; c++)
        if (score[c] >= 0.999 || (best < 0.999 && score[c] >= 0.6 && score[c] == best)) {
            if (best < 0.999 && m->ncol &&
                importance_key(ix, m->col[0]) >= importance_key(ix, (long)c))
                continue; /* ties: the more important column */
            if (best < 0.999)
                m->ncol = 0;
            add_col(m, (long)c);
        }
    for (size_t i = 0; i < m->ncol; i++)
        for (size_t k = 0; k < nq; k++)
            if (used[(size_t)m->col[i] * nq + k])
                q[k].used |= USED_COL;
    free(used);
    free(score);
}

/* Columns and values the synonyms name: only words no whole column name
 * took already. */
/* 1 when s holds w, ASCII case aside. */
static int contains_ci(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (; *s; s++)
        if (strncasecmp(s, w, n) == 0)
            return 1;
    return 0;
}

static void match_synonyms(const struct chat_index *ix, const char *question,
                           const struct chat_tok *t, size_t nt, struct qword *q, size_t nq,
                           struct chat_match *m)
{
    for (size_t s = 0; s < sizeof synonyms / sizeof synonyms[0]; s++) {
        size_t hit[8], nhit = 0;
        if (!phrase_at(t, nt, q, nq, synonyms[s].phrase, hit, &nhit))
            continue;
        int free_words = 1;
        for (size_t k = 0; k < nhit; k++)
            if (q[hit[k]].used & (synonyms[s].kind == SYN_COLUMN ? USED_COL | USED_REF : USED_REF))
                free_words = 0;
        if (!free_words)
            continue;
        int found = 0;
        if (synonyms[s].kind == SYN_COLUMN) {
            long c = chat__find_column(ix, synonyms[s].target);
            if (c >= 0) {
                add_col(m, c);
                found = 1;
            }
        } else if (synonyms[s].kind == SYN_COLVAL) {
            const char *eq = strchr(synonyms[s].target, '=');
            char cn[128];
            snprintf(cn, sizeof cn, "%.*s", (int)(eq - synonyms[s].target), synonyms[s].target);
            long c = chat__find_column(ix, cn);
            if (contains_ci(question, cn))
                continue; /* "Do Not Email = No": the column by its name, not the phrase */
            for (size_t v = 0; c >= 0 && v < ix->cols[c].nv; v++)
                if (strcasecmp(ix->cols[c].v[v].name, eq + 1) == 0) {
                    add_col(m, c);
                    add_val(m, c, (long)v, 2);
                    found = 1;
                }
        } else {
            for (size_t c = 0; c < ix->ncols; c++)
                for (size_t v = 0; v < ix->cols[c].nv; v++)
                    if (!ix->cols[c].v[v].is_bin &&
                        strcasecmp(ix->cols[c].v[v].name, synonyms[s].target) == 0) {
                        add_val(m, (long)c, (long)v, 1);
                        found = 1;
                    }
        }
        if (found)
            for (size_t k = 0; k < nhit; k++)
                q[hit[k]].used |= synonyms[s].kind == SYN_COLUMN ? USED_SYN : USED_SYNVAL;
    }
}

static int raw_has(const struct qword *q, size_t nq, const char *w)
{
    for (size_t k = 0; k < nq; k++)
        if (strcmp(q[k].raw, w) == 0)
            return 1;
    return 0;
}

static int raw_has_tok(const struct chat_tok *t, size_t n, const char *w)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(t[k].raw, w) == 0)
            return 1;
    return 0;
}

static void match_values(const struct chat_index *ix, struct qword *q, size_t nq,
                         const struct chat_tok *all, size_t nall, struct chat_match *m)
{
    /* document frequency of each value word over every value */
    size_t nvals = 0;
    for (size_t c = 0; c < ix->ncols; c++)
        nvals += ix->cols[c].nv;
    if (!nvals)
        return;
    struct {
        long c, v;
        double score;
        uint8_t *used;
    } cand[64];
    size_t ncand = 0;
    uint8_t *used = xcalloc(nq ? nq : 1, 1);
    for (size_t c = 0; c < ix->ncols; c++) {
        const struct chat_column *col = &ix->cols[c];
        int named = has_col(m, (long)c);
        for (size_t v = 0; v < col->nv; v++) {
            const struct chat_value *val = &col->v[v];
            if (val->is_other || (val->is_bin && !val->is_missing))
                continue;
            if (val->is_missing) {
                /* "no Lead Source", "without a country" — unless "No" is a
                 * value of the column (Do Not Email = No) */
                int has_no = 0;
                for (size_t k = 0; k < col->nv; k++)
                    has_no |= strcasecmp(col->v[k].name, "no") == 0;
                if (named &&
                    (raw_has(q, nq, "missing") || raw_has(q, nq, "blank") ||
                     raw_has(q, nq, "empty") || raw_has(q, nq, "unknown") ||
                     raw_has_tok(all, nall, "without") || (!has_no && raw_has(q, nq, "no"))))
                    add_val(m, (long)c, (long)v, 1);
                continue;
            }
            size_t content = 0;
            for (size_t i = 0; i < val->ntok; i++)
                content += !generic(val->tok[i].s);
            if (!content) {
                /* Yes, No, 0, 1, "Lead Import" alone: with the column named
                 * and every word of the value in the question */
                if (!named || !val->ntok)
                    continue;
                size_t k = 0;
                for (; k < val->ntok; k++) {
                    size_t a = 0;
                    while (a < nall && strcmp(all[a].raw, val->tok[k].raw) != 0)
                        a++;
                    if (a == nall)
                        break;
                }
                if (k == val->ntok)
                    add_val(m, (long)c, (long)v, 1);
                continue;
            }
            double w[64], have = 0, tot = 0;
            size_t nt = val->ntok < 64 ? val->ntok : 64;
            memset(used, 0, nq ? nq : 1);
            for (size_t i = 0; i < nt; i++) {
                w[i] = generic(val->tok[i].s) ? 0.25 : 1.0;
                if (chat__stopword(val->tok[i].s))
                    continue;
                tot += w[i];
                for (size_t k = 0; k < nq; k++) {
                    if (q[k].used & (USED_REF | USED_SYNVAL))
                        continue;
                    /* short words (API, SMS) only as written */
                    int eq = strlen(val->tok[i].s) < 4 ? strcmp(q[k].raw, val->tok[i].raw) == 0 ||
                                                             strcmp(q[k].s, val->tok[i].s) == 0
                                                       : words_eq(q[k].s, val->tok[i].s);
                    if (eq) {
                        have += w[i];
                        used[k] = 1;
                        break;
                    }
                }
            }
            double sc = tot > 0 ? have / tot : 0;
            int ok = sc >= 0.999 || (content >= 2 && sc >= 0.66);
            if (!ok || ncand == 64)
                continue;
            cand[ncand].c = (long)c;
            cand[ncand].v = (long)v;
            cand[ncand].score = sc + (named ? 1 : 0);
            cand[ncand].used = xmalloc(nq ? nq : 1);
            memcpy(cand[ncand].used, used, nq ? nq : 1);
            ncand++;
        }
    }
    /* the same words matching values of several columns ("Email Opened" is a
     * Last Activity and a Last Notable Activity): a named column's value,
     * else the more important column's */
    for (size_t i = 0; i < ncand; i++) {
        int keep = 1;
        for (size_t j = 0; j < ncand && keep; j++) {
            if (i == j || strcasecmp(ix->cols[cand[i].c].v[cand[i].v].name,
                                     ix->cols[cand[j].c].v[cand[j].v].name) != 0)
                continue;
            if (cand[j].score > cand[i].score)
                keep = 0;
            else if (cand[j].score == cand[i].score &&
                     (importance_key(ix, cand[j].c) > importance_key(ix, cand[i].c) ||
                      (importance_key(ix, cand[j].c) == importance_key(ix, cand[i].c) && j < i)))
                keep = 0;
        }
        /* a value inside a longer value that matched too ("Chat" in "Olark Chat") */
        for (size_t j = 0; j < ncand && keep; j++) {
            if (i == j)
                continue;
            size_t ni = 0, nj = 0, both = 0;
            for (size_t k = 0; k < nq; k++) {
                ni += cand[i].used[k];
                nj += cand[j].used[k];
                both += cand[i].used[k] && cand[j].used[k];
            }
            if (both == ni && cand[j].score >= cand[i].score &&
                (nj > ni || cand[j].score > cand[i].score))
                keep = 0;
        }
        if (keep) {
            add_val(m, cand[i].c, cand[i].v, cand[i].score);
            for (size_t k = 0; k < nq; k++)
                if (cand[i].used[k])
                    q[k].used |= USED_VAL;
        }
    }
    for (size_t i = 0; i < ncand; i++)
        free(cand[i].used);
    free(used);
}

/* A column named only by words of a value it does not hold ("Search" in
 * "Organic Search") is no column of the question. */
static void prune_columns(const struct chat_index *ix, const struct qword *q, size_t nq,
                          struct chat_match *m)
{
    uint8_t *used = xcalloc(nq ? nq : 1, 1);
    double w[64];
    for (size_t i = 0; i < 64; i++)
        w[i] = 1;
    size_t keep = 0;
    for (size_t i = 0; i < m->ncol; i++) {
        long c = m->col[i];
        const struct chat_column *col = &ix->cols[c];
        int own = 0, spec = 0, any = 0, covered = 1;
        for (size_t v = 0; v < m->nval; v++)
            own |= m->val[v].col == c;
        memset(used, 0, nq ? nq : 1);
        name_score(col->tok, col->ntok < 64 ? col->ntok : 64, w, q, nq, used, &spec);
        for (size_t k = 0; k < nq; k++)
            if (used[k]) {
                any = 1;
                if (!(q[k].used & USED_VAL))
                    covered = 0;
            }
        if (!own && any && covered)
            continue;
        m->col[keep++] = c;
    }
    m->ncol = keep;
    free(used);
}

/* ---- leads ------------------------------------------------------------- */

static int idchar(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.';
}

/* The identifier that starts at p (letters, digits, - _ .), trailing dots
 * dropped ("lead 660737." ends a sentence). */
static size_t read_id(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    while (idchar((unsigned char)p[n]))
        n++;
    while (n && p[n - 1] == '.')
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return n;
}

static int has_digit(const char *s)
{
    for (; *s; s++)
        if (isdigit((unsigned char)*s))
            return 1;
    return 0;
}

static void add_ref(struct chat_match *m, int kind, const char *text, uint64_t row)
{
    if (m->nref >= 2)
        return;
    for (size_t i = 0; i < m->nref; i++)
        if (m->ref[i].kind == kind && strcmp(m->ref[i].text, text) == 0)
            return;
    struct chat_ref *r = &m->ref[m->nref++];
    r->kind = kind;
    snprintf(r->text, sizeof r->text, "%s", text);
    r->row = row;
}

static int is_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return 0;
        if (g < 4 && *s++ != '-')
            return 0;
    }
    return !idchar((unsigned char)*s);
}

static void match_leads(const char *question, struct chat_match *m)
{
    const char *p = question;
    size_t n = strlen(question);
    for (size_t i = 0; i < n; i++) {
        int start = i == 0 || !idchar((unsigned char)p[i - 1]);
        char id[128];
        if (p[i] == '#' && isalnum((unsigned char)p[i + 1])) {
            read_id(p + i + 1, id, sizeof id);
            add_ref(m, 1, id, 0);
            continue;
        }
        if (!start)
            continue;
        if (is_uuid(p + i)) {
            read_id(p + i, id, sizeof id);
            add_ref(m, 1, id, 0);
            continue;
        }
        /* "row 5", "line 5" */
        if (strncasecmp(p + i, "row", 3) == 0 || strncasecmp(p + i, "line", 4) == 0) {
            size_t k = i + (tolower((unsigned char)p[i]) == 'r' ? 3 : 4);
            if (p[k] != ' ' && p[k] != '#')
                continue;
            while (p[k] == ' ' || p[k] == '#')
                k++;
            if (isdigit((unsigned char)p[k])) {
                char *end;
                unsigned long long r = strtoull(p + k, &end, 10);
                if (r > 0 && !idchar((unsigned char)*end)) {
                    snprintf(id, sizeof id, "%llu", r);
                    add_ref(m, 2, id, r);
                }
            }
            continue;
        }
        /* "lead 660737", "lead id X", "lead number X", "id X", "prospect X" */
        static const char *const intro[] = {"lead id",     "lead number", "lead no",  "lead", "id",
                                            "prospect id", "prospect",    "customer", NULL};
        for (size_t w = 0; intro[w]; w++) {
            size_t len = strlen(intro[w]);
            if (strncasecmp(p + i, intro[w], len) != 0)
                continue;
            size_t k = i + len;
            if (p[k] != ' ' && p[k] != ':' && p[k] != '#')
                continue;
            while (p[k] == ' ' || p[k] == ':' || p[k] == '#')
                k++;
            read_id(p + k, id, sizeof id);
            if (id[0] && has_digit(id)) {
                add_ref(m, 1, id, 0);
                i = k + strlen(id) - 1;
                break;
            }
        }
    }
}

/* ---- intent ------------------------------------------------------------ */

static int has_stem(const struct chat_tok *t, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].s, s) == 0)
            return 1;
    return 0;
}

static int has_any(const struct chat_tok *t, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (has_stem(t, n, list[i]))
            return 1;
    return 0;
}

/* "how many", "how good": two words in a row */
static int has_pair(const struct chat_tok *t, size_t n, const char *a, const char *b)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(t[i].s, a) == 0 && strcmp(t[i + 1].s, b) == 0)
            return 1;
    return 0;
}

static const char *const w_quality[] = {
    "accuracy",    "accurate",  "auc",      "quality",     "reliable", "trust", "perform",
    "performance", "precision", "calibrat", "calibration", "roc",      NULL};
static const char *const w_drift[] = {"drift", "shift", "psi", "stable", "stability", NULL};
static const char *const w_leak[] = {"leak", "leaky", "leakage", "excluded", "exclude", NULL};
static const char *const w_importance[] = {
    "matter",  "important",  "importance", "driver", "drive",  "influence", "factor",
    "feature", "predictive", "predictor",  "impact", "signal", NULL};
static const char *const w_compare[] = {"compare",    "comparison", "vs",      "versus",
                                        "difference", "differ",     "against", NULL};
static const char *const w_top[] = {"best",      "top",        "highest",    "hottest",
                                    "strongest", "greatest",   "most",       "promising",
                                    "first",     "prioritize", "prioritise", NULL};
static const char *const w_bottom[] = {"worst",   "lowest",  "bottom",  "least",
                                       "weakest", "poorest", "coldest", NULL};
static const char *const w_rate[] = {"rate",    "convert", "conversion", "percentage",
                                     "percent", "often",   "share",      NULL};
static const char *const w_why[] = {"why", "explain", "reason", NULL};

static void set_intent(struct chat_match *m, const char *s)
{
    snprintf(m->intent, sizeof m->intent, "%s", s);
}

void chat__match(const struct chat_index *ix, const char *question, struct chat_match *m)
{
    memset(m, 0, sizeof *m);
    m->tier = -1;
    m->desc = 1;
    struct chat_tok *t = xmalloc(CHAT_TOKS_MAX * sizeof *t);
    size_t nt = chat__tokens(question, t, CHAT_TOKS_MAX);
    struct qword *q = xcalloc(nt ? nt : 1, sizeof *q);
    size_t nq = 0;
    for (size_t i = 0; i < nt; i++)
        if (!chat__stopword(t[i].s) || strcmp(t[i].s, "no") == 0 || strcmp(t[i].s, "yes") == 0)
            q[nq++] = (struct qword){t[i].s, t[i].raw, i, 0};

    match_leads(question, m);
    /* the words of a lead reference name no value ("lead 660737") */
    for (size_t r = 0; r < m->nref; r++)
        for (size_t k = 0; k < nq; k++)
            if (strcmp(q[k].raw, m->ref[r].text) == 0 ||
                (strstr(m->ref[r].text, q[k].raw) && has_digit(q[k].raw)))
                q[k].used |= USED_REF;
    match_columns(ix, q, nq, m);
    match_synonyms(ix, question, t, nt, q, nq, m);
    match_values(ix, q, nq, t, nt, m);
    prune_columns(ix, q, nq, m);

    /* a tier: its word not used by a value */
    for (size_t k = 0; k < nq; k++) {
        if (q[k].used & USED_VAL)
            continue;
        if (strcmp(q[k].s, "high") == 0 || strcmp(q[k].s, "hot") == 0)
            m->tier = 2;
        else if (strcmp(q[k].s, "medium") == 0 || strcmp(q[k].s, "warm") == 0)
            m->tier = 1;
        else if (strcmp(q[k].s, "low") == 0 || strcmp(q[k].s, "cold") == 0)
            m->tier = 0;
    }
    /* "top 5 leads" */
    for (size_t i = 0; i + 1 < nt; i++)
        if ((strcmp(t[i].s, "top") == 0 || strcmp(t[i].s, "best") == 0 ||
             strcmp(t[i].s, "worst") == 0 || strcmp(t[i].s, "bottom") == 0 ||
             strcmp(t[i].s, "first") == 0) &&
            isdigit((unsigned char)t[i + 1].s[0])) {
            long v = strtol(t[i + 1].s, NULL, 10);
            m->n = v > 0 && v <= 50 ? (size_t)v : v > 50 ? 50 : 0;
        }
    m->about_tiers = has_stem(t, nt, "tier");
    m->about_leads = has_stem(t, nt, "lead") || has_stem(t, nt, "prospect") ||
                     has_stem(t, nt, "customer") || has_stem(t, nt, "call");

    int why = has_any(t, nt, w_why) || has_pair(t, nt, "how", "come");
    int cmp = has_any(t, nt, w_compare) || has_pair(t, nt, "better", "than") ||
              has_pair(t, nt, "worse", "than");
    int quality = has_any(t, nt, w_quality) || has_pair(t, nt, "how", "good") ||
                  has_pair(t, nt, "how", "well") ||
                  (has_stem(t, nt, "model") && (has_stem(t, nt, "good") || has_stem(t, nt, "bad")));
    int drift = has_any(t, nt, w_drift) || has_stem(t, nt, "chang");
    int leak = has_any(t, nt, w_leak) || has_pair(t, nt, "left", "out");
    int imp = has_any(t, nt, w_importance);
    int count = has_pair(t, nt, "how", "many") || has_pair(t, nt, "number", "of") ||
                has_stem(t, nt, "count");
    int top = has_any(t, nt, w_top);
    int bottom = has_any(t, nt, w_bottom);
    int rate = has_any(t, nt, w_rate);
    size_t named = m->nval + m->ncol;

    m->explicit_intent = 1;
    if (m->nref && cmp && m->nref == 2)
        set_intent(m, "compare");
    else if (m->nref)
        set_intent(m, "why");
    else if (cmp || ((m->nval >= 2 || m->ncol >= 2) && (has_stem(t, nt, "or") || top || bottom) &&
                     !imp && !count))
        set_intent(m, "compare");
    else if (quality && !named)
        set_intent(m, "quality");
    else if (drift)
        set_intent(m, "drift");
    else if (leak)
        set_intent(m, "leakage");
    else if (why && named)
        set_intent(m, "why");
    else if (imp && !(m->nval && rate))
        set_intent(m, "importance");
    else if (count)
        set_intent(m, "count");
    else if (bottom) {
        set_intent(m, "bottom");
        m->desc = 0;
    } else if (top)
        set_intent(m, "top");
    else if (why)
        set_intent(m, "importance"); /* "why do leads convert?": what moves scores */
    else if (rate || named || has_stem(t, nt, "average") || has_stem(t, nt, "mean"))
        set_intent(m, "rate"); /* "the average score": the run's overview */
    else if (m->tier >= 0)
        set_intent(m, "count");
    else {
        set_intent(m, "general");
        m->explicit_intent = 0;
    }
    if (!m->nref && !rate && !why && !cmp && !quality && !drift && !leak && !imp && !count &&
        !top && !bottom)
        m->explicit_intent = 0; /* "and for Google?": named things only */
    free(q);
    free(t);
}
