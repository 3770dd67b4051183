/* chain_keeper.c: a `--chain` node's agent keeps the deadlines of its own
 * jobs and drives their disputes (see chain_market.h).
 *
 * On chain a deadline passes only when someone calls the escrow or the
 * court, and nobody is paid to call, so the party that gains calls:
 *   - the client of a job: claimRefund once its expiry is behind it (the
 *     budget back, and a claimed-but-unsubmitted worker's stake), timeout once
 *     a timed job's running phase is (a claim not submitted: the stake is the
 *     client's and the job reopens; a submission not judged: budget back,
 *     stake back to the worker);
 *   - the worker of a submitted job nobody judged: claimRefund or timeout
 *     itself, KEEP_GRACE_S after the client could have (its stake back);
 *   - a rejected worker whose deliverable is the keccak of the result this
 *     node computed and holds: dispute (bonding the stake) while the window
 *     is open; a worker that cannot stand behind its result does not;
 *   - the client or evaluator of a rejection nobody disputed: finalize after
 *     the window (the evaluator's bond back, the stake the client's);
 *   - any party of a dispute: draw once the case's seed link is revealed
 *     (the worker at once, the others too, a refusal then not counted: the
 *     worker may have drawn first), resolve once the vote is over (the
 *     reveal window passed, or every commitment revealed and the panel
 *     decided: tried then without counting a refusal); the worker at once,
 *     the others KEEP_GRACE_S later;
 *   - the client or worker of a quorum job (the court its evaluator): the
 *     round's draw once its seed link is out; once the round's vote is over
 *     undecided, closeUnjudged (the client at once, the worker KEEP_GRACE_S
 *     later), before the escrow's timeout, so the
 *     voters' bonds are freed (an open round) or the revealed votes tallied
 *     and the job timed out by the court (a sealed one, whose verify
 *     deadline the court holds);
 *   - the court's deployer (its wallet alone holds the seed chain):
 *     reveals the seed links the scheduled draws wait for, every round,
 *     whoever's jobs they are (DisputeCourt.sol's seed chain).
 * The chain's latest block time is the clock: a transaction sent once it is
 * past a deadline lands in a block at least as late. Each job is read from
 * the chain before its call; one not due yet is put off until its deadline,
 * one whose call fails is tried again after KEEP_RETRY_S and given up after
 * GT_CHAIN_MAX_ATTEMPTS failures, saying so in the log. Judging as a
 * validator seated on a dispute's panel (commit and reveal) is
 * chain_judge.c's. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "api/chain_market.h"
#include "base/buf.h"
#include "base/log.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#define KEEP_MAX 8          /* jobs looked at per round */
#define KEEP_GRACE_S 30     /* a call that another party makes first waits this long */
#define KEEP_RETRY_S 10     /* chain seconds before a failed call is tried again */
#define KEEP_RECHECK_S 10   /* chain seconds before a job acted on is looked at again */
#define KEEP_NEVER INT64_MAX

/* One round's context: the agent's chain, wallet and contracts, the chain time. */
typedef struct keeper {
    gt_chain *c;
    gt_chain_account *a;
    const gt_addr *escrow, *court; /* court NULL: no disputes */
    uint64_t seeds;                /* the court's seedCount, read for a dispute or a round */
    gt_cindex *ix;
    uint64_t now_s;
} keeper;

/* What keep_one does with a job: call (step, on the escrow or the court) or wait. */
typedef struct plan {
    int call;         /* 0: wait until when_s */
    int on_court;     /* step is a gt_court_step, else a gt_escrow_step */
    int step;
    int early;        /* a call tried before its deadline: a refusal is not a failure */
    int again;        /* done: look at the job again next round (another call may follow at once) */
    uint64_t when_s;  /* chain time to look again when waiting */
    const char *what; /* for the log */
} plan;

