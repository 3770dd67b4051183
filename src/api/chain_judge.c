/* chain_judge.c: a `--chain` node whose wallet is a validator of the dispute
 * court (`gotong chain court stake`) judges the disputes whose panel seats it,
 * and the quorum rounds (a quorum job's latest round, once its worker
 * submitted) that do (see chain_market.h).
 *
 * A judge needs the job's input, which travels off chain: the client sends
 * it to the worker's and the evaluator's nodes, and may keep it on its own
 * (`gotong chain post` does). The judge fetches it from the node of the
 * job's worker, then of its evaluator, then of its client, each found through
 * the agent registry (the agent of that wallet, its card checked to be that
 * wallet's on this chain and escrow), at GET /v1/chain/jobs/{id}/input?by=
 * (the reader; judge=, its older name, is still taken) with a request signed
 * by the judge's key that holds until a unix time it names
 * (GT_CHAIN_INPUT_TTL_S ahead; the serving node refuses one past, or more than
 * GT_CHAIN_INPUT_AHEAD_S ahead, of its own clock, so a captured request is
 * not replayed later); the serving node checks the signature before it reads
 * the chain (gt_chain_judge_signed), answers only while the job is disputed
 * (or a quorum job submitted) and only to a wallet the court seated on its
 * panel (gt_chain_judge_seated).
 * The same route serves a quorum slot's input to the worker that claimed it,
 * and an open (unclaimed) slot's to a prospective worker: one that could
 * claim it (a seat left on the slot's task, as the escrow counts seats), a
 * registered agent whose free stake (token balance and allowance to the
 * escrow, which pulls the stake at claim) covers the slot's stake
 * (gt_chain_prospect_ok). A
 * worker's node fetches the input this way before it claims (chain_agent.c):
 * a client's node that is down or refuses costs it no stake, it does not claim.
 * Why the judge pulls rather than a party pushes:
 * the panel is drawn after the dispute, from a seed nobody knows before, so
 * no party can know whom to send to before the draw, and a push would need
 * every party's node to watch every draw; the worker who disputes has its
 * stake and bond on the outcome, so its node serves the input; the others
 * are asked when it does not. Whoever answers, the input is taken only when
 * its keccak is the job's description
 * hash, and at most GT_CHAIN_INPUT_MAX bytes are read: no input, no vote
 * (fail closed), the reason kept as the job's note in the index.
 *
 * A quorum round is judged the same way: its input comes from the worker's
 * node or the client's (`gotong chain post` gives it to the client's), the
 * vote is sealed over the round's case key (gt_court_commit_round), and the
 * reveal that decides the round completes or rejects the job in the court.
 *
 * The vote: the judge re-runs the skill (gt_chain_skill_run) and commits
 * accept when the result's keccak is the worker's deliverable, reject
 * otherwise, sealed with the salt derived from its key (gt_court_salt), then
 * reveals it once reveals open (the commit window closed, or every member
 * committed). The input is kept in the index, so a node restarted between
 * commit and reveal re-runs the skill and reveals the vote it committed;
 * which step is next is read from the chain (the seat's vote) every time. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/chain_market.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "chain/abi.h"
#include "chain/court.h"
#include "chain/registry.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#define JUDGE_MAX 4          /* cases looked at per round */
#define JUDGE_RETRY_S 10     /* chain seconds before a failed step is tried again */
#define JUDGE_RECHECK_S 10   /* chain seconds before a case waiting on the court is looked at again */
#define JUDGE_NEVER INT64_MAX

/* One round's context: the judge's chain, wallet and contracts, the chain time. */
typedef struct judge {
    gt_chain *c;
    gt_chain_account *a;
    const gt_addr *court, *escrow, *registry;
    gt_cindex *ix;
    uint64_t now_s;
} judge;

