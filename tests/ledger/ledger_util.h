/* ledger_util.h: helpers shared by the ledger tests: deterministic keys, a
 * fresh ledger in a temp dir, and one-line signing of core actions. */
#ifndef GT_TESTS_LEDGER_UTIL_H
#define GT_TESTS_LEDGER_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"

/* Key number i: keccak("gotong-test-key" || i), deterministic across runs. */
static inline void tkey(int i, gt_key *k, gt_addr *a) {
    char seed[64];
    uint8_t priv[32];
    snprintf(seed, sizeof seed, "gotong-test-key-%d", i);
    gt_keccak256(seed, strlen(seed), priv);
    gt_key_from_bytes(k, priv, NULL);
    gt_key_address(k, a);
}

/* A temp dir; returns the ledger path inside it (static storage). */
static inline const char *tledger_path(char dir[64]) {
    static char path[128];
    strcpy(dir, "/tmp/gt_ledger_testXXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    return path;
}

/* A new ledger in a new temp dir (its path into path), opened for writing:
 * chain 5, authority, genesis time t0_s, 2 unbonding blocks. NULL, with a
 * message, when it cannot be made. */
static inline gt_ledger *tledger_fresh(char dir[64], char path[128], const gt_addr *authority, uint64_t t0_s) {
    snprintf(path, 128, "%s", tledger_path(dir));
    gt_genesis g = {.chain_id = 5, .authority = *authority, .unbonding_blocks = 2, .time_s = t0_s};
    gt_err err = {0};
    gt_ledger *l = NULL;
    if (gt_ledger_create(path, &g, &err) || gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "tledger_fresh: %s\n", err.msg);
        return NULL;
    }
    return l;
}

static inline void trm(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

/* Runs sql on the ledger file at path directly, as someone editing it by
 * hand (or an older binary). 0, or -1 with SQLite's message on stderr. */
static inline int tledger_exec(const char *path, const char *sql) {
    sqlite3 *db;
    char *msg = NULL;
    int rc = sqlite3_open(path, &db) == SQLITE_OK ? sqlite3_exec(db, sql, NULL, NULL, &msg) : SQLITE_CANTOPEN;
    if (rc != SQLITE_OK) fprintf(stderr, "SQL on %s failed: %s: %s\n", path, sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Copies the closed ledger file from to path (its WAL and shared memory,
 * if any, removed first). 0, or the shell's status. */
static inline int tledger_copy(const char *from, const char *to) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -f %s-wal %s-shm && cp %s %s", to, to, from, to);
    return system(cmd);
}

/* Signs a core action (to may be NULL for stake/unstake). */
static inline void tsign(gt_action *a, const gt_action_kind *kind, const gt_domain *dom, const gt_key *k,
                         uint64_t nonce, const gt_addr *to, uint64_t amount) {
    gt_addr from;
    gt_key_address(k, &from);
    gt_action_init(a, kind, dom, &from, nonce);
    if (to) gt_action_set_addr(a, "to", to);
    gt_action_set_u64(a, "amount", amount);
    if (gt_action_sign(a, k, NULL)) abort();
}

/* Submits one action; returns its result code, message in r. */
static inline int tsubmit(gt_ledger *l, gt_action *a, gt_result *r) {
    gt_ledger_submit(l, a, 1, r);
    return r->code;
}

#endif
