/*
 * test_target.c — finding the outcome column and its positive class, and the errors.
 */
#include "testutil.h"

#include "core/buf.h"
#include "data/target.h"

#include <stdio.h>
#include <string.h>

/* target_find that must succeed; returns the column's name. */
static void find_ok(const struct frame *f, const char *name, struct target *t)
{
    struct ls_error err;
    ls_error_clear(&err);
    int rc = target_find(f, name, t, &err);
    if (rc)
        fail_msg("target_find(%s) failed (%d): %s", name ? name : "NULL", rc, err.msg);
}

/* target_find that must fail with code want and a message holding frag (if given). */
static void find_err(const struct frame *f, const char *name, int want, const char *frag,
                     const char *frag2)
{
    struct target t;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = target_find(f, name, &t, &err);
    if (rc != want)
        fail_msg("target_find(%s): code %d, want %d (message '%s')", name ? name : "NULL", rc, want,
                 err.msg);
    assert_int_equal(err.code, want);
    assert_true(err.msg[0] != '\0');
    if (frag && !strstr(err.msg, frag))
        fail_msg("message '%s' does not contain '%s'", err.msg, frag);
    if (frag2 && !strstr(err.msg, frag2))
        fail_msg("message '%s' does not contain '%s'", err.msg, frag2);
    target_cleanup(&t); /* harmless after a failure */
}

static void test_converted_01(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Lead Origin,Total Visits,Converted\n"
                                   "API,3,1\nForm,5,0\nAPI,2,0\nForm,7,1\nAPI,1,0\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_int_equal(t.col, 2);
    assert_string_equal(t.name, "Converted");
    assert_int_equal(t.kind, TARGET_BOOLEAN);
    assert_string_equal(t.positive, "1");
    assert_string_equal(t.negative, "0");
    assert_int_equal(t.n_pos, 2);
    assert_int_equal(t.n_neg, 3);
    assert_int_equal(t.n_unknown, 0);
    assert_true(t.confidence > 0.5 && t.confidence <= 1.0);
    assert_true(t.reason[0] != '\0');
    assert_int_equal(target_label(f, &t, 0), 1);
    assert_int_equal(target_label(f, &t, 1), 0);
    target_cleanup(&t);
    target_cleanup(&t); /* twice is fine */
    frame_free(f);
}

static void test_one_class(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Source,Converted\nAPI,1\nForm,1\nAPI,1\n");
    find_err(f, NULL, LS_EONE_CLASS, "Converted", "one class");
    find_err(f, "Converted", LS_EONE_CLASS, "Converted", "one class");
    frame_free(f);
    /* Yes only, with some rows not known yet */
    f = tu_frame_mem("Source,Converted\nAPI,Yes\nForm,\nAPI,Yes\n");
    find_err(f, NULL, LS_EONE_CLASS, "Yes", NULL);
    frame_free(f);
}

static void test_is_won(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Account,Amount,is_won\nA,10,True\nB,20,False\nC,30,False\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "is_won");
    assert_int_equal(t.kind, TARGET_BOOLEAN);
    assert_string_equal(t.positive, "True");
    assert_string_equal(t.negative, "False");
    assert_int_equal(t.n_pos, 1);
    assert_int_equal(t.n_neg, 2);
    target_cleanup(&t);
    frame_free(f);

    /* a typo is forgiven; a name that merely contains a stem too */
    f = tu_frame_mem("Name,Conversoin\nA,Yes\nB,No\n");
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Conversoin");
    assert_true(t.confidence < 0.9);
    target_cleanup(&t);
    frame_free(f);
    f = tu_frame_mem("Name,Has Purchased Plan\nA,No\nB,Yes\n");
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Has Purchased Plan");
    assert_string_equal(t.positive, "Yes");
    target_cleanup(&t);
    frame_free(f);
}

