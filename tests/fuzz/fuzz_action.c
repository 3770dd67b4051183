/* fuzz_action.c: the action decoders on hostile bytes: JSON (the API and CLI
 * input) and the binary log form (a damaged ledger file). Neither may crash,
 * leak, or accept something that does not re-encode to the same action. The
 * in-place reader of a flat object (gt_action_from_flat_text) must accept
 * nothing that jansson's path refuses, and give the same action when both
 * accept. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "flat_check.h"
#include "ledger/action.h"
#include "ledger/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered) {
        gt_rules_register(NULL);
        registered = 1;
    }
    static gt_action a, b;
    check_flat(data, size);
    if (gt_action_from_json_text((const char *)data, size, &a, NULL) == 0) {
        /* Accepted: its binary form must round-trip to the same id. */
        static uint8_t bin[GT_ACTION_BIN_MAX];
        size_t n = gt_action_encode(&a, bin);
        int rc = gt_action_decode(bin, n, a.has_salt ? a.salt : NULL, &b, NULL);
        assert(rc == 0);
        assert(memcmp(a.id, b.id, 32) == 0);
        gt_domain dom = {.chain_id = a.chain_id};
        memcpy(dom.salt, a.salt, 32);
        gt_action_verify(&a, &dom, NULL);
        json_t *j = gt_action_to_json(&a, 1);
        json_decref(j);
    }
    gt_action_decode(data, size, NULL, &b, NULL);
    return 0;
}
