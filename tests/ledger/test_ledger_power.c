/* test_ledger_power.c: durability under power loss, not just kill -9.
 *
 * A kill -9 leaves the OS page cache intact, so it proves atomicity only.
 * Here the SQLite VFS shim of crash_vfs.h drops every write not yet synced
 * at a random crash point (the I/O call after which the power is off), 100
 * trials, some crashes landing inside WAL checkpoints (the ledger's own
 * checkpointer's, at a cycle of CKPT_FRAMES frames so that a trial holds
 * several, and a second connection's): the ledger is then
 * reopened from what a disk that honours fsync would hold. Proven, with the ledger's journal_mode=WAL and
 * its syncer: every action whose submit returned success is in the
 * recovered ledger, which passes the open check and a full replay.
 *
 * The control shows the shim has teeth: plain SQLite in WAL mode with
 * synchronous=NORMAL (commit without fsync) loses acknowledged rows under
 * the same crashes; with FULL it loses none. The ledger itself commits with
 * NORMAL and acknowledges only after its syncer's fsync (syncer.c): what
 * this proves is that ordering; a syncer that acknowledged without its
 * fsync loses hundreds of actions here. */
#include <pthread.h>

#include "../test.h"
#include "crash_vfs.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "ledger/ledger_impl.h"

#define TRIALS 100
#define SUBMITS 40    /* batches per trial (one block each) */
#define BATCH_MAX 4
#define SEED 0x10ca5eedull
#define CKPT_FRAMES 24 /* the checkpointer's cycle (checkpoint.c): a trial writes about 200 frames */

static gt_key K[3];
static gt_addr A[3];
static uint64_t rng_state = SEED;

/* xorshift64*: a fixed sequence, so a failing trial can be replayed. */
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* One control trial on plain SQLite; returns the acknowledged rows lost. */
static long control_trial(const char *dir, int full, long crash_at, long *acked_out) {
    char path[128];
    snprintf(path, sizeof path, "%s/control-%s.db", dir, full ? "full" : "normal");
    unlink(path);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(x)"
                                       : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(x)",
                              NULL, NULL, NULL), SQLITE_OK);
    /* The table is on disk (synced) before the power can go. */
    CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    cvfs_arm(crash_at);
    long acked = 0;
    for (int i = 0; i < 200; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%d)", i);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) break;
        acked = i + 1;
    }
    sqlite3_close(db);
    cvfs_revert();
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    long found = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        found = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK(found >= 0);
    *acked_out = acked;
    return found >= acked ? 0 : acked - found;
}

static void test_shim_has_teeth(void) {
    char dir[64];
    tledger_path(dir);
    long lost_normal = 0, lost_full = 0, acked_normal = 0, acked_full = 0;
    for (int t = 0; t < 20; t++) {
        long crash_at = 1 + (long)(rng() % 300), a;
        lost_normal += control_trial(dir, 0, crash_at, &a);
        acked_normal += a;
        lost_full += control_trial(dir, 1, crash_at, &a);
        acked_full += a;
    }
    fprintf(stderr, "  control: synchronous=NORMAL lost %ld of %ld acknowledged rows; FULL lost %ld of %ld\n",
            lost_normal, acked_normal, lost_full, acked_full);
    CHECK(acked_normal > 0 && acked_full > 0);
    CHECK(lost_normal > 0); /* the shim does drop unsynced writes */
    CHECK_EQ_INT(lost_full, 0);
    trm(dir);
}

/* A fresh funded ledger in dir (created and funded with the power on). */
static gt_ledger *funded(char dir[64], char path[128], gt_domain *dom) {
    tledger_path(dir);
    snprintf(path, 128, "%s/ledger.db", dir);
    gt_genesis g = {.chain_id = 3, .authority = A[0], .unbonding_blocks = 2, .time_s = 1700000000};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_ckpt_frames(l, CKPT_FRAMES);
    *dom = *gt_ledger_domain(l);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_mint, dom, &K[0], 0, &A[1], 1000 * GT_AMOUNT_UNIT);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    return l;
}

/* Copies the WAL into the database file from a second connection, as
 * SQLite's automatic checkpoint does once the WAL is large: so that crashes
 * also land in the middle of checkpoints (which write and sync the database
 * file itself). Errors are expected once the power is off. */
static void checkpoint(const char *path) {
    sqlite3 *db;
    /* A statement first: a fresh connection learns the file is in WAL mode
     * only when it reads it. */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_exec(db, "SELECT count(*) FROM blocks", NULL, NULL, NULL) == SQLITE_OK) {
        int log = -1, done = -1;
        int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (getenv("GT_TEST_VERBOSE")) fprintf(stderr, "checkpoint rc %d: %d of %d frames\n", rc, done, log);
    }
    sqlite3_close(db);
}

/* gt_ledger_submit through the callback (gt_ledger_submit_cb), waiting for
 * it: acknowledged when the callback came. */
typedef struct cb_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} cb_wait;