static void test_status_won_lost_open(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Company,Status,Employees\n"
                                   "A,Won,10\nB,Lost,20\nC,Open,30\nD,Lost,40\n"
                                   "E,Open,50\nF,won,60\nG,Open,70\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Status");
    assert_int_equal(t.kind, TARGET_CATEGORICAL);
    assert_non_null(t.cat_class);
    assert_int_equal(t.n_pos, 2);
    assert_int_equal(t.n_neg, 2);
    assert_int_equal(t.n_unknown, 3);
    assert_int_equal(target_label(f, &t, 0), 1);
    assert_int_equal(target_label(f, &t, 1), 0);
    assert_int_equal(target_label(f, &t, 2), -1); /* Open: outcome not known yet */
    assert_int_equal(target_label(f, &t, 5), 1);  /* "won" merged with "Won" */
    assert_non_null(strstr(t.positive, "Won"));
    assert_non_null(strstr(t.negative, "Lost"));
    assert_null(strstr(t.positive, "Open"));
    assert_null(strstr(t.negative, "Open"));
    assert_true(t.confidence < 1.0);
    target_cleanup(&t);
    assert_null(t.cat_class);
    frame_free(f);

    /* CRM spellings: Closed Won / Closed Lost, with missing outcomes */
    f = tu_frame_mem("Deal Stage,x\nClosed Won,1\nClosed Lost,2\n,3\nClosed Lost,4\n"
                     "Negotiation,5\n");
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Deal Stage");
    assert_int_equal(t.n_pos, 1);
    assert_int_equal(t.n_neg, 2);
    assert_int_equal(t.n_unknown, 2);
    assert_int_equal(target_label(f, &t, 2), -1);
    target_cleanup(&t);
    frame_free(f);
}

/* The classes' labels come as lists, every label whole: a Stage column with
 * 16 spellings of a lost outcome, each longer than 128 bytes (the joined
 * `negative` is cut to TARGET_LABEL_MAX and is for messages only). */
static void test_label_lists(void **state)
{
    (void)state;
    char lost[16][200], csv[8192];
    size_t n = (size_t)snprintf(csv, sizeof csv, "Stage,Visits\nWon,1\nOpen,2\n");
    for (int k = 0; k < 16; k++) {
        int m = snprintf(lost[k], sizeof lost[k], "Lost");
        for (int i = 0; i < 130 + k; i++)
            lost[k][m++] = '.';
        lost[k][m] = '\0';
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%s,%d\nWon,%d\n", lost[k], k, k);
        assert_true(n < sizeof csv);
    }
    struct frame *f = tu_frame_mem(csv);
    struct target t;
    find_ok(f, "Stage", &t);
    assert_int_equal(t.kind, TARGET_CATEGORICAL);
    assert_int_equal(t.npos_labels, 1);
    assert_string_equal(t.pos_labels[0], "Won");
    assert_int_equal(t.nneg_labels, 16);
    for (int k = 0; k < 16; k++) {
        int found = 0;
        for (size_t i = 0; i < t.nneg_labels; i++)
            found += strcmp(t.neg_labels[i], lost[k]) == 0;
        assert_int_equal(found, 1);
    }
    assert_true(strlen(t.negative) < TARGET_LABEL_MAX);
    assert_int_equal(t.n_neg, 16);
    target_cleanup(&t);
    assert_null(t.neg_labels);
    assert_int_equal(t.nneg_labels, 0);
    frame_free(f);

    /* one label each for a boolean and a numeric target */
    f = tu_frame_mem("Converted,x\n1,a\n0,b\n1,c\n0,d\n");
    find_ok(f, NULL, &t);
    assert_int_equal(t.npos_labels, 1);
    assert_int_equal(t.nneg_labels, 1);
    assert_string_equal(t.pos_labels[0], t.positive);
    assert_string_equal(t.neg_labels[0], t.negative);
    target_cleanup(&t);
    frame_free(f);
}

