/*
 * target.c — target detection (see target.h for the rules).
 */
#include "data/target.h"

#include "core/buf.h"
#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Lowercase ASCII letters and digits only: "Is_Won?" -> "iswon". */
static void normalize(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            out[n++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
    }
    out[n] = '\0';
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/*
 * How strongly a column name says "outcome": 0 (not at all) .. 1. CRM exports
 * say Converted or Status; web-shop sessions, trial sign-ups, subscription
 * campaigns and deal exports say what the lead did: Revenue (the UCI online
 * shoppers file), Purchased, Ordered, Subscribed (bank marketing's y),
 * Signed Up, Upgraded, Deal Won, Churn.
 */
static double name_score(const char *name, char *why, size_t cap)
{
    static const char *const strong[] = {"converted", "conversion",   "isconverted", "target",
                                         "label",     "outcome",      "won",         "iswon",
                                         "purchased", "subscribed",   "y",           "class",
                                         "converts",  "hasconverted", NULL};
    /* what the lead did, in files from outside a CRM; a shade below the
     * names above, so that Converted beats Paid when a file has both */
    static const char *const did[] = {
        "dealwon",   "closedwon", "win",        "purchase", "ispurchased", "haspurchased",
        "bought",    "ordered",   "hasordered", "sold",     "revenue",     "issubscribed",
        "subscribe", "signedup",  "signup",     "enrolled", "registered",  "activated",
        "paid",      "ispaid",    "upgraded",   "churn",    "churned",     "ischurned",
        "exited",    "deposit",   "responded",  "response", "accepted",    NULL};
    static const char *const medium[] = {
        "status",   "stage",     "leadstatus", "dealstage",        "closed", "result",
        "isclosed", "leadstage", "dealstatus", "opportunitystage", NULL};
    static const char *const stems[] = {"convert",  "purchas", "subscrib",  "churn",
                                        "signedup", "dealwon", "closedwon", NULL};
    char n[256];
    normalize(name, n, sizeof n);
    if (!n[0])
        return 0;
    for (size_t i = 0; strong[i]; i++)
        if (strcmp(n, strong[i]) == 0) {
            snprintf(why, cap, "its name matches '%s'", strong[i]);
            return 1.0;
        }
    for (size_t i = 0; did[i]; i++)
        if (strcmp(n, did[i]) == 0) {
            snprintf(why, cap, "its name matches '%s'", did[i]);
            return 0.95;
        }
    for (size_t i = 0; stems[i]; i++)
        if (strstr(n, stems[i])) {
            snprintf(why, cap, "its name contains '%s'", stems[i]);
            return 0.9;
        }
    for (size_t i = 0; medium[i]; i++)
        if (strcmp(n, medium[i]) == 0) {
            snprintf(why, cap, "its name matches '%s'", medium[i]);
            return 0.75;
        }
    if (strlen(n) >= 6) {
        static const char *const near[] = {"converted", "conversion", "outcome", "purchased", NULL};
        for (size_t i = 0; near[i]; i++)
            if (edit_distance(n, near[i]) <= 2) {
                snprintf(why, cap, "its name is close to '%s'", near[i]);
                return 0.7;
            }
    }
    return 0;
}

/*
 * Does the name read like an attribute of the visit or the lead (Weekend,
 * Mobile, Newsletter, Returning Visitor, Is Mobile, Do Not Email)? A
 * true/false column named so says what the lead is, not what it did, and is
 * never taken as the outcome — not by name, not as the last column.
 */
static int name_is_attribute(const char *name)
{
    static const char *const words[] = {
        "weekend",          "weekday",       "holiday",    "specialday", "mobile",
        "desktop",          "tablet",        "newsletter", "returning",  "newvisitor",
        "returningvisitor", "optin",         "optout",     "donotemail", "donotcall",
        "donottrack",       "email",         "sms",        "gender",     "male",
        "female",           "married",       "student",    "senior",     "seniorcitizen",
        "partner",          "dependents",    "hascard",    "creditcard", "loggedin",
        "member",           "international", "active",     NULL};
    /* ("active" is a state, and ambiguous: still active may be the outcome
     * of a churn file or a property of the lead; never taken silently) */
    /* words that make an attribute wherever they sit in the name
     * ("Subscribed to Newsletter", "Weekend Visit") */
    static const char *const parts[] = {"weekend",    "weekday",    "holiday",   "mobile",
                                        "newsletter", "donotemail", "donotcall", NULL};
    char n[256];
    normalize(name, n, sizeof n);
    const char *core = n;
    if (strncmp(core, "is", 2) == 0 && strlen(core) > 4)
        core += 2; /* "Is Mobile" */
    else if (strncmp(core, "has", 3) == 0 && strlen(core) > 5)
        core += 3; /* "Has Newsletter" */
    for (size_t i = 0; words[i]; i++)
        if (strcmp(core, words[i]) == 0)
            return 1;
    for (size_t i = 0; parts[i]; i++)
        if (strstr(core, parts[i]))
            return 1;
    return 0;
}

/* 1 for a value that means a won / converted outcome, 0 for lost, -2 for an
 * outcome not known yet (open, pending...), -1 for anything else. */
static int outcome_word(const char *label)
{
    static const char *const open[] = {"open",    "new",       "pending",   "inprogress",
                                       "working", "contacted", "nurturing", "active",
                                       "ongoing", "undecided", "unknown",   NULL};
    static const char *const pos[] = {
        "1",          "yes",       "y",       "true",    "t",          "won",      "win",
        "closedwon",  "converted", "convert", "success", "successful", "positive", "purchased",
        "subscribed", "customer",  "paid",    "signed",  "sold",       NULL};
    static const char *const neg[] = {
        "0",        "no",           "n",           "false",        "f",
        "lost",     "loss",         "closedlost",  "notconverted", "unconverted",
        "failed",   "fail",         "negative",    "rejected",     "churned",
        "declined", "disqualified", "unqualified", "dead",         "notinterested",
        NULL};
    char n[TARGET_LABEL_MAX];
    normalize(label, n, sizeof n);
    for (size_t i = 0; pos[i]; i++)
        if (strcmp(n, pos[i]) == 0)
            return 1;
    for (size_t i = 0; neg[i]; i++)
        if (strcmp(n, neg[i]) == 0)
            return 0;
    for (size_t i = 0; open[i]; i++)
        if (strcmp(n, open[i]) == 0)
            return -2;
    return -1;
}

void target_cleanup(struct target *t)
{
    if (t) {
        free(t->cat_class);
        t->cat_class = NULL;
        for (size_t i = 0; i < t->npos_labels; i++)
            free(t->pos_labels[i]);
        for (size_t i = 0; i < t->nneg_labels; i++)
            free(t->neg_labels[i]);
        free(t->pos_labels);
        free(t->neg_labels);
        t->pos_labels = t->neg_labels = NULL;
        t->npos_labels = t->nneg_labels = 0;
    }
}

int target_label(const struct frame *f, const struct target *t, uint64_t r)
{
    const struct column *c = &f->cols[t->col];
    switch (t->kind) {
    case TARGET_BOOLEAN:
        return isnan(c->num[r]) ? -1 : (c->num[r] == 1.0) != (t->invert != 0);
    case TARGET_NUMERIC:
        return isnan(c->num[r]) ? -1 : c->num[r] == t->pos_value;
    case TARGET_CATEGORICAL:
        return c->cat[r] == FRAME_NA ? -1 : t->cat_class[c->cat[r]];
    }
    return -1;
}

/* The number of classes a column offers a target (0 when it cannot be one). */
static int column_classes(const struct column *c)
{
    switch (c->type) {
    case COL_BOOLEAN:
        return 2;
    case COL_NUMERIC:
        return c->prof.distinct == 2 ? 2 : 0;
    case COL_CATEGORICAL:
        return c->ncat >= 2 ? (int)(c->ncat > 50 ? 0 : c->ncat) : 0;
    case COL_CONSTANT:
        return c->prof.distinct == 1 ? 1 : 0;
    default:
        return 0;
    }
}

/*
 * Read column c as a target. Returns a value score in 0..1 (0: not usable),
 * fills the class fields of t and a phrase for the reason.
 */
static double analyse_values(const struct frame *f, long ci, struct target *t, char *why,
                             size_t cap, int explicit_choice)
{
    const struct column *c = &f->cols[ci];
    t->col = ci;
    snprintf(t->name, sizeof t->name, "%s", c->name);
    free(t->cat_class);
    t->cat_class = NULL;
    if (c->type == COL_BOOLEAN) {
        t->kind = TARGET_BOOLEAN;
        snprintf(t->positive, sizeof t->positive, "%s", c->true_label);
        snprintf(t->negative, sizeof t->negative, "%s", c->false_label);
        snprintf(why, cap, "two classes %s/%s", c->false_label, c->true_label);
        return 1.0;
    }
    if (c->type == COL_NUMERIC && c->prof.distinct == 2) {
        t->kind = TARGET_NUMERIC;
        t->pos_value = c->prof.max;
        snprintf(t->positive, sizeof t->positive, "%.15g", c->prof.max);
        snprintf(t->negative, sizeof t->negative, "%.15g", c->prof.min);
        snprintf(why, cap, "two numeric classes %s/%s, the larger taken as positive", t->negative,
                 t->positive);
        return 0.8;
    }
    if (c->type != COL_CATEGORICAL || c->ncat < 2 || c->ncat > 50)
        return 0;
    t->kind = TARGET_CATEGORICAL;
    t->cat_class = xmalloc(c->ncat);
    int npos = 0, nneg = 0, nopen = 0;
    for (uint32_t k = 0; k < c->ncat; k++) {
        int w = outcome_word(c->cats[k]);
        nopen += w == -2;
        t->cat_class[k] = (int8_t)(w == -2 ? -1 : w);
        npos += t->cat_class[k] == 1;
        nneg += t->cat_class[k] == 0;
    }
    struct buf pb, nb;
    buf_init(&pb, sizeof t->positive - 1);
    buf_init(&nb, sizeof t->negative - 1);
    double score;
    if (npos >= 1 && nneg >= 1) {
        score = c->ncat == 2 ? 1.0 : 0.85;
        snprintf(why, cap,
                 c->ncat == 2 ? "two classes"
                              : "values that map to won / lost (others "
                                "are outcomes not known yet)");
    } else if ((npos >= 1) != (nneg >= 1) && nopen >= 1) {
        /* e.g. Won and Open: a status, but with one known outcome only; the
         * one-class check after this names the problem */
        score = 0.85;
        snprintf(why, cap, "values that map to won / lost (others are outcomes not known yet)");
    } else if (c->ncat == 2 && nopen == 0) {
        /* two unrecognised values: the one that is not "negative" (or the rarer) is positive */
        int p = npos == 1   ? (t->cat_class[0] == 1 ? 0 : 1)
                : nneg == 1 ? (t->cat_class[0] == 0 ? 1 : 0)
                            : 1; /* categories are sorted by frequency: [1] is the rarer */
        t->cat_class[p] = 1;
        t->cat_class[1 - p] = 0;
        score = (npos + nneg) ? 0.9 : (explicit_choice ? 0.6 : 0.5);
        snprintf(why, cap,
                 npos + nneg ? "two classes"
                             : "two classes, the rarer taken as "
                               "positive");
    } else {
        buf_cleanup(&pb);
        buf_cleanup(&nb);
        return 0;
    }
    for (uint32_t k = 0; k < c->ncat; k++) {
        struct buf *b = t->cat_class[k] == 1 ? &pb : t->cat_class[k] == 0 ? &nb : NULL;
        if (!b)
            continue;
        if (b->len)
            buf_puts(b, " | ");
        buf_puts(b, c->cats[k]);
    }
    snprintf(t->positive, sizeof t->positive, "%s", buf_str(&pb));
    snprintf(t->negative, sizeof t->negative, "%s", buf_str(&nb));
    buf_cleanup(&pb);
    buf_cleanup(&nb);
    return score;
}

static void count_outcomes(const struct frame *f, struct target *t)
{
    t->n_pos = t->n_neg = t->n_unknown = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        int y = target_label(f, t, r);
        if (y == 1)
            t->n_pos++;
        else if (y == 0)
            t->n_neg++;
        else
            t->n_unknown++;
    }
}

