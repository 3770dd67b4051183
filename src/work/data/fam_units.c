/* fam_units.c: the "units" family: convert a value between two units of one
 * dimension (length, mass, time, volume).
 *
 * Every factor is an exact rational (the inch is 25.4 mm, the pound
 * 0.45359237 kg, the US gallon 3.785411784 L by definition), so the exact
 * result is a fraction N/D computed in 128-bit integers. The answer is N/D
 * rounded half up to 2 decimals; the checker accepts any number within 0.005
 * of N/D exactly (|c - N/D| <= 1/200), i.e. any correct rounding and any more
 * precise answer, and nothing else. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "work/data/families_impl.h"

typedef unsigned __int128 u128;

typedef struct unit {
    const char *sym, *name; /* "km", "kilometres" */
    int dim;
    uint64_t num, den;      /* size in the dimension's base unit (mm, mg, s, mL) */
} unit;

enum { D_LENGTH, D_MASS, D_TIME, D_VOLUME };

static const unit units[] = {
    {"mm", "millimetres", D_LENGTH, 1, 1},         {"cm", "centimetres", D_LENGTH, 10, 1},
    {"m", "metres", D_LENGTH, 1000, 1},            {"km", "kilometres", D_LENGTH, 1000000, 1},
    {"in", "inches", D_LENGTH, 127, 5},            {"ft", "feet", D_LENGTH, 1524, 5},
    {"yd", "yards", D_LENGTH, 4572, 5},            {"mi", "miles", D_LENGTH, 1609344, 1},
    {"g", "grams", D_MASS, 1000, 1},               {"kg", "kilograms", D_MASS, 1000000, 1},
    {"oz", "ounces", D_MASS, 45359237, 1600},      {"lb", "pounds", D_MASS, 45359237, 100},
    {"s", "seconds", D_TIME, 1, 1},                {"min", "minutes", D_TIME, 60, 1},
    {"h", "hours", D_TIME, 3600, 1},               {"day", "days", D_TIME, 86400, 1},
    {"week", "weeks", D_TIME, 604800, 1},          {"mL", "millilitres", D_VOLUME, 1, 1},
    {"L", "litres", D_VOLUME, 1000, 1},            {"cup", "US cups", D_VOLUME, 473176473, 2000000},
    {"qt", "US quarts", D_VOLUME, 473176473, 500000}, {"gal", "US gallons", D_VOLUME, 473176473, 125000},
};
#define N_UNITS ((int)(sizeof units / sizeof units[0]))

