/* ledger_impl.h: private to the ledger's own three files, never included
 * from outside src/ledger. The gt_ledger struct and the helpers they share:
 *   ledger.c   opening and closing the store, the meta table, reads of the
 *              state and the log;
 *   genesis.c  the genesis parameters: creating a ledger, loading and
 *              checking them at open, the signing domain they fix;
 *   writer.c   the writer thread: the queue of submitted batches, building
 *              and committing one block per turn (group commit), ticks;
 *   syncer.c   the syncer thread: syncs the WAL under the blocks the writer
 *              committed, then wakes their callers;
 *   checkpoint.c  the checkpointer thread: copies the WAL into the database
 *              file on its own connection, never the writer's. */
#ifndef GT_LEDGER_LEDGER_IMPL_H
#define GT_LEDGER_LEDGER_IMPL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "ledger/ledger.h"
#include "ledger/seed.h"

/* Format 2: blocks carry the state digest; the signing domain binds the
 * network (genesis hash as EIP-712 salt); the actions root commits order.
 * Format 3: blocks reveal a draw seed from a hash chain fixed at genesis
 * (seed.h). */
/* Format 4: the dispute, vote and reveal windows are genesis parameters
 * (ledger.h), in meta and in the genesis state root. */
/* Format 5: the market's index of slot deadlines has a predicate SQLite
 * evaluates without a temporary B-tree (market.c); a format 4 store holds
 * the old index, which the deadline sweep cannot use. */
/* Format 6: the market keeps no index of slots by worker, and its index of
 * tasks by parent holds only tasks that have one (market.c): two pages
 * fewer in most blocks. Only indexes differ, so a format 5 store opens:
 * read-only as it is, for writing upgraded in place (the modules'
 * upgrade_sql, block.h). */
/* Format 7: the index of action ids is a set of sorted runs, keyed by
 * (run, id) and listed in id_runs (writer.c's index_ids), where format 6
 * kept one B-tree keyed by id alone: ids are random, so once that tree
 * outgrew a batch every batch rewrote about one page per id, and a ledger
 * slowed as it grew (bench_ledger 500000: 235 pages a block, ratio 0.88 in
 * its first round and 0.42 in its last). Only the index differs: a format 6
 * store opens read-only as it is, and for writing is upgraded in place (its
 * index becomes one run). */
/* Format 8: the market indexes agents by the impersonation key of their
 * name (market.c's mk_agents_name_key, an index on an expression), so that
 * registering checks a name with one lookup instead of reading every card,
 * and agents' skills by agent (mk_agent_skills_addr), so that writing a card
 * does not read every agent's skills. Indexes only, outside the state
 * digest: the rows are those of format 7.
 * Formats 6 and 7 open read-only as they are; for writing they are upgraded
 * in place (the index built from the stored cards, format 6's id index made
 * one run). An older binary refuses a format 8 store: its writer could not
 * keep that index (it lacks the index's SQL function). */
/* Format 9: the market also indexes agents by a second key of their name,
 * case folded before the look-alike skeleton (mk_agents_name_case_key), and
 * refuses a name whose second key is another agent's: format 8's key takes
 * the skeleton first, so a capital I became l and "ALICE" passed beside
 * "Alice". A stricter rule, so it applies from a height, format9_height in
 * meta (gt_genesis): 0 for a new ledger; for one upgraded, the block after
 * its head then, so names registered legally before stay, and a replay
 * accepts them. From the same height a quorum round is tallied at its
 * deadline (market/verdict.c: a side holding more than half of the panel's
 * weight decides, where format 8 timed an unsealed round out), so a silent
 * third of a panel cannot withhold a verdict; and a funding round takes a
 * model or an evaluation only when a drawn, bonded panel accepted it (a
 * quorum's verdict or a dispute the worker won; fund/fund_round.c), not on
 * an evaluator of the poster's choosing; older blocks replay as they
 * were decided. It also indexes tasks by spec (mk_tasks_spec), so that
 * GET /v1/tasks?spec= is one search, not a read of every task. Indexes and a
 * meta row only, outside the state digest: the rows are those of format 8.
 * Formats 6 to 8 open read-only as they are (no height: the new check never
 * applies); for writing they are upgraded in place (the indexes built from
 * the stored cards and tasks). An older binary refuses a
 * format 9 store (its writer lacks the index's SQL function and the rule). */