static void test_explicit_name(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("Paid,Converted,Score\n"
                                   "Yes,1,3.5\nNo,0,1.5\nNo,1,2.5\nYes,0,4.5\nNo,0,0.5\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Converted");
    target_cleanup(&t);
    /* the user's choice wins over detection, and matches without case */
    find_ok(f, "paid", &t);
    assert_string_equal(t.name, "Paid");
    assert_int_equal(t.col, 0);
    assert_true(t.confidence == 1.0);
    assert_string_equal(t.positive, "Yes");
    assert_int_equal(t.n_pos, 2);
    assert_int_equal(t.n_neg, 3);
    assert_non_null(strstr(t.reason, "--target"));
    target_cleanup(&t);
    /* absent */
    find_err(f, "Revenue", LS_ENOT_FOUND, "Revenue", "Converted");
    /* not two classes */
    find_err(f, "Score", LS_EINPUT, "Score", "two classes");
    frame_free(f);

    /* three categories without won/lost words cannot be a target, even when named */
    f = tu_frame_mem("Outcome,x\nRed,1\nGreen,2\nBlue,3\nRed,4\n");
    find_err(f, "Outcome", LS_EINPUT, "Outcome", NULL);
    frame_free(f);

    /* an identifier column named explicitly */
    struct frame *g = tu_frame_mem("id,Converted\n"
                                   "a1,1\na2,0\na3,1\na4,0\na5,1\na6,0\na7,1\na8,0\na9,1\na10,0\n"
                                   "a11,1\na12,0\na13,1\na14,0\na15,1\na16,0\na17,1\na18,0\n"
                                   "a19,1\na20,0\na21,1\n");
    find_err(g, "id", LS_EINPUT, "id", NULL);
    frame_free(g);
}

