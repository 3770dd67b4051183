/* qf.c: quadratic funding matches (formulas in qf.h).
 *
 * The round is first put in a canonical form that does not depend on input
 * order: contributions sorted by (address, project) with duplicates summed,
 * each address numbered (cid) in address order, and a counting sort by project
 * that keeps cid order inside each project. Every later sum is over integers,
 * so its value does not depend on the order of the terms either. */
#include "fund/qf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/amount.h"

typedef unsigned __int128 u128;

#define Q32 ((u128)1 << 32)

/* One (address, project) after summing. */
typedef struct agg {
    gt_addr from;
    uint32_t project;
    uint32_t cid;       /* index of the address in address order */
    uint64_t amount;
} agg;

/* The round in canonical form (see the file comment). */
typedef struct canon {
    agg *a;             /* sorted by (from, project) */
    size_t na;
    uint32_t *cstart;   /* contributor cid's rows: a[cstart[cid] .. cstart[cid+1]) */
    size_t nc;
    uint32_t *by_proj;  /* indices into a, grouped by project, cid order inside */
    uint32_t *pstart;   /* project p's rows: by_proj[pstart[p] .. pstart[p+1]) */
    uint32_t *weight;   /* per cid, parts per million (pairwise rule only) */
} canon;

/* floor(sqrt(n)) by Newton's method from a power of two above the root: the
 * iterates fall monotonically to the floor of the root. */
uint64_t gt_fund_isqrt(u128 n) {
    if (n < 2) return (uint64_t)n;
    int bits = 128 - (n >> 64 ? __builtin_clzll((uint64_t)(n >> 64))
                              : 64 + __builtin_clzll((uint64_t)n));
    u128 x = (u128)1 << ((bits + 1) / 2);
    for (;;) {
        u128 y = (x + n / x) >> 1;
        if (y >= x) break;
        x = y;
    }
    assert(x <= UINT64_MAX && x * x <= n && (x == UINT64_MAX || (x + 1) * (x + 1) > n));
    return (uint64_t)x;
}

/* Orders contributions by address, then project. */
static int cmp_agg(const void *pa, const void *pb) {
    const agg *a = pa, *b = pb;
    int c = memcmp(a->from.b, b->from.b, sizeof a->from.b);
    if (c) return c;
    return (a->project > b->project) - (a->project < b->project);
}

/* Orders weights by address. */
static int cmp_human(const void *pa, const void *pb) {
    const gt_fund_human *a = pa, *b = pb;
    return memcmp(a->who.b, b->who.b, sizeof a->who.b);
}

/* Checks the round and its contributions against the limits in qf.h; the
 * total of all contributions must fit in 64 bits (which bounds every
 * intermediate below: see fixed_raw). */
static int check_round(const gt_fund_round *r, const gt_fund_contribution *c, size_t n, size_t nh,
                       gt_err *err) {
    if (r->rule != GT_FUND_QF && r->rule != GT_FUND_PAIRWISE)
        return gt_err_set(err, GT_EINVAL, "unknown matching rule %d (expected qf or pairwise)",
                          (int)r->rule);
    if (r->n_projects == 0 || r->n_projects > GT_FUND_MAX_PROJECTS)
        return gt_err_set(err, GT_ELIMIT, "%u projects; a round has 1 to %u", r->n_projects,
                          GT_FUND_MAX_PROJECTS);
    if (n > GT_FUND_MAX_CONTRIBUTIONS)
        return gt_err_set(err, GT_ELIMIT, "%zu contributions; a round takes at most %u", n,
                          GT_FUND_MAX_CONTRIBUTIONS);
    if (nh > GT_FUND_MAX_HUMANS)
        return gt_err_set(err, GT_ELIMIT, "%zu human weights; at most %u", nh, GT_FUND_MAX_HUMANS);
    if (r->rule == GT_FUND_PAIRWISE && r->pairwise_m == 0)
        return gt_err_set(err, GT_EINVAL, "pairwise bound M is 0; expected a positive amount");
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].project >= r->n_projects)
            return gt_err_set(err, GT_EINVAL, "contribution %zu names project %u; the round has %u",
                              i, c[i].project, r->n_projects);
        if (c[i].amount == 0)
            return gt_err_set(err, GT_EINVAL, "contribution %zu is 0; expected a positive amount", i);
        if (gt_add_u64(total, c[i].amount, &total))
            return gt_err_set(err, GT_EOVERFLOW, "contributions total more than 2^64-1 base units");
    }
    return 0;
}