/* Format 10: stricter rules from a height, format10_height in meta
 * (gt_genesis): an eval attestation is refused when its task's spec has each
 * judge re-execute fewer than min(items, GT_WORK_EVAL_CHECK_FLOOR) items
 * (work/eval/attest.c: a promoter making up 10 of 50 lines survived a quorum
 * of 2 with probability 0.90 at check 1); a dataset enters a funding
 * round only when a drawn, bonded panel accepted every paid batch of its
 * task (fund/fund_round.c: not on the poster's or its named evaluator's
 * word); and airdrop points come only from work a human-attested poster
 * paid for, at most GT_FUND_POINTS_PER_PAYER a person an epoch
 * (fund/fund_points.c, its table fd_payer_points). From that height every
 * block's state root also commits format 9's and 10's heights
 * (ledger/block.c), so neither can be moved under a ledger unseen.
 * 0 for a new ledger; for one upgraded, the block after its head then (from
 * format 8 or older in one go, format9_height the same), so a replay decides
 * older blocks as they were decided. A meta row and one new, empty table:
 * the other tables are those of format 9. Formats 6 to 9 open read-only as
 * they are (no format 10 height); for writing they are upgraded in place.
 * An older binary refuses a format 10 store (it lacks the rules). */
/* Format 11: one stricter rule from a height, format11_height in meta
 * (gt_genesis): the panel votes of an eval task's judging rounds (a
 * quorum's verify round, a dispute) are sealed-only: vote_commit, then a
 * reveal (eval_reveal carries the co-sign's content), where format 10 took
 * them as co-signs in the clear, so a lazy seated judge could wait for a
 * diligent one's co-sign and copy it (market/commit.c, work/eval/attest.c).
 * From that height every block's state root commits format 11's height
 * beside format 9's and 10's (ledger/block.c). 0 for a new ledger; for one
 * upgraded, the block after its head then (from format 9 or older in one
 * go, the older heights the same), so a replay decides older blocks as they
 * were decided. A meta row only: the tables are those of format 10.
 * Formats 6 to 10 open read-only as they are (no format 11 height); for
 * writing they are upgraded in place. An older binary refuses a format 11
 * store (it lacks the rule and the eval_reveal kind). */
/* Format 12: one stricter rule from a height, format12_height in meta
 * (gt_genesis): an eval_cosign in the clear of a slot's current
 * attestation is refused while the slot can still come before a panel
 * (submitted, so it may be rejected and disputed; or rejected, before its
 * dispute window closes), where format 11 took it as a plain co-sign that
 * backs nothing, so a lazy validator later drawn onto the dispute's panel
 * could copy it into its sealed vote (work/eval/attest.c). From that
 * height every block's state root commits format 12's height beside the
 * older three (ledger/block.c). 0 for a new ledger; for one upgraded, the
 * block after its head then (from format 10 or older in one go, the older
 * heights the same). A meta row only: the tables are those of format 11.
 * Formats 6 to 11 open read-only as they are (no format 12 height); for
 * writing they are upgraded in place. An older binary refuses a format 12
 * store (it lacks the rule). */
/* Format 13: one stricter rule from a height, format13_height in meta
 * (gt_genesis): a dataset_publish's rows are at most the samples its
 * task's paid batches hold (a batch paid whole: its batchItems, the last
 * one lastBatchItems; one settled pro rata: the units its verdict
 * accepted), where format 12 took any 1 to GT_WORK_DATASET_MAX_ROWS
 * (work/work.c). From that height every block's state root commits format
 * 13's height beside the older four (ledger/block.c). 0 for a new ledger;
 * for one upgraded, the block after its head then (from format 11 or older
 * in one go, the older heights the same). A meta row only: the tables are
 * those of format 12. Formats 6 to 12 open read-only as they are (no format
 * 13 height); for writing they are upgraded in place. An older binary
 * refuses a format 13 store (it lacks the rule). */
