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

/* The reader's limits are named by their fields in data/ (the library's
 * csv_limits); on the command line they are flags. */
static const char *const limit_names[][2] = {
    {"limit max_cols", "--max-columns"}, {"limit max_rows", "--max-rows"},
    {"max_cols", "--max-columns"},       {"max_rows", "--max-rows"},
    {"max_bytes", "--max-bytes"},        {"max_field", "--max-field"},
};

int cli_fail(int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("leadscore: ", stderr);
    for (const char *p = msg; *p;) {
        size_t k = 0, n = sizeof limit_names / sizeof limit_names[0];
        while (k < n && strncmp(p, limit_names[k][0], strlen(limit_names[k][0])) != 0)
            k++;
        if (k < n) {
            fputs(limit_names[k][1], stderr);
            p += strlen(limit_names[k][0]);
        } else {
            fputc(*p++, stderr);
        }
    }
    fputc('\n', stderr);
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
        rd->user_missing = 1;
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

size_t cli_utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* s with every control character escaped (malloc'ed): a cell of the file
 * must not move the cursor, ring the bell or start a new table row. */
static char *escape_dup(const char *s)
{
    size_t n = strlen(s);
    char *e = xmalloc(6 * n + 1), *o = e;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *o++ = '\\';
            *o++ = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += snprintf(o, 5, "\\x%02x", *p);
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* C1 controls, U+0080..9F */
            o += snprintf(o, 7, "\\u%04x", p[1]);
            p++;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return e;
}

/* The byte length of s's first `chars` characters. */
static size_t utf8_bytes(const char *s, size_t chars)
{
    size_t i = 0, c = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == chars)
                break;
            c++;
        }
    }
    return i;
}

void cli_escape(const char *s, size_t max_chars, char *out, size_t cap)
{
    char *e = escape_dup(s);
    if (max_chars && cli_utf8_width(e) > max_chars)
        snprintf(out, cap, "%.*s…", (int)utf8_bytes(e, max_chars - 1), e);
    else
        snprintf(out, cap, "%s", e);
    free(e);
}

void cli_print_text(const char *s, size_t max_chars)
{
    char *e = escape_dup(s);
    if (max_chars && cli_utf8_width(e) > max_chars)
        printf("%.*s…", (int)utf8_bytes(e, max_chars - 1), e);
    else
        fputs(e, stdout);
    free(e);
}

void cli_print_padded(const char *s, size_t width)
{
    char *e = escape_dup(s);
    size_t w = cli_utf8_width(e);
    if (w > width) /* cut at a character boundary and mark it */
        printf("%.*s…", (int)utf8_bytes(e, width - 1), e);
    else
        printf("%s%*s", e, (int)(width - w), "");
    free(e);
}

/* ---- the option table ------------------------------------------------------ */

int cli_opt_flag(const struct cli_option *opt, const char *value, void *target)
{
    (void)value;
    *(int *)((char *)target + opt->offset) = 1;
    return 0;
}

int cli_opt_string(const struct cli_option *opt, const char *value, void *target)
{
    *(const char **)((char *)target + opt->offset) = value;
    return 0;
}

static int parse_bounded(const struct cli_option *opt, const char *value, uint64_t *n)
{
    if (cli_parse_size(value, n) || (double)*n < opt->lo || (double)*n > opt->hi)
        return cli_fail(CLI_USAGE, "%s must be a whole number from %.0f to %.0f (not '%s')",
                        opt->name, opt->lo, opt->hi, value);
    return 0;
}

int cli_opt_u32(const struct cli_option *opt, const char *value, void *target)
{
    uint64_t n = 0;
    if (parse_bounded(opt, value, &n))
        return CLI_USAGE;
    *(uint32_t *)((char *)target + opt->offset) = (uint32_t)n;
    return 0;
}

int cli_opt_u64(const struct cli_option *opt, const char *value, void *target)
{
    uint64_t n = 0;
    if (parse_bounded(opt, value, &n))
        return CLI_USAGE;
    *(uint64_t *)((char *)target + opt->offset) = n;
    return 0;
}

int cli_opt_double(const struct cli_option *opt, const char *value, void *target)
{
    char *end;
    double d = strtod(value, &end);
    if (end == value || *end || !(d >= opt->lo && d <= opt->hi))
        return cli_fail(CLI_USAGE, "%s must be a number from %g to %g (not '%s')", opt->name,
                        opt->lo, opt->hi, value);
    *(double *)((char *)target + opt->offset) = d;
    return 0;
}

static const struct cli_option *find_option(const struct cli_option *t, const char *a)
{
    for (; t && t->name; t++)
        if (strcmp(a, t->name) == 0 || (t->alias && strcmp(a, t->alias) == 0))
            return t;
    return NULL;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *target,
              const char **files, struct cli_read *rd)
{
    size_t nfiles = 0;
    while (cmd->files && cmd->files[nfiles])
        nfiles++;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cmd->usage, stdout);
            if (rd)
                fputs(cli_read_options_help, stdout);
            return CLI_OK;
        }
        if (rd) {
            int r = read_option(argc, argv, &i, rd);
            if (r < 0)
                return CLI_USAGE;
            if (r > 0)
                continue;
        }
        if (a[0] != '-' || a[1] == '\0') { /* a file ("-" too) */
            size_t k = 0;
            while (k < nfiles && files[k])
                k++;
            if (k == nfiles)
                return cli_fail(CLI_USAGE, "%s: too many files ('%s'; see leadscore %s --help)",
                                cmd->name, a, cmd->name);
            files[k] = a;
            continue;
        }
        const struct cli_option *opt = find_option(cmd->options, a);
        if (!opt)
            return cli_fail(CLI_USAGE, "%s: unknown option '%s' (see leadscore %s --help)",
                            cmd->name, a, cmd->name);
        const char *v = NULL;
        if (opt->takes_value) {
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "%s: %s needs a value (see leadscore %s --help)",
                                cmd->name, a, cmd->name);
            v = argv[++i];
        }
        int rc = opt->set(opt, v, target);
        if (rc)
            return rc;
    }
    for (size_t k = 0; k < cmd->required; k++)
        if (!files[k])
            return cli_fail(CLI_USAGE, "%s: missing %s (usage: see leadscore %s --help)", cmd->name,
                            cmd->files[k], cmd->name);
    return -1;
}

void cli_step_progress(void *ctx, const char *step, uint64_t done, uint64_t total)
{
    (void)ctx;
    static int last = -1;
    if (!isatty(STDERR_FILENO) || total == 0)
        return;
    int pct = (int)(100 * done / total);
    if (done >= total) {
        if (last >= 0)
            fputs("\r\033[K", stderr);
        last = -1;
        fflush(stderr);
        return;
    }
    if (pct == last)
        return;
    last = pct;
    int width = 30, fill = pct * width / 100;
    fprintf(stderr, "\r%s [%.*s%*s] %3d%%", step, fill, "##############################",
            width - fill, "", pct);
    fflush(stderr);
}