/* Frees what canonicalize allocated (any of it may be NULL). */
static void canon_free(canon *k) {
    gt_free(k->a);
    gt_free(k->cstart);
    gt_free(k->by_proj);
    gt_free(k->pstart);
    gt_free(k->weight);
    memset(k, 0, sizeof *k);
}

/* Sorts by (address, project), sums duplicates (the total fits: see
 * check_round) and numbers the addresses. */
static int sort_and_merge(canon *k, const gt_fund_contribution *c, size_t n, gt_err *err) {
    k->a = gt_malloc((n ? n : 1) * sizeof *k->a);
    k->cstart = gt_malloc((n + 1) * sizeof *k->cstart);
    if (!k->a || !k->cstart) return gt_err_set(err, GT_ENOMEM, "out of memory for a round");
    for (size_t i = 0; i < n; i++)
        k->a[i] = (agg){.from = c[i].from, .project = c[i].project, .amount = c[i].amount};
    qsort(k->a, n, sizeof *k->a, cmp_agg);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && cmp_agg(&k->a[w - 1], &k->a[i]) == 0) {
            k->a[w - 1].amount += k->a[i].amount;
            continue;
        }
        k->a[w] = k->a[i];
        if (w == 0 || memcmp(k->a[w - 1].from.b, k->a[w].from.b, 20) != 0)
            k->cstart[k->nc++] = (uint32_t)w;
        k->a[w].cid = (uint32_t)(k->nc - 1);
        w++;
    }
    k->na = w;
    k->cstart[k->nc] = (uint32_t)w;
    return 0;
}

/* Groups the rows by project with a stable counting sort, so each project's
 * rows stay in cid order. */
static int group_by_project(canon *k, uint32_t n_projects, gt_err *err) {
    k->by_proj = gt_malloc((k->na ? k->na : 1) * sizeof *k->by_proj);
    k->pstart = gt_calloc((size_t)n_projects + 1, sizeof *k->pstart);
    if (!k->by_proj || !k->pstart) return gt_err_set(err, GT_ENOMEM, "out of memory for a round");
    for (size_t i = 0; i < k->na; i++) k->pstart[k->a[i].project + 1]++;
    for (uint32_t p = 0; p < n_projects; p++) k->pstart[p + 1] += k->pstart[p];
    uint32_t *fill = gt_malloc(((size_t)n_projects + 1) * sizeof *fill);
    if (!fill) return gt_err_set(err, GT_ENOMEM, "out of memory for a round");
    memcpy(fill, k->pstart, ((size_t)n_projects + 1) * sizeof *fill);
    for (size_t i = 0; i < k->na; i++) k->by_proj[fill[k->a[i].project]++] = (uint32_t)i;
    gt_free(fill);
    return 0;
}

/* Looks up each contributor's human weight; an address with none gets 0.
 * A weight over 1.0 or an address given twice is refused. */