static void test_two_unnamed_classes(void **state)
{
    (void)state;
    /* two numeric classes: the larger is positive */
    struct frame *f = tu_frame_mem("Label,x\n2,a\n1,b\n1,c\n2,d\n1,e\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_int_equal(t.kind, TARGET_NUMERIC);
    assert_true(t.pos_value == 2);
    assert_string_equal(t.positive, "2");
    assert_string_equal(t.negative, "1");
    assert_int_equal(t.n_pos, 2);
    assert_int_equal(t.n_neg, 3);
    target_cleanup(&t);
    frame_free(f);

    /* two words the detector does not know: the rarer is positive */
    f = tu_frame_mem("Outcome,x\nBronze,1\nGold,2\nBronze,3\nBronze,4\n");
    find_ok(f, NULL, &t);
    assert_int_equal(t.kind, TARGET_CATEGORICAL);
    assert_string_equal(t.positive, "Gold");
    assert_string_equal(t.negative, "Bronze");
    assert_int_equal(t.n_pos, 1);
    assert_int_equal(target_label(f, &t, 1), 1);
    target_cleanup(&t);
    frame_free(f);
}

static void test_no_target(void **state)
{
    (void)state;
    /* binary columns, none named like an outcome: listed, never picked silently */
    struct frame *f = tu_frame_mem("Do Not Email,Newsletter,City,Visits\n"
                                   "Yes,0,Paris,3\nNo,1,Lyon,4\nNo,1,Paris,5\nYes,0,Nice,6\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Do Not Email'", "'Newsletter'");
    struct ls_error err;
    struct target t;
    ls_error_clear(&err);
    assert_int_equal(target_find(f, NULL, &t, &err), LS_ENO_TARGET);
    assert_null(strstr(err.msg, "'City'"));
    assert_null(strstr(err.msg, "'Visits'"));
    assert_non_null(strstr(err.msg, "--target"));
    frame_free(f);

    /* nothing with two classes at all */
    f = tu_frame_mem("City,Visits\nParis,3\nLyon,4\nNice,5\n");
    find_err(f, NULL, LS_ENO_TARGET, "--target", NULL);
    frame_free(f);

    /* an outcome-like name whose values are not two classes is not a target */
    f = tu_frame_mem("Converted,Flag\n3.5,Yes\n1.25,No\n7,No\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Flag'", NULL);
    frame_free(f);
}

static void test_names_that_are_not_outcomes(void **state)
{
    (void)state;
    /* "Contacted" and "Country" are near "converted" / "outcome" only at a glance
     * (the last column has three values, so the last-column rule stays out) */
    struct frame *f = tu_frame_mem("Contacted,Content,Country\nYes,No,IN\nNo,Yes,US\nNo,Yes,FR\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Contacted'", "'Content'");
    frame_free(f);
}

/* ---- files from outside a CRM ------------------------------------------------- */

/*
 * A generated file of `rows` rows: header, then for each row the cells that
 * row_fn writes. Kept small and deterministic (a 64-bit LCG).
 */
typedef void (*row_fn)(struct buf *b, uint64_t r, uint64_t rnd);

static struct frame *generated(const char *header, uint64_t rows, row_fn fn)
{
    struct buf b;
    buf_init(&b, 1 << 22);
    buf_puts(&b, header);
    buf_puts(&b, "\n");
    uint64_t x = 88172645463325252ull;
    for (uint64_t r = 0; r < rows; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        fn(&b, r, x >> 33);
        buf_puts(&b, "\n");
    }
    struct frame *f = tu_frame_mem(buf_str(&b));
    buf_cleanup(&b);
    return f;
}

static const char *tf(uint64_t v)
{
    return v ? "TRUE" : "FALSE";
}

/* Web-shop sessions as in the UCI online shoppers file: Weekend (true/false)
 * just before Revenue (true/false, the outcome, last). */
static void shop_row(struct buf *b, uint64_t r, uint64_t x)
{
    static const char *const months[] = {"Feb", "Mar", "May", "Nov", "Dec"};
    static const char *const vt[] = {"Returning_Visitor", "New_Visitor", "Other"};
    buf_printf(b, "%llu,%.1f,%llu,%.3f,%s,%llu,%s,%s,%s", (unsigned long long)(x % 12),
               (double)(x % 3000) / 10, (unsigned long long)(x % 80), (double)(x % 200) / 1000,
               months[x % 5], (unsigned long long)(1 + x % 8), vt[(x >> 7) % 3],
               tf((x >> 11) % 4 == 0), tf((x >> 13) % 6 == 0 || r % 50 == 0));
}

static void test_web_shop_sessions(void **state)
{
    (void)state;
    struct frame *f = generated("Administrative,Administrative_Duration,ProductRelated,"
                                "BounceRates,Month,OperatingSystems,VisitorType,Weekend,Revenue",
                                600, shop_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Revenue");
    assert_int_equal(t.kind, TARGET_BOOLEAN);
    assert_string_equal(t.positive, "TRUE");
    assert_true(t.confidence >= 0.9);
    target_cleanup(&t);
    frame_free(f);
}

/* Trial sign-ups: Upgraded (Yes/No) is the outcome; Invited Teammate and
 * Is Mobile are yes/no attributes. */
static void trial_row(struct buf *b, uint64_t r, uint64_t x)
{
    static const char *const src[] = {"Google", "Referral", "Direct", "Partner"};
    buf_printf(b, "T%05llu,%s,%llu,%s,%s,%s", (unsigned long long)r, src[x % 4],
               (unsigned long long)(x % 40), (x >> 5) % 3 ? "No" : "Yes",
               (x >> 7) % 2 ? "Yes" : "No", (x >> 9) % 5 == 0 ? "Yes" : "No");
}

static void test_trial_signups(void **state)
{
    (void)state;
    struct frame *f = generated("Trial ID,Source,Sessions 7d,Invited Teammate,Is Mobile,Upgraded",
                                400, trial_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Upgraded");
    assert_string_equal(t.positive, "Yes");
    target_cleanup(&t);
    frame_free(f);

    /* the same file with "Signed Up" as the outcome, not last */
    f = generated("Trial ID,Source,Sessions 7d,Signed Up,Is Mobile,Newsletter", 400, trial_row);
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Signed Up");
    target_cleanup(&t);
    frame_free(f);
}

/* A subscription campaign as in the bank marketing file: default, housing and
 * loan are yes/no attributes, poutcome (failure/success/other/unknown) is the
 * outcome of an earlier campaign, y (yes/no) is the outcome, last. */
static void bank_row(struct buf *b, uint64_t r, uint64_t x)
{
    static const char *const job[] = {"admin.", "technician", "services", "management"};
    static const char *const pout[] = {"unknown", "failure", "success", "other", "unknown"};
    (void)r;
    buf_printf(b, "%llu;%s;%s;%s;%s;%llu;%s;%s", (unsigned long long)(18 + x % 60), job[x % 4],
               (x >> 3) % 9 ? "no" : "yes", (x >> 5) % 2 ? "yes" : "no",
               (x >> 6) % 5 ? "no" : "yes", (unsigned long long)(x % 900), pout[(x >> 8) % 5],
               (x >> 10) % 8 ? "no" : "yes");
}

static void test_subscription_campaign(void **state)
{
    (void)state;
    struct frame *f = generated("age;job;default;housing;loan;duration;poutcome;y", 500, bank_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "y");
    assert_string_equal(t.positive, "yes");
    target_cleanup(&t);
    frame_free(f);

    f = generated("age;job;default;housing;loan;duration;poutcome;subscribed", 500, bank_row);
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "subscribed");
    target_cleanup(&t);
    frame_free(f);
}

/* A deal export: Stage (Closed Won / Closed Lost / open stages) and Deal Won
 * (1/0). Deal Won's name is the stronger outcome name. */
static void deal_row(struct buf *b, uint64_t r, uint64_t x)
{
    static const char *const stage[] = {"Closed Won", "Closed Lost", "Negotiation", "Closed Lost",
                                        "Proposal"};
    const char *st = stage[x % 5];
    buf_printf(b, "D-%llu,%llu,%s,%s,%d", (unsigned long long)r, (unsigned long long)(x % 90000),
               (x >> 4) % 2 ? "Inbound" : "Outbound", st, strcmp(st, "Closed Won") == 0);
}

static void test_deal_export(void **state)
{
    (void)state;
    struct frame *f = generated("Deal Id,Amount,Channel,Stage,Deal Won", 300, deal_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Deal Won");
    target_cleanup(&t);
    frame_free(f);
}

/* Churn (Yes/No) between attributes named like the lead (gender, Partner, SeniorCitizen). */
static void churn_row(struct buf *b, uint64_t r, uint64_t x)
{
    buf_printf(b, "C%llu,%s,%d,%s,%llu,%s,%.2f", (unsigned long long)r, x % 2 ? "Female" : "Male",
               (int)((x >> 3) % 6 == 0), (x >> 4) % 2 ? "Yes" : "No", (unsigned long long)(x % 72),
               (x >> 6) % 4 ? "No" : "Yes", 20 + (double)(x % 10000) / 100);
}

static void test_churn(void **state)
{
    (void)state;
    struct frame *f = generated("customerID,gender,SeniorCitizen,Partner,tenure,Churn,"
                                "MonthlyCharges",
                                400, churn_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "Churn");
    assert_string_equal(t.positive, "Yes");
    target_cleanup(&t);
    frame_free(f);
}

/* No name reads like an outcome: the last column with two classes is taken,
 * with a lower confidence and a reason that says so. */
static void test_last_column_fallback(void **state)
{
    (void)state;
    struct frame *f = generated("Administrative,Administrative_Duration,ProductRelated,"
                                "BounceRates,Month,OperatingSystems,VisitorType,Weekend,conv_1m",
                                600, shop_row);
    struct target t;
    find_ok(f, NULL, &t);
    assert_string_equal(t.name, "conv_1m");
    assert_true(t.confidence < 0.5);
    assert_true(t.confidence == TARGET_LAST_COLUMN_CONFIDENCE);
    if (!strstr(t.reason, "last column") || !strstr(t.reason, "--target"))
        fail_msg("reason '%s' does not say it is the last column", t.reason);
    target_cleanup(&t);
    frame_free(f);

    /* a last column named like an attribute of the visit is not taken:
     * the error lists it and asks for --target */
    f = generated("Administrative,Administrative_Duration,ProductRelated,BounceRates,Month,"
                  "OperatingSystems,VisitorType,Returning,Weekend",
                  600, shop_row);
    find_err(f, NULL, LS_ENO_TARGET, "'Weekend'", "--target");
    frame_free(f);
    f = tu_frame_mem("Visits,Is Mobile\n3,true\n4,false\n5,true\n6,false\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Is Mobile'", NULL);
    frame_free(f);
    f = tu_frame_mem("Visits,Newsletter\n3,1\n4,0\n5,1\n6,0\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Newsletter'", NULL);
    frame_free(f);
}

/* Attributes are not outcomes by name either: a Weekend flag beside a
 * Revenue column does not compete, and "Subscribed to Newsletter" is an
 * attribute although it says "subscribed". */
static void test_attributes_are_not_outcomes(void **state)
{
    (void)state;
    struct frame *f =
        tu_frame_mem("Subscribed to Newsletter,Visits,Mobile\nYes,3,true\nNo,4,false\n"
                     "No,5,true\nYes,6,false\n");
    find_err(f, NULL, LS_ENO_TARGET, "'Subscribed to Newsletter'", NULL);
    frame_free(f);
}

/* The positive class chosen: the other class swaps every label, the counts
 * and target_label; a label of neither class is refused with the labels. */
static void test_choose_positive(void **state)
{
    (void)state;
    struct ls_error err;
    /* boolean 0/1 */
    struct frame *f = tu_frame_mem("Source,Converted\nAPI,1\nForm,0\nAPI,0\nForm,1\nAPI,0\n");
    struct target t;
    find_ok(f, NULL, &t);
    assert_int_equal(target_choose_positive(f, &t, "1", &err), LS_OK); /* already positive */
    assert_string_equal(t.positive, "1");
    assert_int_equal(target_label(f, &t, 0), 1);
    assert_int_equal(target_choose_positive(f, &t, "0", &err), LS_OK);
    assert_string_equal(t.positive, "0");
    assert_string_equal(t.negative, "1");
    assert_int_equal(t.n_pos, 3);
    assert_int_equal(t.n_neg, 2);
    assert_string_equal(t.pos_labels[0], "0");
    assert_string_equal(t.neg_labels[0], "1");
    assert_int_equal(target_label(f, &t, 0), 0);
    assert_int_equal(target_label(f, &t, 1), 1);
    assert_int_equal(target_choose_positive(f, &t, "maybe", &err), LS_EINPUT);
    if (!strstr(err.msg, "'maybe'") || !strstr(err.msg, "'0', '1'"))
        fail_msg("message '%s' does not name the label and the classes", err.msg);
    assert_string_equal(t.positive, "0"); /* unchanged by the refusal */
    target_cleanup(&t);
    frame_free(f);

    /* a status: Won / Lost + Dead / Open (unknown); lost chosen without case */
    f = tu_frame_mem("Source,Status\nA,Won\nB,Lost\nA,Open\nB,Dead\nA,Won\nB,Lost\n");
    find_ok(f, "Status", &t);
    assert_int_equal(t.kind, TARGET_CATEGORICAL);
    assert_int_equal(t.n_pos, 2);
    assert_int_equal(target_choose_positive(f, &t, "lost", &err), LS_OK);
    assert_int_equal(t.n_pos, 3); /* Lost and Dead: the whole class */
    assert_int_equal(t.n_neg, 2);
    assert_int_equal(t.n_unknown, 1);
    assert_int_equal(t.npos_labels, 2);
    assert_int_equal(target_label(f, &t, 0), 0);  /* Won */
    assert_int_equal(target_label(f, &t, 1), 1);  /* Lost */
    assert_int_equal(target_label(f, &t, 2), -1); /* Open stays unknown */
    assert_int_equal(target_choose_positive(f, &t, "Open", &err), LS_EINPUT);
    target_cleanup(&t);
    frame_free(f);

    /* two numbers that are not 0/1 */
    f = tu_frame_mem("Source,Outcome\nA,2\nB,5\nA,2\nB,5\nA,2\n");
    find_ok(f, "Outcome", &t);
    assert_int_equal(t.kind, TARGET_NUMERIC);
    assert_string_equal(t.positive, "5");
    assert_int_equal(target_choose_positive(f, &t, "2", &err), LS_OK);
    assert_int_equal(target_label(f, &t, 0), 1);
    assert_int_equal(target_label(f, &t, 1), 0);
    assert_int_equal(t.n_pos, 3);
    target_cleanup(&t);
    frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converted_01),
        cmocka_unit_test(test_choose_positive),
        cmocka_unit_test(test_one_class),
        cmocka_unit_test(test_is_won),
        cmocka_unit_test(test_status_won_lost_open),
        cmocka_unit_test(test_explicit_name),
        cmocka_unit_test(test_two_unnamed_classes),
        cmocka_unit_test(test_no_target),
        cmocka_unit_test(test_names_that_are_not_outcomes),
        cmocka_unit_test(test_web_shop_sessions),
        cmocka_unit_test(test_trial_signups),
        cmocka_unit_test(test_subscription_campaign),
        cmocka_unit_test(test_deal_export),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_last_column_fallback),
        cmocka_unit_test(test_attributes_are_not_outcomes),
        cmocka_unit_test(test_label_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