/* Format 14: one stricter rule from a height, format14_height in meta
 * (gt_genesis): a pairwise funding round weighs each contributor only
 * through the attestations whose nullifiers it recorded in that round when
 * it contributed, where format 13 took every attestation valid at the
 * window's end, so one human gave from a wallet not yet attested (no
 * nullifier to collide) and had it attested as the same person afterwards:
 * two weighted wallets, a pair (fund/fund_finalize.c); and a label task
 * refuses a seat to an address attested as its poster's own human (one
 * issuer's person id, or a human_same pair; fund/label_task.c), where the
 * rule kept out the poster's address only; and a contribution that would
 * take a round's total past GT_SUPPLY_MAX is refused (fund/fund_round.c:
 * recycled past INT64_MAX it became a real number and froze the round).
 * From that height
 * every block's state root commits format 14's height beside the older
 * five (ledger/block.c). 0 for a new ledger; for one upgraded, the block
 * after its head then (from format 12 or older in one go, the older heights
 * the same). A meta row only: the tables are those of format 13. Formats 6
 * to 13 open read-only as they are (no format 14 height); for writing they
 * are upgraded in place. An older binary refuses a format 14 store (it
 * lacks the rule). */
/* Format 15: one stricter rule from a height, format15_height in meta
 * (gt_genesis): a pairwise round counts an issuer's leave
 * (human_issuer_leave) only when made before its endS, so an issuer that
 * leaves between endS and finalize no longer takes its subjects' weight
 * out of the round (fund/fund_finalize.c); from that height a leave keeps
 * its block time in fd_issuer_left, a table format 15 adds (empty until
 * then: the state digest of older blocks is unchanged); and a slot paid
 * from that height records its points only in the epoch it was paid in or
 * the next (fund/fund_points.c; the payment's block time in the market's
 * mk_slot_paid, new and empty the same way), where a worker kept paid
 * slots for whichever later epoch paid best per point. From that height
 * every block's state root commits format 15's height beside the older
 * six (ledger/block.c). 0 for a new ledger; for one upgraded, the block
 * after its head then (from format 13 or older in one go, the older
 * heights the same). Formats 6 to 14 open read-only as they are (no format
 * 15 height); for writing they are upgraded in place. An older binary
 * refuses a format 15 store (it lacks the rule). */
/* Format 16: three stricter rules from a height, format16_height in meta
 * (gt_genesis; no new table): human_issuer_withdraw is refused while a
 * round whose window ended before the issuer's leave is not finalized (its
 * attestations still count there, so its bond stays at stake),
 * points_record credits a slot paid from format 15 on to the epoch it was
 * paid in, whenever it is recorded before that epoch's close (the recorder
 * chose between two epochs before), and airdrop_close waits
 * GT_AIRDROP_CLOSE_GRACE_S after the epoch's end (else an earner closed it
 * at once, before a worker paid late in it recorded). From that height
 * every block's state root commits format 16's height beside the older
 * seven (ledger/block.c). 0 for a new ledger; for one upgraded, the block
 * after its head then.
 * Formats 6 to 15 open read-only as they are (no format 16 height); for
 * writing they are upgraded in place. An older binary refuses a format 16
 * store (it lacks the rules). */
#define GT_LEDGER_FORMAT 16
/* The oldest format a writer's open upgrades and a reader opens as it is. */
#define GT_LEDGER_FORMAT_OLDEST 6

/* Actions the id index may lag behind the log (bounds the scan in
 * gt_ledger_find_action to this many recent rows): each batch becomes one
 * run of level 0. */
