/*
 * chat_internal.h — what the chat's files share: words (tokens, stems, the
 * fuzzy equality of two words), numbers in words, the BM25 index, and the
 * index built from a run's facts (cards, columns, values).
 *
 * Nothing here is public: callers see chat.h. A question is read in the
 * same words the cards are indexed with, so "referrals", "Referral" and
 * "referal" (a typo) meet on one stem.
 */
#ifndef LS_CHAT_CHAT_INTERNAL_H
#define LS_CHAT_CHAT_INTERNAL_H

#include "chat/chat.h"
#include "core/buf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- words (text.c) ---------------------------------------------------- */

#define CHAT_TOK_MAX  32  /* bytes of one stem (longer words are cut) */
#define CHAT_TOKS_MAX 256 /* words read from one question or card title */

struct chat_tok {
    char s[CHAT_TOK_MAX];   /* the stem, lower case */
    char raw[CHAT_TOK_MAX]; /* the word as lower-cased, before stemming */
    size_t pos;             /* byte offset in the text */
};

/* The words of text (letters and digits; other bytes separate; UTF-8
 * letters are kept inside words), lower-cased and stemmed, at most max;
 * returns the count. */
size_t chat__tokens(const char *text, struct chat_tok *out, size_t max);

/* Light stemming in place: plurals (-ies, -es, -s), -ing, -ed, -al, -ly. */
void chat__stem(char *w);

/* 1 when two stems are the same word allowing typos: equal, or a Damerau
 * edit distance of 1 for stems of 5+ bytes, 2 for 8+ bytes. */
int chat__word_eq(const char *a, const char *b);

/* 1 for words that carry no meaning in a question or a name ("the", "of"). */
int chat__stopword(const char *stem);

/* Numbers in words: "1,234", "38.5%" (share 0..1), "+12.3 pts". */
void chat__fmt_int(uint64_t v, char *out, size_t cap);
void chat__fmt_pct(double share, char *out, size_t cap);
void chat__fmt_pts(double pts, char *out, size_t cap);
/* A number as a value: "12", "12.5", "1,532" */
void chat__fmt_num(double v, char *out, size_t cap);

/* ---- BM25 (bm25.c) ----------------------------------------------------- */

struct chat_bm25;

/* An index over ndocs documents given as token lists (docs[i], ndoc[i]
 * tokens). */
struct chat_bm25 *chat__bm25_new(const struct chat_tok *const *docs, const size_t *ndoc,
                                 size_t ndocs);
void chat__bm25_free(struct chat_bm25 *b);
/* Scores of every document for the query tokens into score (ndocs). */
void chat__bm25_score(const struct chat_bm25 *b, const struct chat_tok *q, size_t nq,
                      double *score);

/* ---- the index (cards.c) ----------------------------------------------- */

enum chat_card_kind {
    CARD_OVERVIEW,
    CARD_QUALITY,
    CARD_TIER,
    CARD_COLUMN,
    CARD_VALUE,
    CARD_IMPORTANCE,
    CARD_DRIFT,
    CARD_LEAKAGE,
    CARD_LEAD,
};

struct chat_card {
    enum chat_card_kind kind;
    char id[64];
    char *title;
    char *text;
    json_t *numbers; /* owned */
    long col, val;   /* the column / value it is about, or -1 */
};

struct chat_value {
    const char *name; /* borrowed from the facts */
    int is_bin;       /* a numeric column's bin */
    int is_missing;   /* the "missing" value */
    int is_other;     /* the values past the cap, together */
    uint64_t leads, labelled, converted;
    double rate;        /* NaN without a labelled lead */
    double mean_points; /* NaN when unknown */
    struct chat_tok *tok;
    size_t ntok;
    size_t card;
};

struct chat_column {
    const char *name;
    const char *kind;  /* "categorical", "numeric", "boolean", "datetime" */
    double importance; /* mean |points|, NaN when unknown */
    size_t imp_rank;   /* 1 = most important, 0 unknown */
    const char *drift_status;
    double psi;
    struct chat_value *v;
    size_t nv;
    struct chat_tok *tok;
    double *tokw; /* per word of the name: ln(1 + columns / columns with the word) */
    size_t ntok;
    size_t card;
    /* numeric columns: the leads above the median value and the others */
    int has_split;
    double threshold;
    struct chat_value above, below; /* leads, labelled, converted, rate only */
};

struct chat_index {
    json_t *facts; /* a private copy: every const char * above points into it */
    struct chat_card *cards;
    size_t ncards;
    struct chat_column *cols;
    size_t ncols;
    struct chat_bm25 *bm25;
    struct chat_tok **card_tok; /* per card, for BM25 */
    size_t *card_ntok;
    /* the run */
    const char *target, *filename, *id_column;
    uint64_t total, labelled, converted;
    double rate, expected;
    size_t overview_card, quality_card, importance_card, drift_card, leakage_card;
    size_t tier_card[3]; /* Low, Medium, High */
};

/* The column named (exactly, then without case) name, or -1. */
long chat__find_column(const struct chat_index *ix, const char *name);

/* ---- reading a question (match.c) -------------------------------------- */

#define CHAT_MATCH_MAX 8

struct chat_ref {
    int kind; /* 1 an id ("lead 660737", "#101"), 2 a row ("row 5") */
    char text[128];
    uint64_t row;
};

struct chat_match {
    char intent[16];
    int explicit_intent; /* the question says it (not inherited or guessed) */
    long col[CHAT_MATCH_MAX];
    size_t ncol;
    struct {
        long col, val;
        double score;
    } val[CHAT_MATCH_MAX];
    size_t nval;
    int tier;        /* -1, or the tier named (enum tier) */
    int desc;        /* top: 1, bottom: 0 */
    int about_leads; /* the question is about leads ("top 5 leads") */
    int about_tiers; /* ... or about the tiers ("which tier converts best?") */
    size_t n;        /* a number of leads asked for ("top 5"), 0 none */
    struct chat_ref ref[2];
    size_t nref;
};

void chat__match(const struct chat_index *ix, const char *question, struct chat_match *m);

/* ---- answers (narrator.c) ---------------------------------------------- */

struct chat_answer {
    struct buf text;
    json_t *cards; /* [{id, kind, title, text, numbers}] */
};

/* Write the narrator's answer to m (cards used appended to a->cards). */
void chat__narrate(const struct chat_index *ix, const struct chat_leads *leads,
                   const struct chat_match *m, struct chat_answer *a);

/* "Leads with X over 248 convert at 56.4% (...); those at 248 or less at
 * 20.9% (...)." for a numeric column with a median split (else nothing). */
void chat__split_text(const struct chat_column *c, struct buf *b);

/* A card as the JSON the plan lists. */
json_t *chat__card_json(const struct chat_card *c);

#endif
