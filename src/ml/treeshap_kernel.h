/*
 * treeshap_kernel.h — the inner walk of treeshap.c, included twice: once
 * compiled for AVX2 + FMA and once for the baseline instruction set, with
 * TS_SUFFIX / TS_TARGET naming and targeting each copy, and TS_K, when
 * defined, fixing the number of quadrature points at compile time so the
 * loops over them unroll and stay in registers. treeshap.c picks a copy at
 * run time. Not a public header.
 *
 * One call of visit() handles node j for the four rows of a group, one per
 * lane of a ts_v. Frame d (w->frame + d * w->fstride) holds, K vectors
 * each: C (the product of the path's factors at the quadrature points, set
 * by the parent), then this level's scratch Hc, Ro, sH, sA, As.
 *
 * Per edge into child c, splitting on feature i, with p_c (0/1 per lane: the
 * row follows every split on i down to c) and q_c (the product of i's cover
 * ratios down to c):
 *   down: C_c = C * (q_c + t (p_c - q_c)) / (factor of i's previous occurrence)
 *   up:   H_c = sum over the subtree's leaves of v * C_leaf, and
 *         A_c = the same with i's factor removed, where deeper occurrences of
 *               i contribute their own A (pending sums, see treeshap.c);
 *         phi_i += ((p_c - q_c) - (p_prev - q_prev)) * sum_k w_k A_c(t_k)
 * The second term telescopes over the occurrences of i on a path, so each
 * leaf adds (p - q) of its final factor exactly once.
 */
#define TS_CAT2(a, b) a##b
#define TS_CAT(a, b)  TS_CAT2(a, b)
#define TS_FN(name)   TS_CAT(name, TS_SUFFIX)
#ifdef TS_K
#define TS_KK TS_K
#else
#define TS_KK w->K
#endif

