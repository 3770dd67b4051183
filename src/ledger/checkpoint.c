/* checkpoint.c: the ledger's checkpointer thread, which copies the WAL into
 * the database file off the writer's path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past 1000 frames, on the committing connection: on the writer's, it made
 * one block in a hundred wait 1 to 5 ms (copying the frames, syncing the WAL
 * and the database file) and with it the callers of every block after. Here
 * the writer's connection never checkpoints (a WAL hook replaces SQLite's,
 * and only notes how many frames the WAL holds). A thread of its own, on a
 * connection of its own, runs a cycle each time GT_LEDGER_CKPT_FRAMES more
 * frames are in the WAL:
 *   1. a PASSIVE checkpoint while the writer goes on (the bulk of the copy),
 *      and one more for the frames the writer added meanwhile, if any;
 *   2. unless the writer has restarted the WAL already, one more with the
 *      writer held off between two blocks (l->ck_hold): it copies the few
 *      frames written since step 1, if any, so that the writer's next
 *      transaction starts the WAL over from its first frame (SQLite's
 *      restart, which it makes only when its transaction began with the
 *      whole WAL copied). The writer is usually in a block or about to
 *      begin one when step 1 ends: without step 2 the WAL would seldom
 *      restart (tried: not once in 2,436 frames of blocks submitted one at
 *      a time, test_ledger_ckpt's default cycle).
 * The writer then waits for a copy of a few frames and two syncs, where
 * SQLite's checkpoint made it wait for the copy of the whole cycle; the
 * WAL file stays near a cycle long and is written over, not extended (a
 * sync of a file that grew also writes its size: twice the time here).
 *
 * Durability is SQLite's own: a checkpoint syncs the WAL before it copies
 * any frame (so it copies nothing that is not on disk in the WAL, whether
 * or not the syncer has acknowledged it yet) and syncs the database file
 * before it records the frames as copied; the restart's new WAL header is
 * synced by the writer's connection as it writes it (SQLite's own rule,
 * against a disk that reorders writes: one sync per cycle that stays on
 * the writer's path).
 * The syncer (syncer.c) still acknowledges a block only after its own sync
 * of the WAL. A failed checkpoint loses nothing (the frames stay in the WAL)
 * and is retried once the WAL has grown by a cycle more.
 *
 * Readers: a reader's snapshot keeps the frames after it from being copied,
 * and a reader of the WAL keeps it from restarting; API reads are short, and
 * the next cycle catches up. When a long reader (a `ledger verify` through
 * another connection) lets the WAL grow past GT_LEDGER_WAL_MAX_CYCLES
 * cycles, step 2 is a RESTART checkpoint, which waits up to
 * GT_LEDGER_CKPT_READER_WAIT_MS for the readers to let go (the writer held
 * that long, at most once per GT_LEDGER_WAL_MAX_CYCLES cycles of growth);
 * a reader that holds on longer keeps the WAL growing until it ends, as it
 * would with SQLite's own checkpoints, and the ledger says so in its log.
 *
 * At close SQLite's last connection checkpoints and deletes the WAL, as
 * before; a read-only ledger has no checkpointer (it never writes). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <assert.h>
#include <stdio.h>

#include "base/log.h"
#include "base/progress.h"
#include "ledger/ledger_impl.h"

/* The writer's WAL hook, called after each of its commits (inside COMMIT,
 * state_mu and ck_hold held): notes the WAL's size and wakes the
 * checkpointer when a cycle is due. Never checkpoints. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int frames) {
    (void)db;
    (void)name;
    gt_ledger *l = arg;
    pthread_mutex_lock(&l->ck_mu);
    if (frames < l->ck_base) { /* the writer restarted the WAL: a new cycle counts from 0 */
        l->ck_base = 0;
        l->ck_restart_at = (int)(l->ck_frames * GT_LEDGER_WAL_MAX_CYCLES);
    }
    l->wal_frames = frames;
    if ((uint64_t)frames > l->ck_stats.wal_frames_max) l->ck_stats.wal_frames_max = (uint64_t)frames;
    if (frames >= l->ck_base + (int)l->ck_frames) pthread_cond_signal(&l->ck_cv);
    pthread_mutex_unlock(&l->ck_mu);
    return SQLITE_OK;
}

/* Whether a cycle is due: the WAL holds a cycle's frames more than when
 * the last cycle ended (one that did not restart the WAL is not repeated
 * at every block). ck_mu held. */
