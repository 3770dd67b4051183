/* file.c: file helpers with explicit limits and durable writes. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

int gt_file_read(const char *path, size_t max_bytes, uint8_t **out, size_t *len, gt_err *err) {
    *out = NULL;
    if (len) *len = 0;
    /* O_NONBLOCK: a FIFO's open would wait for a writer before fstat could
     * refuse it; on the regular file that is read it changes nothing. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int code = errno == ENOENT ? GT_ENOTFOUND : GT_EIO;
        return gt_err_set(err, code, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gt_err_set(err, GT_EIO, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return gt_err_set(err, GT_ELIMIT, "%s is %lld bytes; at most %zu accepted", path,
                          (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = gt_malloc(n + 1);
    if (!buf) {
        close(fd);
        return gt_err_set(err, GT_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            gt_free(buf);
            close(fd);
            return gt_err_set(err, GT_EIO, "read %s: %s", path, r ? strerror(errno) : "short read");
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return 0;
}

int gt_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                         gt_err *err) {
    /* The temp name is unique per call (pid + a process-wide counter), so
     * threads writing the same path never share a temp file. */
    static _Atomic unsigned long seq;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(), atomic_fetch_add(&seq, 1)) >= (int)sizeof tmp)
        return gt_err_set(err, GT_ELIMIT, "path too long: %s", path);
    /* The name can be guessed: made new (O_EXCL refuses any name that is
     * there, a symlink too), so a link planted there is never followed onto
     * the file it names; a leftover of an earlier process is removed first. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return gt_err_set(err, GT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    fchmod(fd, mode); /* umask must not widen or narrow what the caller asked for */
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return gt_err_set(err, GT_EIO, "write %s: %s", tmp, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return gt_err_set(err, GT_EIO, "fsync %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gt_err_set(err, GT_EIO, "rename to %s: %s", path, strerror(e));
    }
    /* fsync the directory so the rename itself survives power loss. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        if (slash == dir) slash[1] = 0; else *slash = 0;
    } else {
        strcpy(dir, ".");
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int gt_mkdir_p(const char *path, unsigned mode, gt_err *err) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) return gt_err_set(err, GT_EINVAL, "bad directory path");
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return gt_err_set(err, GT_EIO, "mkdir %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return gt_err_set(err, GT_EIO, "mkdir %s: %s", tmp, strerror(errno));
    return 0;
}

int gt_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int gt_path_expand(const char *path, char *out, size_t cap, gt_err *err) {
    int n;
    if (path[0] == '~' && (path[1] == '/' || path[1] == 0)) {
        const char *home = getenv("HOME");
        if (!home) return gt_err_set(err, GT_EINVAL, "cannot expand ~: HOME is not set");
        n = snprintf(out, cap, "%s%s", home, path + 1);
    } else {
        n = snprintf(out, cap, "%s", path);
    }
    if (n < 0 || (size_t)n >= cap) return gt_err_set(err, GT_ELIMIT, "path too long: %s", path);
    return 0;
}

int gt_path_join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    return (n < 0 || (size_t)n >= cap) ? GT_ELIMIT : 0;
}
