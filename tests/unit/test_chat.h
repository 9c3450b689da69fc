/*
 * test_chat.h — what test_chat.c and test_chat_facts.c share: assertions
 * on answer text that print the whole answer when they fail.
 */
#ifndef LS_TEST_CHAT_H
#define LS_TEST_CHAT_H

#include "testutil.h"

#include <string.h>

#define ASSERT_HAS(hay, needle)                                                                    \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            fail_msg("\"%s\" not found in:\n%s", n_, h_ ? h_ : "(null)");                          \
    } while (0)

#define ASSERT_LACKS(hay, needle)                                                                  \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ && strstr(h_, n_))                                                                  \
            fail_msg("\"%s\" should not be in:\n%s", n_, h_);                                      \
    } while (0)

#define ASSERT_STR(got, want)                                                                      \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (strcmp(g_, w_) != 0)                                                                   \
            fail_msg("got \"%s\", want \"%s\"", g_, w_);                                           \
    } while (0)

#endif
