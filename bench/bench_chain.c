/* bench_chain.c: gotong's job lifecycle on a real anvil chain through the C
 * chain client: post -> claim -> submit -> complete, N times. Prints the gas
 * of one lifecycle (each step's receipt) and lifecycles per second two ways:
 * sequential (every transaction waited for before the next) and pipelined
 * by phase (N posts sent, then their receipts; then N claims; ...), which is
 * what a node settling many jobs does. anvil mines each transaction at once
 * (automine), so the rate is the node's and the client's, not a block time.
 *
 * usage: bench_chain [N]   (default 100). Needs anvil and the contracts
 * (bash scripts/setup.sh test, then a build); says so and exits 77 without. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../tests/chain/anvil.h"
#include "chain/abi_decode.h"

#define MAX_N 2000
enum { POST, CLAIM, SUBMIT, COMPLETE, PHASES };
static const char *const SIG[PHASES] = {"post(address,address,uint256,bytes32,uint256,uint256)", "claim(uint256)",
                                        "submit(uint256,bytes32,bytes)", "complete(uint256,bytes32,bytes)"};
static gt_chain C;
static gt_chain_account DEPLOYER, CLIENT, WORKER, VERIFIER;
static gt_addr TOKEN, ESCROW;
static uint64_t gas_of[PHASES];

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const gt_err *err) {
    fprintf(stderr, "bench_chain: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* Call data of phase p for job id. */
static void phase_data(int p, uint64_t id, gt_buf *d) {
    static const uint8_t none[1];
    uint8_t h[32] = {1};
    gt_abi_val post[] = {gt_abi_address(&(gt_addr){{0}}), gt_abi_address(&VERIFIER.addr),
                         gt_abi_uint(anvil_now(&C) + 86400), gt_abi_bytes32(h), gt_abi_uint(1000), gt_abi_uint(100)};
    gt_abi_val job[] = {gt_abi_uint(id), gt_abi_bytes32(h), gt_abi_bytes(none, 0)};
    gt_buf_reset(d);
    if (gt_abi_calldata(SIG[p], p == POST ? post : job, p == POST ? 6 : p == CLAIM ? 1 : 3, d, NULL))
        die("encoding", NULL);
}

static gt_chain_account *sender(int p) { return p == POST ? &CLIENT : p == COMPLETE ? &VERIFIER : &WORKER; }

/* Waits for hash; returns the job id a post created (0 for other phases). */
static uint64_t settle(int p, const uint8_t hash[32]) {
    gt_chain_receipt r;
    gt_err err;
    uint8_t topic[32];
    uint64_t id = 0;
    if (gt_chain_wait(&C, hash, &r, &err)) die(SIG[p], &err);
    if (r.status != 1) die(SIG[p], NULL);
    gas_of[p] = r.gas_used;
    gt_abi_event_topic("JobCreated(uint256,address,address,address,uint256)", topic);
    const gt_chain_log *l = gt_chain_find_log(&r, &ESCROW, topic);
    if (p == POST && (!l || gt_abi_word_u64(l->topics[1], &id, "job id", &err))) die("JobCreated", NULL);
    gt_chain_receipt_free(&r);
    return id;
}

static void send_phase(int p, uint64_t id, gt_buf *d, uint8_t hash[32]) {
    gt_err err;
    phase_data(p, id, d);
    if (gt_chain_send(&C, sender(p), &ESCROW, NULL, d->data, d->len, hash, &err)) die(SIG[p], &err);
}

static double run_sequential(size_t n) {
    gt_buf d = GT_BUF_INIT;
    uint8_t h[32];
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        send_phase(POST, 0, &d, h);
        uint64_t id = settle(POST, h);
        for (int p = CLAIM; p < PHASES; p++) send_phase(p, id, &d, h), settle(p, h);
    }
    gt_buf_free(&d);
    return (double)n / (now_s() - t0);
}

static double run_pipelined(size_t n) {
    gt_buf d = GT_BUF_INIT;
    static uint8_t h[MAX_N][32];
    static uint64_t ids[MAX_N];
    double t0 = now_s();
    for (int p = POST; p < PHASES; p++) {
        for (size_t i = 0; i < n; i++) send_phase(p, ids[i], &d, h[i]);
        for (size_t i = 0; i < n; i++) {
            uint64_t id = settle(p, h[i]);
            if (p == POST) ids[i] = id;
        }
    }
    gt_buf_free(&d);
    return (double)n / (now_s() - t0);
}

/* Token, escrow, balances and standing approvals. */
static void setup(void) {
    gt_err err;
    uint64_t gas;
    gt_chain_account *acct[] = {&DEPLOYER, &CLIENT, &WORKER, &VERIFIER};
    const char *seeds[] = {"bench deployer", "bench client", "bench worker", "bench verifier"};
    for (int i = 0; i < 4; i++)
        if (anvil_account(&C, seeds[i], acct[i])) die("funding accounts", NULL);
    if (anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas)) die("deploy", NULL);
    gt_abi_val tok[] = {gt_abi_address(&TOKEN), gt_abi_address(&(gt_addr){{0}})}; /* no court: the happy path */
    if (anvil_deploy(&C, &DEPLOYER, "JobEscrow", tok, 2, &ESCROW, &gas)) die("deploy", NULL);
    uint8_t max[32];
    memset(max, 0xff, 32);
    for (int i = 1; i < 3; i++) {
        gt_abi_val mint[] = {gt_abi_address(&acct[i]->addr), gt_abi_uint(1ull << 40)};
        gt_abi_val approve[] = {gt_abi_address(&ESCROW), gt_abi_u256(max)};
        gt_buf d = GT_BUF_INIT;
        gt_chain_receipt r;
        if (gt_abi_calldata("mint(address,uint256)", mint, 2, &d, NULL) ||
            gt_chain_transact(&C, &DEPLOYER, &TOKEN, d.data, d.len, &r, &err))
            die("mint", &err);
        gt_chain_receipt_free(&r);
        gt_buf_reset(&d);
        if (gt_abi_calldata("approve(address,uint256)", approve, 2, &d, NULL) ||
            gt_chain_transact(&C, acct[i], &TOKEN, d.data, d.len, &r, &err))
            die("approve", &err);
        gt_chain_receipt_free(&r);
        gt_buf_free(&d);
    }
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    if (n < 1 || n > MAX_N) {
        fprintf(stderr, "usage: bench_chain [N]   (N lifecycles, 1..%d)\n", MAX_N);
        return 2;
    }
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    setup();
    run_sequential(1); /* the escrow's first job pays for fresh storage; not the steady figure */
    double seq = run_sequential(n), pipe = run_pipelined(n);
    uint64_t total = gas_of[POST] + gas_of[CLAIM] + gas_of[SUBMIT] + gas_of[COMPLETE];
    printf("job lifecycle on anvil (%zu lifecycles, 4 transactions each)\n", n);
    printf("  gas per lifecycle: %llu = post %llu + claim %llu + submit %llu + complete %llu\n",
           (unsigned long long)total, (unsigned long long)gas_of[POST], (unsigned long long)gas_of[CLAIM],
           (unsigned long long)gas_of[SUBMIT], (unsigned long long)gas_of[COMPLETE]);
    printf("  sequential:          %8.1f lifecycles/s  (%.0f tx/s)\n", seq, 4 * seq);
    printf("  pipelined by phase:  %8.1f lifecycles/s  (%.0f tx/s)\n", pipe, 4 * pipe);
    gt_chain_close(&C);
    anvil_stop();
    return 0;
}
