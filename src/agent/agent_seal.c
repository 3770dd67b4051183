/* agent_seal.c: the agent's sealed votes: vote_commit in a round's commit
 * window, vote_reveal after it (market/commit.c has the rule).
 *
 * A drawn judge never votes in the clear, so a judge that re-runs nothing
 * cannot copy it. Nothing is stored between the two steps: the salt is
 * derived from the agent's key and the judgement (gt_market_vote_salt), and
 * the vote is read back from the commitment the ledger holds (the agent
 * computes the commitment of both answers and takes the one that matches).
 * The reveal is driven by what the ledger shows, not by memory: every pass
 * that sees this agent's commitment unrevealed while the reveal window is
 * open sends the reveal, so a failed reveal (node down, a nonce race, a
 * block not yet past the commit window) is tried again on the next pass
 * until it lands or the window closes, and an agent restarted between commit
 * and reveal reveals all the same, whatever its roles (its first pass looks
 * for its commitments: agent.c judge_pass). An unrevealed commitment is slashed like
 * a losing vote: the only way this agent leaves one is to be stopped for the
 * whole reveal window (the network's, fixed at genesis: gt_windows).
 *
 * Eval tasks (from ledger format 11, whose rule makes their panel votes
 * sealed-only): the vote is committed the same way, and the reveal is
 * eval_reveal, carrying the co-sign the agent kept in memory when it checked
 * the attestation (skill_eval.c), so the co-sign is published only once
 * nobody can copy it any more. With no co-sign kept (a restarted agent, or
 * one whose co-sign is already on the ledger) or one the ledger refuses for
 * good, it reveals with a plain vote_reveal: the vote still counts and its
 * bond comes back; only the co-sign's record is missing. */
#include <assert.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/skill_eval.h"
#include "base/hex.h"
#include "work/work.h"

/* The fields of vote_commit and vote_reveal. */
typedef struct seal_args {
    const uint8_t *task, *result, *commitment, *salt;
    uint64_t slot;
    int accept;
} seal_args;

static int fill_seal(void *arg, gt_action *act, gt_err *err) {
    const seal_args *s = arg;
    (void)err;
    gt_action_set_b32(act, "task", s->task);
    gt_action_set_u64(act, "slot", s->slot);
    gt_action_set_b32(act, "result", s->result);
    if (s->commitment) gt_action_set_b32(act, "commitment", s->commitment);
    if (s->salt) {
        gt_action_set_u64(act, "accept", (uint64_t)s->accept);
        gt_action_set_b32(act, "voteSalt", s->salt);
    }
    return 0;
}

/* This agent's commitment to `accept` on (task, slot, attempt, round); salt gets its salt. */
static void my_commitment(const gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                          int accept, uint8_t salt[32], uint8_t out[32]) {
    gt_market_vote_salt(&a->key, task, slot, attempt, round, salt);
    gt_market_vote_commitment(accept, salt, &a->addr, task, slot, attempt, round, out);
}

int ag_seal_commit(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                   const uint8_t result[32], int accept, gt_err *err) {
    assert(round == GT_MARKET_ROUND_VERIFY || round == GT_MARKET_ROUND_DISPUTE);
    uint8_t salt[32], c[32];
    my_commitment(a, task, slot, attempt, round, accept, salt, c);
    seal_args s = {task, result, c, NULL, slot, accept};
    int rc = gt_agent_act(a, &gt_kind_vote_commit, fill_seal, &s, NULL, err);
    if (!rc) {
        atomic_fetch_add(&a->seals_open, 1);
        a->seals_seen++; /* this pass's count (agent.c judge_pass) */
        a->seals_sent++;
    }
    return rc;
}

/* This agent's entry in a round's "commits" array, or NULL. */
static const json_t *my_entry(const gt_agent *a, const json_t *round_obj) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(round_obj, "commits"), i, c) {
        if (ag_is_me(a, json_object_get(c, "voter"))) return c;
    }
    return NULL;
}

int ag_seal_has(const gt_agent *a, const json_t *round_obj) { return my_entry(a, round_obj) != NULL; }

