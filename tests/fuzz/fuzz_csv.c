/*
 * fuzz_csv.c — libFuzzer target for the CSV reader and the typing after it.
 *
 * Every input must either give a frame or a clean error; ASan/UBSan catch the
 * rest. Small limits keep each run fast and exercise the limit paths.
 */
#include "data/frame.h"
#include "data/target.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_opts o;
    frame_opts_default(&o);
    o.csv.limits.max_cols = 64;
    o.csv.limits.max_field = 4096;
    o.csv.limits.max_rows = 10000;
    o.csv.limits.max_bytes = 1 << 20;
    /* the first byte picks a delimiter sometimes, to reach every parser setup */
    if (size > 0 && data[0] == 0xFE) {
        static const char delims[] = {',', ';', '\t', '|'};
        o.csv.delimiter = size > 1 ? delims[data[1] & 3] : ',';
    }
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    if (frame_read_mem(data, size, &o, &f, &err) == LS_OK) {
        struct target t;
        if (target_find(f, NULL, &t, &err) == LS_OK)
            target_cleanup(&t);
        for (size_t c = 0; c < f->ncols; c++)
            for (uint64_t r = 0; r < f->nrows; r++)
                (void)frame_is_missing(f, c, r);
        frame_free(f);
    }
    return 0;
}
