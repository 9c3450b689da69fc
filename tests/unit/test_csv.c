/*
 * test_csv.c — (being written)
 */
#include "testutil.h"

static void test_basic(void **state)
{
    (void)state;
    struct frame *f = tu_frame_mem("a,Converted\nx,1\ny,0\n");
    assert_int_equal(f->nrows, 2);
    frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
