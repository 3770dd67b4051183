/* kernels_avx2_kq.c: the AVX2 K-quant kernels: the 16-row tile kernels of
 * the load-time tiled Q2_K..Q6_K and IQ4_XS (kernels_impl.h has their
 * layouts), and the Q8_K activation quantizer they read.
 *
 * Split from kernels_avx2.c, whose table points here through
 * kernels_impl.h. Compiled for AVX2 with the same target pragma, entered
 * only after gt_kern_isa checked cpuid; every function gives the scalar
 * path's bits (tests/infer/test_kernels.c compares them). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#ifdef __clang__ /* clang ignores the GCC pragma: the same target, its way */
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#endif
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_avx2_impl.h"
#include "infer/kernels_impl.h"
#include "infer/kquant.h"
#include "infer/pf_tune.h"
#include "infer/quantize_q32.h"

static inline __m256i shr16(__m256i v, int n) { return _mm256_srl_epi16(v, _mm_cvtsi32_si128(n)); }

static inline __m256i kq4_u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

/* The float step of half hr of a tile whose types have mins (Q2_K, Q4_K,
 * Q5_K), NT tokens from t0 (at acc + 16 t + 8 hr), per lane: y = fma(dot,
 * d * da, y), then y = fma(mins, -(dmin * da), y), mins = sum over i <
 * n_pairs of the lane's int16 pair mp[i] times the token's pair of
 * activation sums at bs + bs_off + 2i, d and dmin the half's 8 f16 at
 * d16 + 16 hr and dmin16 + 16 hr: gt_kq_finish's. */
static inline __attribute__((always_inline)) void kq_finish_mins8(const uint8_t *d16, const uint8_t *dmin16, int hr,
                                                                   int k, const gt_kq_acts *A, int t0, const int NT,
                                                                   const __m256i *dot, const __m256i *mp,
                                                                   const int n_pairs, const int bs_off, float *acc) {
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(d16 + 16 * hr)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(dmin16 + 16 * hr)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        const int16_t *bs = A->bs + (size_t)(t0 + t) * A->bs_stride + (size_t)k * GT_KQ_BS_N + bs_off;
        __m256i mins = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int i = 0; i < n_pairs; i++) {
            int32_t pair;
            memcpy(&pair, bs + 2 * i, 4);
            mins = _mm256_add_epi32(mins, _mm256_madd_epi16(mp[i], _mm256_set1_epi32(pair)));
        }
        const __m256 da = _mm256_set1_ps(A->da[(size_t)(t0 + t) * A->da_stride + (size_t)k]);
        const __m256i nd = _mm256_xor_si256(_mm256_castps_si256(_mm256_mul_ps(dmin, da)), sign);
        float *y = acc + 16 * (t0 + t) + 8 * hr;
        __m256 v = _mm256_loadu_ps(y);
        v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(d, da), v);
        v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_castsi256_ps(nd), v);
        _mm256_storeu_ps(y, v);
    }
}

/* The mins and the float step of super-block k, rows of half h, NT
 * tokens from t0, from the lanes' dot sums: lane r's mins of sub-blocks 2i
 * and 2i + 1 as an int16 pair against the pair of the token's sub-block
 * sums (|A_j| <= 32 * 127, gt_kq_sub_sums). */
static inline __attribute__((always_inline)) void kq45_finish8(const uint8_t *sb, int h, int k, const gt_kq_acts *A,
                                                                int t0, const int NT, const __m256i *dot, float *acc,
                                                                const int q5) {
    const int off_m = q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M;
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    __m256i mp[4];
    #pragma GCC unroll 8
    for (int i = 0; i < 4; i++)
        mp[i] = _mm256_or_si256(kq4_u8x8(sb + off_m + 32 * i + 8 * h),
                                _mm256_slli_epi32(kq4_u8x8(sb + off_m + 32 * i + 16 + 8 * h), 16));
    kq_finish_mins8(sb + off_d, sb + off_dmin, h, k, A, t0, NT, dot, mp, 4, 16, acc);
}

/* Decode streams a tile's super-blocks from memory, one after the other:
 * ask ahead, as the AVX-512 tiles do (kq_prefetch there). */
