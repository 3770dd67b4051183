/* alloc.c: the single allocation hook (see alloc.h). */
#include "base/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long fail_countdown = -1; /* -1: never fail */

/* Returns 1 when this allocation must fail (test hook armed and run down). */
static int should_fail(void) {
    long c = atomic_load(&fail_countdown);
    if (c < 0) return 0;
    if (c == 0) return 1;
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

void gt_alloc_fail_after(long n) { atomic_store(&fail_countdown, n); }

void *gt_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *gt_calloc(size_t count, size_t size) {
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}
void *gt_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void gt_free(void *p) { free(p); }

char *gt_strdup(const char *s) { return gt_strndup(s, strlen(s)); }

char *gt_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = gt_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}
