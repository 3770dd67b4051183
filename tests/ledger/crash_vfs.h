/* crash_vfs.h: an SQLite VFS shim for tests that simulates losing power.
 *
 * It wraps the default VFS. For the main database and WAL files it keeps,
 * per file, an undo log of every write and truncate made since that file's
 * last successful xSync (the bytes and size they replaced). At the crash
 * point -- after a chosen number of write/truncate/sync calls -- the machine
 * "loses power": that call and every later write, truncate, sync or delete
 * fails with an I/O error, so nothing more reaches the files. cvfs_revert()
 * then undoes, newest first, every write not covered by a sync: the files
 * are left exactly as a disk that honours fsync (and nothing more) would
 * hold them after the power came back. File creation and deletion are taken
 * as durable at once; the -shm file is not durable and is removed.
 *
 * It also counts the writes to main database files by the name of the
 * thread making them (cvfs_db_writes_by): which connection copies the WAL
 * into the database, the ledger's checkpointer or its writer.
 *
 * Single process; the shim's own state is under one mutex (the ledger's
 * writer thread and the test thread both do I/O). */
#ifndef GT_TESTS_CRASH_VFS_H
#define GT_TESTS_CRASH_VFS_H

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define CVFS_MAX_FILES 8
#define CVFS_MAX_THREADS 16

typedef struct cvfs_undo {
    sqlite3_int64 off, size_before; /* size_before: the file's size before this change */
    int len;                        /* bytes of old[] that existed before (0: past EOF) */
    unsigned char *old;
} cvfs_undo;

typedef struct cvfs_track {
    char path[512];
    cvfs_undo *log;
    int n, cap;
    int used;
    int is_db; /* a main database file (not a WAL) */
} cvfs_track;

typedef struct cvfs_file {
    sqlite3_file base;
    cvfs_track *t; /* NULL: not tracked (temp files) */
    sqlite3_file *real;
} cvfs_file;

static struct {
    sqlite3_vfs vfs, *real;
    pthread_mutex_t mu;
    cvfs_track files[CVFS_MAX_FILES];
    long ops, crash_at; /* crash_at 0: never */
    int crashed;
    /* A disk that fails syncs (cvfs_fail_syncs): the next fail_syncs syncs
     * of tracked files fail, each after sync_delay_ms, and nothing else; a
     * later one succeeds, as on Linux, which reports a failed write-back
     * once (and has dropped the pages it could not write). */
    int fail_syncs, sync_delay_ms;
    int slow_sync_ms; /* a slow disk (cvfs_slow_syncs): every other sync of a tracked file takes this long */
    struct { char name[16]; long writes; } db_writers[CVFS_MAX_THREADS]; /* writes to main databases, by thread */
} cvfs = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Counts one mutating call; returns 1 when the power is (now) off. */
static int cvfs_tick(void) {
    if (cvfs.crashed) return 1;
    cvfs.ops++;
    if (cvfs.crash_at && cvfs.ops >= cvfs.crash_at) cvfs.crashed = 1;
    return cvfs.crashed;
}

/* The log of the file at path, made on first use. */
static cvfs_track *cvfs_track_for(const char *path) {
    for (int i = 0; i < CVFS_MAX_FILES; i++)
        if (cvfs.files[i].used && !strcmp(cvfs.files[i].path, path)) return &cvfs.files[i];
    for (int i = 0; i < CVFS_MAX_FILES; i++)
        if (!cvfs.files[i].used) {
            cvfs_track *t = &cvfs.files[i];
            memset(t, 0, sizeof *t);
            snprintf(t->path, sizeof t->path, "%s", path);
            t->used = 1;
            return t;
        }
    abort(); /* more files than a ledger opens */
}

/* Drops a file's log (its changes are on disk, or the file is gone). */
static void cvfs_forget(cvfs_track *t) {
    for (int i = 0; i < t->n; i++) free(t->log[i].old);
    t->n = 0;
}

