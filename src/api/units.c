/* units.c: the API's one convention for amounts: every amount in a response
 * is an integer count of base units (10^-6 token) written as a decimal
 * string ("1500000" is 1.5 tokens), as Ethereum's JSON-RPC tools write wei;
 * actions accept the same (or a JSON integer).
 *
 * The market's query functions write their amounts as token decimals ("1.5"),
 * which its scenario files (tests/scenarios) compare against; the market's
 * routes pass their JSON through gt_api_units, which rewrites each amount
 * field to base units. A field that does not parse as an amount fails the
 * request (500): a response never carries an amount in the wrong unit. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "api/api_impl.h"
#include "base/amount.h"

/* The amount fields of the market's JSON (tasks, slots, disputes, votes,
 * agent cards, reputation's totals) and of the work routes (the leaderboard's
 * co-sign backing). Kept in step with docs/api.md. */
static const char *const amount_fields[] = {"bounty", "stake", "fee", "escrow", "price", "weight", "bond",
                                            "rejectionBond", "acceptWeight", "rejectWeight", "slashed", "amount",
                                            "paid", "earned", "backedStake", NULL};

/* Deepest JSON nesting walked: the market's shapes are 4 levels deep. */
#define UNITS_MAX_DEPTH 16

int gt_api_is_amount_field(const char *key) {
    for (int i = 0; amount_fields[i]; i++)
        if (!strcmp(key, amount_fields[i])) return 1;
    return 0;
}

/* Rewrites the amount fields of j and of everything inside it: strings are
 * token decimals (the market's), integers base units (an action's signed
 * uint64 fields); both become base units as a decimal string. */
static int walk(json_t *j, int depth, gt_err *err) {
    if (depth > UNITS_MAX_DEPTH) return gt_err_set(err, GT_ELIMIT, "market JSON nested over %d levels", UNITS_MAX_DEPTH);
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) if (walk(v, depth + 1, err)) return GT_EINVAL;
        return 0;
    }
    if (!json_is_object(j)) return 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if ((json_is_string(v) || json_is_integer(v)) && gt_api_is_amount_field(key)) {
            uint64_t units = (uint64_t)json_integer_value(v);
            if (json_is_integer(v) && json_integer_value(v) < 0)
                return gt_err_set(err, GT_EINVAL, "field \"%s\": a negative amount", key);
            if (json_is_string(v) && gt_amount_parse(json_string_value(v), &units, err))
                return gt_err_wrap(err, "market field \"%s\"", key);
            char s[24];
            snprintf(s, sizeof s, "%llu", (unsigned long long)units);
            if (json_object_set_new(j, key, json_string(s))) return gt_err_set(err, GT_ENOMEM, "out of memory");
        } else if (walk(v, depth + 1, err)) {
            return GT_EINVAL;
        }
    }
    return 0;
}

int gt_api_units(json_t *j, gt_err *err) {
    assert(j);
    return walk(j, 0, err);
}

/* Replies with the reader's JSON, its amounts in base units as decimal
 * strings, or its error. An amount that cannot be converted fails the
 * request: no response carries an amount in another unit. */
void gt_api_reply_units(gt_resp *o, json_t *j, const gt_err *err) {
    gt_err uerr = {0};
    if (j && gt_api_units(j, &uerr)) {
        json_decref(j);
        gt_resp_error(o, 500, GT_EDB, "%s", uerr.msg);
    } else if (j) {
        gt_resp_json(o, 200, j);
    } else {
        gt_resp_err(o, err);
    }
}
