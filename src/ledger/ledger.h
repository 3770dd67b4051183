/* ledger.h: the embedded ledger: a SQLite file (WAL) holding state, blocks and
 * the signed action log.
 *
 * Submitting: gt_ledger_submit verifies signatures in the calling thread (so
 * several threads verify in parallel: signature recovery is the cost worth
 * paying), then queues the actions for the ledger's writer thread, which
 * applies everything queued as one block in one SQLite transaction (group
 * commit). Submit returns when its actions are durable.
 *
 * Durability (fsync policy): journal_mode=WAL. The writer commits each
 * block without waiting for the disk (synchronous=NORMAL) and goes on to the
 * next; a syncer thread fsyncs the WAL and only then wakes the callers of
 * every block committed before that fsync (syncer.c). So gt_ledger_submit
 * returns once its actions are durable: an acknowledged action survives
 * kill -9 and power loss (on a disk that honours fsync;
 * tests/ledger/test_ledger_power.c drops every unsynced write at random
 * crash points). At most one fsync per block, fewer when blocks come faster
 * than the disk syncs; the fsync overlaps the building of the next block.
 * Other connections may read a block up to one fsync before it is durable.
 * The writer's commits never checkpoint: a checkpointer thread copies the
 * WAL into the database file on its own connection (checkpoint.c; each
 * checkpoint syncs the WAL before it copies and the database file before
 * the WAL restarts), holding the writer off between two blocks only to
 * copy the last few frames, so that the WAL restarts at about 1000 frames.
 *
 * Integrity: a writer's open checks the ledger first (check.h) and refuses
 * one changed outside the rules; gt_ledger_verify replays it in full.
 *
 * One process writes a ledger at a time (an flock on DB.lock); readers may
 * open it read-only alongside (WAL). */
#ifndef GT_LEDGER_LEDGER_H
#define GT_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/action.h"
#include "ledger/block.h"
#include "ledger/state.h"

