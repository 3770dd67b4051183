/* syncer.c: the ledger's syncer thread, which makes committed blocks durable
 * and only then acknowledges them.
 *
 * The writer commits a block without waiting for the disk (SQLite's WAL with
 * synchronous=NORMAL: the frames are written, not synced) and hands the
 * block's batches here. The syncer syncs the WAL file (one fdatasync covers
 * every frame written before it, so it covers every block handed over by
 * then, however many) and wakes their callers. Meanwhile the writer builds
 * the next block: the fsync, the longest part of a one-action block, is off
 * the writer's path, and a caller still hears "applied" only once its block
 * is on disk.
 *
 * The WAL is synced through a second handle opened on the same file through
 * the connection's own VFS (so a test VFS sees the sync), never through
 * SQLite's handle, which its connection's thread uses.
 *
 * What readers see: a block is visible to other connections from its commit,
 * up to one fsync before it is durable; a power loss then takes the last
 * blocks (a suffix: the WAL is written in order) that nobody was told were
 * applied. A failed sync is not retried (the kernel may have dropped the
 * pages already): the waiting actions are refused and the ledger takes no
 * more, so that nothing is acknowledged on top of what may be lost. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/progress.h"
#include "ledger/ledger_impl.h"

/* Syncs the folder holding the WAL at path once, so that the file's own
 * entry is on disk (SQLite does this at its first WAL sync, which under
 * synchronous=NORMAL may not come before the first checkpoint). */
static int sync_dir(const char *path, gt_err *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return gt_err_set(err, GT_EIO, "cannot open the ledger's folder %.200s: %s", dir, strerror(errno));
    int rc = fsync(fd) ? gt_err_set(err, GT_EIO, "cannot sync the ledger's folder %.200s: %s", dir, strerror(errno))
                       : 0;
    close(fd);
    return rc;
}

int gt_ledger_sync_open(gt_ledger *l, gt_err *err) {
    assert(!l->readonly && !l->wal);
    /* The WAL exists once the connection has read the store in WAL mode,
     * which the open has done (the schema, the genesis, the head). */
    const char *wal_name = sqlite3_filename_wal(sqlite3_db_filename(l->db, "main"));
    if (!wal_name || !*wal_name) return gt_err_set(err, GT_EDB, "ledger %s: no WAL file name", l->path);
    snprintf(l->wal_path, sizeof l->wal_path, "%s", wal_name);
    sqlite3_vfs *vfs = NULL;
    if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || !vfs)
        return gt_err_set(err, GT_EDB, "ledger %s: cannot find its SQLite VFS", l->path);
    sqlite3_file *f = gt_calloc(1, (size_t)vfs->szOsFile);
    if (!f) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int out_flags = 0;
    /* SQLite's own name, not a copy: a VFS may read the database's name and
     * URI parameters around it. It lives until the connection closes, after
     * gt_ledger_sync_close. */
    int rc = vfs->xOpen(vfs, wal_name, f, SQLITE_OPEN_READWRITE | SQLITE_OPEN_WAL, &out_flags);
    if (rc != SQLITE_OK) {
        gt_free(f);
        return gt_err_set(err, GT_EIO, "cannot open %s to sync it (SQLite error %d)", l->wal_path, rc);
    }
    l->wal = f;
    if ((rc = sync_dir(l->wal_path, err))) return rc; /* the WAL's folder: the database's, symlinks resolved */
    /* From here on COMMIT writes the WAL and the syncer syncs it. */
    return gt_ledger_exec(l->db, "PRAGMA synchronous=NORMAL", err);
}

void gt_ledger_sync_close(gt_ledger *l) {
    assert(!l->has_syncer);
    if (!l->wal) return;
    if (l->wal->pMethods) l->wal->pMethods->xClose(l->wal);
    gt_free(l->wal);
    l->wal = NULL;
}

void gt_ledger_sync_push(gt_ledger *l, gt_ledger_pending *list) {
    assert(list);
    if (l->s_tail) l->s_tail->next = list; else l->s_head = list;
    gt_ledger_pending *last = list;
    while (last->next) last = last->next;
    l->s_tail = last;
    pthread_cond_signal(&l->sync_cv);
}

