/*
 * test_leads.c — ingest, typing and target detection on the real Leads.csv.
 *
 * ../shared/data/Leads.csv (the X Education export: 9,237 leads, 37 columns)
 * is the data set LeadScore was shaped around, with every kind of mess a CRM
 * export has: "Select" placeholders, empty cells, "Google" next to "google",
 * Yes/No flags, constant columns. These tests pin down what ingest makes of
 * it, counting the expected numbers from the raw cells rather than trusting
 * the profile, and read it once more through the public API. The file is not
 * in the repository: without it the program exits 77 (skipped).
 */
#include "testutil.h"

#include "data/frame.h"
#include "data/target.h"
#include "data/value.h"

#include <jansson.h>
#include <leadscore.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LEADS_ROWS 9237
#define LEADS_COLS 37

static int setup_frame(void **state)
{
    struct frame_opts o;
    frame_opts_default(&o);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = frame_read_file(tu_leads_csv(), &o, &f, &err);
    if (rc) {
        fprintf(stderr, "reading Leads.csv failed (%d): %s\n", rc, err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_frame(void **state)
{
    frame_free(*state);
    return 0;
}

/* Rows whose raw text, trimmed, equals one of the strings (case-insensitive
 * when icase), counted from the cells themselves. */
static uint64_t count_raw(const struct frame *f, size_t col, const char *const *values, int icase)
{
    uint64_t n = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        const char *s = frame_cell(f, col, r);
        size_t len = strlen(s);
        if (icase)
            value_trim(&s, &len);
        for (size_t k = 0; values[k]; k++)
            if (icase ? value_ieq(s, len, values[k]) : strcmp(s, values[k]) == 0) {
                n++;
                break;
            }
    }
    return n;
}

static long category_index(const struct column *c, const char *label)
{
    for (uint32_t k = 0; k < c->ncat; k++)
        if (strcmp(c->cats[k], label) == 0)
            return (long)k;
    return -1;
}

static void test_shape(void **state)
{
    const struct frame *f = *state;
    assert_int_equal(f->nrows, LEADS_ROWS);
    assert_int_equal(f->ncols, LEADS_COLS);
    assert_string_equal(f->cols[0].name, "Prospect ID");
    assert_string_equal(f->cols[LEADS_COLS - 1].name, "Last Notable Activity");
    assert_int_equal(f->info.delimiter, ',');
    assert_string_equal(f->info.line_ending, "CRLF");
}

static void test_target_converted(void **state)
{
    const struct frame *f = *state;
    struct target t;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = target_find(f, NULL, &t, &err);
    if (rc)
        fail_msg("target_find: %d %s", rc, err.msg);
    assert_string_equal(t.name, "Converted");
    assert_string_equal(t.positive, "1");
    assert_string_equal(t.negative, "0");
    assert_int_equal(t.n_pos + t.n_neg, LEADS_ROWS);
    assert_int_equal(t.n_unknown, 0);
    size_t col = tu_col(f, "Converted");
    assert_int_equal(t.col, (long)col);
    assert_int_equal(t.n_pos, count_raw(f, col, (const char *const[]){"1", NULL}, 0));
    assert_int_equal(t.n_neg, count_raw(f, col, (const char *const[]){"0", NULL}, 0));
    assert_true(t.confidence >= 0.9);
    for (uint64_t r = 0; r < f->nrows; r += 97)
        assert_int_equal(target_label(f, &t, r), strcmp(frame_cell(f, col, r), "1") == 0);
    target_cleanup(&t);
}

static void test_identifiers(void **state)
{
    const struct frame *f = *state;
    static const char *const ids[] = {"Prospect ID", "Lead Number"};
    for (size_t k = 0; k < 2; k++) {
        const struct column *c = &f->cols[tu_col(f, ids[k])];
        if (c->type != COL_IDENTIFIER)
            fail_msg("'%s' is %s, expected identifier", ids[k], col_type_name(c->type));
        assert_int_equal(c->prof.distinct, LEADS_ROWS);
        assert_int_equal(c->prof.missing, 0);
        assert_null(c->cat); /* never a model feature */
    }
}

/* frame.h: identifiers keep "raw text only" — num is NULL unless the column is
 * numeric, boolean or datetime, even when the ids are numbers (Lead Number). */
static void test_identifier_has_no_typed_view(void **state)
{
    const struct frame *f = *state;
    static const char *const ids[] = {"Prospect ID", "Lead Number"};
    for (size_t k = 0; k < 2; k++) {
        const struct column *c = &f->cols[tu_col(f, ids[k])];
        assert_int_equal(c->type, COL_IDENTIFIER);
        if (c->num)
            fail_msg("identifier '%s' still has a numeric view (num != NULL)", ids[k]);
        assert_null(c->cat);
    }
}

static void test_do_not_email_boolean(void **state)
{
    const struct frame *f = *state;
    size_t col = tu_col(f, "Do Not Email");
    const struct column *c = &f->cols[col];
    assert_int_equal(c->type, COL_BOOLEAN);
    assert_string_equal(c->true_label, "Yes");
    assert_string_equal(c->false_label, "No");
    assert_non_null(c->num);
    uint64_t yes = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        int is_yes = strcmp(frame_cell(f, col, r), "Yes") == 0;
        yes += is_yes;
        assert_true(c->num[r] == (is_yes ? 1.0 : 0.0));
    }
    assert_true(yes > 0 && yes < f->nrows);
    assert_true(fabs(c->prof.mean - (double)yes / (double)f->nrows) < 1e-12);
}

static void test_total_visits_numeric(void **state)
{
    const struct frame *f = *state;
    size_t col = tu_col(f, "TotalVisits");
    const struct column *c = &f->cols[col];
    assert_int_equal(c->type, COL_NUMERIC);
    assert_true(c->prof.missing > 0);
    assert_int_equal(c->prof.missing, count_raw(f, col, (const char *const[]){"", NULL}, 0));
    uint64_t nan_rows = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        nan_rows += isnan(c->num[r]) != 0;
        assert_int_equal(isnan(c->num[r]) != 0, frame_is_missing(f, col, r));
    }
    assert_int_equal(nan_rows, c->prof.missing);
    assert_true(c->prof.min == 0.0);
    assert_true(c->prof.max == 251.0);
}

