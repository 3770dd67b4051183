/* map.c: the open-addressing hash map (see map.h). */
#include "base/map.h"

#include <assert.h>
#include <stdalign.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

/* A power of two: the table's size must be one for the probe mask. */
_Static_assert((GT_MAP_MIN_CAP & (GT_MAP_MIN_CAP - 1)) == 0, "GT_MAP_MIN_CAP must be a power of two");

uint64_t gt_hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis and prime */
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* n rounded up to the strictest alignment, so values of any type sit aligned. */
static size_t align_up(size_t n) {
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

void gt_map_init(gt_map *m, size_t key_len, size_t val_size) {
    assert(key_len > 0);
    memset(m, 0, sizeof *m);
    m->key_len = key_len;
    m->val_size = val_size;
    m->key_off = align_up(val_size);
    m->used_off = m->key_off + key_len;
    m->stride = align_up(m->used_off + 1);
}

void gt_map_free(gt_map *m) {
    if (!m) return;
    gt_free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

void gt_map_clear(gt_map *m) {
    if (m->slots) memset(m->slots, 0, m->cap * m->stride);
    m->n = 0;
}

static uint8_t *slot_at(const gt_map *m, size_t i) { return m->slots + i * m->stride; }

/* The slot holding key, or the empty slot where it would go (cap > 0). */
static uint8_t *probe(const gt_map *m, const void *key) {
    assert(m->cap && (m->cap & (m->cap - 1)) == 0 && m->n < m->cap);
    size_t mask = m->cap - 1;
    for (size_t i = gt_hash_bytes(key, m->key_len) & mask;; i = (i + 1) & mask) {
        uint8_t *s = slot_at(m, i);
        if (!s[m->used_off] || !memcmp(s + m->key_off, key, m->key_len)) return s;
    }
}

void *gt_map_get(const gt_map *m, const void *key) {
    if (!m->cap) return NULL;
    uint8_t *s = probe(m, key);
    return s[m->used_off] ? s : NULL;
}

/* Moves every entry into a table twice the size (or GT_MAP_MIN_CAP). */
static int grow(gt_map *m) {
    size_t cap = m->cap ? m->cap * 2 : GT_MAP_MIN_CAP;
    if (cap < m->cap || cap > SIZE_MAX / m->stride) return GT_ENOMEM;
    uint8_t *slots = gt_calloc(cap, m->stride);
    if (!slots) return GT_ENOMEM;
    gt_map g = *m;
    g.slots = slots;
    g.cap = cap;
    for (size_t i = 0; i < m->cap; i++) {
        uint8_t *s = slot_at(m, i);
        if (s[m->used_off]) memcpy(probe(&g, s + m->key_off), s, m->stride);
    }
    gt_free(m->slots);
    *m = g;
    return 0;
}

int gt_map_put(gt_map *m, const void *key, void **val, int *added) {
    if (m->cap) {
        uint8_t *s = probe(m, key);
        if (s[m->used_off]) {
            if (val) *val = s;
            if (added) *added = 0;
            return 0;
        }
    }
    if ((m->n + 1) * 2 > m->cap && grow(m)) return GT_ENOMEM;
    uint8_t *s = probe(m, key);
    assert(!s[m->used_off]);
    memset(s, 0, m->stride);
    memcpy(s + m->key_off, key, m->key_len);
    s[m->used_off] = 1;
    m->n++;
    assert(m->n * 2 <= m->cap);
    if (val) *val = s;
    if (added) *added = 1;
    return 0;
}

void *gt_map_next(const gt_map *m, size_t *i, const void **key) {
    for (; *i < m->cap; (*i)++) {
        uint8_t *s = slot_at(m, *i);
        if (!s[m->used_off]) continue;
        (*i)++;
        if (key) *key = s + m->key_off;
        return s;
    }
    return NULL;
}
