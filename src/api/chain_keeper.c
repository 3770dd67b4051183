/* chain_keeper.c: a `--chain` node's agent keeps the deadlines of its own
 * jobs (see chain_market.h).
 *
 * On chain a deadline passes only when someone calls the escrow: claimRefund
 * once a job's expiry is behind it, timeout once a timed job's running phase
 * is (a claim not submitted, a submission not judged). Nobody is paid to
 * call them, so the party that gains calls: the client of a job (its budget
 * back, a late worker's stake) and the worker of a submitted job nobody
 * judged (its stake back; it waits KEEP_GRACE_S past the deadline so that the
 * client's call, if it comes, is the only one). The chain's latest block
 * time is the clock: a transaction sent once it is past a deadline lands in a
 * block at least as late, so the escrow takes it. Each job is read from the
 * chain before its transaction; one that is not due yet is put off until its
 * deadline, one whose call fails is tried again after KEEP_RETRY_S and given
 * up after GT_CHAIN_MAX_ATTEMPTS failures, saying so in the log. */
#include <stdint.h>

#include "api/chain_market.h"
#include "base/log.h"
#include "chain/escrow.h"
#include "crypto/addr.h"

#define KEEP_MAX 8          /* jobs looked at per round */
#define KEEP_GRACE_S 30     /* the worker's call waits this long past the client's */
#define KEEP_RETRY_S 10     /* chain seconds before a failed call is tried again */
#define KEEP_RECHECK_S 10   /* chain seconds before a job acted on is looked at again */
#define KEEP_NEVER INT64_MAX

/* Puts job id off until chain time at_s; a failed call counts towards giving up. */
static void put_off(gt_cindex *ix, uint64_t id, uint64_t at_s, int failed, const char *why) {
    uint64_t tries = 0;
    gt_err err;
    if (gt_cindex_due_later(ix, id, at_s, failed, &tries, &err)) {
        GT_WARN("node: keeper: %s", err.msg);
        return;
    }
    if (failed && tries >= GT_CHAIN_MAX_ATTEMPTS) {
        GT_WARN("node: keeper: job %llu given up after %llu failed calls: %s", (unsigned long long)id,
                (unsigned long long)tries, why);
        gt_cindex_due_later(ix, id, KEEP_NEVER, 0, &tries, &err);
    } else if (failed) {
        GT_INFO("node: keeper: job %llu: %s (tried again later)", (unsigned long long)id, why);
    }
}

/* The call job j needs at chain time now_s as seen by who (GT_ESCROW_REFUND,
 * GT_ESCROW_TIMEOUT), or -1 with *when_s the chain time to look again. */
static int step_due(const gt_escrow_job *j, const gt_escrow_phase *ph, const gt_addr *who, uint64_t now_s,
                    uint64_t *when_s) {
    int client = gt_addr_eq(&j->client, who);
    uint64_t grace = client ? 0 : KEEP_GRACE_S;
    int phase = ph->submit_s && (j->claimed || j->status == GT_ESCROW_SUBMITTED);
    if (phase && !client && j->status != GT_ESCROW_SUBMITTED) return *when_s = KEEP_NEVER, -1; /* its own slash */
    if (!client && !gt_addr_eq(&j->provider, who)) return *when_s = KEEP_NEVER, -1; /* not a party any more */
    uint64_t deadline = phase ? ph->due_s : j->expired_at;
    if (phase && !deadline) return *when_s = now_s + KEEP_RECHECK_S, -1; /* no phase running right now */
    *when_s = deadline > UINT64_MAX - grace ? UINT64_MAX : deadline + grace;
    if (now_s < *when_s) return -1;
    return phase ? GT_ESCROW_TIMEOUT : GT_ESCROW_REFUND;
}

/* Job id, read from the chain at chain time now_s: called when due, put off
 * otherwise. */
static void keep_one(gt_chain *c, gt_chain_account *a, const gt_addr *escrow, gt_cindex *ix, uint64_t id,
                     uint64_t now_s) {
    gt_escrow_job j;
    gt_escrow_phase ph;
    gt_err err;
    uint64_t when = 0;
    int rc = gt_escrow_get(c, escrow, id, &j, &err);
    if (!rc) rc = gt_escrow_phases(c, escrow, id, &ph, &err);
    if (rc) {
        put_off(ix, id, now_s + KEEP_RETRY_S, 1, err.msg);
        return;
    }
    if (j.status != GT_ESCROW_FUNDED && j.status != GT_ESCROW_SUBMITTED) { /* settled: the index is behind */
        put_off(ix, id, now_s + KEEP_RECHECK_S, 0, NULL);
        return;
    }
    int step = step_due(&j, &ph, &a->addr, now_s, &when);
    if (step < 0) {
        put_off(ix, id, when, 0, NULL);
        return;
    }
    if (gt_escrow_do(c, escrow, a, (gt_escrow_step)step, id, NULL, NULL, &err)) {
        put_off(ix, id, now_s + KEEP_RETRY_S, 1, err.msg);
        return;
    }
    GT_INFO("node: keeper: job %llu %s: its %s passed (chain time %llu)", (unsigned long long)id,
            step == GT_ESCROW_TIMEOUT ? "timed out" : "refunded",
            step == GT_ESCROW_TIMEOUT ? "phase deadline" : "expiry", (unsigned long long)now_s);
    put_off(ix, id, now_s + KEEP_RECHECK_S, 0, NULL);
}

void gt_chain_keep(gt_chain *c, gt_chain_account *a, const gt_addr *escrow, gt_cindex *ix) {
    uint64_t ids[KEEP_MAX], now_s = 0;
    size_t n = 0;
    gt_err err;
    /* The chain's clock is asked only while a job of this agent may come due
     * (given-up jobs, put off to KEEP_NEVER, are not). */
    int rc = gt_cindex_due(ix, &a->addr, KEEP_NEVER - 1, ids, 1, &n, &err);
    if (!rc && n) rc = gt_chain_block_time(c, &now_s, &err);
    if (!rc && n && now_s >= KEEP_NEVER) rc = gt_err_set(&err, GT_ECHAIN, "the chain's time is past 2^63 - 1");
    if (!rc && n) rc = gt_cindex_due(ix, &a->addr, now_s, ids, KEEP_MAX, &n, &err);
    if (rc) {
        GT_WARN("node: keeper: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) keep_one(c, a, escrow, ix, ids[i], now_s);
}