static int cycle_due(const gt_ledger *l) { return l->wal_frames >= l->ck_base + (int)l->ck_frames; }

/* The size the WAL file is cut back to when the writer starts it over:
 * GT_LEDGER_WAL_MAX_CYCLES cycles of frames, which it reaches only while a
 * long reader (a backup, a `ledger verify` through another connection)
 * held its snapshot. Without it SQLite keeps the file at the largest size
 * it ever had and writes it over: a backup of a large ledger under load
 * left the disk that much fuller for good. Normal cycles stay far below it,
 * so the file is still written over, not extended. */
static void wal_size_limit(gt_ledger *l, uint32_t frames) {
    char sql[80];
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%lld",
             (long long)frames * GT_LEDGER_WAL_MAX_CYCLES * GT_LEDGER_WAL_FRAME_BYTES);
    if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        GT_WARN("ledger %s: cannot bound the WAL's size: %s", l->path, sqlite3_errmsg(l->db));
}

int gt_ledger_ckpt_open(gt_ledger *l, gt_err *err) {
    assert(!l->readonly && !l->ck_db);
    l->ck_frames = GT_LEDGER_CKPT_FRAMES;
    l->ck_restart_at = GT_LEDGER_CKPT_FRAMES * GT_LEDGER_WAL_MAX_CYCLES;
    wal_size_limit(l, GT_LEDGER_CKPT_FRAMES);
    sqlite3_vfs *vfs = NULL; /* the writer's VFS: a test's shim sees the checkpoints' writes and syncs */
    if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || !vfs)
        return gt_err_set(err, GT_EDB, "ledger %s: cannot find its SQLite VFS", l->path);
    if (sqlite3_open_v2(l->path, &l->ck_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, vfs->zName) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "ledger %s: cannot open the checkpointer's connection: %s", l->path,
                   l->ck_db ? sqlite3_errmsg(l->ck_db) : "out of memory");
        sqlite3_close(l->ck_db);
        l->ck_db = NULL;
        return GT_EDB;
    }
    /* How long a RESTART waits for readers (a PASSIVE one never waits). A
     * read of the header makes the connection find the store in WAL mode,
     * which a checkpoint needs. */
    sqlite3_busy_timeout(l->ck_db, GT_LEDGER_CKPT_READER_WAIT_MS);
    int rc = gt_ledger_exec(l->ck_db, "PRAGMA schema_version", err);
    if (rc) return rc;
    /* From here on the writer's commits never checkpoint (the hook replaces
     * SQLite's automatic checkpoint). */
    sqlite3_wal_hook(l->db, on_commit, l);
    return 0;
}

void gt_ledger_ckpt_close(gt_ledger *l) {
    assert(!l->has_ckpt);
    if (!l->ck_db) return;
    sqlite3_close(l->ck_db); /* not the last connection: no checkpoint of its own */
    l->ck_db = NULL;
}

void gt_ledger_ckpt_stop(gt_ledger *l) {
    if (!l->has_ckpt) return;
    pthread_mutex_lock(&l->ck_mu);
    l->ck_stop = 1;
    pthread_cond_signal(&l->ck_cv);
    pthread_mutex_unlock(&l->ck_mu);
    pthread_join(l->ckpt, NULL);
    l->has_ckpt = 0;
}

/* One checkpoint of the given mode on the checkpointer's connection: sets
 * *log (frames in the WAL) and *copied (frames in the database file).
 * Returns SQLite's code: SQLITE_BUSY when not every frame could be copied
 * or readers stayed (a reader, or another connection checkpointing); an
 * I/O error is logged. */
