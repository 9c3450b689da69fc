/*
 * test_value.c — cell parsers: numbers, yes/no, dates, days since 1970.
 */
#include "testutil.h"

#include "data/value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double num(const char *s, int dc)
{
    double v = -12345;
    if (!value_parse_number(s, strlen(s), dc, &v))
        fail_msg("'%s' did not parse as a number", s);
    return v;
}

static void no_num(const char *s, int dc)
{
    double v = -12345;
    if (value_parse_number(s, strlen(s), dc, &v))
        fail_msg("'%s' (decimal_comma=%d) parsed as %.17g, expected rejection", s, dc, v);
    assert_true(v == -12345); /* out-parameter untouched on failure */
}

#define ASSERT_NUM(s, dc, want)                                                                    \
    do {                                                                                           \
        double got_ = num((s), (dc));                                                              \
        if (got_ != (want))                                                                        \
            fail_msg("'%s' (decimal_comma=%d): got %.17g, want %.17g", (s), (dc), got_,            \
                     (double)(want));                                                              \
    } while (0)

static void test_numbers(void **state)
{
    (void)state;
    ASSERT_NUM("0", 0, 0);
    ASSERT_NUM("-2.5", 0, -2.5);
    ASSERT_NUM("+7", 0, 7);
    ASSERT_NUM("0.5", 0, 0.5);
    ASSERT_NUM("0.1", 0, 0.1); /* fast path must round like strtod */
    ASSERT_NUM("123.456", 0, 123.456);
    ASSERT_NUM("-0.25", 0, -0.25);
    ASSERT_NUM("1e3", 0, 1000);
    ASSERT_NUM("3,5", 1, 3.5);
    ASSERT_NUM("1.234,5", 1, 1234.5);
    double v;
    assert_false(value_parse_number("02134", 5, 0, &v)); /* a code, not a number */
    assert_false(value_parse_number("3,5", 3, 0, &v));
    assert_false(value_parse_number("abc", 3, 0, &v));
    assert_false(value_parse_number("0x1A", 4, 0, &v));
}

static void test_numbers_decimal_comma(void **state)
{
    (void)state;
    ASSERT_NUM("-3,25", 1, -3.25);
    ASSERT_NUM("0,5", 1, 0.5);
    ASSERT_NUM("1.234.567,89", 1, 1234567.89);
    ASSERT_NUM("42", 1, 42);
    ASSERT_NUM("2,5e2", 1, 250);
    no_num("12.34,5", 1); /* thousands groups have three digits */
    no_num("1.2345,6", 1);
    no_num("1234.567,8", 1); /* a group dot after more than three digits */
    no_num("1,2,3", 1);      /* two decimal marks */
    no_num(".123,4", 1);
}

static void test_numbers_exponents_and_rejects(void **state)
{
    (void)state;
    ASSERT_NUM("1.5E-2", 0, 0.015);
    ASSERT_NUM("-3e+2", 0, -300);
    ASSERT_NUM("2.5e10", 0, 2.5e10);
    ASSERT_NUM("1.5e-300", 0, 1.5e-300); /* slow path (strtod) */
    ASSERT_NUM("12345678901234567", 0, 12345678901234567.0);
    ASSERT_NUM("0.000001", 0, 1e-6);
    ASSERT_NUM("1e22", 0, 1e22);
    ASSERT_NUM("9007199254740993", 0, 9007199254740992.0); /* rounds to even like strtod */
    no_num("1e", 0);
    no_num("1e+", 0);
    no_num("e5", 0);
    no_num("1e400", 0); /* not finite */
    no_num("1e5x", 0);
    no_num("", 0);
    no_num("-", 0);
    no_num("+", 0);
    no_num(".", 0);
    no_num("1.2.3", 0);
    no_num("1,5", 0);
    no_num("1 000", 0);
    no_num("$5", 0);
    no_num("5%", 0);
    no_num("inf", 0);
    no_num("nan", 0);
    /* leading-zero integers are codes (zip codes, phone numbers) */
    no_num("00", 0);
    no_num("007", 0);
    no_num("-0123", 0);
    no_num("01,5", 1);
    ASSERT_NUM("0", 1, 0);
    ASSERT_NUM("0.75", 0, 0.75);
    /* longer than any number a cell holds */
    char big[80];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    no_num(big, 0);
}

