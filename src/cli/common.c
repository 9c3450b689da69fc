/*
 * common.c — option parsing and messages shared by the CLI commands.
 */
#include "cli/cli.h"

#include "core/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("leadscore: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_code(const struct ls_error *err)
{
    return err->code == LS_EUSAGE ? CLI_USAGE : CLI_BAD_INPUT;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        break;
    }
    if (shift && (*end == 'B' || *end == 'b'))
        end++;
    if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

const char cli_read_options_help[] =
    "  --delimiter C       field delimiter: , ; tab | (default: detected)\n"
    "  --missing LIST      comma-separated tokens read as missing, replacing the\n"
    "                      default list (empty, NA, N/A, #N/A, null, None, nan, -, Select)\n"
    "  --max-bytes N       largest file to read (default 200M)\n"
    "  --max-rows N        most data rows (default 5000000)\n"
    "  --max-columns N     most columns (default 2000)\n"
    "  --max-field N       longest field (default 64K)\n";

void cli_read_init(struct cli_read *rd)
{
    memset(rd, 0, sizeof *rd);
    frame_opts_default(&rd->fo);
    rd->fo.csv.progress = cli_progress;
}

void cli_read_cleanup(struct cli_read *rd)
{
    free(rd->tokens_store);
    rd->tokens_store = NULL;
}

/* A read option at argv[*i]: 1 taken, 0 not one, -1 bad value (printed). */
static int read_option(int argc, char **argv, int *i, struct cli_read *rd)
{
    struct frame_opts *o = &rd->fo;
    char **tokens_store = &rd->tokens_store;
    const char **token_ptrs = rd->token_ptrs;
    size_t token_cap = sizeof rd->token_ptrs / sizeof rd->token_ptrs[0];
    const char *a = argv[*i];
    static const char *const names[] = {"--delimiter", "--max-bytes", "--max-rows", "--max-columns",
                                        "--max-field", "--missing",   NULL};
    int which = -1;
    for (int k = 0; names[k]; k++)
        if (strcmp(a, names[k]) == 0)
            which = k;
    if (which < 0)
        return 0;
    if (*i + 1 >= argc) {
        cli_fail(CLI_USAGE, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    uint64_t n = 0;
    switch (which) {
    case 0:
        if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
            v = "\t";
        if (strlen(v) != 1 || !strchr(",;\t|", v[0])) {
            cli_fail(CLI_USAGE, "--delimiter must be one of , ; tab |");
            return -1;
        }
        o->csv.delimiter = v[0];
        return 1;
    case 5: {
        free(*tokens_store);
        *tokens_store = xstrdup(v);
        size_t nt = 0;
        token_ptrs[nt++] = ""; /* an empty cell is always missing */
        for (char *p = *tokens_store; p && nt + 1 < token_cap;) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (*p)
                token_ptrs[nt++] = p;
            p = comma ? comma + 1 : NULL;
        }
        token_ptrs[nt] = NULL;
        o->missing_tokens = token_ptrs;
        return 1;
    }
    default:
        if (cli_parse_size(v, &n) || n == 0) {
            cli_fail(CLI_USAGE, "%s: '%s' is not a positive size (e.g. 5000, 64K, 200M)", a, v);
            return -1;
        }
        if (which == 1)
            o->csv.limits.max_bytes = n;
        else if (which == 2)
            o->csv.limits.max_rows = n;
        else if (which == 3)
            o->csv.limits.max_cols = n > 1000000 ? 1000000 : (size_t)n;
        else
            o->csv.limits.max_field = n > (1u << 30) ? (1u << 30) : (size_t)n;
        return 1;
    }
}

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    static int shown;
    if (!isatty(STDERR_FILENO))
        return;
    if (total && total < (32ull << 20))
        return;
    if (total) {
        fprintf(stderr, "\rreading %3.0f%% (%llu of %llu MB)", 100.0 * (double)done / (double)total,
                (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
        shown = 1;
        if (done >= total) {
            fputs("\r\033[K", stderr);
            shown = 0;
        }
    } else if (shown || done > (32ull << 20)) {
        fprintf(stderr, "\rreading %llu MB", (unsigned long long)(done >> 20));
        shown = 1;
    }
    fflush(stderr);
}

int cli_common_option(int argc, char **argv, int *i, struct cli_read *rd, const char *usage,
                      int *json)
{
    int r = read_option(argc, argv, i, rd);
    if (r < 0)
        return CLI_ARG_ERROR;
    if (r > 0)
        return CLI_ARG_TAKEN;
    const char *a = argv[*i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        printf("%s%s", usage, cli_read_options_help);
        return CLI_ARG_HELP;
    }
    if (json && strcmp(a, "--json") == 0) {
        *json = 1;
        return CLI_ARG_TAKEN;
    }
    return CLI_ARG_NOT_MINE;
}

size_t cli_utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void cli_print_padded(const char *s, size_t width)
{
    size_t w = cli_utf8_width(s);
    if (w > width) { /* cut at a character boundary and mark it */
        size_t chars = 0, i = 0;
        for (; s[i] && chars < width - 1; i++)
            chars += ((unsigned char)s[i + 1] & 0xC0) != 0x80;
        printf("%.*s…", (int)i, s);
        return;
    }
    printf("%s%*s", s, (int)(width - w), "");
}

int cli_file_or_value(const char *cmd, int argc, char **argv, int *i, const char **files,
                      size_t nfiles, const char **value)
{
    const char *a = argv[*i];
    if (a[0] != '-' || a[1] == '\0') {
        for (size_t k = 0; k < nfiles; k++)
            if (!files[k]) {
                files[k] = a;
                return CLI_ARG_TAKEN;
            }
        cli_fail(CLI_USAGE, "%s: too many files ('%s')", cmd, a);
        return CLI_ARG_ERROR;
    }
    if (*i + 1 >= argc) {
        cli_fail(CLI_USAGE, "%s: '%s' needs a value (see leadscore %s --help)", cmd, a, cmd);
        return CLI_ARG_ERROR;
    }
    *value = argv[++*i];
    return CLI_ARG_NOT_MINE;
}
