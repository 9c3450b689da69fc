/*
 * narrate.c — a lead's sentence and next action (see narrate.h).
 *
 * Text is assembled in a bounded buffer (struct buf) that cuts at a UTF-8
 * character boundary, so an unusually long column name or value can shorten
 * the sentence but never break a character or overflow. The next action is
 * chosen by rules on the top reason's column name (time on site, visits,
 * pages, last activity, origin, occupation, e-mail opt-out) because those
 * are the columns lead files carry; any other column falls back to "Column
 * is value" when that stays within NARRATE_ACTION_WORDS words, else to the
 * tier's plain action.
 */
#include "app/narrate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUS           "\u2212" /* a real minus sign, as explain.c writes points */
#define VALUE_WORDS_MAX 4        /* a value quoted in an action: at most this many words */
#define VALUE_BYTES_MAX 40       /* ... and bytes */
#define ACTION_MAX      256      /* bytes of an action being built */

struct buf {
    char *p;
    size_t cap, len;
};

/* Append printf-style; a cut lands on a character boundary. */
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->cap == 0 || b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if ((size_t)w < b->cap - b->len) {
        b->len += (size_t)w;
        return;
    }
    /* vsnprintf cut at a byte: drop a last character it left incomplete */
    size_t end = b->cap - 1, at = end;
    while (at > b->len && ((unsigned char)b->p[at - 1] & 0xC0) == 0x80)
        at--;
    if (at > b->len) {
        unsigned char lead = (unsigned char)b->p[at - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (at - 1 + need > end)
            end = at - 1;
    }
    b->p[end] = '\0';
    b->len = b->cap; /* full: later puts do nothing */
}

static void score_text(double score, char *out, size_t cap)
{
    if (score > 0 && score < 0.5)
        snprintf(out, cap, "under 1%%");
    else
        snprintf(out, cap, "%.0f%%", score < 0 ? 0.0 : score > 100 ? 100.0 : score);
}

static void points_text(double v, char *out, size_t cap)
{
    if (v < 0)
        snprintf(out, cap, MINUS "%.1f pts", -v);
    else
        snprintf(out, cap, "+%.1f pts", v);
}

static int is_missing_value(const char *v)
{
    return !v || !*v || strncmp(v, "missing", 7) == 0;
}

/* "Column is value (+1.0 pts)" (is_form) or "Column = value", with tail
 * before the points; a missing value reads "Column is missing" or "a
 * missing Column". */
static void put_reason(struct buf *b, const struct narrate_reason *r, int is_form, const char *tail)
{
    char pts[32];
    points_text(r->points, pts, sizeof pts);
    const char *col = r->column ? r->column : "?";
    if (is_missing_value(r->value) && is_form)
        put(b, "%s is missing%s (%s)", col, tail, pts);
    else if (is_missing_value(r->value))
        put(b, "a missing %s%s (%s)", col, tail, pts);
    else if (is_form)
        put(b, "%s is %s%s (%s)", col, r->value, tail, pts);
    else
        put(b, "%s = %s%s (%s)", col, r->value, tail, pts);
}

static double total(const struct narrate_reason *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += r[i].points < 0 ? -r[i].points : r[i].points;
    return s;
}

const char *narrate_sentence(double score, const struct narrate_reason *pos, size_t npos,
                             const struct narrate_reason *neg, size_t nneg, char *out, size_t cap)
{
    struct buf b = {out, cap, 0};
    if (cap)
        out[0] = '\0';
    char sc[32];
    score_text(score, sc, sizeof sc);
    if (!pos)
        npos = 0;
    if (!neg)
        nneg = 0;
    if (npos == 0 && nneg == 0) {
        put(&b, "Scored %s; no single value moves it far from the average lead.", sc);
        return out;
    }
    int pos_leads = npos > 0 && total(pos, npos) >= total(neg, nneg);
    const struct narrate_reason *lead = pos_leads ? pos : neg, *other = pos_leads ? neg : pos;
    size_t nlead = pos_leads ? npos : nneg, nother = pos_leads ? nneg : npos;
    if (nlead > 2)
        nlead = 2;
    put(&b, pos_leads ? "Scored %s mainly because " : "Scored %s, held down mainly by ", sc);
    for (size_t i = 0; i < nlead; i++) {
        if (i)
            put(&b, " and ");
        put_reason(&b, &lead[i], pos_leads, "");
    }
    if (nother) {
        put(&b, "; ");
        put_reason(&b, &other[0], 0, pos_leads ? " pulls it down" : " helps");
    }
    put(&b, ".");
    return out;
}