#define GT_LEDGER_ID_BATCH 4096
/* Runs of one level merged into one run of the next once there are this
 * many, up to GT_LEDGER_ID_LEVEL_TOP, whose runs stay as they are: an id is
 * rewritten at most GT_LEDGER_ID_LEVEL_TOP times, the largest merge
 * rewrites GT_LEDGER_ID_BATCH * FANOUT^TOP ids (262,144) in one block, and a
 * lookup searches at most (FANOUT - 1) * TOP runs plus one a top run
 * (262,144 actions). */
#define GT_LEDGER_ID_FANOUT 8
#define GT_LEDGER_ID_LEVEL_TOP 2

/* The checkpointer (checkpoint.c) starts a cycle once the WAL holds this
 * many frames (SQLite's own automatic checkpoint starts at 1000): about
 * 4 MiB, a hundred market blocks. */
#define GT_LEDGER_CKPT_FRAMES 1000
/* Past this many cycles' worth of frames (40 MiB), which only a reader
 * holding a snapshot lets the WAL reach, a cycle waits for readers, at most
 * GT_LEDGER_CKPT_READER_WAIT_MS, with the writer held off. */
#define GT_LEDGER_WAL_MAX_CYCLES 10
#define GT_LEDGER_CKPT_READER_WAIT_MS 1000
/* Bytes of a WAL frame: a 4 KiB page and its 24-byte header. */
#define GT_LEDGER_WAL_FRAME_BYTES 4120

/* A nonce reservation (gt_ledger_reserve): the request the writer answers
 * in res, and, once it stands, an entry of the ledger's table. */
typedef struct gt_ledger_resv {
    gt_addr from;
    uint64_t nonce;
    uint64_t until_s; /* lapses in a block of this time or later (0: never) */
    uint8_t id[32];   /* the one action with (from, nonce) let through */
    gt_result res;    /* the writer's answer (a request only) */
    int held;         /* a request only: the writer put it in the table */
} gt_ledger_resv;

/* A caller's batch waiting for the writer. */
typedef struct gt_ledger_pending {
    gt_action *acts;
    gt_result *res;
    size_t n;
    int tick, done;
    gt_ledger_resv *resv; /* a reservation to make at this point of the queue (n == 0) */
    struct gt_ledger_ticket *ticket; /* the submit it is part of (NULL: a tick) */
    struct gt_ledger_pending *next;
} gt_ledger_pending;

/* One submit: its batches, one per block-sized chunk. A waiter frees it in
 * gt_ledger_wait; one with a callback is freed by the ledger once
 * on_done(on_done_arg) was called. */
struct gt_ledger_ticket {
    gt_ledger_pending *parts;
    size_t n_parts, parts_left; /* parts_left: not done yet (under mu) */
    gt_ledger_done_fn on_done;  /* NULL: a thread waits in gt_ledger_wait */
    void *on_done_arg;
    struct gt_ledger_ticket *next_fire; /* writer.c's list of callbacks due */
};

/* A read statement a ledger keeps prepared for calls that come at every
 * block (the node's watcher: preparing cost it as much as the reading). A
 * caller that finds it in use (another thread, or a callback reading the
 * same way) prepares one of its own. See ledger.c kept_take / kept_put. */
typedef struct gt_kept_stmt {
    sqlite3_stmt *q; /* prepared on first use, finalized at close */
    int busy;        /* __atomic: q is handed out */
} gt_kept_stmt;

