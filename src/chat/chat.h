/*
 * chat.h — questions about a run answered from facts LeadScore computed
 * itself; and the insight (why + next action) of a top lead.
 *
 * A scored run becomes facts (chat_facts_build, once, when the run is
 * stored): model quality; each tier; each column's conversion rate, lead
 * count and mean contribution per value (numeric columns by bins); drift;
 * the leakage flags; global importance. Facts are JSON, bounded in size
 * whatever the number of leads (CHAT_FACTS_MAX bytes), so the store keeps
 * them beside the run. Leads themselves are not copied into the facts: the
 * chat reaches them through struct chat_leads (the store's leads for the
 * service, the run in memory for the CLI).
 *
 * chat_index_new turns facts into cards (one fact each: a title, a text in
 * words with its numbers, and the numbers as JSON) and a BM25 index over
 * them. chat_plan reads a question: its intent (why / compare / top /
 * bottom / count / drift / quality / rate / importance / general), the
 * columns and category values it names, matched fuzzily ("referrals" →
 * Lead Source = Reference and Referral Sites; "time on site" → Total Time
 * Spent on Website), and the leads it names ("lead 660737", "#101", "row
 * 5"); retrieves the cards (intent and named things first, then BM25); and
 * writes both the built-in narrator's answer from those cards (plain
 * sentences carrying the numbers) and the prompt a language model gets:
 * instructions of our own, then the cards and the question as quoted data
 * (CSV content and the question can never become instructions).
 *
 * Pure computation: no network, no store; every function is safe to call
 * from many threads (an index is immutable once built).
 */
#ifndef LS_CHAT_CHAT_H
#define LS_CHAT_CHAT_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CHAT_FACTS_MAX    (4u << 20) /* bytes of a run's facts as JSON text */
#define CHAT_QUESTION_MAX 2000       /* bytes of a question */
#define CHAT_CARDS_USED   8          /* cards given to an answer at most */
#define CHAT_HISTORY_MAX  6          /* earlier messages sent back as context */
#define INSIGHT_WHY_WORDS 25
#define INSIGHT_ACTION_WORDS 12

struct model;
struct run_result;

struct chat_run_input {
    const struct model *m;
    const struct run_result *res; /* scored; explained or not (app/run.h) */
    const json_t *summary;        /* explain_summary_json / _sample: importance, categories */
    const json_t *answer;         /* the run's answer: summary (total, tiers, labelled,
                                     conversion_rate, expected_conversions), metrics, drift */
    const json_t *excluded;       /* the model's left-out leaky columns [{column, reason,
                                     level, auc}], or NULL */
    const char *filename;         /* the data set's name, or NULL */
};

/* The run's facts (a new object), or NULL when out of memory. */
json_t *chat_facts_build(const struct chat_run_input *in);

/*
 * A lead as JSON, as service_lead answers it: {row, id, score, tier
 * ("High"...), rank, label (1, 0, null), reasons: {for: [{column, value,
 * points}], against: [...]}, fields: {column: cell}} (fields and reasons
 * may be absent). Each function gives a new reference, or LS_ENOT_FOUND.
 */
struct chat_leads {
    int (*by_id)(void *ctx, const char *id, json_t **lead);
    int (*by_row)(void *ctx, uint64_t row, json_t **lead);
    /* best (desc 1) or worst n leads, of tier (-1: any; enum tier) as an array */
    int (*ranked)(void *ctx, int desc, int tier, size_t n, json_t **leads);
    void *ctx;
};

struct chat_index;

int chat_index_new(const json_t *facts, struct chat_index **out, struct ls_error *err);
void chat_index_free(struct chat_index *ix); /* accepts NULL */

struct chat_plan {
    char intent[16];
    json_t *facts;  /* the cards used, [{id, kind, title, text, numbers}] best first */
    char *answer;   /* the built-in narrator's answer (always set) */
    char *system;   /* instructions for a language model (ours only) */
    char *prompt;   /* the last user message: the cards and the question, quoted */
};

/*
 * Plan the answer to question (≤ CHAT_QUESTION_MAX bytes, else LS_ELIMIT;
 * empty: LS_EINPUT) given the conversation so far (history: [{role:
 * "user"|"assistant", text}], oldest first, or NULL; the last
 * CHAT_HISTORY_MAX are read, so "and for Google?" follows "conversion rate
 * of Olark Chat?"). leads may be NULL (no lead questions). Free with
 * chat_plan_cleanup.
 */
int chat_plan(const struct chat_index *ix, const struct chat_leads *leads, const char *question,
              const json_t *history, struct chat_plan *out, struct ls_error *err);
void chat_plan_cleanup(struct chat_plan *p);

/* ---- insights ----------------------------------------------------------- */

struct insight_prompt {
    char *system;   /* instructions: strict JSON {"why": ..., "next_action": ...} */
    char *prompt;   /* the lead's score, tier, top factors and values, quoted */
    char *fallback; /* the narrator's answer as that JSON (≤ the word limits) */
};

/* From one lead (chat_leads' JSON) and the run's facts (may be NULL). */
int insight_prompt_build(const json_t *lead, const json_t *facts, struct insight_prompt *out,
                         struct ls_error *err);
void insight_prompt_cleanup(struct insight_prompt *p);

/*
 * Read a model's reply as an insight: one JSON object (a ```json fence
 * around it is allowed) with "why" (one sentence, 1..INSIGHT_WHY_WORDS
 * words) and "next_action" (1..INSIGHT_ACTION_WORDS words), plain text
 * (no markup, no control characters). 0 with the two copied into why /
 * action (cap bytes each), or LS_EINPUT saying what is wrong.
 */
int insight_parse(const char *reply, size_t len, char *why, size_t why_cap, char *action,
                  size_t action_cap, struct ls_error *err);

#endif
