/*
 * treeshap_kernel.h — the inner walk of treeshap.c, included several times:
 * compiled for AVX2 + FMA and for the baseline instruction set, with
 * TS_SUFFIX / TS_TARGET naming and targeting each copy, and TS_K, when
 * defined, fixing the number of quadrature points at compile time so the
 * loops over them unroll. treeshap.c picks a copy at run time. Not a public
 * header.
 *
 * One call of visit() handles node j for the TS_LANES rows of a group: a
 * per-row quantity is TS_H vectors of 4 lanes (x[h], lane l = row h*4 + l),
 * and a polynomial is K such quantities (P[k * TS_H + h]). Frame d
 * (w->frame + d * 6 polynomials) holds six polynomials: C (the product of the
 * path's factors at the quadrature points, set by the parent), then this
 * level's scratch Hc, Ca, sH, sA, As.
 *
 * Per edge into child c, splitting on feature i, with p_c (0/1 per row: the
 * row follows every split on i down to c) and q_c (the product of i's cover
 * ratios down to c):
 *   down: C_c = Ca (q_c + t (p_c - q_c)), Ca = C / (factor of i's previous
 *         occurrence on the path, if any)
 *   up:   H_c = sum over the subtree's leaves of v * C_leaf, and
 *         A_c = the same with i's factor removed, where deeper occurrences of
 *               i contribute their own A (pending sums, see treeshap.c; kept
 *               multiplied by the quadrature weights, pendA = w_k A(t_k));
 *         phi_i += ((p_c - q_c) - (p_prev - q_prev)) * sum_k w_k A_c(t_k)
 * The second term telescopes over the occurrences of i on a path, so each
 * leaf adds (p - q) of its final factor exactly once. A leaf child needs no
 * call: H_c = v Ca F_c and A_c = v Ca.
 *
 * Unknown values (tree.h) make p_c the cover ratio instead of 0 or 1 in the
 * lanes concerned (the row takes both children). 1 / F then has no two-way
 * shortcut (1 / (q + t (1 - q)) or 1 / (q (1 - t))): at such a node, and
 * below it at the feature's next occurrences, the kernel divides. Nodes
 * where every lane's value is known run the shortcuts as before.
 */
#define TS_CAT2(a, b) a##b
#define TS_CAT(a, b)  TS_CAT2(a, b)
#define TS_FN(name)   TS_CAT(name, TS_SUFFIX)
#ifdef TS_K
#define TS_KK TS_K
#else
#define TS_KK w->K
#endif
/* for every quadrature point k and half h; x(k, h) indexes a polynomial */
#define TS_EACH(k, h)                                                                              \
    for (uint32_t k = 0; k < K; k++)                                                               \
        for (uint32_t h = 0; h < TS_H; h++)
#define TS_HALF(h)  for (uint32_t h = 0; h < TS_H; h++)
#define TS_IX(k, h) ((k)*TS_H + (h))