struct gt_ledger {
    char path[4096];
    int readonly, lock_fd;
    sqlite3 *db;
    gt_genesis g;
    gt_domain dom;
    gt_state *state;
    gt_block head;
    pthread_mutex_t mu;       /* queue, flags */
    pthread_cond_t cv;        /* work for the writer */
    pthread_cond_t done_cv;   /* a batch is committed and synced */
    gt_ledger_pending *q_head, *q_tail;
    int writer_active, stop, has_writer;
    pthread_t writer;
    pthread_cond_t sync_cv;   /* work for the syncer (under mu, as its queue) */
    gt_ledger_pending *s_head, *s_tail; /* committed, not yet synced */
    int sync_stop, has_syncer;
    int syncing;              /* the syncer is in an fsync (under mu) */
    /* The syncer's counters, under mu, which it takes anyway to wake the
     * callers: under state_mu, held while the writer builds a block, each
     * acknowledgment waited for the next block's build (the path from a
     * block's commit to its callers takes no state_mu). */
    uint64_t syncs;
    double sync_s;
    int sync_failed;          /* __atomic: a sync failed, the writer refuses everything */
    char sync_msg[GT_ERR_MSG_MAX]; /* why (under mu) */
    pthread_t syncer;
    sqlite3_file *wal;        /* the syncer's own handle on the WAL */
    char wal_path[4200];      /* its name (the VFS keeps the pointer while it is open) */
    pthread_mutex_t state_mu; /* held while a block is written, and by readers */
    uint64_t fixed_time_s;
    sqlite3_stmt *ins_action, *ins_block;
    sqlite3_stmt *begin, *commit; /* the writer's BEGIN IMMEDIATE and COMMIT, parsed once */
    sqlite3_stmt *meta_get;   /* gt_ledger_meta_get's, prepared on first use */
    gt_kept_stmt each_q;      /* gt_ledger_each_decoded's */
    gt_kept_stmt block_q;     /* gt_ledger_block's */
    gt_ledger_stats stats;    /* under state_mu */
    uint64_t unindexed;       /* actions not yet in action_ids (writer only) */
    uint32_t id_batch;        /* GT_LEDGER_ID_BATCH but in tests; under state_mu */
    uint8_t (*ids)[32];       /* scratch: ids of the block being built */
    size_t ids_cap;
    gt_seed_chain seed;       /* writer only: the draw seeds this node reveals */
    /* The checkpointer (checkpoint.c). ck_hold is held by the writer for
     * each block (BEGIN to COMMIT) and by the checkpointer to copy the
     * WAL's last frames between two blocks; order: ck_hold, state_mu, ck_mu. */
    pthread_t ckpt;
    int has_ckpt;
    sqlite3 *ck_db;           /* its own connection: the writer's never checkpoints */
    pthread_mutex_t ck_hold;
    pthread_mutex_t ck_mu;    /* the fields below */
    pthread_cond_t ck_cv;     /* a cycle is due, or stop */
    int ck_stop;
    uint32_t ck_frames;       /* GT_LEDGER_CKPT_FRAMES but in tests */
    int wal_frames;           /* frames in the WAL after the writer's last commit */
    int ck_base;              /* the WAL's frames when the last cycle ended (0 once the WAL restarted) */
    int ck_restart_at;        /* frames from which a cycle waits for readers (SQLITE_CHECKPOINT_RESTART) */
    gt_ledger_stats ck_stats; /* its counters: checkpoints, checkpoint_holds, checkpoint_s, _hold_s, wal_frames_max */
    /* Nonce reservations standing (gt_ledger_reserve): added by the writer
     * only, in queue order; removed by gt_ledger_unreserve from any thread
     * or by the writer once lapsed. resv_mu is a leaf lock (taken under
     * state_mu by the writer, alone by others). n_resv is also read
     * without it (__atomic) by the writer, which alone adds: 0 then means
     * none stands. */
    pthread_mutex_t resv_mu;
    gt_ledger_resv resv[GT_LEDGER_RESERVE_MAX];
    size_t n_resv;
};

/* ledger.c: the store. */

/* Runs SQL that returns no rows: 0 or GT_EDB with SQLite's message. */
int gt_ledger_exec(sqlite3 *db, const char *sql, gt_err *err);
/* Opens the SQLite file (WAL, synchronous=FULL for a writer, until
 * gt_ledger_sync_open hands the syncs to the syncer; query_only for a
 * reader). */
int gt_ledger_open_db(const char *path, int readonly, sqlite3 **out, gt_err *err);
/* Creates every table: chain, state, and each registered module's. */
int gt_ledger_create_schema(sqlite3 *db, gt_err *err);
/* Sets meta[key] to v. */
int gt_ledger_meta_put_u64(sqlite3 *db, const char *key, uint64_t v, gt_err *err);
/* Reads meta[key] as an integer into *u and/or as a blob of exactly
 * blob_len bytes into blob (either may be NULL). GT_EDB when missing. */