/* ---- next action -------------------------------------------------------- */

static int has(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; s && *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == needle[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static size_t words(const char *s)
{
    size_t n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = isspace((unsigned char)*s);
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

/* A value short enough to quote in an action, and really the lead's value
 * (not "missing", not a category the model never saw). */
static int quotable(const char *v)
{
    return !is_missing_value(v) && !strstr(v, "(new value") && strlen(v) <= VALUE_BYTES_MAX &&
           words(v) <= VALUE_WORDS_MAX;
}

static int yes(const char *v)
{
    return v && (strcmp(v, "Yes") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "YES") == 0 ||
                 strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "True") == 0);
}

/* Why, from one reason, as a clause: "they spent a long time on the site".
 * 0 when the column says nothing an action can use. */
static int clause(const struct narrate_reason *r, char *out, size_t cap)
{
    if (!r || !r->column)
        return 0;
    int up = r->points > 0;
    const char *c = r->column, *v = r->value;
    int known = !is_missing_value(v) && !strstr(v, "(new value");
    if (has(c, "time") && known)
        snprintf(out, cap,
                 up ? "they spent a long time on the site" : "they spent little time on the site");
    else if (has(c, "visit") && known)
        snprintf(out, cap, up ? "they visit the site often" : "they rarely visit the site");
    else if (has(c, "page") && known)
        snprintf(out, cap, up ? "they view many pages per visit" : "they view few pages per visit");
    else if (has(c, "activity") && quotable(v))
        snprintf(out, cap, "their last activity was %s", v);
    else if ((has(c, "origin") || has(c, "source")) && quotable(v))
        snprintf(out, cap, "they came through %s", v);
    else if ((has(c, "occupation") || has(c, "profession")) && quotable(v))
        snprintf(out, cap, up ? "%s fits the profile" : "%s rarely converts", v);
    else if (quotable(v) && strlen(c) <= VALUE_BYTES_MAX)
        snprintf(out, cap, "%s is %s", c, v);
    else
        return 0;
    return 1;
}

/* out = head + ": " + why when that stays within the word limit, else plain. */
static void action(struct buf *b, const char *head, const struct narrate_reason *r,
                   const char *plain)
{
    char why[ACTION_MAX], whole[2 * ACTION_MAX];
    if (clause(r, why, sizeof why)) {
        snprintf(whole, sizeof whole, "%s: %s", head, why);
        if (words(whole) <= NARRATE_ACTION_WORDS) {
            put(b, "%s", whole);
            return;
        }
    }
    put(b, "%s", plain);
}

const char *narrate_next_action(int tier, const struct narrate_reason *top_for,
                                const struct narrate_reason *top_against, char *out, size_t cap)
{
    struct buf b = {out, cap, 0};
    if (cap)
        out[0] = '\0';
    const struct narrate_reason *a = top_against;
    /* facts that change what to do, whatever the tier */
    if (a && a->column && has(a->value, "bounce")) {
        put(&b, tier >= 2 ? "Call today; their email bounced, so fix the address"
                          : "Fix the email address first: their email bounced");
        return out;
    }
    for (int k = 0; k < 2; k++) {
        const struct narrate_reason *r = k ? top_against : top_for;
        if (r && r->column && has(r->column, "do not email") && yes(r->value)) {
            put(&b, tier >= 1 ? "Call, don't email: they opted out of email"
                              : "Leave out of email nurture: they opted out");
            return out;
        }
    }
    if (tier >= 2)
        action(&b, "Call today", top_for, "Call today while their interest is high");
    else if (tier == 1)
        action(&b, "Send a nurture email this week", top_for,
               "Send a nurture email and follow up this week");
    else
        action(&b, "Automated nurture only", top_against,
               "Add to automated nurture; no call needed now");
    return out;
}

const char *narrate_outcome_action(int label, char *out, size_t cap)
{
    if (label != 0 && label != 1)
        return NULL;
    struct buf b = {out, cap, 0};
    if (cap)
        out[0] = '\0';
    put(&b, label == 1 ? "Already converted: hand over to onboarding"
                       : "Closed without converting: re-engage only with a new offer");
    return out;
}

/* ---- from stored reasons ------------------------------------------------ */

/* Up to max reasons of one side of a reasons object. */
static size_t from_json(const json_t *reasons, const char *side, struct narrate_reason *r,
                        size_t max)
{
    const json_t *a = json_is_object(reasons) ? json_object_get(reasons, side) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(a) && n < max; i++) {
        const json_t *o = json_array_get(a, i);
        const char *c = json_string_value(json_object_get(o, "column"));
        const json_t *p = json_object_get(o, "points");
        if (!c || !json_is_number(p))
            continue;
        const char *v = json_string_value(json_object_get(o, "value"));
        r[n++] = (struct narrate_reason){c, v ? v : "missing", json_number_value(p)};
    }
    return n;
}