static inline __attribute__((always_inline)) void kq_prefetch(const uint8_t *sb, size_t sbb) {
    const size_t ahead = gt_pf_kq_bytes(); /* 0 or GT_PF_KQ_BYTES: pf_tune.h */
    if (!ahead) return;
    for (size_t c = 0; c < sbb; c += 64) _mm_prefetch((const char *)(sb + ahead + c), _MM_HINT_T0);
}

/* Tiled Q4_K and Q5_K (gt_kq4_tile_fn) in two halves of 8 rows (lane r =
 * row 8h + r), register-blocked over NT (<= KT_NT) tokens: per sub-block j
 * each 64-byte group g gives, in the half's 32 bytes, the lane's 4 quants
 * of elements 32j + 4g.. (low nibbles for even j, high for odd; Q5_K adds
 * bit j of qh's group as bit 4), decoded once for the NT tokens.
 * vpmaddubsw pairs them with the token's 4 broadcast activation quants
 * (quant <= 31 against |a| <= 127: no saturation), and the int16 pair sums
 * of a run of groups add up exactly in int16 (8 groups of Q4_K: <= 8 * 2 *
 * 15 * 127 = 30480; Q5_K flushes every 4); vpmaddwd by the lane's scale in
 * both halves of its dword then gives sc_j * (its sum of products), exact
 * in int32. The mins likewise by vpmaddwd of pairs of mins against pairs of
 * sub-block sums, and the float step is gt_kq_finish's, per lane: the
 * scalar integers, so the scalar bytes. */
#define KT_NT 4
static inline __attribute__((always_inline)) void kq45_half(const uint8_t *sb, int h, int k, const gt_kq_acts *A,
                                                             int t0, const int NT, float *acc, const int q5) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const int off_sc = q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC, run = q5 ? 4 : 8;
    const int8_t *aq[KT_NT];
    __m256i dot[KT_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
        dot[t] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; j++) {
        const __m128i shift = _mm_cvtsi32_si128(4 * (j & 1)), bit = _mm_cvtsi32_si128(j);
        const __m256i sc = kq4_u8x8(sb + off_sc + 16 * j + 8 * h);
        const __m256i sc2 = _mm256_or_si256(sc, _mm256_slli_epi32(sc, 16)); /* the scale in both int16 */
        #pragma GCC unroll 8
        for (int g0 = 0; g0 < 8; g0 += run) {
            __m256i p[KT_NT];
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) p[t] = _mm256_setzero_si256();
            #pragma GCC unroll 8
            for (int g = g0; g < g0 + run; g++) {
                __m256i v = _mm256_load_si256((const __m256i *)(sb + 64 * (8 * (j >> 1) + g) + 32 * h));
                __m256i q = _mm256_and_si256(_mm256_srl_epi16(v, shift), m4);
                if (q5) {
                    __m256i hb = _mm256_load_si256((const __m256i *)(sb + GT_KQ5_OFF_QH + 64 * g + 32 * h));
                    q = _mm256_or_si256(q, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(hb, bit), one), 4));
                }
                #pragma GCC unroll 8
                for (int t = 0; t < NT; t++)
                    p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(q, bcast4(aq[t] + 32 * j + 4 * g)));
            }
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(p[t], sc2));
        }
    }
    kq45_finish8(sb, h, k, A, t0, NT, dot, acc, q5);
}

static inline __attribute__((always_inline)) void kq45_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                             float *acc, const int q5) {
    const size_t sbb = q5 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    assert(nt >= 1 && nt <= 2 * KT_NT);
    for (int k = 0; k < nk; k++, sb += sbb) {
        if (nt == 1) kq_prefetch(sb, sbb);
        for (int h = 0; h < 2; h++)
            for (int t0 = 0; t0 < nt;) {
                int n = nt - t0 > KT_NT ? (nt - t0 + 1) / 2 : nt - t0;
                switch (n) {
                case 1: kq45_half(sb, h, k, A, t0, 1, acc, q5); break;
                case 2: kq45_half(sb, h, k, A, t0, 2, acc, q5); break;
                case 3: kq45_half(sb, h, k, A, t0, 3, acc, q5); break;
                default: kq45_half(sb, h, k, A, t0, 4, acc, q5); break;
                }
                t0 += n;
            }
    }
}

void gt_kq4_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    kq45_tile(sb, nk, A, nt, acc, 0);
}

void gt_kq5_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    kq45_tile(sb, nk, A, nt, acc, 1);
}