/* Records what [off, off+len) and the size were before a change. */
static int cvfs_record(cvfs_file *f, sqlite3_int64 off, int len) {
    cvfs_track *t = f->t;
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return SQLITE_IOERR;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        void *p = realloc(t->log, (size_t)cap * sizeof *t->log);
        if (!p) return SQLITE_NOMEM;
        t->log = p;
        t->cap = cap;
    }
    cvfs_undo *u = &t->log[t->n];
    u->off = off;
    u->size_before = size;
    u->len = off >= size ? 0 : (int)(off + len <= size ? len : size - off);
    u->old = NULL;
    if (u->len) {
        u->old = malloc((size_t)u->len);
        if (!u->old) return SQLITE_NOMEM;
        if (f->real->pMethods->xRead(f->real, u->old, u->len, off) != SQLITE_OK) { free(u->old); return SQLITE_IOERR; }
    }
    t->n++;
    return SQLITE_OK;
}

/* The io methods: writes, truncates and syncs of tracked files are counted
 * toward the crash point and logged (above); everything else is passed to
 * the real file unchanged. */
static int cvfs_close(sqlite3_file *pf) {
    cvfs_file *f = (cvfs_file *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    free(f->real);
    return rc;
}
static int cvfs_read(sqlite3_file *pf, void *buf, int n, sqlite3_int64 off) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xRead(f->real, buf, n, off);
}
/* Counts a write to a main database file under the calling thread's name
 * (cvfs.mu held). */
static void cvfs_count_db_write(void) {
    char name[16] = {0};
    prctl(PR_GET_NAME, name, 0, 0, 0);
    for (int i = 0; i < CVFS_MAX_THREADS; i++) {
        if (!cvfs.db_writers[i].name[0]) snprintf(cvfs.db_writers[i].name, sizeof cvfs.db_writers[i].name, "%s", name);
        if (!strcmp(cvfs.db_writers[i].name, name)) {
            cvfs.db_writers[i].writes++;
            return;
        }
    }
}

/* Writes to main database files since the last cvfs_revert by threads
 * named `thread` (as prctl/pthread_setname_np name them). */
static inline long cvfs_db_writes_by(const char *thread) {
    long n = 0;
    pthread_mutex_lock(&cvfs.mu);
    for (int i = 0; i < CVFS_MAX_THREADS; i++)
        if (!strcmp(cvfs.db_writers[i].name, thread)) n = cvfs.db_writers[i].writes;
    pthread_mutex_unlock(&cvfs.mu);
    return n;
}

static int cvfs_write(sqlite3_file *pf, const void *buf, int n, sqlite3_int64 off) {
    cvfs_file *f = (cvfs_file *)pf;
    pthread_mutex_lock(&cvfs.mu);
    if (f->t && f->t->is_db) cvfs_count_db_write();
    int rc = SQLITE_OK;
    if (f->t) {
        if (cvfs_tick()) rc = SQLITE_IOERR_WRITE;
        else rc = cvfs_record(f, off, n);
    }
    if (rc == SQLITE_OK) rc = f->real->pMethods->xWrite(f->real, buf, n, off);
    pthread_mutex_unlock(&cvfs.mu);
    return rc;
}
static int cvfs_truncate(sqlite3_file *pf, sqlite3_int64 size) {
    cvfs_file *f = (cvfs_file *)pf;
    pthread_mutex_lock(&cvfs.mu);
    int rc = SQLITE_OK;
    if (f->t) {
        sqlite3_int64 cur = 0;
        if (cvfs_tick()) rc = SQLITE_IOERR_TRUNCATE;
        else if ((rc = f->real->pMethods->xFileSize(f->real, &cur)) == SQLITE_OK && cur > size)
            rc = cvfs_record(f, size, (int)(cur - size));
    }
    if (rc == SQLITE_OK) rc = f->real->pMethods->xTruncate(f->real, size);
    pthread_mutex_unlock(&cvfs.mu);
    return rc;
}
static int cvfs_sync(sqlite3_file *pf, int flags) {
    cvfs_file *f = (cvfs_file *)pf;
    pthread_mutex_lock(&cvfs.mu);
    int failing = f->t && cvfs.fail_syncs > 0;
    int delay_ms = !f->t ? 0 : failing ? cvfs.sync_delay_ms : cvfs.slow_sync_ms;
    pthread_mutex_unlock(&cvfs.mu);
    if (delay_ms) { /* a slow sync (failing or not): the other threads go on meanwhile */
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&cvfs.mu);
    int rc = SQLITE_OK;
    if (f->t && cvfs_tick()) rc = SQLITE_IOERR_FSYNC;
    if (rc == SQLITE_OK && failing) {
        cvfs.fail_syncs--;
        rc = SQLITE_IOERR_FSYNC; /* its writes stay in the undo log: not on disk */
    }
    if (rc == SQLITE_OK) rc = f->real->pMethods->xSync(f->real, flags);
    if (rc == SQLITE_OK && f->t) cvfs_forget(f->t); /* on disk now */
    pthread_mutex_unlock(&cvfs.mu);
    return rc;
}

