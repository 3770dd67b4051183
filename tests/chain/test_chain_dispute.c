/* test_chain_dispute.c: disputes on a real anvil, JobEscrow with its
 * DisputeCourt, driven by the C chain client (chain/court.h):
 *   - a wrongful rejection disputed: the panel re-runs, accepts, the worker
 *     is paid in full and the evaluator's bond goes to the judges (the gas of
 *     the whole disputed lifecycle printed);
 *   - a rejected worker who disputes bad work loses its stake to the client
 *     and its bond to the judges;
 *   - a judge who commits and never reveals, and a copier who commits another
 *     judge's commitment, both lose their bonds to the honest judge; reveals
 *     before the commit window are refused; a bonded judge cannot leave;
 *   - the parties (client, evaluator) are never on the panel;
 *   - an undisputed rejection settles after the window, or at once when its
 *     worker gives up its dispute; a late dispute is refused; a timed job's
 *     rejection that stands while its claim window is open reopens the job
 *     to another worker;
 *   - while a drawn block's hash is known and the panel not drawn, no stake
 *     moves (nobody reshapes what a known seed is applied to);
 *   - stake bonded or raised after a case opened buys no weight in it (a
 *     newcomer not eligible, a raise weighing its stake at the opening, an
 *     exit weighing what is left; a quorum round's minimum stake held at the
 *     opening): the court's stake notes, the ledger's mk_draw_cands;
 *   - a quorum job (postQuorum): its claim opens the court's round, drawn
 *     from the validators with at least its stake (the client and worker
 *     left out); open votes decide once a side holds more than two thirds
 *     with at least `quorum` voters; the fee and the loser's bond go to the
 *     winners by weight (the quorum lifecycle's gas printed, 4 members);
 *   - a quorum round's sealed votes (the ledger's verify round): the first
 *     commitment refuses open votes and moves the escrow's verify deadline
 *     to the court; a commitment copied byte for byte cannot be revealed by
 *     the copier (the voter is in the preimage) and is slashed to the
 *     winners when the revealed stake decides at the reveal deadline (the
 *     sealed lifecycle's gas printed); the reveal that leaves nothing sealed
 *     decides early; undecided at the reveal deadline, the court times the
 *     job out (everyone refunded, bonds freed);
 *   - the evaluator's fee on each slot of a task (postSlots); per-unit
 *     verdicts (verifyUnits): the committed units, the refusals of the
 *     attack of attack_partial_total (a made-up total), a pro rata
 *     settlement, and a disputed one won and lost;
 *   - a dispute left undrawn (a stalled deployer) closes undecided at its
 *     deadline, an undrawn quorum round at its verify deadline; the seed
 *     chain in segments of 4 draws across their ends, a late anchor refused;
 *   - with more eligible validators than seats, the contract's 63 seats are
 *     exactly the ones the embedded ledger's draw (mk_panel_draw_seats) gives
 *     for the same seed and stakes.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "market/market_impl.h"

#define TOKEN_UNIT 1000000ull
#define N_JUDGES 3
#define N_CROWD 66 /* validators beyond the judges: more eligible than the 63 seats */
static const gt_court_windows WINDOWS = {600, 600, 600, 3600, GT_COURT_SEED_LINKS};

static gt_chain C;
static gt_chain_account DEPLOYER, CLIENT, WORKER, VERIFIER, J[N_JUDGES];
static gt_addr TOKEN, ESCROW, COURT;

/* Word `word` of sig(args) on contract, as a 64-bit number. */
static uint64_t view_u64(const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n, size_t word) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    gt_err err;
    CHECK_EQ_INT(gt_abi_calldata(sig, args, n, &d, NULL), 0);
    CHECK_MSG(gt_chain_call(&C, NULL, contract, d.data, d.len, &out, &err) == 0, "%s: %s", sig, err.msg);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, word, &v, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

static uint64_t balance(const gt_addr *who) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(&TOKEN, "balanceOf(address)", a, 1, 0);
}

/* A validator's active stake (word 0) or locked bonds (word 1). */
static uint64_t validator(const gt_addr *who, size_t word) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(&COURT, "validatorOf(address)", a, 1, word);
}

/* Checks that the winning members v[from..to) of a quorum round got the pot
 * by weight (a0: their weights, b0: their balances before) and have their
 * bonds back; returns what they got (the caller checks the rounding's
 * remainder went back to the client). */
static uint64_t winners_paid(gt_chain_account *const *v, int from, int to, uint64_t pot, const uint64_t *a0,
                             const uint64_t *b0) {
    uint64_t win = 0, paid = 0;
    for (int i = from; i < to; i++) win += a0[i];
    for (int i = from; i < to; i++) {
        uint64_t share = (uint64_t)((unsigned __int128)pot * a0[i] / win);
        CHECK_EQ_U64(balance(&v[i]->addr), b0[i] + share);
        CHECK_EQ_U64(validator(&v[i]->addr, 0), a0[i]);
        CHECK_EQ_U64(validator(&v[i]->addr, 1), 0);
        paid += share;
    }
    return paid;
}

static int token_tx(gt_chain_account *a, const char *sig, const gt_addr *to, uint64_t amount, const uint8_t *u256) {
    gt_abi_val args[] = {gt_abi_address(to), u256 ? gt_abi_u256(u256) : gt_abi_uint(amount)};
    gt_chain_receipt r = {0};
    gt_err err;
    int rc = gt_chain_invoke(&C, &TOKEN, a, sig, args, 2, &r, NULL, &err);
    if (rc) fprintf(stderr, "%s: %s\n", sig, err.msg);
    gt_chain_receipt_free(&r);
    return rc;
}

/* Tokens to a, and a's standing approval of spender. */
static void fund(gt_chain_account *a, uint64_t amount, const gt_addr *spender) {
    uint8_t max[32];
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&DEPLOYER, "mint(address,uint256)", &a->addr, amount, NULL), 0);
    CHECK_EQ_INT(token_tx(a, "approve(address,uint256)", spender, 0, max), 0);
}

#define OK(call)                                                         \
    do {                                                                 \
        gt_err e_;                                                       \
        CHECK_MSG((call) == 0, "%s: %s", #call, e_.msg);                 \
    } while (0)
#define REFUSED(call, reason)                                            \
    do {                                                                 \
        gt_err e_;                                                       \
        CHECK_EQ_INT((call), GT_ECHAIN);                                 \
        CHECK_CONTAINS(e_.msg, reason);                                  \
    } while (0)

/* The court's deployer reveals the seed links the waiting draws need (the keeper's job). */
#define SEED_UP() OK(gt_court_seed_reveal(&C, &COURT, &DEPLOYER, NULL, NULL, &e_))

/* Gas of each step of a disputed lifecycle. */
typedef struct steps { uint64_t post, claim, submit, reject, dispute, draw, commit, reveal, resolve; } steps;

/* A job posted on escrow, claimed, submitted, rejected by the evaluator and
 * disputed by the worker; its seed link not revealed. Returns its id. */
static uint64_t open_dispute(const gt_addr *escrow, const gt_addr *court, uint64_t budget, uint64_t stake,
                             steps *g) {
    uint8_t desc[32], tag[32];
    uint64_t id = 0;
    gt_keccak256("a job", 5, desc);
    gt_keccak256("result", 6, tag);
    OK(gt_escrow_post(&C, escrow, &CLIENT, &VERIFIER.addr, anvil_now(&C) + 86400, desc, budget, stake, &id,
                      &g->post, &e_));
    OK(gt_escrow_do(&C, escrow, &WORKER, GT_ESCROW_CLAIM, id, NULL, &g->claim, &e_));
    OK(gt_escrow_do(&C, escrow, &WORKER, GT_ESCROW_SUBMIT, id, tag, &g->submit, &e_));
    OK(gt_escrow_do(&C, escrow, &VERIFIER, GT_ESCROW_REJECT, id, tag, &g->reject, &e_));
    OK(gt_escrow_do(&C, escrow, &WORKER, GT_ESCROW_DISPUTE, id, NULL, &g->dispute, &e_));
    gt_escrow_job j;
    OK(gt_escrow_get(&C, escrow, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_DISPUTED);
    REFUSED(gt_court_do(&C, court, &CLIENT, GT_COURT_DRAW, id, NULL, &e_), "not revealed yet");
    return id;
}

/* A disputed job (open_dispute on the main court); returns its id once its seed link is revealed. */
static uint64_t disputed_job(uint64_t budget, uint64_t stake, steps *g) {
    uint64_t id = open_dispute(&ESCROW, &COURT, budget, stake, g);
    /* Only the deployer's chain opens the anchor: another wallet's links are refused. */
    REFUSED(gt_court_seed_reveal(&C, &COURT, &CLIENT, NULL, NULL, &e_), "not the seed chain's next link");
    uint64_t links = 0;
    OK(gt_court_seed_reveal(&C, &COURT, &DEPLOYER, &links, NULL, &e_));
    CHECK(links >= 1 && links <= 2); /* up to seedCount + 2 at the dispute (one may be out already) */
    return id;
}

/* The evaluator rejects good work; the worker disputes; all three judges
 * re-run and accept. The worker gets budget, stake and bond; the evaluator's
 * bond goes to the judges' wallets by weight (rounding to the worker), their
 * own bonds back into their stake (the ledger's rule). */
static void test_wrongful_rejection(void) {
    steps g = {0};
    uint64_t w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr), c0 = balance(&CLIENT.addr);
    uint64_t a0[N_JUDGES], b0[N_JUDGES], gas = 0;
    for (int i = 0; i < N_JUDGES; i++) a0[i] = validator(&J[i].addr, 0), b0[i] = balance(&J[i].addr);
    uint64_t id = disputed_job(1000, 100000, &g);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - 100000);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, &g.draw, &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_VOTING);
    CHECK_EQ_U64(cs.members, N_JUDGES); /* few validators: all sit, weighing their stake */
    CHECK_EQ_U64(cs.total, a0[0] + a0[1] + a0[2]);
    for (int i = 0; i < N_JUDGES; i++) {
        gas = 0;
        OK(gt_court_commit(&C, &COURT, &J[i], id, 1, &gas, &e_));
        g.commit += gas;
    }
    CHECK_EQ_U64(validator(&J[0].addr, 1), a0[0] / 5); /* 20% of its weight bonded */
    for (int i = 0; i < N_JUDGES; i++) {
        gas = 0;
        OK(gt_court_reveal(&C, &COURT, &J[i], id, 1, &gas, &e_));
        g.reveal += gas;
    }
    /* Every commitment revealed and the whole panel voted: it closes early. */
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, &g.resolve, &e_));
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1000);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - 100000);
    uint64_t paid = 0;
    for (int i = 0; i < N_JUDGES; i++) {
        uint64_t b = balance(&J[i].addr);
        CHECK_EQ_U64(validator(&J[i].addr, 0), a0[i]);
        CHECK_EQ_U64(validator(&J[i].addr, 1), 0);
        CHECK_EQ_U64(b - b0[i], (uint64_t)((unsigned __int128)100000 * a0[i] / cs.total));
        paid += b - b0[i];
    }
    CHECK(paid <= 100000 && paid + N_JUDGES >= 100000);
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
    uint64_t total = g.post + g.claim + g.submit + g.reject + g.dispute + g.draw + g.commit + g.reveal + g.resolve;
    printf("gas per disputed lifecycle (%d judges, all sit): %llu = post %llu + claim %llu + submit %llu + reject %llu"
           " + dispute %llu + draw %llu + commits %llu + reveals %llu + resolve %llu\n", N_JUDGES,
           (unsigned long long)total, (unsigned long long)g.post, (unsigned long long)g.claim,
           (unsigned long long)g.submit, (unsigned long long)g.reject, (unsigned long long)g.dispute,
           (unsigned long long)g.draw, (unsigned long long)g.commit, (unsigned long long)g.reveal,
           (unsigned long long)g.resolve);
}

