/* fund.h: funding open-source AI on the ledger -- the `fund` ledger module
 * (after work, before agent): funding rounds matched by quadratic funding
 * (qf.h), points earned by verified work paid out as Merkle airdrops
 * (airdrop.h), and proof-of-human attestations that weight the matching.
 *
 * Action kinds (JSON "type", then fields beside chainId/from/nonce/sig; all
 * times are seconds of block time, all amounts base units):
 *   fund_round_create   pool, startS, endS, rule, pairwiseM, name
 *                       opens a round; the pool is escrowed from the sender.
 *                       The round's id is the action's id.
 *   fund_round_enter    round, projectKind, ref
 *                       the owner of a published dataset (kind 1: ref = the
 *                       job, owner = its publisher), evaluation (kind 2:
 *                       ref = the attestation id, owner = its attester) or
 *                       trained model (kind 3: ref = the train task, owner =
 *                       its poster; the model is its slots' last checkpoint)
 *                       enters it, before the window ends; the owner is paid
 *   fund_contribute     round, project, amount
 *                       inside [startS, endS): the amount goes to the
 *                       project's owner at once; records the contributor's
 *                       proof-of-human nullifiers for the round
 *   fund_round_finalize round
 *                       anyone, at or after endS: computes the matches
 *                       (gt_fund_match), pays them from the pool, returns
 *                       the remainder to the creator
 *   human_issuer_register name       the sender, staked >= GT_FUND_ISSUER_MIN_STAKE:
 *                       that much moves from its stake into its issuer bond
 *                       (a lock, gt_fund_issuer_bond_id), which a proven
 *                       duplicate pair slashes (human_same); an issuer whose
 *                       bond was slashed under the minimum registers again
 *                       to top it up
 *   human_issuer_leave  (no fields) the issuer stops vouching at once (its
 *                       attestations weigh nothing from this block on); its
 *                       bond stays locked, and slashable, for the ledger's
 *                       unbonding period
 *   human_issuer_withdraw (no fields) once the period is over: the bond's
 *                       remainder goes back to the issuer's balance
 *   human_attest        subject, person, weightPpm, expiresS
 *                       a registered, staked issuer says subject is a human
 *                       (person: the issuer's opaque id of that human, the
 *                       seed of its nullifiers), weight in ppm, until expiresS
 *   human_revoke        subject       the issuer withdraws its attestation
 *   human_same          other         the sender says it is the same human
 *                       as other; once other says it too, every issuer that
 *                       attested both as different persons loses
 *                       GT_FUND_SYBIL_SLASH of its stake (burned) and those
 *                       two attestations (fund_sybil.c)
 *   points_record       task, slot    the worker of a paid slot records its
 *                       points in the epoch of the block (from format 16
 *                       the epoch it was paid in, until that epoch is
 *                       closed); once per slot
 *   airdrop_fund        epoch, amount escrows the pool of an epoch not yet
 *                       over (one funder per epoch before format 14; from
 *                       it several, each at least 0.01 token)
 *   airdrop_close       epoch         anyone, once the epoch is over (from
 *                       format 16 GT_AIRDROP_CLOSE_GRACE_S after its end): the
 *                       pool split by points into a Merkle tree (airdrop.h)
 *   airdrop_claim       epoch, index, amount, proof
 *                       the leaf's account, once, with its Merkle proof
 *                       (the siblings as hex, 64 digits each, no 0x)
 * The rules and the attacks they answer are described at the top of
 * fund_round.c, fund_human.c and fund_points.c. */
#ifndef GT_FUND_FUND_H
#define GT_FUND_FUND_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "ledger/action.h"

/* Limits on what comes from outside (each checked with a message). */
#define GT_FUND_NAME_MAX 64                   /* round or issuer name, bytes */
#define GT_FUND_ROUND_MAX_PROJECTS 256        /* projects entered in one round */
#define GT_FUND_ROUND_MAX_CONTRIBUTIONS 20000 /* distinct (contributor, project) pairs of one round */
#define GT_FUND_MIN_CONTRIBUTION 10000u       /* 0.01 token: dust splits cost a floor each */
#define GT_FUND_MAX_WINDOW_S (90u * 86400u)   /* a round's contribution window */
#define GT_FUND_MAX_LEAD_S (30u * 86400u)     /* how far ahead a window may start */
#define GT_FUND_ISSUER_MIN_STAKE 10000000u    /* 10 tokens staked to issue attestations */
#define GT_FUND_ATTEST_MAX_S (366u * 86400u)  /* an attestation's life at most */
#define GT_FUND_SYBIL_SLASH GT_FUND_ISSUER_MIN_STAKE /* burned from an issuer per proven duplicate pair */
#define GT_FUND_EPOCH_S 86400u                /* a points epoch: one day of block time */
/* From ledger format 16 airdrop_close(e) waits this long after epoch e's end
 * (block time, seconds): a slot paid in e's last blocks is still recorded
 * into e (fund_points.c paid_epoch) before another earner of e can close it
 * at once to keep the pool among fewer points. One epoch (a day): the time
 * format 15 gave such a slot (the epoch paid in or the next), and no longer,
 * since every claim of e waits for it too. */
