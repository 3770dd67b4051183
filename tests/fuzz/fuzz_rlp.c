/* fuzz_rlp.c: the RLP decoder and the transaction decoder on hostile bytes
 * (what a peer or an RPC endpoint could send). Invariants beyond not
 * crashing or leaking:
 *   - an accepted RLP item re-encodes, item by item, to exactly the input
 *     (the decoder accepts only canonical encodings, so there is one);
 *   - every refusal says why;
 *   - an accepted transaction re-encodes to exactly the input, and its
 *     hash is keccak of the input. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rlp.h"
#include "chain/tx.h"
#include "crypto/keccak.h"

/* Re-encodes a decoded item through the public encoder. */
static void reencode(const gt_rlp_item *it, gt_buf *b) {
    if (!it->is_list) {
        if (gt_rlp_put_bytes(b, it->payload, it->payload_len) != 0) abort();
        return;
    }
    size_t mark, off = 0;
    gt_rlp_item sub;
    gt_rlp_list_begin(b, &mark);
    while (gt_rlp_next(it, &off, &sub)) reencode(&sub, b);
    if (gt_rlp_list_end(b, mark) != 0) abort();
}

static void fuzz_tx(const uint8_t *data, size_t size) {
    gt_tx tx;
    gt_addr from;
    gt_err err = {0};
    if (gt_tx_decode(data, size, &tx, &from, &err) != 0) {
        if (err.msg[0] == 0) abort();
        return;
    }
    gt_buf b = GT_BUF_INIT;
    if (gt_tx_encode(&tx, &b, NULL) != 0) abort();
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    uint8_t h1[32], h2[32];
    if (gt_tx_hash(&tx, h1, NULL) != 0) abort();
    gt_keccak256(data, size, h2);
    if (memcmp(h1, h2, 32) != 0) abort();
    gt_buf_free(&b);
    gt_tx_free(&tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_rlp_item it;
    gt_err err = {0};
    if (gt_rlp_decode(data, size, &it, &err) == 0) {
        gt_buf b = GT_BUF_INIT;
        reencode(&it, &b);
        if (b.len != size || memcmp(b.data, data, size) != 0) abort();
        gt_buf_free(&b);
    } else if (err.msg[0] == 0) {
        abort();
    }
    fuzz_tx(data, size);
    return 0;
}