TS_TARGET static void TS_FN(visit)(struct ts_work *w, uint32_t j, uint32_t d, ts_v *restrict H)
{
    const struct tree *t = w->t;
    const struct tnode *n = &t->nodes[j];
    const uint32_t K = TS_KK;
    ts_v *C = w->frame + (size_t)d * w->fstride;
    if (n->kind == TNODE_LEAF) {
        double v = n->value;
        for (uint32_t k = 0; k < K; k++)
            H[k] = C[k] * v;
        return;
    }
    ts_v *Cc = w->frame + (size_t)(d + 1) * w->fstride;
    ts_v *Hc = C + K, *Ro = Hc + K, *sH = Ro + K, *sA = sH + K, *As = sA + K;
    const double *tk = w->gl_t, *wk = w->gl_w, *wuk = w->gl_wu, *iwk = w->gl_iw;
    const uint32_t i = n->feat;
    const uint8_t *b = w->bins + (size_t)i * TS_LANES;
    const ts_v zero = {0}, one = zero + 1;
    ts_v pl;
    if (n->kind == TNODE_ORDERED) { /* bins 1..arg go left, bin 0 as learned */
        ts_vi bi;
        for (int l = 0; l < TS_LANES; l++)
            bi[l] = b[l];
        ts_vi left = ((bi - 1) < (ts_vi){0} + n->arg) |
                     ((bi == 0) & ((ts_vi){0} + (n->flags & TNODE_MISSING_LEFT ? -1 : 0)));
        pl = __builtin_convertvector(left & 1, ts_v);
    } else {
        for (int l = 0; l < TS_LANES; l++)
            pl[l] = tnode_goes_left(t, n, b[l]);
    }
    const int32_t prev = w->occ[i];
    const ts_v pp = w->occp[i];
    ts_v dprev = zero;
    ts_v *pH = w->pendH + (size_t)i * K, *pA = w->pendA + (size_t)i * K;
    /* Ca: C with the factor of i's previous occurrence divided out */
    const ts_v *Ca = C;
    if (prev >= 0) {
        const double *wR = w->wR1 + (size_t)prev * K;
        const double iq = w->invq[prev];
        for (uint32_t k = 0; k < K; k++) {
            Ro[k] = C[k] * (pp * wR[k] + (one - pp) * (iq * wuk[k])) * iwk[k];
            sH[k] = pH[k];
            sA[k] = pA[k];
            As[k] = zero;
        }
        Ca = Ro;
        dprev = pp - w->qc[prev];
    }
    const struct tnode *kid = &t->nodes[n->left];
    const int leaves = (kid[0].kind == TNODE_LEAF) + (kid[1].kind == TNODE_LEAF);
    /* A leaf child c has H_c = v Ca F_c and A_c = v Ca: its share needs only
     * S = sum_k w_k Ca(t_k), and its H is folded into alpha + t beta. */
    ts_v S = zero, alpha = zero, beta = zero, vleaf = zero;
    if (leaves)
        for (uint32_t k = 0; k < K; k++)
            S += wk[k] * Ca[k];
    int hset = 0; /* H written yet? (assigning first is cheaper than zeroing) */
    for (uint32_t side = 0; side < 2; side++) {
        const uint32_t c = n->left + side;
        ts_v pc = side ? one - pl : pl;
        if (prev >= 0)
            pc *= pp;
        const double q = w->qc[c];
        const ts_v slope = pc - q;
        ts_v s;
        if (kid[side].kind == TNODE_LEAF) {
            const double v = kid[side].value;
            s = v * S;
            alpha += v * q;
            beta += v * slope;
            vleaf += v;
        } else {
            for (uint32_t k = 0; k < K; k++)
                Cc[k] = Ca[k] * (q + tk[k] * slope);
            w->occ[i] = (int32_t)c;
            w->occp[i] = pc;
            const int rep = w->rep[c];
            if (rep)
                for (uint32_t k = 0; k < K; k++)
                    pH[k] = pA[k] = zero;
            TS_FN(visit)(w, c, d + 1, Hc);
            const double *wR = w->wR1 + (size_t)c * K;
            const double iq = w->invq[c];
            const ts_v npc = one - pc;
            if (hset)
                for (uint32_t k = 0; k < K; k++)
                    H[k] += Hc[k];
            else
                for (uint32_t k = 0; k < K; k++)
                    H[k] = Hc[k];
            hset = 1;
            if (prev < 0 && !rep) { /* the common edge: 1/F splits by lane into two sums */
                ts_v s1 = zero, s0 = zero;
                for (uint32_t k = 0; k < K; k++) {
                    s1 += Hc[k] * wR[k];
                    s0 += Hc[k] * wuk[k];
                }
                s = pc * s1 + npc * (iq * s0);
            } else {
                s = zero;
                for (uint32_t k = 0; k < K; k++) {
                    ts_v Re = (pc * wR[k] + npc * (iq * wuk[k])) * iwk[k];
                    ts_v A = rep ? (Hc[k] - pH[k]) * Re + pA[k] : Hc[k] * Re;
                    s += wk[k] * A;
                    if (prev >= 0)
                        As[k] += A;
                }
            }
        }
        w->phi[i] += (slope - dprev) * s * w->use;
    }
    if (leaves) {
        if (hset)
            for (uint32_t k = 0; k < K; k++)
                H[k] += Ca[k] * (alpha + tk[k] * beta);
        else
            for (uint32_t k = 0; k < K; k++)
                H[k] = Ca[k] * (alpha + tk[k] * beta);
        if (prev >= 0)
            for (uint32_t k = 0; k < K; k++)
                As[k] += vleaf * Ca[k];
    }
    w->occ[i] = prev;
    w->occp[i] = pp;
    if (prev >= 0)
        for (uint32_t k = 0; k < K; k++) {
            pH[k] = sH[k] + H[k];
            pA[k] = sA[k] + As[k];
        }
}

/* One tree for one group of rows: contributions into w->phi. */
TS_TARGET static void TS_FN(group)(struct ts_work *w)
{
    const ts_v zero = {0};
    for (uint32_t k = 0; k < TS_KK; k++)
        w->frame[k] = zero + 1;
    TS_FN(visit)(w, 0, 0, w->Hroot);
}

#undef TS_FN
#undef TS_KK
#undef TS_CAT
#undef TS_CAT2
