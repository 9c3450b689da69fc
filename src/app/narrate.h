/*
 * narrate.h — a lead's score told in words: one sentence from its reasons,
 * and the next thing a sales rep should do about it.
 *
 * The old system's client shows, per lead, an `explanation` and a
 * `next_action` (SEED.md, "Compatible routes"). Its explanations were fixed
 * templates; ours are built from the lead's own exact contributions
 * (app/explain.h): the reasons with the most points, in the lead's own
 * values. Both functions are deterministic (the same reasons give the same
 * words) and never allocate; text is cut at a UTF-8 character boundary when
 * it does not fit.
 */
#ifndef LS_APP_NARRATE_H
#define LS_APP_NARRATE_H

#include <jansson.h>
#include <stddef.h>

#define NARRATE_ACTION_WORDS 12  /* words of a next action at most */
#define NARRATE_TEXT_MAX     768 /* a buffer that always holds a whole sentence */

/* One reason: a model column, the lead's value as shown (explain_value), its
 * points (positive: raises the score). */
struct narrate_reason {
    const char *column;
    const char *value;
    double points;
};

/*
 * One sentence for a lead scored `score` (0..100) whose reasons for (pos,
 * largest first, points > 0) and against (neg, largest |points| first,
 * points < 0) are given. The side with more points in total leads the
 * sentence, at most two of its reasons; one reason of the other side
 * follows:
 *   "Scored 87% mainly because Lead Origin is Lead Add Form (+21.3 pts) and
 *    Total Time Spent on Website is 1532 (+12.0 pts); Last Activity is Email
 *    Bounced pulls it down (−4.1 pts)."
 *   "Scored 4%, held down mainly by Lead Origin = API (−8.2 pts); Total Time
 *    Spent on Website = 310 helps (+2.0 pts)."
 * A missing value reads "a missing Country".
 * Without reasons: "Scored 45%; no single value moves it far from the average
 * lead." Writes into out (cap bytes, NUL-terminated); returns out.
 */
const char *narrate_sentence(double score, const struct narrate_reason *pos, size_t npos,
                             const struct narrate_reason *neg, size_t nneg, char *out, size_t cap);

/*
 * A short next action (at most NARRATE_ACTION_WORDS words) from the lead's
 * tier (enum tier: 0 Low, 1 Medium, 2 High) and its top reason for (top_for,
 * may be NULL) and against (top_against, may be NULL): a High lead is called
 * today, a Medium one gets a nurture email, a Low one automated nurture; the
 * reason's column and value give the why ("Call today: they spent a long
 * time on the site"). Writes into out; returns out.
 */
const char *narrate_next_action(int tier, const struct narrate_reason *top_for,
                                const struct narrate_reason *top_against, char *out, size_t cap);

/*
 * The next action of a lead whose outcome the file already gives (label 1
 * converted, 0 not converted): not a first call as if it were new —
 * "Already converted: hand over to onboarding". NULL (out untouched) for an
 * unknown outcome (label -1), when the tier's action applies.
 */
const char *narrate_outcome_action(int label, char *out, size_t cap);

/*
 * The same two from a stored reasons object ({"for": [{column, value,
 * points, ...}], "against": [...]}, explain_lead_json's; NULL or malformed:
 * no reasons). narrate_json_sentence and narrate_json_action write into out.
 */
const char *narrate_json_sentence(double score, const json_t *reasons, char *out, size_t cap);
const char *narrate_json_action(int tier, const json_t *reasons, char *out, size_t cap);

/*
 * A stored reasons text (explain_lead_json's "reasons" as compact JSON) read
 * without building JSON objects — a run's whole results read one per lead,
 * and jansson's json_loads spent most of that time allocating. Each string
 * is decoded (escapes, \uXXXX) into the struct's own buffer, cut at a
 * character boundary past NARRATE_FIELD_MAX bytes; at most 3 reasons a
 * side are kept, other keys are skipped. Returns 0, or -1 for text that is
 * not such an object (then no reasons).
 */
#define NARRATE_FIELD_MAX 600

struct narrate_parsed {
    struct narrate_reason pos[3], neg[3];
    const char *pos_text[3], *neg_text[3]; /* each reason's "text", "" when absent */
    size_t npos, nneg;
    char buf[6 * 3 * (NARRATE_FIELD_MAX + 1)];
    size_t used;
};

int narrate_parse(const char *json, struct narrate_parsed *out);

#endif