TS_TARGET static void TS_FN(visit)(struct ts_work *w, uint32_t j, uint32_t d, ts_v *restrict H)
{
    const struct tree *t = w->t;
    const struct tnode *n = &t->nodes[j];
    const uint32_t K = TS_KK;
    const size_t P = (size_t)K * TS_H;      /* vectors in a polynomial */
    ts_v *C = w->frame + (size_t)d * 6 * P; /* frames are 6 polynomials apart */
    ts_v *Cc = C + 6 * P;
    ts_v *Hc = C + P, *Ca = Hc + P, *sH = Ca + P, *sA = sH + P, *As = sA + P;
    const ts_v *tk = w->gl_t, *wk = w->gl_w, *wuk = w->gl_wu, *iwk = w->gl_iw;
    const uint32_t i = n->feat;
    const ts_v zero = {0}, one = zero + 1;

    /* which rows go left: 1 or 0 per lane; nm: lanes whose value is unknown
     * here (tree.h), which go both ways */
    ts_v pl[TS_H];
    ts_vi nm[TS_H];
    TS_HALF(h) pl[h] = zero;
    const ts_vi *b = w->bins + (size_t)i * TS_H;
    const ts_vi unseen_missing = (ts_vi){0} + (n->flags & TNODE_MISSING_SEEN ? 0 : ~0u);
    if (n->kind == TNODE_ORDERED) { /* bins 1..arg go left, bin 0 as learned */
        const ts_vi arg = (ts_vi){0} + n->arg;
        const ts_vi ml = (ts_vi){0} + (n->flags & TNODE_MISSING_LEFT ? ~0u : 0);
        TS_HALF(h)
        {
            ts_vi z = (ts_vi)(b[h] == 0);
            ts_vi left = (ts_vi)((b[h] - 1) < arg) | (z & ml);
            pl[h] = __builtin_convertvector(left & 1, ts_v);
            nm[h] = z & unseen_missing;
        }
    } else { /* bins in the node's set go left, bin 0 as learned */
        const uint64_t *set = t->catsets[n->arg];
        const ts_vi ml = (ts_vi){0} + (n->flags & TNODE_MISSING_LEFT ? 1u : 0);
        const ts_vi new_code =
            (ts_vi){0} + (n->flags & TNODE_BIN255_VALUE ? 256u : TNODE_UNSEEN_BIN);
        TS_HALF(h)
        {
            ts_vi bits; /* without a branch on the (unpredictable) missing bin */
            for (int l = 0; l < 4; l++) {
                uint32_t x = b[h][l];
                bits[l] = (uint32_t)(set[x >> 6] >> (x & 63)) & 1;
            }
            ts_vi z = (ts_vi)(b[h] == 0);
            pl[h] = __builtin_convertvector((bits & ~z) | (ml & z), ts_v);
            nm[h] = (z & unseen_missing) | (ts_vi)(b[h] == new_code);
        }
    }
    /* pL, pR: the lane's factor for each child. A lane with an unknown value
     * takes both children by cover ratio (p = q for this split); its p is no
     * longer 0 or 1, here nor below on this feature (gm, per lane; occm for
     * the feature's next occurrence). At the feature's first occurrence on
     * the path that costs nothing: p = q exactly, so the edge's share
     * (p - q) * s is 0 whatever s the shortcuts give. At a later one, such
     * lanes need the general 1 / F (a division) instead of the 0/1
     * shortcuts; it is computed when a lane of the group needs it (gen) and
     * taken in those lanes only, so a lead's values never depend on the
     * leads walked beside it. */
    ts_v pL[TS_H], pR[TS_H];
    ts_vl nmask[TS_H];
    ts_vi nany = nm[0];
    for (uint32_t h = 1; h < TS_H; h++)
        nany |= nm[h];
    const int neutral = (nany[0] | nany[1] | nany[2] | nany[3]) != 0;
    TS_HALF(h)
    {
        pL[h] = pl[h];
        pR[h] = one - pl[h];
        nmask[h] = (ts_vl){0};
    }
    if (neutral) {
        const ts_v rl = zero + tnode_ratio(t, n, 0), rr = zero + tnode_ratio(t, n, 1);
        TS_HALF(h)
        {
            nmask[h] = __builtin_convertvector(nm[h] & 1, ts_vl) * -1;
            pL[h] = TS_SEL(nmask[h], rl, pL[h]);
            pR[h] = TS_SEL(nmask[h], rr, pR[h]);
        }
    }

    const int32_t prev = w->occ[i];
    const uint8_t prev_gen = w->occg[i]; /* some lane's p above, on i, is neither 0 nor 1 */
    const int gen = prev_gen | neutral;
    ts_vl pm[TS_H], gm[TS_H]; /* lanes general above; here (either); read only when gen */
    TS_HALF(h) pm[h] = gm[h] = (ts_vl){0};
    if (gen)
        TS_HALF(h)
        {
            pm[h] = prev_gen ? w->occm[(size_t)i * TS_H + h] : (ts_vl){0};
            gm[h] = pm[h] | nmask[h];
        }
    const ts_v *pp = w->occp + (size_t)i * TS_H;
    ts_v dprev[TS_H];
    ts_v *pH = w->pendH + (size_t)i * P, *pA = w->pendA + (size_t)i * P;
    const ts_v *Cd = C; /* C with the factor of i's previous occurrence divided out */
    const struct tnode *kid = &t->nodes[n->left];
    /* a child edge met again below zeroes i's pending sums: keep the
     * ancestor's in sH / sA meanwhile */
    const int clobber = (kid[0].kind != TNODE_LEAF && w->rep[n->left]) ||
                        (kid[1].kind != TNODE_LEAF && w->rep[n->left + 1]);
    if (prev >= 0) {
        const double *wR = w->wR1 + (size_t)prev * K;
        const double iq = w->invq[prev], qp = w->qc[prev];
        TS_EACH(k, h)
        {
            size_t x = TS_IX(k, h);
            Ca[x] = C[x] * (pp[h] * wR[k] + (one - pp[h]) * (iq * wuk[k])) * iwk[k];
            As[x] = zero;
        }
        if (prev_gen)
            TS_EACH(k, h)
            {
                size_t x = TS_IX(k, h);
                Ca[x] = TS_SEL(pm[h], C[x] / (qp + tk[k] * (pp[h] - qp)), Ca[x]);
            }
        if (clobber)
            for (size_t x = 0; x < P; x++) {
                sH[x] = pH[x];
                sA[x] = pA[x];
            }
        Cd = Ca;
        TS_HALF(h) dprev[h] = pp[h] - qp;
    } else {
        TS_HALF(h) dprev[h] = zero;
    }

    const int leaves = (kid[0].kind == TNODE_LEAF) + (kid[1].kind == TNODE_LEAF);
    /* leaf children: their shares need only S = sum_k w_k Cd(t_k); their H
     * is folded into Cd (alpha + t beta) */
    ts_v S[TS_H], alpha[TS_H], beta[TS_H], vleaf = zero;
    TS_HALF(h) S[h] = alpha[h] = beta[h] = zero;
    if (leaves)
        TS_EACH(k, h) S[h] += wk[k] * Cd[TS_IX(k, h)];
    int hset = 0; /* H written yet? (assigning first is cheaper than zeroing) */
    ts_v saved_pp[TS_H];
    TS_HALF(h) saved_pp[h] = pp[h];
    for (uint32_t side = 0; side < 2; side++) {
        const uint32_t c = n->left + side;
        const double q = w->qc[c];
        ts_v pc[TS_H], slope[TS_H], s[TS_H];
        TS_HALF(h)
        {
            pc[h] = side ? pR[h] : pL[h];
            if (prev >= 0)
                pc[h] *= saved_pp[h];
            slope[h] = pc[h] - q;
        }
        if (kid[side].kind == TNODE_LEAF) {
            const double v = kid[side].value;
            TS_HALF(h)
            {
                s[h] = v * S[h];
                alpha[h] += v * q;
                beta[h] += v * slope[h];
            }
            vleaf += v;
        } else {
            TS_EACH(k, h) Cc[TS_IX(k, h)] = Cd[TS_IX(k, h)] * (q + tk[k] * slope[h]);
            w->occ[i] = (int32_t)c;
            w->occg[i] = (uint8_t)gen;
            TS_HALF(h) w->occp[(size_t)i * TS_H + h] = pc[h];
            if (gen) /* occm is read only where occg is set */
                TS_HALF(h) w->occm[(size_t)i * TS_H + h] = gm[h];
            const int rep = w->rep[c];
            if (rep)
                for (size_t x = 0; x < P; x++)
                    pH[x] = pA[x] = zero;
            /* the first child to return H writes it in place */
            const ts_v *hc = hset ? Hc : H;
            TS_FN(visit)(w, c, d + 1, hset ? Hc : H);
            if (hset)
                for (size_t x = 0; x < P; x++)
                    H[x] += Hc[x];
            hset = 1;
            const double *wR = w->wR1 + (size_t)c * K;
            const double iq = w->invq[c];
            if (prev < 0 && !rep) { /* the common edge: 1/F splits by row into two sums */
                ts_v s1[TS_H], s0[TS_H];
                TS_HALF(h) s1[h] = s0[h] = zero;
                TS_EACH(k, h)
                {
                    s1[h] += hc[TS_IX(k, h)] * wR[k];
                    s0[h] += hc[TS_IX(k, h)] * wuk[k];
                }
                TS_HALF(h) s[h] = pc[h] * s1[h] + (one - pc[h]) * (iq * s0[h]);
            } else if (prev < 0) { /* met again below, not above: A is not kept */
                ts_v s1[TS_H], s0[TS_H], sa[TS_H];
                TS_HALF(h) s1[h] = s0[h] = sa[h] = zero;
                TS_EACH(k, h)
                {
                    size_t x = TS_IX(k, h);
                    ts_v dh = hc[x] - pH[x];
                    s1[h] += dh * wR[k];
                    s0[h] += dh * wuk[k];
                    sa[h] += pA[x];
                }
                TS_HALF(h) s[h] = pc[h] * s1[h] + (one - pc[h]) * (iq * s0[h]) + sa[h];
            } else {
                TS_HALF(h) s[h] = zero;
                TS_EACH(k, h)
                {
                    size_t x = TS_IX(k, h);
                    ts_v wRe = pc[h] * wR[k] + (one - pc[h]) * (iq * wuk[k]); /* w / F */
                    if (gen)
                        wRe = TS_SEL(gm[h], wk[k] / (q + tk[k] * slope[h]), wRe);
                    ts_v wA = rep ? (hc[x] - pH[x]) * wRe + pA[x] : hc[x] * wRe;
                    s[h] += wA;
                    As[x] += wA;
                }
            }
        }
        ts_v *phi = w->phi + (size_t)i * TS_H;
        TS_HALF(h) phi[h] += (slope[h] - dprev[h]) * s[h] * w->use[h];
    }
    if (leaves) {
        if (hset)
            TS_EACH(k, h)
        H[TS_IX(k, h)] += Cd[TS_IX(k, h)] * (alpha[h] + tk[k] * beta[h]);
        else TS_EACH(k, h) H[TS_IX(k, h)] = Cd[TS_IX(k, h)] * (alpha[h] + tk[k] * beta[h]);
        if (prev >= 0)
            TS_EACH(k, h) As[TS_IX(k, h)] += (vleaf * wk[k]) * Cd[TS_IX(k, h)];
    }
    w->occ[i] = prev;
    w->occg[i] = prev_gen;
    TS_HALF(h) w->occp[(size_t)i * TS_H + h] = saved_pp[h];
    if (gen)
        TS_HALF(h) w->occm[(size_t)i * TS_H + h] = pm[h];
    if (prev >= 0 && clobber)
        for (size_t x = 0; x < P; x++) {
            pH[x] = sH[x] + H[x];
            pA[x] = sA[x] + As[x];
        }
    else if (prev >= 0)
        for (size_t x = 0; x < P; x++) {
            pH[x] += H[x];
            pA[x] += As[x];
        }
}

/* One tree for one group of rows: contributions into w->phi. */
TS_TARGET static void TS_FN(group)(struct ts_work *w)
{
    const ts_v zero = {0};
    for (size_t x = 0; x < (size_t)TS_KK * TS_H; x++)
        w->frame[x] = zero + 1;
    TS_FN(visit)(w, 0, 0, w->Hroot);
}

#undef TS_FN
#undef TS_KK
#undef TS_EACH
#undef TS_HALF
#undef TS_IX
#undef TS_CAT
#undef TS_CAT2