static void cb_wake(void *arg) {
    cb_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void submit_by_callback(gt_ledger *l, gt_action *acts, size_t n, gt_result *res) {
    cb_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    if (!gt_ledger_submit_cb(l, acts, n, res, cb_wake, &w)) return;
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
}

/* Submits batches until the power goes (or SUBMITS batches), checkpointing
 * every 8; fills the ids of every acknowledged action. Returns how many.
 * Every other batch goes through the callback, which must wait for the
 * fsync as gt_ledger_submit does. */
static size_t run_until_crash(gt_ledger *l, const char *path, const gt_domain *dom, uint8_t (*acked)[32]) {
    static gt_action acts[BATCH_MAX];
    gt_result res[BATCH_MAX];
    size_t n_acked = 0;
    uint64_t nonce = 0;
    for (int b = 0; b < SUBMITS; b++) {
        size_t n = 1 + (size_t)(rng() % BATCH_MAX);
        for (size_t i = 0; i < n; i++) tsign(&acts[i], &gt_kind_transfer, dom, &K[1], nonce + i, &A[2], 1 + i);
        if (b % 2) submit_by_callback(l, acts, n, res);
        else gt_ledger_submit(l, acts, n, res);
        int all = 1;
        for (size_t i = 0; i < n; i++) {
            if (res[i].code) { all = 0; continue; }
            memcpy(acked[n_acked++], acts[i].id, 32);
        }
        if (!all) break; /* the power is off: nothing more can be acknowledged */
        nonce += n;
        if (b % 8 == 7) checkpoint(path);
    }
    return n_acked;
}

/* Every acknowledged id must be in the recovered ledger, which must open
 * (its consistency check passes) and verify. Returns the number missing. */
static size_t check_recovered(const char *path, uint8_t (*acked)[32], size_t n) {
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &l, &err) == 0, "recovered ledger refused: %s", err.msg);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "recovered ledger does not verify: %s", err.msg);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    size_t missing = 0;
    gt_action *a = malloc(sizeof *a);
    for (size_t i = 0; i < n; i++)
        if (gt_ledger_find_action(db, acked[i], a, NULL, NULL, &err)) missing++;
    free(a);
    sqlite3_close(db);
    return missing;
}

static void test_power_loss(void) {
    static uint8_t acked[SUBMITS * BATCH_MAX][32];
    char dir[64], path[128];
    gt_domain dom;
    /* A pilot run with the power on: how many I/O calls the workload makes. */
    gt_ledger *l = funded(dir, path, &dom);
    cvfs_arm(0);
    size_t n = run_until_crash(l, path, &dom, acked);
    long total_ops = cvfs.ops;
    /* The checkpointer's cycles are among the I/O calls a crash may land in. */
    gt_ledger_stats st;
    gt_ledger_stats_get(l, &st);
    long ckpt_writes = cvfs_db_writes_by("gt-ledger-ckpt");
    fprintf(stderr, "  pilot: %ld I/O calls, %llu checkpointer cycles writing the database %ld times\n", total_ops,
            (unsigned long long)st.checkpoints, ckpt_writes);
    CHECK(st.checkpoints >= 2 && ckpt_writes > 0);
    gt_ledger_close(l);
    cvfs_revert();
    CHECK(n >= SUBMITS); /* every batch acknowledged with the power on */
    CHECK(total_ops > SUBMITS);
    trm(dir);
    long lost = 0, total_acked = 0, undone = 0, crashed = 0;
    for (int t = 0; t < TRIALS; t++) {
        l = funded(dir, path, &dom);
        long crash_at = 1 + (long)(rng() % (uint64_t)total_ops);
        cvfs_arm(crash_at);
        n = run_until_crash(l, path, &dom, acked);
        crashed += cvfs_crashed();
        gt_ledger_close(l);
        undone += cvfs_revert();
        size_t missing = check_recovered(path, acked, n);
        CHECK_MSG(missing == 0, "trial %d (crash after %ld I/O calls): %zu of %zu acknowledged actions lost", t,
                  crash_at, missing, n);
        lost += (long)missing;
        total_acked += (long)n;
        trm(dir);
    }
    fprintf(stderr, "  %d trials, %ld crashed before the end, %ld unsynced writes dropped, %ld actions acknowledged, "
            "%ld lost\n", TRIALS, crashed, undone, total_acked, lost);
    CHECK(crashed >= TRIALS / 2);
    CHECK(undone > 0);
    CHECK(total_acked > 0);
    CHECK_EQ_INT((int)lost, 0);
}

/* A submit made while another's sync is failing (it waits 100 ms, so the
 * first block is being synced by then). */
typedef struct late_job {
    gt_ledger *l;
    gt_action a;
    gt_result r;
} late_job;

static void *late_submit(void *arg) {
    late_job *j = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    tsubmit(j->l, &j->a, &j->r);
    return NULL;
}

/* A disk that stops confirming syncs: the writer has committed the block,
 * but the syncer's fsync fails, so its action is refused, not acknowledged,
 * and the ledger takes nothing more (it could not say what is on disk);
 * reopened once the disk syncs again, the ledger opens and verifies. */