/* A worker whose result really differs disputes its rejection: the judges
 * reject too. Its stake goes to the client, its bond to the judges; the
 * evaluator's bond comes back. */
static void test_bad_worker_disputes(void) {
    steps g = {0};
    uint64_t w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr), c0 = balance(&CLIENT.addr);
    uint64_t a0 = validator(&J[0].addr, 0), b0 = balance(&J[0].addr);
    uint64_t id = disputed_job(1000, 50000, &g);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100000); /* stake and bond locked */
    OK(gt_court_do(&C, &COURT, &WORKER, GT_COURT_DRAW, id, NULL, &e_));
    for (int i = 0; i < N_JUDGES; i++) OK(gt_court_commit(&C, &COURT, &J[i], id, 0, NULL, &e_));
    for (int i = 0; i < N_JUDGES; i++) OK(gt_court_reveal(&C, &COURT, &J[i], id, 0, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &WORKER, GT_COURT_RESOLVE, id, NULL, &e_));
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100000);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 50000); /* budget back, stake slashed to it */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);
    CHECK_EQ_U64(validator(&J[0].addr, 0), a0); /* its bond back into its stake, its share to its wallet */
    CHECK(balance(&J[0].addr) > b0);
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_REJECTED);
    REFUSED(gt_court_do(&C, &COURT, &WORKER, GT_COURT_RESOLVE, id, NULL, &e_), "not voting");
}

/* J0 judges honestly (reject). J1 copies J0's commitment word for word and
 * then tries to reveal with J0's revealed vote and salt; J2 commits and never
 * reveals. Both lose their bonds to J0, with the worker's bond. */
static void test_copier_and_silent_judge(void) {
    steps g = {0};
    uint64_t a[N_JUDGES], b0 = balance(&J[0].addr);
    for (int i = 0; i < N_JUDGES; i++) a[i] = validator(&J[i].addr, 0);
    uint64_t id = disputed_job(1000, 40000, &g);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
    OK(gt_court_commit(&C, &COURT, &J[0], id, 0, NULL, &e_));
    /* Nothing is public while a member may still commit. */
    REFUSED(gt_court_reveal(&C, &COURT, &J[0], id, 0, NULL, &e_), "reveals open when the commit window closes");
    uint8_t salt0[32], h0[32];
    gt_court_salt(&J[0].key, &COURT, C.chain_id, id, salt0);
    gt_court_commitment(0, salt0, &J[0].addr, &COURT, C.chain_id, id, h0);
    gt_abi_val copy[] = {gt_abi_uint(id), gt_abi_bytes32(h0)};
    gt_chain_receipt r = {0};
    OK(gt_chain_invoke(&C, &COURT, &J[1], "commit(uint256,bytes32)", copy, 2, &r, NULL, &e_));
    gt_chain_receipt_free(&r);
    OK(gt_court_commit(&C, &COURT, &J[2], id, 1, NULL, &e_));
    /* A bonded judge cannot take its bond out of reach. */
    REFUSED(gt_court_do(&C, &COURT, &J[2], GT_COURT_EXIT, a[2], NULL, &e_), "over the free stake");
    OK(gt_court_reveal(&C, &COURT, &J[0], id, 0, NULL, &e_));
    gt_abi_val replay[] = {gt_abi_uint(id), gt_abi_bool(0), gt_abi_bytes32(salt0)};
    REFUSED(gt_chain_invoke(&C, &COURT, &J[1], "reveal(uint256,bool,bytes32)", replay, 3, &r, NULL, &e_),
            "do not open your commitment");
    REFUSED(gt_court_reveal(&C, &COURT, &J[1], id, 0, NULL, &e_), "do not open your commitment");
    /* Two commitments unrevealed: no early close. */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_), "still open");
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    REFUSED(gt_court_reveal(&C, &COURT, &J[2], id, 1, NULL, &e_), "reveal window has closed");
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_RESOLVED);
    uint64_t b1 = a[1] / 5, b2 = a[2] / 5; /* their bonds: 20% of their weight (= stake: all sit) */
    CHECK_EQ_U64(validator(&J[1].addr, 0), a[1] - b1);
    CHECK_EQ_U64(validator(&J[2].addr, 0), a[2] - b2);
    CHECK_EQ_U64(validator(&J[0].addr, 0), a[0]);
    CHECK_EQ_U64(balance(&J[0].addr), b0 + b1 + b2 + 40000); /* the only winner takes all, to its wallet */
    for (int i = 0; i < N_JUDGES; i++) CHECK_EQ_U64(validator(&J[i].addr, 1), 0);
}

/* Open votes (the ledger's dispute_vote): J2 rejects, J1 accepts, each
 * bonding 20 % of its weight; the deciding vote (J0's: the whole panel has
 * voted, accept holding most) settles the case in its own transaction: the
 * worker paid, J2's bond and the evaluator's to J0 and J1's wallets by
 * weight. A second case: a commitment seals it (an open vote refused); a
 * third: one open vote that decides nothing, and the case closes at the end
 * of its commit window (nothing sealed to reveal), not before. */
static void test_open_votes(void) {
    steps g = {0};
    uint64_t a[N_JUDGES], b[N_JUDGES], w0 = balance(&WORKER.addr), gas = 0;
    for (int i = 0; i < N_JUDGES; i++) a[i] = validator(&J[i].addr, 0), b[i] = balance(&J[i].addr);
    uint64_t id = disputed_job(1000, 30000, &g);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
    REFUSED(gt_court_vote_open(&C, &COURT, &VERIFIER, id, 0, NULL, &e_), "not on this dispute's panel");
    OK(gt_court_vote_open(&C, &COURT, &J[2], id, 0, NULL, &e_));
    REFUSED(gt_court_vote_open(&C, &COURT, &J[2], id, 1, NULL, &e_), "already");
    CHECK_EQ_U64(validator(&J[2].addr, 1), a[2] / 5);
    OK(gt_court_vote_open(&C, &COURT, &J[1], id, 1, NULL, &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_VOTING); /* no side over two thirds, a member yet to vote */
    CHECK_EQ_U64(cs.reject_w, a[2]);
    CHECK_EQ_U64(cs.accept_w, a[1]);
    OK(gt_court_vote_open(&C, &COURT, &J[0], id, 1, &gas, &e_));
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_RESOLVED);
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
    uint64_t pot = 30000 + a[2] / 5, won = a[0] + a[1], paid = 0;
    CHECK_EQ_U64(validator(&J[2].addr, 0), a[2] - a[2] / 5);
    for (int i = 0; i < 2; i++) {
        uint64_t share = (uint64_t)((unsigned __int128)pot * a[i] / won);
        CHECK_EQ_U64(validator(&J[i].addr, 0), a[i]);
        CHECK_EQ_U64(validator(&J[i].addr, 1), 0);
        CHECK_EQ_U64(balance(&J[i].addr), b[i] + share);
        paid += share;
    }
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000 + pot - paid); /* the rounding remainder to the winner */
    REFUSED(gt_court_vote_open(&C, &COURT, &J[0], id, 1, NULL, &e_), "not voting");
    printf("gas of the deciding open vote (settles the case, 3 judges): %llu\n", (unsigned long long)gas);

    uint64_t sealed = disputed_job(1000, 30000, &g);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, sealed, NULL, &e_));
    OK(gt_court_commit(&C, &COURT, &J[0], sealed, 1, NULL, &e_));
    REFUSED(gt_court_vote_open(&C, &COURT, &J[1], sealed, 1, NULL, &e_), "sealed");
    uint64_t quiet = disputed_job(1000, 30000, &g);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, quiet, NULL, &e_));
    OK(gt_court_vote_open(&C, &COURT, &J[1], quiet, 1, NULL, &e_));
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, quiet, NULL, &e_), "still open");
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s), 0);
    REFUSED(gt_court_vote_open(&C, &COURT, &J[2], quiet, 1, NULL, &e_), "commit window has closed");
    /* The sealed case still waits for its reveal window; the open one closes. */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, sealed, NULL, &e_), "still open");
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, quiet, NULL, &e_));
    OK(gt_escrow_get(&C, &ESCROW, quiet, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED); /* J1's accept outweighs no reject */
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.reveal_s), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, sealed, NULL, &e_)); /* J0 never revealed */
}

/* The client and the evaluator stake as validators too, and are still never
 * on their own job's panel. */
static void test_parties_not_on_panel(void) {
    steps g = {0};
    uint64_t id = disputed_job(10, 5000, &g);
    OK(gt_court_do(&C, &COURT, &VERIFIER, GT_COURT_DRAW, id, NULL, &e_));
    uint64_t w = 1;
    gt_court_vote v;
    OK(gt_court_seat(&C, &COURT, id, &VERIFIER.addr, &w, &v, &e_));
    CHECK_EQ_U64(w, 0);
    OK(gt_court_seat(&C, &COURT, id, &CLIENT.addr, &w, &v, &e_));
    CHECK_EQ_U64(w, 0);
    REFUSED(gt_court_commit(&C, &COURT, &VERIFIER, id, 0, NULL, &e_), "not on this dispute's panel");
    REFUSED(gt_court_commit(&C, &COURT, &CLIENT, id, 0, NULL, &e_), "not on this dispute's panel");
    OK(gt_court_seat(&C, &COURT, id, &J[0].addr, &w, &v, &e_));
    CHECK(w > 0);
    /* Nobody votes: no decision, nobody's bond taken, the rejection stands. */
    uint64_t w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 5000);   /* its bond back, its stake slashed */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 5000); /* its bond back */
}

/* One party, one seat: a staked validator that worked on a timed job whose
 * rejection stood (the job reopened) is on none of the job's later panels,
 * as the ledger keeps every worker of a task off its panels; a validator
 * that never worked on it is. */
