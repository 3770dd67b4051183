/* buf.h: a growable byte buffer (always NUL-terminated for convenience). */
#ifndef GT_BASE_BUF_H
#define GT_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gt_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} gt_buf;

#define GT_BUF_INIT {0, 0, 0}

/* Makes room for `extra` more bytes; returns 0 or GT_ENOMEM. */
int gt_buf_reserve(gt_buf *b, size_t extra);
int gt_buf_append(gt_buf *b, const void *p, size_t n);
int gt_buf_append_str(gt_buf *b, const char *s);
int gt_buf_printf(gt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends one byte. */
int gt_buf_putc(gt_buf *b, uint8_t c);
/* Empties the buffer without freeing its storage. */
void gt_buf_reset(gt_buf *b);
/* Frees the storage; b is reusable afterwards. Accepts NULL. */
void gt_buf_free(gt_buf *b);
/* Hands the storage to the caller (caller frees with gt_free); b becomes empty. */
uint8_t *gt_buf_take(gt_buf *b, size_t *len);

#endif