/* Tiled Q6_K in two halves of 8 rows, as gt_kq6_tile_avx512 with
 * vpmaddubsw for vpdpbusd: the int16 pair sums of two groups of 4 add up
 * exactly (<= 2 * 2 * 63 * 127 = 32004), and vpmaddwd by the lane's scale in
 * both halves of its dword gives sc_g times them in int32. The offset
 * -32 sc_g A_g is summed apart, once per super-block and token: vpmaddwd of
 * the lanes' scales of groups 2i, 2i + 1 against the token's A_2i, A_2i+1
 * (adjacent int16, one dword). dot = sum sc_g P_g - 32 sum sc_g A_g: the
 * scalar integer, so the scalar bytes. */
static inline __m256i kq6_sc_pair(const uint8_t *lo, const uint8_t *hi) {
    const __m256i l = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)lo));
    const __m256i h = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)hi));
    return _mm256_or_si256(_mm256_and_si256(l, _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(h, 16));
}

static inline __attribute__((always_inline)) void kq6_quarter2(const uint8_t *sb, int rh, int h, int gh, int s, int k,
                                                                const gt_kq_acts *A, int nt, __m256i *dot) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    __m256i q[4];
    for (int u = 0; u < 4; u++) {
        int gi = 4 * gh + u;
        __m256i lo = _mm256_load_si256((const __m256i *)(sb + 64 * (16 * h + 8 * (s & 1) + gi) + 32 * rh));
        __m256i hb = _mm256_load_si256((const __m256i *)(sb + GT_KQ6_OFF_QH + 64 * (8 * h + gi) + 32 * rh));
        if (s >= 2) lo = _mm256_srli_epi16(lo, 4);
        hb = _mm256_and_si256(shr16(hb, 2 * s), m3);
        q[u] = _mm256_or_si256(_mm256_and_si256(lo, m4), _mm256_slli_epi16(hb, 4));
    }
    const uint8_t *scg = sb + GT_KQ6_OFF_SC + 16 * (8 * h + 2 * s + gh) + 8 * rh;
    const __m256i sc2 = kq6_sc_pair(scg, scg);
    for (int t = 0; t < nt; t++) {
        const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 128 * h + 32 * s + 16 * gh;
        __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], bcast4(aq)),
                                      _mm256_maddubs_epi16(q[1], bcast4(aq + 4)));
        __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(q[2], bcast4(aq + 8)),
                                      _mm256_maddubs_epi16(q[3], bcast4(aq + 12)));
        dot[t] = _mm256_add_epi32(dot[t], _mm256_add_epi32(_mm256_madd_epi16(p0, sc2), _mm256_madd_epi16(p1, sc2)));
    }
}

void gt_kq6_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    for (int k = 0; k < nk; k++, sb += GT_KQ6_SB_BYTES) {
        if (nt == 1) kq_prefetch(sb, GT_KQ6_SB_BYTES);
        for (int rh = 0; rh < 2; rh++) {
            __m256i dot[8], scp[8];
            for (int t = 0; t < nt; t++) dot[t] = _mm256_setzero_si256();
            for (int h = 0; h < 2; h++)
                for (int gh = 0; gh < 2; gh++)
                    for (int s = 0; s < 4; s++) kq6_quarter2(sb, rh, h, gh, s, k, A, nt, dot);
            for (int i = 0; i < 8; i++)
                scp[i] = kq6_sc_pair(sb + GT_KQ6_OFF_SC + 32 * i + 8 * rh, sb + GT_KQ6_OFF_SC + 32 * i + 16 + 8 * rh);
            const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(sb + GT_KQ6_OFF_D + 16 * rh)));
            for (int t = 0; t < nt; t++) {
                const int16_t *bs = A->bs + (size_t)t * A->bs_stride + (size_t)k * GT_KQ_BS_N;
                __m256i off = _mm256_setzero_si256();
                for (int i = 0; i < 8; i++) {
                    int32_t pair; /* A_2i in the low half, A_2i+1 in the high one */
                    memcpy(&pair, bs + 2 * i, 4);
                    off = _mm256_add_epi32(off, _mm256_madd_epi16(scp[i], _mm256_set1_epi32(pair)));
                }
                const __m256i dt = _mm256_sub_epi32(dot[t], _mm256_slli_epi32(off, 5));
                const __m256 da = _mm256_set1_ps(A->da[(size_t)t * A->da_stride + (size_t)k]);
                __m256 y = _mm256_loadu_ps(acc + 16 * t + 8 * rh);
                y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dt), _mm256_mul_ps(d, da), y);
                _mm256_storeu_ps(acc + 16 * t + 8 * rh, y);
            }
        }
    }
}

