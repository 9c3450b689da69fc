/*
 * csv.c — the streaming CSV reader of csv.h.
 *
 * Data path: source bytes (file or memory) -> decoder (BOM, UTF-16 through
 * iconv) -> one physical line at a time -> per-line UTF-8 check (lines that
 * are not valid UTF-8 are converted from Windows-1252) -> libcsv -> our field
 * and row callbacks -> the sink.
 *
 * Why one line at a time: libcsv reports fields and rows but no positions.
 * Feeding it a line per call means that whatever it reports during a call
 * belongs to the current line, so errors can say "line 812, column 4". The
 * per-call overhead is a few nanoseconds against a line of a hundred bytes.
 *
 * libcsv's field buffer grows without bound; we install a realloc function
 * that refuses to grow past the field limit, so a field that runs away (an
 * unclosed quote swallowing the file) stops at max_field with CSV_ENOMEM.
 *
 * Fast path: a line that starts a row and holds no quote character cannot
 * hold an escaped delimiter or line break, so it is split on the delimiter
 * directly, with libcsv's own rules (spaces and tabs around a field trimmed,
 * blank lines skipped), and the same callbacks receive the fields. Lines with
 * a quote, or a stray CR inside, still go through libcsv. Most lines of a CRM
 * export have no quote, and the split is several times faster than libcsv's
 * byte-at-a-time state machine; tests check the two agree.
 */
#include "data/csv.h"

#include "core/buf.h"
#include "core/mem.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define RAW_CHUNK (1u << 20) /* bytes read from the source per call */
/* The decoded text buffer holds a remainder (< one chunk) plus a decoded
 * chunk (UTF-16 grows by up to 1.5x): four chunks always suffice. */
#define SNIFF_BYTES   (64u * 1024) /* how much text the delimiter sniffer looks at */
#define SNIFF_RECORDS 30           /* records it counts delimiters in */
#define PROGRESS_STEP (8ull << 20) /* bytes between progress callbacks */

/* libcsv parser states (libcsv.c): at a row start, and inside a field. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_BEGUN   2

enum enc_mode { ENC_UTF8, ENC_UTF16LE, ENC_UTF16BE };

struct reader {
    const struct csv_opts *opts;
    const struct csv_sink *sink;
    struct csv_info *info;
    struct ls_error *err;

    /* source */
    FILE *fp;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    uint64_t total;
    int eof;
    uint64_t next_progress;
    size_t chunk; /* bytes read per call: RAW_CHUNK, less for small inputs */

    /* decoding */
    enum enc_mode enc;
    int bom;
    iconv_t utf16;      /* UTF-16 -> UTF-8, or (iconv_t)-1 */
    iconv_t cp1252;     /* Windows-1252 -> UTF-8, opened on first need */
    unsigned char *raw; /* UTF-16 bytes not yet decoded */
    size_t raw_len;
    unsigned char *text; /* decoded UTF-8 */
    size_t text_len, text_pos;
    struct buf conv; /* a line converted from Windows-1252 */

    /* parsing */
    struct csv_parser p;
    int parser_ready;
    unsigned char term;
    uint64_t line; /* the physical line being fed, from 1 */
    int in_header;
    char **names;
    size_t nnames, names_cap;
    size_t ncols;
    size_t col;            /* fields seen in the current row */
    size_t extra_nonempty; /* non-empty fields past ncols in the current row */
    uint64_t row_line;     /* line where the current row started */
    uint64_t fields_total; /* every field callback, for the quote tracker */
    int in_quote;          /* a quoted field is open after the last feed */
    uint64_t quote_line;   /* where the open quoted field started */
    size_t quote_col;
    int failed;
    int rc;
};

/* libcsv's realloc hook has no context argument, so the cap lives here. */
static _Thread_local size_t csv__field_cap;

static void *capped_realloc(void *p, size_t n)
{
    if (n > csv__field_cap)
        return NULL;
    return realloc(p, n);
}

