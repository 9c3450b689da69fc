/*
 * profile.h — a frame's profile as JSON.
 *
 * One description of a data set — rows, columns with their types, missing
 * counts, distinct counts and summaries, the target and what the reader
 * found about the file — shared by `leadscore inspect --json`, the library's
 * ls_dataset_profile_json() and, later, the HTTP API, so they never drift.
 */
#ifndef LS_APP_PROFILE_H
#define LS_APP_PROFILE_H

#include "data/frame.h"
#include "data/target.h"

#include <jansson.h>

/*
 * Build the profile object. t may be NULL (no target), target_error then
 * says why (may be NULL). The caller owns the result (json_decref).
 */
json_t *profile_json(const struct frame *f, const char *file, const struct target *t,
                     const char *target_error);

/* Dump with the project's float precision; caller frees. NULL on failure. */
char *profile_dumps(const json_t *j, int pretty);

/* Human-readable warnings about the read (renamed columns, repaired rows...);
 * returns the count and appends strings to arr. */
size_t profile_warnings(const struct frame *f, json_t *arr);

/* Only the warnings about how the file was read (encoding fallbacks, renamed
 * columns, short or padded rows): the ones every command that reads a file
 * repeats, training and scoring too. Returns how many were appended. */
size_t profile_read_warnings(const struct frame *f, json_t *arr);

#endif
