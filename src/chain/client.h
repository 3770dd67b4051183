/* client.h: gotong's wallet on an EVM chain: sends EIP-1559 transactions
 * signed with a gotong key, waits for their receipts at a confirmation depth,
 * reads contracts (eth_call) and logs.
 *
 * Nonces: an account's next nonce is read once from the node (the pending
 * count) and then kept here, one more per transaction the node accepted; a
 * node that answers "nonce too low" (another wallet process used the key)
 * makes the account re-read it and try once more. Gas: the node's estimate
 * plus GT_CHAIN_GAS_MARGIN_PCT, refused above GT_CHAIN_MAX_GAS; an estimate
 * that reverts sends nothing and reports the revert's reason. Fees: max fee
 * twice the latest base fee plus the node's suggested tip. Confirmation: a
 * receipt counts once `confirmations` blocks are on top of (and including)
 * its block, and its block is still the chain's block at that height (a
 * reorg that dropped it makes the wait go on: the transaction may be mined
 * again, or time out). A receipt whose status is 0 (reverted) is an error for
 * gt_chain_transact: a failed transaction never reads as done. */
#ifndef GT_CHAIN_CLIENT_H
#define GT_CHAIN_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/err.h"
#include "chain/rpc.h"
#include "crypto/key.h"

#define GT_CHAIN_MAX_GAS 30000000ull     /* a block's gas limit on mainnet */
#define GT_CHAIN_GAS_MARGIN_PCT 20       /* over the node's estimate */
#define GT_CHAIN_MAX_LOGS 256            /* per receipt */
#define GT_CHAIN_MAX_LOG_DATA (64u << 10)
#define GT_CHAIN_MAX_TOPICS 4
#define GT_CHAIN_MAX_CALL_BYTES (1u << 20) /* eth_call return data */
#define GT_CHAIN_POLL_MS 50
#define GT_CHAIN_BUMP_PCT 13             /* fee raise of a replacement */
#define GT_CHAIN_WAIT_MS_DEFAULT 60000

typedef struct gt_chain {
    gt_rpc *rpc;
    uint64_t chain_id;
    uint64_t confirmations; /* >= 1: the receipt's block itself counts */
    long wait_ms;           /* how long gt_chain_wait waits in all */
} gt_chain;

typedef struct gt_chain_account {
    gt_key key;
    gt_addr addr;
    uint64_t next_nonce;
    int nonce_known;
} gt_chain_account;

typedef struct gt_chain_log {
    gt_addr address;
    uint64_t block_number; /* from eth_getLogs (a receipt's logs carry it too) */
    uint32_t log_index;    /* its place in the block */
    uint8_t topics[GT_CHAIN_MAX_TOPICS][32];
    size_t n_topics;
    uint8_t *data; /* owned */
    size_t data_len;
} gt_chain_log;

typedef struct gt_chain_receipt {
    uint8_t tx_hash[32], block_hash[32];
    uint64_t block_number, gas_used;
    int status;         /* 1 success, 0 reverted */
    int has_contract;   /* a creation: contract holds the new address */
    gt_addr contract;
    gt_chain_log *logs; /* owned */
    size_t n_logs;
} gt_chain_receipt;

/* Connects to url and reads its chain id; confirmations 1, wait 60 s. */
int gt_chain_open(const char *url, gt_chain *out, gt_err *err);
void gt_chain_close(gt_chain *c);
/* An account for key k (copied; wiped by gt_chain_account_wipe). */
int gt_chain_account_init(gt_chain_account *a, const gt_key *k, gt_err *err);
void gt_chain_account_wipe(gt_chain_account *a);
/* Forgets the account's nonce: the next send reads it from the node again.
 * For when a transaction will never be mined (a reorg dropped it, a wait
 * timed out and the caller gives it up): its nonce is then free again. */
void gt_chain_account_resync(gt_chain_account *a);
int gt_chain_block_number(gt_chain *c, uint64_t *out, gt_err *err);
/* Estimates, signs and sends a transaction from a: to NULL creates a
 * contract; value NULL is zero. *hash gets its hash. */