void csv_opts_default(struct csv_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->limits.max_bytes = CSV_DEFAULT_MAX_BYTES;
    opts->limits.max_rows = CSV_DEFAULT_MAX_ROWS;
    opts->limits.max_cols = CSV_DEFAULT_MAX_COLS;
    opts->limits.max_field = CSV_DEFAULT_MAX_FIELD;
}

int csv_utf8_check(const unsigned char *p, size_t n, int *non_ascii)
{
    const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
    size_t i = 0;
    int na = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            /* all ASCII and no zero byte: skip the word */
            if (((w & hi) | ((w - lo) & ~w & hi)) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c == 0)
            return 2;
        if (c < 0x80) {
            i++;
            continue;
        }
        na = 1;
        size_t need;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            min = 0x10000;
        } else {
            return 1;
        }
        if (i + need >= n)
            return 1;
        unsigned cp = c & (0x3F >> need);
        for (size_t k = 1; k <= need; k++) {
            unsigned cc = p[i + k];
            if ((cc & 0xC0) != 0x80)
                return 1;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 1;
        i += need + 1;
    }
    if (non_ascii)
        *non_ascii = na;
    return 0;
}

static int fail(struct reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, int code, const char *fmt, ...)
{
    if (!r->failed) {
        r->failed = 1;
        r->rc = code;
        if (r->err) {
            r->err->code = code;
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
            va_end(ap);
        }
    }
    return r->rc;
}

/* A sink callback failed: keep its code and message. */
static void fail_from_sink(struct reader *r, int rc)
{
    if (!r->failed) {
        r->failed = 1;
        r->rc = rc;
    }
}

static void human_bytes(uint64_t n, char *out, size_t cap)
{
    if (n >= (1ull << 20) && n % (1ull << 20) == 0)
        snprintf(out, cap, "%llu MB", (unsigned long long)(n >> 20));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(out, cap, "%llu KB", (unsigned long long)(n >> 10));
    else
        snprintf(out, cap, "%llu bytes", (unsigned long long)n);
}

/* ---- source ------------------------------------------------------------ */

/* Read up to cap bytes from the source; 0 at end. */
static size_t source_read(struct reader *r, unsigned char *dst, size_t cap)
{
    size_t got;
    if (r->fp) {
        got = fread(dst, 1, cap, r->fp);
        if (got < cap && ferror(r->fp)) {
            fail(r, LS_EIO, "read error: %s", strerror(errno));
            return 0;
        }
    } else {
        got = r->mem_len - r->mem_pos;
        if (got > cap)
            got = cap;
        memcpy(dst, r->mem + r->mem_pos, got);
        r->mem_pos += got;
    }
    if (got == 0) {
        r->eof = 1;
        return 0;
    }
    r->info->bytes += got;
    if (r->info->bytes > r->opts->limits.max_bytes) {
        char lim[32];
        human_bytes(r->opts->limits.max_bytes, lim, sizeof lim);
        fail(r, LS_ELIMIT, "the file is larger than the limit of %s (max_bytes)", lim);
        return 0;
    }
    if (r->opts->progress && r->info->bytes >= r->next_progress) {
        r->opts->progress(r->opts->progress_ctx, r->info->bytes, r->total);
        r->next_progress = r->info->bytes + PROGRESS_STEP;
    }
    return got;
}

/* ---- decoding ---------------------------------------------------------- */

static void put_replacement(unsigned char **out, size_t *left)
{
    if (*left >= 3) {
        (*out)[0] = 0xEF;
        (*out)[1] = 0xBF;
        (*out)[2] = 0xBD;
        *out += 3;
        *left -= 3;
    }
}