/* The next n syncs of tracked files fail, each after delay_ms. */
static inline void cvfs_fail_syncs(int n, int delay_ms) {
    pthread_mutex_lock(&cvfs.mu);
    cvfs.fail_syncs = n;
    cvfs.sync_delay_ms = delay_ms;
    pthread_mutex_unlock(&cvfs.mu);
}
/* Every sync of a tracked file that does not fail takes delay_ms more (0:
 * none), and succeeds. */
static inline void cvfs_slow_syncs(int delay_ms) {
    pthread_mutex_lock(&cvfs.mu);
    cvfs.slow_sync_ms = delay_ms;
    pthread_mutex_unlock(&cvfs.mu);
}
static int cvfs_file_size(sqlite3_file *pf, sqlite3_int64 *size) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xFileSize(f->real, size);
}
static int cvfs_lock(sqlite3_file *pf, int l) { cvfs_file *f = (cvfs_file *)pf; return f->real->pMethods->xLock(f->real, l); }
static int cvfs_unlock(sqlite3_file *pf, int l) { cvfs_file *f = (cvfs_file *)pf; return f->real->pMethods->xUnlock(f->real, l); }
static int cvfs_check_lock(sqlite3_file *pf, int *out) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}
static int cvfs_fcntl(sqlite3_file *pf, int op, void *arg) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}
static int cvfs_sector(sqlite3_file *pf) { cvfs_file *f = (cvfs_file *)pf; return f->real->pMethods->xSectorSize(f->real); }
static int cvfs_devchar(sqlite3_file *pf) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}
static int cvfs_shm_map(sqlite3_file *pf, int pg, int sz, int extend, void volatile **pp) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xShmMap(f->real, pg, sz, extend, pp);
}
static int cvfs_shm_lock(sqlite3_file *pf, int off, int n, int flags) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xShmLock(f->real, off, n, flags);
}
static void cvfs_shm_barrier(sqlite3_file *pf) { cvfs_file *f = (cvfs_file *)pf; f->real->pMethods->xShmBarrier(f->real); }
static int cvfs_shm_unmap(sqlite3_file *pf, int del) {
    cvfs_file *f = (cvfs_file *)pf;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

/* No xFetch/xUnfetch (version 2): SQLite then reads through xRead only. */
static const sqlite3_io_methods cvfs_methods = {
    2, cvfs_close, cvfs_read, cvfs_write, cvfs_truncate, cvfs_sync, cvfs_file_size, cvfs_lock, cvfs_unlock,
    cvfs_check_lock, cvfs_fcntl, cvfs_sector, cvfs_devchar, cvfs_shm_map, cvfs_shm_lock, cvfs_shm_barrier,
    cvfs_shm_unmap, NULL, NULL};

/* Opens through the real VFS; main databases and WALs are tracked by path
 * (a file opened twice shares its log). */
static int cvfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *out_flags) {
    (void)vfs;
    cvfs_file *f = (cvfs_file *)pf;
    memset(f, 0, sizeof *f);
    f->real = calloc(1, (size_t)cvfs.real->szOsFile);
    if (!f->real) return SQLITE_NOMEM;
    int rc = cvfs.real->xOpen(cvfs.real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        free(f->real);
        f->real = NULL;
        return rc;
    }
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
        pthread_mutex_lock(&cvfs.mu);
        f->t = cvfs_track_for(name);
        f->t->is_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
        pthread_mutex_unlock(&cvfs.mu);
    }
    f->base.pMethods = &cvfs_methods;
    return SQLITE_OK;
}

/* Deleting is durable at once (and fails once the power is off); the other
 * VFS methods are the real VFS's. */
