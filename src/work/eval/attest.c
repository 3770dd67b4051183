/* attest.c: evaluation as market work: signed attestations of benchmark runs
 * and their co-signatures by validators who re-execute items.
 *
 * Flow. Someone who wants a model evaluated posts a market task of kind
 * `eval` (GT_WORK_KIND_EVAL) whose spec blob names the model and the
 * benchmark (eval/check.h). An evaluator agent claims a slot (staking the
 * task's stake), runs the benchmark, uploads the per-item results file (the
 * same bytes on every run, eval.h) and sends eval_attest: model, bench,
 * bench hash, results Merkle root, score in parts per million, item count,
 * and the results blob's sha256, which the same action submits as the slot's
 * result. Validators download the results, check the root and the score
 * against the lines, re-execute a random subset of items and send
 * eval_cosign (agree = every re-executed line matched byte for byte). The
 * co-sign of whoever verifies the slot is its verdict: agree accepts
 * (the evaluator is paid), disagree rejects with the evidence blob as the
 * reason; the attester may dispute a rejection, and while the dispute is
 * open every validator's co-sign is its dispute vote (dispute.c: votes weigh
 * stake; the losing side's bond pays the winning voters).
 *
 *   eval_attest  task, slot, model, bench, benchHash, resultsRoot, scorePpm, items, results
 *   eval_cosign  attestation, itemsChecked, agree, evidence
 *   eval_reveal  attestation, itemsChecked, agree, evidence, voteSalt   (format 11)
 *
 * Rules and what they answer:
 *  - An attestation is a submission to a claimed slot of an eval task (the
 *    market's submit rule runs on the same action): every attested score is
 *    backed by the attester's stake, which a forged one loses, and nobody
 *    can publish a free-floating score to the leaderboard.
 *  - An attestation answers its task's spec, and only a registered
 *    benchmark: bench and benchHash must be a row of the registry of
 *    built-ins (bench.h), items at most its item count, and model, bench,
 *    benchHash and items must be those of the eval task's spec (whose
 *    sha256 is the task's spec: the rule rebuilds the canonical spec JSON,
 *    check.h, for the spec's `limit` (items, or 0 for all) and each `check`
 *    1..GT_WORK_EVAL_MAX_CHECK it may have). Without this a perfect score
 *    for a model nobody ran could be attested on any eval task. A drawn
 *    (held-out) built-in's row is its spec's hash, the same for every
 *    draw: the rule does not know which block's seed drew the items; the
 *    judges re-executing them do (each draws from the block the task's
 *    posted height and the spec's delay name, agent/skill_eval.c), and a
 *    line of any other draw names another doc_hash.
 *  - From format 10 (format10_height), the spec's check must be at least
 *    min(items, GT_WORK_EVAL_CHECK_FLOOR) (attest_floor): under it a run
 *    with a fifth of its lines made up passed a quorum of 2 nine times in
 *    ten, and the judge who caught it, outvoted, lost its bond. Refused
 *    at the attestation, before any judge stakes on it: such a task's
 *    claimant cannot submit, so honest agents do not claim it
 *    (agent/skill_eval.c), and `gotong task post` does not post it.
 *  - The attestation names the exact results bytes (results) and their
 *    Merkle root: validators re-execute against those bytes, the root lets
 *    a dispute point at single items, and the score is recomputable from
 *    the lines, so a score inflated over honest lines is caught without any
 *    re-execution.
 *  - scorePpm is an integer (0..1 000 000): ledger rules use no floats.
 *    items is 1..GT_WORK_ATTEST_MAX_ITEMS; every hash non-zero; the bench
 *    name 1..64 bytes of [A-Za-z0-9._:-].
 *  - Validators choose which items to re-execute after the results are
 *    committed, so an attester who made up k of n items is caught by m
 *    random re-executions with probability 1 - C(n-k, m) / C(n, m).
 *  - The attester cannot co-sign its own attestation; each address co-signs
 *    an attestation once; itemsChecked is 1..items; disagreeing needs the
 *    evidence blob (the validator's re-executed lines) so anyone can compare
 *    the two lines of the item in question.
 *  - Only co-signs that are votes of a drawn, bonded panel back a score
 *    (leaderboard.c): on a quorum task every co-sign of the current result
 *    by a non-party is its verify vote, and while a rejection is disputed
 *    every co-sign is a dispute vote; the market's rules then require a seat
 *    on the panel (drawn by stake, one seat per address, parties left out),
 *    bond GT_MARKET_JUDGE_SLASH_PCT percent of the seat's weight for as long
 *    as the judgement is open, and slash that bond when the co-sign is on the
 *    losing side of the panel's decision (panel.c). An evaluator's verdict
 *    and plain co-signs are recorded and shown, but back nothing.
 *  - A co-sign that is neither a verdict nor a dispute vote needs at least
 *    GT_MARKET_VALIDATOR_MIN_STAKE staked, so a swarm of empty addresses
 *    cannot fill an attestation's co-sign list.
 *    Verdicts and votes follow the market's own rules (the poster of a
 *    poster-verified task needs no stake, quorum voters need the task's
 *    stake, parties to a dispute cannot vote).
 *  - A poster's own co-sign is never the verdict (a sybil poster would
 *    accept its own sybil's score for one base unit): on a poster-verified
 *    eval task the poster co-signs like anyone else (staked, counted by the
 *    leaderboard as the poster's), and the slot needs the market's verdict.
 *  - A co-sign carries a verdict only when its attestation is the slot's
 *    current submission (same attempt, same result): a co-sign of an old,
 *    rejected attempt can never settle a new one.
 *  - From format 11 (format11_height) a panel's votes are sealed-only
 *    (market/commit.c): a co-sign that would be one (a quorum task's verify
 *    vote, a dispute vote) is refused in the clear, before any commitment
 *    as after. A seated validator commits with vote_commit (the market's
 *    commitment, over accept = agree) and, once the commit window is over
 *    or every member acted, sends eval_reveal: the co-sign's fields and the
 *    salt. It is checked and recorded as eval_cosign is, with the role the
 *    co-sign would have had, and then the market's vote_reveal opens the
 *    sender's commitment and counts the vote. It defends against a lazy
 *    seated validator that waits for a diligent one's eval_cosign and
 *    copies it (as format 10 allowed): until the reveals nothing public says
 *    how anyone voted, a copied commitment cannot be opened by the copier
 *    (the voter is in its preimage), and an unrevealed one loses its bond
 *    when the round decides. A new kind, not a salt in eval_cosign: its
 *    fields are in its signed type (old co-signs must still verify), and a
 *    commitment with no salt over one bit (agree) would be guessed.
 *    itemsChecked and evidence are not committed: they are published with
 *    the reveal, when every vote is already fixed. Where the validator's
 *    co-sign is on the ledger already (it co-signed before the dispute,
 *    which format 12 refuses) it reveals with a plain vote_reveal. The
 *    evaluator's verdict and the co-signs that are no vote are as before.
 *  - From format 12 (format12_height) a co-sign in the clear of the slot's
 *    current attestation that is no verdict is refused while the slot can
 *    still come before a panel (cosign_held): while it is submitted (a
 *    quorum's panel judges it now; an evaluator's or poster's verdict may
 *    reject it, and the worker dispute that), and while it is rejected
 *    before its dispute window closes (the dispute rule's own condition:
 *    not a quorum task's rejection, the deadline not passed). Format 11
 *    took it as a plain co-sign that backs nothing, but it was public: a
 *    lazy validator drawn onto the dispute's panel later copied its agree
 *    into its own sealed vote without re-executing anything. Nothing is
 *    lost by waiting: a plain co-sign backs no score, and raises no dispute
 *    (only the worker disputes a rejection, dispute.c); a validator who
 *    finds a forged score keeps what it found, votes it sealed if drawn
 *    (vote_commit, then eval_reveal), and may co-sign in the clear once
 *    the slot is accepted, settled or past its dispute window.
 * The market's rule is always the last step that can fail in these rules,
 * since it feeds the block's state commitment as soon as it succeeds. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "ledger/row.h"
#include "market/market.h"
#include "work/eval/bench.h"
#include "work/eval/check.h"
#include "work/work.h"
#include "work/work_impl.h"

static const gt_field_def attest_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"model", GT_F_BYTES32, 0},
    {"bench", GT_F_STRING, GT_WORK_BENCH_NAME_MAX},
    {"benchHash", GT_F_BYTES32, 0},
    {"resultsRoot", GT_F_BYTES32, 0},
    {"scorePpm", GT_F_U64, 0},
    {"items", GT_F_U64, 0},
    {"results", GT_F_BYTES32, 0},
};
enum { EA_TASK, EA_SLOT, EA_MODEL, EA_BENCH, EA_BENCH_HASH, EA_ROOT, EA_SCORE, EA_ITEMS, EA_RESULTS };

static const gt_field_def cosign_fields[] = {
    {"attestation", GT_F_BYTES32, 0},
    {"itemsChecked", GT_F_U64, 0},
    {"agree", GT_F_BOOL, 0},
    {"evidence", GT_F_BYTES32, 0},
};
/* eval_reveal: a co-sign's fields, then the salt of the sealed vote it opens. */
static const gt_field_def reveal_fields[] = {
    {"attestation", GT_F_BYTES32, 0},
    {"itemsChecked", GT_F_U64, 0},
    {"agree", GT_F_BOOL, 0},
    {"evidence", GT_F_BYTES32, 0},
    {"voteSalt", GT_F_BYTES32, 0},
};
enum { EC_ATT, EC_CHECKED, EC_AGREE, EC_EVIDENCE, EC_SALT };