int gt_ledger_meta_get(gt_ledger *l, const char *key, uint64_t *u, uint8_t *blob, int blob_len, gt_err *err);
/* What a writer's open checks of the seed secret in meta (it is there, 32
 * bytes, and makes the head block's draw seed and anchor), for `ledger
 * verify`, which must refuse whatever a writer's open would. Reads the
 * secret into a scratch copy, never shown. 0, GT_EDB or GT_EINVAL; GT_ENOTFOUND
 * when meta has no secret (a copy made by GT_BACKUP_NO_SECRET). */
int gt_ledger_seed_check(gt_ledger *l, gt_err *err);

/* genesis.c: the genesis parameters. */

/* Reads the genesis parameters from meta, refusing another format or a
 * window out of bounds. */
int gt_ledger_load_genesis(gt_ledger *l, gt_genesis *g, gt_err *err);
/* Refuses parameters g that the genesis block does not commit to. */
int gt_ledger_genesis_matches(const gt_genesis *g, const gt_block *genesis, gt_err *err);

/* writer.c: the writer thread (started by gt_ledger_open with l as arg). */
void *gt_ledger_writer_main(void *arg);
/* For tests: index action ids every n actions (GT_LEDGER_ID_BATCH by
 * default), so that runs and their merges come after a few actions. */
void gt_ledger_set_id_batch(gt_ledger *l, uint32_t n);

/* Marks every batch of list done, wakes the threads waiting and calls the
 * callbacks of the submits this completed; l->mu held on entry and on
 * return (released around the callbacks). */
void gt_ledger_finish(gt_ledger *l, gt_ledger_pending *list);

/* Fails the reservation request rq with code and msg unless it failed
 * already, taking it out of the table when the writer had put it there
 * (its block was not committed, or not synced). */
void gt_ledger_resv_fail(gt_ledger *l, gt_ledger_resv *rq, int code, const char *msg);

/* syncer.c: opens the syncer's handle on the WAL of a writer's store, syncs
 * the folder once and switches the connection to synchronous=NORMAL (the
 * syncer syncs instead), before the threads start. */
int gt_ledger_sync_open(gt_ledger *l, gt_err *err);
/* Closes that handle (the syncer has stopped). */
void gt_ledger_sync_close(gt_ledger *l);
/* Hands the batches of a committed block to the syncer (l->mu held); also
 * a list that made no block while a sync is due or running, so that no
 * answer goes out before the state it was read from is on disk. */
void gt_ledger_sync_push(gt_ledger *l, gt_ledger_pending *list);
/* The syncer thread (started by gt_ledger_open with l as arg). */
void *gt_ledger_syncer_main(void *arg);

/* checkpoint.c: opens the checkpointer's connection on a writer's store and
 * hooks the writer's commits (which stop checkpointing), before the threads
 * start. */
int gt_ledger_ckpt_open(gt_ledger *l, gt_err *err);
/* The checkpointer thread (started by gt_ledger_open with l as arg). */
void *gt_ledger_ckpt_main(void *arg);
/* Stops the checkpointer thread (a cycle under way ends first); then
 * gt_ledger_ckpt_close closes its connection, before the writer's. */
void gt_ledger_ckpt_stop(gt_ledger *l);
void gt_ledger_ckpt_close(gt_ledger *l);
/* For tests: start a cycle every `frames` frames (GT_LEDGER_CKPT_FRAMES by
 * default), so that cycles and restarts come after a few blocks. */
void gt_ledger_set_ckpt_frames(gt_ledger *l, uint32_t frames);
/* For tests: called by gt_ledger_backup once its copy is checked, just
 * before the copy takes the name out (NULL: nothing), so a test can make a
 * file there in between as another program could. */
extern void (*gt_ledger_backup_before_name)(const char *out);

#endif