/* See chain_market.h: the expiry's bounds, then the signature recovered to judge; nothing read from the chain. */
int gt_chain_judge_signed(uint64_t chain_id, const gt_addr *court, uint64_t job, const gt_addr *judge_addr,
                          uint64_t expires_s, uint64_t now_s, const char *sig_hex, gt_err *err) {
    uint8_t digest[32];
    gt_sig sig;
    gt_addr signer;
    if (expires_s < now_s)
        return gt_err_set(err, GT_EINVAL, "expires: the request expired %llu s ago (sign a fresh one)",
                          (unsigned long long)(now_s - expires_s));
    if (expires_s - now_s > GT_CHAIN_INPUT_AHEAD_S)
        return gt_err_set(err, GT_EINVAL, "expires: %llu s ahead of this node's clock, more than the %d s allowed",
                          (unsigned long long)(expires_s - now_s), GT_CHAIN_INPUT_AHEAD_S);
    gt_court_input_digest(chain_id, court, job, expires_s, digest);
    if (gt_sig_from_hex(&sig, sig_hex, err) || gt_recover_digest(digest, &sig, &signer, err))
        return gt_err_wrap(err, "sig");
    if (!gt_addr_eq(&signer, judge_addr))
        return gt_err_set(err, GT_EPERM, "sig: signed by another wallet than judge (or for another job, court or "
                          "expiry)");
    return 0;
}

/* See chain_market.h: judge's seat read from the court. */
int gt_chain_judge_seated(gt_chain *c, const gt_addr *court, uint64_t job, const gt_addr *judge_addr, gt_err *err) {
    uint64_t weight = 0;
    gt_court_vote vote;
    int rc = gt_court_seat(c, court, job, judge_addr, &weight, &vote, err);
    if (!rc && !weight)
        rc = gt_err_set(err, GT_EPERM, "judge has no seat on job %llu's panel", (unsigned long long)job);
    return rc;
}

/* 1 when the first 32-byte word of to's view sig(args) on c, a big-endian uint256 (an allowance may be 2^256 - 1), is
 * at least v, in *covers. */
static int view_covers(gt_chain *c, const gt_addr *to, const char *sig, const gt_abi_val *args, size_t n, uint64_t v,
                       int *covers, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    uint64_t low = 0;
    int rc = gt_chain_view(c, to, sig, args, n, &res, err);
    if (!rc && res.len < 32)
        rc = gt_err_set(err, GT_ECHAIN, "%s: %zu bytes back, expected a 32-byte word", sig, res.len);
    *covers = 0;
    for (size_t i = 0; !rc && i < 24; i++) *covers |= res.data[i] != 0;
    for (size_t i = 24; !rc && i < 32; i++) low = low << 8 | res.data[i];
    if (!rc) *covers = *covers || low >= v;
    gt_buf_free(&res);
    return rc;
}

/* See chain_market.h: tasks(t) from id down, the first with slots reaching id. */
int gt_chain_task_of(gt_chain *c, const gt_addr *escrow, uint64_t id, uint64_t *task, gt_err *err) {
    *task = 0;
    for (uint64_t t = id; t >= 1 && t + GT_CHAIN_SLOTS_MAX > id; t--) {
        uint64_t slots = 0;
        gt_abi_val arg[] = {gt_abi_uint(t)};
        int rc = gt_chain_view_u64(c, escrow, "tasks(uint256)", arg, 1, 0, &slots, err);
        if (rc) return rc;
        if (slots && t + slots > id) return *task = t, 0;
    }
    return 0;
}

/* 0 when who (w its text) has a seat left to claim open job id, as the escrow's claim rules count seats: on a task's
 * slot, its claims on the task under the task's seatsPerWorker (claimTask); on a job of no task, its claims that
 * ended with the job reopened under the job's seatsOf (0: one; claim). hadSeat, the sum of both, read first: 0 (a
 * worker new to the job, the usual case) is a seat left in one read. GT_EPERM with the reason otherwise. */