typedef struct gt_genesis {
    uint64_t chain_id;
    gt_addr authority;        /* may mint: the faucet of a local network */
    uint64_t unbonding_blocks;
    uint64_t time_s;
    /* The windows a party must act within (state.h), part of the genesis
     * state root: a node cannot shorten them later, and a ledger whose stored
     * windows were edited is refused when opened. Each within
     * [GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S]; a 0 at
     * gt_ledger_create means GT_LEDGER_SHORT_WINDOW_S. */
    gt_windows windows;
    /* The block maker's secret for the draw seed chain (seed.h). All zero at
     * gt_ledger_create: 32 bytes from the OS, kept in the ledger's meta and
     * never shown. gt_genesis_domain needs the real one (the genesis hash
     * commits to the chain's anchors); gt_ledger_genesis gives it as zero. */
    uint8_t seed_secret[32];
    /* Not a genesis parameter (gt_ledger_create ignores it): the first height
     * whose block was made under format 9's rules, which refuse more agent
     * names than format 8's (the market's case-folded look-alike key) and
     * tally a quorum round at its deadline (a majority of the panel), and
     * enter a model or an evaluation in a funding round only on a bonded
     * panel's verdict (fund/fund_round.c: a quorum's, or a dispute the worker
     * won; not an evaluator's or the poster's own acceptance), read
     * from meta at open: 0 for a ledger created at format 9, the block after
     * the head for one a writer's open upgraded, UINT64_MAX for an older
     * store opened read-only as it is. The rules apply the stricter check
     * from it on (gt_tx.format9_height), so a replay decides every earlier
     * block as it was decided, where names legal then may now collide. */
    uint64_t format9_height;
    /* The same for format 10's rules: an eval attestation is refused when
     * its task's spec has each judge re-execute fewer than min(items,
     * GT_WORK_EVAL_CHECK_FLOOR) items (work/eval/attest.c), a dataset
     * enters a funding round only when a drawn, bonded panel accepted every
     * paid batch of its task (fund/fund_round.c), and points come only from
     * work a human-attested poster paid for (fund/fund_points.c); every block
     * from it commits both heights (ledger/block.c). 0 for a ledger created at
     * format 10; the block after the head for one a writer's open upgraded
     * (from format 9, or from an older one in one go, format9_height then
     * the same); UINT64_MAX for an older store opened read-only. */
    uint64_t format10_height;
    /* The same for format 11's rule: the panel votes of an eval task's
     * judging rounds (a quorum's verify round, a dispute) are sealed-only, a
     * vote_commit and then a reveal (market/commit.c, work/eval/attest.c's
     * eval_reveal), so a lazy judge cannot copy a diligent one's co-sign;
     * every block from it commits the three heights (ledger/block.c). 0 for
     * a ledger created at format 11; the block after the head for one a
     * writer's open upgraded (format9_height and format10_height the same
     * when it came from before them); UINT64_MAX for an older store opened
     * read-only. */
    uint64_t format11_height;
    /* The same for format 12's rule: an eval_cosign in the clear of a
     * slot's current attestation is refused while the slot can still come
     * before a panel (submitted, or rejected within its dispute window;
     * work/eval/attest.c), so a validator's clear co-sign made before a
     * dispute cannot be copied by a lazy member of that dispute's panel;
     * every block from it commits the four heights (ledger/block.c). 0 for
     * a ledger created at format 12; the block after the head for one a
     * writer's open upgraded (the older heights the same when it came from
     * before them); UINT64_MAX for an older store opened read-only. */
    uint64_t format12_height;
    /* The same for format 13's rule: a dataset_publish's rows are at most
     * the samples its task's paid batches hold (work/work.c: a batch paid
     * whole holds its batchItems, one settled pro rata the units its
     * per-unit verdict accepted), so a poster cannot claim a million rows
     * for a job that paid for 16 samples; every block from it commits the
     * five heights (ledger/block.c). 0 for a ledger created at format 13;
     * the block after the head for one a writer's open upgraded (the older
     * heights the same when it came from before them); UINT64_MAX for an
     * older store opened read-only. */
    uint64_t format13_height;
    /* The same for format 14's rule: a pairwise funding round weighs a
     * contributor only through the attestations whose nullifiers it recorded
     * in the round when it contributed (fund/fund_finalize.c), so a wallet
     * attested after it gave -- one human's second wallet -- adds no pair;
     * and a label task refuses a seat to an address attested as its
     * poster's own human (fund/label_task.c), and a contribution that
     * would take a round's total past GT_SUPPLY_MAX is refused
     * (fund/fund_round.c); every block from it commits
     * the six heights (ledger/block.c). 0 for a
     * ledger created at format 14; the block after the head for one a
     * writer's open upgraded (the older heights the same when it came from
     * before them); UINT64_MAX for an older store opened read-only. */
    uint64_t format14_height;
    /* The same for format 15's rule: an issuer's leave (human_issuer_leave)
     * counts in a pairwise round only when made before the round's endS
     * (fund/fund_finalize.c; the leave's block time kept in fd_issuer_left),
     * so an issuer leaving between endS and finalize no longer takes its
     * subjects' weight out of the round; and a slot paid from it records
     * its points only in the epoch it was paid in or the next
     * (fund/fund_points.c, market's mk_slot_paid); every block from it
     * commits the seven heights (ledger/block.c). 0 for a ledger created at format 15;
     * the block after the head for one a writer's open upgraded (the older
     * heights the same when it came from before them); UINT64_MAX for an
     * older store opened read-only. */
    uint64_t format15_height;
    /* The same for format 16's rules: an issuer that left withdraws its
     * bond only once every round whose window ended before its leave (where
     * its attestations still count, format 15) is finalized
     * (fund/fund_human.c), and a slot paid from format 15 on credits its
     * points to the epoch it was paid in, whenever recorded before that
     * epoch's close (fund/fund_points.c); every block from it commits the eight heights
     * (ledger/block.c). 0 for a ledger created at format 16; the block
     * after the head for one a writer's open upgraded; UINT64_MAX for an
     * older store opened read-only. */
    uint64_t format16_height;
} gt_genesis;