const char *narrate_json_sentence(double score, const json_t *reasons, char *out, size_t cap)
{
    struct narrate_reason p[3], n[3];
    size_t np = from_json(reasons, "for", p, 3), nn = from_json(reasons, "against", n, 3);
    return narrate_sentence(score, p, np, n, nn, out, cap);
}

const char *narrate_json_action(int tier, const json_t *reasons, char *out, size_t cap)
{
    struct narrate_reason p[1], n[1];
    size_t np = from_json(reasons, "for", p, 1), nn = from_json(reasons, "against", n, 1);
    return narrate_next_action(tier, np ? p : NULL, nn ? n : NULL, out, cap);
}

/* ---- reading stored reasons without jansson ----------------------------- */

struct jp {
    const char *p;
    int bad;
};

static void jp_ws(struct jp *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

static int jp_lit(struct jp *j, char c)
{
    jp_ws(j);
    if (*j->p != c)
        return 0;
    j->p++;
    return 1;
}

static unsigned hex4(const char *s, int *ok)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            *ok = 0;
    }
    return v;
}

/* Append code point cp as UTF-8 to out (len, cap); drops what does not fit whole. */
static void put_cp(char *out, size_t *len, size_t cap, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    if (out && *len + n < cap) {
        memcpy(out + *len, u, n);
        *len += n;
    } else if (out) {
        *len = cap; /* full: nothing more, not even a later shorter character */
    }
}

/* A string into out (cap bytes with the NUL; NULL: skip it). */
static void jp_str(struct jp *j, char *out, size_t cap)
{
    size_t len = 0;
    if (!jp_lit(j, '"')) {
        j->bad = 1;
        return;
    }
    for (;;) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '\0' || c < 0x20) {
            j->bad = 1;
            break;
        }
        j->p++;
        if (c == '"')
            break;
        if (c != '\\') { /* raw UTF-8 byte: copied; a cut keeps characters whole below */
            if (out && len + 1 < cap)
                out[len++] = (char)c;
            else if (out)
                len = cap;
            continue;
        }
        char e = *j->p++;
        unsigned cp;
        int ok = 1;
        switch (e) {
        case '"':
            cp = '"';
            break;
        case '\\':
            cp = '\\';
            break;
        case '/':
            cp = '/';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            cp = hex4(j->p, &ok);
            if (ok)
                j->p += 4;
            if (ok && cp >= 0xD800 && cp < 0xDC00 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned lo = hex4(j->p + 2, &ok);
                if (ok && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000)
                cp = 0xFFFD; /* a lone surrogate */
            break;
        default:
            ok = 0;
            cp = 0;
        }
        if (!ok) {
            j->bad = 1;
            break;
        }
        put_cp(out, &len, cap, cp);
    }
    if (out && cap) {
        if (len >= cap) { /* cut: back to a character boundary */
            len = cap - 1;
            size_t at = len;
            while (at > 0 && ((unsigned char)out[at - 1] & 0xC0) == 0x80)
                at--;
            if (at > 0) {
                unsigned char lead = (unsigned char)out[at - 1];
                size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                if (at - 1 + need > len)
                    len = at - 1;
            }
        }
        out[len] = '\0';
    }
}

static void jp_skip(struct jp *j, int depth);

static void jp_number(struct jp *j, double *v)
{
    jp_ws(j);
    char *end;
    double d = strtod(j->p, &end);
    if (end == j->p)
        j->bad = 1;
    else
        j->p = end;
    if (v)
        *v = d;
}

