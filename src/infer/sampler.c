/* sampler.c: the sampling chain of sampler.h.
 *
 * Candidates are (id, logit) pairs. Top-k keeps a min-heap of k (one compare
 * per logit for most of a large vocabulary) and min-p drops what is below
 * max + log(min_p) before anything is sorted, so the sort only sees the few
 * tokens that can still be drawn. With neither (an OpenAI client's default:
 * temperature 1, nothing cut) the whole vocabulary is a candidate: it is
 * sorted by radix, each exp taken once and 8 at a time (gt_dmath_exp_n),
 * so a 151,936-token draw takes 4.7-4.9 ms instead of 43-64 (Release, session
 * 50), with the same draws. */
#include "infer/sampler.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/dmath.h"

typedef struct cand {
    int32_t id;
    float logit;
} cand;

struct gt_sampler {
    gt_sampler_params p;
    int n_vocab;
    cand *c;           /* n_vocab candidates */
    cand *tmp;         /* n_vocab: radix_sort's other buffer */
    double *e;         /* n_vocab: exp(logit - best logit) of the sorted candidates */
    float *work;       /* n_vocab logits after the penalty */
    int32_t *hist;     /* ring of the last repeat_last_n tokens */
    int hist_len, hist_pos;
    uint64_t s[4];     /* xoshiro256** state */
};