/* Decode r->raw (UTF-16) into the text buffer; keeps an incomplete tail. */
static void decode_utf16(struct reader *r, int at_eof)
{
    char *in = (char *)r->raw;
    size_t inleft = r->raw_len;
    unsigned char *out = r->text + r->text_len;
    size_t outleft = 4 * r->chunk - r->text_len;
    while (inleft > 0) {
        char *o = (char *)out;
        size_t rc = iconv(r->utf16, &in, &inleft, &o, &outleft);
        out = (unsigned char *)o;
        if (rc != (size_t)-1)
            break;
        if (errno == EILSEQ) { /* lone surrogate: U+FFFD, skip the unit */
            put_replacement(&out, &outleft);
            size_t skip = inleft < 2 ? inleft : 2;
            in += skip;
            inleft -= skip;
        } else if (errno == EINVAL) { /* incomplete unit at the end */
            if (at_eof) {
                put_replacement(&out, &outleft);
                inleft = 0;
            }
            break;
        } else {
            break; /* E2BIG cannot happen: the buffer leaves room */
        }
    }
    memmove(r->raw, in, inleft);
    r->raw_len = inleft;
    r->text_len = (size_t)(out - r->text);
}

/* Move the unread text to the front and append more decoded text. */
static void fill_text(struct reader *r)
{
    if (r->text_pos > 0) {
        memmove(r->text, r->text + r->text_pos, r->text_len - r->text_pos);
        r->text_len -= r->text_pos;
        r->text_pos = 0;
    }
    if (r->enc == ENC_UTF8) {
        r->text_len += source_read(r, r->text + r->text_len, r->chunk);
    } else {
        size_t got = source_read(r, r->raw + r->raw_len, r->chunk);
        r->raw_len += got;
        decode_utf16(r, r->eof);
    }
}

/* Convert one Windows-1252 segment to UTF-8 into r->conv. */
static int convert_cp1252(struct reader *r, const unsigned char *p, size_t n)
{
    if (r->cp1252 == (iconv_t)-1) {
        r->cp1252 = iconv_open("UTF-8", "WINDOWS-1252");
        if (r->cp1252 == (iconv_t)-1)
            return fail(r, LS_EENCODING,
                        "line %llu: text is not UTF-8 and the Windows-1252 "
                        "converter is not available",
                        (unsigned long long)r->line);
    }
    buf_reset(&r->conv);
    if (buf_append(&r->conv, NULL, 0))
        return fail(r, LS_ENOMEM, "conversion buffer");
    size_t need = 3 * n + 4;
    if (r->conv.cap < need + 1) {
        r->conv.data = xrealloc(r->conv.data, need + 1);
        r->conv.cap = need + 1;
    }
    char *in = (char *)p;
    size_t inleft = n;
    char *out = r->conv.data;
    size_t outleft = need;
    while (inleft > 0) {
        size_t rc = iconv(r->cp1252, &in, &inleft, &out, &outleft);
        if (rc != (size_t)-1)
            break;
        /* the five bytes Windows-1252 leaves undefined: U+FFFD */
        unsigned char *o = (unsigned char *)out;
        put_replacement(&o, &outleft);
        out = (char *)o;
        in++;
        inleft--;
    }
    r->conv.len = (size_t)(out - r->conv.data);
    return LS_OK;
}

/* ---- libcsv callbacks --------------------------------------------------- */

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static void on_field(void *s, size_t len, void *data)
{
    struct reader *r = data;
    if (r->failed)
        return;
    r->fields_total++;
    const char *p = s ? s : "";
    if (len > r->opts->limits.max_field) {
        char lim[32];
        human_bytes(r->opts->limits.max_field, lim, sizeof lim);
        fail(r, LS_ELIMIT,
             "line %llu, column %zu: field of %zu bytes is longer than the limit of %s "
             "(max_field)",
             (unsigned long long)r->line, r->col + 1, len, lim);
        return;
    }
    if (r->in_header) {
        if (r->nnames >= r->opts->limits.max_cols) {
            fail(r, LS_ELIMIT, "line %llu: the header has more than %zu columns (limit max_cols)",
                 (unsigned long long)r->line, r->opts->limits.max_cols);
            return;
        }
        if (r->nnames == r->names_cap) {
            r->names_cap = r->names_cap ? 2 * r->names_cap : 64;
            r->names = xreallocarray(r->names, r->names_cap, sizeof *r->names);
        }
        r->names[r->nnames++] = xstrndup(p, len);
        r->col++;
        return;
    }
    if (r->col == 0) {
        r->row_line = r->line;
        if (len && memchr(p, r->term, len)) /* a quoted line break in the first field */
            for (size_t i = 0; i < len; i++)
                r->row_line -= (unsigned char)p[i] == r->term;
    }
    if (r->col < r->ncols) {
        int rc = r->sink->field(r->sink->ctx, r->col, p, len, r->err);
        if (rc)
            fail_from_sink(r, rc);
    } else if (!is_blank(p, len)) {
        r->extra_nonempty++;
    }
    r->col++;
}

