/*
 * value.c — cell parsers of value.h.
 */
#include "data/value.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

void value_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && is_ws(*p)) {
        p++;
        n--;
    }
    while (n && is_ws(p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

int value_ieq(const char *s, size_t len, const char *t)
{
    size_t i = 0;
    for (; i < len && t[i]; i++) {
        char a = s[i], b = t[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return i == len && t[i] == '\0';
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int value_parse_number(const char *s, size_t len, int decimal_comma, double *out)
{
    if (len == 0 || len > 64)
        return 0;
    char clean[72];
    size_t n = 0;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        clean[n++] = s[0];
        i = 1;
    }
    /* In a decimal-comma file a comma is the decimal mark; dots then group thousands. */
    int has_comma = decimal_comma && memchr(s, ',', len) != NULL;
    uint64_t mant = 0;
    int digits = 0, sig = 0, frac = 0, int_digits = 0, seen_point = 0, lead_zero = 0;
    int group = -1; /* digits since the last thousands dot, -1 before the first */
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (!seen_point) {
                if (int_digits == 0 && c == '0')
                    lead_zero = 1;
                int_digits++;
                if (group >= 0)
                    group++;
            } else {
                frac++;
            }
            digits++;
            if (sig > 0 || c != '0') {
                if (sig < 19)
                    mant = mant * 10 + (uint64_t)(c - '0');
                else if (!seen_point)
                    frac--; /* a dropped integer digit scales by 10 */
                sig++;
                if (sig > 19 && seen_point)
                    frac--; /* a dropped fraction digit changes nothing */
            }
            clean[n++] = c;
        } else if (has_comma && c == '.' && !seen_point) {
            if (int_digits == 0 || (group >= 0 && group != 3) || (group < 0 && int_digits > 3))
                return 0;
            group = 0;
        } else if ((c == '.' && !has_comma) || (c == ',' && has_comma)) {
            if (seen_point || (group >= 0 && group != 3))
                return 0;
            seen_point = 1;
            group = -1;
            clean[n++] = '.';
        } else if (c == 'e' || c == 'E') {
            break;
        } else {
            return 0;
        }
    }
    if (digits == 0 || (group >= 0 && group != 3))
        return 0;
    if (lead_zero && int_digits > 1)
        return 0;
    int exp10 = 0;
    if (i < len) { /* exponent */
        clean[n++] = 'e';
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            clean[n++] = s[i++];
        int ed = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || ed >= 5)
                return 0;
            exp10 = exp10 * 10 + (s[i] - '0');
            clean[n++] = s[i];
            ed++;
        }
        if (ed == 0)
            return 0;
        if (clean[n - ed - 1] == '-')
            exp10 = -exp10;
    }
    clean[n] = '\0';
    int e = exp10 - frac;
    if (sig <= 15 && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
        *out = neg ? -v : v;
        return 1;
    }
    char *end;
    double v = strtod(clean, &end);
    if (*end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int value_bool(const char *s, size_t len)
{
    static const char *const yes[] = {"yes", "y", "true", "t", "1"};
    static const char *const no[] = {"no", "n", "false", "f", "0"};
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (value_ieq(s, len, yes[i]))
            return 1;
        if (value_ieq(s, len, no[i]))
            return 0;
    }
    return -1;
}

long value_days_from_civil(long y, unsigned m, unsigned d)
{
    /* Hinnant's days_from_civil: shift the year to start in March. */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int days_in_month(long y, unsigned m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Read 1..max digits at s[*i]; returns -1 when there are none. */
static long read_num(const char *s, size_t len, size_t *i, int min, int max)
{
    long v = 0;
    int k = 0;
    while (*i < len && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    return k >= min ? v : -1;
}

static int parse_time(const char *s, size_t len, size_t *i, int iso, double *frac_day)
{
    long hh = read_num(s, len, i, 1, 2);
    if (hh < 0 || *i >= len || s[*i] != ':')
        return 0;
    (*i)++;
    long mm = read_num(s, len, i, 2, 2);
    if (mm < 0)
        return 0;
    double ss = 0;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        long sec = read_num(s, len, i, 2, 2);
        if (sec < 0 || sec > 60)
            return 0;
        ss = (double)sec;
        if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
            (*i)++;
            double scale = 0.1;
            size_t start = *i;
            while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
                ss += (s[*i] - '0') * scale;
                scale /= 10;
                (*i)++;
            }
            if (*i == start)
                return 0;
        }
    }
    if (!iso && *i + 3 <= len && s[*i] == ' ') { /* 12-hour clock */
        if (value_ieq(s + *i + 1, 2, "am") || value_ieq(s + *i + 1, 2, "pm")) {
            if (hh < 1 || hh > 12)
                return 0;
            int pm = s[*i + 1] == 'p' || s[*i + 1] == 'P';
            hh = hh % 12 + (pm ? 12 : 0);
            *i += 3;
        }
    }
    if (hh > 23 || mm > 59)
        return 0;
    double off_min = 0;
    if (iso && *i < len) {
        if (s[*i] == 'Z') {
            (*i)++;
        } else if (s[*i] == '+' || s[*i] == '-') {
            int sign = s[*i] == '-' ? -1 : 1;
            (*i)++;
            long oh = read_num(s, len, i, 2, 2);
            if (oh < 0)
                return 0;
            if (*i < len && s[*i] == ':')
                (*i)++;
            long om = read_num(s, len, i, 2, 2);
            if (om < 0 || oh > 14 || om > 59)
                return 0;
            off_min = sign * (double)(oh * 60 + om);
        }
    }
    *frac_day = ((double)hh * 3600 + (double)mm * 60 + ss - off_min * 60) / 86400.0;
    return 1;
}

int value_parse_date(const char *s, size_t len, enum date_fmt fmt, double *days, int *has_time)
{
    size_t i = 0;
    long y, m, d;
    if (len < 8 || len > 40)
        return 0;
    if (fmt == DATE_ISO) {
        y = read_num(s, len, &i, 4, 4);
        if (y < 0 || i >= len || (s[i] != '-' && s[i] != '/'))
            return 0;
        char sep = s[i++];
        m = read_num(s, len, &i, 1, 2);
        if (m < 0 || i >= len || s[i] != sep)
            return 0;
        i++;
        d = read_num(s, len, &i, 1, 2);
    } else {
        long a = read_num(s, len, &i, 1, 2);
        if (a < 0 || i >= len || (s[i] != '/' && s[i] != '.' && s[i] != '-'))
            return 0;
        char sep = s[i++];
        long b = read_num(s, len, &i, 1, 2);
        if (b < 0 || i >= len || s[i] != sep)
            return 0;
        i++;
        y = read_num(s, len, &i, 4, 4);
        d = fmt == DATE_DMY ? a : b;
        m = fmt == DATE_DMY ? b : a;
    }
    if (y < 1000 || d < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
        return 0;
    double t = 0;
    int ht = 0;
    if (i < len) {
        if (s[i] != ' ' && !(fmt == DATE_ISO && s[i] == 'T'))
            return 0;
        i++;
        if (!parse_time(s, len, &i, fmt == DATE_ISO, &t))
            return 0;
        ht = 1;
    }
    if (i != len)
        return 0;
    *days = (double)value_days_from_civil(y, (unsigned)m, (unsigned)d) + t;
    *has_time = ht;
    return 1;
}