static int one_class_error(const struct frame *f, long ci, struct ls_error *err)
{
    const struct column *c = &f->cols[ci];
    const char *v = c->ncat ? c->cats[0] : c->dict.n ? "" : "(none)";
    for (uint32_t i = 0; i < c->dict.n && !c->ncat; i++)
        if (!c->entry_na[i]) {
            v = dict_str(&c->dict, i);
            break;
        }
    return ls_error_set(err, LS_EONE_CLASS,
                        "target '%s' has only one class ('%s') among the %llu "
                        "rows with an outcome; a model needs examples of both outcomes",
                        c->name, v, (unsigned long long)(f->nrows - c->prof.missing));
}

/* Keep every label of each class, uncut (target.h: pos_labels). */
static void keep_labels(const struct frame *f, struct target *t)
{
    const struct column *c = &f->cols[t->col];
    size_t cap = t->kind == TARGET_CATEGORICAL ? c->ncat : 1;
    t->pos_labels = xcalloc(cap ? cap : 1, sizeof *t->pos_labels);
    t->neg_labels = xcalloc(cap ? cap : 1, sizeof *t->neg_labels);
    if (t->kind != TARGET_CATEGORICAL) { /* one short label each: a boolean word or a number */
        t->pos_labels[t->npos_labels++] = xstrdup(t->positive);
        t->neg_labels[t->nneg_labels++] = xstrdup(t->negative);
        return;
    }
    for (uint32_t k = 0; k < c->ncat; k++) {
        if (t->cat_class[k] == 1)
            t->pos_labels[t->npos_labels++] = xstrdup(c->cats[k]);
        else if (t->cat_class[k] == 0)
            t->neg_labels[t->nneg_labels++] = xstrdup(c->cats[k]);
    }
}

