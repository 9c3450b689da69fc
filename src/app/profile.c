/*
 * profile.c — the data-set profile object of profile.h.
 */
#include "app/profile.h"

#include <math.h>
#include <stdio.h>

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* jansson refuses invalid UTF-8; ingest already converted, but stay safe. */
static json_t *str(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("\xEF\xBF\xBD");
}

static void date_string(double days, char *out, size_t cap)
{
    long z = (long)floor(days) + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    long y = (long)yoe + era * 400 + (m <= 2);
    snprintf(out, cap, "%04ld-%02u-%02u", y, m, d);
}

static json_t *column_json(const struct frame *f, const struct column *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", str(c->name));
    json_object_set_new(o, "type", json_string(col_type_name(c->type)));
    json_object_set_new(o, "missing", json_integer((json_int_t)c->prof.missing));
    json_object_set_new(
        o, "missing_pct",
        json_real(f->nrows ? 100.0 * (double)c->prof.missing / (double)f->nrows : 0));
    json_object_set_new(o, "distinct", json_integer((json_int_t)c->prof.distinct));
    switch (c->type) {
    case COL_NUMERIC:
        json_object_set_new(o, "min", num_or_null(c->prof.min));
        json_object_set_new(o, "max", num_or_null(c->prof.max));
        json_object_set_new(o, "mean", num_or_null(c->prof.mean));
        json_object_set_new(o, "sd", num_or_null(c->prof.sd));
        if (c->prof.non_numeric)
            json_object_set_new(o, "non_numeric", json_integer((json_int_t)c->prof.non_numeric));
        break;
    case COL_BOOLEAN:
        json_object_set_new(o, "true_label", str(c->true_label));
        json_object_set_new(o, "false_label", str(c->false_label));
        json_object_set_new(o, "true_share", num_or_null(c->prof.mean));
        break;
    case COL_DATETIME: {
        char a[32], b[32];
        date_string(c->prof.min, a, sizeof a);
        date_string(c->prof.max, b, sizeof b);
        json_object_set_new(o, "min", json_string(a));
        json_object_set_new(o, "max", json_string(b));
        json_object_set_new(o, "format",
                            json_string(c->prof.date_fmt == DATE_ISO   ? "ISO"
                                        : c->prof.date_fmt == DATE_DMY ? "D/M/Y"
                                                                       : "M/D/Y"));
        json_object_set_new(o, "has_time", json_boolean(c->prof.has_time));
        break;
    }
    case COL_CATEGORICAL: {
        json_t *top = json_array();
        for (uint32_t k = 0; k < c->ncat && k < FRAME_TOP_CATEGORIES; k++) {
            json_t *e = json_object();
            json_object_set_new(e, "value", str(c->cats[k]));
            json_object_set_new(e, "count", json_integer((json_int_t)c->cat_count[k]));
            json_array_append_new(top, e);
        }
        json_object_set_new(o, "top", top);
        if (c->prof.merged)
            json_object_set_new(o, "merged_spellings", json_integer((json_int_t)c->prof.merged));
        break;
    }
    case COL_IDENTIFIER:
    case COL_TEXT:
        json_object_set_new(o, "mean_length", json_real(c->prof.mean_len));
        if (f->nrows)
            json_object_set_new(o, "example", str(frame_cell(f, (size_t)(c - f->cols), 0)));
        break;
    case COL_CONSTANT:
        break;
    }
    return o;
}

/* Append a formatted warning to arr and count it (msg, arr, n in scope). */
#define WARN(...)                                                                                  \
    do {                                                                                           \
        snprintf(msg, sizeof msg, __VA_ARGS__);                                                    \
        json_array_append_new(arr, json_string(msg));                                              \
        n++;                                                                                       \
    } while (0)

size_t profile_read_warnings(const struct frame *f, json_t *arr)
{
    char msg[256];
    size_t n = 0;
    const struct csv_info *in = &f->info;
    if (in->cp1252_lines)
        WARN("%llu lines were not valid UTF-8 and were read as Windows-1252",
             (unsigned long long)in->cp1252_lines);
    if (in->renamed_cols)
        WARN("%zu blank or duplicate column names were renamed", in->renamed_cols);
    if (in->short_rows)
        WARN("%llu rows had fewer fields than the header; the rest were read as missing",
             (unsigned long long)in->short_rows);
    if (in->trailing_empty_rows)
        WARN("%llu rows ended with extra empty fields, which were dropped",
             (unsigned long long)in->trailing_empty_rows);
    return n;
}

size_t profile_warnings(const struct frame *f, json_t *arr)
{
    char msg[256];
    size_t n = profile_read_warnings(f, arr);
    for (size_t i = 0; i < f->ncols; i++) {
        const struct column *c = &f->cols[i];
        if (frame_column_warning(c, msg, sizeof msg)) {
            json_array_append_new(arr, json_string(msg));
            n++;
        }
        if (c->type == COL_CONSTANT)
            WARN("column '%.80s' is constant and will not be used", c->name);
    }
    return n;
}
#undef WARN

json_t *profile_json(const struct frame *f, const char *file, const struct target *t,
                     const char *target_error)
{
    json_t *o = json_object();
    if (file)
        json_object_set_new(o, "file", str(file));
    json_object_set_new(o, "rows", json_integer((json_int_t)f->nrows));
    json_object_set_new(o, "column_count", json_integer((json_int_t)f->ncols));
    json_object_set_new(o, "bytes", json_integer((json_int_t)f->info.bytes));
    json_object_set_new(o, "encoding", json_string(f->info.encoding));
    char d[2] = {f->info.delimiter, 0};
    json_object_set_new(o, "delimiter", json_string(d[0] == '\t' ? "\t" : d));
    json_object_set_new(o, "line_ending", json_string(f->info.line_ending));
    json_object_set_new(o, "decimal_comma", json_boolean(f->info.decimal_comma));
    json_t *cols = json_array();
    for (size_t i = 0; i < f->ncols; i++)
        json_array_append_new(cols, column_json(f, &f->cols[i]));
    json_object_set_new(o, "columns", cols);
    if (t) {
        json_t *tj = json_object();
        json_object_set_new(tj, "name", str(t->name));
        json_object_set_new(tj, "positive", str(t->positive));
        json_object_set_new(tj, "negative", str(t->negative));
        json_object_set_new(tj, "confidence", json_real(t->confidence));
        json_object_set_new(tj, "reason", str(t->reason));
        json_object_set_new(tj, "positive_rows", json_integer((json_int_t)t->n_pos));
        json_object_set_new(tj, "negative_rows", json_integer((json_int_t)t->n_neg));
        json_object_set_new(tj, "unknown_rows", json_integer((json_int_t)t->n_unknown));
        json_object_set_new(o, "target", tj);
    } else {
        json_object_set_new(o, "target", json_null());
        if (target_error)
            json_object_set_new(o, "target_error", str(target_error));
    }
    json_t *w = json_array();
    profile_warnings(f, w);
    json_object_set_new(o, "warnings", w);
    return o;
}

char *profile_dumps(const json_t *j, int pretty)
{
    size_t flags = JSON_REAL_PRECISION(10) | JSON_PRESERVE_ORDER;
    if (pretty)
        flags |= JSON_INDENT(2);
    else
        flags |= JSON_COMPACT;
    return json_dumps(j, flags);
}
