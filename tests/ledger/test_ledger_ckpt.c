/* test_ledger_ckpt.c: the WAL is copied into the database file by the
 * ledger's checkpointer (checkpoint.c), never by the writer's commits, and
 * stays bounded over many blocks; a reader holding a snapshot lets it grow
 * only while it holds it.
 *
 * Which thread copies is seen by the VFS shim of crash_vfs.h (power always
 * on here), which counts writes to the main database file by thread name:
 * the writer is "gt-ledger", the checkpointer "gt-ledger-ckpt". With
 * SQLite's automatic checkpoint the writer made every one of them. The
 * crash trials of test_ledger_power.c run the checkpointer too. */
#include <sys/stat.h>
#include <time.h>

#include "../test.h"
#include "crash_vfs.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "ledger/ledger_impl.h"

static gt_key K[3];
static gt_addr A[3];

/* A fresh ledger in dir with A[1] funded (the power on throughout). */
static gt_ledger *funded(char dir[64], char path[128], gt_domain *dom) {
    tledger_path(dir);
    snprintf(path, 128, "%s/ledger.db", dir);
    gt_genesis g = {.chain_id = 3, .authority = A[0], .unbonding_blocks = 2, .time_s = 1700000000};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    *dom = *gt_ledger_domain(l);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_mint, dom, &K[0], 0, &A[1], 100000 * GT_AMOUNT_UNIT);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    return l;
}

/* Frames in the WAL after the writer's last commit (its hook's count). */
static int wal_frames(gt_ledger *l) {
    pthread_mutex_lock(&l->ck_mu);
    int n = l->wal_frames;
    pthread_mutex_unlock(&l->ck_mu);
    return n;
}

/* Size of the WAL file of the ledger at path in bytes (0: none). */
static long wal_bytes(const char *path) {
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    return stat(wal, &st) ? 0 : (long)st.st_size;
}

/* Seconds since an arbitrary start (monotonic). */
static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Submits one block of `batch` transfers from A[1] starting at *nonce;
 * returns its seconds and keeps the largest WAL file seen in *wal_max. */
static double one_block(gt_ledger *l, const char *path, const gt_domain *dom, int batch, uint64_t *nonce,
                        long *wal_max) {
    static gt_action acts[64];
    gt_result res[64];
    for (int i = 0; i < batch; i++) tsign(&acts[i], &gt_kind_transfer, dom, &K[1], *nonce + (uint64_t)i, &A[2], 1);
    double t0 = mono_s();
    size_t ok = gt_ledger_submit(l, acts, (size_t)batch, res);
    double took_s = mono_s() - t0;
    CHECK_MSG(ok == (size_t)batch, "block at nonce %llu: %zu of %d applied (%s)", (unsigned long long)*nonce, ok,
              batch, res[0].msg);
    *nonce += (uint64_t)batch;
    long w = wal_bytes(path);
    if (w > *wal_max) *wal_max = w;
    return took_s;
}

/* Frames of a WAL of `bytes` (32-byte header, 24 + 4096 per frame). */
static long frames_of(long bytes) { return bytes > 32 ? (bytes - 32) / (24 + 4096) : 0; }

/* Many blocks at cycles of `cycle` frames (0: the default): every write to
 * the database file is the checkpointer's, and there were at least
 * min_cycles cycles. With `bounded`, the WAL also stayed within six
 * cycles while more than three times that was written (two when the
 * checkpointer keeps up, as it does on an idle machine; six leaves room
 * for a checkpointer thread the scheduler starves under a loaded test run,
 * where SQLite's checkpoint, run by the writer, never fell behind). */
