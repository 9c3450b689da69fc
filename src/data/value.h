/*
 * value.h — reading one cell's text as a number, a yes/no, a date, or a
 * missing-value token.
 *
 * These are called once per distinct value of a column (see dict.h), so they
 * favour being right over being clever; the number parser still has a fast
 * exact path (Clinger 1990: up to 15 significant digits and a power of ten of
 * at most 22 are exact in a double) because identifier-like numeric columns
 * have as many distinct values as rows.
 */
#ifndef LS_DATA_VALUE_H
#define LS_DATA_VALUE_H

#include <stddef.h>

/* Date layouts a column may use. */
enum date_fmt { DATE_ISO = 1, DATE_DMY = 2, DATE_MDY = 3 };

/* Strip ASCII whitespace from both ends of s[0..*len). */
void value_trim(const char **s, size_t *len);

/*
 * Parse a whole trimmed cell as a number: optional sign, digits, optional
 * decimal part, optional exponent. With decimal_comma, "3,5" is 3.5 and
 * "1.234,5" is 1234.5. Integers with a leading zero ("02134") are codes, not
 * numbers. Returns 1 and writes *out when s is a finite number, else 0.
 */
int value_parse_number(const char *s, size_t len, int decimal_comma, double *out);

/* 1 for a true token (yes, y, true, t, 1), 0 for false (no, n, false, f, 0),
 * -1 for anything else; case-insensitive. */
int value_bool(const char *s, size_t len);

/*
 * Parse a date or date-time in layout fmt: DATE_ISO is YYYY-MM-DD (or /),
 * DATE_DMY and DATE_MDY are D/M/YYYY and M/D/YYYY (separators / . -), each
 * optionally followed by a time HH:MM[:SS[.fff]] (ISO: after T or a space,
 * with an optional Z or +HH:MM offset). Writes days since 1970-01-01 (the
 * time as a fraction) and whether a time was present; returns 1 on success.
 */
int value_parse_date(const char *s, size_t len, enum date_fmt fmt, double *days, int *has_time);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
long value_days_from_civil(long y, unsigned m, unsigned d);

/* Case-insensitive equality of s[0..len) with the C string t. */
int value_ieq(const char *s, size_t len, const char *t);

#endif
