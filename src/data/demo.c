/*
 * demo.c — the lead generator of demo.h.
 *
 * Each lead draws its firmographics first, then its behaviour conditioned on
 * a latent "intent", then its outcome from a logistic model of both. The
 * weights were chosen so that conversion is about 30 % and no single column
 * decides it. Missing values are drawn independently per column.
 */
#include "data/demo.h"

#include "core/rng.h"

#include <math.h>
#include <string.h>

struct choice {
    const char *label;
    double weight; /* relative frequency */
    double effect; /* log-odds of converting */
};

static const struct choice sources[] = {
    {"Google", 30, 0.0},  {"Organic Search", 14, 0.2}, {"Direct Traffic", 16, -0.1},
    {"Referral", 7, 0.9}, {"LinkedIn", 8, 0.5},        {"Facebook", 6, -0.6},
    {"Webinar", 5, 0.7},  {"Trade Show", 3, 0.4},      {"Email Campaign", 8, -0.2},
    {"Partner", 3, 1.1},
};
static const struct choice industries[] = {
    {"Software", 22, 0.3},   {"Finance", 12, 0.2},        {"Healthcare", 10, 0.0},
    {"Retail", 12, -0.3},    {"Manufacturing", 10, -0.1}, {"Education", 8, -0.4},
    {"Logistics", 6, 0.0},   {"Real Estate", 7, -0.2},    {"Media", 6, 0.1},
    {"Government", 7, -0.5},
};
static const struct choice countries[] = {
    {"United States", 34, 0.2},  {"India", 18, -0.2},
    {"United Kingdom", 10, 0.1}, {"Germany", 8, 0.0},
    {"Canada", 6, 0.1},          {"Australia", 5, 0.0},
    {"France", 5, -0.1},         {"Brazil", 4, -0.3},
    {"Singapore", 4, 0.2},       {"United Arab Emirates", 3, 0.0},
    {"Mexico", 3, -0.2},
};
static const struct choice titles[] = {
    {"CEO", 6, 0.5},
    {"CTO", 5, 0.4},
    {"VP Sales", 6, 0.6},
    {"Head of Marketing", 7, 0.4},
    {"Sales Manager", 12, 0.3},
    {"Engineer", 16, -0.2},
    {"Analyst", 12, -0.1},
    {"Consultant", 10, 0.0},
    {"Student", 10, -1.0},
    {"Other", 16, -0.3},
};
static const struct choice sizes[] = {
    {"1-10", 22, -0.4},    {"11-50", 25, 0.0}, {"51-200", 22, 0.3},
    {"201-1000", 17, 0.4}, {"1000+", 14, 0.2},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct choice *pick(struct rng *r, const struct choice *c, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += c[i].weight;
    double u = rng_uniform(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (u < c[i].weight)
            return &c[i];
        u -= c[i].weight;
    }
    return &c[n - 1];
}

static uint64_t poisson(struct rng *r, double lambda)
{
    if (lambda > 30) {
        double v = lambda + sqrt(lambda) * rng_normal(r);
        return v < 0 ? 0 : (uint64_t)(v + 0.5);
    }
    double l = exp(-lambda), p = 1;
    uint64_t k = 0;
    do {
        k++;
        p *= rng_uniform(r);
    } while (p > l);
    return k - 1;
}

void demo_opts_default(struct demo_opts *o)
{
    o->rows = 5000;
    o->seed = 42;
    o->unknown_share = 0.1;
}

/* Sometimes lowercase a label, as hand-typed CRM values are. */
static void put_label(FILE *out, struct rng *r, const char *s)
{
    if (rng_uniform(r) < 0.01) {
        for (const char *p = s; *p; p++)
            fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, out);
    } else {
        fputs(s, out);
    }
}

int demo_write(FILE *out, const struct demo_opts *o, struct ls_error *err)
{
    struct rng r;
    rng_seed(&r, o->seed);
    fputs("Lead ID,Signup Date,Lead Source,Industry,Country,Job Title,Company Size,"
          "Pages Visited,Time on Site (s),Email Opens,Days Since Last Contact,Webinar Attended,"
          "Converted\n",
          out);
    long base_day = 19723; /* 2024-01-01 */
    for (uint64_t i = 0; i < o->rows; i++) {
        const struct choice *src = pick(&r, sources, N(sources));
        const struct choice *ind = pick(&r, industries, N(industries));
        const struct choice *cty = pick(&r, countries, N(countries));
        const struct choice *ttl = pick(&r, titles, N(titles));
        const struct choice *sz = pick(&r, sizes, N(sizes));
        double intent = rng_normal(&r) + 0.5 * src->effect;
        uint64_t pages = poisson(&r, exp(1.2 + 0.45 * intent));
        double time_s = pages == 0 ? 0 : exp(5.6 + 0.5 * intent + 0.6 * rng_normal(&r));
        uint64_t opens = poisson(&r, exp(0.6 + 0.35 * intent));
        uint64_t days = (uint64_t)(-log(1 - rng_uniform(&r)) * 20.0);
        int webinar = rng_uniform(&r) < (src->label[0] == 'W' ? 0.8 : 0.08);
        double z = -1.55 + src->effect + ind->effect + cty->effect * 0.5 + ttl->effect +
                   sz->effect + 0.55 * intent + 0.35 * log1p(time_s / 60.0) - 0.02 * (double)days +
                   0.25 * log1p((double)opens) + 0.6 * webinar +
                   (strcmp(ttl->label, "Student") == 0 && sz->effect < 0 ? -0.8 : 0.0);
        int converted = rng_uniform(&r) < 1.0 / (1.0 + exp(-z));
        long day = base_day + (long)rng_below(&r, 540);

        /* civil date from days since epoch (Hinnant's civil_from_days) */
        long zd = day + 719468, era = zd / 146097;
        unsigned doe = (unsigned)(zd - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned dd = doy - (153 * mp + 2) / 5 + 1, mm = mp < 10 ? mp + 3 : mp - 9;
        long yy = (long)yoe + era * 400 + (mm <= 2);

        fprintf(out, "L-%07llu,%04ld-%02u-%02u,", (unsigned long long)i + 1, yy, mm, dd);
        put_label(out, &r, src->label);
        fputc(',', out);
        if (rng_uniform(&r) < 0.06)
            fputs(rng_uniform(&r) < 0.5 ? "Select" : "", out);
        else
            put_label(out, &r, ind->label);
        fputc(',', out);
        if (rng_uniform(&r) < 0.08)
            fputs("", out);
        else
            put_label(out, &r, cty->label);
        fputc(',', out);
        if (rng_uniform(&r) < 0.05)
            fputs("Select", out);
        else
            put_label(out, &r, ttl->label);
        fprintf(out, ",%s,", sz->label);
        if (rng_uniform(&r) < 0.02)
            fputs(",", out);
        else
            fprintf(out, "%llu,", (unsigned long long)pages);
        if (rng_uniform(&r) < 0.02)
            fputs(",", out);
        else
            fprintf(out, "%.0f,", time_s);
        fprintf(out, "%llu,%llu,%s,", (unsigned long long)opens, (unsigned long long)days,
                webinar ? "Yes" : "No");
        if (rng_uniform(&r) < o->unknown_share)
            fputc('\n', out);
        else
            fprintf(out, "%d\n", converted);
        if (ferror(out))
            return ls_error_set(err, LS_EIO, "write error after %llu rows", (unsigned long long)i);
    }
    if (fflush(out) != 0 || ferror(out))
        return ls_error_set(err, LS_EIO, "write error");
    return LS_OK;
}