static void test_specialization_select_missing(void **state)
{
    const struct frame *f = *state;
    size_t col = tu_col(f, "Specialization");
    const struct column *c = &f->cols[col];
    assert_int_equal(c->type, COL_CATEGORICAL);
    uint64_t empty = count_raw(f, col, (const char *const[]){"", NULL}, 0);
    uint64_t select = count_raw(f, col, (const char *const[]){"Select", NULL}, 0);
    assert_true(empty > 0);
    assert_true(select > 0);
    assert_int_equal(c->prof.missing, empty + select);
    for (uint32_t k = 0; k < c->ncat; k++)
        if (value_ieq(c->cats[k], strlen(c->cats[k]), "Select"))
            fail_msg("'Select' is category %u of Specialization", k);
    uint64_t na = 0, counted = 0;
    for (uint64_t r = 0; r < f->nrows; r++) {
        const char *s = frame_cell(f, col, r);
        int missing = s[0] == '\0' || strcmp(s, "Select") == 0;
        assert_int_equal(c->cat[r] == FRAME_NA, missing);
        na += c->cat[r] == FRAME_NA;
    }
    for (uint32_t k = 0; k < c->ncat; k++)
        counted += c->cat_count[k];
    assert_int_equal(na, c->prof.missing);
    assert_int_equal(counted, f->nrows - c->prof.missing);
    assert_int_equal(c->prof.distinct, c->ncat);
}

static void test_lead_source_merged(void **state)
{
    const struct frame *f = *state;
    size_t col = tu_col(f, "Lead Source");
    const struct column *c = &f->cols[col];
    assert_int_equal(c->type, COL_CATEGORICAL);
    uint64_t upper = count_raw(f, col, (const char *const[]){"Google", NULL}, 0);
    uint64_t lower = count_raw(f, col, (const char *const[]){"google", NULL}, 0);
    assert_true(upper > 0); /* both spellings are in the file */
    assert_true(lower > 0);
    long k = category_index(c, "Google");
    assert_true(k >= 0);
    assert_int_equal(category_index(c, "google"), -1);
    assert_int_equal(c->cat_count[k], upper + lower);
    assert_int_equal(c->cat_count[k], count_raw(f, col, (const char *const[]){"google", NULL}, 1));
    for (uint64_t r = 0; r < f->nrows; r++)
        if (value_ieq(frame_cell(f, col, r), strlen(frame_cell(f, col, r)), "google"))
            assert_int_equal(c->cat[r], (uint32_t)k);
    assert_true(c->prof.merged >= 1);
    assert_int_equal(k, 0); /* the most frequent source */
}

/* ---- the public API ------------------------------------------------------ */

static json_t *column_json_named(json_t *root, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "columns"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return c;
    }
    fail_msg("no column '%s' in the profile JSON", name);
    return NULL;
}