static void test_past_worker_not_on_panel(void) {
    uint8_t desc[32] = {12}, tag[32] = {13}, max[32];
    uint64_t id = 0, w = 1;
    gt_court_vote v;
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&J[2], "approve(address,uint256)", &ESCROW, 0, max), 0);
    OK(gt_escrow_post(&C, &ESCROW, &CLIENT, &VERIFIER.addr, anvil_now(&C) + 86400, desc, 700, 300, &id, NULL, &e_));
    OK(gt_escrow_set_phases(&C, &ESCROW, &CLIENT, id, 3600, 3600, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &J[2], GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &J[2], GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.dispute_s), 0);
    OK(gt_escrow_do(&C, &ESCROW, &J[0], GT_ESCROW_FINALIZE, id, NULL, NULL, &e_)); /* reopened */
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_));
    SEED_UP();
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
    OK(gt_court_seat(&C, &COURT, id, &J[2].addr, &w, &v, &e_));
    CHECK_EQ_U64(w, 0);
    REFUSED(gt_court_commit(&C, &COURT, &J[2], id, 0, NULL, &e_), "not on this dispute's panel");
    OK(gt_court_seat(&C, &COURT, id, &J[0].addr, &w, &v, &e_));
    CHECK(w > 0);
    /* Nobody votes: the rejection stands at the deadline, and every bond is free for the tests after. */
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
}

/* Undisputed: the rejection settles after the window, not before; a dispute
 * after the window is refused. */
static void test_undisputed_rejection(void) {
    uint8_t desc[32] = {1}, tag[32] = {2};
    uint64_t id = 0, c0 = balance(&CLIENT.addr), v0 = balance(&VERIFIER.addr);
    OK(gt_escrow_post(&C, &ESCROW, &CLIENT, &VERIFIER.addr, anvil_now(&C) + 86400, desc, 700, 300, &id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_FINALIZE, id, NULL, NULL, &e_), "still open");
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_), "only the rejected worker");
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.dispute_s), 0);
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_), "window has closed");
    OK(gt_escrow_do(&C, &ESCROW, &J[0], GT_ESCROW_FINALIZE, id, NULL, NULL, &e_));
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 300);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);
    REFUSED(gt_escrow_do(&C, &ESCROW, &J[0], GT_ESCROW_FINALIZE, id, NULL, NULL, &e_), "no rejection waiting");
}

/* WORKER, holding timed job id, submits; VERIFIER rejects; nobody disputes;
 * after the dispute window the rejection is finalized and stands: the job
 * must be open again, unclaimed. */
static void rejected_and_reopened(uint64_t id, const uint8_t tag[32]) {
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.dispute_s), 0);
    OK(gt_escrow_do(&C, &ESCROW, &J[0], GT_ESCROW_FINALIZE, id, NULL, NULL, &e_));
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK(j.status == GT_ESCROW_FUNDED && !j.claimed && gt_addr_is_zero(&j.provider));
}

/* A timed job (setPhases) whose rejection stands while its claim window is
 * open reopens (the embedded ledger's slot reopening): the stake slashed to
 * the client, the evaluator's bond back, the budget kept; the rejected worker
 * may not claim again, another one is paid. */
static void test_timed_rejection_reopens(void) {
    uint8_t desc[32] = {9}, tag[32] = {8}, max[32];
    uint64_t id = 0, c0 = balance(&CLIENT.addr), v0 = balance(&VERIFIER.addr), w0 = balance(&WORKER.addr);
    uint64_t j0 = balance(&J[1].addr);
    OK(gt_escrow_post(&C, &ESCROW, &CLIENT, &VERIFIER.addr, anvil_now(&C) + 86400, desc, 700, 300, &id, NULL, &e_));
    OK(gt_escrow_set_phases(&C, &ESCROW, &CLIENT, id, 3600, 3600, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    rejected_and_reopened(id, tag);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 700 + 300);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 300);
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_), "already had its seat");
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&J[1], "approve(address,uint256)", &ESCROW, 0, max), 0);
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_COMPLETE, id, tag, NULL, &e_));
    CHECK_EQ_U64(balance(&J[1].addr), j0 + 700);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 700 + 300);
}

/* A timed fee job whose rejections stand while its claim window is open
 * reopens each time, as the ledger reopens the slot: the stake pays the
 * evaluator's fee and the rest goes to the client, the escrowed fee stays for
 * the next verdict; setSeats(2) lets the rejected worker claim once more,
 * not a third time. */
static void test_timed_fee_rejection_reopens(void) {
    uint8_t desc[32] = {10}, tag[32] = {11}, max[32];
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 86400, .budget = 700,
                         .stake = 300, .fee = 50};
    memcpy(t.desc_hash, desc, 32);
    uint64_t id = 0, c0 = balance(&CLIENT.addr), v0 = balance(&VERIFIER.addr), w0 = balance(&WORKER.addr);
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&J[1], "approve(address,uint256)", &ESCROW, 0, max), 0);
    uint64_t j0 = balance(&J[1].addr);
    OK(gt_escrow_post_fee(&C, &ESCROW, &CLIENT, &t, &id, NULL, &e_));
    REFUSED(gt_escrow_set_seats(&C, &ESCROW, &CLIENT, id, 2, NULL, &e_), "seats are for a timed job");
    OK(gt_escrow_set_phases(&C, &ESCROW, &CLIENT, id, 3600, 3600, NULL, &e_));
    REFUSED(gt_escrow_set_seats(&C, &ESCROW, &WORKER, id, 2, NULL, &e_), "only the client sets the seats");
    REFUSED(gt_escrow_set_seats(&C, &ESCROW, &CLIENT, id, 0, NULL, &e_), "seatsPerWorker must be 1 to 64");
    REFUSED(gt_escrow_set_seats(&C, &ESCROW, &CLIENT, id, 65, NULL, &e_), "seatsPerWorker must be 1 to 64");
    OK(gt_escrow_set_seats(&C, &ESCROW, &CLIENT, id, 2, NULL, &e_));
    for (int round = 1; round <= 2; round++) {
        OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
        if (round == 1)
            REFUSED(gt_escrow_set_seats(&C, &ESCROW, &CLIENT, id, 3, NULL, &e_), "not funded and never claimed");
        rejected_and_reopened(id, tag);
        CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 50 * (uint64_t)round);
        CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 750 + 250 * (uint64_t)round);
        CHECK_EQ_U64(balance(&WORKER.addr), w0 - 300 * (uint64_t)round);
    }
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_), "already had its seats");
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_COMPLETE, id, tag, NULL, &e_));
    CHECK_EQ_U64(balance(&J[1].addr), j0 + 700);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 150);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 750 + 500);
}

/* A fee job (postWithFee): budget + fee escrowed from the client. */
static uint64_t fee_job(uint64_t budget, uint64_t stake, uint64_t fee, uint64_t expires_in_s) {
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + expires_in_s, .budget = budget,
                         .stake = stake, .fee = fee, .desc_hash = {7}};
    uint8_t tag[32] = {3};
    uint64_t id = 0;
    OK(gt_escrow_post_fee(&C, &ESCROW, &CLIENT, &t, &id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    return id;
}

/* The evaluator's fee (the embedded ledger's evaluator policy): paid for a
 * verdict (completion: from the escrow; a final rejection: out of the
 * slashed stake), back to the client without one (expiry) or when the court
 * overturns the rejection; at most the stake; none on a self-judged job. A
 * rejection without a reason is refused by the client before sending. */
static void test_evaluator_fee(void) {
    uint8_t tag[32] = {4}, zero[32] = {0};
    uint64_t c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    uint64_t id = fee_job(1000, 300, 100, 86400);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1100);
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_COMPLETE, id, tag, NULL, &e_));
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 100);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000);
    c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    id = fee_job(1000, 300, 100, 86400); /* rejected, undisputed: the fee out of the stake */
    gt_err err;
    CHECK_EQ_INT(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, zero, NULL, &err), GT_EINVAL);
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.dispute_s), 0);
    OK(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_FINALIZE, id, NULL, NULL, &e_));
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 300 - 100);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 100);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 300);
    c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    id = fee_job(1000, 300, 100, 600); /* never judged: no fee, everyone whole */
    CHECK_EQ_INT(anvil_advance(&C, 600), 0);
    OK(gt_escrow_do(&C, &ESCROW, &J[0], GT_ESCROW_REFUND, id, NULL, NULL, &e_));
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    CHECK_EQ_U64(balance(&WORKER.addr), w0);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);
    gt_escrow_terms bad = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 600, .budget = 10, .stake = 5,
                           .fee = 6};
    uint64_t none = 0;
    REFUSED(gt_escrow_post_fee(&C, &ESCROW, &CLIENT, &bad, &none, NULL, &e_), "stake must cover the fee");
    bad.fee = 5, bad.evaluator = CLIENT.addr;
    REFUSED(gt_escrow_post_fee(&C, &ESCROW, &CLIENT, &bad, &none, NULL, &e_), "its client judges has no fee");
}

/* A wrongful rejection overturned by the court: the evaluator forfeits its
 * fee to the client (and its bond to the judges). */
static void test_fee_forfeited(void) {
    uint8_t tag[32] = {5};
    uint64_t c0 = balance(&CLIENT.addr), v0 = balance(&VERIFIER.addr);
    uint64_t id = fee_job(1000, 300, 100, 86400);
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_));
    SEED_UP();
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
    for (int i = 0; i < N_JUDGES; i++) OK(gt_court_commit(&C, &COURT, &J[i], id, 1, NULL, &e_));
    for (int i = 0; i < N_JUDGES; i++) OK(gt_court_reveal(&C, &COURT, &J[i], id, 1, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1000); /* the budget paid, the fee back */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - 300); /* its bond lost, no fee */
}

/* The gas of units_task's last postSlots, claimTask and submit. */
static uint64_t units_gas[3];

/* A task (postSlots, untimed) of `slots` slots, each with budget, stake and
 * the evaluator's fee, holding `units` units (the last one `last`; 0: units),
 * judged by VERIFIER; WORKER claims slot 0 (claimTask) and submits. Returns
 * the task id. */
static uint64_t units_task(uint64_t slots, uint64_t budget, uint64_t stake, uint64_t fee, uint64_t units,
                           uint64_t last) {
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 86400, .budget = budget,
                         .stake = stake, .fee = fee, .desc_hash = {12}};
    gt_escrow_slots s = {.slots = slots, .batch_items = units, .last_batch_items = last};
    uint8_t tag[32] = {13};
    uint64_t id = 0;
    OK(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &id, &units_gas[0], &e_));
    OK(gt_escrow_task_do(&C, &ESCROW, &WORKER, 0, id, &units_gas[1], &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, &units_gas[2], &e_));
    return id;
}

#define VERIFY_UNITS(who, id, acc, total, reason) gt_escrow_verify_units(&C, &ESCROW, who, id, acc, total, reason, \
                                                                          NULL, &e_)

/* The evaluator's fee on each slot of a task (the ledger's evaluator policy
 * on a task of several slots): (budget + fee) x slots escrowed; an accepted
 * slot pays the fee from the escrow, a rejection that stands out of the
 * stake (the worker settling at once, giving up its dispute); the fee is at
 * most the stake and none on a task its client judges. */
