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
    int user_missing; /* --missing was given */
    char *tokens_store;
    const char *token_ptrs[FRAME_MAX_MISSING_TOKENS + 2];
};

void cli_read_init(struct cli_read *rd);
void cli_read_cleanup(struct cli_read *rd);

/*
 * The option table. Every command describes its options as one table, like
 * kore's routes: the name (and a short alias), whether it takes a value, and
 * the handler that checks the value and stores it at target + offset in the
 * command's own options struct. One parser (cli_parse) walks argv for every
 * command, so "unknown option", "needs a value" and "missing FILE" read the
 * same everywhere.
 */
struct cli_option;

/* Store value (NULL for a flag) at target + opt->offset; 0 on success, else
 * the message is printed and CLI_USAGE returned. */
typedef int (*cli_opt_fn)(const struct cli_option *opt, const char *value, void *target);

struct cli_option {
    const char *name;  /* "--report"; NULL ends the table */
    const char *alias; /* "-o", or NULL */
    int takes_value;
    cli_opt_fn set;
    size_t offset;
    double lo, hi; /* bounds of a number (cli_opt_u32, cli_opt_u64, cli_opt_double) */
};

/* Handlers: an int set to 1; a const char * (the last one given wins); a
 * uint32_t / uint64_t (K/M/G suffixes allowed) / double within [lo, hi]. */
int cli_opt_flag(const struct cli_option *opt, const char *value, void *target);
int cli_opt_string(const struct cli_option *opt, const char *value, void *target);
int cli_opt_u32(const struct cli_option *opt, const char *value, void *target);
int cli_opt_u64(const struct cli_option *opt, const char *value, void *target);
int cli_opt_double(const struct cli_option *opt, const char *value, void *target);

struct cli_command {
    const char *name;                 /* "score" */
    const char *usage;                /* printed as is (no printf) */
    const struct cli_option *options; /* the command's own table */
    const char *const *files; /* the file arguments, by name ("MODEL", "FILE.csv"), NULL-ended */
    size_t required;          /* how many of them must be given */
};

/*
 * Parse argv[1..argc) for cmd: options into target (through cmd->options),
 * the read options (--delimiter, --missing, --max-*) into rd when rd is not
 * NULL, -h/--help, and the file arguments into files[0..] (as many slots as
 * cmd->files names). Returns -1 when the command should go on, otherwise the
 * exit code to return at once (0 after --help; 2 with the message printed:
 * an unknown option, a missing value, too many or missing files).
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *target,
              const char **files, struct cli_read *rd);

/* A progress bar on stderr when it is a terminal: "step [####   ] 42%";
 * cleared when done == total. ctx is unused. */
void cli_step_progress(void *ctx, const char *step, uint64_t done, uint64_t total);

/* The help text of the read options, for the commands' usage. */
extern const char cli_read_options_help[];

/* A progress line on stderr when it is a terminal (use as csv progress). */
void cli_progress(void *ctx, uint64_t done, uint64_t total);

/* Width of a UTF-8 string in characters (good enough for alignment). */
size_t cli_utf8_width(const char *s);

/* s padded to width characters, or cut at a character boundary and marked
 * "…"; control characters are escaped (\n, \x1b, \u0085) first. */
void cli_print_padded(const char *s, size_t width);

/* s on stdout, control characters escaped, cut to max_chars characters with
 * "…" (0: no limit). */
void cli_print_text(const char *s, size_t max_chars);

/* The same into out (cap bytes). */
void cli_escape(const char *s, size_t max_chars, char *out, size_t cap);

int cmd_inspect(int argc, char **argv);
int cmd_demo_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
