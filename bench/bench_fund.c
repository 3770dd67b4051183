/* bench_fund.c: a funding round of 10,000 contributors finalized on the
 * ledger (issue 17: "a round with 10,000 contributors computed in under a
 * second"). A fresh ledger gets P published datasets (the market's whole
 * flow: post, claim, submit, verify, settle, publish; each task verified by
 * a quorum, the only datasets a round takes), N contributors minted
 * and attested as humans by one staked issuer, and two rounds over the same
 * projects: plain QF and the pairwise rule weighted by proof of human. Each
 * contributor gives to one project in each round. The time printed is the
 * finalize block's (gt_ledger_submit of the one fund_round_finalize: reading
 * the rows, gt_fund_match, paying every match, the block's commitment and
 * flush), next to gt_fund_match alone over the same rows.
 *
 * usage: bench_fund [contributors (10000)] [projects (20)]
 * Ends with the lines "finalize qf: X ms" and "finalize pairwise: X ms". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "fund/fund.h"
#include "fund/qf.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "work/work.h"

#define TOKEN 1000000ull
#define T0 1700000000ull

static gt_ledger *L;
static gt_domain DOM;
static uint64_t clock_s = T0;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *msg) {
    fprintf(stderr, "bench_fund: %s: %s\n", what, msg);
    exit(1);
}

static void key_of(int i, gt_key *k, gt_addr *a) {
    char seed[48];
    uint8_t priv[32];
    snprintf(seed, sizeof seed, "bench-fund-%d", i);
    gt_keccak256(seed, strlen(seed), priv);
    gt_key_from_bytes(k, priv, NULL);
    gt_key_address(k, a);
}

/* Submits n actions as one block at the next second; all must apply. */
static double block(gt_action *acts, size_t n, const char *what) {
    static gt_result res[20000];
    if (n > sizeof res / sizeof res[0]) die(what, "too many actions in one block");
    gt_ledger_set_time(L, ++clock_s);
    double t = now_ms();
    size_t ok = gt_ledger_submit(L, acts, n, res);
    t = now_ms() - t;
    for (size_t i = 0; i < n; i++)
        if (res[i].code) die(what, res[i].msg);
    if (ok != n) die(what, "not every action applied");
    return t;
}

/* Starts action a of kind by key k (nonce n); fields set by the caller, then sign. */
static void init(gt_action *a, const char *kind, const gt_key *k, uint64_t nonce) {
    gt_addr from;
    gt_key_address(k, &from);
    gt_action_init(a, gt_action_kind_by_name(kind), &DOM, &from, nonce);
}
static void sign(gt_action *a, const gt_key *k) {
    if (gt_action_sign(a, k, NULL)) die("sign", "failed");
}

static void hash_of(const char *text, int i, uint8_t out[32]) {
    char s[64];
    snprintf(s, sizeof s, "%s-%d", text, i);
    gt_sha256(s, strlen(s), out);
}

static gt_key *K;
static uint64_t *nonce;
static gt_action *acts;

/* One action per index lo..hi-1 by key who(i) (fields by fill), in blocks of 5000. */
typedef void (*fill_fn)(gt_action *a, int i);
static double each(int lo, int hi, const char *kind, int (*who)(int), fill_fn fill) {
    double t = 0;
    size_t n = 0;
    for (int i = lo; i < hi; i++) {
        int k = who(i);
        init(&acts[n], kind, &K[k], nonce[k]++);
        fill(&acts[n], i);
        sign(&acts[n], &K[k]);
        if (++n == 5000 || i == hi - 1) t += block(acts, n, kind), n = 0;
    }
    return t;
}

enum { AUTH = 0, WORKER = 1, ISSUER = 2, CREATOR = 3, POSTER0 = 10, CONTRIB0 = 1000 };
static int n_contrib = 10000, n_proj = 20;
static uint8_t (*task)[32], (*job)[32], round_id[2][32];

static int by_auth(int i) {
    (void)i;
    return AUTH;
}
static int by_worker(int i) {
    (void)i;
    return WORKER;
}
static int by_issuer(int i) {
    (void)i;
    return ISSUER;
}
static int by_creator(int i) {
    (void)i;
    return CREATOR;
}
static int poster_of(int i) { return POSTER0 + i % n_proj; } /* i: project, or 2 rounds x projects */
static int contributor_of(int i) { return CONTRIB0 + i % n_contrib; }