static void trim_name(char *s)
{
    size_t n = strlen(s), a = 0;
    while (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
        a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
}

static int name_taken(char **names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return 1;
    return 0;
}

/* Header cleanup: trim, name blank columns column_N, suffix duplicates _2, _3... */
static void finish_header(struct reader *r)
{
    for (size_t i = 0; i < r->nnames; i++) {
        trim_name(r->names[i]);
        int renamed = 0;
        if (r->names[i][0] == '\0') {
            free(r->names[i]);
            char tmp[32];
            snprintf(tmp, sizeof tmp, "column_%zu", i + 1);
            r->names[i] = xstrdup(tmp);
            renamed = 1;
        }
        if (name_taken(r->names, i, r->names[i])) {
            size_t n = strlen(r->names[i]) + 24;
            char *tmp = xmalloc(n);
            for (unsigned k = 2;; k++) {
                snprintf(tmp, n, "%s_%u", r->names[i], k);
                if (!name_taken(r->names, r->nnames, tmp))
                    break;
            }
            free(r->names[i]);
            r->names[i] = tmp;
            renamed = 1;
        }
        r->info->renamed_cols += (size_t)renamed;
    }
}

static void on_row(int c, void *data)
{
    (void)c;
    struct reader *r = data;
    if (r->failed)
        return;
    if (r->in_header) {
        finish_header(r);
        r->in_header = 0;
        r->ncols = r->nnames;
        r->info->cols = r->ncols;
        r->col = 0;
        int rc = r->sink->header(r->sink->ctx, r->ncols, (const char *const *)r->names, r->err);
        if (rc)
            fail_from_sink(r, rc);
        return;
    }
    size_t nf = r->col;
    if (nf > r->ncols) {
        if (r->extra_nonempty) {
            fail(r, LS_EINPUT,
                 "line %llu: row has %zu fields but the header has %zu "
                 "(an unquoted delimiter inside a value?)",
                 (unsigned long long)r->row_line, nf, r->ncols);
            return;
        }
        r->info->trailing_empty_rows++;
        nf = r->ncols;
    } else if (nf < r->ncols) {
        r->info->short_rows++;
    }
    if (r->info->rows >= r->opts->limits.max_rows) {
        fail(r, LS_ELIMIT, "line %llu: more than %llu data rows (limit max_rows)",
             (unsigned long long)r->row_line, (unsigned long long)r->opts->limits.max_rows);
        return;
    }
    r->info->rows++;
    int rc = r->sink->row(r->sink->ctx, nf, r->err);
    if (rc)
        fail_from_sink(r, rc);
    r->col = 0;
    r->extra_nonempty = 0;
}

/* ---- feeding ----------------------------------------------------------- */

/* Emit the field s[0..n) trimmed as libcsv trims unquoted fields. */
static inline void fast_field(struct reader *r, const char *s, size_t n, char delim)
{
    while (n && (*s == ' ' || (*s == '\t' && delim != '\t')))
        s++, n--;
    while (n && (s[n - 1] == ' ' || (s[n - 1] == '\t' && delim != '\t')))
        n--;
    on_field((void *)s, n, r);
}

/*
 * Split a quote-free line that starts a row. Returns 0 (nothing done) when
 * the line needs libcsv after all: a CR or LF before its end.
 */
static int fast_line(struct reader *r, const char *s, size_t n)
{
    if (n && s[n - 1] == '\n')
        n--;
    if (n && s[n - 1] == '\r')
        n--;
    if (memchr(s, '\r', n) || memchr(s, '\n', n))
        return 0;
    char delim = r->info->delimiter;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || (s[i] == '\t' && delim != '\t')))
        i++;
    if (i == n)
        return 1; /* a blank line: libcsv reports no row */
    const char *start = s, *end = s + n;
    for (const char *p = s; p < end; p++)
        if (*p == delim) {
            fast_field(r, start, (size_t)(p - start), delim);
            start = p + 1;
        }
    fast_field(r, start, (size_t)(end - start), delim);
    on_row('\n', r);
    return 1;
}

