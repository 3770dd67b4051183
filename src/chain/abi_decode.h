/* abi_decode.h: reading ABI-encoded return data, revert data and event logs.
 *
 * Return data and a log's data are a tuple: head words (a static value, or a
 * dynamic value's offset from the tuple's start) then tails. Reading is
 * strict and bounded: every offset and length must lie inside the data, a
 * uint that should fit 64 bits must, an address word must have 12 zero bytes,
 * a bool must be 0 or 1. Each reader names the item it refuses. An event's
 * indexed arguments are its topics after topic 0 (the event's signature
 * hash); its other arguments are the tuple in data. */
#ifndef GT_CHAIN_ABI_DECODE_H
#define GT_CHAIN_ABI_DECODE_H
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/err.h"
#include "crypto/key.h"

/* Word i of the head (32 bytes). */
int gt_abi_get_word(const uint8_t *d, size_t n, size_t i, uint8_t out[32], gt_err *err);
int gt_abi_get_u64(const uint8_t *d, size_t n, size_t i, uint64_t *out, gt_err *err);
int gt_abi_get_address(const uint8_t *d, size_t n, size_t i, gt_addr *out, gt_err *err);
int gt_abi_get_bool(const uint8_t *d, size_t n, size_t i, int *out, gt_err *err);
/* bytes or string whose offset is head word i: *p points into d. At most
 * GT_ABI_MAX_BYTES. */
int gt_abi_get_bytes(const uint8_t *d, size_t n, size_t i, const uint8_t **p, size_t *len, gt_err *err);
/* T[] of static words whose offset is head word i: *items points at the first
 * word, *count words (at most GT_ABI_MAX_ITEMS). */
int gt_abi_get_words(const uint8_t *d, size_t n, size_t i, const uint8_t **items, size_t *count, gt_err *err);

/* The same checks on a single 32-byte word (a topic, a word from get_words). */
int gt_abi_word_u64(const uint8_t w[32], uint64_t *out, const char *what, gt_err *err);
int gt_abi_word_address(const uint8_t w[32], gt_addr *out, const char *what, gt_err *err);

/* topic 0 of an event: keccak256 of its canonical signature
 * ("Transfer(address,address,uint256)"). */
void gt_abi_event_topic(const char *signature, uint8_t out[32]);

/* The reason of a revert: Error(string) as text (non-printable bytes as '?'),
 * Panic(uint256) as "panic 0x..", a JobEscrow custom error as its message
 * (chain/escrow_errors.h), another custom error as "custom error 0x<selector>
 * (N bytes of revert data)", anything else as its length; returns 1 if the
 * data was Error, Panic or JobEscrow's. out always NUL-terminated. */
int gt_abi_revert_reason(const uint8_t *d, size_t n, char *out, size_t cap);
#endif