static int finish(const struct frame *f, struct target *t, struct ls_error *err)
{
    keep_labels(f, t);
    count_outcomes(f, t);
    if (t->n_pos == 0 || t->n_neg == 0) {
        int rc =
            ls_error_set(err, LS_EONE_CLASS,
                         "target '%s' has only one class among the %llu "
                         "rows with an outcome (%llu positive '%s', %llu negative); a model "
                         "needs examples of both",
                         t->name, (unsigned long long)(t->n_pos + t->n_neg),
                         (unsigned long long)t->n_pos, t->positive, (unsigned long long)t->n_neg);
        target_cleanup(t);
        return rc;
    }
    return LS_OK;
}

int target_find(const struct frame *f, const char *name, struct target *t, struct ls_error *err)
{
    memset(t, 0, sizeof *t);
    t->col = -1;
    char why[256] = "";
    if (name) {
        long ci = frame_find(f, name);
        if (ci < 0) {
            struct buf b;
            buf_init(&b, 400);
            for (size_t i = 0; i < f->ncols && b.len < 300; i++)
                buf_printf(&b, "%s'%s'", i ? ", " : "", f->cols[i].name);
            int rc = ls_error_set(err, LS_ENOT_FOUND, "no column named '%s'; the columns are %s%s",
                                  name, buf_str(&b), b.len >= 300 ? ", ..." : "");
            buf_cleanup(&b);
            return rc;
        }
        const struct column *c = &f->cols[ci];
        if (column_classes(c) == 1)
            return one_class_error(f, ci, err);
        double vs = analyse_values(f, ci, t, why, sizeof why, 1);
        if (vs <= 0) {
            target_cleanup(t);
            return ls_error_set(err, LS_EINPUT,
                                "column '%s' (%s, %llu distinct values) cannot be "
                                "a target: a target needs two classes, such as 0/1, Yes/No or "
                                "Won/Lost",
                                c->name, col_type_name(c->type),
                                (unsigned long long)c->prof.distinct);
        }
        t->confidence = 1.0;
        snprintf(t->reason, sizeof t->reason, "given with --target; %s", why);
        return finish(f, t, err);
    }

    long best = -1;
    double best_score = 0;
    char best_reason[512] = "";
    struct target cand;
    memset(&cand, 0, sizeof cand);
    int strong_name = 0; /* a column named like an outcome, usable or not */
    for (size_t i = 0; i < f->ncols; i++) {
        const struct column *c = &f->cols[i];
        char nwhy[128];
        double ns = name_score(c->name, nwhy, sizeof nwhy);
        if (ns <= 0)
            continue;
        int classes = column_classes(c);
        if (ns >= 0.9)
            strong_name = 1;
        if (classes == 2 && name_is_attribute(c->name))
            continue;
        if (classes == 1 && ns >= 0.9) {
            target_cleanup(&cand);
            return one_class_error(f, (long)i, err);
        }
        if (classes < 2)
            continue;
        double vs = analyse_values(f, (long)i, &cand, why, sizeof why, 0);
        double score = ns * vs;
        if (score > best_score) {
            best_score = score;
            best = (long)i;
            snprintf(best_reason, sizeof best_reason, "%s and it has %s", nwhy, why);
        }
    }
    target_cleanup(&cand);
    if (best >= 0 && best_score >= 0.5) {
        analyse_values(f, best, t, why, sizeof why, 0);
        t->confidence = best_score > 0.99 ? 0.99 : best_score;
        snprintf(t->reason, sizeof t->reason, "%s", best_reason);
        return finish(f, t, err);
    }

    /* Nothing reads like an outcome. Exports usually keep the outcome last:
     * a last column with two classes is taken, with a lower confidence and a
     * reason that says so; unless a column is named like an outcome but
     * cannot be one (then something is off: ask), or the last column is an
     * attribute of the visit. */
    long last = (long)f->ncols - 1;
    if (!strong_name && last >= 0 && column_classes(&f->cols[last]) == 2 &&
        !name_is_attribute(f->cols[last].name)) {
        double vs = analyse_values(f, last, t, why, sizeof why, 0);
        if (vs > 0) {
            t->confidence = TARGET_LAST_COLUMN_CONFIDENCE * vs;
            snprintf(t->reason, sizeof t->reason,
                     "no column is named like an outcome; the last column (where exports "
                     "usually keep it) has %s. Check it, or pass --target NAME",
                     why);
            return finish(f, t, err);
        }
        target_cleanup(t);
        memset(t, 0, sizeof *t);
        t->col = -1;
    }

    /* Nothing reads like an outcome: list the two-class columns instead. */
    struct buf b;
    buf_init(&b, 360);
    size_t nc = 0;
    for (size_t i = 0; i < f->ncols; i++) {
        if (column_classes(&f->cols[i]) != 2)
            continue;
        if (buf_printf(&b, "%s'%s'", nc ? ", " : "", f->cols[i].name))
            break;
        nc++;
    }
    int rc;
    if (nc)
        rc = ls_error_set(err, LS_ENO_TARGET,
                          "no column reads like an outcome (such as "
                          "'Converted'); two-class columns that could be one: %s; pass "
                          "--target NAME",
                          buf_str(&b));
    else
        rc = ls_error_set(err, LS_ENO_TARGET,
                          "no column can be the target: none has two classes "
                          "(an outcome such as Converted = 0/1, Yes/No or Won/Lost); pass "
                          "--target NAME");
    buf_cleanup(&b);
    return rc;
}