static void test_slot_fee(void) {
    uint8_t tag[32] = {14};
    gt_escrow_terms bad = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 600, .budget = 700, .stake = 300,
                           .fee = 301};
    gt_escrow_slots two = {.slots = 2};
    uint64_t none = 0;
    REFUSED(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &bad, &two, &none, NULL, &e_), "stake must cover the fee");
    bad.fee = 50, bad.evaluator = CLIENT.addr;
    REFUSED(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &bad, &two, &none, NULL, &e_), "its client judges has no fee");
    uint64_t c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    uint64_t j0 = balance(&J[1].addr);
    uint64_t id = units_task(2, 700, 300, 50, 0, 0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 2 * 750);
    gt_abi_val arg[] = {gt_abi_uint(id + 1)};
    CHECK_EQ_U64(view_u64(&ESCROW, "feeOf(uint256)", arg, 1, 0), 50);
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_COMPLETE, id, tag, NULL, &e_));
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 50);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 700);
    uint8_t max[32];
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&J[1], "approve(address,uint256)", &ESCROW, 0, max), 0);
    OK(gt_escrow_task_do(&C, &ESCROW, &J[1], 0, id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_SUBMIT, id + 1, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_REJECT, id + 1, tag, NULL, &e_));
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_FINALIZE, id + 1, NULL, NULL, &e_), "still open");
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_FINALIZE, id + 1, NULL, NULL, &e_)); /* gives up its dispute */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 100); /* the fee out of the stake, the bond back */
    CHECK_EQ_U64(balance(&J[1].addr), j0 - 300);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 750 + 300 - 50); /* budget and escrowed fee back, the stake less the fee */
    REFUSED(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_DISPUTE, id + 1, NULL, NULL, &e_), "no rejection open");
}

/* Per-unit verdicts (the ledger's task_verify_partial) and the attack of
 * scenario attack_partial_total: the units are committed at post (a bad
 * batch refused there), and a verdict's total must be exactly the slot's
 * units: a made-up total (8 or 2 for a batch of 4, to halve the pay or the
 * rejected share) is refused, as is a verdict on a job posted without units,
 * more accepted than total, rejecting units without a reason, or a verdict
 * by anyone but the evaluator. 3 of 4 accepted: a rejection bonding a
 * quarter of the stake; the worker settles at once and is paid pro rata
 * (three quarters of the budget, its stake less a quarter), the client
 * gets the rest, the evaluator its fee and its bond; the job is final. */
static void test_units_partial_settle(void) {
    uint8_t why[32] = {15}, zero[32] = {0};
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 600, .budget = 1000, .stake = 3};
    gt_escrow_slots s = {.slots = 2, .batch_items = 4};
    uint64_t none = 0;
    REFUSED(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &none, NULL, &e_), "batchItems must be at most");
    t.stake = 400, s.batch_items = 4, s.last_batch_items = 5;
    REFUSED(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &none, NULL, &e_), "lastBatchItems must be 1 to");
    s.batch_items = 0, s.last_batch_items = 3;
    REFUSED(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &none, NULL, &e_), "lastBatchItems needs batchItems");
    uint64_t c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr);
    uint64_t j0 = balance(&J[1].addr);
    uint64_t id = units_task(2, 1000, 400, 100, 4, 3), total = 0, acc = 0, g[3], verdict_gas = 0, settle_gas = 0;
    memcpy(g, units_gas, sizeof units_gas);
    OK(gt_escrow_units(&C, &ESCROW, id, &total, &acc, &e_));
    CHECK(total == 4 && acc == 0);
    OK(gt_escrow_units(&C, &ESCROW, id + 1, &total, &acc, &e_));
    CHECK(total == 3 && acc == 0); /* the last slot's batch */
    REFUSED(VERIFY_UNITS(&CLIENT, id, 3, 4, why), "only the evaluator");
    REFUSED(VERIFY_UNITS(&VERIFIER, id, 4, 8, why), "total must be the units the slot holds");
    REFUSED(VERIFY_UNITS(&VERIFIER, id, 1, 2, why), "total must be the units the slot holds");
    REFUSED(VERIFY_UNITS(&VERIFIER, id, 5, 4, why), "more than total");
    REFUSED(VERIFY_UNITS(&VERIFIER, id, 3, 4, zero), "needs a reason");
    OK(gt_escrow_verify_units(&C, &ESCROW, &VERIFIER, id, 3, 4, why, &verdict_gas, &e_));
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - 100); /* its bond: the rejected quarter of the stake */
    OK(gt_escrow_units(&C, &ESCROW, id, &total, &acc, &e_));
    CHECK(total == 4 && acc == 3);
    REFUSED(VERIFY_UNITS(&VERIFIER, id, 4, 4, why), "not submitted");
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_FINALIZE, id, NULL, NULL, &e_), "still open");
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_FINALIZE, id, NULL, &settle_gas, &e_));
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 750 - 100); /* 3/4 of the budget; the stake less the bond's amount */
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 2 * 1100 + 250 + 100);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 100); /* the fee; the bond back */
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED); /* final: the accepted units bought, the rest refunded */
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_FINALIZE, id, NULL, NULL, &e_), "no rejection waiting");
    OK(gt_escrow_task_do(&C, &ESCROW, &J[1], 0, id, NULL, &e_)); /* slot 1: 3 units, all good */
    OK(gt_escrow_do(&C, &ESCROW, &J[1], GT_ESCROW_SUBMIT, id + 1, why, NULL, &e_));
    REFUSED(VERIFY_UNITS(&VERIFIER, id + 1, 3, 4, why), "total must be the units the slot holds");
    OK(VERIFY_UNITS(&VERIFIER, id + 1, 3, 3, zero)); /* all accepted: complete(), no reason needed */
    CHECK_EQ_U64(balance(&J[1].addr), j0 + 1000);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 200);
    uint64_t whole = fee_job(1000, 300, 100, 86400); /* posted without units */
    REFUSED(VERIFY_UNITS(&VERIFIER, whole, 1, 1, why), "without batchItems");
    OK(VERIFY_UNITS(&VERIFIER, units_task(1, 30, 30, 0, 3, 0), 0, 3, why)); /* none accepted: reject() */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 200 - 30); /* a whole rejection's bond: the stake */
    OK(gt_escrow_do(&C, &ESCROW, &VERIFIER, GT_ESCROW_COMPLETE, whole, why, NULL, &e_));
    printf("gas of a per-unit slot settled pro rata: postSlots (2 slots, fee, units) %llu + claimTask %llu + submit "
           "%llu + verifyUnits (3 of 4) %llu + finalize by the worker %llu\n", (unsigned long long)g[0],
           (unsigned long long)g[1], (unsigned long long)g[2], (unsigned long long)verdict_gas,
           (unsigned long long)settle_gas);
}

/* A per-unit verdict disputed (the worker's claim that every unit was
 * good): won, the worker is paid in full and the evaluator's bond (the
 * rejected units' share of the stake, rounded down) goes to the judges by
 * weight, the rounding to the worker, the fee back to the client; lost, the
 * worker's bond goes to the judges and the verdict settles pro rata. */
static void test_units_disputed(void) {
    uint8_t why[32] = {16};
    for (int won = 1; won >= 0; won--) {
        uint64_t c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr), a[N_JUDGES],
                 b[N_JUDGES];
        for (int i = 0; i < N_JUDGES; i++) a[i] = validator(&J[i].addr, 0), b[i] = balance(&J[i].addr);
        uint64_t id = units_task(1, 10000000, 5000000, 100, 3, 0), rbond = 5000000 * 2 / 3;
        OK(VERIFY_UNITS(&VERIFIER, id, 1, 3, why));
        CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - rbond);
        OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_));
        SEED_UP();
        OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
        gt_court_case cs;
        uint64_t voted = 0;
        for (int i = 0; i < N_JUDGES; i++) {
            OK(gt_court_get(&C, &COURT, id, &cs, &e_));
            if (cs.state != GT_COURT_VOTING) break;
            OK(gt_court_vote_open(&C, &COURT, &J[i], id, won, NULL, &e_));
            voted += a[i];
        }
        OK(gt_court_get(&C, &COURT, id, &cs, &e_));
        CHECK_EQ_INT(cs.state, GT_COURT_RESOLVED);
        gt_escrow_job j;
        OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
        CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
        uint64_t pot = won ? rbond : 5000000, paid = 0;
        for (int i = 0; i < N_JUDGES && voted; i++) {
            uint64_t share = balance(&J[i].addr) - b[i];
            CHECK(share == 0 || share == (uint64_t)((unsigned __int128)pot * a[i] / voted));
            paid += share;
        }
        CHECK(paid > 0 && paid <= pot);
        if (won) {
            CHECK_EQ_U64(balance(&WORKER.addr), w0 + 10000000 + pot - paid); /* in full, the rounding to it */
            CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 10000000);              /* the fee back */
            CHECK_EQ_U64(balance(&VERIFIER.addr), v0 - rbond);
        } else {
            uint64_t pay = 10000000 / 3; /* floor: the budget's rounding stays with the client, as the judges' */
            CHECK_EQ_U64(balance(&WORKER.addr), w0 - 5000000 + pay - rbond);
            CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 10000100 + (10000000 - pay) + rbond + (pot - paid));
            CHECK_EQ_U64(balance(&VERIFIER.addr), v0 + 100);
        }
    }
}

/* Once the draw block is mined its hash (the seed) is public: until the panel
 * is drawn, no stake may move in or out, nor a case resolve (it moves judges'
 * stake). Before the block, and after the draw, they may. */
/* A quorum job judged by the court's round: the client (a validator) sits
 * out, the four other validators vote; the job is paid at the deciding vote,
 * the fee and the rejecter's bond go to the accepting voters by weight. */
