/* alloc.h: every heap allocation in gotong goes through these, so a test can
 * make the Nth allocation fail and check that the failure is handled (the way
 * curl and Lua test their out-of-memory paths). */
#ifndef GT_BASE_ALLOC_H
#define GT_BASE_ALLOC_H

#include <stddef.h>

void *gt_malloc(size_t n);
void *gt_calloc(size_t count, size_t size);
void *gt_realloc(void *p, size_t n);
void gt_free(void *p);
char *gt_strdup(const char *s);
char *gt_strndup(const char *s, size_t n);

/* Test hook: after `n` more successful allocations, every allocation fails
 * until gt_alloc_fail_after(-1) turns this off. */
void gt_alloc_fail_after(long n);

#endif