#define GT_DEFAULT_CHAIN_ID 1337
#define GT_DEFAULT_UNBONDING_BLOCKS 10
/* Unstaked funds stay unbonding at least this long: with 0, a judge could
 * leave in the block after it judged, before anyone could answer. */
#define GT_LEDGER_MIN_UNBONDING_BLOCKS 1
/* Bounds on the genesis windows: under 2 s a party cannot act at all (a
 * block's time may equal the one before); over a week, stakes and bonds stay
 * locked longer than any party waits for an answer (the market's deadlines
 * are bounded by GT_MARKET_MAX_WINDOW_S, which is larger). */
#define GT_LEDGER_WINDOW_MIN_S 2
#define GT_LEDGER_WINDOW_MAX_S 604800
/* The windows of a network made for machines: tests, the demo, scripted
 * flows (what a 0 at gt_ledger_create gives). Agents answer in a block or two. */
#define GT_LEDGER_SHORT_WINDOW_S 5
/* The windows `gotong init` gives a network by default: made for people,
 * who read a rejection, look at the work and type a command (10 minutes). */
#define GT_DEFAULT_PERSON_WINDOW_S 600

typedef struct gt_ledger gt_ledger;

enum { GT_LEDGER_READONLY = 1 };

/* Registers the core rules and creates a new ledger file with its genesis
 * block. Refuses to overwrite an existing file. */
int gt_ledger_create(const char *path, const gt_genesis *g, gt_err *err);
/* Opens a ledger. Caller frees with gt_ledger_close. */
int gt_ledger_open(const char *path, int flags, gt_ledger **out, gt_err *err);
void gt_ledger_close(gt_ledger *l); /* accepts NULL */

const gt_genesis *gt_ledger_genesis(const gt_ledger *l);
/* The EIP-712 domain every action on this ledger is signed under: its chain
 * id and, as salt, its genesis block hash. Signers take it from here (or from
 * a node's GET /v1/chain), never build it themselves. */
const gt_domain *gt_ledger_domain(const gt_ledger *l);
/* The same domain computed from genesis parameters alone (the genesis block
 * is a function of them): for tools and tests that know the genesis. */
void gt_genesis_domain(const gt_genesis *g, gt_domain *out);

/* Verifies, applies and durably commits n actions in order; fills res[i] for
 * each. Returns the number applied. Thread-safe. */
size_t gt_ledger_submit(gt_ledger *l, gt_action *acts, size_t n, gt_result *res);
/* The same in two halves, so a caller can verify its next batch while this
 * one commits: submit_async verifies the signatures in the calling thread and
 * queues the batch; gt_ledger_wait blocks until it is durable (res filled) and
 * frees the ticket. acts and res must stay valid until then. *ticket is NULL
 * when nothing was queued (read-only ledger, empty batch). */
typedef struct gt_ledger_ticket gt_ledger_ticket;
int gt_ledger_submit_async(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_ticket **ticket);
void gt_ledger_wait(gt_ledger *l, gt_ledger_ticket *ticket); /* accepts NULL */
/* The same without any thread waiting: returns 1 when the batch was queued,
 * and then done(arg) is called once, from a ledger thread, when every result
 * is final (applied and durable, or refused); 0 when every result is final
 * already (all refused before queueing, out of memory), and done is never
 * called. acts and res must stay valid until then; done must return quickly
 * and must not call the ledger (the node resumes an HTTP connection in it). */
typedef void (*gt_ledger_done_fn)(void *arg);
int gt_ledger_submit_cb(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_done_fn done, void *arg);
/* Makes a block with no actions (lets deadlines pass when nothing else happens). */
int gt_ledger_tick(gt_ledger *l, gt_err *err);