static void test_quorum_lifecycle(void) {
    const uint64_t budget = 1000, stake = 1 * TOKEN_UNIT, fee = 600000;
    uint8_t desc[32], tag[32];
    gt_keccak256("a quorum job", 12, desc);
    gt_keccak256("result", 6, tag);
    gt_chain_account *v[4] = {&J[2], &J[1], &J[0], &VERIFIER}; /* voting order: J2 rejects, the rest accept */
    uint64_t w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr), a0[4], b0[4], g[5] = {0}, vote_gas = 0;
    for (int i = 0; i < 4; i++) a0[i] = validator(&v[i]->addr, 0), b0[i] = balance(&v[i]->addr);
    gt_escrow_terms tm = {.expired_at = anvil_now(&C) + 86400, .budget = budget, .stake = stake, .fee = fee};
    memcpy(tm.desc_hash, desc, 32);
    uint64_t id = 0;
    tm.evaluator = VERIFIER.addr; /* the court is the evaluator: naming one is refused before anything is sent */
    gt_err named = {0};
    CHECK_EQ_INT(gt_escrow_post_quorum(&C, &ESCROW, &CLIENT, &tm, 600, 600, 2, &id, NULL, &named), GT_EINVAL);
    CHECK_CONTAINS(named.msg, "names no provider and no evaluator");
    CHECK_EQ_U64(id, 0);
    memset(&tm.evaluator, 0, sizeof tm.evaluator);
    OK(gt_escrow_post_quorum(&C, &ESCROW, &CLIENT, &tm, 600, 600, 2, &id, &g[0], &e_));
    CHECK_EQ_U64(id, view_u64(&ESCROW, "jobCount()", NULL, 0, 0)); /* the id its JobCreated event names */
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, &g[1], &e_));
    uint64_t links = 0, seed_gas = 0;
    OK(gt_court_seed_reveal(&C, &COURT, &DEPLOYER, &links, &seed_gas, &e_));
    CHECK(links > 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, &g[2], &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_U64(cs.members, 4); /* the client is not on its own job's panel */
    CHECK_EQ_U64(cs.total, a0[0] + a0[1] + a0[2] + a0[3]);
    REFUSED(gt_court_vote_open(&C, &COURT, v[0], id, 0, NULL, &e_), "commit window has closed"); /* nothing submitted */
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, &g[3], &e_));
    REFUSED(gt_court_vote_open(&C, &COURT, &CLIENT, id, 0, NULL, &e_), "not on this dispute's panel");
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_COMPLETE, id, tag, NULL, &e_), "only the evaluator");
    REFUSED(gt_escrow_verify_units(&C, &ESCROW, &VERIFIER, id, 1, 1, tag, NULL, &e_), "votes on whole results");
    gt_escrow_job j;
    for (int i = 0; i < 4; i++) {
        OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
        CHECK_EQ_INT(j.status, GT_ESCROW_SUBMITTED); /* no side decided before the fourth vote */
        uint64_t gas = 0;
        OK(gt_court_vote_open(&C, &COURT, v[i], id, i > 0, &gas, &e_));
        vote_gas += gas;
    }
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + budget);
    CHECK_EQ_U64(validator(&v[0]->addr, 0), a0[0] - a0[0] / 5); /* the rejecter's 20 % bond taken */
    uint64_t pot = fee + a0[0] / 5, paid = winners_paid(v, 1, 4, pot, a0, b0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - budget - fee + (pot - paid)); /* the rounding remainder */
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_), "no rejection open");
    uint64_t total = g[0] + g[1] + g[2] + g[3] + vote_gas;
    printf("gas per quorum lifecycle (4 members, all vote): %llu = postQuorum %llu + claim %llu + draw %llu + submit "
           "%llu + 4 votes %llu\n", (unsigned long long)total, (unsigned long long)g[0], (unsigned long long)g[1],
           (unsigned long long)g[2], (unsigned long long)g[3], (unsigned long long)vote_gas);
    printf("gas of the court's seed links (paid by its deployer, shared by the draws waiting together): %llu for %llu "
           "link%s\n", (unsigned long long)seed_gas, (unsigned long long)links, links == 1 ? "" : "s");
}

/* A quorum task of two slots (postQuorumSlots; the ledger's quorum task of
 * several slots, scenario attack_one_worker_all_slots): one claim per worker
 * over the task's life (J2's second claim refused), each slot its own court
 * round drawn with members, and J2, a staked validator that works slot 0,
 * counts as a past worker of both slots (the escrow's hadSeat, which the
 * court's draw asks) and sits on neither panel, while J0, who never worked
 * on the task, counts for neither. Nobody votes: both rounds stay undecided
 * (the last test). */
static void test_quorum_slots(void) {
    uint8_t max[32];
    uint64_t id = 0, w = 1, post_gas = 0;
    gt_court_vote v;
    memset(max, 0xff, 32);
    CHECK_EQ_INT(token_tx(&J[2], "approve(address,uint256)", &ESCROW, 0, max), 0);
    gt_escrow_terms t = {.expired_at = anvil_now(&C) + 86400, .budget = 700, .stake = 300, .desc_hash = {16}};
    gt_escrow_slots s = {.slots = 2, .submit_s = 600, .verify_s = 600, .quorum = 2};
    OK(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &id, &post_gas, &e_));
    OK(gt_escrow_task_do(&C, &ESCROW, &J[2], 0, id, NULL, &e_)); /* slot 0: job id */
    REFUSED(gt_escrow_task_do(&C, &ESCROW, &J[2], 0, id, NULL, &e_), "already had its seats on the task");
    OK(gt_escrow_task_do(&C, &ESCROW, &WORKER, 0, id, NULL, &e_)); /* slot 1: job id + 1 */
    SEED_UP();
    for (uint64_t k = 0; k < 2; k++) {
        OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id + k, NULL, &e_));
        gt_court_case cs;
        OK(gt_court_get(&C, &COURT, id + k, &cs, &e_));
        CHECK(cs.members > 0 && cs.total > 0);
        OK(gt_court_seat(&C, &COURT, id + k, &J[2].addr, &w, &v, &e_));
        CHECK_EQ_U64(w, 0);
        gt_abi_val j2[] = {gt_abi_uint(id + k), gt_abi_address(&J[2].addr)};
        gt_abi_val j0[] = {gt_abi_uint(id + k), gt_abi_address(&J[0].addr)};
        CHECK_EQ_U64(view_u64(&ESCROW, "hadSeat(uint256,address)", j2, 2, 0), 1); /* its task claim, every slot */
        CHECK_EQ_U64(view_u64(&ESCROW, "hadSeat(uint256,address)", j0, 2, 0), 0);
    }
    printf("gas of postQuorumSlots (2 slots, quorum 2): %llu\n", (unsigned long long)post_gas);
}

/* commit(jobId, h) of given bytes, as a copier sends another judge's commitment. */
static int raw_commit(gt_chain_account *a, uint64_t id, const uint8_t h[32], uint64_t *gas, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(id), gt_abi_bytes32(h)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(&C, &COURT, a, "commit(uint256,bytes32)", args, 2, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

/* reveal(jobId, accept, salt) with a given salt (a copier replays the salt it saw). */
static int raw_reveal(gt_chain_account *a, uint64_t id, int accept, const uint8_t salt[32], gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(id), gt_abi_bool(accept), gt_abi_bytes32(salt)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(&C, &COURT, a, "reveal(uint256,bool,bytes32)", args, 3, &r, NULL, err);
    gt_chain_receipt_free(&r);
    return rc;
}

/* A quorum job (quorum 2, verify window 600 s) claimed, drawn and submitted:
 * its id; g (5 words) gets the gas of post, claim, draw and submit. */
static uint64_t submitted_quorum_job(uint64_t stake, uint64_t fee, uint64_t *g) {
    uint8_t desc[32], tag[32];
    gt_keccak256("a sealed quorum job", 19, desc);
    gt_keccak256("result", 6, tag);
    gt_escrow_terms tm = {.expired_at = anvil_now(&C) + 86400, .budget = 1000, .stake = stake, .fee = fee};
    memcpy(tm.desc_hash, desc, 32);
    uint64_t id = 0;
    OK(gt_escrow_post_quorum(&C, &ESCROW, &CLIENT, &tm, 600, 600, 2, &id, &g[0], &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, &g[1], &e_));
    SEED_UP();
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, &g[2], &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, &g[3], &e_));
    return id;
}

/* The copy attack on a quorum round, as attack_copy_quorum_vote plays it:
 * the verifier (a validator on the panel) seals the round; an open vote is
 * refused from then on, and so is a reveal while a member may still commit;
 * J2 copies the verifier's commitment byte for byte and cannot open it with
 * the verifier's salt; J0 and J1 commit (every member has: the reveals open
 * at once); the escrow's verify deadline is the court's (its timeout refused
 * past it); at the reveal deadline the revealed stake (more than two thirds)
 * decides, the job is paid, and the copier's bond goes with the fee to the
 * winners by weight. */
static void test_quorum_sealed_copy(void) {
    const uint64_t stake = 1 * TOKEN_UNIT, fee = 600000;
    gt_chain_account *v[4] = {&VERIFIER, &J[0], &J[1], &J[2]}; /* J2, the least stake, copies */
    gt_chain_account *copier = v[3];
    uint64_t g[5] = {0}, commit_gas = 0, reveal_gas = 0, close_gas = 0, a0[4], b0[4];
    uint64_t w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr);
    for (int i = 0; i < 4; i++) a0[i] = validator(&v[i]->addr, 0), b0[i] = balance(&v[i]->addr);
    CHECK((a0[0] + a0[1] + a0[2]) * 3 > (a0[0] + a0[1] + a0[2] + a0[3]) * 2); /* the honest three decide alone */
    uint64_t id = submitted_quorum_job(stake, fee, g);
    uint32_t round = 0;
    OK(gt_court_round_of(&C, &COURT, id, &round, &e_));
    CHECK_EQ_U64(round, 1); /* the job's first claim */
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_U64(cs.members, 4);
    CHECK_EQ_U64(cs.reveal_end, cs.commit_end); /* open: the round ends with the verify window */
    uint64_t gas = 0;
    OK(gt_court_commit_round(&C, &COURT, v[0], id, round, 1, &gas, &e_));
    commit_gas += gas;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_U64(cs.reveal_end, cs.commit_end + WINDOWS.reveal_s); /* sealed: a reveal window follows */
    gt_abi_val idv[] = {gt_abi_uint(id)};
    CHECK_EQ_U64(view_u64(&ESCROW, "phasesOf(uint256)", idv, 1, 2), (1ull << 40) - 1); /* the court's now */
    REFUSED(gt_court_vote_open(&C, &COURT, v[1], id, 1, NULL, &e_), "sealed");
    REFUSED(gt_court_reveal_round(&C, &COURT, v[0], id, round, 1, NULL, &e_), "reveals open when the commit window");
    uint8_t salt0[32], h0[32];
    gt_court_round_salt(&v[0]->key, &COURT, C.chain_id, id, round, salt0);
    gt_court_round_commitment(1, salt0, &v[0]->addr, &COURT, C.chain_id, id, round, h0);
    OK(raw_commit(copier, id, h0, &gas, &e_)); /* the copy, byte for byte */
    commit_gas += gas;
    REFUSED(raw_commit(copier, id, h0, NULL, &e_), "already committed");
    REFUSED(gt_court_commit_round(&C, &COURT, &CLIENT, id, round, 1, NULL, &e_), "not on this dispute's panel");
    for (int i = 1; i <= 2; i++) {
        OK(gt_court_commit_round(&C, &COURT, v[i], id, round, 1, &gas, &e_));
        commit_gas += gas;
    }
    OK(gt_court_reveal_round(&C, &COURT, v[0], id, round, 1, &gas, &e_)); /* all committed: no wait */
    reveal_gas += gas;
    REFUSED(raw_reveal(copier, id, 1, salt0, &e_), "do not open your commitment");
    REFUSED(gt_court_reveal_round(&C, &COURT, v[1], id, round, 0, NULL, &e_), "do not open your commitment");
    REFUSED(gt_court_reveal_round(&C, &COURT, v[1], id, 0, 1, NULL, &e_), "do not open your commitment");
    for (int i = 1; i <= 2; i++) {
        OK(gt_court_reveal_round(&C, &COURT, v[i], id, round, 1, &gas, &e_));
        reveal_gas += gas;
    }
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_SUBMITTED); /* the copier's commitment is still sealed: no early decision */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_), "still open");
    CHECK_EQ_INT(anvil_advance(&C, 600), 0); /* past the verify deadline, inside the reveal window */
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_TIMEOUT, id, NULL, NULL, &e_), "no phase deadline");
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_), "still open");
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.reveal_s), 0);
    REFUSED(raw_reveal(copier, id, 1, salt0, &e_), "reveal window has closed");
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, &close_gas, &e_));
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000);
    uint64_t bond = a0[3] / 5; /* 20 % of the copier's weight, its stake */
    CHECK_EQ_U64(validator(&copier->addr, 0), a0[3] - bond);
    CHECK_EQ_U64(validator(&copier->addr, 1), 0);
    CHECK_EQ_U64(balance(&copier->addr), b0[3]);
    uint64_t pot = fee + bond, paid = winners_paid(v, 0, 3, pot, a0, b0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1000 - fee + (pot - paid));
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_), "no open quorum round");
    uint64_t total = g[0] + g[1] + g[2] + g[3] + commit_gas + reveal_gas + close_gas;
    printf("gas per sealed quorum lifecycle (4 members commit, 3 reveal): %llu = postQuorum %llu + claim %llu + draw "
           "%llu + submit %llu + 4 commits %llu + 3 reveals %llu + closeUnjudged %llu\n", (unsigned long long)total,
           (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[2], (unsigned long long)g[3],
           (unsigned long long)commit_gas, (unsigned long long)reveal_gas, (unsigned long long)close_gas);
}