/* Refuses every action of the list that was applied: its block may not be
 * on disk, and its caller must not count on it. A reservation made with it
 * fails too: the ledger takes nothing more, so its payment could not settle. */
static void refuse_applied(gt_ledger *l, gt_ledger_pending *list, const char *msg) {
    for (gt_ledger_pending *p = list; p; p = p->next) {
        if (p->resv) gt_ledger_resv_fail(l, p->resv, GT_EIO, msg);
        for (size_t i = 0; i < p->n; i++)
            if (!p->res[i].code) {
                p->res[i].code = GT_EIO;
                snprintf(p->res[i].msg, sizeof p->res[i].msg, "%s", msg);
            }
    }
}

/* Counts the applied actions of list as refused after all (takes state_mu). */
static void recount_refused(gt_ledger *l, gt_ledger_pending *list) {
    uint64_t k = 0;
    for (gt_ledger_pending *p = list; p; p = p->next)
        for (size_t i = 0; i < p->n; i++) k += p->res[i].code == 0;
    pthread_mutex_lock(&l->state_mu);
    l->stats.actions_applied -= k < l->stats.actions_applied ? k : l->stats.actions_applied;
    l->stats.actions_refused += k;
    pthread_mutex_unlock(&l->state_mu);
}

/* One sync of the WAL for the batches in list (l->mu not held): 1 when it
 * synced (*took_s its seconds, failed or not), 0 when it did not try. After
 * a failed sync, none: the kernel reports a write-back error once, so a
 * later fsync may succeed over pages it dropped, and a block on top of a
 * lost one is lost with it (the WAL is replayed in order); such lists are
 * refused. */
static int sync_list(gt_ledger *l, gt_ledger_pending *list, double *took_s) {
    if (__atomic_load_n(&l->sync_failed, __ATOMIC_ACQUIRE)) {
        char msg[GT_ERR_MSG_MAX];
        pthread_mutex_lock(&l->mu);
        snprintf(msg, sizeof msg, "%s", l->sync_msg);
        pthread_mutex_unlock(&l->mu);
        recount_refused(l, list);
        refuse_applied(l, list, msg);
        return 0;
    }
    double t0 = gt_now_s();
    int rc = l->wal->pMethods->xSync(l->wal, SQLITE_SYNC_NORMAL);
    *took_s = gt_now_s() - t0;
    if (rc == SQLITE_OK) return 1;
    char msg[GT_ERR_MSG_MAX];
    snprintf(msg, sizeof msg,
             "the block holding this action was written but the disk did not confirm it (sync of %.160s failed, "
             "SQLite error %d): it may be lost on a power cut; this ledger takes no more actions: stop the node, "
             "check the disk, and reopen (the open check says what is on disk)",
             l->wal_path, rc);
    GT_ERROR("ledger %s: %s", l->path, msg);
    pthread_mutex_lock(&l->mu);
    if (!l->sync_failed) snprintf(l->sync_msg, sizeof l->sync_msg, "%s", msg);
    __atomic_store_n(&l->sync_failed, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&l->mu);
    recount_refused(l, list);
    refuse_applied(l, list, msg);
    return 1;
}

/* The syncer thread: takes every batch the writer handed over, syncs once
 * for all of them, marks them done, repeats; on stop, drains the queue. */
void *gt_ledger_syncer_main(void *arg) {
    gt_ledger *l = arg;
    pthread_setname_np(pthread_self(), "gt-ledger-sync");
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->s_head && !l->sync_stop) pthread_cond_wait(&l->sync_cv, &l->mu);
        if (!l->s_head) break; /* stop requested and nothing left */
        gt_ledger_pending *list = l->s_head;
        l->s_head = l->s_tail = NULL;
        l->syncing = 1;
        pthread_mutex_unlock(&l->mu);
        double took_s = 0;
        int synced = sync_list(l, list, &took_s);
        pthread_mutex_lock(&l->mu);
        l->syncing = 0;
        l->syncs += (uint64_t)synced;
        l->sync_s += took_s;
        gt_ledger_finish(l, list);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}
