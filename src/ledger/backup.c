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
 * draw seed secret, so the copy is made mode 0600, and an interrupted
 * backup removes its temp file.
 *
 * A copy for a verifier (GT_BACKUP_NO_SECRET) leaves the secret out: whoever
 * reads it would know every future draw, and `ledger verify` does not need
 * it (the meta row seed_secret_removed marks such a copy: a secret missing
 * without it is damage, which a node and `ledger verify` refuse). SQLite's
 * DELETE only unlinks a row, so the row is deleted with
 * secure_delete (its bytes zeroed), the file rebuilt by VACUUM with no
 * journal (no page holding it is copied anywhere), and the result read back
 * byte for byte: a copy in which the 32 bytes still appear is refused. */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Whether out's last part is a name SQLite gives a database's side files
 * (DB-wal, DB-shm, DB-journal): the next open of DB takes such a file over
 * or deletes it, so a backup there is lost (a stopped node's
 * HOME/ledger.db-wal does not exist: a backup made there was deleted by the
 * node's next start, after it had been reported whole). */
static int sidecar_name(const char *out) {
    static const char *const ends[] = {"-wal", "-shm", "-journal"};
    size_t n = strlen(out);
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        size_t e = strlen(ends[i]);
        if (n >= e && !strcmp(out + n - e, ends[i])) return 1;
    }
    return 0;
}

static int refuse_existing(const char *out, gt_err *err) {
    return gt_err_set(err, GT_EEXIST, "%s exists: a backup never overwrites a file (give a new name)", out);
}

void (*gt_ledger_backup_before_name)(const char *out);

/* Gives the checked copy at tmp the name out without ever replacing a file
 * there: a hard link fails on a name that exists (a rename would replace a
 * file made at out since the check at the start); where the filesystem has
 * no hard links, a rename after one more check. */
static int name_copy(const char *tmp, const char *out, gt_err *err) {
    struct stat st;
    if (gt_ledger_backup_before_name) gt_ledger_backup_before_name(out);
    if (!link(tmp, out)) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST || !lstat(out, &st)) return refuse_existing(out, err);
    if (rename(tmp, out)) return gt_err_set(err, GT_EIO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
    return 0;
}

/* The temp file an interrupted backup removes (one backup a process at a
 * time: the CLI's), and the dispositions it replaced. */
