/*
 * test_value.c — cell parsers: numbers, yes/no, dates.
 */
#include "testutil.h"

#include "data/value.h"

#include <string.h>

static double num(const char *s, int dc)
{
    double v = -12345;
    if (!value_parse_number(s, strlen(s), dc, &v))
        fail_msg("'%s' did not parse as a number", s);
    return v;
}

static void test_numbers(void **state)
{
    (void)state;
    assert_true(num("0", 0) == 0);
    assert_true(num("-2.5", 0) == -2.5);
    assert_true(num("1e3", 0) == 1000);
    assert_true(num("3,5", 1) == 3.5);
    assert_true(num("1.234,5", 1) == 1234.5);
    double v;
    assert_false(value_parse_number("02134", 5, 0, &v)); /* a code, not a number */
    assert_false(value_parse_number("3,5", 3, 0, &v));
    assert_false(value_parse_number("abc", 3, 0, &v));
    assert_false(value_parse_number("0x1A", 4, 0, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
