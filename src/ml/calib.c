/*
 * calib.c — pool-adjacent-violators and the interpolated map of calib.h.
 */
#include "ml/calib.h"

#include "core/mem.h"
#include "core/sort.h"

#include <math.h>
#include <string.h>

struct pt {
    double p;
    uint8_t y;
};

static double clip(double v)
{
    return v < CALIB_MIN_P ? CALIB_MIN_P : v > CALIB_MAX_P ? CALIB_MAX_P : v;
}

/* Pool block a+1 into block a and close the gap. */
static void pool(double *sx, double *sy, double *w, uint64_t *nb, uint64_t a)
{
    sx[a] += sx[a + 1];
    sy[a] += sy[a + 1];
    w[a] += w[a + 1];
    memmove(sx + a + 1, sx + a + 2, (*nb - a - 2) * sizeof *sx);
    memmove(sy + a + 1, sy + a + 2, (*nb - a - 2) * sizeof *sy);
    memmove(w + a + 1, w + a + 2, (*nb - a - 2) * sizeof *w);
    (*nb)--;
}

void calib_fit(const double *p, const uint8_t *y, uint64_t n, struct calib *c)
{
    calib_fit_ends(p, y, n, CALIB_MIN_END_ROWS, c);
}

void calib_fit_ends(const double *p, const uint8_t *y, uint64_t n, uint64_t min_end,
                    struct calib *c)
{
    memset(c, 0, sizeof *c);
    uint64_t *key = xmalloc((n ? n : 1) * sizeof *key);
    uint32_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
    uint64_t m = 0;
    for (uint64_t i = 0; i < n; i++)
        if (!isnan(p[i])) {
            key[m] = sort_key_of(p[i]);
            idx[m++] = (uint32_t)i;
        }
    sort_keys_vals(key, idx, m);
    struct pt *v = xmalloc((m ? m : 1) * sizeof *v);
    for (uint64_t i = 0; i < m; i++) {
        v[i].p = p[idx[i]];
        v[i].y = y[idx[i]] != 0;
    }
    free(key);
    free(idx);
    /* blocks: one per distinct raw value, then pooled while they decrease */
    double *sx = xmalloc((m ? m : 1) * sizeof *sx); /* sum of raw */
    double *sy = xmalloc((m ? m : 1) * sizeof *sy); /* sum of labels */
    double *w = xmalloc((m ? m : 1) * sizeof *w);
    uint64_t nb = 0;
    for (uint64_t i = 0; i < m;) {
        uint64_t j = i;
        double ys = 0;
        while (j < m && v[j].p == v[i].p)
            ys += v[j++].y;
        sx[nb] = v[i].p * (double)(j - i);
        sy[nb] = ys;
        w[nb] = (double)(j - i);
        nb++;
        while (nb > 1 && sy[nb - 2] / w[nb - 2] >= sy[nb - 1] / w[nb - 1]) {
            sx[nb - 2] += sx[nb - 1];
            sy[nb - 2] += sy[nb - 1];
            w[nb - 2] += w[nb - 1];
            nb--;
        }
        i = j;
    }
    free(v);
    /* thin end blocks join their neighbour: the merged rate lies between the
     * two, so the blocks stay non-decreasing (calib.h says why) */
    while (nb > 1 && w[0] < (double)min_end)
        pool(sx, sy, w, &nb, 0);
    while (nb > 1 && w[nb - 1] < (double)min_end)
        pool(sx, sy, w, &nb, nb - 2);
    if (nb == 0) {
        c->n = 2;
        c->x = xmalloc(2 * sizeof(double));
        c->y = xmalloc(2 * sizeof(double));
        c->x[0] = c->y[0] = 0;
        c->x[1] = c->y[1] = 1;
    } else {
        /* keep at most CALIB_MAX_KNOTS knots, evenly spaced through the blocks */
        uint64_t keep = nb < CALIB_MAX_KNOTS ? nb : CALIB_MAX_KNOTS;
        c->n = (uint32_t)keep;
        c->x = xmalloc(keep * sizeof(double));
        c->y = xmalloc(keep * sizeof(double));
        for (uint64_t k = 0; k < keep; k++) {
            uint64_t b = keep == 1 ? 0 : k * (nb - 1) / (keep - 1);
            c->x[k] = sx[b] / w[b];
            c->y[k] = clip(sy[b] / w[b]);
        }
    }
    free(sx);
    free(sy);
    free(w);
}

double calib_apply(const struct calib *c, double raw)
{
    if (isnan(raw))
        return raw;
    if (c->n == 0)
        return clip(raw);
    if (raw <= c->x[0])
        return clip(c->y[0]);
    if (raw >= c->x[c->n - 1])
        return clip(c->y[c->n - 1]);
    uint32_t lo = 0, hi = c->n - 1; /* x[lo] < raw < x[hi] */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (c->x[mid] <= raw)
            lo = mid;
        else
            hi = mid;
    }
    double t = (raw - c->x[lo]) / (c->x[hi] - c->x[lo]);
    return clip(c->y[lo] + t * (c->y[hi] - c->y[lo]));
}

void calib_cleanup(struct calib *c)
{
    free(c->x);
    free(c->y);
    memset(c, 0, sizeof *c);
}