static int feed(struct reader *r, const unsigned char *seg, size_t n, int ends_line)
{
    int non_ascii = 0;
    int v = csv_utf8_check(seg, n, &non_ascii);
    if (v == 2)
        return fail(r, LS_EINPUT,
                    "line %llu: NUL byte in the text: this looks like binary data, "
                    "not a CSV file",
                    (unsigned long long)r->line);
    if (v == 1) {
        if (convert_cp1252(r, seg, n))
            return r->rc;
        seg = (const unsigned char *)r->conv.data;
        n = r->conv.len;
        r->info->cp1252_lines++;
    } else if (non_ascii) {
        r->info->utf8_lines++;
    }
    if (ends_line && !r->opts->no_fast_path && r->p.pstate == LIBCSV_ROW_NOT_BEGUN &&
        !memchr(seg, '"', n) && fast_line(r, (const char *)seg, n)) {
        r->line++;
        r->info->lines++;
        return r->failed ? r->rc : LS_OK;
    }
    uint64_t f0 = r->fields_total;
    int q0 = r->in_quote;
    size_t used = csv_parse(&r->p, seg, n, on_field, on_row, r);
    if (r->failed)
        return r->rc;
    r->in_quote = r->p.pstate == LIBCSV_FIELD_BEGUN && r->p.quoted;
    if (r->in_quote && (!q0 || r->fields_total != f0)) {
        r->quote_line = r->line;
        r->quote_col = r->col + 1;
    }
    if (used < n) {
        char lim[32];
        human_bytes(r->opts->limits.max_field, lim, sizeof lim);
        if (r->in_quote && r->quote_line != r->line)
            return fail(r, LS_ELIMIT,
                        "line %llu, column %zu: field longer than the limit of %s "
                        "(max_field); the quote opened on line %llu may never be closed",
                        (unsigned long long)r->line, r->col + 1, lim,
                        (unsigned long long)r->quote_line);
        return fail(r, LS_ELIMIT,
                    "line %llu, column %zu: field longer than the limit of %s "
                    "(max_field)",
                    (unsigned long long)r->line, r->col + 1, lim);
    }
    if (ends_line) {
        r->line++;
        r->info->lines++;
    }
    return LS_OK;
}

/* Where a segment without a line end may be cut without splitting a UTF-8 character. */
static size_t safe_cut(const unsigned char *p, size_t n)
{
    size_t k = n;
    for (int back = 0; back < 4 && k > 0; back++) {
        if (p[k - 1] < 0x80)
            return k;
        if (p[k - 1] >= 0xC0) /* a lead byte: cut before it */
            return k - 1 > 0 ? k - 1 : n;
        k--;
    }
    return n;
}

/* ---- sniffing ---------------------------------------------------------- */

/* Line ends (LF, or CR not followed by LF) in t[0..n), stopping at 2. */
static int count_line_ends(const unsigned char *t, size_t n)
{
    int k = 0;
    for (const unsigned char *p = t, *end = t + n; p < end && k < 2; p++)
        if (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] != '\n')))
            k++;
    return k;
}

static void sniff_line_ending(struct reader *r, const unsigned char *t, size_t n)
{
    r->term = '\n';
    snprintf(r->info->line_ending, sizeof r->info->line_ending, "LF");
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\n')
            return;
        if (t[i] == '\r') {
            if (i + 1 < n && t[i + 1] == '\n') {
                snprintf(r->info->line_ending, sizeof r->info->line_ending, "CRLF");
            } else if (i + 1 < n || r->eof) {
                r->term = '\r';
                snprintf(r->info->line_ending, sizeof r->info->line_ending, "CR");
            }
            return;
        }
    }
}