/* Nonce reservations: what lets a server run a paid route between checking a
 * signed payment (x402 on the embedded ledger, api/x402.h) and submitting
 * it, without the payer voiding it in between by spending its nonce on
 * something else. Nonces are taken in order, so only an action of the
 * payer's with the payment's own nonce can get in ahead of it.
 *
 * gt_ledger_reserve queues the reservation of (from, nonce) for the action
 * id through the writer's queue and waits for the writer's answer: when the
 * writer reaches it, every action queued before it has been applied (in an
 * earlier block or in the block being built), and it checks from's next
 * nonce in that state. Not nonce: GT_ENONCE. The same (from, nonce)
 * reserved already: GT_EEXIST. GT_LEDGER_RESERVE_MAX standing: GT_ELIMIT
 * (fail closed: the caller does not run what the payment pays for). Else it
 * stands, and the writer refuses every other action of from's with that
 * nonce (GT_ENONCE, "nonce N of 0x… is reserved by an x402 payment in
 * flight") and lets the action with that id through, until
 * gt_ledger_unreserve, or until a block's time reaches until_s (the
 * payment's validBefore: it can never apply from then on, and a reservation
 * its holder failed to release blocks nothing longer; 0: no such end).
 * GT_EPERM on a read-only ledger; a block that fails to commit fails the
 * reservations queued with it (the store's message).
 *
 * Reservations are the writer's, in memory only: not a rule, not in any
 * block, never read by a replay (gt_ledger_verify) or the open check, and
 * gone at a restart (the node runs nothing for a payment it has not
 * reserved since, and an unreserved payment is just an action). */
#define GT_LEDGER_RESERVE_MAX 256
int gt_ledger_reserve(gt_ledger *l, const gt_addr *from, uint64_t nonce, const uint8_t id[32], uint64_t until_s,
                      gt_err *err);
/* Ends the reservation of (from, nonce) for id, if it stands (idempotent:
 * one that lapsed or was never made is no error). Thread-safe. */
void gt_ledger_unreserve(gt_ledger *l, const gt_addr *from, uint64_t nonce, const uint8_t id[32]);
/* Reservations standing now (lapsed ones included until the writer next
 * meets them): for tests and /metrics. */
size_t gt_ledger_reservations(gt_ledger *l);

/* Block time. Each block's time is max(the writer's clock, the previous
 * block's time): monotonic, and never ahead of the clock of the node that
 * made it. Traffic cannot move it: a thousand self-transfers in a second
 * make blocks that all carry that second. A writer whose clock is more than
 * GT_LEDGER_MAX_CLOCK_DRIFT_S behind the last block's time refuses to make
 * blocks (it would stamp a time it has not seen; fix its clock), so every
 * block's time is within that bound of the clock that made it. Replay
 * (`ledger verify`) and the open check refuse a block whose time goes
 * backwards. Rules and modules read the time only as tx->time_s of the
 * block being built (begin_block sees it too), never the clock. */
#define GT_LEDGER_MAX_CLOCK_DRIFT_S 120

/* Fixes the clock used for new blocks' timestamps (0: wall clock). Block
 * times never go backwards whatever the clock says. Thread-safe. */
void gt_ledger_set_time(gt_ledger *l, uint64_t time_s);
/* The time a block made now would carry: max(the writer's clock, the head's
 * time). What a node checks an action's time window against before queueing
 * it (the rule checks it again on the block's own time). */
uint64_t gt_ledger_now_s(gt_ledger *l);

int gt_ledger_head(gt_ledger *l, gt_block *out, gt_err *err);
/* Whether the ledger holds its draw seed secret: 1, 0 (a copy made by
 * `ledger backup --no-secret`), or -1 when meta cannot be read. */
int gt_ledger_has_secret(gt_ledger *l);
int gt_ledger_block(gt_ledger *l, uint64_t height, gt_block *out, gt_err *err);
int gt_ledger_account(gt_ledger *l, const gt_addr *a, gt_account *out, gt_err *err);
uint64_t gt_ledger_supply(gt_ledger *l);