gt_sampler_params gt_sampler_defaults(void) {
    gt_sampler_params p = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                           .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0};
    return p;
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman and Vigna): the next 64 random bits. */
static uint64_t next_u64(gt_sampler *s) {
    uint64_t r = rotl(s->s[1] * 5, 7) * 9, t = s->s[1] << 17;
    s->s[2] ^= s->s[0];
    s->s[3] ^= s->s[1];
    s->s[1] ^= s->s[2];
    s->s[0] ^= s->s[3];
    s->s[2] ^= t;
    s->s[3] = rotl(s->s[3], 45);
    return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double next_unit(gt_sampler *s) { return (double)(next_u64(s) >> 11) * 0x1p-53; }

void gt_sampler_reset(gt_sampler *s) {
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->s[i] = splitmix64(&x);
    s->hist_len = s->hist_pos = 0;
}

int gt_sampler_new(const gt_sampler_params *p, int n_vocab, gt_sampler **out, gt_err *err) {
    *out = NULL;
    if (n_vocab < 1) return gt_err_set(err, GT_EINVAL, "sampler: vocabulary of %d tokens", n_vocab);
    if (!isfinite(p->temp) || p->temp > 100.0f)
        return gt_err_set(err, GT_EINVAL, "temperature %g: expected 0..100 (0 is greedy)", (double)p->temp);
    if (p->top_k < 0 || p->top_k > GT_SAMPLER_MAX_TOP_K)
        return gt_err_set(err, GT_EINVAL, "top-k %d: expected 0..%d (0 is off)", p->top_k, GT_SAMPLER_MAX_TOP_K);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return gt_err_set(err, GT_EINVAL, "top-p %g: expected a value in (0, 1] (1 is off)", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p < 1.0f))
        return gt_err_set(err, GT_EINVAL, "min-p %g: expected a value in [0, 1) (0 is off)", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f && p->repeat_penalty <= 100.0f))
        return gt_err_set(err, GT_EINVAL, "repeat penalty %g: expected a value in (0, 100] (1 is off)",
                          (double)p->repeat_penalty);
    if (p->repeat_last_n < 0 || p->repeat_last_n > GT_SAMPLER_MAX_LAST_N)
        return gt_err_set(err, GT_EINVAL, "repeat window %d: expected 0..%d", p->repeat_last_n,
                          GT_SAMPLER_MAX_LAST_N);
    gt_sampler *s = gt_calloc(1, sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    s->c = gt_malloc((size_t)n_vocab * sizeof *s->c);
    s->tmp = gt_malloc((size_t)n_vocab * sizeof *s->tmp);
    s->e = gt_malloc((size_t)n_vocab * sizeof *s->e);
    s->work = gt_malloc((size_t)n_vocab * sizeof *s->work);
    s->hist = gt_malloc(((size_t)p->repeat_last_n + 1) * sizeof *s->hist);
    if (!s->c || !s->tmp || !s->e || !s->work || !s->hist) {
        gt_sampler_free(s);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    gt_sampler_reset(s);
    *out = s;
    return 0;
}

void gt_sampler_free(gt_sampler *s) {
    if (!s) return;
    gt_free(s->c);
    gt_free(s->tmp);
    gt_free(s->e);
    gt_free(s->work);
    gt_free(s->hist);
    gt_free(s);
}

void gt_sampler_accept(gt_sampler *s, int32_t token) {
    if (s->p.repeat_last_n == 0) return;
    s->hist[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->hist_len < s->p.repeat_last_n) s->hist_len++;
}

/* a before b: higher logit first, then lower id (a total order). */
static int better(const cand *a, const cand *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cmp_cand(const void *x, const void *y) {
    const cand *a = x, *b = y;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

/* Sifts the worst candidate to the root of a heap of n (root = worst). */
static void heap_down(cand *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l])) w = l;
        if (r < n && better(&h[w], &h[r])) w = r;
        if (w == i) return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* A key whose ascending order is better()'s order of logits: higher logit
 * first. -0 and +0 are one logit to better(), so one key here; NaN never
 * reaches a sort (it fails every floor test). */
static uint32_t order_key(float logit) {
    if (logit == 0.0f) logit = 0.0f;
    uint32_t u;
    memcpy(&u, &logit, 4);
    uint32_t up = u & 0x80000000u ? ~u : u | 0x80000000u; /* ascending with the logit */
    return ~up;
}

/* Sorts c[0..m) into better()'s order when c arrives in ascending id: an
 * LSD radix sort on order_key, 8 bits a pass, stable, so equal logits keep
 * ascending ids, as better() orders them. The same permutation as qsort
 * with cmp_cand (a total order has one sorted order), in O(m) instead of a
 * comparison sort's m log m calls (a 151,936-token vocabulary with nothing
 * cut: 30-40 ms a token before). Passes where every key has the same byte
 * are skipped. tmp holds m. */
static void radix_sort(cand *c, cand *tmp, int m) {
    for (int shift = 0; shift < 32; shift += 8) {
        int count[257] = {0};
        for (int i = 0; i < m; i++) count[((order_key(c[i].logit) >> shift) & 0xff) + 1]++;
        int same = 0;
        for (int b = 1; b <= 256; b++) same |= count[b] == m;
        if (same) continue;
        for (int b = 1; b <= 256; b++) count[b] += count[b - 1];
        for (int i = 0; i < m; i++) tmp[count[(order_key(c[i].logit) >> shift) & 0xff]++] = c[i];
        memcpy(c, tmp, (size_t)m * sizeof *c);
    }
}

int32_t gt_sampler_sample(gt_sampler *s, const float *logits) {
    int n = s->n_vocab;
    float *l = s->work;
    memcpy(l, logits, (size_t)n * sizeof(float));
    /* Repetition penalty, once per distinct token in the window. */
    if (s->p.repeat_penalty != 1.0f)
        for (int i = 0; i < s->hist_len; i++) {
            int32_t t = s->hist[i];
            if (t < 0 || t >= n) continue;
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = s->hist[j] == t;
            if (seen) continue;
            l[t] = l[t] > 0 ? l[t] / s->p.repeat_penalty : l[t] * s->p.repeat_penalty;
        }
    int best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    if (s->p.temp <= 0.0f) return best;
    /* min-p as a logit threshold: p_i >= min_p * p_max  <=>  l_i >= l_max + log(min_p). */
    float floor_logit = s->p.min_p > 0.0f ? l[best] + (float)gt_dmath_log((double)s->p.min_p) : -INFINITY;
    int k = s->p.top_k > 0 && s->p.top_k < n ? s->p.top_k : n;
    /* Without top-k (k == n) every candidate is kept in ascending id; with
     * it, a full heap of k reorders them. */
    int m = 0, in_id_order = 1;
    for (int i = 0; i < n; i++) {
        if (!(l[i] >= floor_logit)) continue;
        cand c = {i, l[i]};
        if (m < k) {
            s->c[m++] = c;
            if (m == k && k < n) {
                for (int j = k / 2 - 1; j >= 0; j--) heap_down(s->c, k, j);
                in_id_order = 0;
            }
        } else if (better(&c, &s->c[0])) {
            s->c[0] = c;
            heap_down(s->c, k, 0);
        }
    }
    assert(m >= 1); /* the best token is never below the floor */
    if (in_id_order && m > 64) radix_sort(s->c, s->tmp, m);
    else qsort(s->c, (size_t)m, sizeof *s->c, cmp_cand);
    /* Probabilities at temperature 1 for top-p (as llama.cpp orders it);
     * each exp once, kept for the passes below. */
    double *e = s->e, sum = 0;
    for (int i = 0; i < m; i++) e[i] = (double)s->c[i].logit - s->c[0].logit;
    gt_dmath_exp_n(e, e, m);
    for (int i = 0; i < m; i++) sum += e[i];
    if (s->p.top_p < 1.0f) {
        double cum = 0;
        int keep = m;
        for (int i = 0; i < m; i++) {
            cum += e[i] / sum;
            if (cum >= s->p.top_p) {
                keep = i + 1;
                break;
            }
        }
        m = keep;
    }
    /* Temperature, then one draw. At temperature 1 the division is exact,
     * so the kept exps are the same numbers. */
    if (s->p.temp != 1.0f) {
        for (int i = 0; i < m; i++) e[i] = ((double)s->c[i].logit - s->c[0].logit) / s->p.temp;
        gt_dmath_exp_n(e, e, m);
    }
    double tsum = 0;
    for (int i = 0; i < m; i++) tsum += e[i];
    double r = next_unit(s) * tsum, acc = 0;
    for (int i = 0; i < m; i++) {
        acc += e[i];
        if (r < acc) return s->c[i].id;
    }
    return s->c[m - 1].id;
}