enum { ROLE_COSIGN = 0, ROLE_VERDICT = 1, ROLE_VOTE = 2 };

/* A bench name: 1..GT_WORK_BENCH_NAME_MAX bytes of [A-Za-z0-9._:-]. */
static int bench_name_check(const char *s, size_t len, gt_err *err) {
    if (len < 1 || len > GT_WORK_BENCH_NAME_MAX)
        return gt_err_set(err, GT_EINVAL, "bench: expected a name of 1 to %d bytes", GT_WORK_BENCH_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '_' || ch == ':' || ch == '-';
        if (!ok) return gt_err_set(err, GT_EINVAL, "bench \"%.64s\": only letters, digits and . _ : - are allowed", s);
    }
    return 0;
}

/* Hashes the canonical spec text t (made with check 1) with each check
 * 1..GT_WORK_EVAL_MAX_CHECK in its place; the first whose sha256 is spec, or
 * 0. The text is made once and only the check's digits change, so a search
 * is at most GT_WORK_EVAL_MAX_CHECK hashes of a few hundred bytes: 1.5 ms
 * to find check 1000, where making each text anew took 9 ms (Release, one
 * core of a loaded machine). */
static uint64_t check_search(const char *t, const uint8_t spec[32]) {
    static const char key[] = "\"check\":1";
    const char *at = strstr(t, key);
    size_t len = strlen(t);
    if (!at || len > GT_WORK_EVAL_SPEC_MAX_BYTES) return 0; /* not the shape check.c makes: no match */
    size_t pre = (size_t)(at - t) + sizeof key - 2, post_len = len - pre - 1;
    const char *post = at + sizeof key - 1;
    char buf[GT_WORK_EVAL_SPEC_MAX_BYTES + 24];
    memcpy(buf, t, pre);
    for (uint64_t check = 1; check <= GT_WORK_EVAL_MAX_CHECK; check++) {
        int n = snprintf(buf + pre, 24, "%llu", (unsigned long long)check);
        memcpy(buf + pre + (size_t)n, post, post_len);
        uint8_t h[32];
        gt_sha256(buf, pre + (size_t)n + post_len, h);
        if (!memcmp(h, spec, 32)) return check;
    }
    return 0;
}