static int attach_weights(canon *k, const gt_fund_human *h, size_t nh, gt_err *err) {
    k->weight = gt_calloc(k->nc ? k->nc : 1, sizeof *k->weight);
    gt_fund_human *s = gt_malloc((nh ? nh : 1) * sizeof *s);
    if (!k->weight || !s) {
        gt_free(s);
        return gt_err_set(err, GT_ENOMEM, "out of memory for human weights");
    }
    if (nh) memcpy(s, h, nh * sizeof *s);
    qsort(s, nh, sizeof *s, cmp_human);
    int rc = 0;
    for (size_t i = 0; i < nh && rc == 0; i++) {
        if (s[i].weight_ppm > GT_FUND_WEIGHT_ONE)
            rc = gt_err_set(err, GT_EINVAL, "human weight %u ppm is over %u (1.0)", s[i].weight_ppm,
                            GT_FUND_WEIGHT_ONE);
        else if (i > 0 && cmp_human(&s[i - 1], &s[i]) == 0)
            rc = gt_err_set(err, GT_EINVAL, "an address has two human weights; give one each");
    }
    for (size_t cid = 0; cid < k->nc && rc == 0; cid++) {
        gt_fund_human key = {.who = k->a[k->cstart[cid]].from};
        const gt_fund_human *f = bsearch(&key, s, nh, sizeof *s, cmp_human);
        k->weight[cid] = f ? f->weight_ppm : 0;
    }
    gt_free(s);
    return rc;
}

/* Plain QF subsidy of project p in Q32: (sum r_i)^2 - 2^32 sum c_i, at least
 * 0. By Cauchy-Schwarz (sum r_i)^2 <= n_p * 2^32 * total <= 2^116: no overflow. */
static u128 plain_raw(const canon *k, uint32_t p) {
    u128 s = 0, sum_c = 0;
    for (uint32_t i = k->pstart[p]; i < k->pstart[p + 1]; i++) {
        uint64_t c = k->a[k->by_proj[i]].amount;
        s += gt_fund_isqrt((u128)c << 32);
        sum_c += c;
    }
    u128 sq = s * s;
    return sq > sum_c * Q32 ? sq - sum_c * Q32 : 0;
}

/* k_ij: sum over the projects both i and j fund of floor(sqrt(c_iq c_jq)),
 * by merging their rows (sorted by project). */
static u128 overlap(const canon *k, uint32_t ci, uint32_t cj) {
    uint32_t a = k->cstart[ci], ae = k->cstart[ci + 1];
    uint32_t b = k->cstart[cj], be = k->cstart[cj + 1];
    u128 sum = 0;
    while (a < ae && b < be) {
        if (k->a[a].project < k->a[b].project) {
            a++;
        } else if (k->a[a].project > k->a[b].project) {
            b++;
        } else {
            sum += gt_fund_isqrt((u128)k->a[a].amount * k->a[b].amount);
            a++;
            b++;
        }
    }
    return sum;
}

/* Steps the pairwise rule will take: per project, its pairs plus the merge
 * walks of overlap() ((n_p - 1) times the row counts of its contributors). */
static u128 pair_work(const canon *k, uint32_t n_projects) {
    u128 work = 0;
    for (uint32_t p = 0; p < n_projects; p++) {
        u128 np = k->pstart[p + 1] - k->pstart[p], deg = 0;
        if (np < 2) continue;
        for (uint32_t i = k->pstart[p]; i < k->pstart[p + 1]; i++) {
            uint32_t cid = k->a[k->by_proj[i]].cid;
            deg += k->cstart[cid + 1] - k->cstart[cid];
        }
        work += np * (np - 1) / 2 + (np - 1) * deg;
    }
    return work;
}

/* Pairwise subsidy of project p (formula in qf.h), in Q32. Each pair term is
 * at most 2 sqrt(c_i c_j), so the sum is at most the plain subsidy: <= 2^116
 * in Q32. A pair with a zero weight adds nothing and is skipped. */
static u128 pairwise_raw(const canon *k, uint32_t p, uint64_t m) {
    u128 raw = 0;
    for (uint32_t x = k->pstart[p]; x < k->pstart[p + 1]; x++) {
        const agg *i = &k->a[k->by_proj[x]];
        if (k->weight[i->cid] == 0) continue;
        for (uint32_t y = x + 1; y < k->pstart[p + 1]; y++) {
            const agg *j = &k->a[k->by_proj[y]];
            if (k->weight[j->cid] == 0) continue;
            u128 s = gt_fund_isqrt((u128)i->amount * j->amount);
            u128 t = s * m / ((u128)m + overlap(k, i->cid, j->cid));
            t = t * k->weight[i->cid] / GT_FUND_WEIGHT_ONE;
            t = t * k->weight[j->cid] / GT_FUND_WEIGHT_ONE;
            assert(t <= s);
            raw += 2 * t;
        }
    }
    return raw * Q32;
}

