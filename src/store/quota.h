/* quota.h: how many bytes of blobs each account has brought into the store,
 * so a node can hold every uploader to a quota. One small file per account,
 * HOME/blobs/usage/<40 hex of the address>, holding a decimal count, written
 * atomically. Only bytes of blobs that were new to the store count (storing
 * what is already there costs nothing). Callers serialise the read-check-add
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

#endif