static void check_cycles(int cycle, int blocks, int batch, int min_cycles, int bounded) {
    char dir[64], path[128];
    gt_domain dom;
    gt_ledger *l = funded(dir, path, &dom);
    if (cycle) gt_ledger_set_ckpt_frames(l, (uint32_t)cycle);
    else cycle = GT_LEDGER_CKPT_FRAMES;
    long wal_max = 0;
    uint64_t nonce = 0;
    for (int b = 0; b < blocks; b++) one_block(l, path, &dom, batch, &nonce, &wal_max);
    gt_ledger_stats st;
    gt_ledger_stats_get(l, &st);
    long by_writer = cvfs_db_writes_by("gt-ledger"), by_ckpt = cvfs_db_writes_by("gt-ledger-ckpt");
    fprintf(stderr, "  cycle %d: %llu frames written in %llu blocks, %llu cycles (%.3f s; %llu held the writer %.3f s),"
            " WAL at most %llu frames (file %ld), database writes: writer %ld, checkpointer %ld\n", cycle,
            (unsigned long long)st.pages_written, (unsigned long long)st.blocks, (unsigned long long)st.checkpoints,
            st.checkpoint_s, (unsigned long long)st.checkpoint_holds, st.checkpoint_hold_s,
            (unsigned long long)st.wal_frames_max, frames_of(wal_max), by_writer, by_ckpt);
    CHECK_MSG(by_writer == 0, "the writer's commits wrote the database file %ld times (a checkpoint)", by_writer);
    CHECK(by_ckpt > 0);
    CHECK_MSG(st.checkpoints >= (uint64_t)min_cycles, "%llu cycles", (unsigned long long)st.checkpoints);
    if (bounded) {
        long bound = 6 * (long)cycle;
        CHECK_MSG(st.pages_written > (uint64_t)(3 * bound), "only %llu frames written",
                  (unsigned long long)st.pages_written);
        CHECK_MSG(st.wal_frames_max <= (uint64_t)bound, "the WAL reached %llu frames at cycles of %d",
                  (unsigned long long)st.wal_frames_max, cycle);
        CHECK_MSG(frames_of(wal_max) <= bound, "the WAL file reached %ld frames", frames_of(wal_max));
    }
    gt_ledger_close(l);
    gt_err err = {0};
    gt_verify_report rep;
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
    CHECK_EQ_INT((int)rep.actions, blocks * batch + 1);
    CHECK(!cvfs_crashed());
    cvfs_revert();
    trm(dir);
}

/* Small cycles (64 frames), so that a few hundred small blocks make many. */
static void test_small_cycles(void) { check_cycles(64, 300, 4, 8, 1); }

/* The default cycle (GT_LEDGER_CKPT_FRAMES) with blocks of 64 transfers. */
static void test_default_cycle(void) { check_cycles(0, 200, 64, 2, 0); }

/* A reader that keeps a snapshot open: the checkpointer cannot copy past
 * it, so the WAL grows past the point where a cycle waits for readers
 * (GT_LEDGER_WAL_MAX_CYCLES cycles), each such wait held the writer at most
 * GT_LEDGER_CKPT_READER_WAIT_MS and blocks kept coming; once the reader
 * ends, the next cycle restarts the WAL. */
static void test_reader_holds_snapshot(void) {
    enum { CYCLE = 32 };
    char dir[64], path[128];
    gt_domain dom;
    gt_ledger *l = funded(dir, path, &dom);
    gt_ledger_set_ckpt_frames(l, CYCLE);
    sqlite3 *rd;
    CHECK_EQ_INT(sqlite3_open_v2(path, &rd, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM blocks", NULL, NULL, NULL), SQLITE_OK);
    long wal_max = 0;
    uint64_t nonce = 0;
    double slowest_s = 0;
    int b = 0;
    for (; b < 400 && wal_frames(l) <= 2 * CYCLE * GT_LEDGER_WAL_MAX_CYCLES; b++) {
        double s = one_block(l, path, &dom, 4, &nonce, &wal_max);
        if (s > slowest_s) slowest_s = s;
    }
    int grown = wal_frames(l);
    CHECK_MSG(grown > 2 * CYCLE * GT_LEDGER_WAL_MAX_CYCLES, "the WAL held %d frames after %d blocks", grown, b);
    CHECK_MSG(slowest_s < 3.0 * GT_LEDGER_CKPT_READER_WAIT_MS / 1000, "a block took %.2f s while a reader held on",
              slowest_s);
    CHECK_EQ_INT(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(rd);
    int after = 0;
    for (; after < 200 && wal_frames(l) >= CYCLE; after++) one_block(l, path, &dom, 4, &nonce, &wal_max);
    fprintf(stderr, "  reader: the WAL grew to %d frames in %d blocks (slowest %.3f s); restarted %d blocks after "
            "the reader ended\n", grown, b, slowest_s, after);
    CHECK_MSG(wal_frames(l) < CYCLE, "the WAL still holds %d frames 200 blocks after the reader ended",
              wal_frames(l));
    /* The file is cut back too (journal_size_limit), not kept at its peak. */
    long limit = (long)CYCLE * GT_LEDGER_WAL_MAX_CYCLES * GT_LEDGER_WAL_FRAME_BYTES;
    fprintf(stderr, "  reader: the WAL file peaked at %ld bytes, %ld after the restart (limit %ld)\n", wal_max,
            wal_bytes(path), limit);
    CHECK(wal_max > limit);
    CHECK_MSG(wal_bytes(path) <= limit, "the WAL file is %ld bytes after the restart", wal_bytes(path));
    gt_ledger_close(l);
    cvfs_revert();
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    cvfs_install();
    RUN(test_small_cycles);
    RUN(test_default_cycle);
    RUN(test_reader_holds_snapshot);
    return gt_test_finish();
}
