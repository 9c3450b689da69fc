/*
 * test_cli.c — (being written)
 */
#include "testutil.h"

static void test_basic(void **state)
{
    (void)state;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