static int seat_left(gt_chain *c, const gt_addr *escrow, uint64_t id, const gt_addr *who, const char *w,
                     gt_err *err) {
    uint64_t had = 0, task = 0, used = 0, per = 0;
    gt_abi_val job_who[] = {gt_abi_uint(id), gt_abi_address(who)}, job[] = {gt_abi_uint(id)};
    int rc = gt_chain_view_u64(c, escrow, "hadSeat(uint256,address)", job_who, 2, 0, &had, err);
    if (rc || !had) return rc;
    if ((rc = gt_chain_task_of(c, escrow, id, &task, err))) return rc;
    gt_abi_val task_who[] = {gt_abi_uint(task), gt_abi_address(who)}, t[] = {gt_abi_uint(task)};
    if (!task) {
        rc = gt_chain_view_u64(c, escrow, "seatsOf(uint256)", job, 1, 0, &per, err);
        if (!rc && had >= per)
            rc = gt_err_set(err, GT_EPERM, "%s already had its %llu seat(s) on job %llu (it reopened under it; the "
                            "job allows %llu): its claim would revert", w, (unsigned long long)had,
                            (unsigned long long)id, (unsigned long long)(per ? per : 1));
        return rc;
    }
    rc = gt_chain_view_u64(c, escrow, "seats(uint256,address)", task_who, 2, 0, &used, err);
    if (!rc) rc = gt_chain_view_u64(c, escrow, "tasks(uint256)", t, 1, 3, &per, err);
    if (!rc && used >= per)
        rc = gt_err_set(err, GT_EPERM, "%s already used its %llu seat(s) on quorum task %llu (seatsPerWorker %llu): "
                        "its claim of slot %llu would revert", w, (unsigned long long)used, (unsigned long long)task,
                        (unsigned long long)per, (unsigned long long)id);
    return rc;
}

/* See chain_market.h. */
int gt_chain_seat_left(gt_chain *c, const gt_addr *escrow, uint64_t id, const gt_addr *who, gt_err *err) {
    char w[GT_ADDR_STR_BYTES];
    gt_addr_to_str(who, w);
    return seat_left(c, escrow, id, who, w, err);
}

/* See chain_market.h: the claim's own rules on who (its seats too), then the registry, then the token (balance and
 * allowance). */
int gt_chain_prospect_ok(gt_chain *c, const gt_addr *token, const gt_chain_deploy *d, uint64_t id,
                         const gt_escrow_job *j, const gt_addr *who, gt_err *err) {
    char w[GT_ADDR_STR_BYTES];
    int bal = 0, allowed = 0;
    uint64_t agent = 0;
    gt_addr_to_str(who, w);
    assert(j->status == GT_ESCROW_FUNDED && !j->claimed);
    gt_addr zero = {0};
    if (gt_addr_eq(who, &j->client) || gt_addr_eq(who, &j->evaluator) ||
        !(gt_addr_eq(&j->provider, &zero) || gt_addr_eq(&j->provider, who)))
        return gt_err_set(err, GT_EPERM, "%s may not claim job %llu (its client, its evaluator, or not the worker it "
                          "names)", w, (unsigned long long)id);
    int rc = seat_left(c, d->escrow, id, who, w, err);
    if (!rc) rc = gt_registry_agent_of(c, d->registry, who, &agent, err);
    if (!rc && !agent)
        return gt_err_set(err, GT_EPERM, "%s has no agent in the registry: an open slot's input is served to a "
                          "registered agent whose free stake covers the slot's stake", w);
    gt_abi_val one[] = {gt_abi_address(who)}, two[] = {gt_abi_address(who), gt_abi_address(d->escrow)};
    if (!rc) rc = view_covers(c, token, "balanceOf(address)", one, 1, j->stake, &bal, err);
    if (!rc) rc = view_covers(c, token, "allowance(address,address)", two, 2, j->stake, &allowed, err);
    if (rc) return rc;
    if (!bal || !allowed)
        return gt_err_set(err, GT_EPERM, "%s's free stake (its token %s) is under job %llu's stake of %llu: an open "
                          "slot's input is served to an agent that could claim it", w,
                          bal ? "allowance to the escrow" : "balance",
                          (unsigned long long)id, (unsigned long long)j->stake);
    return 0;
}

/* Job id put off until chain time at_s (failed: one more failed try, given up at GT_CHAIN_MAX_ATTEMPTS); note
 * (may be NULL) kept as the job's note in the index. */
