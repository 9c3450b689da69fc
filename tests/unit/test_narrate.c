/*
 * test_narrate.c — a lead's sentence and next action (app/narrate.h): the
 * exact words for the common shapes (reasons for, against, none, missing
 * values), which side leads, determinism, the word limit of every action,
 * cuts that keep UTF-8 whole, and the same from a stored reasons object.
 */
#include "testutil.h"

#include "app/narrate.h"

#include <stdio.h>
#include <string.h>

#define ASSERT_STR(got, want)                                                                      \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (strcmp(g_, w_) != 0)                                                                   \
            fail_msg("got  \"%s\"\nwant \"%s\"", g_, w_);                                          \
    } while (0)

static size_t count_words(const char *s)
{
    size_t n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == '\t' || *s == '\n';
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

static void test_sentence_for_and_against(void **state)
{
    (void)state;
    struct narrate_reason pos[] = {{"Lead Origin", "Lead Add Form", 21.34},
                                   {"Total Time Spent on Website", "1532", 12.0},
                                   {"Country", "India", 0.6}};
    struct narrate_reason neg[] = {{"Last Activity", "Email Bounced", -4.1}};
    char out[NARRATE_TEXT_MAX];
    ASSERT_STR(narrate_sentence(87.2, pos, 3, neg, 1, out, sizeof out),
               "Scored 87% mainly because Lead Origin is Lead Add Form (+21.3 pts) and Total "
               "Time Spent on Website is 1532 (+12.0 pts); Last Activity = Email Bounced pulls "
               "it down (\u22124.1 pts).");
    /* one reason, nothing against */
    ASSERT_STR(narrate_sentence(55, pos + 1, 1, NULL, 0, out, sizeof out),
               "Scored 55% mainly because Total Time Spent on Website is 1532 (+12.0 pts).");
}

static void test_sentence_negative_leads(void **state)
{
    (void)state;
    struct narrate_reason pos[] = {{"Total Time Spent on Website", "310", 2.0}};
    struct narrate_reason neg[] = {{"Lead Origin", "API", -8.24}, {"Country", "missing", -3.0}};
    char out[NARRATE_TEXT_MAX];
    ASSERT_STR(narrate_sentence(4.4, pos, 1, neg, 2, out, sizeof out),
               "Scored 4%, held down mainly by Lead Origin = API (\u22128.2 pts) and a missing "
               "Country (\u22123.0 pts); Total Time Spent on Website = 310 helps (+2.0 pts).");
    /* only reasons against */
    ASSERT_STR(narrate_sentence(0.2, NULL, 0, neg, 1, out, sizeof out),
               "Scored under 1%, held down mainly by Lead Origin = API (\u22128.2 pts).");
    /* a missing value among the reasons for */
    struct narrate_reason mp[] = {{"Country", "missing", 5.0}};
    ASSERT_STR(narrate_sentence(60, mp, 1, NULL, 0, out, sizeof out),
               "Scored 60% mainly because Country is missing (+5.0 pts).");
}

static void test_sentence_no_reasons(void **state)
{
    (void)state;
    char out[NARRATE_TEXT_MAX];
    ASSERT_STR(narrate_sentence(45.4, NULL, 0, NULL, 0, out, sizeof out),
               "Scored 45%; no single value moves it far from the average lead.");
}

/* A small buffer cuts the sentence at a character boundary (the minus sign
 * is three bytes), always NUL-terminated. */
static void test_sentence_cut(void **state)
{
    (void)state;
    struct narrate_reason neg[] = {{"A", "b", -4.0}};
    char full[NARRATE_TEXT_MAX];
    narrate_sentence(10, NULL, 0, neg, 1, full, sizeof full);
    const char *minus = strstr(full, "\u2212");
    assert_non_null(minus);
    size_t at = (size_t)(minus - full);
    for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
        char out[NARRATE_TEXT_MAX];
        memset(out, 'x', sizeof out);
        narrate_sentence(10, NULL, 0, neg, 1, out, cap);
        size_t len = strlen(out);
        assert_true(len < cap);
        assert_true(tu_utf8_valid(out, len));
        assert_memory_equal(out, full, len);
        if (cap > at + 1 && cap <= at + 3) /* inside the minus: cut before it */
            assert_int_equal(len, at);
    }
    /* a huge value cannot overflow */
    char big[2000];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct narrate_reason p[] = {{"Col", big, 1.0}};
    char out[NARRATE_TEXT_MAX];
    narrate_sentence(50, p, 1, NULL, 0, out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
}

static void test_actions(void **state)
{
    (void)state;
    char out[256];
    struct narrate_reason time = {"Total Time Spent on Website", "1532", 12.0};
    ASSERT_STR(narrate_next_action(2, &time, NULL, out, sizeof out),
               "Call today: they spent a long time on the site");
    struct narrate_reason origin = {"Lead Origin", "Lead Add Form", 21.3};
    ASSERT_STR(narrate_next_action(1, &origin, NULL, out, sizeof out),
               "Send a nurture email this week: they came through Lead Add Form");
    struct narrate_reason little = {"Total Time Spent on Website", "0", -9.0};
    ASSERT_STR(narrate_next_action(0, NULL, &little, out, sizeof out),
               "Automated nurture only: they spent little time on the site");
    ASSERT_STR(narrate_next_action(0, NULL, NULL, out, sizeof out),
               "Add to automated nurture; no call needed now");
    ASSERT_STR(narrate_next_action(2, NULL, NULL, out, sizeof out),
               "Call today while their interest is high");
    /* a long value is not quoted: the plain action */
    struct narrate_reason longv = {"Specialization", "Banking, Investment And Insurance Services",
                                   5.0};
    ASSERT_STR(narrate_next_action(1, &longv, NULL, out, sizeof out),
               "Send a nurture email and follow up this week");
    /* a bounced email changes the action, whatever the tier */
    struct narrate_reason bounced = {"Last Activity", "Email Bounced", -4.1};
    ASSERT_STR(narrate_next_action(0, NULL, &bounced, out, sizeof out),
               "Fix the email address first: their email bounced");
    struct narrate_reason dne = {"Do Not Email", "Yes", -6.0};
    ASSERT_STR(narrate_next_action(1, &origin, &dne, out, sizeof out),
               "Call, don't email: they opted out of email");
    /* a value the model never saw is not quoted */
    struct narrate_reason newv = {"Lead Source", "Fax (new value)", 3.0};
    ASSERT_STR(narrate_next_action(2, &newv, NULL, out, sizeof out),
               "Call today while their interest is high");
}

/* Every tier with every kind of reason: at most NARRATE_ACTION_WORDS words,
 * the same words twice. */
static void test_actions_word_limit(void **state)
{
    (void)state;
    const char *cols[] = {"Total Time Spent on Website",
                          "TotalVisits",
                          "Page Views Per Visit",
                          "Last Notable Activity",
                          "Lead Source",
                          "What is your current occupation",
                          "City",
                          "A very long column name that goes on and on and on"};
    const char *vals[] = {"1532",
                          "Working Professional",
                          "missing",
                          "x (new value)",
                          "Olark Chat Conversation Extra Words Here",
                          "Yes"};
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++)
        for (size_t v = 0; v < sizeof vals / sizeof *vals; v++)
            for (int tier = 0; tier <= 2; tier++)
                for (int sign = -1; sign <= 1; sign += 2) {
                    struct narrate_reason r = {cols[c], vals[v], sign * 3.0};
                    char a[256], b[256];
                    narrate_next_action(tier, sign > 0 ? &r : NULL, sign < 0 ? &r : NULL, a,
                                        sizeof a);
                    narrate_next_action(tier, sign > 0 ? &r : NULL, sign < 0 ? &r : NULL, b,
                                        sizeof b);
                    ASSERT_STR(a, b);
                    if (count_words(a) > NARRATE_ACTION_WORDS || count_words(a) < 3)
                        fail_msg("'%s' has %zu words", a, count_words(a));
                }
}

