/* blob.c: the content-addressed blob store (see blob.h). */
#include "store/blob.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/limits.h"
#include "crypto/sha256.h"

/* Bytes of a path under the store (the home is at most 4 KiB). */
#define BLOB_PATH_MAX 4200
/* Bytes read at a time when gt_blob_open checks a blob's file. */
#define BLOB_CHECK_CHUNK (64 * 1024)

/* Commits of one process go one at a time, so that "was it new?" and the
 * rename (and the quota charged by admit) are one step. Writing the bytes
 * is not under the lock: each writer has a temp file of its own. */
static pthread_mutex_t commit_mu = PTHREAD_MUTEX_INITIALIZER;

struct gt_blob_writer {
    char dir[BLOB_PATH_MAX], tmp[BLOB_PATH_MAX];
    int fd; /* -1 for a known blob's writer (gt_blob_writer_open_known): the bytes are hashed, not kept */
    gt_sha256_ctx sha;
    uint64_t size, written; /* size: GT_BLOB_SIZE_ANY or the exact size promised */
    int has_hash;
    uint8_t hash[32];
};

void gt_blob_id_format(const uint8_t hash[32], char out[GT_BLOB_ID_BYTES]) {
    memcpy(out, "sha256:", 7);
    gt_hex_encode(hash, 32, out + 7);
}

int gt_blob_id_parse(const char *id, uint8_t hash[32], gt_err *err) {
    const char *hex = NULL;
    if (!strncmp(id, "sha256:", 7)) hex = id + 7;
    else if (!strncmp(id, "0x", 2)) hex = id;
    if (!hex || strlen(hex) != (hex == id ? 66u : 64u))
        return gt_err_set(err, GT_EINVAL, "blob id \"%.80s\": expected \"sha256:\" followed by 64 hex digits", id);
    int rc = gt_hex_decode(hex, hash, 32, "blob id", err);
    return rc;
}

/* Path of a blob: dir/ab/cdef..., and its folder dir/ab in sub. */
static int blob_path(const char *dir, const uint8_t hash[32], char *sub, size_t sub_cap, char *path, size_t cap,
                     gt_err *err) {
    char hex[65];
    gt_hex_encode(hash, 32, hex);
    int n1 = snprintf(sub, sub_cap, "%s/%.2s", dir, hex);
    int n2 = snprintf(path, cap, "%s/%.2s/%s", dir, hex, hex + 2);
    if (n1 < 0 || (size_t)n1 >= sub_cap || n2 < 0 || (size_t)n2 >= cap)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    return 0;
}

/* fsyncs a directory so a rename into it survives power loss. */
static void sync_dir(const char *dir) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    (void)fsync(dfd);
    close(dfd);
}

/* A writer for a blob of `size` bytes (GT_BLOB_SIZE_ANY: any) that must
 * hash to `hash` (NULL: whatever it hashes to), with no file yet (fd -1):
 * the part both kinds of writer share. */