static void put_off(judge *j, uint64_t id, uint64_t at_s, int failed, const char *note) {
    uint64_t tries = 0;
    gt_err err;
    if (note && gt_cindex_note(j->ix, id, note, &err)) GT_WARN("node: judge: %s", err.msg);
    if (gt_cindex_due_later(j->ix, id, at_s, failed, &tries, &err)) {
        GT_WARN("node: judge: %s", err.msg);
        return;
    }
    if (failed && tries >= GT_CHAIN_MAX_ATTEMPTS) {
        GT_WARN("node: judge: job %llu given up after %llu failed tries: %s", (unsigned long long)id,
                (unsigned long long)tries, note ? note : "");
        gt_cindex_due_later(j->ix, id, JUDGE_NEVER, 0, &tries, &err);
    } else if (note) {
        GT_INFO("node: judge: job %llu: %s", (unsigned long long)id, note);
    }
}

/* See chain_market.h: the agent of owner through the registry, its card checked, the request signed by a. */
int gt_chain_fetch_input(gt_chain *c, gt_chain_account *a, const gt_chain_deploy *d, const gt_cjob *ij,
                         const gt_addr *owner, gt_buf *in, gt_err *err) {
    char who[GT_ADDR_STR_BYTES], url[GT_CARD_URL_MAX + 320], sig_hex[133], by_hex[GT_ADDR_STR_BYTES];
    char *uri = NULL;
    uint8_t digest[32], h[32];
    uint64_t id = 0;
    gt_addr got;
    gt_card card;
    gt_sig sig;
    long status = 0;
    gt_addr_to_str(owner, who);
    int rc = gt_registry_agent_of(c, d->registry, owner, &id, err);
    if (!rc && !id) rc = gt_err_set(err, GT_ENOTFOUND, "%s has no agent in the registry", who);
    if (!rc && !(uri = gt_malloc(GT_REGISTRY_URI_MAX + 1))) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = gt_registry_get(c, d->registry, id, &got, uri, err);
    if (!rc) rc = gt_card_fetch(uri, &card, err);
    gt_free(uri);
    if (!rc) rc = gt_card_check(&card, owner, c->chain_id, d->escrow, err);
    uint64_t expires_s = (uint64_t)time(NULL) + GT_CHAIN_INPUT_TTL_S; /* the serving node's clock, not the chain's */
    gt_court_input_digest(c->chain_id, d->court, ij->id, expires_s, digest);
    if (!rc) rc = gt_sign_digest(&a->key, digest, &sig, err);
    if (rc) return gt_err_wrap(err, "the agent of %s", who);
    gt_sig_to_hex(&sig, sig_hex);
    gt_addr_to_str(&a->addr, by_hex);
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input?by=%s&expires=%llu&sig=%s", card.url,
             (unsigned long long)ij->id, by_hex, (unsigned long long)expires_s, sig_hex);
    in->len = 0;
    if ((rc = gt_agent_http(url, NULL, 0, GT_CHAIN_INPUT_MAX, &status, in, err))) return rc;
    if (status != 200)
        return gt_err_set(err, GT_ENOTFOUND, "%s answered %ld: %.*s", card.url, status,
                          (int)(in->len > 160 ? 160 : in->len), in->data ? (const char *)in->data : "");
    gt_keccak256(in->data, in->len, h);
    if (memcmp(h, ij->description, 32))
        return gt_err_set(err, GT_EINVAL, "%s served %zu bytes whose keccak is not the job's description hash",
                          card.url, in->len);
    return 0;
}

/* The input of job ij from the node of the agent that owner registered (gt_chain_fetch_input). */
static int fetch_from(judge *j, const gt_cjob *ij, const gt_addr *owner, gt_buf *in, gt_err *err) {
    gt_chain_deploy d = {.court = j->court, .escrow = j->escrow, .registry = j->registry};
    return gt_chain_fetch_input(j->c, j->a, &d, ij, owner, in, err);
}

/* Job ij's input: the one this node holds, else fetched from the worker's node, then the evaluator's (each holds the
 * input its client sent), then the client's; whoever serves it, the description hash decides. */