/* gt_kq_quant_act's Q8_K in vectors: the largest magnitude by vmaxps, its
 * first holder (whose sign sets the scale's) by a scan, then each value
 * times iscale rounded to nearest even by vroundps (the same integer as the
 * scalar rounding for |v| <= 127), capped at 127, packed to bytes; NaNs as
 * the scalar path treats them. */
float gt_kq_quant_act_avx2(const float *x, int8_t q[256]) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 vmax = _mm256_setzero_ps();
    /* |x| first: vmaxps returns its second operand when one is NaN, so a NaN
     * is passed over, as the scalar path's comparison does */
    for (int i = 0; i < 256; i += 8) vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), absmask), vmax);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float amax = _mm_cvtss_f32(m4);
    if (!(amax > 0.0f)) {
        memset(q, 0, 256);
        return 0.0f;
    }
    int first = 0; /* the first lane holding amax, 8 at a time */
    for (const __m256 vm = _mm256_set1_ps(amax);; first += 8) {
        int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + first), absmask), vm, _CMP_EQ_OQ));
        if (hit) {
            first += __builtin_ctz((unsigned)hit);
            break;
        }
    }
    float iscale = -127.f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127);
    for (int i = 0; i < 256; i += 32) {
        __m256i v[4];
        for (int j = 0; j < 4; j++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), vs),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q)); /* a NaN product is 0, as in the scalar path */
            v[j] = _mm256_min_epi32(_mm256_cvtps_epi32(r), cap);
        }
        /* packs work per 128-bit lane: put the bytes back in order */
        __m256i w16 = _mm256_packs_epi32(v[0], v[1]), x16 = _mm256_packs_epi32(v[2], v[3]);
        __m256i b = _mm256_packs_epi16(w16, x16);
        b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + i), b);
    }
    return 1 / iscale;
}

/* gt_kq_quant_sb's result: the quants as above, then the group sums from
 * vpsadbw over the quants biased to unsigned (each 8 bytes' sum of q + 128,
 * exact), the bias taken off per group. */
float gt_kq_quant_sb_avx2(const float *x, int8_t q[256], int16_t bs[16]) {
    float d = gt_kq_quant_act_avx2(x, q);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    uint64_t s8[32];
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(s8 + 4 * i),
                            _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(q + 32 * i)), bias),
                                            _mm256_setzero_si256()));
    for (int g = 0; g < 16; g++) bs[g] = (int16_t)((int)(s8[2 * g] + s8[2 * g + 1]) - 16 * 128);
    return d;
}

/* Eight int8 scales at p as 8 dwords, each scale in both its int16 halves
 * (vpmaddwd by it then scales both pair sums of a dword). */
static inline __m256i sc_both16(const uint8_t *p) {
    const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_or_si256(_mm256_and_si256(sc, _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(sc, 16));
}

/* The float step of a half tile whose types have no mins (IQ4_XS, Q3_K):
 * y = fma(dot, d * da, y) per lane, d the half's 8 f16 at d16 (lane r = row
 * 8hr + r), for NT tokens from t0 at acc + 16 t + 8 hr: gt_kq_finish's. */
static inline __attribute__((always_inline)) void kq_finish_d8(const uint8_t *d16, int hr, int k, const gt_kq_acts *A,
                                                                int t0, const int NT, const __m256i *dot, float *acc) {
    const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(d16 + 16 * hr)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        const __m256 da = _mm256_set1_ps(A->da[(size_t)(t0 + t) * A->da_stride + (size_t)k]);
        float *y = acc + 16 * (t0 + t) + 8 * hr;
        _mm256_storeu_ps(y, _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(d, da), _mm256_loadu_ps(y)));
    }
}

/* A tile function over half kernels half_fn(sb, hr, k, A, t0, NT, acc):
 * super-block after super-block (sbb bytes each; decode asks ahead), each
 * half of 8 rows, the tokens in blocks of at most KT_NT, NT a constant in
 * every instance. Uses sb, nk, A, nt and acc of the enclosing function. */