/* May a reveal land in the next block, as far as the head shows? The commit
 * window has closed (the next block's time is at least the head's) or every
 * panel member has acted (voted, or committed and not yet revealed). The
 * ledger has the last word: a refusal is tried again next pass. */
static int reveal_due(const json_t *round_obj, const ag_head *head) {
    json_t *end = json_object_get(round_obj, "commitDeadline");
    if (json_is_integer(end) && head->time_s + 1 >= (uint64_t)json_integer_value(end)) return 1;
    size_t members = json_array_size(json_object_get(round_obj, "panel"));
    size_t acted = json_array_size(json_object_get(round_obj, "votes")), i;
    json_t *c;
    json_array_foreach(json_object_get(round_obj, "commits"), i, c) if (!json_is_true(json_object_get(c, "revealed")))
        acted++;
    return members > 0 && acted >= members;
}

/* Reads this agent's vote back from its commitment: 0 with *accept, or -1
 * when neither answer opens it (not this key's commitment). */
static int recover_vote(const gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                        const json_t *entry, int *accept, uint8_t salt[32]) {
    uint8_t have[32], want[32];
    const char *hex = json_string_value(json_object_get(entry, "commitment"));
    if (!hex || gt_hex_decode(hex, have, 32, "commitment", NULL)) return -1;
    for (int v = 0; v <= 1; v++) {
        my_commitment(a, task, slot, attempt, round, v, salt, want);
        if (!memcmp(have, want, 32)) {
            *accept = v;
            return 0;
        }
    }
    return -1;
}

int ag_seal_reveal(gt_agent *a, const json_t *task, const json_t *sl, const json_t *round_obj, int round,
                   const ag_head *head, int *acted) {
    const json_t *entry = my_entry(a, round_obj);
    uint8_t id[32], result[32], salt[32];
    json_int_t by = json_integer_value(json_object_get(round_obj, "deadline")); /* the reveal's last second */
    /* Past its deadline a commitment can no longer be opened: nothing to wait for (agent_worker.c). */
    if (!entry || json_is_true(json_object_get(entry, "revealed")) || (by > 0 && (uint64_t)by < head->time_s))
        return 0;
    a->seals_seen++; /* one more to reveal, unless it lands below */
    if (by > 0 && (!a->reveal_by_seen || (uint64_t)by < a->reveal_by_seen)) a->reveal_by_seen = (uint64_t)by;
    if (!reveal_due(round_obj, head)) return 0;
    if (gt_agent_json_hash(task, "id", id, NULL) || gt_agent_json_hash(sl, "result", result, NULL)) return 0;
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    int accept = 0;
    char h[16];
    gt_err e = {0};
    if (recover_vote(a, id, slot, attempt, round, entry, &accept, salt)) {
        gt_err bad = {GT_EINVAL, "the commitment on the ledger is not one this key makes"};
        ag_action_failed(a, "reveal", id, slot, &bad);
        return 0;
    }
    seal_args s = {id, result, NULL, salt, slot, accept};
    const char *kind = json_string_value(json_object_get(task, "kind"));
    int rc = kind && !strcmp(kind, GT_WORK_KIND_EVAL) ? ag_eval_reveal(a, id, slot, attempt, accept, salt, &e)
                                                      : GT_ENOTFOUND;
    /* Not yet (the window), or the node unreachable: the same try next pass. */
    if (rc && rc != GT_ESTATE && rc != GT_EIO && rc != GT_ENONCE) {
        e = (gt_err){0};
        rc = gt_agent_act(a, &gt_kind_vote_reveal, fill_seal, &s, NULL, &e);
    }
    if (rc) {
        ag_action_failed(a, "reveal (will retry)", id, slot, &e);
        return 0;
    }
    a->seals_seen--;
    if (atomic_load(&a->seals_open) > 0) atomic_fetch_sub(&a->seals_open, 1);
    (*acted)++;
    ag_count(a, &a->stats.reveals);
    gt_agent_logf(a, "revealed its sealed vote on the %s of task %s slot %llu: %s",
                  round == GT_MARKET_ROUND_DISPUTE ? "dispute" : "result", ag_short_id(id, h),
                  (unsigned long long)slot, accept ? "for the worker" : "against the worker");
    return 1;
}