/* Every member commits and reveals: the reveal that leaves nothing sealed
 * decides (here a rejection, final: the worker's stake pays the fee to the
 * rejecting voters, and the job reopens), before the verify deadline. Then a second job sealed by
 * one commitment that is never revealed: at the reveal deadline nothing
 * decides, and the court times the job out at the escrow (budget and fee to
 * the client, the stake to the worker, the bond freed). */
static void test_quorum_sealed_early_and_timeout(void) {
    const uint64_t stake = 1 * TOKEN_UNIT, fee = 600000;
    gt_chain_account *all[4] = {&J[0], &J[1], &J[2], &VERIFIER}, *v[4];
    uint64_t g[5] = {0};
    uint64_t id = submitted_quorum_job(stake, fee, g);
    uint32_t round = 0;
    int n = 0;
    OK(gt_court_round_of(&C, &COURT, id, &round, &e_));
    for (int i = 0; i < 4; i++) { /* the members (a validator slashed below the job's stake sits out) */
        uint64_t w = 0;
        gt_court_vote vote;
        OK(gt_court_seat(&C, &COURT, id, &all[i]->addr, &w, &vote, &e_));
        if (w) v[n++] = all[i];
    }
    CHECK(n >= 2); /* quorum 2 */
    for (int i = 0; i < n; i++) OK(gt_court_commit_round(&C, &COURT, v[i], id, round, 0, NULL, &e_));
    gt_escrow_job j;
    for (int i = 0; i < n; i++) {
        OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
        CHECK_EQ_INT(j.status, GT_ESCROW_SUBMITTED); /* undecided while a commitment is sealed */
        OK(gt_court_reveal_round(&C, &COURT, v[i], id, round, 0, NULL, &e_));
    }
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_FUNDED); /* rejected, final, and reopened: its claim window is open */
    CHECK(!j.claimed);
    REFUSED(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_DISPUTE, id, NULL, NULL, &e_), "no rejection open");

    uint64_t w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr), a0 = validator(&J[1].addr, 0);
    uint64_t id2 = submitted_quorum_job(stake, fee, g);
    OK(gt_court_round_of(&C, &COURT, id2, &round, &e_));
    OK(gt_court_commit_round(&C, &COURT, &J[1], id2, round, 1, NULL, &e_));
    CHECK_EQ_U64(validator(&J[1].addr, 1), a0 / 5);
    CHECK_EQ_INT(anvil_advance(&C, 600 + WINDOWS.reveal_s), 0);
    REFUSED(gt_court_reveal_round(&C, &COURT, &J[1], id2, round, 1, NULL, &e_), "reveal window has closed");
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id2, NULL, &e_));
    OK(gt_escrow_get(&C, &ESCROW, id2, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0); /* budget and fee back */
    CHECK_EQ_U64(balance(&WORKER.addr), w0); /* its stake back */
    CHECK_EQ_U64(validator(&J[1].addr, 0), a0); /* not slashed: nothing decided */
    CHECK_EQ_U64(validator(&J[1].addr, 1), 0);
}

static void test_no_stake_moves_on_a_known_seed(void) {
    steps g = {0};
    uint64_t id = disputed_job(10, 2000, &g);
    REFUSED(gt_court_do(&C, &COURT, &J[0], GT_COURT_STAKE, TOKEN_UNIT, NULL, &e_), "seed is known");
    REFUSED(gt_court_do(&C, &COURT, &J[0], GT_COURT_EXIT, TOKEN_UNIT, NULL, &e_), "seed is known");
    OK(gt_court_do(&C, &COURT, &J[1], GT_COURT_DRAW, id, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &J[0], GT_COURT_STAKE, TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
}

/* The seat of a validator on job id's panel: its weight (0: none). */
static uint64_t seat_weight(uint64_t id, const gt_addr *who) {
    uint64_t w = UINT64_MAX;
    gt_court_vote v;
    OK(gt_court_seat(&C, &COURT, id, who, &w, &v, &e_));
    return w;
}

/* The disputes of test_late_stake_no_weight closed undecided (nobody votes) at their deadline. */
static void close_unvoted(const uint64_t *ids, int n) {
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    for (int i = 0; i < n; i++) OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, ids[i], NULL, &e_));
}

/* Stake bought for a case after it opened (scenario attack_late_stake's
 * window, on a dispute): three disputes open one after another, nothing
 * revealed. After the first, `late` (a newcomer) stakes 50 tokens, `early`
 * (staked 4 before) takes 2 out; after each opening J1 raises its stake by a
 * token. Drawn once the links are out, each case weighs every validator at
 * the smaller of its stake at that case's opening and now (the ledger's
 * mk_draw_cands): late is not on the first case's panel (not staked when it
 * opened) and sits with its 50 on the next two; J1 weighs what it had at each
 * case's opening (its notes searched: three changes after the first); early
 * weighs the 2 it kept. The old court weighed everyone's stake at the draw:
 * late 50 and J1 its raised stake on every panel. */
static void test_late_stake_no_weight(void) {
    gt_chain_account late, early;
    CHECK_EQ_INT(anvil_account(&C, "late staker", &late), 0);
    CHECK_EQ_INT(anvil_account(&C, "early staker", &early), 0);
    fund(&late, 50 * TOKEN_UNIT, &COURT);
    fund(&early, 4 * TOKEN_UNIT, &COURT);
    OK(gt_court_do(&C, &COURT, &early, GT_COURT_STAKE, 4 * TOKEN_UNIT, NULL, &e_));
    uint64_t j1 = validator(&J[1].addr, 0), others = 0, n_others = 0, ids[3], draw_gas[3] = {0}, raise_gas[4] = {0};
    for (int i = 0; i < N_JUDGES; i += 2) { /* J0 and J2, as earlier tests left them (slashed under a token: out) */
        uint64_t s = validator(&J[i].addr, 0);
        if (s >= TOKEN_UNIT) others += s, n_others++;
    }
    CHECK(j1 >= TOKEN_UNIT);
    steps g = {0};
    for (int k = 0; k < 3; k++) {
        ids[k] = open_dispute(&ESCROW, &COURT, 10, 2000, &g);
        if (k == 0) {
            OK(gt_court_do(&C, &COURT, &late, GT_COURT_STAKE, 50 * TOKEN_UNIT, &raise_gas[3], &e_));
            OK(gt_court_do(&C, &COURT, &early, GT_COURT_EXIT, 2 * TOKEN_UNIT, NULL, &e_));
        }
        OK(gt_court_do(&C, &COURT, &J[1], GT_COURT_STAKE, TOKEN_UNIT, &raise_gas[k], &e_));
    }
    SEED_UP();
    for (int k = 0; k < 3; k++) {
        OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, ids[k], &draw_gas[k], &e_));
        uint64_t want_late = k == 0 ? 0 : 50 * TOKEN_UNIT, want_j1 = j1 + (uint64_t)k * TOKEN_UNIT;
        CHECK_EQ_U64(seat_weight(ids[k], &late.addr), want_late);
        CHECK_EQ_U64(seat_weight(ids[k], &J[1].addr), want_j1);
        CHECK_EQ_U64(seat_weight(ids[k], &early.addr), 2 * TOKEN_UNIT);
        gt_court_case cs;
        OK(gt_court_get(&C, &COURT, ids[k], &cs, &e_));
        CHECK_EQ_U64(cs.members, n_others + (k == 0 ? 2 : 3));
        CHECK_EQ_U64(cs.total, others + want_j1 + 2 * TOKEN_UNIT + want_late);
    }
    printf("gas of 3 draws whose validators changed stake after the openings (J1 after each): %llu (J1's stake "
           "found among 3 notes), %llu, %llu\n", (unsigned long long)draw_gas[0], (unsigned long long)draw_gas[1],
           (unsigned long long)draw_gas[2]);
    printf("gas of a stake while cases wait for their draws: J1's raises after each opening %llu, %llu, %llu; a "
           "newcomer's first stake %llu\n", (unsigned long long)raise_gas[0], (unsigned long long)raise_gas[1],
           (unsigned long long)raise_gas[2], (unsigned long long)raise_gas[3]);
    close_unvoted(ids, 3);
    /* Out again, so the tests after see the stakes they had (early's second exit after its first's unbonding). */
    OK(gt_court_do(&C, &COURT, &late, GT_COURT_EXIT, 50 * TOKEN_UNIT, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &J[1], GT_COURT_EXIT, 3 * TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.unbonding_s), 0);
    OK(gt_court_do(&C, &COURT, &early, GT_COURT_WITHDRAW, 0, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &early, GT_COURT_EXIT, 2 * TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_U64(validator(&early.addr, 2), 0); /* unlisted */
    CHECK_EQ_U64(validator(&J[1].addr, 0), j1);
    gt_chain_account_wipe(&late);
    gt_chain_account_wipe(&early);
}

/* A quorum round drawn among validators with at least the job's stake (3
 * tokens): `mid`, staked 2 when the claim opens the round, raises its stake
 * to 4 before the draw. It is not eligible (under the job's stake at the
 * opening); the panel is the judges and the verifier who had the stake then.
 * The old court seated mid. Nobody votes: the round times out unjudged. */
static void test_late_stake_quorum_round(void) {
    uint8_t desc[32], tag[32];
    gt_keccak256("a late stake quorum job", 23, desc);
    gt_keccak256("result", 6, tag);
    gt_chain_account mid;
    CHECK_EQ_INT(anvil_account(&C, "mid staker", &mid), 0);
    fund(&mid, 4 * TOKEN_UNIT, &COURT);
    OK(gt_court_do(&C, &COURT, &mid, GT_COURT_STAKE, 2 * TOKEN_UNIT, NULL, &e_));
    gt_chain_account *v[] = {&J[0], &J[1], &J[2], &VERIFIER}; /* (the client sits out) */
    uint64_t id = 0, members = 0, total = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t s = validator(&v[i]->addr, 0);
        if (s >= 3 * TOKEN_UNIT) members++, total += s;
    }
    gt_escrow_terms tm = {.expired_at = anvil_now(&C) + 86400, .budget = 1000, .stake = 3 * TOKEN_UNIT, .fee = 0};
    memcpy(tm.desc_hash, desc, 32);
    OK(gt_escrow_post_quorum(&C, &ESCROW, &CLIENT, &tm, 600, 600, 1, &id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &mid, GT_COURT_STAKE, 2 * TOKEN_UNIT, NULL, &e_));
    SEED_UP();
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_));
    CHECK_EQ_U64(seat_weight(id, &mid.addr), 0);
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_U64(cs.members, members);
    CHECK_EQ_U64(cs.total, total);
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    REFUSED(gt_court_vote_open(&C, &COURT, &mid, id, 1, NULL, &e_), "not on this dispute's panel");
    CHECK_EQ_INT(anvil_advance(&C, 601), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &mid, GT_COURT_EXIT, 4 * TOKEN_UNIT, NULL, &e_));
    gt_chain_account_wipe(&mid);
}

