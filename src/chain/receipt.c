/* receipt.c: receipts, logs, confirmation and eth_call (see client.h). */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "chain/abi_decode.h"
#include "chain/client.h"
#include "crypto/addr.h"

void gt_chain_receipt_free(gt_chain_receipt *r) {
    for (size_t i = 0; i < r->n_logs; i++) gt_free(r->logs[i].data);
    gt_free(r->logs);
    memset(r, 0, sizeof *r);
}

/* One log object into l. */
static int parse_log(const json_t *o, gt_chain_log *l, gt_err *err) {
    const json_t *topics = json_object_get(o, "topics");
    int rc = gt_rpc_to_fixed(json_object_get(o, "address"), l->address.b, 20, "log address", err);
    if (rc) return rc;
    if (!json_is_array(topics) || json_array_size(topics) > GT_CHAIN_MAX_TOPICS)
        return gt_err_set(err, GT_EINVAL, "log topics: expected an array of at most %d", GT_CHAIN_MAX_TOPICS);
    l->n_topics = json_array_size(topics);
    for (size_t t = 0; t < l->n_topics; t++)
        if ((rc = gt_rpc_to_fixed(json_array_get(topics, t), l->topics[t], 32, "log topic", err))) return rc;
    gt_buf data = GT_BUF_INIT;
    if ((rc = gt_rpc_to_data(json_object_get(o, "data"), GT_CHAIN_MAX_LOG_DATA, &data, "log data", err))) {
        gt_buf_free(&data);
        return rc;
    }
    l->data = gt_buf_take(&data, &l->data_len);
    const json_t *bn = json_object_get(o, "blockNumber"), *li = json_object_get(o, "logIndex");
    const json_t *removed = json_object_get(o, "removed");
    uint64_t idx = 0;
    /* A log a reorganisation took away (only filters and subscriptions report them): never an event that happened. */
    if (removed && !json_is_false(removed))
        return gt_err_set(err, GT_ECHAIN, "a removed log (reorganised away, or removed not a boolean)");
    if (bn && !json_is_null(bn) && (rc = gt_rpc_to_u64(bn, &l->block_number, "log blockNumber", err))) return rc;
    if (li && !json_is_null(li) && (rc = gt_rpc_to_u64(li, &idx, "log logIndex", err))) return rc;
    if (idx > UINT32_MAX) return gt_err_set(err, GT_EINVAL, "log logIndex %llu over 2^32 - 1", (unsigned long long)idx);
    l->log_index = (uint32_t)idx;
    return 0;
}

static int parse_logs(const json_t *logs, gt_chain_receipt *r, gt_err *err) {
    if (!json_is_array(logs)) return gt_err_set(err, GT_EINVAL, "receipt logs: expected an array");
    size_t n = json_array_size(logs);
    if (n > GT_CHAIN_MAX_LOGS)
        return gt_err_set(err, GT_ELIMIT, "receipt of %zu logs, at most %d", n, GT_CHAIN_MAX_LOGS);
    if (n && !(r->logs = gt_calloc(n, sizeof *r->logs))) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        r->n_logs++; /* counted before it is read: a log refused half-read (its data copied) is freed too */
        int rc = parse_log(json_array_get(logs, i), &r->logs[i], err);
        if (rc) return gt_err_wrap(err, "log %zu", i);
    }
    return 0;
}

int gt_chain_logs_read(const json_t *res, gt_chain_receipt *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = parse_logs(res, out, err);
    if (rc) gt_chain_receipt_free(out);
    return rc;
}

/* A receipt object into r (r zeroed first). */
static int parse_receipt(const json_t *o, gt_chain_receipt *r, gt_err *err) {
    uint64_t status = 0;
    const json_t *ca = json_object_get(o, "contractAddress");
    int rc = gt_rpc_to_fixed(json_object_get(o, "transactionHash"), r->tx_hash, 32, "receipt hash", err);
    if (!rc) rc = gt_rpc_to_fixed(json_object_get(o, "blockHash"), r->block_hash, 32, "receipt blockHash", err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(o, "blockNumber"), &r->block_number, "receipt blockNumber", err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(o, "gasUsed"), &r->gas_used, "receipt gasUsed", err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(o, "status"), &status, "receipt status", err);
    if (!rc && status > 1) rc = gt_err_set(err, GT_EINVAL, "receipt status %llu (0 or 1)", (unsigned long long)status);
    if (!rc && ca && !json_is_null(ca)) {
        rc = gt_rpc_to_fixed(ca, r->contract.b, 20, "receipt contractAddress", err);
        r->has_contract = 1;
    }
    if (!rc) rc = parse_logs(json_object_get(o, "logs"), r, err);
    r->status = (int)status;
    return rc;
}