#define KT_HALF_TILES(half_fn, sbb)                                                      \
    for (int k = 0; k < nk; k++, sb += (sbb)) {                                          \
        if (nt == 1) kq_prefetch(sb, (sbb));                                             \
        for (int hr = 0; hr < 2; hr++)                                                   \
            for (int t0 = 0, n; t0 < nt; t0 += n) {                                     \
                n = nt - t0 > KT_NT ? (nt - t0 + 1) / 2 : nt - t0;                       \
                switch (n) {                                                             \
                case 1: half_fn(sb, hr, k, A, t0, 1, acc); break;                        \
                case 2: half_fn(sb, hr, k, A, t0, 2, acc); break;                        \
                case 3: half_fn(sb, hr, k, A, t0, 3, acc); break;                        \
                default: half_fn(sb, hr, k, A, t0, 4, acc); break;                       \
                }                                                                        \
            }                                                                            \
    }

/* Tiled IQ4_XS in two halves of 8 rows (lane r = row 8h + r), at most
 * KT_NT tokens at once: per sub-block j, group u gives each lane 4 indices
 * of elements 32j + 4u.. (low nibbles) and 32j + 16 + 4u.. (high), which
 * vpshufb maps to the table's signed values v; vpmaddubsw of |v| against
 * the activations with v's sign gives int16 pair sums (<= 2 * 127 * 127: no
 * saturation) and vpmaddwd by the lane's scale in both halves of its dword
 * sc_j times them in int32. The scalar integers; the float step is
 * gt_kq_finish's. */
static inline __attribute__((always_inline)) void kqx_half(const uint8_t *sb, int hr, int k, const gt_kq_acts *A,
                                                            int t0, const int NT, float *acc) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i tbl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)gt_iq4nl_values));
    const int8_t *aq[KT_NT];
    __m256i dot[KT_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
        dot[t] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; j++) {
        const __m256i sc2 = sc_both16(sb + GT_KQX_OFF_SC + 16 * j + 8 * hr);
        #pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            __m256i v = _mm256_load_si256((const __m256i *)(sb + 64 * (4 * j + u) + 32 * hr));
            __m256i lo = _mm256_shuffle_epi8(tbl, _mm256_and_si256(v, m4));
            __m256i hi = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
            __m256i alo = _mm256_abs_epi8(lo), ahi = _mm256_abs_epi8(hi);
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) {
                __m256i plo = _mm256_maddubs_epi16(alo, _mm256_sign_epi8(bcast4(aq[t] + 32 * j + 4 * u), lo));
                __m256i phi = _mm256_maddubs_epi16(ahi, _mm256_sign_epi8(bcast4(aq[t] + 32 * j + 16 + 4 * u), hi));
                dot[t] = _mm256_add_epi32(dot[t], _mm256_add_epi32(_mm256_madd_epi16(plo, sc2),
                                                                   _mm256_madd_epi16(phi, sc2)));
            }
        }
    }
    kq_finish_d8(sb + GT_KQX_OFF_D, hr, k, A, t0, NT, dot, acc);
}

void gt_kqx_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 2 * KT_NT);
    KT_HALF_TILES(kqx_half, GT_KQX_SB_BYTES)
}

/* Tiled Q3_K in two halves of 8 rows (lane r = row 8hr + r), at most KT_NT
 * tokens at once: group g's quants decoded as gt_kq3_tile_avx512 decodes
 * them, less 4 (-4..3); vpmaddubsw of |q - 4| against the activations with
 * its sign gives int16 pair sums (<= 2 * 4 * 127), the group's 4 of them add
 * up in int16 (<= 4064), and vpmaddwd by the lane's scale in both halves of
 * its dword gives sc_g times the group's sum in int32: the scalar integers. */