static void jp_skip(struct jp *j, int depth)
{
    jp_ws(j);
    char c = *j->p;
    if (depth > 32) {
        j->bad = 1;
    } else if (c == '"') {
        jp_str(j, NULL, 0);
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (jp_lit(j, close))
            return;
        do {
            if (c == '{') {
                jp_str(j, NULL, 0);
                if (!jp_lit(j, ':'))
                    j->bad = 1;
            }
            if (!j->bad)
                jp_skip(j, depth + 1);
        } while (!j->bad && jp_lit(j, ','));
        if (!j->bad && !jp_lit(j, close))
            j->bad = 1;
    } else if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) == 0) {
        j->p += 4;
    } else if (strncmp(j->p, "false", 5) == 0) {
        j->p += 5;
    } else {
        jp_number(j, NULL);
    }
}

static char *arena(struct narrate_parsed *o)
{
    char *s = o->buf + o->used;
    o->used += NARRATE_FIELD_MAX + 1;
    return s;
}

/* One side's array of reasons. */
static void jp_side(struct jp *j, struct narrate_parsed *o, int pos)
{
    if (!jp_lit(j, '[')) {
        j->bad = 1;
        return;
    }
    if (jp_lit(j, ']'))
        return;
    do {
        size_t *n = pos ? &o->npos : &o->nneg;
        if (*n >= 3) { /* more than we keep */
            jp_skip(j, 1);
            continue;
        }
        char *col = arena(o), *val = arena(o);
        size_t tused = o->used;
        char *text = o->buf + tused;
        col[0] = val[0] = text[0] = '\0';
        double points = 0;
        int has_col = 0, has_points = 0, has_val = 0;
        if (!jp_lit(j, '{')) {
            j->bad = 1;
            return;
        }
        if (!jp_lit(j, '}'))
            do {
                char key[16];
                jp_str(j, key, sizeof key);
                if (j->bad || !jp_lit(j, ':')) {
                    j->bad = 1;
                    return;
                }
                jp_ws(j);
                if (strcmp(key, "column") == 0 && *j->p == '"')
                    jp_str(j, col, NARRATE_FIELD_MAX + 1), has_col = 1;
                else if (strcmp(key, "value") == 0 && *j->p == '"')
                    jp_str(j, val, NARRATE_FIELD_MAX + 1), has_val = 1;
                else if (strcmp(key, "text") == 0 && *j->p == '"')
                    jp_str(j, text, NARRATE_FIELD_MAX + 1);
                else if (strcmp(key, "points") == 0 &&
                         (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
                    jp_number(j, &points), has_points = 1;
                else
                    jp_skip(j, 1);
            } while (!j->bad && jp_lit(j, ','));
        if (j->bad || !jp_lit(j, '}')) {
            j->bad = 1;
            return;
        }
        o->used = tused + NARRATE_FIELD_MAX + 1;
        if (!has_col || !has_points) { /* not a reason: its room back */
            o->used = (size_t)(col - o->buf);
            continue;
        }
        struct narrate_reason *r = pos ? &o->pos[*n] : &o->neg[*n];
        *r = (struct narrate_reason){col, has_val ? val : "missing", points};
        (pos ? o->pos_text : o->neg_text)[*n] = text;
        (*n)++;
    } while (!j->bad && jp_lit(j, ','));
    if (!j->bad && !jp_lit(j, ']'))
        j->bad = 1;
}

int narrate_parse(const char *json, struct narrate_parsed *o)
{
    o->npos = o->nneg = 0;
    o->used = 0;
    if (!json)
        return -1;
    struct jp j = {json, 0};
    if (!jp_lit(&j, '{'))
        goto bad;
    if (!jp_lit(&j, '}'))
        do {
            char key[16];
            jp_str(&j, key, sizeof key);
            if (j.bad || !jp_lit(&j, ':'))
                goto bad;
            if (strcmp(key, "for") == 0)
                jp_side(&j, o, 1);
            else if (strcmp(key, "against") == 0)
                jp_side(&j, o, 0);
            else
                jp_skip(&j, 1);
        } while (!j.bad && jp_lit(&j, ','));
    if (j.bad || !jp_lit(&j, '}'))
        goto bad;
    return 0;
bad:
    o->npos = o->nneg = 0;
    return -1;
}
