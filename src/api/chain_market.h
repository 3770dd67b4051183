/* chain_market.h: `gotong node --chain URL`: the node's market settled on
 * gotong's contracts (HOME/chain.json, written by `gotong chain deploy`).
 *
 * The node keeps HOME/chain_index.db, an index of the escrow's and the agent
 * registry's events (chain_index.c): a block is taken once `confirmations`
 * blocks stand on it (itself included), and the hash of the last block taken
 * is checked every round, so a reorganisation deeper than that makes the
 * index start over from the deployment block (what it holds is derived from
 * the chain, never trusted over it). With a wallet the node also runs an
 * agent (chain_agent.c): it publishes its agent card in the registry, works
 * the jobs that name it as provider (claim, run the skill, submit the
 * result's hash) and judges the jobs that name it as evaluator (re-runs the
 * skill; complete when the hash matches, reject otherwise); with a court, it
 * keeps its jobs' deadlines and disputes (chain_keeper.c) and, when its wallet
 * is a validator, judges the disputes and quorum rounds whose panel seats it
 * (chain_judge.c); with a court, a node whose wallet is no validator claims
 * and works the quorum jobs and slots it can do, their input fetched from
 * the client's node before the claim (chain_agent.c). */
#ifndef GT_API_CHAIN_MARKET_H
#define GT_API_CHAIN_MARKET_H
#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "chain/client.h"
#include "chain/escrow.h"

#define GT_CINDEX_ROUND_BLOCKS 2000    /* blocks per eth_getLogs range at most */
#define GT_CINDEX_PAGE_MAX 200         /* jobs or agents per answer */
#define GT_CHAIN_INPUT_MAX (64u << 10) /* a job's input, at most */
#define GT_CHAIN_SKILL "text.wordcount"
#define GT_CHAIN_MAX_ATTEMPTS 3        /* a step that keeps failing is given up */

typedef struct gt_cindex gt_cindex;

/* A job as the index holds it. */
typedef struct gt_cjob {
    uint64_t id, budget, stake, expired_at;
    gt_addr client, provider, evaluator;
    char status[16];
    uint8_t description[32], deliverable[32];
    int claimed, timed; /* timed: phase deadlines (PhasesSet) */
    uint64_t submitted_block; /* the block of its latest JobSubmitted (0: none) */
} gt_cjob;

/* Opens (creating) the index at path for this deployment; an index of
 * another chain, escrow or registry is emptied first. */
int gt_cindex_open(const char *path, uint64_t chain_id, const gt_addr *escrow, const gt_addr *registry,
                   uint64_t from_block, gt_cindex **out, gt_err *err);
void gt_cindex_close(gt_cindex *ix); /* accepts NULL */
/* Takes the blocks now deep enough (GT_CINDEX_ROUND_BLOCKS at most);
 * *moved 1 when the height changed. */
int gt_cindex_round(gt_cindex *ix, gt_chain *c, uint64_t confirmations, int *moved, gt_err *err);
uint64_t gt_cindex_height(gt_cindex *ix);
int gt_cindex_job(gt_cindex *ix, uint64_t id, gt_cjob *out, gt_err *err); /* GT_ENOTFOUND when not indexed */
json_t *gt_cindex_job_json(const gt_cjob *j);
json_t *gt_cindex_jobs(gt_cindex *ix, uint64_t limit, gt_err *err);   /* newest first */
json_t *gt_cindex_agents(gt_cindex *ix, uint64_t limit, gt_err *err); /* by id */

/* This node's own work on a job (not derived from the chain: kept when the
 * index starts over): its input, its output, whether it acted. */
int gt_cindex_put_input(gt_cindex *ix, uint64_t job, const void *p, size_t n, gt_err *err);
int gt_cindex_put_output(gt_cindex *ix, uint64_t job, const void *p, size_t n, gt_err *err);
/* step: 1 acted (done), 0 to retry (attempts + 1; given up at GT_CHAIN_MAX_ATTEMPTS), -1 refused for good. */
int gt_cindex_mark(gt_cindex *ix, uint64_t job, int step, const char *note, gt_err *err);
/* Input (and output when out is not NULL) of a job; *found 0 when none. */
int gt_cindex_work(gt_cindex *ix, uint64_t job, gt_buf *in, gt_buf *out, int *found, gt_err *err);
/* Jobs waiting for who: funded ones naming it as provider (unclaimed, or a quorum slot of court's it claimed; court
 * may be NULL), submitted ones naming it as evaluator, whose input it holds and that it has not acted on; at most
 * max ids. An input that does not hash to its job's description hash (another job's, kept across a reorganisation
 * that gave the id to a new job) is dropped, and its job not listed until its own input comes. */
int gt_cindex_todo(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t *ids, size_t max, size_t *n,
                   gt_err *err);