/* The attack of a stalled deployer: it never reveals a dispute's seed link, so no panel can be drawn. The case
 * has a deadline of its own (its opening + the commit and reveal windows): before it resolve is refused, after it
 * anyone closes the case undecided, as the ledger's dispute that ends with no decision: the rejection stands (the
 * stake to the client, the evaluator's bond back), the worker's bond back. A link revealed after the deadline draws
 * nothing and holds no stake up. A reveal late but before the deadline: the normal path (draw, votes, verdict). */
static void test_undrawn_dispute_deadline(void) {
    steps g = {0};
    uint64_t w0 = balance(&WORKER.addr), v0 = balance(&VERIFIER.addr), c0 = balance(&CLIENT.addr);
    uint64_t opened = anvil_now(&C), id = open_dispute(&ESCROW, &COURT, 1000, 50000, &g), gas = 0;
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_DRAWING);
    uint64_t deadline = cs.reveal_end;
    CHECK(deadline >= opened + WINDOWS.commit_s + WINDOWS.reveal_s && deadline <= anvil_now(&C) + 1200);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100000); /* stake and bond locked in the escrow */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_), "deadline has not passed");
    CHECK_EQ_INT(anvil_advance(&C, deadline - anvil_now(&C) - 30), 0);
    REFUSED(gt_court_do(&C, &COURT, &WORKER, GT_COURT_RESOLVE, id, NULL, &e_), "deadline has not passed");
    CHECK_EQ_INT(anvil_advance(&C, 60), 0);
    SEED_UP(); /* revealed late: past the deadline the link draws nothing, and no stake waits for it */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, NULL, &e_), "draw deadline has passed");
    OK(gt_court_do(&C, &COURT, &J[0], GT_COURT_STAKE, TOKEN_UNIT, NULL, &e_));
    OK(gt_court_do(&C, &COURT, &J[0], GT_COURT_RESOLVE, id, &gas, &e_)); /* anyone */
    printf("gas of resolve closing a dispute left undrawn at its deadline: %llu\n", (unsigned long long)gas);
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_RESOLVED);
    CHECK_EQ_U64(cs.members, 0);
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_REJECTED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 50000); /* its bond back, its stake slashed */
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 50000); /* budget back, the stake to it */
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);       /* the rejection bond back */
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_), "not voting");

    /* A late reveal before the deadline: drawn and judged as usual (the members accept in the clear). */
    w0 = balance(&WORKER.addr);
    uint64_t id2 = open_dispute(&ESCROW, &COURT, 1000, 50000, &g);
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s - 120), 0);
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id2, NULL, &e_), "deadline has not passed");
    SEED_UP();
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id2, NULL, &e_));
    OK(gt_court_get(&C, &COURT, id2, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_VOTING);
    CHECK(cs.members >= 1);
    CHECK(cs.reveal_end >= anvil_now(&C) + WINDOWS.reveal_s); /* a drawn case's windows run from its draw */
    CHECK_EQ_INT(anvil_advance(&C, 300), 0); /* past the undrawn deadline: the drawn case goes on */
    uint64_t voted = 0;
    for (int i = 0; i < N_JUDGES; i++) { /* members until one decides (the earlier tests slashed some judges out) */
        uint64_t weight = 0;
        gt_court_vote v;
        OK(gt_court_seat(&C, &COURT, id2, &J[i].addr, &weight, &v, &e_));
        OK(gt_court_get(&C, &COURT, id2, &cs, &e_));
        if (!weight || cs.state != GT_COURT_VOTING) continue;
        OK(gt_court_vote_open(&C, &COURT, &J[i], id2, 1, NULL, &e_));
        voted++;
    }
    CHECK(voted >= 1 && voted <= cs.members);
    OK(gt_escrow_get(&C, &ESCROW, id2, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000);
}

/* A quorum round whose seed link never comes: the worker submits, nobody can draw; at the verify deadline the
 * escrow refuses anyone's timeout (a quorum job's deadline is the court's) and anyone closes the undrawn round
 * (closeUnjudged), which times the job out: everyone refunded. */
static void test_undrawn_quorum_round(void) {
    uint8_t desc[32], tag[32];
    gt_keccak256("an undrawn quorum job", 21, desc);
    gt_keccak256("result", 6, tag);
    gt_escrow_terms tm = {.expired_at = anvil_now(&C) + 86400, .budget = 1000, .stake = 20000, .fee = 0};
    memcpy(tm.desc_hash, desc, 32);
    uint64_t id = 0, w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr);
    OK(gt_escrow_post_quorum(&C, &ESCROW, &CLIENT, &tm, 600, 600, 2, &id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &WORKER, GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_DRAWING);
    CHECK(cs.reveal_end > anvil_now(&C));
    REFUSED(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_), "still open");
    CHECK_EQ_INT(anvil_advance(&C, 601), 0);
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_TIMEOUT, id, NULL, NULL, &e_), "deadline is the court's");
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_CLOSE_UNJUDGED, id, NULL, &e_));
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    CHECK_EQ_INT(cs.state, GT_COURT_RESOLVED);
    REFUSED(gt_escrow_do(&C, &ESCROW, &CLIENT, GT_ESCROW_TIMEOUT, id, NULL, NULL, &e_), "not waiting on a phase");
    gt_escrow_job j;
    OK(gt_escrow_get(&C, &ESCROW, id, &j, &e_));
    CHECK_EQ_INT(j.status, GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    SEED_UP(); /* its link, revealed now, holds nothing up: the round is closed */
    OK(gt_court_do(&C, &COURT, &J[0], GT_COURT_STAKE, TOKEN_UNIT, NULL, &e_));
}

/* The seed: keccak(link ‖ court ‖ jobId) from the PanelDrawn log of a draw of job id on court. */
static void drawn_seed(const gt_addr *court, uint64_t id, uint8_t seed[32]) {
    gt_abi_val args[] = {gt_abi_uint(id)};
    gt_chain_receipt r = {0};
    gt_err err;
    CHECK_MSG(gt_chain_invoke(&C, court, &CLIENT, "draw(uint256)", args, 1, &r, NULL, &err) == 0, "draw: %s",
              err.msg);
    int found = 0;
    for (size_t i = 0; i < r.n_logs; i++)
        if (r.logs[i].n_topics == 2 && r.logs[i].data_len >= 32) memcpy(seed, r.logs[i].data, 32), found++;
    CHECK_EQ_INT(found, 1);
    gt_chain_receipt_free(&r);
}

/* keccak(link `index` of the deployer's chain for court, `links` per segment ‖ court ‖ jobId). */
static void seed_at(const gt_addr *court, uint64_t links, uint64_t index, uint64_t id, uint8_t seed[32]) {
    uint8_t pre[32 + 20 + 32] = {0}, secret[32];
    gt_court_seed_secret(&DEPLOYER.key, court, C.chain_id, secret);
    gt_court_seed_link(secret, links, index, pre);
    memcpy(pre + 32, court->b, 20);
    for (int i = 0; i < 8; i++) pre[83 - i] = (uint8_t)(id >> (8 * i));
    gt_keccak256(pre, sizeof pre, seed);
}

/* The seed chain in segments (here of 4 links): draws go on across a segment's end, the next anchor committed in
 * advance (bind commits the second segment's, the keeper each later one as a segment starts); a draw whose link is
 * in the previous segment walks back across the boundary to the right link. Then the attack of a deployer that
 * would choose an anchor after cases wait on it: a second anchor is refused, and so is one committed while fewer
 * than two links of the segment are unrevealed; a segment spent with no anchor stops the reveals (fail closed). */
