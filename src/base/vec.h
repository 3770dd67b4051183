/* vec.h: a growable array of fixed-size items.
 *
 * One array type for every "append and double when full" list in gotong:
 * growth is overflow-checked (a count that would not fit in size_t is refused,
 * never wrapped), goes through the allocation hook (alloc.h), and leaves the
 * array as it was when it fails. Items live in one block, in order; a pointer
 * into the block is valid until the next call that grows it. */
#ifndef GT_BASE_VEC_H
#define GT_BASE_VEC_H

#include <stddef.h>

typedef struct gt_vec {
    void *data;  /* cap items of `item` bytes; n of them in use */
    size_t n, cap;
    size_t item; /* bytes per item, > 0 */
} gt_vec;

/* An empty array of items of `item` bytes (allocates nothing). */
void gt_vec_init(gt_vec *v, size_t item);

/* Frees the items; v is empty and may be used again. Accepts NULL. */
void gt_vec_free(gt_vec *v);

/* Makes room for `need` items in all (doubling from 16 items): 0, GT_ENOMEM,
 * or GT_EOVERFLOW when need * item does not fit in size_t. On failure the
 * array is unchanged. */
int gt_vec_reserve(gt_vec *v, size_t need);

/* Appends `count` items copied from `items`: 0, GT_ENOMEM or GT_EOVERFLOW
 * (the array unchanged). */
int gt_vec_append(gt_vec *v, const void *items, size_t count);

/* Appends one item copied from `item`. */
int gt_vec_push(gt_vec *v, const void *item);

/* Appends one zeroed item and returns it, or NULL (out of memory). */
void *gt_vec_push_zero(gt_vec *v);

/* Item i (i < n). */
void *gt_vec_at(const gt_vec *v, size_t i);

/* Drops the items from index n on (n <= the count). */
void gt_vec_truncate(gt_vec *v, size_t n);

/* The items as an array of T. */
#define GT_VEC_DATA(v, T) ((T *)(v)->data)

#endif
