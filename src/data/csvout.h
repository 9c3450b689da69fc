/*
 * csvout.h — writing CSV the way csv.c reads it (RFC 4180).
 *
 * One function for every writer of CSV in LeadScore (scored files, tests),
 * so that a field is quoted the same way everywhere.
 */
#ifndef LS_DATA_CSVOUT_H
#define LS_DATA_CSVOUT_H

#include <stdio.h>

/* Write s to o as one comma-separated field: as is, or in double quotes
 * (quotes doubled) when it holds a comma, a quote or a line break. */
void csv_write_field(FILE *o, const char *s);

#endif