static int checkpoint(gt_ledger *l, int mode, int *log, int *copied) {
    int rc = sqlite3_wal_checkpoint_v2(l->ck_db, "main", mode, log, copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        GT_WARN("ledger %s: checkpoint of the WAL failed (SQLite error %d: %s); its frames stay in the WAL, and it "
                "is tried again later",
                l->path, rc, sqlite3_errmsg(l->ck_db));
    return rc;
}

/* Frames in the WAL after the writer's last commit. */
static int frames_now(gt_ledger *l) {
    pthread_mutex_lock(&l->ck_mu);
    int n = l->wal_frames;
    pthread_mutex_unlock(&l->ck_mu);
    return n;
}

/* Step 1 of a cycle: a PASSIVE checkpoint while the writer goes on, and
 * one more when the writer committed meanwhile (*log is the WAL as a
 * checkpoint found it); none when a reader's snapshot held the first back,
 * as a second would copy no more. 0 or the SQLite error. */
static int copy_unheld(gt_ledger *l, int *log, int *copied) {
    int rc = checkpoint(l, SQLITE_CHECKPOINT_PASSIVE, log, copied);
    if (rc == SQLITE_OK && *copied == *log && frames_now(l) > *log)
        rc = checkpoint(l, SQLITE_CHECKPOINT_PASSIVE, log, copied);
    return rc == SQLITE_BUSY ? 0 : rc;
}

/* Step 2 of a cycle: with the writer held off between two blocks (ck_hold
 * waits for the block under way), copies what the writer committed since
 * step 1, as a RESTART once the WAL has passed restart_at frames. Nothing
 * to copy (the writer did not commit since) holds it off for no time. Sets
 * *held_s to the time it copied; returns SQLite's code. */
static int copy_held(gt_ledger *l, int restart_at, int *log, int *copied, int *restart, double *held_s) {
    int rc = SQLITE_OK;
    pthread_mutex_lock(&l->ck_hold);
    int now = frames_now(l);
    if (now > *copied || now >= restart_at) {
        double h0 = gt_now_s();
        *restart = now >= restart_at;
        rc = checkpoint(l, *restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE, log, copied);
        *held_s = gt_now_s() - h0;
    }
    pthread_mutex_unlock(&l->ck_hold);
    return rc;
}

/* One cycle of `cycle` frames (ck_mu not held): step 1, then step 2
 * unless the writer has restarted the WAL meanwhile. Records how far it
 * got. */
static void run_cycle(gt_ledger *l, int cycle, int restart_at) {
    double t0 = gt_now_s(), held_s = 0;
    int log = -1, copied = -1, restart = 0;
    int rc = copy_unheld(l, &log, &copied);
    if (!rc && log >= 0 && frames_now(l) >= cycle)
        rc = copy_held(l, restart_at, &log, &copied, &restart, &held_s);
    if (restart && rc == SQLITE_BUSY)
        GT_WARN("ledger %s: the WAL holds %d frames (%d MiB): a reader's snapshot keeps it from being copied and "
                "started over; it grows until that reader ends",
                l->path, log, (int)((int64_t)log * GT_LEDGER_WAL_FRAME_BYTES / (1 << 20)));
    pthread_mutex_lock(&l->ck_mu);
    /* The next cycle waits for a cycle's frames more than this one saw (on
     * failure too: no retry at every block); a RESTART that readers held
     * off is not tried again before the WAL has grown as much again. */
    l->ck_base = log > l->wal_frames ? log : l->wal_frames;
    if (restart && rc) l->ck_restart_at = l->ck_base + (int)(l->ck_frames * GT_LEDGER_WAL_MAX_CYCLES);
    l->ck_stats.checkpoints++;
    l->ck_stats.checkpoint_s += gt_now_s() - t0;
    l->ck_stats.checkpoint_hold_s += held_s;
    if (held_s > 0) l->ck_stats.checkpoint_holds++;
    pthread_mutex_unlock(&l->ck_mu);
}

/* The checkpointer thread: waits for a cycle to be due, runs it, repeats
 * until stopped (a cycle under way finishes first). */
void *gt_ledger_ckpt_main(void *arg) {
    gt_ledger *l = arg;
    pthread_setname_np(pthread_self(), "gt-ledger-ckpt");
    pthread_mutex_lock(&l->ck_mu);
    for (;;) {
        while (!l->ck_stop && !cycle_due(l)) pthread_cond_wait(&l->ck_cv, &l->ck_mu);
        if (l->ck_stop) break;
        int cycle = (int)l->ck_frames, restart_at = l->ck_restart_at;
        pthread_mutex_unlock(&l->ck_mu);
        run_cycle(l, cycle, restart_at);
        pthread_mutex_lock(&l->ck_mu);
    }
    pthread_mutex_unlock(&l->ck_mu);
    return NULL;
}

void gt_ledger_set_ckpt_frames(gt_ledger *l, uint32_t frames) {
    assert(frames >= 8);
    pthread_mutex_lock(&l->ck_mu);
    l->ck_frames = frames;
    l->ck_restart_at = (int)(frames * GT_LEDGER_WAL_MAX_CYCLES);
    pthread_mutex_unlock(&l->ck_mu);
    wal_size_limit(l, frames);
}
