/* err.c: filling gt_err with a code and a message. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The code of the last gt_err_set in this thread: what gt_err_wrap returns
 * when a caller passed no gt_err (the code would be lost otherwise). */
static _Thread_local int last_code = GT_EINVAL;

/* Formats the message into err->msg (truncating safely) and returns code. */
int gt_err_set(gt_err *err, int code, const char *fmt, ...) {
    last_code = code;
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

/* Builds "prefix: old message" in place; keeps the code. */
int gt_err_wrap(gt_err *err, const char *fmt, ...) {
    if (!err) return last_code;
    char prefix[GT_ERR_MSG_MAX], old[GT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 3);
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = 0;
    return err->code;
}

void gt_err_clear(gt_err *err) {
    if (!err) return;
    err->code = GT_OK;
    err->msg[0] = 0;
}

const char *gt_err_name(int code) {
    switch (code) {
    case GT_OK: return "OK";
    case GT_EINVAL: return "EINVAL";
    case GT_ENOMEM: return "ENOMEM";
    case GT_EIO: return "EIO";
    case GT_ENOTFOUND: return "ENOTFOUND";
    case GT_EEXIST: return "EEXIST";
    case GT_ESIG: return "ESIG";
    case GT_ENONCE: return "ENONCE";
    case GT_EFUNDS: return "EFUNDS";
    case GT_EPERM: return "EPERM";
    case GT_ELIMIT: return "ELIMIT";
    case GT_ESTATE: return "ESTATE";
    case GT_EPASSWORD: return "EPASSWORD";
    case GT_EUNSUPPORTED: return "EUNSUPPORTED";
    case GT_EDB: return "EDB";
    case GT_EOVERFLOW: return "EOVERFLOW";
    case GT_ECHAIN: return "ECHAIN";
    default: return "EUNKNOWN";
    }
}
