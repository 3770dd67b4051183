/* fam_arith.c: the "arith" family: a op b with multi-digit integers.
 * + and - take operands of 2..12 digits, * of 2..8 (so every product fits in
 * 64 bits). The answer is exact; the checker reads one integer (thousands
 * separators allowed) and compares it with the product/sum/difference. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "work/data/families_impl.h"

static uint64_t pow10u(int d) {
    uint64_t p = 1;
    while (d-- > 0) p *= 10;
    return p;
}

/* A number of exactly d digits. */
static int64_t draw_digits(gt_rng *r, int d) { return (int64_t)gt_rng_range(r, pow10u(d - 1), pow10u(d) - 1); }

static void arith_generate(gt_rng *r, gt_family_item *it) {
    static const char ops[] = "+-*";
    int op = (int)gt_rng_below(r, 3);
    int hi = ops[op] == '*' ? 8 : 12;
    int da = (int)gt_rng_range(r, 2, (uint64_t)hi), db = (int)gt_rng_range(r, 2, (uint64_t)hi);
    int64_t a = draw_digits(r, da), b = draw_digits(r, db);
    int64_t ans = ops[op] == '+' ? a + b : ops[op] == '-' ? a - b : a * b;
    snprintf(it->question, sizeof it->question, "What is %" PRId64 " %c %" PRId64 "?", a, ops[op], b);
    snprintf(it->answer, sizeof it->answer, "%" PRId64, ans);
    snprintf(it->meta, sizeof it->meta, "{\"op\":\"%c\",\"a\":%" PRId64 ",\"b\":%" PRId64 "}", ops[op], a, b);
}

/* Reads back an answer this file wrote ("-123"); not for outside input. */
static void parse_i64(const char *s, int64_t *out) {
    int64_t v = 0;
    int neg = *s == '-';
    for (s += neg; *s; s++) v = v * 10 + (*s - '0');
    *out = neg ? -v : v;
}

static void arith_check(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v) {
    fam_num x;
    int rc = fam_pick_num(ans, n, FAM_GROUPS, marked, &x);
    if (rc == -2) return fam_verdict(v, 0, "a number in the answer has more than %d digits", FAM_NUM_MAX_DIGITS);
    if (rc) return fam_verdict(v, 0, "no integer in the answer");
    int64_t want;
    parse_i64(it->answer, &want);
    uint64_t mag = want < 0 ? (uint64_t)(-(want + 1)) + 1 : (uint64_t)want;
    if (x.mant == mag && x.neg == (want < 0)) return fam_verdict(v, 1, "correct");
    fam_verdict(v, 0, "expected %s, got %s%" PRIu64, it->answer, x.neg ? "-" : "", x.mant);
}

static int arith_distract(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k) {
    int64_t want;
    parse_i64(it->answer, &want);
    /* Plausible slips: off by one, by ten, a carry lost in some column. */
    int64_t deltas[12];
    int nd = 0;
    deltas[nd++] = 1, deltas[nd++] = -1, deltas[nd++] = 10, deltas[nd++] = -10;
    for (int d = 2; d <= 9 && nd < 12; d += 1 + (int)gt_rng_below(r, 3))
        deltas[nd++] = (gt_rng_below(r, 2) ? 1 : -1) * (int64_t)pow10u(d);
    int got = 0;
    for (int tries = 0; got < k && tries < 64; tries++) {
        int64_t c = want + deltas[gt_rng_below(r, (uint64_t)nd)];
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, c);
        int dup = !strcmp(buf, it->answer);
        for (int j = 0; j < got && !dup; j++) dup = !strcmp(out[j], buf);
        if (!dup) snprintf(out[got++], GT_FAMILY_ANSWER_MAX, "%s", buf);
    }
    return got;
}

const gt_family gt_family_arith = {
    "arith", "multi-digit integer addition, subtraction and multiplication", "an integer",
    arith_generate, arith_check, arith_distract,
};
