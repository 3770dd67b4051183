/* err.h: error codes and the human-readable error every fallible call can fill.
 *
 * Convention (docs/architecture.md): a function that can fail returns int, 0 on success or a
 * negative GT_E* code, and writes a message for the user into an optional
 * gt_err. The message says what was wrong and what was expected, e.g.
 * "nonce 7 already used by 0xAb…; next is 9". */
#ifndef GT_BASE_ERR_H
#define GT_BASE_ERR_H

#include <stddef.h>

enum {
    GT_OK = 0,
    GT_EINVAL = -1,     /* malformed or out-of-range input */
    GT_ENOMEM = -2,     /* allocation failed */
    GT_EIO = -3,        /* file or socket I/O failed */
    GT_ENOTFOUND = -4,  /* no such key, file, account, task, ... */
    GT_EEXIST = -5,     /* already exists */
    GT_ESIG = -6,       /* bad signature */
    GT_ENONCE = -7,     /* nonce used or skipped */
    GT_EFUNDS = -8,     /* insufficient funds */
    GT_EPERM = -9,      /* sender may not do this */
    GT_ELIMIT = -10,    /* a size or count is over its limit */
    GT_ESTATE = -11,    /* not allowed in the current state (deadline, status) */
    GT_EPASSWORD = -12, /* wrong password / MAC mismatch */
    GT_EUNSUPPORTED = -13, /* valid but not supported (tensor type, arch) */
    GT_EDB = -14,       /* the store failed */
    GT_EOVERFLOW = -15, /* arithmetic overflow */
    GT_ECHAIN = -16,    /* wrong chain id */
};

#define GT_ERR_MSG_MAX 512

typedef struct gt_err {
    int code;
    char msg[GT_ERR_MSG_MAX];
} gt_err;

/* Sets err (if not NULL) to code and a printf-style message; returns code so
 * callers can write `return gt_err_set(err, GT_EINVAL, "...")`. */
int gt_err_set(gt_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (adds context on the way up).
 * Returns err->code; with err NULL, the code of this thread's last
 * gt_err_set (the error being passed up), so `return gt_err_wrap(...)` keeps
 * the real code whether or not the caller wanted the message. */
int gt_err_wrap(gt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears err to GT_OK and an empty message. */
void gt_err_clear(gt_err *err);

/* A short constant name for a code ("EINVAL"), for JSON error bodies. */
const char *gt_err_name(int code);

#endif