static void test_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"yes", "Yes", "YES", "y", "Y", "true", "TRUE", "t", "T", "1"};
    static const char *const no[] = {"no", "No", "NO", "n", "N", "false", "False", "f", "F", "0"};
    static const char *const other[] = {"",    "maybe", "yess",  "2",    "-1", "on",
                                        "off", "1.0",   "truee", " yes", "ja"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (value_bool(yes[i], strlen(yes[i])) != 1)
            fail_msg("value_bool('%s') != 1", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (value_bool(no[i], strlen(no[i])) != 0)
            fail_msg("value_bool('%s') != 0", no[i]);
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (value_bool(other[i], strlen(other[i])) != -1)
            fail_msg("value_bool('%s') != -1", other[i]);
    /* length is honoured: "yesterday" cut to "yes" is yes, whole is not */
    assert_int_equal(value_bool("yesterday", 3), 1);
    assert_int_equal(value_bool("yesterday", 9), -1);
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(value_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(value_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(value_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(value_days_from_civil(2000, 1, 1), 10957);
    assert_int_equal(value_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(value_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(value_days_from_civil(2023, 12, 31), 19722);
    assert_int_equal(value_days_from_civil(1600, 3, 1), -135080);
    assert_int_equal(value_days_from_civil(1900, 1, 1), -25567);
    /* consecutive days over a few leap years are consecutive numbers */
    long prev = value_days_from_civil(1999, 12, 31);
    for (long y = 2000; y <= 2004; y++)
        for (unsigned m = 1; m <= 12; m++) {
            static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            unsigned n = dm[m - 1] + (m == 2 && y % 4 == 0);
            for (unsigned d = 1; d <= n; d++) {
                long cur = value_days_from_civil(y, m, d);
                assert_int_equal(cur, prev + 1);
                prev = cur;
            }
        }
}

static int date(const char *s, enum date_fmt fmt, double *days, int *has_time)
{
    *days = -1e9;
    *has_time = -1;
    return value_parse_date(s, strlen(s), fmt, days, has_time);
}

#define ASSERT_DATE(s, fmt, want_days, want_time)                                                  \
    do {                                                                                           \
        double d_;                                                                                 \
        int ht_;                                                                                   \
        if (!date((s), (fmt), &d_, &ht_))                                                          \
            fail_msg("'%s' (fmt %d) did not parse as a date", (s), (int)(fmt));                    \
        if (fabs(d_ - (double)(want_days)) > 1e-9)                                                 \
            fail_msg("'%s': got %.10f days, want %.10f", (s), d_, (double)(want_days));            \
        assert_int_equal(ht_, (want_time));                                                        \
    } while (0)

#define ASSERT_NO_DATE(s, fmt)                                                                     \
    do {                                                                                           \
        double d_;                                                                                 \
        int ht_;                                                                                   \
        if (date((s), (fmt), &d_, &ht_))                                                           \
            fail_msg("'%s' (fmt %d) parsed as %.6f, expected rejection", (s), (int)(fmt), d_);     \
    } while (0)

static void test_dates_iso(void **state)
{
    (void)state;
    long d0 = value_days_from_civil(2023, 5, 1);
    ASSERT_DATE("2023-05-01", DATE_ISO, d0, 0);
    ASSERT_DATE("2023/05/01", DATE_ISO, d0, 0);
    ASSERT_DATE("2023-5-1", DATE_ISO, d0, 0);
    ASSERT_DATE("1970-01-01", DATE_ISO, 0, 0);
    ASSERT_DATE("2023-05-01T10:30", DATE_ISO, d0 + 10.5 / 24, 1);
    ASSERT_DATE("2023-05-01 10:30:00", DATE_ISO, d0 + 10.5 / 24, 1);
    ASSERT_DATE("2023-05-01T10:30:00Z", DATE_ISO, d0 + 10.5 / 24, 1);
    ASSERT_DATE("2023-05-01T12:30:00+02:00", DATE_ISO, d0 + 10.5 / 24, 1);
    ASSERT_DATE("2023-05-01T08:30:00-0200", DATE_ISO, d0 + 10.5 / 24, 1);
    ASSERT_DATE("2023-05-01T00:00:30.5", DATE_ISO, d0 + 30.5 / 86400, 1);
    ASSERT_DATE("2024-02-29", DATE_ISO, value_days_from_civil(2024, 2, 29), 0);
    ASSERT_DATE("2000-02-29", DATE_ISO, 11016, 0);
    /* impossible calendar dates and times */
    ASSERT_NO_DATE("2023-02-30", DATE_ISO);
    ASSERT_NO_DATE("2023-02-29", DATE_ISO);
    ASSERT_NO_DATE("1900-02-29", DATE_ISO);
    ASSERT_NO_DATE("2023-04-31", DATE_ISO);
    ASSERT_NO_DATE("2023-13-01", DATE_ISO);
    ASSERT_NO_DATE("2023-00-10", DATE_ISO);
    ASSERT_NO_DATE("2023-01-00", DATE_ISO);
    ASSERT_NO_DATE("2023-01-32", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01T24:00", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01T10:60", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01T10:30:61", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01T", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01x", DATE_ISO);
    ASSERT_NO_DATE("2023-05/01", DATE_ISO); /* mixed separators */
    ASSERT_NO_DATE("23-05-01", DATE_ISO);
    ASSERT_NO_DATE("0999-05-01", DATE_ISO);
    ASSERT_NO_DATE("01/05/2023", DATE_ISO);
    ASSERT_NO_DATE("2023-05-01 10:30 PM", DATE_ISO);
    ASSERT_NO_DATE("hello world", DATE_ISO);
    ASSERT_NO_DATE("2023", DATE_ISO);
}

static void test_dates_dmy_mdy(void **state)
{
    (void)state;
    long dec31 = value_days_from_civil(2023, 12, 31);
    long feb1 = value_days_from_civil(2023, 2, 1);
    ASSERT_DATE("31/12/2023", DATE_DMY, dec31, 0);
    ASSERT_DATE("31.12.2023", DATE_DMY, dec31, 0);
    ASSERT_DATE("31-12-2023", DATE_DMY, dec31, 0);
    ASSERT_DATE("1/2/2023", DATE_DMY, feb1, 0);
    ASSERT_DATE("31/12/2023 14:30", DATE_DMY, dec31 + 14.5 / 24, 1);
    ASSERT_DATE("31/12/2023 14:30:36", DATE_DMY, dec31 + (14.5 * 3600 + 36) / 86400, 1);
    ASSERT_DATE("12/31/2023", DATE_MDY, dec31, 0);
    ASSERT_DATE("2/1/2023", DATE_MDY, feb1, 0);
    ASSERT_DATE("12/31/2023 2:30 PM", DATE_MDY, dec31 + 14.5 / 24, 1);
    ASSERT_DATE("12/31/2023 12:00 AM", DATE_MDY, dec31, 1);
    ASSERT_DATE("12/31/2023 12:15 pm", DATE_MDY, dec31 + 12.25 / 24, 1);
    /* the same text, two layouts, two dates */
    double a, b;
    int ht;
    assert_true(date("03/04/2023", DATE_DMY, &a, &ht));
    assert_true(date("03/04/2023", DATE_MDY, &b, &ht));
    assert_true(a == (double)value_days_from_civil(2023, 4, 3));
    assert_true(b == (double)value_days_from_civil(2023, 3, 4));
    ASSERT_NO_DATE("12/31/2023", DATE_DMY);
    ASSERT_NO_DATE("31/12/2023", DATE_MDY);
    ASSERT_NO_DATE("30/02/2023", DATE_DMY);
    ASSERT_NO_DATE("29/02/2023", DATE_DMY);
    ASSERT_NO_DATE("02/29/2023", DATE_MDY);
    ASSERT_NO_DATE("31/12/23", DATE_DMY);   /* two-digit years are ambiguous */
    ASSERT_NO_DATE("31/12.2023", DATE_DMY); /* mixed separators */
    ASSERT_NO_DATE("12/31/2023 13:00 PM", DATE_MDY);
    ASSERT_NO_DATE("12/31/2023T10:00", DATE_MDY); /* T belongs to ISO */
    ASSERT_NO_DATE("2023-12-31", DATE_DMY);
    ASSERT_NO_DATE("2023-12-31", DATE_MDY);
}

static void test_trim_and_ieq(void **state)
{
    (void)state;
    const char *s = " \t abc \r\n";
    size_t n = strlen(s);
    value_trim(&s, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    const char *w = "   ";
    size_t wn = 3;
    value_trim(&w, &wn);
    assert_int_equal(wn, 0);
    assert_true(value_ieq("Select", 6, "select"));
    assert_true(value_ieq("N/A", 3, "n/a"));
    assert_false(value_ieq("Selected", 8, "select"));
    assert_false(value_ieq("Sel", 3, "select"));
    assert_true(value_ieq("", 0, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_decimal_comma),
        cmocka_unit_test(test_numbers_exponents_and_rejects),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_dates_iso),
        cmocka_unit_test(test_dates_dmy_mdy),
        cmocka_unit_test(test_trim_and_ieq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