static void test_seed_segments(void) {
    const uint64_t L = 4;
    gt_court_windows w = WINDOWS;
    w.seed_links = L;
    gt_addr court, escrow;
    uint64_t gas = 0, count = 0, need = 0, revealed = 0;
    OK(gt_court_deploy(&C, &DEPLOYER, CONTRACTS, &TOKEN, &w, &court, &escrow, &gas, &e_));
    gt_chain_account *parties[] = {&CLIENT, &WORKER, &VERIFIER};
    for (int i = 0; i < 3; i++) fund(parties[i], 10 * TOKEN_UNIT, &escrow);
    steps g = {0};
    uint64_t ids[4];
    uint8_t got[32], want[32];
    /* a at link 2, b at link 4 (segment 0's last); c opened at count 4 waits for link 6 (segment 1) */
    ids[0] = open_dispute(&escrow, &court, 10, 1000, &g);
    OK(gt_court_seed_reveal(&C, &court, &DEPLOYER, &revealed, NULL, &e_));
    ids[1] = open_dispute(&escrow, &court, 10, 1000, &g);
    OK(gt_court_seed_reveal(&C, &court, &DEPLOYER, &revealed, NULL, &e_));
    OK(gt_court_seed_state(&C, &court, &count, &need, &e_));
    CHECK_EQ_U64(count, 4);
    ids[2] = open_dispute(&escrow, &court, 10, 1000, &g);
    gas = 0;
    OK(gt_court_seed_reveal(&C, &court, &DEPLOYER, &revealed, &gas, &e_)); /* 5 opens segment 1 (A_1 from bind) */
    printf("gas of links 5 and 6 across a seed segment's end, with the next anchor's commitment: %llu\n",
           (unsigned long long)gas);
    OK(gt_court_seed_state(&C, &court, &count, &need, &e_));
    CHECK_EQ_U64(count, 6);
    CHECK_EQ_U64(view_u64(&court, "seedBase()", NULL, 0, 0), 4);
    uint64_t link_of[3];
    for (int i = 0; i < 3; i++) {
        gt_court_case cs;
        OK(gt_court_get(&C, &court, ids[i], &cs, &e_));
        link_of[i] = cs.draw_link;
    }
    CHECK_EQ_U64(link_of[1], 4);
    CHECK_EQ_U64(link_of[2], 6);
    for (int i = 2; i >= 0; i--) { /* b's link 4 walked back from 6 across the boundary; a's from 6 to 2 */
        drawn_seed(&court, ids[i], got);
        seed_at(&court, L, link_of[i], ids[i], want);
        CHECK(!memcmp(got, want, 32));
    }
    /* The keeper committed A_2 after link 5: a second one is refused. */
    uint8_t secret[32], anchor[32];
    gt_court_seed_secret(&DEPLOYER.key, &court, C.chain_id, secret);
    gt_court_seed_anchor(secret, L, 2, anchor);
    gt_abi_val a[] = {gt_abi_bytes32(anchor)};
    gt_chain_receipt r = {0};
    gt_err err;
    CHECK_EQ_INT(gt_chain_invoke(&C, &court, &DEPLOYER, "commitSeedAnchor(bytes32)", a, 1, &r, NULL, &err),
                 GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "once per segment");
    /* Segment 1 ends at link 8. Revealed by hand: 7, 8, then 9 (segment 2's first, hashing to A_2), 10 and 11,
     * nobody committing A_3 while it was in time (count 9 or 10: two of segment 2's links unrevealed). */
    for (uint64_t i = 7; i <= 11; i++) {
        uint8_t link[32];
        gt_court_seed_link(secret, L, i, link);
        gt_abi_val l[] = {gt_abi_bytes32(link)};
        OK(gt_chain_invoke(&C, &court, &DEPLOYER, "revealSeed(bytes32)", l, 1, &r, NULL, &e_));
        gt_chain_receipt_free(&r);
    }
    gt_court_seed_anchor(secret, L, 3, anchor);
    gt_abi_val a3[] = {gt_abi_bytes32(anchor)};
    CHECK_EQ_INT(gt_chain_invoke(&C, &court, &CLIENT, "commitSeedAnchor(bytes32)", a3, 1, &r, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "only the deployer");
    CHECK_EQ_INT(gt_chain_invoke(&C, &court, &DEPLOYER, "commitSeedAnchor(bytes32)", a3, 1, &r, NULL, &err),
                 GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "too late");
    uint8_t link[32];
    gt_court_seed_link(secret, L, 12, link);
    gt_abi_val l12[] = {gt_abi_bytes32(link)};
    OK(gt_chain_invoke(&C, &court, &DEPLOYER, "revealSeed(bytes32)", l12, 1, &r, NULL, &e_));
    gt_chain_receipt_free(&r);
    gt_court_seed_link(secret, L, 13, link);
    gt_abi_val l13[] = {gt_abi_bytes32(link)};
    CHECK_EQ_INT(gt_chain_invoke(&C, &court, &DEPLOYER, "revealSeed(bytes32)", l13, 1, &r, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "must be seedNext");
    memset(secret, 0, sizeof secret);
}

/* The panel's seed: keccak(link drawLink of the deployer's seed chain ‖ court ‖ jobId), as the contract makes it. */
static void seed_of(uint64_t draw_link, uint64_t id, uint8_t seed[32]) {
    uint8_t pre[32 + 20 + 32] = {0}, secret[32];
    gt_court_seed_secret(&DEPLOYER.key, &COURT, C.chain_id, secret);
    gt_court_seed_link(secret, GT_COURT_SEED_LINKS, draw_link, pre);
    memcpy(pre + 32, COURT.b, 20);
    for (int i = 0; i < 8; i++) pre[83 - i] = (uint8_t)(id >> (8 * i));
    gt_keccak256(pre, sizeof pre, seed);
}

/* More eligible validators than seats: the contract draws 63 seats by stake.
 * Each validator's weight on chain must be what the embedded ledger's draw
 * gives for the same seed and the same stakes in the same order. */
static void test_drawn_panel_matches_the_ledger(void) {
    static gt_chain_account crowd[N_CROWD];
    for (int i = 0; i < N_CROWD; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "validator %d", i);
        CHECK_EQ_INT(anvil_account(&C, seed, &crowd[i]), 0);
        fund(&crowd[i], 100 * TOKEN_UNIT, &COURT);
        OK(gt_court_do(&C, &COURT, &crowd[i], GT_COURT_STAKE, TOKEN_UNIT * (1 + (uint64_t)(i % 7)), NULL, &e_));
    }
    steps g = {0};
    uint64_t id = disputed_job(10, 3000, &g), n_val = view_u64(&COURT, "validatorCount()", NULL, 0, 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_DRAW, id, &g.draw, &e_));
    gt_court_case cs;
    OK(gt_court_get(&C, &COURT, id, &cs, &e_));
    uint8_t seed[32];
    seed_of(cs.draw_link, id, seed);
    gt_addr who[160];
    uint64_t stakes[160], total = 0;
    uint32_t seats[160];
    size_t n = 0;
    CHECK(n_val <= 160);
    for (uint64_t i = 0; i < n_val && i < 160; i++) {
        gt_abi_val a[] = {gt_abi_uint(i)};
        gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
        CHECK_EQ_INT(gt_abi_calldata("validators(uint256)", a, 1, &d, NULL), 0);
        CHECK_EQ_INT(gt_chain_call(&C, NULL, &COURT, d.data, d.len, &out, NULL), 0);
        CHECK_EQ_INT(gt_abi_get_address(out.data, out.len, 0, &who[n], NULL), 0);
        gt_buf_free(&d);
        gt_buf_free(&out);
        uint64_t s = validator(&who[n], 0);
        if (gt_addr_eq(&who[n], &CLIENT.addr) || gt_addr_eq(&who[n], &WORKER.addr) ||
            gt_addr_eq(&who[n], &VERIFIER.addr) || s < TOKEN_UNIT)
            continue;
        stakes[n++] = s;
        total += s;
    }
    CHECK(n > GT_COURT_PANEL_SEATS);
    mk_panel_draw_seats(seed, stakes, n, seats);
    uint64_t members = 0, panel = 0, seated = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = 0, want = (uint64_t)((unsigned __int128)total * seats[i] / GT_COURT_PANEL_SEATS);
        gt_court_vote v;
        OK(gt_court_seat(&C, &COURT, id, &who[i], &w, &v, &e_));
        CHECK_EQ_U64(w, want);
        members += seats[i] > 0;
        seated += seats[i];
        panel += want;
    }
    CHECK_EQ_U64(seated, GT_COURT_PANEL_SEATS);
    CHECK_EQ_U64(cs.members, members);
    CHECK_EQ_U64(cs.total, panel);
    printf("draw of %d seats among %zu eligible validators: %llu members, gas %llu\n", GT_COURT_PANEL_SEATS, n,
           (unsigned long long)members, (unsigned long long)g.draw);
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.commit_s + WINDOWS.reveal_s), 0);
    OK(gt_court_do(&C, &COURT, &CLIENT, GT_COURT_RESOLVE, id, NULL, &e_));
    for (int i = 0; i < N_CROWD; i++) gt_chain_account_wipe(&crowd[i]);
}

int main(void) {
    anvil_require(1);
    if (access(CONTRACTS "DisputeCourt.bin", R_OK)) {
        fprintf(stderr, "SKIP: %sDisputeCourt.bin missing: build the contracts\n", CONTRACTS);
        return 77;
    }
    if (anvil_start(&C)) return 1;
    const char *seeds[] = {"deployer", "client", "worker", "verifier", "judge 0", "judge 1", "judge 2"};
    gt_chain_account *acct[] = {&DEPLOYER, &CLIENT, &WORKER, &VERIFIER, &J[0], &J[1], &J[2]};
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    gt_err err;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    CHECK_MSG(gt_court_deploy(&C, &DEPLOYER, CONTRACTS, &TOKEN, &WINDOWS, &COURT, &ESCROW, &gas, &err) == 0, "%s",
              err.msg);
    printf("gas to deploy DisputeCourt + JobEscrow and bind them: %llu\n", (unsigned long long)gas);
    for (int i = 1; i <= 3; i++) fund(acct[i], 1000 * TOKEN_UNIT, &ESCROW);
    uint8_t max[32];
    memset(max, 0xff, 32);
    const uint64_t judge_stake[N_JUDGES] = {5 * TOKEN_UNIT, 3 * TOKEN_UNIT, 2 * TOKEN_UNIT};
    for (int i = 0; i < N_JUDGES; i++) {
        fund(&J[i], 100 * TOKEN_UNIT, &COURT);
        OK(gt_court_do(&C, &COURT, &J[i], GT_COURT_STAKE, judge_stake[i], NULL, &e_));
    }
    for (int i = 1; i <= 3; i += 2) { /* the client and the evaluator are validators too */
        CHECK_EQ_INT(token_tx(acct[i], "approve(address,uint256)", &COURT, 0, max), 0);
        OK(gt_court_do(&C, &COURT, acct[i], GT_COURT_STAKE, 10 * TOKEN_UNIT, NULL, &e_));
    }
    RUN(test_wrongful_rejection);
    RUN(test_bad_worker_disputes);
    RUN(test_copier_and_silent_judge);
    RUN(test_open_votes);
    RUN(test_parties_not_on_panel);
    RUN(test_past_worker_not_on_panel);
    RUN(test_undisputed_rejection);
    RUN(test_timed_rejection_reopens);
    RUN(test_timed_fee_rejection_reopens);
    RUN(test_evaluator_fee);
    RUN(test_fee_forfeited);
    RUN(test_slot_fee);
    RUN(test_units_partial_settle);
    RUN(test_units_disputed);
    RUN(test_quorum_lifecycle);
    RUN(test_quorum_sealed_copy);
    RUN(test_quorum_sealed_early_and_timeout);
    RUN(test_no_stake_moves_on_a_known_seed);
    RUN(test_late_stake_no_weight);
    RUN(test_late_stake_quorum_round);
    RUN(test_undrawn_dispute_deadline);
    RUN(test_undrawn_quorum_round);
    RUN(test_seed_segments);
    RUN(test_drawn_panel_matches_the_ledger);
    RUN(test_quorum_slots);
    for (int i = 0; i < 7; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
