/* market_util.h: the scaffolding of the market's C tests (a fresh ledger,
 * keys, signed actions from JSON text, helpers for ids and amounts), for test
 * files beside test_market.c. Include once, from a test's .c. */
#ifndef GT_TESTS_MARKET_UTIL_H
#define GT_TESTS_MARKET_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "base/amount.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "market/market_impl.h"

#pragma GCC diagnostic ignored "-Wunused-function" /* each test uses some of these */

#define CHAIN_ID 1337
/* The signing domain of the ledger under test (set by fresh). */
static gt_domain DOM;
#define CHAIN (&DOM)
#define UNIT GT_AMOUNT_UNIT
enum { AUTH, ALICE, BOB, CAROL, V1, V2, V3, V4, V5, N_KEYS };

/* Extra validators for the drawn panel (a test that needs more than
 * GT_MARKET_PANEL_SEATS defines N_EXTRA before including this file). */
#ifndef N_EXTRA
#define N_EXTRA 0
#endif
static gt_key K[N_KEYS + N_EXTRA + 1];
static gt_addr A[N_KEYS + N_EXTRA + 1];
static char dir[64], path[128];

/* Every folder fresh() made, removed at the test's exit: tests that keep a
 * base ledger to copy (test_market_rows, _alloc, _invariants) close it
 * without done(), and left their folders in /tmp. Only the process that made
 * them removes them (a forked child exits with _exit, but be sure). */
static char made_dirs[8][64];
static int n_made;
static pid_t made_pid;
static void remove_made(void) {
    if (getpid() != made_pid) return;
    for (int i = 0; i < n_made; i++) {
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf %.63s", made_dirs[i]); /* a made_dirs entry holds at most 63 */
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", made_dirs[i]);
    }
}

static gt_ledger *fresh(void) {
    strcpy(dir, "/tmp/gt_mkutil_testXXXXXX");
    if (!mkdtemp(dir)) abort();
    if (!n_made) made_pid = getpid(), atexit(remove_made);
    if (n_made < 8) snprintf(made_dirs[n_made++], sizeof made_dirs[0], "%s", dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[AUTH], .unbonding_blocks = 10, .time_s = 1700000000};
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    DOM = *gt_ledger_domain(l);
    gt_ledger_set_time(l, 1700000000);
    return l;
}

/* Block h gets time 1700000000 + h: one second per block, as on a node
 * whose blocks are a second apart (deadlines have a floor in block time). */
static void advance(gt_ledger *l) {
    gt_block head;
    if (gt_ledger_head(l, &head, NULL)) abort();
    gt_ledger_set_time(l, 1700000000 + head.height + 1);
}
static int tick(gt_ledger *l, gt_err *err) {
    advance(l);
    return gt_ledger_tick(l, err);
}
static size_t submit(gt_ledger *l, gt_action *acts, size_t n, gt_result *res) {
    advance(l);
    return gt_ledger_submit(l, acts, n, res);
}

