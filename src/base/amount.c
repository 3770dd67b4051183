/* amount.c: decimal amounts <-> base units. */
#include "base/amount.h"

#include <stdio.h>
#include <string.h>

int gt_amount_parse(const char *s, uint64_t *units, gt_err *err) {
    if (!s || !*s) return gt_err_set(err, GT_EINVAL, "amount is empty; expected e.g. \"1.5\"");
    if (strlen(s) >= GT_AMOUNT_STR_MAX)
        return gt_err_set(err, GT_ELIMIT, "amount \"%.40s…\" is too long", s);
    uint64_t whole = 0, frac = 0;
    int frac_digits = 0, seen_dot = 0, digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (seen_dot) return gt_err_set(err, GT_EINVAL, "amount \"%s\" has two decimal points", s);
            seen_dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9')
            return gt_err_set(err, GT_EINVAL,
                              "amount \"%s\": unexpected '%c'; expected digits and at most one '.'",
                              s, *p);
        digits++;
        if (seen_dot) {
            if (++frac_digits > GT_AMOUNT_DECIMALS)
                return gt_err_set(err, GT_EINVAL, "amount \"%s\" has more than %d decimals", s,
                                  GT_AMOUNT_DECIMALS);
            frac = frac * 10 + (uint64_t)(*p - '0');
        } else if (gt_mul_u64(whole, 10, &whole) || gt_add_u64(whole, (uint64_t)(*p - '0'), &whole)) {
            return gt_err_set(err, GT_EOVERFLOW, "amount \"%s\" is too large", s);
        }
    }
    if (!digits) return gt_err_set(err, GT_EINVAL, "amount \"%s\" has no digits", s);
    for (int i = frac_digits; i < GT_AMOUNT_DECIMALS; i++) frac *= 10;
    uint64_t u;
    if (gt_mul_u64(whole, GT_AMOUNT_UNIT, &u) || gt_add_u64(u, frac, &u))
        return gt_err_set(err, GT_EOVERFLOW, "amount \"%s\" is too large (max 18446744073709.551615)", s);
    *units = u;
    return 0;
}

char *gt_amount_format(uint64_t units, char *out) {
    uint64_t whole = units / GT_AMOUNT_UNIT, frac = units % GT_AMOUNT_UNIT;
    if (!frac) {
        snprintf(out, GT_AMOUNT_STR_MAX, "%llu", (unsigned long long)whole);
        return out;
    }
    char f[8];
    snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
    for (int i = 5; i > 0 && f[i] == '0'; i--) f[i] = 0;
    snprintf(out, GT_AMOUNT_STR_MAX, "%llu.%s", (unsigned long long)whole, f);
    return out;
}

/* "1.5 GOT": gt_amount_format and the symbol; the symbol is short enough
 * that the largest amount fits (asserted by the size check below). */
const char *gt_amount_tokens(uint64_t units, char out[GT_AMOUNT_TOKENS_MAX]) {
    _Static_assert(GT_AMOUNT_STR_MAX + sizeof GT_AMOUNT_SYMBOL <= GT_AMOUNT_TOKENS_MAX, "tokens buffer too small");
    char t[GT_AMOUNT_STR_MAX];
    snprintf(out, GT_AMOUNT_TOKENS_MAX, "%s %s", gt_amount_format(units, t), GT_AMOUNT_SYMBOL);
    return out;
}