/* Puts job id off until chain time at_s; a failed call counts towards giving up. */
static void put_off(keeper *k, uint64_t id, uint64_t at_s, int failed, const char *why) {
    uint64_t tries = 0;
    gt_err err;
    if (gt_cindex_due_later(k->ix, id, at_s, failed, &tries, &err)) {
        GT_WARN("node: keeper: %s", err.msg);
        return;
    }
    if (failed && tries >= GT_CHAIN_MAX_ATTEMPTS) {
        GT_WARN("node: keeper: job %llu given up after %llu failed calls: %s", (unsigned long long)id,
                (unsigned long long)tries, why);
        gt_cindex_due_later(k->ix, id, KEEP_NEVER, 0, &tries, &err);
    } else if (failed) {
        GT_INFO("node: keeper: job %llu: %s (tried again later)", (unsigned long long)id, why);
    }
}

static plan wait_until(uint64_t when_s) { return (plan){.when_s = when_s}; }

static plan call_escrow(gt_escrow_step step, const char *what) {
    return (plan){.call = 1, .step = (int)step, .what = what};
}

static plan call_court(gt_court_step step, int early, const char *what) {
    return (plan){.call = 1, .on_court = 1, .step = (int)step, .early = early, .what = what};
}

/* A funded or submitted job: its expiry or its running phase. */
static plan plan_deadline(const keeper *k, const gt_escrow_job *j, const gt_escrow_phase *ph) {
    int client = gt_addr_eq(&j->client, &k->a->addr);
    uint64_t grace = client ? 0 : KEEP_GRACE_S;
    int phase = ph->submit_s && (j->claimed || j->status == GT_ESCROW_SUBMITTED);
    if (phase && !client && j->status != GT_ESCROW_SUBMITTED) return wait_until(KEEP_NEVER); /* its own slash */
    if (!client && !gt_addr_eq(&j->provider, &k->a->addr)) return wait_until(KEEP_NEVER);  /* not a party now */
    uint64_t deadline = phase ? ph->due_s : j->expired_at;
    if (phase && !deadline) return wait_until(k->now_s + KEEP_RECHECK_S); /* no phase running right now */
    uint64_t when = deadline > UINT64_MAX - grace ? UINT64_MAX : deadline + grace;
    if (k->now_s < when) return wait_until(when);
    return phase ? call_escrow(GT_ESCROW_TIMEOUT, "timed out: its phase deadline passed")
                 : call_escrow(GT_ESCROW_REFUND, "refunded: its expiry passed");
}

/* 1 when this node computed job id's result and the job's deliverable is its keccak. */
static int stands_behind(keeper *k, const gt_cjob *ij) {
    gt_buf in = GT_BUF_INIT, out = GT_BUF_INIT;
    uint8_t h[32];
    int found = 0, ok = 0;
    if (!gt_cindex_work(k->ix, ij->id, &in, &out, &found, NULL) && found && out.len) {
        gt_keccak256(out.data, out.len, h);
        ok = !memcmp(h, ij->deliverable, 32);
    }
    gt_buf_free(&in);
    gt_buf_free(&out);
    return ok;
}

/* A rejection open to appeal until until_s: the worker disputes, the others finalize after it. */
static plan plan_appeal(keeper *k, const gt_escrow_job *j, const gt_cjob *ij, uint64_t until_s) {
    if (gt_addr_eq(&j->provider, &k->a->addr)) {
        if (k->now_s >= until_s || !stands_behind(k, ij)) return wait_until(KEEP_NEVER);
        return call_escrow(GT_ESCROW_DISPUTE, "disputed: the rejected result is the one this node computed");
    }
    uint64_t grace = gt_addr_eq(&j->evaluator, &k->a->addr) ? 0 : KEEP_GRACE_S; /* the bond's owner first */
    if (k->now_s < until_s + grace) return wait_until(until_s + grace);
    return call_escrow(GT_ESCROW_FINALIZE, "finalized: nobody disputed the rejection in its window");
}

/* A disputed job's case in the court: its draw, then its resolution; undrawn at its deadline (reveal_end until the
 * draw), its close as undecided. */
