/* blob.h: the content-addressed blob store for task specs, results and
 * reasons. A blob's id is "sha256:" + the hex SHA-256 of its bytes; the ledger
 * stores only the 32-byte hash (task_post's spec, task_submit's result,
 * task_verify's reason), the bytes live in files under HOME/blobs:
 *   HOME/blobs/ab/cdef...   (the hex hash split after two characters)
 * Writes are atomic and durable (temp file, fsync, rename); reads re-hash the
 * bytes, so a damaged or swapped file is reported, never served. */
#ifndef GT_MARKET_BLOB_H
#define GT_MARKET_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GT_BLOB_ID_BYTES 72 /* "sha256:" + 64 hex + NUL */

/* Writes "sha256:<hex of hash>" into out. */
void gt_blob_id_format(const uint8_t hash[32], char out[GT_BLOB_ID_BYTES]);
/* Parses "sha256:<64 hex>" (lowercase or uppercase hex; a bare "0x"+64 hex,
 * as actions carry it, is accepted too). GT_EINVAL saying what was expected. */
int gt_blob_id_parse(const char *id, uint8_t hash[32], gt_err *err);
/* Stores len bytes (at most GT_LIMIT_BLOB_BYTES) under dir (created if
 * missing) and writes the blob's id into id_out. Storing a blob that is
 * already there is a no-op. Thread-safe. */
int gt_blob_put(const char *dir, const void *data, size_t len, char id_out[GT_BLOB_ID_BYTES], gt_err *err);
/* Reads blob `id` from dir, checking its hash: GT_ENOTFOUND when absent,
 * GT_EINVAL when the file's bytes do not hash to the id (damaged).
 * *data is NUL-terminated for convenience; caller frees it with gt_free. */
int gt_blob_get(const char *dir, const char *id, uint8_t **data, size_t *len, gt_err *err);
/* 1 if a file for id exists under dir (not verified), else 0. */
int gt_blob_exists(const char *dir, const char *id);

#endif