uint64_t wk_eval_spec_check(const uint8_t model[32], const char *bench, const uint8_t bench_hash[32], uint64_t items,
                            const gt_bench_ref *reg, const uint8_t spec[32]) {
    gt_work_eval_spec s;
    memset(&s, 0, sizeof s);
    memcpy(s.model, model, 32);
    snprintf(s.bench, sizeof s.bench, "%s", bench);
    memcpy(s.bench_hash, bench_hash, 32);
    s.check = 1;
    uint64_t limits[2] = {items, 0}, found = 0; /* 0: every item, which is `items` only when it is all of them */
    for (int l = 0; !found && l < (items == reg->items ? 2 : 1); l++) {
        s.limit = limits[l];
        char *t = gt_work_eval_spec_json(&s);
        if (!t) return 0;
        found = check_search(t, spec);
        free(t);
    }
    return found;
}

/* Format 10's rule: an attestation under a spec whose check (the items each
 * judge re-executes) is below min(items, GT_WORK_EVAL_CHECK_FLOOR) is
 * refused, from format10_height (older blocks replay as they were decided).
 * A made-up run of 10 lines in 50 survived a quorum of 2 with probability
 * 0.90 at check 1, and an honest judge who caught it but was outvoted lost
 * its bond; at 16, 0.0005. The leaderboard already ranked no such score. */