/*
 * Pick the delimiter whose count per record (outside quotes) is the most
 * consistent over the first records, preferring more columns on a tie.
 */
static char sniff_delimiter(const unsigned char *t, size_t n, int whole)
{
    static const char cand[] = {',', ';', '\t', '|'};
    enum { NC = sizeof cand };
    unsigned counts[NC][SNIFF_RECORDS];
    unsigned cur[NC] = {0};
    size_t k = 0;
    int inq = 0, any = 0;
    for (size_t i = 0; i < n && k < SNIFF_RECORDS; i++) {
        unsigned char c = t[i];
        if (c == '"') {
            inq = !inq;
        } else if (!inq && (c == '\n' || c == '\r')) {
            if (any) {
                for (int j = 0; j < NC; j++)
                    counts[j][k] = cur[j];
                k++;
            }
            memset(cur, 0, sizeof cur);
            any = 0;
        } else if (!inq) {
            any = 1;
            for (int j = 0; j < NC; j++)
                if (c == (unsigned char)cand[j])
                    cur[j]++;
        }
    }
    if (whole && any && k < SNIFF_RECORDS) {
        for (int j = 0; j < NC; j++)
            counts[j][k] = cur[j];
        k++;
    }
    if (k == 0)
        return ',';
    int best = 0;
    double best_score = -1;
    for (int j = 0; j < NC; j++) {
        /* the mode of the counts and how often it occurs */
        unsigned mode = 0;
        size_t mode_freq = 0;
        for (size_t a = 0; a < k; a++) {
            size_t f = 0;
            for (size_t b = 0; b < k; b++)
                f += counts[j][b] == counts[j][a];
            if (f > mode_freq || (f == mode_freq && counts[j][a] > mode)) {
                mode_freq = f;
                mode = counts[j][a];
            }
        }
        if (mode == 0)
            continue;
        double score = (double)mode_freq / (double)k * 1000.0 + (mode < 500 ? mode : 500) * 0.01;
        if (score > best_score) {
            best_score = score;
            best = j;
        }
    }
    return best_score < 0 ? ',' : cand[best];
}

/* Recognise BOMs, UTF-16 without BOM, and binary formats at the start. */
static int detect_encoding(struct reader *r, const unsigned char *b, size_t n, size_t *skip)
{
    *skip = 0;
    r->enc = ENC_UTF8;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        r->bom = 1;
        *skip = 3;
        return LS_OK;
    }
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
        r->enc = ENC_UTF16LE;
        r->bom = 1;
        *skip = 2;
        return LS_OK;
    }
    if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
        r->enc = ENC_UTF16BE;
        r->bom = 1;
        *skip = 2;
        return LS_OK;
    }
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } sigs[] = {
        {"PK\x03\x04", 4, "a ZIP archive (an .xlsx workbook?)"},
        {"\x1f\x8b", 2, "a gzip-compressed file"},
        {"%PDF", 4, "a PDF document"},
        {"\xD0\xCF\x11\xE0", 4, "an old Office document (an .xls workbook?)"},
        {"SQLite format 3", 15, "an SQLite database"},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (n >= sigs[i].len && memcmp(b, sigs[i].magic, sigs[i].len) == 0)
            return fail(r, LS_EINPUT, "this is %s, not a CSV file: export it as CSV first",
                        sigs[i].what);
    size_t m = n < 4096 ? n : 4096;
    m &= ~(size_t)1;
    size_t z_even = 0, z_odd = 0;
    for (size_t i = 0; i < m; i++)
        if (b[i] == 0) {
            if (i & 1)
                z_odd++;
            else
                z_even++;
        }
    if (z_even + z_odd == 0)
        return LS_OK;
    size_t half = m / 2;
    if (half >= 2 && z_odd * 10 >= half * 4 && z_even * 20 < half) {
        r->enc = ENC_UTF16LE;
        return LS_OK;
    }
    if (half >= 2 && z_even * 10 >= half * 4 && z_odd * 20 < half) {
        r->enc = ENC_UTF16BE;
        return LS_OK;
    }
    const unsigned char *z = memchr(b, 0, n);
    return fail(r, LS_EINPUT, "byte %zu is NUL: this looks like binary data, not a CSV file",
                (size_t)(z - b) + 1);
}