/* Scales the Q32 subsidies to the pool (rule in qf.h); every step rounds
 * down, so the matches never sum to more than the pool. */
static void scale_to_pool(const u128 *raw, uint32_t n_projects, uint64_t pool, uint64_t *match,
                          gt_fund_result *res) {
    u128 total = 0;
    for (uint32_t p = 0; p < n_projects; p++) total += raw[p];
    u128 ideal = total >> 32;
    res->ideal_total = ideal > UINT64_MAX ? UINT64_MAX : (uint64_t)ideal;
    res->scaled = total > (u128)pool * Q32;
    if (!res->scaled) {
        for (uint32_t p = 0; p < n_projects; p++) match[p] = (uint64_t)(raw[p] >> 32);
    } else {
        int shift = 0;
        while ((total >> shift) > UINT64_MAX) shift++;
        u128 shifted_total = 0;
        for (uint32_t p = 0; p < n_projects; p++) shifted_total += raw[p] >> shift;
        assert(shifted_total > 0 && shifted_total <= UINT64_MAX);
        for (uint32_t p = 0; p < n_projects; p++)
            match[p] = (uint64_t)((raw[p] >> shift) * pool / shifted_total);
    }
    u128 sum = 0;
    for (uint32_t p = 0; p < n_projects; p++) sum += match[p];
    assert(sum <= pool);
    res->matched_total = (uint64_t)sum;
    res->remainder = pool - (uint64_t)sum;
}

/* Puts the round in canonical form and, for the pairwise rule, attaches the
 * weights and checks the work it will take against GT_FUND_MAX_PAIR_WORK. */
static int prepare(canon *k, const gt_fund_round *r, const gt_fund_contribution *c, size_t n,
                   const gt_fund_human *humans, size_t nh, gt_err *err) {
    int rc = sort_and_merge(k, c, n, err);
    if (rc == 0) rc = group_by_project(k, r->n_projects, err);
    if (rc == 0 && r->rule == GT_FUND_PAIRWISE) {
        rc = attach_weights(k, humans, nh, err);
        u128 work = rc == 0 ? pair_work(k, r->n_projects) : 0;
        if (rc == 0 && work > GT_FUND_MAX_PAIR_WORK)
            rc = gt_err_set(err, GT_ELIMIT,
                            "the pairwise rule would take %llu steps over this round; at most %llu",
                            work > UINT64_MAX ? ~0ull : (unsigned long long)work,
                            (unsigned long long)GT_FUND_MAX_PAIR_WORK);
    }
    return rc;
}

/* See qf.h. */
int gt_fund_match(const gt_fund_round *r, const gt_fund_contribution *c, size_t n,
                  const gt_fund_human *humans, size_t nh, uint64_t *match, gt_fund_result *res,
                  gt_err *err) {
    assert(r && match && res && (c || n == 0) && (humans || nh == 0));
    memset(res, 0, sizeof *res);
    if (r->n_projects <= GT_FUND_MAX_PROJECTS) memset(match, 0, (size_t)r->n_projects * sizeof *match);
    int rc = check_round(r, c, n, nh, err);
    if (rc) return rc;
    canon k = {0};
    u128 *raw = NULL;
    rc = prepare(&k, r, c, n, humans, nh, err);
    if (rc == 0) {
        raw = gt_malloc((size_t)r->n_projects * sizeof *raw);
        if (!raw) rc = gt_err_set(err, GT_ENOMEM, "out of memory for a round");
    }
    if (rc == 0) {
        for (uint32_t p = 0; p < r->n_projects; p++)
            raw[p] = r->rule == GT_FUND_QF ? plain_raw(&k, p) : pairwise_raw(&k, p, r->pairwise_m);
        scale_to_pool(raw, r->n_projects, r->pool, match, res);
        res->contributors = k.nc;
    } else {
        res->remainder = r->pool;
    }
    gt_free(raw);
    canon_free(&k);
    return rc;
}
