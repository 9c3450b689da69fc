/*
 * text.c — words and numbers for the chat.
 *
 * Words are compared as light stems: lower case, then the common English
 * endings taken off (plurals, -ing, -ed, -al, -ly), so "referrals" and
 * "Referral" are one word and "converting", "converts" and "converted" are
 * another. That is much less than a Porter stemmer on purpose: column and
 * category names are short, and a stemmer that folds too much makes
 * "Specialization" and "Special" one word. Typos are allowed by edit
 * distance, more of them in longer words (Damerau: a swap of two letters
 * is one edit).
 *
 * Numbers are written the way a sales manager reads them: 1,234 leads,
 * 38.5%, +12.3 pts.
 */
#include "chat/chat_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int ends(const char *w, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n > k && memcmp(w + n - k, suf, k) == 0;
}

void chat__stem(char *w)
{
    size_t n = strlen(w);
    if (n <= 3)
        return;
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)w[i]))
            return; /* numbers and ids stay as written */
    if (ends(w, n, "ies") && n > 4) {
        w[n - 3] = 'y';
        w[n - 2] = 0;
        n -= 2;
    } else if (ends(w, n, "sses")) {
        w[n - 2] = 0;
        n -= 2;
    } else if (ends(w, n, "ches") || ends(w, n, "shes") || ends(w, n, "xes")) {
        w[n - 2] = 0;
        n -= 2;
    } else if (w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i') {
        w[--n] = 0;
    }
    if (n > 5 && ends(w, n, "ing")) {
        w[n - 3] = 0;
        n -= 3;
    } else if (n > 4 && ends(w, n, "ed")) {
        w[n - 2] = 0;
        n -= 2;
    } else if (n > 5 && ends(w, n, "al")) {
        w[n - 2] = 0;
        n -= 2;
    } else if (n > 5 && ends(w, n, "ly")) {
        w[n - 2] = 0;
        n -= 2;
    }
    /* "converting" / "converted" / "converts" meet on "convert"; a doubled
     * consonant left by -ing/-ed ("referr") is kept: "referral" gives it too */
}

size_t chat__tokens(const char *text, struct chat_tok *out, size_t max)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && n < max) {
        while (*p && !isalnum(*p) && *p < 0x80)
            p++;
        if (!*p)
            break;
        const unsigned char *s = p;
        struct chat_tok *t = &out[n];
        size_t k = 0;
        while (*p && (isalnum(*p) || *p >= 0x80)) {
            /* "TotalVisits" reads as two words, like "Total Visits" */
            if (p > s && isupper(*p) && islower(p[-1]))
                break;
            if (k + 1 < CHAT_TOK_MAX) {
                /* a UTF-8 sequence is copied whole or not at all */
                if (*p >= 0xC0) {
                    size_t len = (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : 4;
                    if (k + len < CHAT_TOK_MAX) {
                        size_t c = 0;
                        while (c < len && p[c] >= 0x80)
                            t->raw[k++] = (char)p[c++];
                        p += c;
                        continue;
                    }
                    k = CHAT_TOK_MAX; /* full: skip the rest of the word */
                } else if (*p < 0x80) {
                    t->raw[k++] = (char)tolower(*p);
                }
            }
            p++;
        }
        if (k >= CHAT_TOK_MAX)
            k = strnlen(t->raw, CHAT_TOK_MAX - 1);
        t->raw[k] = 0;
        if (!k)
            continue;
        memcpy(t->s, t->raw, k + 1);
        chat__stem(t->s);
        t->pos = (size_t)(s - (const unsigned char *)text);
        n++;
    }
    return n;
}

/* Damerau-Levenshtein (optimal string alignment) distance, bounded. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= CHAT_TOK_MAX || m >= CHAT_TOK_MAX)
        return 99;
    size_t d[CHAT_TOK_MAX + 1][CHAT_TOK_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t c = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + c < v)
                v = d[i - 1][j - 1] + c;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

int chat__word_eq(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    size_t n = strlen(a), m = strlen(b), s = n < m ? n : m;
    if (s < 5)
        return 0;
    for (const char *p = a; *p; p++)
        if (isdigit((unsigned char)*p))
            return 0; /* 660737 and 660736 are two leads */
    size_t allow = s >= 8 ? 2 : 1;
    if ((n > m ? n - m : m - n) > allow)
        return 0;
    return edit_distance(a, b) <= allow;
}

/* Words of a question that name nothing in the data (stems). */
static const char *const stopwords[] = {
    /* sorted: searched by bsearch */
    "a",    "about",  "all",     "am",    "an",    "and",   "any",   "are",   "as",    "at",
    "be",   "been",   "between", "by",    "can",   "could", "did",   "do",    "doe",   "does",
    "each", "for",    "from",    "get",   "give",  "got",   "had",   "has",   "have",  "how",
    "i",    "if",     "in",      "into",  "is",    "it",    "its",   "many",  "me",    "much",
    "my",   "no",     "not",     "of",    "on",    "or",    "our",   "out",   "per",   "please",
    "s",    "should", "show",    "so",    "some",  "tell",  "than",  "that",  "the",   "their",
    "them", "then",   "there",   "these", "they",  "this",  "those", "to",    "up",    "versus",
    "vs",   "was",    "we",      "were",  "what",  "whats", "when",  "where", "which", "who",
    "whom", "why",    "will",    "with",  "would", "yes",   "you",   "your",
};

static int cmp_word(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int chat__stopword(const char *stem)
{
    return bsearch(stem, stopwords, sizeof stopwords / sizeof stopwords[0], sizeof stopwords[0],
                   cmp_word) != NULL;
}

void chat__fmt_int(uint64_t v, char *out, size_t cap)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    char b[48];
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            b[k++] = ',';
        b[k++] = d[i];
    }
    b[k] = 0;
    snprintf(out, cap, "%s", b);
}

void chat__fmt_pct(double share, char *out, size_t cap)
{
    if (!isfinite(share)) {
        snprintf(out, cap, "unknown");
        return;
    }
    snprintf(out, cap, "%.1f%%", 100.0 * share);
}

void chat__fmt_pts(double pts, char *out, size_t cap)
{
    if (!isfinite(pts)) {
        snprintf(out, cap, "unknown");
        return;
    }
    if (fabs(pts) < 0.05)
        pts = 0;
    snprintf(out, cap, "%s%.1f pts", pts < 0 ? "-" : "+", fabs(pts));
}

void chat__fmt_num(double v, char *out, size_t cap)
{
    if (!isfinite(v)) {
        snprintf(out, cap, "missing");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        char b[48];
        chat__fmt_int((uint64_t)fabs(v), b, sizeof b);
        snprintf(out, cap, "%s%s", v < 0 ? "-" : "", b);
        return;
    }
    char b[64];
    snprintf(b, sizeof b, "%.2f", v);
    /* 2.50 -> 2.5 */
    size_t n = strlen(b);
    while (n > 1 && b[n - 1] == '0')
        b[--n] = 0;
    if (n > 1 && b[n - 1] == '.')
        b[--n] = 0;
    snprintf(out, cap, "%s", b);
}
