/* rlp.h: Ethereum's Recursive Length Prefix encoding (yellow paper, appendix B).
 *
 * The encoder appends to a gt_buf; a list is opened with gt_rlp_list_begin and
 * closed with gt_rlp_list_end, which inserts the header once the payload's
 * length is known. The decoder is strict: it accepts only the one canonical
 * encoding of a value (no single byte < 0x80 wrapped in a string header, no
 * long form for a payload under 56 bytes, no leading zero in a length or an
 * integer, no bytes after the top item), nesting at most GT_RLP_MAX_DEPTH and
 * input at most GT_RLP_MAX_BYTES. Decoded items point into the caller's input
 * (nothing is copied or allocated). */
#ifndef GT_CHAIN_RLP_H
#define GT_CHAIN_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define GT_RLP_MAX_DEPTH 16           /* lists in lists; a transaction needs 4 */
#define GT_RLP_MAX_BYTES (1u << 24)   /* 16 MiB: far above a block's transaction */

/* One decoded item: a byte string or a list, with its payload (the bytes
 * after the header) and its whole encoding (header included). */
typedef struct gt_rlp_item {
    int is_list;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *raw;
    size_t raw_len;
} gt_rlp_item;

int gt_rlp_put_bytes(gt_buf *b, const void *p, size_t n);
/* An integer: big-endian, no leading zeros; 0 is the empty string (0x80). */
int gt_rlp_put_uint(gt_buf *b, uint64_t v);
/* A 256-bit big-endian integer, its leading zeros stripped. */
int gt_rlp_put_u256(gt_buf *b, const uint8_t be[32]);
/* Appends already-encoded RLP as is (the caller vouches for it). */
int gt_rlp_put_raw(gt_buf *b, const void *p, size_t n);
/* Starts a list; *mark remembers where its payload begins. */
void gt_rlp_list_begin(const gt_buf *b, size_t *mark);
/* Ends the list begun at mark: inserts its header before the payload. */
int gt_rlp_list_end(gt_buf *b, size_t mark);

/* Decodes exactly one canonical item filling in[0, n); checks the whole tree
 * (every nested list, depth, canonical form). GT_EINVAL or GT_ELIMIT with a
 * message saying where and what. */
int gt_rlp_decode(const uint8_t *in, size_t n, gt_rlp_item *out, gt_err *err);
/* Splits a decoded list into its items (at most cap); more than cap is
 * GT_ELIMIT, a string is GT_EINVAL. */
int gt_rlp_list_items(const gt_rlp_item *list, gt_rlp_item *items, size_t cap, size_t *n_out,
                      gt_err *err);
/* Steps through a decoded list: fills *out with the item at *off (start at 0)
 * and advances; returns 1, or 0 past the last item. */
int gt_rlp_next(const gt_rlp_item *list, size_t *off, gt_rlp_item *out);
/* Reads a canonical integer item (a string of at most 8 bytes, no leading
 * zero) into *v; `what` names the field in the message. */
int gt_rlp_to_uint(const gt_rlp_item *it, uint64_t *v, const char *what, gt_err *err);
/* Same for a 256-bit integer: out is 32 big-endian bytes. */
int gt_rlp_to_u256(const gt_rlp_item *it, uint8_t out[32], const char *what, gt_err *err);

#endif
