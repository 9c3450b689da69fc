/*
 * cli.h — shared pieces of the `leadscore` command-line tool.
 *
 * Exit codes: 0 success, 1 bad input (the message on stderr), 2 bad usage.
 */
#ifndef LS_CLI_CLI_H
#define LS_CLI_CLI_H

#include "core/err.h"
#include "data/frame.h"

#include <stdint.h>

#define CLI_OK        0
#define CLI_BAD_INPUT 1
#define CLI_USAGE     2

/* Print "leadscore: <msg>" to stderr and return code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code of a failure: 2 (bad usage) for LS_EUSAGE, else 1. */
int cli_code(const struct ls_error *err);

/* Parse a whole number with an optional K/M/G suffix ("200M", "64K", "5000000"); 0 on success. */
int cli_parse_size(const char *s, uint64_t *out);

/* How a command reads its CSV: the options plus storage for --missing. */
struct cli_read {
    struct frame_opts fo;
    char *tokens_store;
    const char *token_ptrs[FRAME_MAX_MISSING_TOKENS + 2];
};

void cli_read_init(struct cli_read *rd);
void cli_read_cleanup(struct cli_read *rd);

enum { CLI_ARG_ERROR = -1, CLI_ARG_NOT_MINE = 0, CLI_ARG_TAKEN = 1, CLI_ARG_HELP = 2 };

/*
 * The options every reading command shares, at argv[*i]: the read options
 * (--delimiter, --max-*, --missing; *i advances past a value), --json (sets
 * *json) and -h/--help (prints usage and the read options). Returns one of
 * CLI_ARG_*; on CLI_ARG_ERROR the message is printed.
 */
int cli_common_option(int argc, char **argv, int *i, struct cli_read *rd, const char *usage,
                      int *json);

/* The help text of the read options, for the commands' usage. */
extern const char cli_read_options_help[];

/* A progress line on stderr when it is a terminal (use as csv progress). */
void cli_progress(void *ctx, uint64_t done, uint64_t total);

/*
 * For commands of the form `cmd FILE... [--option VALUE]...`, after
 * cli_common_option and the command's own flags: an argument that is not an
 * option fills the first empty slot of files[0..nfiles) (CLI_ARG_TAKEN; an
 * error when all are full); an option gets its value in *value
 * (CLI_ARG_NOT_MINE; an error when none follows). On CLI_ARG_ERROR the
 * message, naming cmd, is printed.
 */
int cli_file_or_value(const char *cmd, int argc, char **argv, int *i, const char **files,
                      size_t nfiles, const char **value);

/* Width of a UTF-8 string in characters (good enough for alignment). */
size_t cli_utf8_width(const char *s);

/* s padded to width characters, or cut at a character boundary and marked "…". */
void cli_print_padded(const char *s, size_t width);

int cmd_inspect(int argc, char **argv);
int cmd_demo_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