static json_int_t jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static void test_public_api(void **state)
{
    const struct frame *f = *state;
    struct ls_read_options o;
    ls_read_options_init(&o);
    struct ls_dataset *d = NULL;
    char msg[256] = "";
    int rc = ls_dataset_open(tu_leads_csv(), &o, &d, msg, sizeof msg);
    if (rc)
        fail_msg("ls_dataset_open: %d %s", rc, msg);
    assert_int_equal(ls_dataset_rows(d), LEADS_ROWS);
    assert_int_equal(ls_dataset_columns(d), LEADS_COLS);
    assert_string_equal(ls_dataset_column_name(d, 1), "Lead Number");
    assert_string_equal(ls_dataset_column_type(d, 1), "identifier");
    assert_null(ls_dataset_column_name(d, LEADS_COLS));
    assert_null(ls_dataset_column_type(d, LEADS_COLS));
    const char *pos = NULL;
    const char *name = ls_dataset_target(d, &pos);
    assert_non_null(name);
    assert_string_equal(name, "Converted");
    assert_string_equal(pos, "1");
    int code = 12345;
    assert_null(ls_dataset_target_error(d, &code));
    assert_int_equal(code, LS_OK);

    char *s = ls_dataset_profile_json(d);
    assert_non_null(s);
    json_error_t jerr;
    json_t *j = json_loads(s, 0, &jerr);
    if (!j)
        fail_msg("profile is not JSON: %s", jerr.text);
    assert_int_equal(jint(j, "rows"), LEADS_ROWS);
    assert_int_equal(jint(j, "column_count"), LEADS_COLS);
    assert_int_equal(json_array_size(json_object_get(j, "columns")), LEADS_COLS);
    assert_string_equal(json_string_value(json_object_get(j, "file")), tu_leads_csv());
    json_t *t = json_object_get(j, "target");
    assert_string_equal(json_string_value(json_object_get(t, "name")), "Converted");
    assert_string_equal(json_string_value(json_object_get(t, "positive")), "1");
    assert_int_equal(jint(t, "positive_rows") + jint(t, "negative_rows"), LEADS_ROWS);
    assert_int_equal(jint(t, "unknown_rows"), 0);
    /* the API and the frame agree, column by column */
    for (size_t i = 0; i < f->ncols; i++) {
        json_t *c = column_json_named(j, f->cols[i].name);
        assert_string_equal(json_string_value(json_object_get(c, "type")),
                            col_type_name(f->cols[i].type));
        assert_int_equal(jint(c, "missing"), f->cols[i].prof.missing);
        assert_int_equal(jint(c, "distinct"), f->cols[i].prof.distinct);
    }
    json_t *spec = column_json_named(j, "Specialization");
    assert_string_equal(json_string_value(json_object_get(spec, "type")), "categorical");
    json_decref(j);
    ls_free(s);
    ls_dataset_free(d);

    d = NULL; /* NULL options are the defaults */
    assert_int_equal(ls_dataset_open(tu_leads_csv(), NULL, &d, NULL, 0), LS_OK);
    assert_int_equal(ls_dataset_rows(d), LEADS_ROWS);
    ls_dataset_free(d);
}

static void test_public_api_options(void **state)
{
    const struct frame *f = *state;
    struct ls_read_options o;
    struct ls_dataset *d = NULL;
    char msg[256] = "";

    /* a named target wins over the detected one */
    ls_read_options_init(&o);
    o.target = "Do Not Email";
    assert_int_equal(ls_dataset_open(tu_leads_csv(), &o, &d, msg, sizeof msg), LS_OK);
    const char *pos = NULL;
    assert_string_equal(ls_dataset_target(d, &pos), "Do Not Email");
    assert_string_equal(pos, "Yes");
    ls_dataset_free(d);

    /* a missing-token list without "Select" makes it a category again */
    ls_read_options_init(&o);
    static const char *const only_empty[] = {"", NULL};
    o.missing_tokens = only_empty;
    d = NULL;
    assert_int_equal(ls_dataset_open(tu_leads_csv(), &o, &d, msg, sizeof msg), LS_OK);
    char *s = ls_dataset_profile_json(d);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    size_t col = tu_col(f, "Specialization");
    uint64_t select = count_raw(f, col, (const char *const[]){"Select", NULL}, 0);
    json_t *spec = column_json_named(j, "Specialization");
    assert_int_equal(jint(spec, "missing"), f->cols[col].prof.missing - select);
    json_t *top0 = json_array_get(json_object_get(spec, "top"), 0);
    assert_string_equal(json_string_value(json_object_get(top0, "value")), "Select");
    assert_int_equal(jint(top0, "count"), select);
    json_decref(j);
    ls_free(s);
    ls_dataset_free(d);

    /* a limit: an error code and a message naming it, *out untouched */
    ls_read_options_init(&o);
    o.max_rows = 100;
    d = NULL;
    int rc = ls_dataset_open(tu_leads_csv(), &o, &d, msg, sizeof msg);
    assert_int_equal(rc, LS_ELIMIT);
    assert_null(d);
    assert_non_null(strstr(msg, "max_rows"));

    /* a named target that does not exist is not a read failure */
    ls_read_options_init(&o);
    o.target = "No Such Column";
    assert_int_equal(ls_dataset_open(tu_leads_csv(), &o, &d, msg, sizeof msg), LS_OK);
    assert_null(ls_dataset_target(d, NULL));
    int code = 0;
    const char *why = ls_dataset_target_error(d, &code);
    assert_int_equal(code, LS_ENOT_FOUND);
    assert_non_null(strstr(why, "No Such Column"));
    ls_dataset_free(d);
}

int main(void)
{
    if (!tu_leads_csv()) {
        fprintf(stderr, "test_leads: ../shared/data/Leads.csv not found, skipping\n");
        return TU_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_target_converted),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_identifier_has_no_typed_view),
        cmocka_unit_test(test_do_not_email_boolean),
        cmocka_unit_test(test_total_visits_numeric),
        cmocka_unit_test(test_specialization_select_missing),
        cmocka_unit_test(test_lead_source_merged),
        cmocka_unit_test(test_public_api),
        cmocka_unit_test(test_public_api_options),
    };
    return cmocka_run_group_tests(tests, setup_frame, teardown_frame);
}