/* Quorum slots (court NULL: none) who could claim: funded, unclaimed, judged by court, of another client, budget at
 * least min_budget, whose input this node holds not (a slot it claimed), that it did not refuse for good
 * (gt_cindex_mark -1) and whose wait after a failed look ended by now_ms (gt_cindex_look_later); at most max ids,
 * the oldest first. A slot claimed by another or closed is no longer listed: it is dropped. */
int gt_cindex_open_slots(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t min_budget,
                         uint64_t now_ms, uint64_t *ids, size_t max, size_t *n, gt_err *err);
/* Quorum slots who claimed (still funded) whose input it holds not yet, their wait after a failed fetch ended by
 * now_ms: the input to fetch from the client's node; at most max ids. */
int gt_cindex_slots_unfed(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t now_ms, uint64_t *ids,
                          size_t max, size_t *n, gt_err *err);
/* A failed look at a slot (seek's fetch or claim, feed's fetch): one more look counted (*looks: the failed looks so
 * far), and the slot not listed again before now_ms + *wait_ms, the wait base_ms doubled each failed look and
 * capped at cap_ms; never given up (the lists drop a slot once it is claimed by another or closed). now_ms is
 * CLOCK_MONOTONIC ms of this process: gt_cindex_open ends every wait. */
int gt_cindex_look_later(gt_cindex *ix, uint64_t job, uint64_t now_ms, uint64_t base_ms, uint64_t cap_ms,
                         uint64_t *looks, uint64_t *wait_ms, gt_err *err);

/* After a failed look at open slot job (gt_cindex_look_later) whose client's node did not answer (j: the slot):
 * every other open slot of j's client judged by court waits as long as job does (its note set to note), so that
 * N slots of a client whose node is down, hangs or refuses cost one look per wait, not N (each look may wait out a
 * card's or an input's timeout on the watcher thread); a slot this node holds the input of, or refused for good, is
 * left alone. *n: the slots put off. */
int gt_cindex_client_later(gt_cindex *ix, uint64_t job, const gt_cjob *j, const gt_addr *court, const char *note,
                           size_t *n, gt_err *err);
/* The keeper's work: jobs of who whose deadline may have passed at chain
 * time now_s and not put off past now_s: as client, or as the worker of a
 * submitted job, those past expiry or timed and in a phase (claimed or
 * submitted); as any party, a rejection open to appeal or a dispute; at most
 * max ids, the longest waiting first. */
int gt_cindex_due(gt_cindex *ix, const gt_addr *who, uint64_t now_s, uint64_t *ids, size_t max, size_t *n,
                  gt_err *err);
/* The judge's work (chain_judge.c): disputed jobs naming who as no party (its seat is read from the court), and
 * submitted quorum jobs (court their evaluator; its latest round is the case), not put off past now_s; at most max
 * ids, the longest waiting first. */
int gt_cindex_cases(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t now_s, uint64_t *ids,
                    size_t max, size_t *n, gt_err *err);
/* This node's note on a job (its last step, or why it did not act), kept with its work; get: "" when none. */
int gt_cindex_note(gt_cindex *ix, uint64_t job, const char *note, gt_err *err);
int gt_cindex_get_note(gt_cindex *ix, uint64_t job, char *out, size_t cap, gt_err *err);
/* Puts job off until chain time after_s (failed: one more failed try); *tries the failed tries so far. */
int gt_cindex_due_later(gt_cindex *ix, uint64_t job, uint64_t after_s, int failed, uint64_t *tries, gt_err *err);

/* ---- the node's side (chain_agent.c, chain_keeper.c) */
typedef struct gt_chain_market gt_chain_market;
struct gt_node;
/* Reads HOME/chain.json, opens the chain (its id must be the recorded one),
 * the index and, with cfg's key, the agent; starts the watcher thread. */
int gt_chain_market_start(struct gt_node *n, gt_chain_market **out, gt_err *err);
void gt_chain_market_stop(gt_chain_market *m); /* accepts NULL */
/* The chain id the market settles on (HOME/chain.json's, checked against the chain at start). */
uint64_t gt_chain_market_chain_id(const gt_chain_market *m);
/* One round of the keeper (chain_keeper.c): for the jobs of a's agent whose
 * deadline passed on chain, claimRefund or timeout as the escrow allows; with
 * a court (NULL: none), the appeal, dispute and quorum round steps as well;
 * seeder (a is the court's deployer): the court's seed links its draws wait for. */
void gt_chain_keep(gt_chain *c, gt_chain_account *a, const gt_addr *escrow, const gt_addr *court, int seeder,
                   gt_cindex *ix);
