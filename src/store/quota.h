/* quota.h: how many bytes of blobs each account has brought into the store,
 * so a node can hold every uploader to a quota. One small file per account,
 * HOME/blobs/usage/<40 hex of the address>, holding a decimal count, written
 * atomically. Only bytes of blobs that were new to the store count (storing
 * what is already there costs nothing), and each blob's charge is kept
 * (HOME/blobs/charges/) so that a blob leaving the store (set aside as
 * damaged) gives its bytes back: the usages sum to the bytes of the
 * uploaded blobs the store holds, and the next uploader of the same bytes
 * is charged in place of the first, never beside it. Callers serialise the read-check-add
 * of one account (the node does it inside gt_blob_writer_commit's admit,
 * which runs under the store's lock). */
#ifndef GT_STORE_QUOTA_H
#define GT_STORE_QUOTA_H

#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

/* Longest usage file accepted: 20 digits and a newline. */
#define GT_BLOB_USAGE_FILE_MAX 32

/* *bytes gets the account's usage (0 when it has none). A damaged file is
 * GT_EINVAL naming it, never read as zero. */
int gt_blob_usage(const char *dir, const gt_addr *account, uint64_t *bytes, gt_err *err);
/* *bytes gets the sum of every account's usage: the bytes uploads brought
 * into the store (a node's cap on the whole store, api.h). A damaged file is
 * GT_EINVAL naming it. */
int gt_blob_usage_total(const char *dir, uint64_t *bytes, gt_err *err);
/* Adds `bytes` to the account's usage (GT_EOVERFLOW past 2^64 - 1). */
int gt_blob_usage_add(const char *dir, const gt_addr *account, uint64_t bytes, gt_err *err);
/* Charges a new blob (hash, size bytes) to account: its usage grows by size
 * and the charge is kept, HOME/blobs/charges/<64 hex of the hash> holding
 * "<40 hex of the address> <size>", so the bytes can be given back when the
 * blob leaves the store. A charge already kept for the hash (the blob went
 * away without a release: its file removed by hand) is released first;
 * *released gets its bytes (0: none). */
int gt_blob_usage_charge(const char *dir, const gt_addr *account, const uint8_t hash[32], uint64_t size,
                         uint64_t *released, gt_err *err);
/* Gives back the charge kept for hash (the blob left the store: set aside
 * as damaged): its account's usage shrinks by its size, the record goes.
 * *released gets the bytes (0 when no charge was kept: a blob stored
 * before charges were kept, or by the node itself). A damaged record is
 * GT_EINVAL naming it. */
int gt_blob_usage_release(const char *dir, const uint8_t hash[32], uint64_t *released, gt_err *err);

#endif
