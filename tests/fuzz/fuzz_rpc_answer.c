/* fuzz_rpc_answer.c: what an EVM node answers the chain client, on hostile
 * bytes: the JSON-RPC answer body (gt_rpc_answer, what gt_rpc_call does with
 * it), then its result through every reader the client puts results through:
 * quantities and data (gt_rpc_to_u64/u256/data/fixed), a receipt and its
 * logs (gt_chain_receipt_read), eth_getLogs' array (gt_chain_logs_read), a
 * block's fields, and eth_call's return data through the ABI readers
 * (abi_decode.h) and the revert reason. A refusal must say why (a non-empty
 * message); what is accepted must be consistent: a quantity or data string
 * read formats back to itself (any case), a decoded value lies inside the
 * data, a receipt keeps within its caps. */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/abi.h"
#include "chain/abi_decode.h"
#include "chain/client.h"
#include "chain/rpc.h"

#define MAX_WALK 64 /* members of an object or array looked at, each */

/* Whether a and b are the same text but for ASCII case. */
static int same_caseless(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* A refusal says why. */
static void refused(const gt_err *err) {
    if (!err->msg[0]) __builtin_trap();
}

/* v as a quantity: what reads formats back to the same digits; u64 reads
 * exactly what u256 reads when it fits. */
static void check_quantity(const json_t *v) {
    uint8_t w[32];
    uint64_t q;
    gt_err err = {0};
    int rc = gt_rpc_to_u256(v, w, "q", &err);
    if (rc) {
        refused(&err);
    } else {
        json_t *back = gt_rpc_u256(w);
        if (!back || !same_caseless(json_string_value(back), json_string_value(v))) __builtin_trap();
        json_decref(back);
    }
    gt_err err64 = {0};
    int rc64 = gt_rpc_to_u64(v, &q, "q", &err64);
    if (rc64) {
        refused(&err64);
        return;
    }
    if (rc) __builtin_trap(); /* u64 accepted what u256 refused */
    for (int i = 0; i < 24; i++)
        if (w[i]) __builtin_trap();
    uint64_t want = 0;
    for (int i = 24; i < 32; i++) want = want << 8 | w[i];
    if (want != q) __builtin_trap();
}

/* Return data through the ABI readers: each value read lies inside d. */
static void check_abi(const uint8_t *d, size_t n) {
    gt_err err = {0};
    size_t words = n / 32 < 16 ? n / 32 + 1 : 16;
    for (size_t i = 0; i < words; i++) {
        uint8_t w[32];
        uint64_t v;
        gt_addr a;
        int b;
        const uint8_t *p;
        size_t len;
        if (gt_abi_get_word(d, n, i, w, &err)) refused(&err);
        if (gt_abi_get_u64(d, n, i, &v, &err)) refused(&err);
        if (gt_abi_get_address(d, n, i, &a, &err)) refused(&err);
        if (gt_abi_get_bool(d, n, i, &b, &err)) refused(&err);
        else if (b != 0 && b != 1) __builtin_trap();
        if (gt_abi_get_bytes(d, n, i, &p, &len, &err)) refused(&err);
        else if (p < d || len > GT_ABI_MAX_BYTES || (size_t)(p - d) > n || len > n - (size_t)(p - d)) __builtin_trap();
        if (gt_abi_get_words(d, n, i, &p, &len, &err)) refused(&err);
        else if (p < d || len > GT_ABI_MAX_ITEMS || (size_t)(p - d) > n || len * 32 > n - (size_t)(p - d))
            __builtin_trap();
    }
    char why[24];
    gt_abi_revert_reason(d, n, why, sizeof why);
    if (!memchr(why, 0, sizeof why)) __builtin_trap();
}

/* v as data (eth_call's answer, a log's data) and as a hash and an address:
 * what reads formats back to the same string; the data goes on to the ABI
 * readers. */
static void check_data(const json_t *v) {
    gt_buf b = GT_BUF_INIT;
    gt_err err = {0};
    if (gt_rpc_to_data(v, GT_CHAIN_MAX_CALL_BYTES, &b, "d", &err)) {
        refused(&err);
    } else {
        json_t *back = gt_rpc_data(b.data, b.len);
        if (!back || !same_caseless(json_string_value(back), json_string_value(v))) __builtin_trap();
        json_decref(back);
        check_abi(b.data, b.len);
    }
    uint8_t fixed[32];
    static const size_t sizes[] = {20, 32};
    for (int k = 0; k < 2; k++) {
        gt_err e = {0};
        if (gt_rpc_to_fixed(v, fixed, sizes[k], "f", &e)) {
            refused(&e);
        } else if (b.len != sizes[k] || memcmp(fixed, b.data, sizes[k])) {
            __builtin_trap(); /* a fixed read must be the data read of that length */
        }
    }
    gt_buf_free(&b);
}

/* A receipt kept within its caps, its logs within theirs. */
static void check_receipt(const gt_chain_receipt *r) {
    if (r->status > 1 || r->n_logs > GT_CHAIN_MAX_LOGS || (r->n_logs && !r->logs)) __builtin_trap();
    for (size_t i = 0; i < r->n_logs; i++) {
        const gt_chain_log *l = &r->logs[i];
        if (l->n_topics > GT_CHAIN_MAX_TOPICS || l->data_len > GT_CHAIN_MAX_LOG_DATA) __builtin_trap();
        if (l->data_len) check_abi(l->data, l->data_len);
    }
}

/* An object as a receipt (asked for by its own transactionHash, so the hash
 * check passes when the rest is sound) and as a block. */
static void check_object(const json_t *o) {
    uint8_t hash[32] = {0};
    gt_rpc_to_fixed(json_object_get(o, "transactionHash"), hash, 32, "h", NULL);
    gt_chain_receipt r;
    int found = 7;
    gt_err err = {0};
    if (gt_chain_receipt_read(o, hash, &r, &found, &err)) {
        refused(&err);
        if (found || r.n_logs || r.logs) __builtin_trap(); /* a refusal leaves nothing behind */
    } else {
        if (found != 1 || memcmp(r.tx_hash, hash, 32)) __builtin_trap();
        check_receipt(&r);
    }
    gt_chain_receipt_free(&r);
    static const char *const fields[] = {"hash", "timestamp", "baseFeePerGas", "number", "data", "input"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const json_t *f = json_object_get(o, fields[i]);
        if (f) check_quantity(f), check_data(f);
    }
}

/* An array as eth_getLogs' answer. */
static void check_logs(const json_t *a) {
    gt_chain_receipt r;
    gt_err err = {0};
    if (gt_chain_logs_read(a, &r, &err)) {
        refused(&err);
        if (r.n_logs || r.logs) __builtin_trap();
    } else {
        if (r.n_logs != json_array_size(a)) __builtin_trap();
        check_receipt(&r);
    }
    gt_chain_receipt_free(&r);
}

/* A result through every reader that may get it; members one level down too
 * (a block's fields, a log list's entries). */
static void check_result(const json_t *res, int depth) {
    check_quantity(res);
    check_data(res);
    if (json_is_object(res)) {
        check_object(res);
        check_logs(json_object_get(res, "logs"));
    }
    if (json_is_array(res)) check_logs(res);
    if (depth > 0) return;
    size_t n = 0;
    if (json_is_object(res)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)res, k, v) {
            if (n++ >= MAX_WALK) break;
            check_result(v, depth + 1);
        }
    } else if (json_is_array(res)) {
        for (size_t i = 0; i < json_array_size(res) && i < MAX_WALK; i++) check_result(json_array_get(res, i), 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *res = NULL;
    long code = 12345;
    gt_err err = {0};
    int rc = gt_rpc_answer("eth_call", data, size, &res, &code, &err);
    if (rc) {
        refused(&err);
        if (res) __builtin_trap();
        if (rc == GT_ECHAIN ? code == 0 : code != 0) __builtin_trap(); /* an error answer has its code, -1 at least */
        if (rc == GT_ECHAIN && strncmp(err.msg, "eth_call: node error", 20)) __builtin_trap();
        return 0;
    }
    if (!res || code != 0) __builtin_trap();
    check_result(res, 0);
    json_decref(res);
    return 0;
}