static void test_from_json(void **state)
{
    (void)state;
    json_error_t je;
    json_t *r = json_loads("{\"for\": [{\"column\": \"Lead Origin\", \"value\": \"Lead Add Form\", "
                           "\"points\": 21.3, \"text\": \"...\"}], \"against\": [{\"column\": "
                           "\"Last Activity\", \"value\": \"Email Bounced\", \"points\": -4.1}]}",
                           0, &je);
    assert_non_null(r);
    char out[NARRATE_TEXT_MAX];
    ASSERT_STR(narrate_json_sentence(87, r, out, sizeof out),
               "Scored 87% mainly because Lead Origin is Lead Add Form (+21.3 pts); Last "
               "Activity = Email Bounced pulls it down (\u22124.1 pts).");
    ASSERT_STR(narrate_json_action(2, r, out, sizeof out),
               "Call today; their email bounced, so fix the address");
    json_decref(r);
    /* malformed or absent reasons: no reasons, no crash */
    json_t *bad = json_loads("{\"for\": [1, {\"column\": 3}], \"against\": \"x\"}", 0, &je);
    ASSERT_STR(narrate_json_sentence(45, bad, out, sizeof out),
               "Scored 45%; no single value moves it far from the average lead.");
    json_decref(bad);
    ASSERT_STR(narrate_json_sentence(45, NULL, out, sizeof out),
               "Scored 45%; no single value moves it far from the average lead.");
    ASSERT_STR(narrate_json_action(1, NULL, out, sizeof out),
               "Send a nurture email and follow up this week");
}