/* The class label names in t: 1 positive, 0 negative, -1 neither. Pass 0
 * compares exactly, pass 1 without case, so "Yes" beside "yes" is exact. */
static int label_class(const struct target *t, const char *label)
{
    for (int pass = 0; pass < 2; pass++) {
        int (*eq)(const char *, const char *) = pass ? strcasecmp : strcmp;
        if (eq(label, t->positive) == 0)
            return 1;
        if (eq(label, t->negative) == 0)
            return 0;
        for (size_t i = 0; i < t->npos_labels; i++)
            if (eq(label, t->pos_labels[i]) == 0)
                return 1;
        for (size_t i = 0; i < t->nneg_labels; i++)
            if (eq(label, t->neg_labels[i]) == 0)
                return 0;
    }
    return -1;
}

int target_choose_positive(const struct frame *f, struct target *t, const char *label,
                           struct ls_error *err)
{
    if (!label || !label[0])
        return LS_OK;
    int cls = label_class(t, label);
    if (cls < 0) {
        struct buf b;
        buf_init(&b, 400);
        size_t n = t->npos_labels + t->nneg_labels;
        for (size_t i = 0; i < n && b.len < 300; i++)
            buf_printf(&b, "%s'%s'", i ? ", " : "",
                       i < t->npos_labels ? t->pos_labels[i] : t->neg_labels[i - t->npos_labels]);
        int rc = ls_error_set(err, LS_EINPUT,
                              "positive '%.100s' is not a class of the target '%.100s'; it must "
                              "be one of %s%s",
                              label, t->name, buf_str(&b), b.len >= 300 ? ", ..." : "");
        buf_cleanup(&b);
        return rc;
    }
    if (cls == 1)
        return LS_OK;
    const struct column *c = &f->cols[t->col];
    switch (t->kind) {
    case TARGET_BOOLEAN:
        t->invert = !t->invert;
        break;
    case TARGET_NUMERIC:
        t->pos_value = t->pos_value == c->prof.max ? c->prof.min : c->prof.max;
        break;
    case TARGET_CATEGORICAL:
        for (uint32_t k = 0; k < c->ncat; k++)
            if (t->cat_class[k] >= 0)
                t->cat_class[k] = (int8_t)(1 - t->cat_class[k]);
        break;
    }
    char tmp[TARGET_LABEL_MAX];
    memcpy(tmp, t->positive, sizeof tmp);
    memcpy(t->positive, t->negative, sizeof tmp);
    memcpy(t->negative, tmp, sizeof tmp);
    char **lv = t->pos_labels;
    t->pos_labels = t->neg_labels;
    t->neg_labels = lv;
    size_t ln = t->npos_labels;
    t->npos_labels = t->nneg_labels;
    t->nneg_labels = ln;
    uint64_t cn = t->n_pos;
    t->n_pos = t->n_neg;
    t->n_neg = cn;
    size_t used = strlen(t->reason);
    if (used + 1 < sizeof t->reason)
        snprintf(t->reason + used, sizeof t->reason - used, "; positive class '%s' chosen",
                 t->positive);
    return LS_OK;
}
