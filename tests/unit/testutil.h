/*
 * testutil.h — helpers shared by LeadScore's cmocka tests.
 *
 * Tests make their inputs themselves (in a private temporary directory) or
 * read them from tests/fixtures/. Tests that need ../shared/data/Leads.csv
 * skip (exit 77, which ctest reports as skipped) when it is absent, as on a
 * newcomer's fresh clone.
 */
#ifndef LS_TESTUTIL_H
#define LS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data/frame.h"

struct model;
struct score_result;

#define TU_SKIP 77

/* Two doubles within eps of each other, printing both on failure. */
#define ASSERT_NEAR(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s = %.17g, expected %s = %.17g (within %g)", #a, a_, #b, b_,                \
                     (double)(eps));                                                               \
    } while (0)

/* Doubles identical to the bit (NaN included). */
#define ASSERT_SAME_BITS(a, b)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (memcmp(&a_, &b_, sizeof a_) != 0)                                                      \
            fail_msg("%s = %.17g differs from %s = %.17g", #a, a_, #b, b_);                        \
    } while (0)

/* Path of a file in tests/fixtures/ (static buffer, valid until the next call). */
const char *tu_fixture(const char *name);

/* Path of ../shared/data/Leads.csv, or NULL when it is not there. */
const char *tu_leads_csv(void);

/*
 * The main of a test file with tests that need Leads.csv and tests that do
 * not. `prog` runs the group `base` (setup/teardown bs, bt; may be empty);
 * `prog --leads` runs only the group `leads` (ls, lt), and exits TU_SKIP (77,
 * which ctest reports as skipped) when Leads.csv is absent. CMake registers
 * both, so a fresh clone without ../shared shows the Leads part as skipped,
 * never as passed. Returns the process exit code.
 */
int tu_main_split(int argc, char **argv, const char *name, const struct CMUnitTest *base,
                  size_t nbase, CMFixtureFunction bs, CMFixtureFunction bt,
                  const struct CMUnitTest *leads, size_t nleads, CMFixtureFunction ls,
                  CMFixtureFunction lt);

#define TU_MAIN_SPLIT(argc, argv, name, base, bs, bt, leads, ls, lt)                               \
    tu_main_split(argc, argv, name, base, sizeof base / sizeof base[0], bs, bt, leads,             \
                  sizeof leads / sizeof leads[0], ls, lt)

/* Write data to a new file in the test's temp directory; returns its path
 * (owned by testutil, removed at exit). */
const char *tu_write_temp(const char *name, const void *data, size_t len);

/* Read a frame from memory with default options; asserts success. */
struct frame *tu_frame_mem(const char *text);

/* Read a frame from memory and return the error code (frame freed); msg gets
 * the message. */
int tu_frame_error(const void *data, size_t len, const struct frame_opts *o, char *msg, size_t cap);

/* Column index by name; fails the test when absent. */
size_t tu_col(const struct frame *f, const char *name);

/* Generated leads (data/demo.h) as CSV text; the caller frees it. */
char *tu_demo_text(uint64_t rows, uint64_t seed);

/* The whole file at path (malloc'ed; the caller frees it); *len its size. */
uint8_t *tu_slurp(const char *path, size_t *len);

/* Line k (0 = header) of text, without its newline, into out. */
void tu_text_line(const char *text, size_t k, char *out, size_t cap);

/* app_score with default options and 2 threads; fails the test on error. */
void tu_score_ok(const struct model *m, const struct frame *f, struct score_result *res);

/* The index of the model's feature named name; fails the test when absent. */
size_t tu_feature_index(const struct model *m, const char *name);

/* The cells of f as CSV text (malloc'ed; the caller frees it), every column
 * but the one named drop (NULL: none), fields quoted when needed. */
char *tu_frame_csv(const struct frame *f, const char *drop);

/* The same with every cell of column col (NULL: none) replaced by value. */
char *tu_frame_csv_replace(const struct frame *f, const char *drop, const char *col,
                           const char *value);

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF), else 0. */
int tu_utf8_valid(const void *s, size_t n);

#endif