static int cvfs_delete(sqlite3_vfs *vfs, const char *name, int dir_sync) {
    (void)vfs;
    pthread_mutex_lock(&cvfs.mu);
    int crashed = cvfs.crashed;
    if (!crashed)
        for (int i = 0; i < CVFS_MAX_FILES; i++)
            if (cvfs.files[i].used && !strcmp(cvfs.files[i].path, name)) cvfs_forget(&cvfs.files[i]);
    pthread_mutex_unlock(&cvfs.mu);
    if (crashed) return SQLITE_IOERR_DELETE;
    return cvfs.real->xDelete(cvfs.real, name, dir_sync);
}
static int cvfs_access(sqlite3_vfs *v, const char *n, int fl, int *out) { (void)v; return cvfs.real->xAccess(cvfs.real, n, fl, out); }
static int cvfs_full(sqlite3_vfs *v, const char *n, int sz, char *out) { (void)v; return cvfs.real->xFullPathname(cvfs.real, n, sz, out); }
static void *cvfs_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return cvfs.real->xDlOpen(cvfs.real, n); }
static void cvfs_dlerror(sqlite3_vfs *v, int n, char *m) { (void)v; cvfs.real->xDlError(cvfs.real, n, m); }
static void (*cvfs_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return cvfs.real->xDlSym(cvfs.real, h, s); }
static void cvfs_dlclose(sqlite3_vfs *v, void *h) { (void)v; cvfs.real->xDlClose(cvfs.real, h); }
static int cvfs_random(sqlite3_vfs *v, int n, char *out) { (void)v; return cvfs.real->xRandomness(cvfs.real, n, out); }
static int cvfs_sleep(sqlite3_vfs *v, int us) { (void)v; return cvfs.real->xSleep(cvfs.real, us); }
static int cvfs_time(sqlite3_vfs *v, double *t) { (void)v; return cvfs.real->xCurrentTime(cvfs.real, t); }
static int cvfs_lasterr(sqlite3_vfs *v, int n, char *m) { (void)v; return cvfs.real->xGetLastError(cvfs.real, n, m); }
static int cvfs_time64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return cvfs.real->xCurrentTimeInt64(cvfs.real, t); }

/* Installs the shim as the default VFS (once). */
static void cvfs_install(void) {
    if (cvfs.real) return;
    cvfs.real = sqlite3_vfs_find(NULL);
    cvfs.vfs = (sqlite3_vfs){2, (int)sizeof(cvfs_file), cvfs.real->mxPathname, NULL, "crashvfs", NULL,
                             cvfs_open, cvfs_delete, cvfs_access, cvfs_full, cvfs_dlopen, cvfs_dlerror, cvfs_dlsym,
                             cvfs_dlclose, cvfs_random, cvfs_sleep, cvfs_time, cvfs_lasterr, cvfs_time64,
                             NULL, NULL, NULL};
    sqlite3_vfs_register(&cvfs.vfs, 1);
}

/* Arms the crash after `after_ops` more mutating calls (0: never). */
static inline void cvfs_arm(long after_ops) {
    pthread_mutex_lock(&cvfs.mu);
    cvfs.ops = 0;
    cvfs.crash_at = after_ops;
    cvfs.crashed = 0;
    pthread_mutex_unlock(&cvfs.mu);
}

static inline int cvfs_crashed(void) {
    pthread_mutex_lock(&cvfs.mu);
    int c = cvfs.crashed;
    pthread_mutex_unlock(&cvfs.mu);
    return c;
}

/* After every connection is closed: puts each tracked file back to its last
 * synced content, removes the -shm files, forgets everything and restores
 * power. Returns the number of unsynced changes undone. */
static long cvfs_revert(void) {
    long undone = 0;
    pthread_mutex_lock(&cvfs.mu);
    for (int i = 0; i < CVFS_MAX_FILES; i++) {
        cvfs_track *t = &cvfs.files[i];
        if (!t->used) continue;
        int fd = open(t->path, O_RDWR);
        for (int k = t->n - 1; fd >= 0 && k >= 0; k--) {
            cvfs_undo *u = &t->log[k];
            if (u->len && pwrite(fd, u->old, (size_t)u->len, u->off) != u->len) abort();
            if (ftruncate(fd, u->size_before) != 0) abort();
            undone++;
        }
        if (fd >= 0) close(fd);
        cvfs_forget(t);
        free(t->log);
        char shm[600];
        snprintf(shm, sizeof shm, "%s-shm", t->path);
        unlink(shm);
        memset(t, 0, sizeof *t);
    }
    cvfs.crash_at = 0;
    cvfs.crashed = 0;
    memset(cvfs.db_writers, 0, sizeof cvfs.db_writers);
    pthread_mutex_unlock(&cvfs.mu);
    return undone;
}

#endif