static void f_mint(gt_action *a, int i) {
    gt_addr to;
    gt_key_address(&K[i], &to);
    gt_action_set_addr(a, "to", &to);
    gt_action_set_u64(a, "amount", i >= CONTRIB0 ? 10 * TOKEN : 5000 * TOKEN);
}
static void f_post(gt_action *a, int i) {
    hash_of("job", i, job[i]);
    gt_action_set_str(a, "kind", "generate", 8, NULL);
    gt_action_set_b32(a, "spec", job[i]);
    gt_action_set_u64(a, "slots", 1);
    gt_action_set_u64(a, "bounty", TOKEN);
    gt_action_set_u64(a, "stake", TOKEN);
    gt_action_set_u64(a, "quorum", 1); /* a panel of one, drawn from the staked: the issuer */
    gt_action_set_u64(a, "batchItems", 10); /* the 10 rows f_publish claims (ledger format 13) */
    gt_action_set_u64(a, "claimSeconds", 1000);
    gt_action_set_u64(a, "submitSeconds", 1000);
    gt_action_set_u64(a, "verifySeconds", 1000);
}
static void f_task(gt_action *a, int i) { gt_action_set_b32(a, "task", task[i]); }
static void f_submit(gt_action *a, int i) {
    uint8_t r[32];
    hash_of("result", i, r);
    gt_action_set_b32(a, "task", task[i]);
    gt_action_set_b32(a, "result", r);
}
static void f_verify(gt_action *a, int i) {
    f_submit(a, i);
    gt_action_set_u64(a, "accept", 1);
    gt_action_set_u64(a, "score", 90);
}
static void f_publish(gt_action *a, int i) {
    uint8_t r[32];
    hash_of("root", i, r);
    gt_action_set_b32(a, "task", task[i]);
    gt_action_set_b32(a, "job", job[i]);
    gt_action_set_b32(a, "root", r);
    gt_action_set_u64(a, "rows", 10);
    gt_action_set_b32(a, "manifest", r);
}
static void f_attest(gt_action *a, int i) {
    gt_addr s;
    uint8_t p[32];
    gt_key_address(&K[i], &s);
    hash_of("person", i, p);
    gt_action_set_addr(a, "subject", &s);
    gt_action_set_b32(a, "person", p);
    gt_action_set_u64(a, "weightPpm", GT_FUND_WEIGHT_ONE);
    gt_action_set_u64(a, "expiresS", clock_s + 30 * 86400);
}
static void f_create(gt_action *a, int i) {
    gt_action_set_u64(a, "pool", 1000 * TOKEN);
    gt_action_set_u64(a, "startS", clock_s + 1);
    gt_action_set_u64(a, "endS", clock_s + 100000);
    gt_action_set_u64(a, "rule", i ? GT_FUND_PAIRWISE : GT_FUND_QF);
    gt_action_set_u64(a, "pairwiseM", i ? 10 * TOKEN : 0);
    gt_action_set_str(a, "name", "bench", 5, NULL);
}
static void f_enter(gt_action *a, int i) {
    gt_action_set_b32(a, "round", round_id[i / n_proj]);
    gt_action_set_u64(a, "projectKind", GT_FUND_PROJECT_DATASET);
    gt_action_set_b32(a, "ref", job[i % n_proj]);
}
static uint64_t amount_of(int c) { return (uint64_t)(1 + c % 7) * TOKEN / 10; }
static void f_contribute(gt_action *a, int i) {
    int c = i % n_contrib;
    gt_action_set_b32(a, "round", round_id[i / n_contrib]);
    gt_action_set_u64(a, "project", (uint64_t)(c % n_proj));
    gt_action_set_u64(a, "amount", amount_of(c));
}
static int finalize_round = 0;
static void f_finalize(gt_action *a, int i) {
    (void)i;
    gt_action_set_b32(a, "round", round_id[finalize_round]);
}

/* gt_fund_match alone over the same contributions (all weights 1.0). */
static double library_ms(int rule) {
    gt_fund_contribution *c = calloc((size_t)n_contrib, sizeof *c);
    gt_fund_human *h = calloc((size_t)n_contrib, sizeof *h);
    uint64_t *m = calloc((size_t)n_proj, sizeof *m);
    if (!c || !h || !m) die("library", "out of memory");
    for (int i = 0; i < n_contrib; i++) {
        gt_key_address(&K[CONTRIB0 + i], &c[i].from);
        c[i].project = (uint32_t)(i % n_proj);
        c[i].amount = amount_of(i);
        h[i].who = c[i].from, h[i].weight_ppm = GT_FUND_WEIGHT_ONE;
    }
    gt_fund_round r = {rule, 1000 * TOKEN, (uint32_t)n_proj, rule == GT_FUND_PAIRWISE ? 10 * TOKEN : 0};
    gt_fund_result res;
    gt_err err = {0};
    double t = now_ms();
    if (gt_fund_match(&r, c, (size_t)n_contrib, h, (size_t)n_contrib, m, &res, &err)) die("gt_fund_match", err.msg);
    t = now_ms() - t;
    free(c), free(h), free(m);
    return t;
}