int gt_chain_receipt_read(const json_t *res, const uint8_t hash[32], gt_chain_receipt *r, int *found, gt_err *err) {
    memset(r, 0, sizeof *r);
    *found = 0;
    if (json_is_null(res)) return 0;
    int rc;
    if (!json_is_object(res)) rc = gt_err_set(err, GT_EINVAL, "eth_getTransactionReceipt: not an object");
    else if (!(rc = parse_receipt(res, r, err))) *found = 1;
    if (!rc && memcmp(r->tx_hash, hash, 32))
        rc = gt_err_set(err, GT_ECHAIN, "the node answered the receipt of another transaction");
    if (rc) {
        gt_chain_receipt_free(r);
        *found = 0;
    }
    return rc;
}

int gt_chain_receipt_get(gt_chain *c, const uint8_t hash[32], gt_chain_receipt *r, int *found, gt_err *err) {
    memset(r, 0, sizeof *r);
    *found = 0;
    json_t *res = NULL;
    int rc = gt_rpc_call(c->rpc, "eth_getTransactionReceipt", json_pack("[o]", gt_rpc_data(hash, 32)), &res, err);
    if (!rc) rc = gt_chain_receipt_read(res, hash, r, found, err);
    json_decref(res);
    return rc;
}

int gt_chain_block_hash(gt_chain *c, uint64_t n, uint8_t out[32], gt_err *err) {
    json_t *blk = NULL;
    int rc = gt_rpc_call(c->rpc, "eth_getBlockByNumber", json_pack("[o,b]", gt_rpc_u64(n), 0), &blk, err);
    if (!rc && !json_is_object(blk)) rc = gt_err_set(err, GT_ENOTFOUND, "no block %llu", (unsigned long long)n);
    if (!rc) rc = gt_rpc_to_fixed(json_object_get(blk, "hash"), out, 32, "block hash", err);
    json_decref(blk);
    return rc;
}

/* The latest block's timestamp: the clock every deadline on chain is read
 * against (a transaction sent now lands in a block at least this late). */
int gt_chain_block_time(gt_chain *c, uint64_t *time_s, gt_err *err) {
    json_t *blk = NULL;
    int rc = gt_rpc_call(c->rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, err);
    if (!rc && !json_is_object(blk)) rc = gt_err_set(err, GT_ECHAIN, "the chain answered no latest block");
    if (!rc) rc = gt_rpc_to_u64(json_object_get(blk, "timestamp"), time_s, "block timestamp", err);
    json_decref(blk);
    return rc;
}