static plan plan_dispute(keeper *k, const gt_escrow_job *j, const gt_court_case *cs) {
    uint64_t grace = gt_addr_eq(&j->provider, &k->a->addr) ? 0 : KEEP_GRACE_S;
    if (cs->state == GT_COURT_DRAWING) {
        if (cs->reveal_end && k->now_s >= cs->reveal_end + grace)
            return call_court(GT_COURT_RESOLVE, 0, "closed undecided: its panel was not drawn by its deadline");
        if (k->seeds < cs->draw_link) return wait_until(k->now_s + KEEP_RECHECK_S); /* its seed link is not out */
        return call_court(GT_COURT_DRAW, grace != 0, "panel drawn");
    }
    if (cs->state != GT_COURT_VOTING) return wait_until(k->now_s + KEEP_RECHECK_S);
    if (k->now_s >= cs->reveal_end + grace) return call_court(GT_COURT_RESOLVE, 0, "resolved: the vote is over");
    uint64_t t2 = cs->total * 2; /* the court's "decided": over two thirds either way, or every weight voted */
    int decided = cs->total && ((unsigned __int128)cs->accept_w * 3 > t2 || (unsigned __int128)cs->reject_w * 3 > t2 ||
                                cs->accept_w + cs->reject_w == cs->total);
    if (decided && !grace) return call_court(GT_COURT_RESOLVE, 1, "resolved: the panel decided");
    /* Reveals come in, before commit_end too (the court opens them once every member committed): look again soon,
     * never only at commit_end, or a panel that decides early waits out the whole commit window. */
    uint64_t next = k->now_s + KEEP_RECHECK_S;
    return wait_until(next < cs->reveal_end + grace ? next : cs->reveal_end + grace);
}

/* A quorum job (the court its evaluator) with a round open: its draw once the round's seed link is out (the client
 * at once, the worker too, a refusal then not counted); once its vote is over (its reveal deadline, an open round's
 * being the verify deadline), closeUnjudged, which tallies the votes and gives the verdict or times the job out (the
 * escrow refuses a quorum job's timeout from anyone but the court). *p (the escrow's plan) is left as it is when
 * nothing is due here, or looked at again sooner. */
static int plan_round(keeper *k, uint64_t id, const gt_escrow_job *j, plan *p, gt_err *err) {
    gt_court_case cs;
    uint64_t need = 0;
    if (!k->court || !gt_addr_eq(&j->evaluator, k->court) || (!j->claimed && j->status != GT_ESCROW_SUBMITTED))
        return 0;
    int rc = gt_court_get(k->c, k->court, id, &cs, err); /* the job's latest round */
    if (rc || (cs.state != GT_COURT_VOTING && cs.state != GT_COURT_DRAWING)) return rc;
    uint64_t grace = gt_addr_eq(&j->client, &k->a->addr) ? 0 : KEEP_GRACE_S;
    uint64_t soon = k->now_s + KEEP_RECHECK_S;
    if (cs.state == GT_COURT_DRAWING) {
        if ((rc = gt_court_seed_state(k->c, k->court, &k->seeds, &need, err))) return rc;
        if (k->seeds >= cs.draw_link) {
            *p = call_court(GT_COURT_DRAW, grace != 0, "quorum round's panel drawn");
            p->again = 1; /* its vote and deadlines follow */
            return 0;
        }
        if (!p->call && p->when_s > soon) p->when_s = soon; /* its seed link comes soon */
    }
    if (!cs.commit_end) return 0; /* nothing submitted: no vote open yet */
    uint64_t when = cs.reveal_end > UINT64_MAX - grace ? UINT64_MAX : cs.reveal_end + grace;
    if (k->now_s < when) {
        if (!p->call && p->when_s > when) p->when_s = when; /* look again at the round's deadline */
        return 0;
    }
    *p = call_court(GT_COURT_CLOSE_UNJUDGED, grace != 0, "quorum round closed unjudged: its vote is over");
    p->again = 1; /* the job's next step (a rejection reopened, its next claim) follows */
    return 0;
}

