/* flat_check.h: the fuzz targets' check of the in-place action reader
 * (gt_action_from_flat_text) against jansson's path on the same bytes: it
 * may decline anything, but what it accepts the full path must accept, to
 * the same action. */
#ifndef GT_FUZZ_FLAT_CHECK_H
#define GT_FUZZ_FLAT_CHECK_H

#include <string.h>

#include "base/json.h"
#include "base/limits.h"
#include "ledger/action.h"

/* Are a and b the same action: the same binary form, domain salt and id? */
static int same_action(const gt_action *a, const gt_action *b) {
    static uint8_t x[GT_ACTION_BIN_MAX], y[GT_ACTION_BIN_MAX];
    size_t nx = gt_action_encode(a, x), ny = gt_action_encode(b, y);
    if (a->has_want_id != b->has_want_id || (a->has_want_id && memcmp(a->want_id, b->want_id, 32))) return 0;
    return nx == ny && !memcmp(x, y, nx) && a->has_salt == b->has_salt &&
           (!a->has_salt || (!memcmp(a->salt, b->salt, 32) && !memcmp(a->id, b->id, 32)));
}

/* The flat reader against jansson's path on the same bytes. */
static void check_flat(const uint8_t *data, size_t size) {
    static gt_action fa, ja;
    if (!gt_action_from_flat_text((const char *)data, size, &fa)) return;
    json_t *v = NULL;
    /* the flat reader took it: jansson must parse it, the full path accept
     * it, to the same action (a trap, not assert: Release builds run it too) */
    if (gt_json_parse((const char *)data, size, GT_LIMIT_JSON_BYTES, &v, NULL)) __builtin_trap();
    if (gt_action_from_json(v, &ja, NULL)) __builtin_trap();
    if (!same_action(&fa, &ja)) __builtin_trap();
    json_decref(v);
}

#endif