/* The deliverable of job j's latest submission as the chain holds it now, into out: the data of the last
 * JobSubmitted of j's id that escrow emitted in j->submitted_block (the block the index took it from), read from
 * the chain. A verdict or vote moves money, so it is on what the chain says was submitted, not on the index's copy
 * (its file could be altered; a reorganisation deeper than the depth could change the submission). GT_ESTATE when
 * that block holds none (tried again: the index starts over once it sees the reorganisation). */
int gt_chain_submitted(gt_chain *c, const gt_addr *escrow, const gt_cjob *j, uint8_t out[32], gt_err *err);
/* GT_CHAIN_SKILL on in (bytes, lines and words, as JSON) into out: deterministic, so any node re-runs it. */
int gt_chain_skill_run(const gt_buf *in, gt_buf *out, gt_err *err);
/* One round of the judge (chain_judge.c): for the disputes and submitted quorum jobs (their latest round) of the
 * index whose panel seats a's wallet, the job's input fetched from the worker's (else the evaluator's, the
 * client's) node and checked, the skill re-run, the vote committed, then revealed; no input, no vote (the reason
 * kept as the job's note). */
void gt_chain_judge(gt_chain *c, gt_chain_account *a, const gt_addr *court, const gt_addr *escrow,
                    const gt_addr *registry, gt_cindex *ix);
/* The contracts a node's agent reads: the court (zero address when none), the escrow, the agent registry. */
typedef struct gt_chain_deploy {
    const gt_addr *court, *escrow, *registry;
} gt_chain_deploy;
/* Job ij's input from the node of the agent that owner registered (found through d's registry, its card checked to
 * be owner's on this chain and escrow), asked with a request signed by a's wallet (gt_court_input_digest, expiring
 * GT_CHAIN_INPUT_TTL_S on); taken only when its keccak is the description hash, at most GT_CHAIN_INPUT_MAX bytes. */
int gt_chain_fetch_input(gt_chain *c, gt_chain_account *a, const gt_chain_deploy *d, const gt_cjob *ij,
                         const gt_addr *owner, gt_buf *in, gt_err *err);
/* A judge's request for an input (GET /v1/chain/jobs/{id}/input) holds until a unix time it names, at least
 * now and at most GT_CHAIN_INPUT_AHEAD_S ahead of the serving node's clock; the judge names GT_CHAIN_INPUT_TTL_S. */
#define GT_CHAIN_INPUT_AHEAD_S 600
#define GT_CHAIN_INPUT_TTL_S 300
/* 0 when expires_s is within [now_s, now_s + GT_CHAIN_INPUT_AHEAD_S] (GT_EINVAL otherwise) and sig_hex (65 bytes,
 * hex) is judge's signature of gt_court_input_digest for this chain, court, job and expiry (GT_ESIG or GT_EPERM
 * otherwise). No chain read: a serving node refuses a bad request before it opens a connection. */
int gt_chain_judge_signed(uint64_t chain_id, const gt_addr *court, uint64_t job, const gt_addr *judge,
                          uint64_t expires_s, uint64_t now_s, const char *sig_hex, gt_err *err);
/* 0 when who may read the input of j (job id: a quorum slot or job, funded and unclaimed) before claiming it: it
 * could claim it (neither its client nor evaluator, the worker it names if any, a seat left: its claims on the
 * slot's task under the task's seatsPerWorker, or on a job of no task that reopened under it under the job's
 * seats), it has an agent in d's registry, and its token balance and allowance to d's escrow (the free stake the
 * claim pulls) both cover j's stake; GT_EPERM with the reason (or the read's error) otherwise. */
int gt_chain_prospect_ok(gt_chain *c, const gt_addr *token, const gt_chain_deploy *d, uint64_t id,
                         const gt_escrow_job *j, const gt_addr *who, gt_err *err);
/* 0 when who has a seat left to claim open job id as the escrow counts seats (the seat rule of
 * gt_chain_prospect_ok alone); GT_EPERM with the reason when its seats are used, which is for good (seats are never
 * given back), or the read's error. */
int gt_chain_seat_left(gt_chain *c, const gt_addr *escrow, uint64_t id, const gt_addr *who, gt_err *err);
/* *task: the quorum task whose slot job id is (the escrow's tasks(t), whose slots are t .. t + slots - 1, looked
 * for up to GT_CHAIN_SLOTS_MAX back), 0 when it is no task's slot. */
#define GT_CHAIN_SLOTS_MAX 64 /* JobEscrow.MAX_SLOTS: a slot is at most this far after its task's id */
int gt_chain_task_of(gt_chain *c, const gt_addr *escrow, uint64_t id, uint64_t *task, gt_err *err);
/* 0 when the court seats judge on job's panel (a dispute); GT_EPERM (or the read's error) otherwise. */
int gt_chain_judge_seated(gt_chain *c, const gt_addr *court, uint64_t job, const gt_addr *judge, gt_err *err);
#endif
