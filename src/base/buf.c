/* buf.c: growable byte buffer. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

int gt_buf_reserve(gt_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return GT_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = gt_realloc(b->data, cap);
    if (!d) return GT_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int gt_buf_append(gt_buf *b, const void *p, size_t n) {
    int rc = gt_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int gt_buf_append_str(gt_buf *b, const char *s) { return gt_buf_append(b, s, strlen(s)); }

int gt_buf_putc(gt_buf *b, uint8_t c) { return gt_buf_append(b, &c, 1); }

int gt_buf_printf(gt_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return GT_EINVAL;
    int rc = gt_buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void gt_buf_reset(gt_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void gt_buf_free(gt_buf *b) {
    if (!b) return;
    gt_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint8_t *gt_buf_take(gt_buf *b, size_t *len) {
    uint8_t *d = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
