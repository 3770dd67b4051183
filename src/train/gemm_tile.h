/* gemm_tile.h: the body of one kernel path of gemm.c, included once per
 * path with these set (then undefined here):
 *   TILE_FN(name)  the path's function names (name ## _avx2 ...)
 *   TILE_ATTR      its target attribute (empty for the baseline)
 *   TILE_VT/TILE_VU  the column vector type of gemm_acc and its unaligned
 *                  alias (TILE_W floats)
 *   TILE_DR, TILE_DC  the dots tile: rows x outputs, each output an
 *                  8-lane accumulator (dot8's lanes)
 *   TILE_AR, TILE_AV  the gemm_acc tile: rows x vectors of TILE_W columns
 * Tiles are sized to keep every accumulator, and the values each loaded
 * vector is reused for, in the path's vector registers (16 for AVX2 and the
 * baseline, 32 for AVX-512). */

/* A TILE_DR x TILE_DC tile of dots (or fewer: R x C, constants after
 * inlining): rows n.., outputs o.., each 8 lanes in dot8's order, the tail
 * k >= I & ~7 added lane by lane, then dot8's tree. */
static inline __attribute__((always_inline)) void TILE_FN(dots_tile)(float *y, const float *x, const float *W, int n,
                                                                     int o, int I, int O, const int R, const int C) {
    gt_v8 acc[TILE_DR][TILE_DC];
    int k = 0;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) acc[r][c] = (gt_v8){0};
    for (; k + 8 <= I; k += 8) {
        gt_v8 w[TILE_DC];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) w[c] = *(const gt_v8u *)(W + (size_t)(o + c) * I + k);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            gt_v8 xv = *(const gt_v8u *)(x + (size_t)(n + r) * I + k);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) acc[r][c] += xv * w[c];
        }
    }
    if (k == I) { /* no tail: the trees in vectors (gemm.c's tree8) */
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) y[(size_t)(n + r) * O + o + c] = tree8(&acc[r][c]);
        return;
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            float a[8];
            memcpy(a, &acc[r][c], sizeof a);
            const float *xr = x + (size_t)(n + r) * I, *wr = W + (size_t)(o + c) * I;
            for (int t = k; t < I; t++) a[t & 7] += xr[t] * wr[t];
            y[(size_t)(n + r) * O + o + c] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
        }
}

/* Rows n0..n1, outputs o0..O-1 of dots in panels of DOTS_PANEL rows: each
 * tile of W rows, once loaded, serves the whole panel from the first-level
 * cache. */
TILE_ATTR static void TILE_FN(dots)(float *y, const float *x, const float *W, int n0, int n1, int o0, int I, int O) {
    for (int nb = n0; nb < n1; nb += DOTS_PANEL) {
        int ne = nb + DOTS_PANEL < n1 ? nb + DOTS_PANEL : n1, o = o0;
        for (; o + TILE_DC <= O; o += TILE_DC) {
            int n = nb;
            for (; n + TILE_DR <= ne; n += TILE_DR) TILE_FN(dots_tile)(y, x, W, n, o, I, O, TILE_DR, TILE_DC);
            for (; n < ne; n++) TILE_FN(dots_tile)(y, x, W, n, o, I, O, 1, TILE_DC);
        }
        for (; o < O; o++) {
            int n = nb;
            for (; n + TILE_DR <= ne; n += TILE_DR) TILE_FN(dots_tile)(y, x, W, n, o, I, O, TILE_DR, 1);
            for (; n < ne; n++) TILE_FN(dots_tile)(y, x, W, n, o, I, O, 1, 1);
        }
    }
}

/* An R x TILE_AV-vector tile of out (R <= TILE_AR, a constant after
 * inlining) += S M over k0..k1-1, k ascending: the accumulators are the f32
 * values of out themselves, loaded, added to term by term, stored. */
static inline __attribute__((always_inline)) void TILE_FN(acc_tile)(float *out, size_t ldo, const float *S, size_t sr,
                                                                    size_t sk, const float *M, size_t ldm, int r, int c,
                                                                    int k0, int k1, const int R) {
    TILE_VT acc[TILE_AR][TILE_AV];
#pragma GCC unroll 16
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
        for (int v = 0; v < TILE_AV; v++) acc[i][v] = *(const TILE_VU *)(out + (size_t)(r + i) * ldo + c + v * TILE_W);
    for (int k = k0; k < k1; k++) {
        TILE_VT m[TILE_AV];
#pragma GCC unroll 4
        for (int v = 0; v < TILE_AV; v++) m[v] = *(const TILE_VU *)(M + (size_t)k * ldm + c + v * TILE_W);
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) {
            float s = S[(size_t)(r + i) * sr + (size_t)k * sk];
#pragma GCC unroll 4
            for (int v = 0; v < TILE_AV; v++) acc[i][v] += s * m[v];
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
        for (int v = 0; v < TILE_AV; v++) *(TILE_VU *)(out + (size_t)(r + i) * ldo + c + v * TILE_W) = acc[i][v];
}

/* out += S M over rows r0..r1: k in chunks of ACC_KC (ascending, so each
 * element still sees k ascending), within a chunk the column strips, within
 * a strip the row tiles, which reuse the strip's rows of M from the cache.
 * Columns past the last whole strip go one element at a time. */
TILE_ATTR static void TILE_FN(acc)(float *out, size_t ldo, const float *S, size_t sr, size_t sk, const float *M,
                                   size_t ldm, int r0, int r1, int K, int cols) {
    const int cw = TILE_AV * TILE_W, cfull = cols - cols % cw;
    for (int k0 = 0; k0 < K; k0 += ACC_KC) {
        int k1 = k0 + ACC_KC < K ? k0 + ACC_KC : K;
        for (int c = 0; c < cfull; c += cw) {
            int r = r0;
            for (; r + TILE_AR <= r1; r += TILE_AR)
                TILE_FN(acc_tile)(out, ldo, S, sr, sk, M, ldm, r, c, k0, k1, TILE_AR);
            for (; r + 4 <= r1; r += 4) /* the rows left, 4 then 1 at a time */
                TILE_FN(acc_tile)(out, ldo, S, sr, sk, M, ldm, r, c, k0, k1, 4);
            for (; r < r1; r++) TILE_FN(acc_tile)(out, ldo, S, sr, sk, M, ldm, r, c, k0, k1, 1);
        }
        for (int r = r0; r < r1 && cfull < cols; r++)
            for (int k = k0; k < k1; k++) {
                float s = S[(size_t)r * sr + (size_t)k * sk], *o = out + (size_t)r * ldo;
                for (int c = cfull; c < cols; c++) o[c] += s * M[(size_t)k * ldm + c];
            }
    }
}

#undef TILE_FN
#undef TILE_ATTR
#undef TILE_VT
#undef TILE_VU
#undef TILE_W
#undef TILE_DR
#undef TILE_DC
#undef TILE_AR
#undef TILE_AV
