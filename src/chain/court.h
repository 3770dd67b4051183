/* court.h: the dispute court (contracts/DisputeCourt.sol) driven from C:
 * deployment of the court with its escrow, validators' stake, the panel's
 * draw, sealed votes (commit, then reveal) and the case's resolution. Each
 * call is one transaction waited for at the chain's confirmation depth; a call
 * the contract would refuse is refused before anything is sent, with the
 * contract's reason (client.h), so a failed call never reads as done.
 *
 * The rules live in the contract; this file encodes calls, computes a sealed
 * vote's commitment exactly as the contract does, and derives the vote's salt
 * from the judge's key (so nothing needs storing between commit and reveal).
 *
 * The panel's seed comes from the court's seed chain (DisputeCourt.sol's
 * header): the deployer commits link 0 at bind and reveals the links after it
 * one transaction at a time, as cases wait for them. The chain is derived
 * from the deployer's key, so the deployer's wallet alone can reveal, and
 * nothing needs storing. It is cut into segments of L links (the court's
 * seedLinks, GT_COURT_SEED_LINKS unless a test asks for fewer), as the
 * ledger's seed chain is (ledger/seed.h): segment k is the hash chain
 * c_k[j - 1] = keccak(c_k[j]) from its top c_k[L] = keccak(tag ‖ secret),
 * with be64(k) after the secret for k >= 1; its anchor is c_k[0], and link
 * i >= 1 is c_k[i - kL] for k = (i - 1) / L. Link 0 is A_0. bind commits A_0
 * and A_1; each later anchor is committed by gt_court_seed_reveal while the
 * court still takes it (DisputeCourt.commitSeedAnchor). */
#ifndef GT_CHAIN_COURT_H
#define GT_CHAIN_COURT_H
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"
#include "chain/client.h"

#define GT_COURT_PANEL_SEATS 63 /* DisputeCourt.PANEL_SEATS, the ledger's GT_MARKET_PANEL_SEATS */
#define GT_COURT_MAX_WINDOW_S (366ull * 86400) /* a window longer than a year is refused here */
/* Links per segment of a court's seed chain (two reveals per lone draw, shared by draws waiting together); the next
 * segment's anchor is committed before one runs out. 2^16 keccaks a reveal batch, a few ms. */
#define GT_COURT_SEED_LINKS 65536u
#define GT_COURT_SEED_BATCH 64u /* links revealed per gt_court_seed_reveal at most */

typedef enum gt_court_state { GT_COURT_NONE, GT_COURT_DRAWING, GT_COURT_VOTING, GT_COURT_RESOLVED } gt_court_state;
typedef enum gt_court_vote { GT_COURT_VOTE_NONE, GT_COURT_COMMITTED, GT_COURT_ACCEPT, GT_COURT_REJECT } gt_court_vote;

/* The court's windows, in seconds of block time, and its seed chain's links per segment (0: GT_COURT_SEED_LINKS;
 * fewer only so that a test can cross a segment's end). */
typedef struct gt_court_windows {
    uint64_t dispute_s, commit_s, reveal_s, unbonding_s;
    uint64_t seed_links;
} gt_court_windows;

typedef struct gt_court_case {
    gt_court_state state;
    /* the seed chain's link that draws the panel; block times (an undrawn dispute's reveal_end: its deadline, after
     * which resolve closes it undecided and draw is refused) */
    uint64_t draw_link, commit_end, reveal_end;
    uint64_t total, accept_w, reject_w, members; /* the panel's weight and the revealed sides' */
} gt_court_case;

/* Calls of one number (an amount or a job id). */
typedef enum gt_court_step {
    GT_COURT_STAKE,   /* stake(amount): the sender must have approved the court */
    GT_COURT_EXIT,    /* requestExit(amount) */
    GT_COURT_WITHDRAW,/* withdraw(): the number is ignored */
    GT_COURT_DRAW,    /* draw(jobId): once its seed link is revealed (gt_court_seed_reveal) */
    GT_COURT_RESOLVE, /* resolve(jobId): a vote over, or a dispute left undrawn past its deadline (undecided) */
    GT_COURT_CLOSE_UNJUDGED, /* closeUnjudged(jobId): a quorum round past its window, undecided; a sealed one at
                                its reveal deadline, decided by its revealed votes or timed out at the escrow */
} gt_court_step;

/* Deploys DisputeCourt(token, windows) and JobEscrow(token, court) from the
 * creation code in dir, then binds the court to the escrow and to the anchors
 * of the first two segments of a's seed chain for it; *gas gets the sum. */
int gt_court_deploy(gt_chain *c, gt_chain_account *a, const char *dir, const gt_addr *token,
                    const gt_court_windows *w, gt_addr *court, gt_addr *escrow, uint64_t *gas, gt_err *err);