/* 1 if r is deep enough and its block is still canonical. */
static int confirmed(gt_chain *c, const gt_chain_receipt *r, int *ok, gt_err *err) {
    uint64_t head;
    uint8_t canon[32];
    *ok = 0;
    int rc = gt_chain_block_number(c, &head, err);
    if (rc || head < r->block_number || head - r->block_number + 1 < c->confirmations) return rc;
    if ((rc = gt_chain_block_hash(c, r->block_number, canon, err))) return rc;
    *ok = !memcmp(canon, r->block_hash, 32);
    return 0;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int gt_chain_wait(gt_chain *c, const uint8_t hash[32], gt_chain_receipt *r, gt_err *err) {
    assert(c->confirmations >= 1);
    long pause_ms = 1; /* doubles up to GT_CHAIN_POLL_MS: a dev chain mines in a millisecond, mainnet in 12 s */
    for (long waited = 0; waited <= c->wait_ms; waited += pause_ms) {
        int found = 0, ok = 0;
        int rc = gt_chain_receipt_get(c, hash, r, &found, err);
        if (!rc && found) rc = confirmed(c, r, &ok, err);
        if (rc) return rc;
        if (ok) return 0;
        gt_chain_receipt_free(r);
        if (waited) pause_ms = pause_ms * 2 > GT_CHAIN_POLL_MS ? GT_CHAIN_POLL_MS : pause_ms * 2;
        sleep_ms(pause_ms);
    }
    return gt_err_set(err, GT_ESTATE, "transaction not confirmed at depth %llu within %ld ms",
                      (unsigned long long)c->confirmations, c->wait_ms);
}

int gt_chain_transact(gt_chain *c, gt_chain_account *a, const gt_addr *to, const uint8_t *data, size_t len,
                      gt_chain_receipt *r, gt_err *err) {
    uint8_t hash[32];
    memset(r, 0, sizeof *r);
    int rc = gt_chain_send(c, a, to, NULL, data, len, hash, err);
    if (!rc) rc = gt_chain_wait(c, hash, r, err);
    if (!rc && r->status != 1)
        rc = gt_err_set(err, GT_ECHAIN, "the transaction reverted in block %llu (gas used %llu)",
                        (unsigned long long)r->block_number, (unsigned long long)r->gas_used);
    return rc;
}

const gt_chain_log *gt_chain_find_log(const gt_chain_receipt *r, const gt_addr *address, const uint8_t topic0[32]) {
    for (size_t i = 0; i < r->n_logs; i++) {
        const gt_chain_log *l = &r->logs[i];
        if (l->n_topics && !memcmp(l->topics[0], topic0, 32) && !memcmp(l->address.b, address->b, 20)) return l;
    }
    return NULL;
}

int gt_chain_call(gt_chain *c, const gt_addr *from, const gt_addr *to, const uint8_t *data, size_t len, gt_buf *out,
                  gt_err *err) {
    json_t *call = json_object(), *res = NULL;
    if (from) json_object_set_new(call, "from", gt_rpc_data(from->b, 20));
    json_object_set_new(call, "to", gt_rpc_data(to->b, 20));
    json_object_set_new(call, "input", gt_rpc_data(data, len));
    int rc = gt_rpc_call(c->rpc, "eth_call", json_pack("[o,s]", call, "latest"), &res, err);
    if (!rc) rc = gt_rpc_to_data(res, GT_CHAIN_MAX_CALL_BYTES, out, "eth_call's answer", err);
    json_decref(res);
    return rc;
}

int gt_chain_logs_check(const gt_chain_receipt *logs, const gt_addr *addrs, size_t n, uint64_t from, uint64_t to,
                        gt_err *err) {
    assert(n > 0 && from <= to);
    for (size_t i = 0; i < logs->n_logs; i++) {
        const gt_chain_log *l = &logs->logs[i], *prev = i ? &logs->logs[i - 1] : NULL;
        size_t k = 0;
        while (k < n && !gt_addr_eq(&l->address, &addrs[k])) k++;
        if (k == n) return gt_err_set(err, GT_ECHAIN, "log %zu: of a contract not asked for", i);
        if (l->block_number < from || l->block_number > to)
            return gt_err_set(err, GT_ECHAIN, "log %zu: of block %llu, outside the blocks asked for", i,
                              (unsigned long long)l->block_number);
        if (prev && (l->block_number < prev->block_number ||
                     (l->block_number == prev->block_number && l->log_index <= prev->log_index)))
            return gt_err_set(err, GT_ECHAIN, "log %zu: block %llu index %u not after the log before it (repeated or "
                              "out of order)", i, (unsigned long long)l->block_number, l->log_index);
    }
    return 0;
}

int gt_chain_get_logs(gt_chain *c, const gt_addr *addrs, size_t n, uint64_t from, uint64_t to, gt_chain_receipt *out,
                      gt_err *err) {
    assert(from <= to && n > 0);
    memset(out, 0, sizeof *out);
    json_t *filter = json_object(), *list = json_array(), *res = NULL;
    for (size_t i = 0; i < n; i++) json_array_append_new(list, gt_rpc_data(addrs[i].b, 20));
    json_object_set_new(filter, "address", list);
    json_object_set_new(filter, "fromBlock", gt_rpc_u64(from));
    json_object_set_new(filter, "toBlock", gt_rpc_u64(to));
    int rc = gt_rpc_call(c->rpc, "eth_getLogs", json_pack("[o]", filter), &res, err);
    if (!rc) rc = gt_chain_logs_read(res, out, err);
    if (!rc && (rc = gt_chain_logs_check(out, addrs, n, from, to, err))) gt_chain_receipt_free(out);
    json_decref(res);
    return rc ? gt_err_wrap(err, "eth_getLogs of blocks %llu..%llu", (unsigned long long)from,
                            (unsigned long long)to) : 0;
}
