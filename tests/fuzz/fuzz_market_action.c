/* fuzz_market_action.c: the JSON action decoder on arbitrary bytes, with the
 * market's kinds registered. Whatever decodes must encode back to JSON and to
 * the binary log form and decode again to the same action (same id), and the
 * signature check must answer without crashing. The in-place reader must
 * agree with jansson's path (flat_check.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flat_check.h"
#include "ledger/action.h"
#include "market/market.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered) {
        if (gt_market_register(NULL)) abort();
        registered = 1;
    }
    static gt_action a, b;
    gt_err err;
    check_flat(data, size);
    if (gt_action_from_json_text((const char *)data, size, &a, &err)) return 0;
    json_t *j = gt_action_to_json(&a, 1);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text || gt_action_from_json_text(text, strlen(text), &b, &err) || memcmp(a.id, b.id, 32)) __builtin_trap();
    free(text);
    static uint8_t bin[GT_ACTION_BIN_MAX];
    size_t n = gt_action_encode(&a, bin);
    if (gt_action_decode(bin, n, a.has_salt ? a.salt : NULL, &b, &err) || memcmp(a.id, b.id, 32)) __builtin_trap();
    gt_domain dom = {.chain_id = 1337};
    gt_action_verify(&a, &dom, &err);
    return 0;
}