static int get_input(judge *j, const gt_cjob *ij, gt_buf *in, gt_err *err) {
    uint8_t h[32];
    int found = 0;
    int rc = gt_cindex_work(j->ix, ij->id, in, NULL, &found, err);
    if (rc) return rc;
    if (found) {
        gt_keccak256(in->data, in->len, h);
        if (!memcmp(h, ij->description, 32)) return 0;
    }
    const gt_addr *from[] = {&ij->provider, &ij->evaluator, &ij->client};
    gt_err why[3];
    for (size_t i = 0; i < 3; i++)
        if (!(rc = fetch_from(j, ij, from[i], in, &why[i]))) return gt_cindex_put_input(j->ix, ij->id, in->data,
                                                                                         in->len, err);
    return gt_err_set(err, rc, "no input: from the worker's node: %s; the evaluator's: %s; the client's: %s",
                      why[0].msg, why[1].msg, why[2].msg);
}

/* The vote on job ij's deliverable as the chain holds it (gt_chain_submitted): 1 when re-running the skill on in
 * gives it. */
static int verdict(judge *j, const gt_cjob *ij, const gt_buf *in, int *accept, gt_err *err) {
    gt_buf out = GT_BUF_INIT;
    uint8_t h[32], deliverable[32];
    int rc = gt_chain_submitted(j->c, j->escrow, ij, deliverable, err);
    if (!rc) rc = gt_chain_skill_run(in, &out, err);
    if (!rc) gt_keccak256(out.data, out.len, h);
    if (!rc) *accept = !memcmp(h, deliverable, 32);
    gt_buf_free(&out);
    return rc;
}

/* A seat with no vote yet: input, re-execution, sealed vote on the case (round 0: a dispute; else a quorum job's
 * round); looked at again at once (reveals may be open). */
static void judge_commit(judge *j, const gt_cjob *ij, const gt_court_case *cs, uint32_t round) {
    gt_buf in = GT_BUF_INIT;
    gt_err err;
    char note[GT_ERR_MSG_MAX + 64];
    int accept = 0;
    uint64_t gas = 0;
    if (j->now_s >= cs->commit_end) {
        put_off(j, ij->id, JUDGE_NEVER, 0, "no vote: the commit window closed before this node could vote");
        return;
    }
    int rc = get_input(j, ij, &in, &err);
    if (!rc) rc = verdict(j, ij, &in, &accept, &err);
    if (!rc) rc = gt_court_commit_round(j->c, j->court, j->a, ij->id, round, accept, &gas, &err);
    gt_buf_free(&in);
    if (rc) {
        snprintf(note, sizeof note, "no vote: %s", err.msg);
        put_off(j, ij->id, j->now_s + JUDGE_RETRY_S, 1, note);
        return;
    }
    snprintf(note, sizeof note, "committed a sealed %s: re-executed, the result %s the deliverable (gas %llu)",
             accept ? "accept" : "reject", accept ? "matches" : "differs from", (unsigned long long)gas);
    put_off(j, ij->id, j->now_s, 0, note);
}

/* A committed seat: the same vote re-derived from the held input, revealed once reveals open (round: as
 * judge_commit's). */