static inline __attribute__((always_inline)) void kq3_half(const uint8_t *sb, int hr, int k, const gt_kq_acts *A,
                                                            int t0, const int NT, float *acc) {
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
    const int8_t *aq[KT_NT];
    __m256i dot[KT_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
        dot[t] = _mm256_setzero_si256();
    }
    for (int g = 0; g < 16; g++) {
        const int h = g / 8, s = g % 8 / 2, v = g % 2;
        const __m256i sc2 = sc_both16(sb + GT_KQ3_OFF_SC + 16 * g + 8 * hr);
        __m256i p[KT_NT];
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) p[t] = _mm256_setzero_si256();
        #pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            __m256i lo = _mm256_load_si256((const __m256i *)(sb + 64 * (8 * h + 4 * v + u) + 32 * hr));
            __m256i hm = _mm256_load_si256((const __m256i *)(sb + GT_KQ3_OFF_HM + 64 * (4 * v + u) + 32 * hr));
            __m256i q = _mm256_or_si256(_mm256_and_si256(shr16(lo, 2 * s), m3),
                                        _mm256_slli_epi16(_mm256_and_si256(shr16(hm, 4 * h + s), one), 2));
            q = _mm256_sub_epi8(q, four);
            const __m256i aqv = _mm256_abs_epi8(q);
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++)
                p[t] = _mm256_add_epi16(p[t],
                                        _mm256_maddubs_epi16(aqv, _mm256_sign_epi8(bcast4(aq[t] + 16 * g + 4 * u), q)));
        }
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(p[t], sc2));
    }
    kq_finish_d8(sb + GT_KQ3_OFF_D, hr, k, A, t0, NT, dot, acc);
}

void gt_kq3_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 2 * KT_NT);
    KT_HALF_TILES(kq3_half, GT_KQ3_SB_BYTES)
}

/* Tiled Q2_K in two halves of 8 rows (lane r = row 8hr + r), at most KT_NT
 * tokens at once: group g's 2-bit quants decoded as gt_kq2_tile_avx512
 * decodes them; vpmaddubsw of q (<= 3) against the activations gives int16
 * pair sums, the group's 4 of them add up in int16 (<= 3048), vpmaddwd by
 * the lane's scale in both halves of its dword gives sc_g times the group's
 * sum in int32; the mins term is the lanes' mins of groups 2i and 2i + 1 as
 * an int16 pair against the token's pair of group sums: the scalar integers,
 * then gt_kq_finish's float step. */
static inline __attribute__((always_inline)) void kq2_half(const uint8_t *sb, int hr, int k, const gt_kq_acts *A,
                                                            int t0, const int NT, float *acc) {
    const __m256i m3 = _mm256_set1_epi8(3), m4d = _mm256_set1_epi32(0x0f);
    const int8_t *aq[KT_NT];
    __m256i dot[KT_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
        dot[t] = _mm256_setzero_si256();
    }
    for (int g = 0; g < 16; g++) {
        const int h = g / 8, s = g % 8 / 2, v = g % 2;
        const __m256i sc = _mm256_and_si256(kq4_u8x8(sb + GT_KQ2_OFF_SC + 16 * g + 8 * hr), m4d);
        const __m256i sc2 = _mm256_or_si256(sc, _mm256_slli_epi32(sc, 16)); /* the scale in both int16 */
        __m256i p[KT_NT];
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) p[t] = _mm256_setzero_si256();
        #pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            __m256i q = _mm256_load_si256((const __m256i *)(sb + 64 * (8 * h + 4 * v + u) + 32 * hr));
            q = _mm256_and_si256(shr16(q, 2 * s), m3);
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++)
                p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(q, bcast4(aq[t] + 16 * g + 4 * u)));
        }
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(p[t], sc2));
    }
    __m256i mp[8];
    #pragma GCC unroll 8
    for (int i = 0; i < 8; i++) /* the mins of groups 2i, 2i + 1 (high nibbles) as int16 pairs */
        mp[i] = _mm256_or_si256(_mm256_srli_epi32(kq4_u8x8(sb + GT_KQ2_OFF_SC + 32 * i + 8 * hr), 4),
                                _mm256_slli_epi32(_mm256_srli_epi32(kq4_u8x8(sb + GT_KQ2_OFF_SC + 32 * i + 16 + 8 * hr),
                                                                    4),
                                                  16));
    /* group sums |A_g| <= 16 * 127 */
    kq_finish_mins8(sb + GT_KQ2_OFF_D, sb + GT_KQ2_OFF_DMIN, hr, k, A, t0, NT, dot, mp, 8, 0, acc);
}

void gt_kq2_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 2 * KT_NT);
    KT_HALF_TILES(kq2_half, GT_KQ2_SB_BYTES)
}
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
