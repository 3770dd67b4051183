/* backup.c: a consistent copy of a ledger, taken while a node may be writing
 * it (gt_ledger_backup in ledger.h).
 *
 * Why not `cp`: the store is SQLite in WAL mode, so the committed blocks are
 * split between ledger.db and ledger.db-wal, and a copy of the two made while
 * the writer and the checkpointer run is a torn database. Here one read
 * transaction of a read-only connection sees one head block and everything
 * under it, and SQLite's VACUUM INTO writes exactly that snapshot to a new
 * single file (no WAL of its own). The copy is then fsynced, opened and put
 * through the check a writer runs at open (check.h: the chain of block hashes,
 * every stored action against its block, the state against what the head
 * commits to, supply), and only then renamed to its name: a file at the
 * backup's name is a whole, checked ledger. The meta table holds the node's
 * draw seed secret, so the copy is made mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/check.h"
#include "ledger/ledger_impl.h"

/* fsyncs path (a file or a directory). */
static int sync_path(const char *path, int dir, gt_err *err) {
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) return gt_err_set(err, GT_EIO, "cannot open %s: %s", path, strerror(errno));
    int rc = fsync(fd) ? gt_err_set(err, GT_EIO, "fsync %s: %s", path, strerror(errno)) : 0;
    close(fd);
    return rc;
}

/* The directory part of path into out ("." when it has none). */
static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, cap, ".");
    else if (slash == path) snprintf(out, cap, "/");
    else snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* Writes the snapshot one read transaction of path sees into tmp (an empty
 * file made 0600 beforehand: VACUUM INTO keeps an empty file's mode). A
 * connection of its own: a read-only ledger's is query_only, which refuses
 * VACUUM INTO; the modules' SQL functions are registered on it, since the
 * copy's indexes are built anew. */
static int vacuum_into(const char *path, const char *tmp, gt_err *err) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        int rc = gt_err_set(err, GT_EDB, "cannot open ledger %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    int rc = gt_ledger_modules_connect(db, err);
    if (!rc && sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &q, NULL) != SQLITE_OK)
        rc = gt_err_set(err, GT_EDB, "backup of %s: %s", path, sqlite3_errmsg(db));
    if (!rc) {
        sqlite3_bind_text(q, 1, tmp, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = gt_err_set(err, GT_EDB, "backup of %s into %s: %s", path, tmp, sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

/* Opens the copy at tmp and runs the writer's open check on it; *head gets
 * its head block. */
static int check_copy(const char *tmp, gt_block *head, gt_err *err) {
    gt_ledger *c = NULL;
    gt_digest_acc acc;
    int rc = gt_ledger_open(tmp, GT_LEDGER_READONLY, &c, err);
    if (!rc && (rc = gt_ledger_check(c->db, &c->g, &c->dom, &acc, err)))
        rc = gt_err_wrap(err, "the backup did not pass the ledger's open check");
    if (!rc) rc = gt_ledger_head(c, head, err);
    gt_ledger_close(c);
    return rc;
}

int gt_ledger_backup(const char *path, const char *out, gt_block *head, gt_err *err) {
    struct stat st;
    if (!lstat(out, &st))
        return gt_err_set(err, GT_EEXIST, "%s exists: a backup never overwrites a file (give a new name)", out);
    char tmp[4200], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return gt_err_set(err, GT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    close(fd);
    gt_ledger *src = NULL; /* opened first for its checks: a gotong ledger, of a format this build reads */
    int rc = gt_ledger_open(path, GT_LEDGER_READONLY, &src, err);
    gt_ledger_close(src);
    if (!rc) rc = vacuum_into(path, tmp, err);
    if (!rc) rc = sync_path(tmp, 0, err);
    if (!rc) rc = check_copy(tmp, head, err);
    if (!rc && rename(tmp, out)) rc = gt_err_set(err, GT_EIO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    dir_of(out, dir, sizeof dir);
    return sync_path(dir, 1, err);
}
