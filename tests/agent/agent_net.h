/* agent_net.h: what the agent tests share to run real agents against a real
 * node: keys named by a string, a fresh home whose genesis makes the
 * "faucet" key the minting authority, `gotong node` in a child process
 * (node_child.h), minting and staking from the test, stepping a set of
 * agents, and the clean-up. Header-only (static inline): each test is its
 * own program. Include after test.h; needs GT_CLI. */
#ifndef GT_TESTS_AGENT_NET_H
#define GT_TESTS_AGENT_NET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../node_child.h"
#include "agent/agent.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"

/* The key whose secret is keccak256(name): the same agent in every run. */
static inline void tnet_key(const char *name, gt_key *k) {
    uint8_t h[32];
    gt_keccak256(name, strlen(name), h);
    gt_key_from_bytes(k, h, NULL);
}

/* Fields of a mint (to, amount) or a stake (amount): the fill callback's arg. */
typedef struct tnet_amount {
    uint64_t units;
    gt_addr to;
} tnet_amount;

static inline int tnet_fill_amount(void *arg, gt_action *a, gt_err *err) {
    (void)err;
    const tnet_amount *x = arg;
    if (gt_action_field(a->kind, "to") >= 0) gt_action_set_addr(a, "to", &x->to);
    gt_action_set_u64(a, "amount", x->units);
    return 0;
}

/* Mints units to `to`, signed by the faucet (the genesis authority). */
static inline int tnet_mint(gt_client *dir, const gt_addr *to, uint64_t units, gt_err *err) {
    gt_key fk;
    tnet_key("faucet", &fk);
    tnet_amount m = {.units = units, .to = *to};
    return gt_client_act(dir, &fk, &gt_kind_mint, tnet_fill_amount, &m, NULL, NULL, err);
}

/* Stakes units of k's balance as a validator's bond. */
static inline int tnet_stake(gt_client *dir, const gt_key *k, uint64_t units, gt_err *err) {
    tnet_amount s = {.units = units};
    return gt_client_act(dir, k, &gt_kind_stake, tnet_fill_amount, &s, NULL, NULL, err);
}

/* One step of each agent of ag[0..n) (NULL entries skipped); a failed step
 * is printed, not fatal: the tests judge by what lands on the ledger. */
static inline void tnet_step(gt_agent **ag, int n) {
    for (int i = 0; i < n; i++) {
        gt_err err = {0};
        if (ag[i] && gt_agent_step(ag[i], NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
    }
}

/* Makes home (a mkdtemp of /tmp/gt-test-TAG-XXXXXX, home_cap >= 64) with a
 * genesis (chain 1337, the faucet as authority, unbonding 10 blocks) after
 * reg registers the action kinds, starts a node on it with the given idle
 * block interval, and connects *dir. 0, or -1 with a message. */
static inline int tnet_start(const char *tag, int (*reg)(gt_err *), const char *block_interval_ms, char *home,
                             size_t home_cap, char *url, size_t url_cap, pid_t *pid, gt_client **dir) {
    gt_err err = {0};
    char db[256];
    snprintf(home, home_cap, "/tmp/gt-test-%s-XXXXXX", tag);
    if (!mkdtemp(home)) return -1;
    snprintf(db, sizeof db, "%s/ledger.db", home);
    gt_key fk;
    tnet_key("faucet", &fk);
    gt_genesis g = {.chain_id = 1337, .unbonding_blocks = 10, .time_s = 1700000000};
    gt_key_address(&fk, &g.authority);
    if (reg(&err) || gt_ledger_create(db, &g, &err)) {
        fprintf(stderr, "genesis: %s\n", err.msg);
        return -1;
    }
    *pid = gt_test_node_start(home, block_interval_ms, url, url_cap);
    if (*pid < 0) return -1;
    if (gt_client_new(url, dir, &err)) {
        fprintf(stderr, "client: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Stops the node, frees the client and removes home. */
static inline void tnet_stop(const char *home, pid_t pid, gt_client *dir) {
    gt_client_free(dir);
    gt_test_node_stop(pid);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", home);
}

#endif