/* The stored reasons read without jansson give what jansson reads. */
static void test_parse(void **state)
{
    (void)state;
    const char *texts[] = {
        "{\"for\":[{\"column\":\"Lead Origin\",\"value\":\"Lead Add Form\",\"points\":21.3,"
        "\"text\":\"Lead Origin = Lead Add Form \u2192 +21.3 pts\"}],\"against\":[{\"column\":"
        "\"Last Activity\",\"value\":\"Email \\\"Bounced\\\"\",\"points\":-4.1e0,\"text\":\"x\"}]}",
        /* escapes, a surrogate pair, keys in another order, unknown keys, 4 reasons */
        "{ \"extra\": {\"a\": [1, 2, {\"b\": null}]}, \"against\": [], \"for\": [ "
        "{\"points\": 3, \"value\": \"tab\\there \\ud83d\\ude00\", \"column\": \"A\\u00e9\", "
        "\"z\": true},"
        "{\"column\": \"B\", \"points\": 2},"
        "{\"column\": \"C\", \"points\": 1.5, \"value\": \"c\"},"
        "{\"column\": \"D\", \"points\": 1, \"value\": \"d\"}]}",
        /* an entry without points is no reason */
        "{\"for\":[{\"column\":\"A\"},{\"column\":\"B\",\"value\":\"b\",\"points\":0.5}],"
        "\"against\":[]}",
    };
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        json_error_t je;
        json_t *r = json_loads(texts[t], 0, &je);
        if (!r)
            fail_msg("case %zu is not JSON: %s", t, je.text);
        static struct narrate_parsed p;
        assert_int_equal(narrate_parse(texts[t], &p), 0);
        char a[NARRATE_TEXT_MAX], b[NARRATE_TEXT_MAX];
        narrate_json_sentence(50, r, a, sizeof a);
        narrate_sentence(50, p.pos, p.npos, p.neg, p.nneg, b, sizeof b);
        ASSERT_STR(b, a);
        const json_t *f = json_object_get(r, "for");
        for (size_t k = 0; k < p.npos; k++) {
            const char *txt = json_string_value(json_object_get(json_array_get(f, k), "text"));
            ASSERT_STR(p.pos_text[k], txt ? txt : "");
        }
        json_decref(r);
    }
    static struct narrate_parsed p;
    assert_int_equal(narrate_parse("{\"for\":[{\"column\":\"A\",\"points\":1}]}", &p), 0);
    assert_int_equal(p.npos, 1);
    ASSERT_STR(p.pos[0].value, "missing");
    assert_int_equal(
        narrate_parse("{\"for\":[{\"column\":\"\\u00e9\\ud83d\\ude00\",\"points\":1}]}", &p), 0);
    ASSERT_STR(p.pos[0].column, "\u00e9\U0001F600");
    /* malformed: no reasons, never a crash */
    const char *bad[] = {"",
                         "[",
                         "{\"for\": [",
                         "{\"for\": [{\"column\": \"A\", \"points\": 1}",
                         "{\"for\": 3}",
                         "{\"for\": [{\"column\": \"\\x\"}]}",
                         "nul",
                         "{\"for\": [{\"column\": \"A\\u12\"}]}",
                         "{\"for\":[{\"column\":\"a\nb\"}]}"};
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        assert_int_equal(narrate_parse(bad[t], &p), -1);
        assert_int_equal(p.npos + p.nneg, 0);
    }
    assert_int_equal(narrate_parse(NULL, &p), -1);
    /* a value longer than a field is cut at a character boundary */
    char *big = malloc(4000);
    size_t n = (size_t)snprintf(big, 4000, "{\"for\":[{\"column\":\"A\",\"points\":1,\"value\":\"");
    for (int i = 0; i < 700; i++)
        n += (size_t)snprintf(big + n, 4000 - n, "\u00e9");
    snprintf(big + n, 4000 - n, "\"}]}");
    assert_int_equal(narrate_parse(big, &p), 0);
    assert_true(strlen(p.pos[0].value) <= NARRATE_FIELD_MAX);
    assert_true(strlen(p.pos[0].value) >= NARRATE_FIELD_MAX - 1);
    assert_true(tu_utf8_valid(p.pos[0].value, strlen(p.pos[0].value)));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentence_for_and_against),
        cmocka_unit_test(test_sentence_negative_leads),
        cmocka_unit_test(test_sentence_no_reasons),
        cmocka_unit_test(test_sentence_cut),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_actions_word_limit),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