static void done(gt_ledger *l) {
    gt_ledger_close(l);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    if (err.code) fprintf(stderr, "verify: %s\n", err.msg);
    CHECK_EQ_INT(err.code, 0); /* a verify that passes leaves no message behind */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

static uint64_t nonce_of(gt_ledger *l, int who) {
    gt_account acc;
    gt_ledger_account(l, &A[who], &acc, NULL);
    return acc.nonce;
}

/* Builds and signs an action of `type` from key `who` with `nonce`; fields
 * as JSON text (printf-style) with final values: addresses "0x..", bytes32
 * "0x..", u64 integers, booleans. */
static void vbuild(gt_action *a, int who, uint64_t nonce, const char *type, const char *fmt, va_list ap) {
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    json_error_t je;
    json_t *f = json_loads(text, 0, &je);
    if (!f) { fprintf(stderr, "bad test JSON: %s: %s\n", text, je.text); abort(); }
    const gt_action_kind *k = gt_action_kind_by_name(type);
    if (!k) abort();
    gt_action_init(a, k, CHAIN, &A[who], nonce);
    for (int i = 0; i < k->n_fields; i++) {
        json_t *v = json_object_get(f, k->fields[i].name);
        if (!v) continue;
        switch (k->fields[i].type) {
        case GT_F_ADDRESS: if (gt_addr_parse(json_string_value(v), &a->f[i].addr, NULL)) abort(); break;
        case GT_F_BYTES32: if (gt_hex_decode(json_string_value(v), a->f[i].b32, 32, "b32", NULL)) abort(); break;
        case GT_F_STRING: gt_action_set_str(a, k->fields[i].name, json_string_value(v), strlen(json_string_value(v)), NULL); break;
        case GT_F_BOOL: a->f[i].u64 = json_is_true(v); break;
        case GT_F_U64: a->f[i].u64 = (uint64_t)json_integer_value(v); break;
        }
    }
    json_decref(f);
    if (gt_action_sign(a, &K[who], NULL)) abort();
}

static void build(gt_action *a, int who, uint64_t nonce, const char *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vbuild(a, who, nonce, type, fmt, ap);
    va_end(ap);
}

/* Like act, in a block at the time already set (gt_ledger_set_time). */
static int act_at_r(gt_ledger *l, int who, gt_result *r, const char *type, const char *fmt, ...) {
    static gt_action a;
    va_list ap;
    va_start(ap, fmt);
    vbuild(&a, who, nonce_of(l, who), type, fmt, ap);
    va_end(ap);
    gt_ledger_submit(l, &a, 1, r);
    return r->code;
}
static int act_at(gt_ledger *l, int who, uint8_t *id_out, const char *type, const char *fmt, ...) {
    static gt_action a;
    va_list ap;
    va_start(ap, fmt);
    vbuild(&a, who, nonce_of(l, who), type, fmt, ap);
    va_end(ap);
    gt_result r;
    gt_ledger_submit(l, &a, 1, &r);
    if (id_out) memcpy(id_out, a.id, 32);
    return r.code;
}

/* Builds, signs and submits one action as its own block. Returns the result
 * code; the action's id into id_out if given. */
static int act(gt_ledger *l, int who, uint8_t *id_out, gt_result *r, const char *type, const char *fmt, ...) {
    static gt_action a;
    va_list ap;
    va_start(ap, fmt);
    vbuild(&a, who, nonce_of(l, who), type, fmt, ap);
    va_end(ap);
    gt_result rr;
    if (!r) r = &rr;
    submit(l, &a, 1, r);
    if (id_out) memcpy(id_out, a.id, 32);
    return r->code;
}

static const char *hx(const uint8_t b[32]) {
    static char s[4][67];
    static int k;
    k = (k + 1) & 3;
    s[k][0] = '0', s[k][1] = 'x';
    gt_hex_encode(b, 32, s[k] + 2);
    return s[k];
}
static const char *ad(int who) {
    static char s[4][43];
    static int k;
    k = (k + 1) & 3;
    gt_addr_to_str(&A[who], s[k]);
    return s[k];
}
static const char *blob(const char *text) {
    uint8_t h[32];
    gt_sha256(text, strlen(text), h);
    return hx(h);
}

static gt_account acc_of(gt_ledger *l, int who) {
    gt_account a;
    gt_ledger_account(l, &A[who], &a, NULL);
    return a;
}

/* Mints and stakes: every key gets 100; validators stake `stake` units each. */
static void setup(gt_ledger *l, uint64_t validator_stake) {
    for (int i = 1; i < N_KEYS; i++)
        CHECK_EQ_INT(act(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * UNIT), 0);
    for (int v = V1; v <= V5; v++)
        CHECK_EQ_INT(act(l, v, NULL, NULL, "stake", "{\"amount\":%llu}", (unsigned long long)validator_stake), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "agent_register", "{\"name\":\"bob\",\"skills\":\"code,eval\"}"), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "agent_register", "{\"name\":\"carol\",\"skills\":\"code,eval\"}"), 0);
}

typedef struct audit_arg { int rc; gt_err err; uint64_t locked; } audit_arg;
static int audit_fn(void *arg, gt_tx *tx, gt_err *err) {
    audit_arg *a = arg;
    (void)err;
    a->rc = gt_market_audit(tx->db, &a->locked, &a->err);
    return 0;
}
static void audit_ok(gt_ledger *l) {
    audit_arg a = {0};
    gt_ledger_read(l, audit_fn, &a, NULL);
    CHECK_EQ_INT(a.rc, 0);
    if (a.rc) fprintf(stderr, "audit: %s\n", a.err.msg);
}

/* Claims and submits `result` on task t by worker. */
static void claim_submit(gt_ledger *l, const uint8_t t[32], int worker, const char *result) {
    CHECK_EQ_INT(act(l, worker, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t)), 0);
    CHECK_EQ_INT(act(l, worker, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob(result)), 0);
}


/* Makes the test keys (deterministic) and registers the market's rules. */
static void make_keys(void) {
    for (int i = 0; i < N_KEYS; i++) {
        char seed[32];
        uint8_t priv[32];
        snprintf(seed, sizeof seed, "market-test-%d", i);
        gt_keccak256(seed, strlen(seed), priv);
        gt_key_from_bytes(&K[i], priv, NULL);
        gt_key_address(&K[i], &A[i]);
    }
    if (gt_market_register(NULL)) abort();
}

#endif