static u128 gcd128(u128 a, u128 b) {
    while (b) {
        u128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* value k/10 converted from unit f to unit t: N/D in lowest terms. */
static void convert(uint64_t k, const unit *f, const unit *t, u128 *n, u128 *d) {
    *n = (u128)k * f->num * t->den;
    *d = (u128)10 * f->den * t->num;
    u128 g = gcd128(*n, *d);
    *n /= g, *d /= g;
}

/* N/D rounded half up to hundredths, as "123.45". */
static void format_2dp(u128 n, u128 d, char *out, size_t cap) {
    u128 h = (n * 200 + d) / (2 * d); /* hundredths */
    snprintf(out, cap, "%" PRIu64 ".%02u", (uint64_t)(h / 100), (unsigned)(h % 100));
}

/* Meta keeps k (tenths) and the unit indexes so the checker needs no parsing
 * of the question. */
static void units_generate(gt_rng *r, gt_family_item *it) {
    const unit *f, *t;
    uint64_t k;
    u128 n, d;
    for (;;) { /* draw until the result is a sensible size (0.1 .. 10^9) */
        int fi = (int)gt_rng_below(r, N_UNITS), ti;
        do ti = (int)gt_rng_below(r, N_UNITS);
        while (ti == fi || units[ti].dim != units[fi].dim);
        f = &units[fi], t = &units[ti];
        k = gt_rng_range(r, 1, 10000);
        if (gt_rng_below(r, 2)) k = (k + 9) / 10 * 10; /* half the values are whole numbers */
        convert(k, f, t, &n, &d);
        if (n * 10 >= d && n <= d * (u128)1000000000) break;
    }
    char v[32];
    snprintf(v, sizeof v, "%" PRIu64 ".%" PRIu64, k / 10, k % 10);
    if (k % 10 == 0) snprintf(v, sizeof v, "%" PRIu64, k / 10);
    snprintf(it->question, sizeof it->question,
             "Convert %s %s (%s) to %s (%s). Give the result rounded to 2 decimal places.", v, f->name, f->sym,
             t->name, t->sym);
    format_2dp(n, d, it->answer, sizeof it->answer);
    snprintf(it->meta, sizeof it->meta, "{\"tenths\":%" PRIu64 ",\"from\":\"%s\",\"to\":\"%s\"}", k, f->sym, t->sym);
}

/* Recovers (k, from, to) from the meta this file wrote. */
static int units_params(const gt_family_item *it, uint64_t *k, const unit **f, const unit **t) {
    char fs[16], ts[16];
    if (sscanf(it->meta, "{\"tenths\":%" SCNu64 ",\"from\":\"%15[^\"]\",\"to\":\"%15[^\"]\"}", k, fs, ts) != 3)
        return -1;
    *f = *t = NULL;
    for (int i = 0; i < N_UNITS; i++) {
        if (!strcmp(units[i].sym, fs)) *f = &units[i];
        if (!strcmp(units[i].sym, ts)) *t = &units[i];
    }
    return *f && *t ? 0 : -1;
}

static void units_check(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v) {
    uint64_t k;
    const unit *f, *t;
    if (units_params(it, &k, &f, &t)) return fam_verdict(v, 0, "item metadata is not a units item");
    u128 N, D;
    convert(k, f, t, &N, &D);
    fam_num x;
    int rc = fam_pick_num(ans, n, FAM_FRAC | FAM_GROUPS, marked, &x);
    if (rc == -2) return fam_verdict(v, 0, "a number in the answer has too many digits");
    if (rc) return fam_verdict(v, 0, "no number in the answer");
    if (x.neg) return fam_verdict(v, 0, "expected %s, got a negative number", it->answer);
    u128 p10 = 1;
    for (int i = 0; i < x.scale; i++) p10 *= 10;
    /* |mant/10^s - N/D| <= 1/200  <=>  200 |mant*D - N*10^s| <= D*10^s */
    u128 lhs = (u128)x.mant * D, rhs = N * p10;
    u128 diff = lhs > rhs ? lhs - rhs : rhs - lhs;
    if (diff * 200 <= D * p10) return fam_verdict(v, 1, "correct");
    fam_verdict(v, 0, "expected %s (within 0.005), got %.*s", it->answer, (int)(x.end < 40 ? x.end : 40), ans);
}

static int units_distract(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k) {
    uint64_t tenths;
    const unit *f, *t;
    if (units_params(it, &tenths, &f, &t)) return 0;
    u128 N, D, IN, ID;
    convert(tenths, f, t, &N, &D);
    convert(tenths, t, f, &IN, &ID); /* the conversion done backwards */
    char cand[5][GT_FAMILY_ANSWER_MAX];
    format_2dp(IN, ID, cand[0], sizeof cand[0]);
    format_2dp(N * 10, D, cand[1], sizeof cand[1]);
    format_2dp(N, D * 10, cand[2], sizeof cand[2]);
    format_2dp(N * 11, D * 10, cand[3], sizeof cand[3]);
    format_2dp(N * 9, D * 10, cand[4], sizeof cand[4]);
    int got = 0;
    int start = (int)gt_rng_below(r, 5);
    for (int j = 0; j < 5 && got < k; j++) {
        const char *c = cand[(start + j) % 5];
        int dup = !strcmp(c, it->answer);
        for (int i = 0; i < got && !dup; i++) dup = !strcmp(out[i], c);
        if (!dup) snprintf(out[got++], GT_FAMILY_ANSWER_MAX, "%s", c);
    }
    return got;
}

const gt_family gt_family_units = {
    "units", "unit conversions (length, mass, time, volume), exact rational arithmetic",
    "a number rounded to 2 decimal places", units_generate, units_check, units_distract, 0, 0, NULL,
};
