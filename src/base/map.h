/* map.h: an open-addressing hash map from fixed-length byte keys to
 * fixed-size values.
 *
 * One hash table for gotong's caches and sets (accounts and locks of the
 * ledger, dedup sets, prepared statements). Linear probing in a power-of-two
 * table kept at most half full; keys are hashed with FNV-1a, so any bytes
 * will do (a value of size 0 makes a set). Entries are never removed one by
 * one (gt_map_clear drops them all), which keeps probing simple.
 *
 * Pointers to values stay valid until the next gt_map_put that adds a key
 * (growth moves every entry); a lookup never moves anything. */
#ifndef GT_BASE_MAP_H
#define GT_BASE_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct gt_map {
    uint8_t *slots;   /* cap slots of `stride` bytes: value, key, used flag */
    size_t cap, n;    /* cap is 0 or a power of two; n <= cap / 2 */
    size_t key_len, val_size, key_off, used_off, stride;
} gt_map;

#define GT_MAP_MIN_CAP 16 /* slots of the first table */

/* FNV-1a (64-bit) of n bytes: the map's hash, for callers who key by one. */
uint64_t gt_hash_bytes(const void *p, size_t n);

/* An empty map of key_len-byte keys (> 0) to val_size-byte values (0: a set). */
void gt_map_init(gt_map *m, size_t key_len, size_t val_size);

/* Frees the table; m is empty and may be used again. Accepts NULL. */
void gt_map_free(gt_map *m);

/* Drops every entry, keeping the table's memory. */
void gt_map_clear(gt_map *m);

/* The value stored under key, or NULL when there is none. Moves nothing. */
void *gt_map_get(const gt_map *m, const void *key);

/* The value under key, added (zeroed) when there is none: 0 with *val set
 * and *added 1 when it is new (either may be NULL), or GT_ENOMEM with the map
 * unchanged. Adding may move every entry. */
int gt_map_put(gt_map *m, const void *key, void **val, int *added);

/* Walks the entries in table order: start with *i = 0; returns the next
 * value (its key in *key when key is not NULL), or NULL at the end. */
void *gt_map_next(const gt_map *m, size_t *i, const void **key);

#endif