#define GT_AIRDROP_CLOSE_GRACE_S GT_FUND_EPOCH_S
#define GT_FUND_EPOCH_MAX_ACCOUNTS 65536u     /* leaves of one epoch's tree */
#define GT_FUND_POINTS_PER_PAYER 100000000ull /* points one person's paid work gives an epoch (100 tokens) */
#define GT_FUND_PROOF_MAX 24                  /* siblings in a claim's proof (2^24 leaves) */
#define GT_FUND_EPOCH_MAX_FUNDERS 4096u       /* funders of one epoch (format 14): its close pays each back */

enum { GT_FUND_PROJECT_DATASET = 1, GT_FUND_PROJECT_EVAL = 2, GT_FUND_PROJECT_MODEL = 3 };
enum { GT_FUND_ROUND_OPEN = 0, GT_FUND_ROUND_FINALIZED = 1, GT_FUND_ROUND_FAILED = 2 };
enum { GT_FUND_EPOCH_FUNDED = 0, GT_FUND_EPOCH_CLOSED = 1 };

extern gt_action_kind gt_kind_fund_round_create, gt_kind_fund_round_enter, gt_kind_fund_contribute,
    gt_kind_fund_round_finalize, gt_kind_human_issuer_register, gt_kind_human_attest, gt_kind_human_revoke,
    gt_kind_points_record, gt_kind_airdrop_fund, gt_kind_airdrop_close, gt_kind_airdrop_claim, gt_kind_human_same,
    gt_kind_human_issuer_leave, gt_kind_human_issuer_withdraw;

/* Registers the work layer (and below), the fund kinds and the fund
 * module's tables. Call once at start, before opening a ledger. */
int gt_fund_register(gt_err *err);

/* The epoch of a block time. */
static inline uint64_t gt_fund_epoch_of(uint64_t time_s) { return time_s / GT_FUND_EPOCH_S; }

/* Readers for the API and the CLI (db: a ledger connection; new references,
 * NULL with err set on failure; GT_ENOTFOUND when there is no such row). */
json_t *gt_fund_round_get(sqlite3 *db, const uint8_t id[32], gt_err *err);
json_t *gt_fund_rounds_list(sqlite3 *db, uint64_t limit, gt_err *err);
/* An address's weight and attestations, and as an issuer its slashes. */
json_t *gt_fund_human_get(sqlite3 *db, const gt_addr *subject, uint64_t now_s, gt_err *err);
/* The slashes of issuer for duplicate pairs: [{first, second, burned, height}]. */
json_t *gt_fund_issuer_slashes(sqlite3 *db, const gt_addr *issuer, gt_err *err);
/* An epoch: its times (closeFromS: when airdrop_close is taken under format
 * 16), pool, status, root, and each account's points (open) or leaves (closed). */
json_t *gt_fund_epoch_get(sqlite3 *db, uint64_t epoch, gt_err *err);
/* The claim of account in a closed epoch: index, amount, proof (array of
 * 0x hex) and the proof string an airdrop_claim takes, and whether claimed. */
json_t *gt_fund_claim_get(sqlite3 *db, uint64_t epoch, const gt_addr *account, gt_err *err);

/* 0 when the dataset published for job may enter a funding round under
 * format 10's rule (fund_round.c): every batch of the task it was published
 * through that was accepted or paid stands accepted on a drawn, bonded
 * panel's verdict, and one at the least; GT_EPERM saying which batch (or
 * that none) otherwise. What a node's owners check before entering one. */
int gt_fund_dataset_panel_accepted(sqlite3 *db, const uint8_t job[32], gt_err *err);

/* The module's invariants (fund_invariants.c: fund-round-escrow,
 * fund-round-books, fund-epoch-escrow) over the whole store: 0, GT_EINVAL
 * naming the broken one, or GT_EDB. The ledger runs it after every block's
 * flush in builds with GT_INVARIANTS. */
struct gt_tx;
int gt_fund_check(struct gt_tx *tx, gt_err *err);

/* The proof-of-human weight (ppm) of who as the matching sees it at time
 * at_s: the largest weight among its attestations that are unrevoked,
 * unexpired at at_s and whose issuer is registered, has not left and still
 * holds at least GT_FUND_ISSUER_MIN_STAKE in its bond; 0 when none (fail
 * closed). */
int gt_fund_human_weight(sqlite3 *db, const gt_addr *who, uint64_t at_s, uint32_t *weight_ppm, gt_err *err);

/* The lock that holds issuer's bond: keccak256("gotong.fund.issuer-bond" ‖ issuer). */
void gt_fund_issuer_bond_id(const gt_addr *issuer, uint8_t out[32]);

#endif