static char g_tmp[4200];
static const int g_sigs[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction g_old[3];

/* SIGINT, SIGTERM or SIGHUP during a backup: the temp file (a copy of the
 * draw seed secret) goes, then the signal does what it did before. */
static void on_signal(int sig) {
    unlink(g_tmp);
    for (int i = 0; i < 3; i++)
        if (g_sigs[i] == sig) sigaction(sig, &g_old[i], NULL);
    raise(sig); /* blocked in the handler: delivered as it returns */
}

/* Installs (on 1) or removes (on 0) on_signal for the signals whose
 * disposition is the default (an ignored SIGHUP, under nohup, stays ignored). */
static void guard_tmp(int on) {
    static int installed[3];
    for (int i = 0; i < 3; i++) {
        if (!on) {
            if (installed[i]) sigaction(g_sigs[i], &g_old[i], NULL);
            installed[i] = 0;
            continue;
        }
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        installed[i] = !sigaction(g_sigs[i], NULL, &g_old[i]) && g_old[i].sa_handler == SIG_DFL &&
                       !(g_old[i].sa_flags & SA_SIGINFO) && !sigaction(g_sigs[i], &sa, NULL);
    }
}

/* Creates the empty temp file g_tmp, mode 0600 whatever the umask (one of
 * 0277 made it 0400, which SQLite's VACUUM INTO cannot write but as root),
 * and guards it from SIGINT/SIGTERM/SIGHUP: those are held from its
 * creation to its guard, so there is no moment it would be left behind. */
static int make_tmp(gt_err *err) {
    sigset_t block, was;
    sigemptyset(&block);
    for (int i = 0; i < 3; i++) sigaddset(&block, g_sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &was);
    int fd = open(g_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), e = fd < 0 ? errno : 0;
    if (fd >= 0 && fchmod(fd, 0600)) e = errno, unlink(g_tmp);
    if (fd >= 0 && !e) guard_tmp(1);
    if (fd >= 0) close(fd);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    return e ? gt_err_set(err, GT_EIO, "cannot create %s mode 0600: %s", g_tmp, strerror(e)) : 0;
}

/* Reads the 32-byte seed secret of the copy at path, open as db, into out. */
static int read_secret(sqlite3 *db, const char *path, uint8_t out[32], gt_err *err) {
    sqlite3_stmt *q = NULL;
    int rc = GT_EDB;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='seed_secret'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
        memcpy(out, sqlite3_column_blob(q, 0), 32);
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc ? gt_err_set(err, GT_EDB, "the copy %s has no 32-byte seed secret to remove", path) : 0;
}

/* Whether db's meta has a row for key. */
static int has_row(sqlite3 *db, const char *key) {
    sqlite3_stmt *q = NULL;
    int has = sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key=?", -1, &q, NULL) == SQLITE_OK &&
              sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return has;
}

/* Whether the file at path holds the 32 bytes of secret anywhere: read
 * through in 1 MiB pieces that overlap by 31 bytes. -1 on a read error. */
static int file_holds(const char *path, const uint8_t secret[32]) {
    enum { PIECE = 1 << 20 };
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f ? malloc(PIECE + 31) : NULL;
    int found = f && buf ? 0 : -1;
    size_t kept = 0, n;
    while (!found && (n = fread(buf + kept, 1, PIECE, f)) > 0) {
        size_t len = kept + n;
        found = memmem(buf, len, secret, 32) != NULL;
        kept = len < 31 ? len : 31;
        memmove(buf, buf + len - kept, kept);
    }
    if (!found && f && ferror(f)) found = -1;
    free(buf);
    if (f) fclose(f);
    return found;
}

/* Takes the seed secret out of the copy at path (GT_BACKUP_NO_SECRET, at the
 * top of this file) and checks that its bytes are nowhere in the file. */
static int strip_secret(const char *path, gt_err *err) {
    sqlite3 *db = NULL;
    uint8_t secret[32];
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK ? 0
             : gt_err_set(err, GT_EDB, "cannot open the copy %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    if (!rc) rc = gt_ledger_modules_connect(db, err); /* VACUUM rebuilds indexes on their SQL functions */
    if (!rc && !has_row(db, "seed_secret") && has_row(db, "seed_secret_removed")) { /* a copy of such a copy */
        sqlite3_close(db);
        return 0;
    }
    if (!rc) rc = read_secret(db, path, secret, err);
    if (!rc && sqlite3_exec(db,
                            "PRAGMA journal_mode=OFF; PRAGMA secure_delete=ON;"
                            "DELETE FROM meta WHERE key='seed_secret';"
                            "INSERT INTO meta VALUES('seed_secret_removed', 1); VACUUM;",
                            NULL, NULL, NULL) != SQLITE_OK)
        rc = gt_err_set(err, GT_EDB, "removing the seed secret from %s: %s", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    int held = rc ? 0 : file_holds(path, secret);
    memset(secret, 0, sizeof secret);
    if (held < 0) return gt_err_set(err, GT_EIO, "cannot read the copy %s back: %s", path, strerror(errno));
    if (held) return gt_err_set(err, GT_EINVAL, "the copy %s still holds the seed secret's bytes after its removal, so "
                                "it is not written (a copy with the secret: backup without --no-secret)", path);
    return rc;
}

/* Makes the snapshot of path in the temp file g_tmp (made already), takes
 * the seed secret out of it when flags say so, and checks it; *head gets
 * its head block. */
static int copy_into_tmp(const char *path, int flags, gt_block *head, gt_err *err) {
    gt_ledger *src = NULL; /* opened first for its checks: a gotong ledger, of a format this build reads */
    int rc = gt_ledger_open(path, GT_LEDGER_READONLY, &src, err);
    gt_ledger_close(src);
    if (!rc) rc = vacuum_into(path, g_tmp, err);
    if (!rc && (flags & GT_BACKUP_NO_SECRET)) rc = strip_secret(g_tmp, err);
    if (!rc) rc = sync_path(g_tmp, 0, err);
    if (!rc) rc = check_copy(g_tmp, head, err);
    return rc;
}

int gt_ledger_backup(const char *path, const char *out, int flags, gt_block *head, gt_err *err) {
    assert(!(flags & ~GT_BACKUP_NO_SECRET));
    struct stat st;
    if (sidecar_name(out))
        return gt_err_set(err, GT_EINVAL, "%s: a name ending -wal, -shm or -journal is a database's side file, "
                          "which SQLite takes over or deletes (give another name)", out);
    if (!lstat(out, &st)) return refuse_existing(out, err);
    char dir[4200];
    if ((size_t)snprintf(g_tmp, sizeof g_tmp, "%s.tmp-%ld", out, (long)getpid()) >= sizeof g_tmp)
        return gt_err_set(err, GT_EINVAL, "%s: the name is too long", out);
    int rc = make_tmp(err);
    if (rc) return rc;
    rc = copy_into_tmp(path, flags, head, err);
    if (!rc) rc = name_copy(g_tmp, out, err);
    if (rc) unlink(g_tmp);
    guard_tmp(0);
    if (rc) return rc;
    dir_of(out, dir, sizeof dir);
    return sync_path(dir, 1, err);
}