/* Counters since open (for /metrics and benchmarks). */
typedef struct gt_ledger_stats {
    uint64_t blocks, actions_applied, actions_refused;
    double apply_s;   /* writer time building blocks (rules, SQL writes, roots) */
    double commit_s;  /* writer time in COMMIT (writing the WAL; the fsync is the syncer's) */
    double sync_s;    /* syncer time syncing the WAL */
    uint64_t syncs;   /* WAL syncs (each covers every block committed before it) */
    double cpu_s;     /* CPU the writer thread used in all (not waiting: load on the machine barely moves it) */
    uint64_t pages_written; /* database pages the writer's commits wrote to the WAL (each one 4 KiB + a frame header) */
    double block_max_s; /* the longest block, from its BEGIN to the end of its COMMIT (merges of the id index) */
    uint64_t checkpoints;     /* checkpointer cycles: the WAL copied into the database file, off the writer's path */
    double checkpoint_s;      /* the checkpointer's time in them */
    uint64_t checkpoint_holds; /* cycles that held the writer off to copy the WAL's last frames (so that it restarts) */
    double checkpoint_hold_s; /* the time the writer was held off in them */
    uint64_t wal_frames_max;  /* the most frames the WAL held after a commit */
} gt_ledger_stats;
void gt_ledger_stats_get(gt_ledger *l, gt_ledger_stats *out);

/* Calls fn for each action of blocks [from, to] in order (stops when fn
 * returns non-zero). json is the action as stored (compact JSON with sig and id). */
typedef int (*gt_ledger_action_fn)(void *arg, uint64_t height, uint32_t index, const char *json);
int gt_ledger_each_action(gt_ledger *l, uint64_t from, uint64_t to, gt_ledger_action_fn fn, void *arg,
                          gt_err *err);
/* The same with the action decoded (its id computed), for readers that want
 * a few fields of each (the node's events and action index) and not JSON.
 * a is valid during the call only. The ledger keeps its statement prepared;
 * a caller that finds it in use (fn reading actions itself) gets its own. */
typedef int (*gt_ledger_decoded_fn)(void *arg, uint64_t height, uint32_t index, const gt_action *a);
int gt_ledger_each_decoded(gt_ledger *l, uint64_t from, uint64_t to, gt_ledger_decoded_fn fn, void *arg,
                           gt_err *err);

/* Finds an applied action by id through any connection to a ledger file
 * (e.g. a reader's own read-only one): fills *a and its block height and
 * index. GT_ENOTFOUND when no applied action has that id (refused actions
 * are not kept); GT_EDB when the store fails or the stored action is damaged. */
int gt_ledger_find_action(sqlite3 *db, const uint8_t id[32], gt_action *a, uint64_t *height, uint32_t *index,
                          gt_err *err);

/* Runs fn(arg, tx) with exclusive access to state (no block is being written):
 * for reads that need several rows consistently. */
int gt_ledger_read(gt_ledger *l, int (*fn)(void *arg, gt_tx *tx, gt_err *err), void *arg, gt_err *err);

/* Replays the whole log of the ledger at path into a fresh state: checks every
 * signature, nonce, rule, root and hash, then that the replayed state equals
 * the stored one. Fills a summary. */
typedef struct gt_verify_report {
    uint64_t blocks, actions;
    uint8_t head_hash[32];
    uint64_t supply;
    int secret_absent; /* a copy without the seed secret (GT_BACKUP_NO_SECRET): seeds checked block to block only */
} gt_verify_report;
typedef void (*gt_verify_progress)(void *arg, uint64_t done, uint64_t total);
int gt_ledger_verify(const char *path, gt_verify_report *rep, gt_verify_progress progress,
                     void *progress_arg, gt_err *err);

/* Copies the ledger at path to the new file out (refused if out exists,
 * or if its name ends -wal, -shm or -journal) as one consistent snapshot,
 * safely while a node writes it: the copy is a single SQLite file (no WAL)
 * of mode 0600 (it holds the draw seed secret), fsynced and put through a
 * writer's open check (check.h) before it takes its name, which it never
 * takes over a file made meanwhile; SIGINT, SIGTERM or SIGHUP on the way
 * removes the temp file. One backup a process at a time. *head gets the
 * copy's head block (backup.c). With GT_BACKUP_NO_SECRET the copy is for
 * someone who verifies: the secret is overwritten and removed, and the copy
 * is refused unless its bytes hold it nowhere; a node will not write on it. */
#define GT_BACKUP_NO_SECRET 1
int gt_ledger_backup(const char *path, const char *out, int flags, gt_block *head, gt_err *err);

#endif