static void judge_reveal(judge *j, const gt_cjob *ij, const gt_court_case *cs, uint32_t round) {
    gt_buf in = GT_BUF_INIT;
    gt_err err;
    char note[GT_ERR_MSG_MAX + 64];
    int accept = 0, found = 0;
    uint64_t gas = 0;
    uint8_t h[32];
    int rc = gt_cindex_work(j->ix, ij->id, &in, NULL, &found, &err);
    if (!rc && found) gt_keccak256(in.data, in.len, h);
    if (!rc && (!found || memcmp(h, ij->description, 32)))
        rc = gt_err_set(&err, GT_ENOTFOUND, "the committed vote's input is no longer held: it cannot be revealed");
    if (!rc) rc = verdict(j, ij, &in, &accept, &err);
    gt_buf_free(&in);
    if (rc && err.code == GT_ENOTFOUND) return put_off(j, ij->id, JUDGE_NEVER, 0, err.msg);
    if (!rc) rc = gt_court_reveal_round(j->c, j->court, j->a, ij->id, round, accept, &gas, &err);
    if (rc) { /* before the commit window's end a refusal is expected (not every member committed) */
        snprintf(note, sizeof note, "reveal refused: %s", err.msg);
        put_off(j, ij->id, j->now_s + JUDGE_RETRY_S, j->now_s >= cs->commit_end, note);
        return;
    }
    char was[GT_ERR_MSG_MAX + 64] = ""; /* the commit's note, kept before the reveal's */
    if (gt_cindex_get_note(j->ix, ij->id, was, sizeof was, &err) || strncmp(was, "committed", 9)) was[0] = 0;
    snprintf(note, sizeof note, "%.300s%srevealed %s (gas %llu)", was, was[0] ? "; " : "",
             accept ? "accept" : "reject", (unsigned long long)gas);
    put_off(j, ij->id, JUDGE_NEVER, 0, note);
}

/* Disputed job id, or a submitted quorum job (the court its evaluator; its latest round is the case): what the
 * court and this judge's seat ask for now. */
static void judge_one(judge *j, uint64_t id) {
    gt_cjob ij;
    gt_court_case cs;
    uint64_t weight = 0;
    uint32_t round = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    gt_err err;
    int rc = gt_cindex_job(j->ix, id, &ij, &err);
    if (!rc && gt_addr_eq(&ij.evaluator, j->court)) rc = gt_court_round_of(j->c, j->court, id, &round, &err);
    if (!rc) rc = gt_court_get(j->c, j->court, id, &cs, &err);
    if (!rc && cs.state == GT_COURT_VOTING) rc = gt_court_seat(j->c, j->court, id, &j->a->addr, &weight, &vote, &err);
    if (rc) return put_off(j, id, j->now_s + JUDGE_RETRY_S, 1, err.msg);
    if (cs.state == GT_COURT_DRAWING || (round && !cs.commit_end)) /* undrawn, or a round with nothing submitted */
        return put_off(j, id, j->now_s + JUDGE_RECHECK_S, 0, NULL);
    if (cs.state != GT_COURT_VOTING) return put_off(j, id, JUDGE_NEVER, 0, NULL); /* resolved */
    if (!weight) return put_off(j, id, JUDGE_NEVER, 0, "not on the case's panel");
    if (vote == GT_COURT_ACCEPT || vote == GT_COURT_REJECT) return put_off(j, id, JUDGE_NEVER, 0, NULL);
    if (j->now_s >= cs.reveal_end) return put_off(j, id, JUDGE_NEVER, 0, "the case's reveal window closed");
    if (vote == GT_COURT_COMMITTED) judge_reveal(j, &ij, &cs, round);
    else judge_commit(j, &ij, &cs, round);
}

void gt_chain_judge(gt_chain *c, gt_chain_account *a, const gt_addr *court, const gt_addr *escrow,
                    const gt_addr *registry, gt_cindex *ix) {
    judge j = {.c = c, .a = a, .court = court, .escrow = escrow, .registry = registry, .ix = ix};
    uint64_t ids[JUDGE_MAX];
    size_t n = 0;
    gt_err err;
    assert(c && a && court && escrow && registry && ix);
    /* The chain's clock is asked only while a case may come due (the ones put off for good are not). */
    int rc = gt_cindex_cases(ix, &a->addr, court, JUDGE_NEVER - 1, ids, 1, &n, &err);
    if (!rc && n) rc = gt_chain_block_time(c, &j.now_s, &err);
    if (!rc && n && j.now_s >= JUDGE_NEVER) rc = gt_err_set(&err, GT_ECHAIN, "the chain's time is past 2^63 - 1");
    if (!rc && n) rc = gt_cindex_cases(ix, &a->addr, court, j.now_s, ids, JUDGE_MAX, &n, &err);
    if (rc) {
        GT_WARN("node: judge: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) judge_one(&j, ids[i]);
}
