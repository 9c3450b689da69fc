/*
 * bm25.c — Okapi BM25 ranking of the cards for a question.
 *
 * Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and
 * Beyond" (2009): a document d scores, for each query term t,
 *
 *   idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
 *
 * with idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5)) (the form that
 * never goes negative, as Lucene uses), k1 = 1.2 and b = 0.75, the usual
 * values. Terms are the chat's stems (text.c); a query word that is no term
 * of any card is looked up fuzzily among the terms (a typo meets its word).
 *
 * The index is a sorted vocabulary with a postings list per term, built once
 * and read-only afterwards, so many threads may score at once.
 */
#include "chat/chat_internal.h"

#include "core/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BM25_K1 1.2
#define BM25_B  0.75

struct posting {
    uint32_t doc, tf;
};

struct term {
    char s[CHAT_TOK_MAX];
    struct posting *p;
    size_t np;
    double idf;
};

struct chat_bm25 {
    size_t ndocs;
    double *len; /* per document: its number of terms */
    double avgdl;
    struct term *t;
    size_t nt;
};

struct occ {
    const char *s;
    uint32_t doc;
};

static int cmp_occ(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

struct chat_bm25 *chat__bm25_new(const struct chat_tok *const *docs, const size_t *ndoc,
                                 size_t ndocs)
{
    struct chat_bm25 *b = xcalloc(1, sizeof *b);
    b->ndocs = ndocs;
    b->len = xcalloc(ndocs ? ndocs : 1, sizeof *b->len);
    size_t total = 0;
    for (size_t d = 0; d < ndocs; d++)
        total += ndoc[d];
    struct occ *o = xmalloc((total ? total : 1) * sizeof *o);
    size_t k = 0;
    for (size_t d = 0; d < ndocs; d++) {
        for (size_t i = 0; i < ndoc[d]; i++)
            if (!chat__stopword(docs[d][i].s))
                o[k++] = (struct occ){docs[d][i].s, (uint32_t)d};
        b->len[d] = (double)ndoc[d];
    }
    b->avgdl = ndocs ? (double)total / (double)ndocs : 1;
    if (b->avgdl <= 0)
        b->avgdl = 1;
    qsort(o, k, sizeof *o, cmp_occ);
    /* one term per distinct stem, one posting per (term, document) */
    b->t = xcalloc(k ? k : 1, sizeof *b->t);
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j < k && strcmp(o[j].s, o[i].s) == 0)
            j++;
        struct term *t = &b->t[b->nt++];
        memcpy(t->s, o[i].s, strlen(o[i].s) + 1);
        t->p = xmalloc((j - i) * sizeof *t->p);
        for (size_t q = i; q < j; q++) {
            if (t->np && t->p[t->np - 1].doc == o[q].doc)
                t->p[t->np - 1].tf++;
            else
                t->p[t->np++] = (struct posting){o[q].doc, 1};
        }
        double df = (double)t->np, n = (double)ndocs;
        t->idf = log(1.0 + (n - df + 0.5) / (df + 0.5));
        i = j;
    }
    free(o);
    return b;
}

void chat__bm25_free(struct chat_bm25 *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nt; i++)
        free(b->t[i].p);
    free(b->t);
    free(b->len);
    free(b);
}

static const struct term *find_term(const struct chat_bm25 *b, const char *s)
{
    size_t lo = 0, hi = b->nt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->t[mid].s, s);
        if (c == 0)
            return &b->t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* a typo: the closest term by edit distance (the first found) */
    if (strlen(s) >= 5)
        for (size_t i = 0; i < b->nt; i++)
            if (chat__word_eq(s, b->t[i].s))
                return &b->t[i];
    return NULL;
}

void chat__bm25_score(const struct chat_bm25 *b, const struct chat_tok *q, size_t nq, double *score)
{
    for (size_t d = 0; d < b->ndocs; d++)
        score[d] = 0;
    for (size_t i = 0; i < nq; i++) {
        if (chat__stopword(q[i].s))
            continue;
        int dup = 0; /* a word asked twice counts once */
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(q[k].s, q[i].s) == 0;
        if (dup)
            continue;
        const struct term *t = find_term(b, q[i].s);
        if (!t)
            continue;
        for (size_t p = 0; p < t->np; p++) {
            double tf = t->p[p].tf, dl = b->len[t->p[p].doc];
            score[t->p[p].doc] += t->idf * tf * (BM25_K1 + 1) /
                                  (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / b->avgdl));
        }
    }
}
