/*
 * cli.h — shared pieces of the `leadscore` command-line tool.
 *
 * Exit codes: 0 success, 1 bad input (the message on stderr), 2 bad usage.
 */
#ifndef LS_CLI_CLI_H
#define LS_CLI_CLI_H

#include "data/frame.h"

#include <stdint.h>

#define CLI_OK        0
#define CLI_BAD_INPUT 1
#define CLI_USAGE     2

/* Print "leadscore: <msg>" to stderr and return code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a whole number with an optional K/M/G suffix ("200M", "64K", "5000000"); 0 on success. */
int cli_parse_size(const char *s, uint64_t *out);

/*
 * Try to consume a read option at argv[*i] (--delimiter, --max-bytes,
 * --max-rows, --max-columns, --max-field, --missing). Returns 1 when it was
 * one (advancing *i past its value), 0 when not, -1 on a bad value (message
 * printed). tokens_store keeps --missing's split list alive.
 */
int cli_read_option(int argc, char **argv, int *i, struct frame_opts *o, char **tokens_store,
                    const char **token_ptrs, size_t token_cap);

/* The help text of the read options, for the commands' usage. */
extern const char cli_read_options_help[];

/* A progress line on stderr when it is a terminal (use as csv progress). */
void cli_progress(void *ctx, uint64_t done, uint64_t total);

int cmd_inspect(int argc, char **argv);
int cmd_demo_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);

#endif