static int writer_new(const char *dir, uint64_t size, const uint8_t hash[32], gt_blob_writer **out, gt_err *err) {
    *out = NULL;
    if (size != GT_BLOB_SIZE_ANY && size > GT_LIMIT_BLOB_BYTES)
        return gt_err_set(err, GT_ELIMIT, "blob of %llu bytes is over the limit of %d bytes",
                          (unsigned long long)size, GT_LIMIT_BLOB_BYTES);
    gt_blob_writer *w = gt_calloc(1, sizeof *w);
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    w->fd = -1;
    w->size = size;
    if (hash) memcpy(w->hash, hash, 32), w->has_hash = 1;
    int n = snprintf(w->dir, sizeof w->dir, "%s", dir), rc = 0;
    if (n < 0 || (size_t)n >= sizeof w->dir)
        rc = gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    if (!rc && gt_sha256_init(&w->sha)) rc = gt_err_set(err, GT_ENOMEM, "out of memory (sha256)");
    if (rc) {
        gt_blob_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int gt_blob_writer_open(const char *dir, uint64_t size, const uint8_t hash[32], gt_blob_writer **out, gt_err *err) {
    gt_blob_writer *w;
    int rc = writer_new(dir, size, hash, &w, err);
    if (rc) return rc;
    char tmpdir[BLOB_PATH_MAX];
    int n2 = snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
    int n3 = snprintf(w->tmp, sizeof w->tmp, "%s/tmp/upload-XXXXXX", dir);
    if (n2 < 0 || n3 < 0 || (size_t)n3 >= sizeof w->tmp)
        rc = gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    if (!rc) rc = gt_mkdir_p(tmpdir, 0755, err);
    if (!rc && (w->fd = mkstemp(w->tmp)) < 0)
        rc = gt_err_set(err, GT_EIO, "cannot create a temp file in %s: %s", tmpdir, strerror(errno));
    if (!rc) (void)fcntl(w->fd, F_SETFD, FD_CLOEXEC); /* a child process never inherits an upload */
    if (rc) {
        gt_blob_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int gt_blob_writer_open_known(const char *dir, uint64_t size, const uint8_t hash[32], gt_blob_writer **out,
                              gt_err *err) {
    assert(hash && size != GT_BLOB_SIZE_ANY);
    return writer_new(dir, size, hash, out, err);
}

int gt_blob_writer_write(gt_blob_writer *w, const void *data, size_t len, gt_err *err) {
    assert(w);
    uint64_t cap = w->size == GT_BLOB_SIZE_ANY ? GT_LIMIT_BLOB_BYTES : w->size;
    if (len > cap - w->written)
        return gt_err_set(err, GT_ELIMIT, "blob is longer than the %llu bytes announced",
                          (unsigned long long)cap);
    const uint8_t *p = data;
    size_t done = w->fd < 0 ? len : 0; /* a known blob's bytes are only hashed */
    while (done < len) {
        ssize_t k = write(w->fd, p + done, len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return gt_err_set(err, GT_EIO, "cannot write %s: %s", w->tmp, strerror(errno));
        done += (size_t)k;
    }
    gt_sha256_update(&w->sha, data, len);
    w->written += len;
    assert(w->written <= cap); /* the limit was checked before a byte was written */
    return 0;
}

uint64_t gt_blob_writer_len(const gt_blob_writer *w) { return w->written; }

void gt_blob_writer_abort(gt_blob_writer *w) {
    if (!w) return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    gt_sha256_free(&w->sha);
    gt_free(w);
}

/* The checks of commit before anything is renamed: the size promised, the
 * hash promised, the bytes on disk. Fills hash with what the bytes hash to. */
static int writer_check(gt_blob_writer *w, uint8_t hash[32], gt_err *err) {
    assert(w->written <= GT_LIMIT_BLOB_BYTES && (w->size == GT_BLOB_SIZE_ANY || w->written <= w->size));
    gt_sha256_final(&w->sha, hash);
    char got[GT_BLOB_ID_BYTES], want[GT_BLOB_ID_BYTES];
    if (w->size != GT_BLOB_SIZE_ANY && w->written != w->size)
        return gt_err_set(err, GT_EINVAL, "blob ended after %llu of the %llu bytes announced",
                          (unsigned long long)w->written, (unsigned long long)w->size);
    if (w->has_hash && memcmp(hash, w->hash, 32)) {
        gt_blob_id_format(hash, got);
        gt_blob_id_format(w->hash, want);
        return gt_err_set(err, GT_EINVAL, "the bytes hash to %s, not to the announced %s", got, want);
    }
    if (w->fd >= 0 && (fchmod(w->fd, 0644) != 0 || fsync(w->fd) != 0))
        return gt_err_set(err, GT_EIO, "cannot sync %s: %s", w->tmp, strerror(errno));
    return 0;
}

static int check_fd(int fd, const char *path, const uint8_t hash[32], uint64_t *size, gt_err *err);

/* Moves the damaged file at path into dir/tmp (made if it is not there: a
 * store moved without it), so that the next upload of its blob is written.
 * 0, or errno: the file then stays, and every re-upload would meet it. */
static int set_aside(const char *dir, const char *canon, const char *path) {
    char tmpdir[BLOB_PATH_MAX + 8], aside[BLOB_PATH_MAX + 80];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
    snprintf(aside, sizeof aside, "%s/damaged-%.24s", tmpdir, canon + 7);
    if (mkdir(tmpdir, 0755) != 0 && errno != EEXIST) return errno;
    return rename(path, aside) != 0 ? errno : 0;
}

/* 1 when path names the file open as fd (the same device and inode), 0
 * when it names another or none. */
static int same_file(int fd, const char *path) {
    struct stat a, b;
    return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* commit_known's answer for a copy found damaged: under the store's lock,
 * sets it aside unless a commit replaced it meanwhile (a whole copy then:
 * every commit checked its bytes, so nothing is wrong any more). */
static int damaged(gt_blob_writer *w, const uint8_t hash[32], const char *canon, const char *path, int f,
                   const gt_err *why, gt_blob_admit_fn admit, void *arg, gt_err *err) {
    pthread_mutex_lock(&commit_mu);
    int rc = 0, e = 0;
    if (!same_file(f, path))
        rc = gt_file_exists(path) ? 0 : gt_err_set(err, GT_ESTATE, "the node's copy of blob %s went missing during "
                                                   "the upload, whose bytes were not kept: upload it again", canon);
    else if ((e = set_aside(w->dir, canon, path)))
        rc = gt_err_set(err, GT_EIO, "the node's copy of blob %s is damaged (%s) and cannot be set aside: %s",
                        canon, why->msg, strerror(e));
    else
        rc = gt_err_set(err, GT_ESTATE, "the node's copy of blob %s is damaged (%s) and was set aside; this upload's "
                        "bytes were not kept (the blob was known at its start): upload it again to store it", canon,
                        why->msg);
    gt_err ignored = {0}; /* the copy is out either way: what it was charged goes back now (test_set_aside_uncharged) */
    if (!e && rc == GT_ESTATE && admit) (void)admit(arg, hash, w->size, GT_BLOB_SET_ASIDE, &ignored);
    pthread_mutex_unlock(&commit_mu);
    return rc;
}

/* Commit of a known blob's writer (its bytes checked by writer_check): the
 * stored copy must be whole. It is read through outside the store's lock
 * (up to 16 MiB: every other commit would wait for it); only a copy found
 * damaged takes the lock, to be set aside (damaged). A damaged or missing
 * copy cannot be replaced from bytes that were not kept, so the uploader is
 * told to send it again, which stores it as a new blob; admit hears of a
 * copy set aside (GT_BLOB_SET_ASIDE), to give back what it was charged. */
static int commit_known(gt_blob_writer *w, const uint8_t hash[32], const char *path, gt_blob_admit_fn admit, void *arg,
                        gt_err *err) {
    char canon[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, canon);
    int f = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    uint64_t size = 0;
    gt_err why = {0};
    if (f < 0) rc = gt_err_set(err, GT_ESTATE, "the node's copy of blob %s went missing during the upload, whose "
                               "bytes were not kept (the blob was known at its start): upload it again", canon);
    else if (check_fd(f, path, hash, &size, &why) != GT_EINVAL) /* 0, or not read through: not found damaged */
        rc = why.code ? gt_err_set(err, why.code, "checking the node's copy of blob %s: %s", canon, why.msg) : 0;
    else
        rc = damaged(w, hash, canon, path, f, &why, admit, arg, err);
    if (f >= 0) close(f);
    return rc;
}

int gt_blob_writer_commit(gt_blob_writer *w, gt_blob_admit_fn admit, void *arg, char id_out[GT_BLOB_ID_BYTES],
                          int *is_new, gt_err *err) {
    assert(w);
    uint8_t hash[32];
    char sub[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 80];
    int rc = writer_check(w, hash, err);
    if (!rc && w->fd < 0) { /* a known blob's writer: nothing to store, nothing new to charge */
        rc = blob_path(w->dir, hash, sub, sizeof sub, path, sizeof path, err);
        if (!rc) rc = commit_known(w, hash, path, admit, arg, err);
        if (!rc) gt_blob_id_format(hash, id_out);
        if (!rc && is_new) *is_new = 0;
        gt_blob_writer_abort(w);
        return rc;
    }
    if (!rc) rc = blob_path(w->dir, hash, sub, sizeof sub, path, sizeof path, err);
    if (!rc) rc = gt_mkdir_p(sub, 0755, err);
    if (rc) {
        gt_blob_writer_abort(w);
        return rc;
    }
    pthread_mutex_lock(&commit_mu);
    int fresh = !gt_file_exists(path);
    if (admit) rc = admit(arg, hash, w->written, fresh ? GT_BLOB_NEW : GT_BLOB_KNOWN, err);
    /* An existing copy is replaced by the same bytes: that repairs a damaged one. */
    if (!rc && rename(w->tmp, path) != 0)
        rc = gt_err_set(err, GT_EIO, "cannot move the blob into %s: %s", path, strerror(errno));
    pthread_mutex_unlock(&commit_mu);
    if (rc) {
        gt_blob_writer_abort(w);
        return rc;
    }
    close(w->fd);
    w->fd = -1;
    sync_dir(sub);
    gt_blob_id_format(hash, id_out);
    if (is_new) *is_new = fresh;
    gt_blob_writer_abort(w); /* frees; the temp name is gone, nothing to unlink */
    return 0;
}

int gt_blob_put(const char *dir, const void *data, size_t len, char id_out[GT_BLOB_ID_BYTES], gt_err *err) {
    if (len > GT_LIMIT_BLOB_BYTES)
        return gt_err_set(err, GT_ELIMIT, "blob is %zu bytes; at most %d accepted", len, GT_LIMIT_BLOB_BYTES);
    gt_blob_writer *w;
    int rc = gt_blob_writer_open(dir, len, NULL, &w, err);
    if (!rc && (rc = gt_blob_writer_write(w, data, len, err))) gt_blob_writer_abort(w);
    if (!rc) rc = gt_blob_writer_commit(w, NULL, NULL, id_out, NULL, err);
    return rc ? gt_err_wrap(err, "storing blob") : 0;
}

int gt_blob_get(const char *dir, const char *id, uint8_t **data, size_t *len, gt_err *err) {
    *data = NULL;
    *len = 0;
    uint8_t hash[32], got[32];
    int rc = gt_blob_id_parse(id, hash, err);
    if (rc) return rc;
    char sub[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 80];
    if ((rc = blob_path(dir, hash, sub, sizeof sub, path, sizeof path, err))) return rc;
    uint8_t *buf;
    size_t n;
    rc = gt_file_read(path, GT_LIMIT_BLOB_BYTES, &buf, &n, err);
    char canon[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, canon);
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_ENOTFOUND, "no blob %s in this store", canon);
    if (rc == GT_ELIMIT)
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file is over the %d-byte limit", canon,
                          GT_LIMIT_BLOB_BYTES);
    if (rc) return rc;
    gt_sha256(buf, n, got);
    if (memcmp(got, hash, 32)) {
        char actual[GT_BLOB_ID_BYTES];
        gt_blob_id_format(got, actual);
        gt_free(buf);
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file (%s) hashes to %s", canon, path, actual);
    }
    *data = buf;
    *len = n;
    return 0;
}

/* SHA-256 of the first n bytes of fd into out, read with pread (the fd's
 * offset is left alone) through a buffer of BLOB_CHECK_CHUNK bytes: checking
 * a blob must not cost its size in memory. */
static int hash_fd(int fd, uint64_t n, const char *path, uint8_t out[32], gt_err *err) {
    uint8_t *buf = gt_malloc(BLOB_CHECK_CHUNK);
    gt_sha256_ctx s = {0};
    if (!buf || gt_sha256_init(&s)) {
        gt_free(buf);
        return gt_err_set(err, GT_ENOMEM, "out of memory checking %s", path);
    }
    uint64_t done = 0;
    while (done < n) {
        size_t want = n - done < BLOB_CHECK_CHUNK ? (size_t)(n - done) : BLOB_CHECK_CHUNK;
        ssize_t k = pread(fd, buf, want, (off_t)done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            gt_sha256_free(&s);
            gt_free(buf);
            return gt_err_set(err, GT_EIO, "read %s: %s", path, k ? strerror(errno) : "short read");
        }
        gt_sha256_update(&s, buf, (size_t)k);
        done += (uint64_t)k;
    }
    gt_sha256_final(&s, out);
    gt_free(buf);
    return 0;
}

/* gt_blob_open's checks of an open blob file: a regular file within the
 * limit whose bytes hash to the id. *size gets its length. */
static int check_fd(int fd, const char *path, const uint8_t hash[32], uint64_t *size, gt_err *err) {
    char canon[GT_BLOB_ID_BYTES], actual[GT_BLOB_ID_BYTES];
    uint8_t got[32];
    struct stat st;
    gt_blob_id_format(hash, canon);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return gt_err_set(err, GT_EIO, "%s is not a regular file", path);
    if ((uint64_t)st.st_size > GT_LIMIT_BLOB_BYTES)
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file is over the %d-byte limit", canon,
                          GT_LIMIT_BLOB_BYTES);
    int rc = hash_fd(fd, (uint64_t)st.st_size, path, got, err);
    if (rc) return rc;
    if (memcmp(got, hash, 32)) {
        gt_blob_id_format(got, actual);
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file (%s) hashes to %s", canon, path, actual);
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int gt_blob_open(const char *dir, const char *id, int *fd, uint64_t *size, gt_err *err) {
    *fd = -1;
    *size = 0;
    uint8_t hash[32];
    int rc = gt_blob_id_parse(id, hash, err);
    if (rc) return rc;
    char sub[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 80];
    if ((rc = blob_path(dir, hash, sub, sizeof sub, path, sizeof path, err))) return rc;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        int e = errno;
        char canon[GT_BLOB_ID_BYTES];
        gt_blob_id_format(hash, canon);
        if (e == ENOENT) return gt_err_set(err, GT_ENOTFOUND, "no blob %s in this store", canon);
        return gt_err_set(err, GT_EIO, "cannot open %s: %s", path, strerror(e));
    }
    if ((rc = check_fd(f, path, hash, size, err))) {
        close(f);
        return rc;
    }
    *fd = f;
    return 0;
}

int gt_blob_exists_hash(const char *dir, const uint8_t hash[32]) {
    char sub[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 80];
    if (blob_path(dir, hash, sub, sizeof sub, path, sizeof path, NULL)) return 0;
    return gt_file_exists(path);
}

int gt_blob_stored_size(const char *dir, const uint8_t hash[32], uint64_t *size) {
    char sub[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 80];
    struct stat st;
    if (blob_path(dir, hash, sub, sizeof sub, path, sizeof path, NULL) || stat(path, &st) || !S_ISREG(st.st_mode))
        return 0;
    *size = (uint64_t)st.st_size;
    return 1;
}

int gt_blob_exists(const char *dir, const char *id) {
    uint8_t hash[32];
    if (gt_blob_id_parse(id, hash, NULL)) return 0;
    return gt_blob_exists_hash(dir, hash);
}

int gt_blob_clean_tmp(const char *dir, gt_err *err) {
    char tmpdir[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 300];
    if (snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir) >= (int)sizeof tmpdir)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    DIR *d = opendir(tmpdir);
    if (!d) return errno == ENOENT ? 0 : gt_err_set(err, GT_EIO, "cannot read %s: %s", tmpdir, strerror(errno));
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* only what writers make, and damaged copies a known blob's commit set aside */
        if (strncmp(e->d_name, "upload-", 7) && strncmp(e->d_name, "damaged-", 8)) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
