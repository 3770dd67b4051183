/* fam_arith.c: the "arith" family: a op b with multi-digit integers.
 * + and - take operands of 2..12 digits, * of 2..8 (so every product fits in
 * 64 bits); difficulty level d (1..9) gives both operands d digits. A worked
 * solution goes column by column (sums with carries, differences with
 * borrows, in lines of fixed width; one partial product per digit of the
 * multiplier). The answer is
 * exact; the checker reads one integer (thousands separators allowed) and
 * compares it with the product/sum/difference. */
#include <assert.h>
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

typedef struct arith_params {
    char op;
    int64_t a, b;
} arith_params;

/* The operator and operands: at level 0 each operand has 2..12 digits
 * (2..8 for *), at level d exactly d digits. */
static void draw(gt_rng *r, int level, arith_params *p) {
    static const char ops[] = "+-*";
    int op = (int)gt_rng_below(r, 3);
    int hi = ops[op] == '*' ? 8 : 12;
    int da = level, db = level;
    if (!level) da = (int)gt_rng_range(r, 2, (uint64_t)hi), db = (int)gt_rng_range(r, 2, (uint64_t)hi);
    p->op = ops[op];
    p->a = level == 1 ? (int64_t)gt_rng_below(r, 10) : draw_digits(r, da);
    p->b = level == 1 ? (int64_t)gt_rng_below(r, 10) : draw_digits(r, db);
}

static void arith_generate(gt_rng *r, gt_family_item *it) {
    arith_params p;
    draw(r, it->level, &p);
    int64_t ans = p.op == '+' ? p.a + p.b : p.op == '-' ? p.a - p.b : p.a * p.b;
    snprintf(it->question, sizeof it->question, "What is %" PRId64 " %c %" PRId64 "?", p.a, p.op, p.b);
    snprintf(it->answer, sizeof it->answer, "%" PRId64, ans);
    snprintf(it->meta, sizeof it->meta, "{\"op\":\"%c\",\"a\":%" PRId64 ",\"b\":%" PRId64 "}", p.op, p.a, p.b);
}

/* --- worked solutions: column by column, as on paper ----------------------- */

/* Column sums of a + b (a, b >= 0), units first, one line of fixed width
 * each: "7+5+0=12" (digit of a, digit of b, carry in = carry out and the
 * digit written). With every line the same width, the answer -- the last
 * line's two digits, then the earlier lines' last digits from the bottom up
 * -- sits at fixed distances, which a small model learns far more easily
 * than free text. */
static void work_add(char *out, size_t cap, size_t *off, int64_t a, int64_t b) {
    for (int carry = 0, col = 0; a || b || !col; col++, a /= 10, b /= 10) {
        int da = (int)(a % 10), db = (int)(b % 10), s = da + db + carry;
        fam_cat(out, cap, off, "%d+%d+%d=%d%d\n", da, db, carry, s / 10, s % 10);
        carry = s / 10;
    }
}

/* Column differences of a - b (a >= b >= 0), units first, fixed width:
 * "2-5-0=17" (digit of a, digit of b, borrow in = borrow out and the digit
 * written: 12-5-0 = 7 with a borrow); then "= 0375": the difference's digits
 * from the top column down, leading zeros kept, so that the answer is that
 * line with its zeros dropped (a step of its own: the misses of the earlier
 * format were mostly a leading zero of the last column). */
static void work_sub(char *out, size_t cap, size_t *off, int64_t a, int64_t b) {
    char digits[24];
    int n = 0;
    for (int borrow = 0, col = 0; a || !col; col++, a /= 10, b /= 10) {
        int da = (int)(a % 10), db = (int)(b % 10), d = da - db - borrow;
        int next = d < 0;
        fam_cat(out, cap, off, "%d-%d-%d=%d%d\n", da, db, borrow, next, d + 10 * next);
        borrow = next;
        assert(n < (int)sizeof digits - 1);
        digits[n++] = (char)('0' + d + 10 * next);
    }
    fam_cat(out, cap, off, "= ");
    while (n > 0) fam_cat(out, cap, off, "%c", digits[--n]);
    fam_cat(out, cap, off, "\n");
}

/* Which operand of a - b is larger, written out before the columns: "cmp
 * 436 481: 4=4 3<8 so negate 481-436" compares the digits from the top
 * down to the first that differ (operands of one length; another length
 * decides alone: "longer", "shorter"), so the choice to negate is a
 * comparison of two digits, not of two whole numbers at once. */
static void work_cmp(char *out, size_t cap, size_t *off, int64_t a, int64_t b) {
    char sa[24], sb[24];
    snprintf(sa, sizeof sa, "%" PRId64, a);
    snprintf(sb, sizeof sb, "%" PRId64, b);
    fam_cat(out, cap, off, "cmp %s %s:", sa, sb);
    size_t la = strlen(sa), lb = strlen(sb);
    if (la != lb) fam_cat(out, cap, off, " %s", la > lb ? "longer" : "shorter");
    for (size_t i = 0; la == lb && i < la; i++) {
        fam_cat(out, cap, off, " %c%c%c", sa[i], sa[i] < sb[i] ? '<' : sa[i] > sb[i] ? '>' : '=', sb[i]);
        if (sa[i] != sb[i]) break;
    }
    if (a < b) fam_cat(out, cap, off, " so negate %s-%s\n", sb, sa);
    else fam_cat(out, cap, off, " so %s-%s\n", sa, sb);
}

/* a * b by the digits of b: one partial product per digit, then their sum. */
static void work_mul(char *out, size_t cap, size_t *off, int64_t a, int64_t b) {
    int64_t sum = 0, place = 1;
    for (int col = 0; b || !col; col++, b /= 10, place *= 10) {
        int64_t digit = b % 10, part = a * digit * place;
        sum += part;
        fam_cat(out, cap, off, "%" PRId64 "*%" PRId64 "=%" PRId64 " sum %" PRId64 "\n", a, digit * place, part, sum);
    }
}

static int arith_scratchpad(const gt_family_item *it, char *out, size_t cap) {
    gt_rng r;
    arith_params p;
    fam_item_rng(it, &r);
    draw(&r, it->level, &p);
    size_t off = 0;
    out[0] = 0;
    if (p.op == '+') work_add(out, cap, &off, p.a, p.b);
    else if (p.op == '-') work_cmp(out, cap, &off, p.a, p.b),
        work_sub(out, cap, &off, p.a >= p.b ? p.a : p.b, p.a >= p.b ? p.b : p.a);
    else work_mul(out, cap, &off, p.a, p.b);
    fam_cat(out, cap, &off, "Answer: %s", it->answer);
    return off + 1 >= cap ? -1 : 0;
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
    arith_generate, arith_check, arith_distract, 1, 9, arith_scratchpad,
};