/* ---- the read ---------------------------------------------------------- */

static int read_all(struct reader *r)
{
    const struct csv_opts *o = r->opts;
    size_t skip;

    /* First chunk: encoding, then line ending and delimiter from the text. */
    r->chunk = RAW_CHUNK;
    if (r->total && r->total < RAW_CHUNK) /* small input: small buffers */
        r->chunk = r->total < 4096 ? 4096 : (size_t)r->total;
    r->raw = xmalloc(r->chunk + 8);
    r->text = xmalloc(4 * r->chunk);
    size_t got = source_read(r, r->raw, r->chunk);
    if (r->failed)
        return r->rc;
    if (got == 0)
        return fail(r, LS_EEMPTY, "the file is empty");
    if (detect_encoding(r, r->raw, got, &skip))
        return r->rc;
    if (r->enc == ENC_UTF8) {
        memcpy(r->text, r->raw + skip, got - skip);
        r->text_len = got - skip;
    } else {
        const char *from = r->enc == ENC_UTF16LE ? "UTF-16LE" : "UTF-16BE";
        r->utf16 = iconv_open("UTF-8", from);
        if (r->utf16 == (iconv_t)-1)
            return fail(r, LS_EENCODING, "no converter from %s", from);
        memmove(r->raw, r->raw + skip, got - skip);
        r->raw_len = got - skip;
        decode_utf16(r, r->eof);
    }
    /* The sniffers need the header and a record or two: read on until two
     * line ends are buffered (a header may be far longer than 64 KB), the
     * file ends, or the buffer holds 2.5 chunks. */
    while (!r->eof && !r->failed && r->text_len + r->chunk * 3 / 2 + 8 <= 4 * r->chunk &&
           (r->text_len < SNIFF_BYTES || count_line_ends(r->text, r->text_len) < 2))
        fill_text(r);
    if (r->failed)
        return r->rc;

    size_t sn = r->text_len;
    sniff_line_ending(r, r->text, sn);
    r->info->delimiter =
        o->delimiter ? o->delimiter : sniff_delimiter(r->text, sn, r->eof && sn == r->text_len);
    r->info->delimiter_sniffed = o->delimiter == 0;
    r->info->decimal_comma = r->info->delimiter != ',';
    size_t lines_seen = 0;
    for (size_t i = 0; i < sn; i++)
        lines_seen += r->text[i] == r->term;
    if (r->total && lines_seen > 1 && sn > 0) {
        double per_line = (double)sn / (double)lines_seen;
        double est = (double)r->total / per_line * 1.05 + 16;
        r->info->est_rows =
            est < (double)o->limits.max_rows ? (uint64_t)est : o->limits.max_rows + 1;
    }

    csv_init(&r->p, 0);
    r->parser_ready = 1;
    csv_set_delim(&r->p, (unsigned char)r->info->delimiter);
    csv__field_cap = o->limits.max_field + 2;
    csv_set_realloc_func(&r->p, capped_realloc);
    csv_set_blk_size(&r->p, 4096);

    r->line = 1;
    r->in_header = 1;
    for (;;) {
        if (r->failed)
            return r->rc;
        unsigned char *start = r->text + r->text_pos;
        size_t avail = r->text_len - r->text_pos;
        unsigned char *nl = avail ? memchr(start, r->term, avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start) + 1;
            r->text_pos += n;
            if (feed(r, start, n, 1))
                return r->rc;
            continue;
        }
        if (!r->eof) {
            /* read more while there is room; a line longer than the buffer
             * is fed to libcsv a part at a time */
            if (avail + r->chunk * 3 / 2 + 8 > 4 * r->chunk) {
                size_t n = safe_cut(start, avail);
                r->text_pos += n;
                if (feed(r, start, n, 0))
                    return r->rc;
            }
            fill_text(r);
            continue;
        }
        if (avail) {
            r->text_pos += avail;
            if (feed(r, start, avail, 1))
                return r->rc;
        }
        break;
    }
    if (r->p.pstate == LIBCSV_FIELD_BEGUN && r->p.quoted)
        return fail(r, LS_EINPUT,
                    "line %llu, column %zu: unterminated quoted field (the quote "
                    "opened here is never closed)",
                    (unsigned long long)r->quote_line, r->quote_col);
    csv_fini(&r->p, on_field, on_row, r);
    if (r->failed)
        return r->rc;
    if (r->in_header)
        return fail(r, LS_EEMPTY, "the file has no header line (only blank lines)");
    return LS_OK;
}