static int attest_floor(const gt_tx *tx, const gt_action *a, uint64_t check, gt_err *err) {
    uint64_t items = a->f[EA_ITEMS].u64, floor_n = gt_work_eval_check_floor(items);
    if (tx->height < tx->format10_height || check >= floor_n) return 0;
    char h[19];
    return gt_err_set(err, GT_EINVAL,
                      "task %s…'s spec has each judge re-execute check %llu of its %llu items, below the floor "
                      "min(items,%d)=%llu: a made-up run would pass its judges too often to be attested",
                      wk_short(a->f[EA_TASK].b32, h), (unsigned long long)check, (unsigned long long)items,
                      GT_WORK_EVAL_CHECK_FLOOR, (unsigned long long)floor_n);
}

/* The attestation against the registry and its task's spec (and, from
 * format 10, the spec's check floor). */
static int attest_bound(const gt_tx *tx, const gt_action *a, const gt_market_slot_ref *ref, gt_err *err) {
    const char *bench = gt_action_str(a, EA_BENCH);
    const gt_bench_ref *reg = gt_bench_registry_find(bench);
    char h[19];
    if (!reg)
        return gt_err_set(err, GT_EINVAL, "bench \"%.64s\" is not a registered benchmark (arith-v1, units-v1, sort-v1, "
                          "logic-v1, strings-v1, worker-arith-v1, worker-logic-v1, worker-sort-v1, held-arith-v1, "
                          "held-logic-v1, held-sort-v1)",
                          bench);
    if (!gt_bench_registry_hash_is(reg, a->f[EA_BENCH_HASH].b32))
        return gt_err_set(err, GT_EINVAL, "benchHash is not the registered hash of %s (sha256:%s)", reg->name, reg->hash_hex);
    if (a->f[EA_ITEMS].u64 > reg->items)
        return gt_err_set(err, GT_EINVAL, "items: %s has %llu items, got %llu", reg->name, (unsigned long long)reg->items,
                          (unsigned long long)a->f[EA_ITEMS].u64);
    uint64_t check = wk_eval_spec_check(a->f[EA_MODEL].b32, bench, a->f[EA_BENCH_HASH].b32, a->f[EA_ITEMS].u64, reg,
                                        ref->spec);
    if (!check)
        return gt_err_set(err, GT_EINVAL, "model, bench, benchHash and items are not those of task %s…'s spec",
                          wk_short(a->f[EA_TASK].b32, h));
    return attest_floor(tx, a, check, err);
}

/* eval_attest: checks the fields and the task's kind, records the
 * attestation, then submits its results to the slot (the market's rule). */
