/*
 * demo.h — a generator of realistic lead data.
 *
 * `make run` and the tests need lead data that a fresh clone can make on its
 * own (the real Leads.csv is not in the repository). The generator writes a
 * CSV of leads from a seeded random model: where they came from (source,
 * industry, country, job title, company size), what they did (pages visited,
 * time on site, email opens, days since last contact, signup date) and
 * whether they converted — a logistic model with interactions, so a forest
 * has real signal to find (AUC around 0.83), plus the mess real exports have:
 * missing values, "Select" placeholders, inconsistent capitalisation, and a
 * share of leads whose outcome is not known yet (the leads to score).
 */
#ifndef LS_DATA_DEMO_H
#define LS_DATA_DEMO_H

#include "core/err.h"

#include <stdint.h>
#include <stdio.h>

#define DEMO_MAX_ROWS 20000000ULL

struct demo_opts {
    uint64_t rows;
    uint64_t seed;
    double unknown_share; /* share of rows with an empty outcome (default 0.1) */
};

void demo_opts_default(struct demo_opts *o);

/* Write the header and o->rows leads to out. LS_EIO on a write error. */
int demo_write(FILE *out, const struct demo_opts *o, struct ls_error *err);

#endif
