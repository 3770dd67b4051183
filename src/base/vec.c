/* vec.c: the growable array (see vec.h). */
#include "base/vec.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

#define VEC_MIN_CAP 16 /* items in the first block */

void gt_vec_init(gt_vec *v, size_t item) {
    assert(item > 0);
    v->data = NULL;
    v->n = v->cap = 0;
    v->item = item;
}

void gt_vec_free(gt_vec *v) {
    if (!v) return;
    gt_free(v->data);
    v->data = NULL;
    v->n = v->cap = 0;
}

int gt_vec_reserve(gt_vec *v, size_t need) {
    assert(v->item > 0 && v->n <= v->cap);
    if (need <= v->cap) return 0;
    size_t max_items = SIZE_MAX / v->item;
    if (need > max_items) return GT_EOVERFLOW;
    size_t cap = v->cap ? v->cap : VEC_MIN_CAP;
    while (cap < need) cap = cap > max_items / 2 ? max_items : cap * 2;
    if (cap > max_items) cap = max_items;
    void *p = gt_realloc(v->data, cap * v->item);
    if (!p) return GT_ENOMEM;
    v->data = p;
    v->cap = cap;
    assert(v->cap >= need);
    return 0;
}

int gt_vec_append(gt_vec *v, const void *items, size_t count) {
    if (count > SIZE_MAX - v->n) return GT_EOVERFLOW;
    int rc = gt_vec_reserve(v, v->n + count);
    if (rc) return rc;
    if (count) memcpy((uint8_t *)v->data + v->n * v->item, items, count * v->item);
    v->n += count;
    return 0;
}

int gt_vec_push(gt_vec *v, const void *item) { return gt_vec_append(v, item, 1); }

void *gt_vec_push_zero(gt_vec *v) {
    if (v->n == SIZE_MAX || gt_vec_reserve(v, v->n + 1)) return NULL;
    void *p = (uint8_t *)v->data + v->n * v->item;
    memset(p, 0, v->item);
    v->n++;
    return p;
}

void *gt_vec_at(const gt_vec *v, size_t i) {
    assert(i < v->n);
    return (uint8_t *)v->data + i * v->item;
}

void gt_vec_truncate(gt_vec *v, size_t n) {
    assert(n <= v->n);
    v->n = n;
}