int gt_chain_send(gt_chain *c, gt_chain_account *a, const gt_addr *to, const uint8_t value[32], const uint8_t *data,
                  size_t len, uint8_t hash[32], gt_err *err);
/* Replaces a's transaction `stuck` that the node holds but has not mined:
 * the same nonce, call and gas limit, both fees raised by
 * GT_CHAIN_BUMP_PCT (nodes replace only for at least 10% more) and at least
 * to today's fees; *hash gets the new hash. Refuses a transaction already
 * mined, unknown to the node, or not a's. */
int gt_chain_replace(gt_chain *c, gt_chain_account *a, const uint8_t stuck[32], uint8_t hash[32], gt_err *err);
/* The receipt of hash if mined: *found 0 when not (yet). */
int gt_chain_receipt_get(gt_chain *c, const uint8_t hash[32], gt_chain_receipt *r, int *found, gt_err *err);
/* Waits until hash's receipt is confirmed (see above); GT_ESTATE on timeout. */
int gt_chain_wait(gt_chain *c, const uint8_t hash[32], gt_chain_receipt *r, gt_err *err);
/* send + wait, and a reverted receipt is GT_ECHAIN (r still filled). */
int gt_chain_transact(gt_chain *c, gt_chain_account *a, const gt_addr *to, const uint8_t *data, size_t len,
                      gt_chain_receipt *r, gt_err *err);
void gt_chain_receipt_free(gt_chain_receipt *r);
/* What gt_chain_receipt_get and gt_chain_get_logs make of the node's
 * result, on their own (no connection; fuzzing, tests): res is the
 * eth_getTransactionReceipt result for hash (null: not mined, *found 0), or
 * the eth_getLogs result (an array of logs) into out->logs. On an error r
 * and out are left empty. */
int gt_chain_receipt_read(const json_t *res, const uint8_t hash[32], gt_chain_receipt *r, int *found, gt_err *err);
int gt_chain_logs_read(const json_t *res, gt_chain_receipt *out, gt_err *err);
/* eth_getLogs' answer for addrs (n of them) and blocks from..to checked as the question asked it: every log of one of
 * addrs, in from..to, in strictly increasing (block, log index) order; GT_ECHAIN otherwise (a log of another
 * contract, a repeated or reordered one: a node that answers so is not read). gt_chain_get_logs checks its answer;
 * a log marked removed is refused by the read itself. */
int gt_chain_logs_check(const gt_chain_receipt *logs, const gt_addr *addrs, size_t n, uint64_t from, uint64_t to,
                        gt_err *err);
/* The first log of r emitted by address with topic 0 = topic0, or NULL. */
const gt_chain_log *gt_chain_find_log(const gt_chain_receipt *r, const gt_addr *address, const uint8_t topic0[32]);
/* The hash of the canonical block at height n (GT_ENOTFOUND past the head). */
int gt_chain_block_hash(gt_chain *c, uint64_t n, uint8_t out[32], gt_err *err);
/* The latest block's timestamp in seconds. */
int gt_chain_block_time(gt_chain *c, uint64_t *time_s, gt_err *err);
/* eth_getLogs of the contracts addrs[0..n) over blocks from..to (inclusive),
 * in chain order, into out->logs (only logs and n_logs are filled; free it
 * with gt_chain_receipt_free). More than GT_CHAIN_MAX_LOGS is GT_ELIMIT: the
 * caller asks for a shorter range. */
int gt_chain_get_logs(gt_chain *c, const gt_addr *addrs, size_t n, uint64_t from, uint64_t to, gt_chain_receipt *out,
                      gt_err *err);
/* eth_call at the latest block (from may be NULL); out gets the return data.
 * A revert is GT_ECHAIN with its reason. */
int gt_chain_call(gt_chain *c, const gt_addr *from, const gt_addr *to, const uint8_t *data, size_t len, gt_buf *out,
                  gt_err *err);
#endif