static void setup(const char *path) {
    gt_err err = {0};
    gt_genesis g = {.chain_id = 1337, .unbonding_blocks = 10, .time_s = T0};
    gt_key_address(&K[AUTH], &g.authority);
    if (gt_ledger_create(path, &g, &err) || gt_ledger_open(path, 0, &L, &err)) die("ledger", err.msg);
    DOM = *gt_ledger_domain(L);
    each(1, CONTRIB0 + n_contrib, "mint", by_auth, f_mint); /* keys 1..: unused ones get tokens too */
    init(&acts[0], "agent_register", &K[WORKER], nonce[WORKER]++);
    gt_action_set_str(&acts[0], "name", "worker", 6, NULL);
    gt_action_set_str(&acts[0], "skills", "generate", 8, NULL);
    sign(&acts[0], &K[WORKER]);
    init(&acts[1], "stake", &K[ISSUER], nonce[ISSUER]++);
    gt_action_set_u64(&acts[1], "amount", 20 * TOKEN);
    sign(&acts[1], &K[ISSUER]);
    block(acts, 2, "setup");
    each(0, n_proj, "task_post", poster_of, f_post);
    for (int i = 0; i < n_proj; i++) memcpy(task[i], acts[i].id, 32);
    each(0, n_proj, "task_claim", by_worker, f_task);
    each(0, n_proj, "task_submit", by_worker, f_submit);
    for (int i = 0; i < GT_MARKET_DRAW_DELAY_BLOCKS; i++) { /* the panels are drawn */
        gt_ledger_set_time(L, ++clock_s);
        if (gt_ledger_tick(L, &err) < 0) die("tick", err.msg);
    }
    each(0, n_proj, "task_verify", by_issuer, f_verify);
    each(0, n_proj, "task_settle", by_worker, f_task);
    each(0, n_proj, "dataset_publish", poster_of, f_publish);
}

int main(int argc, char **argv) {
    if (argc > 1) n_contrib = atoi(argv[1]);
    if (argc > 2) n_proj = atoi(argv[2]);
    if (n_contrib < 2 || n_contrib > GT_FUND_ROUND_MAX_CONTRIBUTIONS || n_proj < 1 || n_proj > 256) {
        fprintf(stderr, "usage: bench_fund [contributors 2..%d] [projects 1..256]\n", GT_FUND_ROUND_MAX_CONTRIBUTIONS);
        return 2;
    }
    gt_err err = {0};
    if (gt_fund_register(&err)) die("register", err.msg);
    int n_keys = CONTRIB0 + n_contrib;
    K = calloc((size_t)n_keys, sizeof *K);
    nonce = calloc((size_t)n_keys, sizeof *nonce);
    acts = calloc(5000, sizeof *acts);
    task = calloc((size_t)n_proj, 32);
    job = calloc((size_t)n_proj, 32);
    if (!K || !nonce || !acts || !task || !job) die("setup", "out of memory");
    for (int i = 0; i < n_keys; i++) {
        gt_addr a;
        key_of(i, &K[i], &a);
    }
    char dir[] = "/tmp/gt_bench_fundXXXXXX", path[64];
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    setup(path);
    init(&acts[0], "human_issuer_register", &K[ISSUER], nonce[ISSUER]++);
    gt_action_set_str(&acts[0], "name", "issuer", 6, NULL);
    sign(&acts[0], &K[ISSUER]);
    block(acts, 1, "issuer");
    each(CONTRIB0, CONTRIB0 + n_contrib, "human_attest", by_issuer, f_attest);
    each(0, 2, "fund_round_create", by_creator, f_create);
    memcpy(round_id[0], acts[0].id, 32);
    memcpy(round_id[1], acts[1].id, 32);
    each(0, 2 * n_proj, "fund_round_enter", poster_of, f_enter);
    each(0, 2 * n_contrib, "fund_contribute", contributor_of, f_contribute);
    clock_s += 100000;
    double ms[2];
    for (finalize_round = 0; finalize_round < 2; finalize_round++)
        ms[finalize_round] = each(0, 1, "fund_round_finalize", by_creator, f_finalize);
    printf("%d contributors, %d projects (published datasets), one contribution each per round\n", n_contrib, n_proj);
    printf("gt_fund_match alone: qf %.1f ms, pairwise %.1f ms\n", library_ms(GT_FUND_QF), library_ms(GT_FUND_PAIRWISE));
    printf("finalize qf: %.1f ms\nfinalize pairwise: %.1f ms\n", ms[0], ms[1]);
    gt_ledger_close(L);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) ? 1 : 0;
}