static void test_sync_failure_refuses(void) {
    char dir[64], path[128];
    gt_domain dom;
    gt_ledger *l = funded(dir, path, &dom);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_transfer, &dom, &K[1], 0, &A[2], 5);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    /* One sync fails, slowly: a second block is written meanwhile and
     * handed to the syncer, whose next fsync would succeed. That block is
     * refused too (it rests on the lost one), not acknowledged. */
    cvfs_fail_syncs(1, 300);
    late_job late = {.l = l};
    tsign(&late.a, &gt_kind_mint, &dom, &K[0], 1, &A[2], 1);
    pthread_t th;
    pthread_create(&th, NULL, late_submit, &late);
    tsign(&a, &gt_kind_transfer, &dom, &K[1], 1, &A[2], 6);
    CHECK_EQ_INT(tsubmit(l, &a, &r), GT_EIO);
    CHECK_MSG(strstr(r.msg, "the disk did not confirm it") && strstr(r.msg, "takes no more actions"), "%s", r.msg);
    pthread_join(th, NULL);
    CHECK_MSG(late.r.code == GT_EIO, "the block after the lost one: code %d, %s", late.r.code, late.r.msg);
    /* Nothing after it either, with the disk back: the writer refuses. */
    tsign(&a, &gt_kind_transfer, &dom, &K[1], 2, &A[2], 7);
    CHECK_EQ_INT(tsubmit(l, &a, &r), GT_EIO);
    CHECK_MSG(strstr(r.msg, "the disk did not confirm"), "%s", r.msg);
    gt_err err = {0};
    CHECK_MSG(gt_ledger_tick(l, &err) != 0, "a tick made a block after a failed sync");
    gt_ledger_close(l);
    l = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &l, &err) == 0, "reopen: %s", err.msg);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
    trm(dir);
}

/* A submit in its own thread, and whether it was answered yet. */
typedef struct ack_job {
    gt_ledger *l;
    gt_action a;
    gt_result r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int answered;
} ack_job;

/* The job's thread: submits, then says it was answered. */
static void *ack_submit(void *arg) {
    ack_job *j = arg;
    tsubmit(j->l, &j->a, &j->r);
    pthread_mutex_lock(&j->mu);
    j->answered = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* gt_ledger_read's callback: holds the ledger's state, as the writer does
 * while it builds a block, until the job is answered or 5 s have passed. */
static int hold_state(void *arg, gt_tx *tx, gt_err *err) {
    (void)tx;
    (void)err;
    ack_job *j = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&j->mu);
    while (!j->answered && pthread_cond_timedwait(&j->cv, &j->mu, &until) == 0) {}
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* A committed block's callers wait for its sync, not for the state: with a
 * slow disk, the block committed and its sync under way, a holder of the
 * state (the writer building the next block, a reader) does not hold up
 * the answer. The syncer's counters were kept under the state's lock, so
 * each answer waited for the block being built after it. */
static void test_answer_not_held_by_state(void) {
    char dir[64], path[128];
    gt_domain dom;
    gt_ledger *l = funded(dir, path, &dom);
    gt_block h0, h;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_head(l, &h0, &err), 0);
    cvfs_slow_syncs(200);
    ack_job j = {.l = l, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    tsign(&j.a, &gt_kind_transfer, &dom, &K[1], 0, &A[2], 5);
    pthread_t th;
    pthread_create(&th, NULL, ack_submit, &j);
    /* The block is committed (the head moves under the state's lock, after
     * the commit); its sync takes 200 ms more. */
    for (int i = 0; i < 5000 && gt_ledger_head(l, &h, &err) == 0 && h.height == h0.height; i++) usleep(1000);
    CHECK_MSG(h.height == h0.height + 1, "no block in 5 s: height %llu", (unsigned long long)h.height);
    CHECK_EQ_INT(gt_ledger_read(l, hold_state, &j, &err), 0);
    pthread_mutex_lock(&j.mu);
    int answered = j.answered;
    pthread_mutex_unlock(&j.mu);
    CHECK_MSG(answered, "the submit was not answered in 5 s while the state was held (its block was committed)");
    pthread_join(th, NULL);
    CHECK_EQ_INT(j.r.code, 0);
    cvfs_slow_syncs(0);
    gt_ledger_stats st;
    gt_ledger_stats_get(l, &st);
    CHECK_MSG(st.syncs >= 1 && st.syncs <= st.blocks && st.sync_s >= 0.2,
              "stats: %llu syncs for %llu blocks, %.3f s syncing (one took 200 ms)", (unsigned long long)st.syncs,
              (unsigned long long)st.blocks, st.sync_s);
    gt_ledger_close(l);
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    cvfs_install();
    RUN(test_shim_has_teeth);
    RUN(test_sync_failure_refuses);
    RUN(test_answer_not_held_by_state);
    RUN(test_power_loss);
    return gt_test_finish();
}