/* The plan for job id as the chain has it now; rc and err when a read failed. */
static int plan_job(keeper *k, uint64_t id, plan *p, gt_err *err) {
    gt_escrow_job j;
    gt_escrow_phase ph;
    gt_cjob ij;
    gt_court_case cs;
    uint64_t until = 0, need = 0;
    int rc = gt_escrow_get(k->c, k->escrow, id, &j, err);
    if (rc) return rc;
    switch (j.status) {
    case GT_ESCROW_FUNDED:
    case GT_ESCROW_SUBMITTED:
        if ((rc = gt_escrow_phases(k->c, k->escrow, id, &ph, err))) return rc;
        *p = plan_deadline(k, &j, &ph);
        return plan_round(k, id, &j, p, err);
    case GT_ESCROW_REJECTED:
        if ((rc = gt_escrow_appeal_until(k->c, k->escrow, id, &until, err)) ||
            (rc = gt_cindex_job(k->ix, id, &ij, err)))
            return rc;
        *p = until ? plan_appeal(k, &j, &ij, until) : wait_until(KEEP_NEVER); /* the rejection stands */
        return 0;
    case GT_ESCROW_DISPUTED:
        if (!k->court) return *p = wait_until(KEEP_NEVER), 0;
        if ((rc = gt_court_get(k->c, k->court, id, &cs, err)) ||
            (rc = gt_court_seed_state(k->c, k->court, &k->seeds, &need, err)))
            return rc;
        *p = plan_dispute(k, &j, &cs);
        return 0;
    default: /* settled: the index is behind */
        *p = wait_until(k->now_s + KEEP_RECHECK_S);
        return 0;
    }
}

/* Job id, read from the chain: called when due, put off otherwise. */
static void keep_one(keeper *k, uint64_t id) {
    plan p = {0};
    gt_err err;
    if (plan_job(k, id, &p, &err)) {
        put_off(k, id, k->now_s + KEEP_RETRY_S, 1, err.msg);
        return;
    }
    if (!p.call) {
        put_off(k, id, p.when_s, 0, NULL);
        return;
    }
    assert(!p.on_court || k->court);
    int rc = p.on_court ? gt_court_do(k->c, k->court, k->a, (gt_court_step)p.step, id, NULL, &err)
                        : gt_escrow_do(k->c, k->escrow, k->a, (gt_escrow_step)p.step, id, NULL, NULL, &err);
    if (rc) {
        put_off(k, id, k->now_s + KEEP_RETRY_S, !p.early, err.msg);
        return;
    }
    GT_INFO("node: keeper: job %llu %s (chain time %llu)", (unsigned long long)id, p.what,
            (unsigned long long)k->now_s);
    put_off(k, id, p.again ? k->now_s : k->now_s + KEEP_RECHECK_S, 0, NULL);
}

/* The court's deployer: the seed links the scheduled draws wait for (gt_court_seed_reveal reads what is wanted). */
static void keep_seeds(gt_chain *c, gt_chain_account *a, const gt_addr *court) {
    uint64_t n = 0;
    gt_err err;
    if (gt_court_seed_reveal(c, court, a, &n, NULL, &err))
        GT_WARN("node: keeper: the court's seed chain: %s", err.msg);
    else if (n)
        GT_INFO("node: keeper: %llu seed link%s of the court revealed", (unsigned long long)n, n == 1 ? "" : "s");
}

void gt_chain_keep(gt_chain *c, gt_chain_account *a, const gt_addr *escrow, const gt_addr *court, int seeder,
                   gt_cindex *ix) {
    keeper k = {.c = c, .a = a, .escrow = escrow, .court = court, .ix = ix};
    uint64_t ids[KEEP_MAX];
    size_t n = 0;
    gt_err err;
    assert(!seeder || court);
    if (seeder) keep_seeds(c, a, court);
    /* The chain's clock is asked only while a job of this agent may come due
     * (given-up jobs, put off to KEEP_NEVER, are not). */
    int rc = gt_cindex_due(ix, &a->addr, KEEP_NEVER - 1, ids, 1, &n, &err);
    if (!rc && n) rc = gt_chain_block_time(c, &k.now_s, &err);
    if (!rc && n && k.now_s >= KEEP_NEVER) rc = gt_err_set(&err, GT_ECHAIN, "the chain's time is past 2^63 - 1");
    if (!rc && n) rc = gt_cindex_due(ix, &a->addr, k.now_s, ids, KEEP_MAX, &n, &err);
    if (rc) {
        GT_WARN("node: keeper: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) keep_one(&k, ids[i]);
}