static int attest_rule(wk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const char *bench = gt_action_str(a, EA_BENCH);
    int rc = bench_name_check(bench, a->f[EA_BENCH].str_len, err);
    if (rc) return rc;
    static const struct { int f; const char *name; } hashes[] = {
        {EA_TASK, "task"}, {EA_MODEL, "model"}, {EA_BENCH_HASH, "benchHash"}, {EA_ROOT, "resultsRoot"}, {EA_RESULTS, "results"}};
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
        if (wk_is_zero32(a->f[hashes[i].f].b32)) return gt_err_set(err, GT_EINVAL, "%s: expected a hash, got zero", hashes[i].name);
    uint64_t score = a->f[EA_SCORE].u64, items = a->f[EA_ITEMS].u64;
    if (score > GT_WORK_SCORE_PPM_MAX)
        return gt_err_set(err, GT_EINVAL, "scorePpm must be 0 to %llu (parts per million), got %llu",
                          (unsigned long long)GT_WORK_SCORE_PPM_MAX, (unsigned long long)score);
    if (items < 1 || items > GT_WORK_ATTEST_MAX_ITEMS)
        return gt_err_set(err, GT_EINVAL, "items must be 1 to %d, got %llu", GT_WORK_ATTEST_MAX_ITEMS, (unsigned long long)items);
    gt_market_slot_ref ref;
    if ((rc = gt_market_slot_ref_get(tx->db, a->f[EA_TASK].b32, a->f[EA_SLOT].u64, &ref, err))) return rc;
    char h[19];
    if (strcmp(ref.kind, GT_WORK_KIND_EVAL))
        return gt_err_set(err, GT_EINVAL, "task %s… is a \"%s\" task; attestations answer \"%s\" tasks",
                          wk_short(a->f[EA_TASK].b32, h), ref.kind, GT_WORK_KIND_EVAL);
    /* The binding costs up to 2 x GT_WORK_EVAL_MAX_CHECK hashes: only for the
     * slot's claimant (whose stake is locked); anyone else is refused by the
     * market's submit rule below, with its own message. */
    if (ref.state == GT_SLOT_CLAIMED && gt_addr_eq(&a->from, &ref.worker) && (rc = attest_bound(tx, a, &ref, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = wk_prepare(tx->db, "INSERT INTO wk_attestations VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,0)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, a->f[EA_TASK].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)a->f[EA_SLOT].u64);
    sqlite3_bind_int64(q, 5, (int64_t)ref.attempt);
    sqlite3_bind_blob(q, 6, a->f[EA_MODEL].b32, 32, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, bench, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 8, a->f[EA_BENCH_HASH].b32, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 9, a->f[EA_ROOT].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, (int64_t)score);
    sqlite3_bind_int64(q, 11, (int64_t)items);
    sqlite3_bind_blob(q, 12, a->f[EA_RESULTS].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 13, (int64_t)tx->height);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing attestation: %s", sqlite3_errmsg(tx->db));
    if (gt_buf_putc(&c->diff, WK_REC_ATTEST) || wk_rec_bytes(c, a->id, 32) || wk_rec_bytes(c, a->from.b, 20) ||
        wk_rec_bytes(c, a->f[EA_TASK].b32, 32) || wk_rec_u64(c, a->f[EA_SLOT].u64) || wk_rec_u64(c, ref.attempt) ||
        wk_rec_bytes(c, a->f[EA_MODEL].b32, 32) || wk_rec_text(c, bench) || wk_rec_bytes(c, a->f[EA_BENCH_HASH].b32, 32) ||
        wk_rec_bytes(c, a->f[EA_ROOT].b32, 32) || wk_rec_u64(c, score) || wk_rec_u64(c, items) ||
        wk_rec_bytes(c, a->f[EA_RESULTS].b32, 32) || wk_rec_u64(c, tx->height))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    /* The same action submits the results as the slot's result: the
     * market checks the claimant, the slot's state and the deadline. */
    gt_action sub;
    gt_action_init(&sub, &gt_kind_task_submit, &tx->domain, &a->from, 0);
    gt_action_set_b32(&sub, "task", a->f[EA_TASK].b32);
    gt_action_set_u64(&sub, "slot", a->f[EA_SLOT].u64);
    gt_action_set_b32(&sub, "result", a->f[EA_RESULTS].b32);
    return wk_apply_market(tx, &sub, err);
}

/* The kind's apply: runs the rule, keeps its commitment bytes only on success. */
static int apply_attest(gt_tx *tx, const gt_action *a, gt_err *err) {
    wk_ctx c = {tx, GT_BUF_INIT};
    return wk_finish(&c, attest_rule(&c, a, err));
}

/* The attestation row's fields a co-sign needs. */
typedef struct att_row {
    gt_addr attester;
    uint8_t task[32], results[32];
    uint64_t slot, attempt, items, score_ppm, agreed, disagreed, checked;
} att_row;

/* Loads attestation `id`: 0, GT_ENOTFOUND naming it, or GT_EDB. */
static int att_load(gt_tx *tx, const uint8_t id[32], att_row *r, gt_err *err) {
    sqlite3_stmt *q;
    int rc = wk_prepare(tx->db,
                        "SELECT attester,task,slot,attempt,items,score_ppm,results,agreed,disagreed,checked "
                        "FROM wk_attestations WHERE id=?",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(q);
    memset(r, 0, sizeof *r);
    if (rc == SQLITE_ROW) { /* strictly: a damaged column is GT_EDB naming it, not a zero */
        static const char *const t = "wk_attestations";
        rc = gt_row_blob(q, 0, r->attester.b, 20, t, err);
        if (!rc) rc = gt_row_blob(q, 1, r->task, 32, t, err);
        if (!rc) rc = gt_row_amount(q, 2, &r->slot, t, err);
        if (!rc) rc = gt_row_amount(q, 3, &r->attempt, t, err);
        if (!rc) rc = gt_row_amount(q, 4, &r->items, t, err);
        if (!rc) rc = gt_row_amount(q, 5, &r->score_ppm, t, err);
        if (!rc) rc = gt_row_blob(q, 6, r->results, 32, t, err);
        if (!rc) rc = gt_row_amount(q, 7, &r->agreed, t, err);
        if (!rc) rc = gt_row_amount(q, 8, &r->disagreed, t, err);
        if (!rc) rc = gt_row_amount(q, 9, &r->checked, t, err);
    } else if (rc == SQLITE_DONE) {
        char h[19];
        rc = gt_err_set(err, GT_ENOTFOUND, "no attestation %s… on this ledger", wk_short(id, h));
    } else {
        rc = gt_err_set(err, GT_EDB, "reading attestation: %s", sqlite3_errmsg(tx->db));
    }
    sqlite3_finalize(q);
    return rc;
}

/* What a co-sign by `from` also is, given the slot of its attestation. */
static int cosign_role(const gt_market_slot_ref *ref, const att_row *r, const gt_addr *from) {
    int current = ref->attempt == r->attempt && !memcmp(ref->result, r->results, 32);
    if (!current) return ROLE_COSIGN;
    if (ref->state == GT_SLOT_SUBMITTED) {
        if (ref->policy == GT_POLICY_EVALUATOR && gt_addr_eq(from, &ref->verifier)) return ROLE_VERDICT;
        if (ref->policy == GT_POLICY_QUORUM && !gt_addr_eq(from, &ref->poster) && !gt_addr_eq(from, &ref->worker))
            return ROLE_VERDICT;
    }
    if (ref->state == GT_SLOT_DISPUTED) return ROLE_VOTE;
    return ROLE_COSIGN;
}

/* A co-sign's own refusals (eval_cosign and eval_reveal alike) against its
 * attestation r: not the attester's, itemsChecked 1..items, evidence when
 * disagreeing, and the first co-sign of this address on it. */
static int cosign_check(gt_tx *tx, const gt_action *a, const att_row *r, gt_err *err) {
    const uint8_t *att_id = a->f[EC_ATT].b32;
    char h[19], s[43];
    if (gt_addr_eq(&a->from, &r->attester)) return gt_err_set(err, GT_EPERM, "an attester cannot co-sign its own attestation");
    uint64_t checked = a->f[EC_CHECKED].u64;
    if (checked < 1 || checked > r->items)
        return gt_err_set(err, GT_EINVAL, "itemsChecked must be 1 to %llu (the attestation's items), got %llu",
                          (unsigned long long)r->items, (unsigned long long)checked);
    if (!a->f[EC_AGREE].u64 && wk_is_zero32(a->f[EC_EVIDENCE].b32))
        return gt_err_set(err, GT_EINVAL, "evidence: disagreeing needs the sha256 of a blob with the re-executed lines");
    sqlite3_stmt *q;
    int rc = wk_prepare(tx->db, "SELECT 1 FROM wk_cosigns WHERE attestation=? AND cosigner=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, att_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    int dup = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (dup)
        return gt_err_set(err, GT_EEXIST, "%s already co-signed attestation %s…%s", (gt_addr_to_str(&a->from, s), s),
                          wk_short(att_id, h),
                          a->kind == &gt_kind_eval_reveal ? " (its sealed vote opens with vote_reveal)" : "");
    return 0;
}

/* Records the co-sign of a (checked by cosign_check) with its role: its row,
 * the attestation's counters, and their bytes for the block commitment. */
static int cosign_record(wk_ctx *c, const gt_action *a, att_row *r, int role, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *att_id = a->f[EC_ATT].b32;
    uint64_t checked = a->f[EC_CHECKED].u64;
    int agree = (int)a->f[EC_AGREE].u64;
    sqlite3_stmt *q;
    int rc = wk_prepare(tx->db, "INSERT INTO wk_cosigns VALUES(?,?,?,?,?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, att_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)checked);
    sqlite3_bind_int(q, 4, agree);
    sqlite3_bind_blob(q, 5, a->f[EC_EVIDENCE].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)tx->height);
    sqlite3_bind_int(q, 7, role);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing co-sign: %s", sqlite3_errmsg(tx->db));
    /* Counters saturate far beyond any real count: items <= 1e5 per co-sign. */
    if (agree) r->agreed++; else r->disagreed++;
    r->checked += checked;
    if ((rc = wk_prepare(tx->db, "UPDATE wk_attestations SET agreed=?, disagreed=?, checked=? WHERE id=?", &q, err))) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)r->agreed);
    sqlite3_bind_int64(q, 2, (int64_t)r->disagreed);
    sqlite3_bind_int64(q, 3, (int64_t)r->checked);
    sqlite3_bind_blob(q, 4, att_id, 32, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "updating attestation: %s", sqlite3_errmsg(tx->db));
    if (gt_buf_putc(&c->diff, WK_REC_COSIGN) || wk_rec_bytes(c, att_id, 32) || wk_rec_bytes(c, a->from.b, 20) ||
        wk_rec_u64(c, checked) || wk_rec_u64(c, (uint64_t)agree) || wk_rec_bytes(c, a->f[EC_EVIDENCE].b32, 32) ||
        wk_rec_u64(c, tx->height) || wk_rec_u64(c, (uint64_t)role) || gt_buf_putc(&c->diff, WK_REC_ATTEST) ||
        wk_rec_bytes(c, att_id, 32) || wk_rec_u64(c, r->agreed) || wk_rec_u64(c, r->disagreed) || wk_rec_u64(c, r->checked))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Format 12's rule for a co-sign in the clear of r that is no verdict nor
 * vote (ROLE_COSIGN): refused from format12_height while r is its slot's
 * current attestation and the slot can still come before a panel:
 * submitted, or rejected (not by a quorum) before the dispute window
 * closes, as task_dispute decides it. The refusal says when it may be sent
 * instead, and how to vote if drawn. */
static int cosign_held(const gt_tx *tx, const gt_market_slot_ref *ref, const att_row *r, gt_err *err) {
    int current = ref->attempt == r->attempt && !memcmp(ref->result, r->results, 32);
    assert(!current || ref->state != GT_SLOT_DISPUTED); /* a current co-sign of a disputed slot is a vote */
    if (tx->height < tx->format12_height || !current) return 0;
    int past = tx->height >= ref->deadline_height && tx->time_s >= ref->deadline;
    int disputable = ref->state == GT_SLOT_REJECTED && ref->policy != GT_POLICY_QUORUM && !past;
    if (ref->state != GT_SLOT_SUBMITTED && !disputable) return 0;
    char h[19];
    const char *why = ref->state == GT_SLOT_REJECTED ? "it is rejected and its worker may dispute it until block time"
                      : ref->policy == GT_POLICY_QUORUM ? "it is submitted and its panel votes on it until block time"
                                                        : "it is submitted: its verdict, due by block time";
    return gt_err_set(err, GT_ESTATE,
                      "eval_cosign in the clear is refused while slot %llu of task %s… can still be judged by a panel "
                      "(ledger format 12, from block %llu): %s %llu%s; a clear co-sign would show that panel your "
                      "vote. Co-sign once the slot is accepted or past its dispute window; if drawn onto its panel, "
                      "vote sealed (vote_commit, then eval_reveal)",
                      (unsigned long long)r->slot, wk_short(r->task, h), (unsigned long long)tx->format12_height, why,
                      (unsigned long long)ref->deadline,
                      ref->state == GT_SLOT_SUBMITTED && ref->policy != GT_POLICY_QUORUM
                          ? ", may reject it and its worker dispute that" : "");
}

/* eval_cosign: checks the co-signer and fields, records the co-sign and the
 * attestation's counters, then (last) applies the verdict or dispute vote it
 * also is (from format 11, on a panel, refused by the market: sealed-only;
 * from format 12 a plain co-sign waits while a panel may still judge the
 * slot, cosign_held). */
static int cosign_rule(wk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    att_row r;
    char s[43];
    int rc = att_load(tx, a->f[EC_ATT].b32, &r, err);
    if (rc || (rc = cosign_check(tx, a, &r, err))) return rc;
    gt_market_slot_ref ref;
    if ((rc = gt_market_slot_ref_get(tx->db, r.task, r.slot, &ref, err))) return rc;
    int role = cosign_role(&ref, &r, &a->from), agree = (int)a->f[EC_AGREE].u64;
    if (role == ROLE_COSIGN) {
        gt_account acc;
        if ((rc = gt_state_account(tx, &a->from, &acc, err))) return rc;
        if (acc.staked < GT_MARKET_VALIDATOR_MIN_STAKE)
            return gt_err_set(err, GT_EPERM, "only validators with at least %llu base units staked may co-sign; %s has %llu",
                              (unsigned long long)GT_MARKET_VALIDATOR_MIN_STAKE, (gt_addr_to_str(&a->from, s), s),
                              (unsigned long long)acc.staked);
        if ((rc = cosign_held(tx, &ref, &r, err))) return rc;
    }
    if ((rc = cosign_record(c, a, &r, role, err)) || role == ROLE_COSIGN) return rc;
    gt_action m;
    if (role == ROLE_VERDICT) {
        gt_action_init(&m, &gt_kind_task_verify, &tx->domain, &a->from, 0);
        gt_action_set_u64(&m, "accept", (uint64_t)agree);
        gt_action_set_u64(&m, "score", r.score_ppm / (GT_WORK_SCORE_PPM_MAX / GT_MARKET_SCORE_MAX));
        gt_action_set_b32(&m, "reason", a->f[EC_EVIDENCE].b32);
    } else {
        gt_action_init(&m, &gt_kind_dispute_vote, &tx->domain, &a->from, 0);
        gt_action_set_u64(&m, "accept", (uint64_t)agree);
    }
    gt_action_set_b32(&m, "task", r.task);
    gt_action_set_u64(&m, "slot", r.slot);
    gt_action_set_b32(&m, "result", r.results);
    return wk_apply_market(tx, &m, err);
}

/* eval_reveal (format 11): the reveal of a sealed panel vote on an eval
 * task, carrying the co-sign it is. Refused unless the co-sign would be a
 * panel vote (a non-party's on a quorum task's submitted result, or any
 * while it is disputed, of the slot's current attestation); it is recorded
 * as eval_cosign records one, with that role, and then (last) the market's
 * vote_reveal (accept = agree, voteSalt) opens the sender's commitment and
 * counts the vote: that rule refuses a reveal before the commit window
 * closes (unless every member acted), a commitment that is not the
 * sender's, or an agree it was not made over. */
static int reveal_rule(wk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    att_row r;
    char h[19];
    int rc = att_load(tx, a->f[EC_ATT].b32, &r, err);
    if (rc || (rc = cosign_check(tx, a, &r, err))) return rc;
    gt_market_slot_ref ref;
    if ((rc = gt_market_slot_ref_get(tx->db, r.task, r.slot, &ref, err))) return rc;
    int role = cosign_role(&ref, &r, &a->from);
    if (role != ROLE_VOTE && !(role == ROLE_VERDICT && ref.policy == GT_POLICY_QUORUM))
        return gt_err_set(err, GT_ESTATE, "attestation %s… is not being judged by a panel (a quorum task's submitted "
                          "result, or a dispute, of its slot's current attempt): there is no sealed vote to reveal; "
                          "send eval_cosign", wk_short(a->f[EC_ATT].b32, h));
    if ((rc = cosign_record(c, a, &r, role, err))) return rc;
    gt_action m;
    gt_action_init(&m, &gt_kind_vote_reveal, &tx->domain, &a->from, 0);
    gt_action_set_b32(&m, "task", r.task);
    gt_action_set_u64(&m, "slot", r.slot);
    gt_action_set_b32(&m, "result", r.results);
    gt_action_set_u64(&m, "accept", a->f[EC_AGREE].u64);
    gt_action_set_b32(&m, "voteSalt", a->f[EC_SALT].b32);
    return wk_apply_market(tx, &m, err);
}

/* The kind's apply: runs the rule, keeps its commitment bytes only on success. */
static int apply_cosign(gt_tx *tx, const gt_action *a, gt_err *err) {
    wk_ctx c = {tx, GT_BUF_INIT};
    return wk_finish(&c, cosign_rule(&c, a, err));
}

/* The kind's apply: runs the rule, keeps its commitment bytes only on success. */
static int apply_reveal(gt_tx *tx, const gt_action *a, gt_err *err) {
    wk_ctx c = {tx, GT_BUF_INIT};
    return wk_finish(&c, reveal_rule(&c, a, err));
}

gt_action_kind gt_kind_eval_attest = {"eval_attest", "EvalAttest", attest_fields, 9, apply_attest, 1, {0}, {0}, 0};
gt_action_kind gt_kind_eval_cosign = {"eval_cosign", "EvalCosign", cosign_fields, 4, apply_cosign, 1, {0}, {0}, 0};
gt_action_kind gt_kind_eval_reveal = {"eval_reveal", "EvalReveal", reveal_fields, 5, apply_reveal, 1, {0}, {0}, 0};