int gt_court_do(gt_chain *c, const gt_addr *court, gt_chain_account *a, gt_court_step step, uint64_t arg,
                uint64_t *gas, gt_err *err);
/* keccak(accept ‖ salt ‖ judge ‖ court ‖ chainid ‖ jobId): DisputeCourt.commitmentOf. */
void gt_court_commitment(int accept, const uint8_t salt[32], const gt_addr *judge, const gt_addr *court,
                         uint64_t chain_id, uint64_t job_id, uint8_t out[32]);
/* A judge's salt for one case: keccak of a tag, its private key, the court, the chain and the job. */
void gt_court_salt(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint64_t job_id, uint8_t out[32]);
/* commit(jobId, commitment) with the key-derived salt; reveal(jobId, accept, salt) with the same. */
int gt_court_commit(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                    uint64_t *gas, gt_err *err);
int gt_court_reveal(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                    uint64_t *gas, gt_err *err);
/* The same on round `round` of a quorum job (roundOf after its claim): the commitment and the salt are over the
 * round's case key jobId | round << 160 (DisputeCourt.caseKey), so a judge's vote on one round opens on no other;
 * round 0 is a dispute's key (the functions above). The court takes the sealed votes of a quorum job's latest round
 * in its verify window and the reveals after it (DisputeCourt.sol's header). */
void gt_court_round_commitment(int accept, const uint8_t salt[32], const gt_addr *judge, const gt_addr *court,
                               uint64_t chain_id, uint64_t job_id, uint32_t round, uint8_t out[32]);
void gt_court_round_salt(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint64_t job_id, uint32_t round,
                         uint8_t out[32]);
int gt_court_commit_round(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, uint32_t round,
                          int accept, uint64_t *gas, gt_err *err);
int gt_court_reveal_round(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, uint32_t round,
                          int accept, uint64_t *gas, gt_err *err);
/* roundOf(jobId): the rounds a quorum job has opened (its claims; 0 for a job no quorum judges). */
int gt_court_round_of(gt_chain *c, const gt_addr *court, uint64_t job_id, uint32_t *round, gt_err *err);
/* vote(jobId, accept) in the clear (the ledger's dispute_vote): refused once a
 * commitment sealed the case; settles the case when it decides it. */
int gt_court_vote_open(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                       uint64_t *gas, gt_err *err);
int gt_court_get(gt_chain *c, const gt_addr *court, uint64_t job_id, gt_court_case *out, gt_err *err);
/* A judge's seat: its weight (0: not on the panel) and vote. */
int gt_court_seat(gt_chain *c, const gt_addr *court, uint64_t job_id, const gt_addr *judge, uint64_t *weight,
                  gt_court_vote *vote, gt_err *err);
const char *gt_court_state_name(gt_court_state s);
/* What a judge signs to be served a disputed job's input by a party's node (src/api/chain_judge.c): keccak of a
 * tag, be64(chain id), the court, be64(job) and be64(expires_s, a unix time after which the serving node refuses
 * it), so a signature opens no other job, court or chain, and a captured request is not replayed later. */
void gt_court_input_digest(uint64_t chain_id, const gt_addr *court, uint64_t job_id, uint64_t expires_s,
                           uint8_t out[32]);

/* The seed chain's secret for one court: keccak of a tag, the deployer's private key, the court and the chain. */
void gt_court_seed_secret(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint8_t out[32]);
/* Link `index` (0: the anchor bind commits) of secret's chain cut into segments of `links` (>= 3). */
void gt_court_seed_link(const uint8_t secret[32], uint64_t links, uint64_t index, uint8_t out[32]);
/* The anchor of segment k (c_k[0]) of secret's chain of `links` per segment. */
void gt_court_seed_anchor(const uint8_t secret[32], uint64_t links, uint64_t k, uint8_t out[32]);
/* seedCount (links revealed) and seedNeed (the link the latest scheduled draw waits for). */
int gt_court_seed_state(gt_chain *c, const gt_addr *court, uint64_t *count, uint64_t *need, gt_err *err);
/* As the court's deployer a: reveals the links after seedCount up to seedNeed (GT_COURT_SEED_BATCH at most), one
 * transaction each, each waited for before the next is sent (so no link after the next one ever sits in a mempool:
 * see DisputeCourt.sol), and commits the next segment's anchor when none is (commitSeedAnchor). *revealed (may be
 * NULL) gets how many; 0 when none was wanted. GT_ECHAIN when a is not the deployer (the court refuses its links),
 * or when a segment ran out with no next anchor committed in time (draws stop: a new court is deployed). *gas (may
 * be NULL) gets the sum spent. */
int gt_court_seed_reveal(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t *revealed, uint64_t *gas,
                         gt_err *err);
#endif
