/* test_ledger_property.c: random action sequences against a shadow model.
 *
 * Thousands of random transfers, mints, stakes and unstakes (many of them
 * invalid on purpose: wrong nonces, overdrafts, foreign mints, zero amounts)
 * are submitted in random batch sizes. After every batch each account must
 * equal the shadow model's, and balances+stake+unbonding must sum to supply.
 * At the end, replaying the log from genesis must reproduce every state root
 * and the same head hash. */
#include "../test.h"
#include "ledger_util.h"

#define CHAIN_ID 7
/* The signing domain of the ledger under test (set when it is opened). */
static gt_domain DOM;
#define CHAIN (&DOM)
#define N_ACCTS 12
#define ROUNDS 100
#define MAX_BATCH 40

typedef struct shadow {
    uint64_t balance, staked, unbonding, nonce;
} shadow;

static uint64_t rng = 0x1234567887654321ull;
static uint64_t rnd(uint64_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng % n;
}

static void test_random_sequences(void) {
    char dir[64];
    const char *path = tledger_path(dir);
    gt_key K[N_ACCTS];
    gt_addr A[N_ACCTS];
    for (int i = 0; i < N_ACCTS; i++) tkey(100 + i, &K[i], &A[i]);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    DOM = *gt_ledger_domain(l);
    shadow S[N_ACCTS] = {{0}};
    uint64_t supply = 0;
    /* pending unbonding in the shadow: amount and release height per entry */
    struct { int who; uint64_t amount, release; } unb[4096];
    int n_unb = 0;
    static gt_action acts[MAX_BATCH];
    static gt_result res[MAX_BATCH];
    uint64_t height = 0;
    long ok_total = 0, refused_total = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t n = 1 + rnd(MAX_BATCH);
        /* Expected nonces as the shadow will see them when applied in order. */
        uint64_t next_nonce[N_ACCTS];
        for (int i = 0; i < N_ACCTS; i++) next_nonce[i] = S[i].nonce;
        for (size_t j = 0; j < n; j++) {
            int who = (int)rnd(N_ACCTS), to = (int)rnd(N_ACCTS);
            uint64_t nonce = next_nonce[who];
            if (rnd(10) == 0) nonce += rnd(3) ? 1 : (uint64_t)-1; /* wrong nonce sometimes */
            else next_nonce[who]++;
            uint64_t amount = rnd(5) ? rnd(2000000) : rnd(200000000);
            switch (rnd(10)) {
            case 0: case 1: tsign(&acts[j], &gt_kind_mint, CHAIN, &K[rnd(3) ? 0 : who], nonce, &A[to], amount * 20); break;
            case 2: tsign(&acts[j], &gt_kind_stake, CHAIN, &K[who], nonce, NULL, amount); break;
            case 3: tsign(&acts[j], &gt_kind_unstake, CHAIN, &K[who], nonce, NULL, amount / 2); break;
            default: tsign(&acts[j], &gt_kind_transfer, CHAIN, &K[who], nonce, &A[to], amount); break;
            }
            /* A mint signed by someone other than the authority but "from" them fails the signature. */
        }
        gt_ledger_submit(l, acts, n, res);
        gt_block head;
        gt_ledger_head(l, &head, NULL);
        int any_ok = 0;
        for (size_t j = 0; j < n; j++) any_ok |= res[j].code == 0;
        /* Blocks are made only when something changed; model the block start. */
        uint64_t bh = height + 1;
        int matured = 0;
        for (int u = 0; u < n_unb; u++) matured |= unb[u].release <= bh;
        if (any_ok || matured) {
            CHECK_EQ_U64(head.height, bh);
            height = bh;
            for (int u = 0; u < n_unb;) {
                if (unb[u].release <= height) {
                    S[unb[u].who].unbonding -= unb[u].amount;
                    S[unb[u].who].balance += unb[u].amount;
                    unb[u] = unb[--n_unb];
                } else {
                    u++;
                }
            }
        } else {
            CHECK_EQ_U64(head.height, height);
        }
        /* Apply the shadow model in order and compare each outcome. */
        for (size_t j = 0; j < n; j++) {
            gt_action *a = &acts[j];
            int who = -1, to = -1;
            for (int i = 0; i < N_ACCTS; i++) {
                if (gt_addr_eq(&a->from, &A[i])) who = i;
                if (a->kind->n_fields == 2 && gt_addr_eq(&a->f[0].addr, &A[i])) to = i;
            }
            uint64_t amount = a->kind->n_fields == 2 ? a->f[1].u64 : a->f[0].u64;
            int expect_ok = a->nonce == S[who].nonce && amount > 0;
            if (expect_ok) {
                if (a->kind == &gt_kind_mint) expect_ok = who == 0 && supply + amount <= GT_SUPPLY_MAX;
                else if (a->kind == &gt_kind_transfer || a->kind == &gt_kind_stake) expect_ok = S[who].balance >= amount;
                else expect_ok = S[who].staked >= amount;
            }
            CHECK_MSG((res[j].code == 0) == expect_ok, "round %d action %zu (%s): got %d (%s)", round, j,
                      a->kind->name, res[j].code, res[j].msg);
            if (res[j].code) { refused_total++; continue; }
            ok_total++;
            S[who].nonce++;
            if (a->kind == &gt_kind_mint) { S[to].balance += amount; supply += amount; }
            else if (a->kind == &gt_kind_transfer) { S[who].balance -= amount; S[to].balance += amount; }
            else if (a->kind == &gt_kind_stake) { S[who].balance -= amount; S[who].staked += amount; }
            else {
                S[who].staked -= amount;
                S[who].unbonding += amount;
                unb[n_unb].who = who, unb[n_unb].amount = amount, unb[n_unb].release = height + 3;
                n_unb++;
            }
        }
        uint64_t sum = 0;
        for (int i = 0; i < N_ACCTS; i++) {
            gt_account acc;
            gt_ledger_account(l, &A[i], &acc, NULL);
            CHECK_EQ_U64(acc.balance, S[i].balance);
            CHECK_EQ_U64(acc.staked, S[i].staked);
            CHECK_EQ_U64(acc.unbonding, S[i].unbonding);
            CHECK_EQ_U64(acc.nonce, S[i].nonce);
            sum += acc.balance + acc.staked + acc.locked + acc.unbonding;
        }
        CHECK_EQ_U64(sum, supply);
        CHECK_EQ_U64(gt_ledger_supply(l), supply);
    }
    CHECK(ok_total > 800 && refused_total > 300);
    fprintf(stderr, "  %ld applied, %ld refused, %llu blocks\n", ok_total, refused_total, (unsigned long long)height);
    gt_block head;
    gt_ledger_head(l, &head, NULL);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_U64(rep.actions, (uint64_t)ok_total);
    CHECK(memcmp(rep.head_hash, head.hash, 32) == 0);
    trm(dir);
}

int main(void) {
    RUN(test_random_sequences);
    return gt_test_finish();
}