static void finish_info(struct reader *r)
{
    struct csv_info *in = r->info;
    const char *e;
    if (r->enc == ENC_UTF16LE)
        e = r->bom ? "utf-16le (BOM)" : "utf-16le";
    else if (r->enc == ENC_UTF16BE)
        e = r->bom ? "utf-16be (BOM)" : "utf-16be";
    else if (in->cp1252_lines && in->utf8_lines)
        e = "utf-8 + windows-1252";
    else if (in->cp1252_lines)
        e = "windows-1252";
    else
        e = r->bom ? "utf-8 (BOM)" : "utf-8";
    snprintf(in->encoding, sizeof in->encoding, "%s", e);
}

static int read_common(struct reader *r)
{
    r->utf16 = (iconv_t)-1;
    r->cp1252 = (iconv_t)-1;
    buf_init(&r->conv, SIZE_MAX / 2);
    r->next_progress = PROGRESS_STEP;
    memset(r->info, 0, sizeof *r->info);
    ls_error_clear(r->err);

    int rc = read_all(r);
    finish_info(r);
    if (rc == LS_OK && r->opts->progress)
        r->opts->progress(r->opts->progress_ctx, r->info->bytes, r->total);

    if (r->parser_ready)
        csv_free(&r->p);
    if (r->utf16 != (iconv_t)-1)
        iconv_close(r->utf16);
    if (r->cp1252 != (iconv_t)-1)
        iconv_close(r->cp1252);
    buf_cleanup(&r->conv);
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->raw);
    free(r->text);
    return rc;
}

int csv_read_file(const char *path, const struct csv_opts *opts, const struct csv_sink *sink,
                  struct csv_info *info, struct ls_error *err)
{
    struct csv_info local;
    struct reader r = {.opts = opts, .sink = sink, .info = info ? info : &local, .err = err};
    r.fp = fopen(path, "rb");
    if (!r.fp)
        return ls_error_set(err, LS_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(r.fp), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(r.fp);
            return ls_error_set(err, LS_EIO, "'%s' is a directory, not a file", path);
        }
        if (S_ISREG(st.st_mode)) {
            r.total = (uint64_t)st.st_size;
            if (r.total > opts->limits.max_bytes) {
                char lim[32];
                human_bytes(opts->limits.max_bytes, lim, sizeof lim);
                fclose(r.fp);
                return ls_error_set(err, LS_ELIMIT,
                                    "'%s' is %llu bytes, larger than the limit "
                                    "of %s (max_bytes)",
                                    path, (unsigned long long)r.total, lim);
            }
        }
    }
    int rc = read_common(&r);
    fclose(r.fp);
    return rc;
}

int csv_read_mem(const void *data, size_t len, const struct csv_opts *opts,
                 const struct csv_sink *sink, struct csv_info *info, struct ls_error *err)
{
    struct csv_info local;
    struct reader r = {.opts = opts, .sink = sink, .info = info ? info : &local, .err = err};
    r.mem = data;
    r.mem_len = len;
    r.total = len;
    return read_common(&r);
}
