/* blob.h: the content-addressed blob store for task specs, results and
 * reasons. A blob's id is "sha256:" + the hex SHA-256 of its bytes; the ledger
 * stores only the 32-byte hash (task_post's spec, task_submit's result,
 * task_verify's reason), the bytes live in files under HOME/blobs:
 *   HOME/blobs/ab/cdef...   (the hex hash split after two characters)
 *   HOME/blobs/tmp/         (uploads in progress; emptied at node start)
 *   HOME/blobs/usage/       (bytes stored per uploading account, quota.h)
 *   HOME/blobs/charges/     (which account each uploaded blob was charged to, quota.h)
 * A blob is written through a writer that streams it to a temp file while
 * hashing it, and renames it into place only when it is complete and hashes
 * to what was promised, so a cut or lying upload leaves nothing behind and no
 * blob is ever whole in memory on the way in. Writes are durable (fsync of the
 * file and of its directory) and atomic (rename); reads re-hash the bytes, so
 * a damaged or swapped file is reported, never served. A blob is read either
 * whole into memory (gt_blob_get) or checked through a small buffer and left
 * open for sending (gt_blob_open), so a download is never whole in memory.
 *
 * The store uses nothing of the market: it knows hashes, files and sizes. */
#ifndef GT_STORE_BLOB_H
#define GT_STORE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GT_BLOB_ID_BYTES 72 /* "sha256:" + 64 hex + NUL */
/* A writer's size when the caller does not know it yet: any size up to
 * GT_LIMIT_BLOB_BYTES is accepted. */
#define GT_BLOB_SIZE_ANY UINT64_MAX

/* Writes "sha256:<hex of hash>" into out. */
void gt_blob_id_format(const uint8_t hash[32], char out[GT_BLOB_ID_BYTES]);
/* Parses "sha256:<64 hex>" (lowercase or uppercase hex; a bare "0x"+64 hex,
 * as actions carry it, is accepted too). GT_EINVAL saying what was expected. */
int gt_blob_id_parse(const char *id, uint8_t hash[32], gt_err *err);
/* Stores len bytes (at most GT_LIMIT_BLOB_BYTES) under dir (created if
 * missing) and writes the blob's id into id_out. Storing a blob that is
 * already there rewrites the same bytes (repairing a damaged copy).
 * Thread-safe. */
int gt_blob_put(const char *dir, const void *data, size_t len, char id_out[GT_BLOB_ID_BYTES], gt_err *err);
/* Reads blob `id` from dir, checking its hash: GT_ENOTFOUND when absent,
 * GT_EINVAL when the file's bytes do not hash to the id (damaged).
 * *data is NUL-terminated for convenience; caller frees it with gt_free. */
int gt_blob_get(const char *dir, const char *id, uint8_t **data, size_t *len, gt_err *err);
/* Opens blob `id` of dir for sending without holding it in memory: checks
 * its hash by reading the file through a small buffer (errors as gt_blob_get:
 * GT_ENOTFOUND when absent, GT_EINVAL when damaged), then gives the caller
 * the same descriptor (*fd, O_CLOEXEC, the caller closes it) and *size, the
 * bytes that were checked. Send from this fd, not from the path: a blob is
 * only ever replaced by rename, so the open fd keeps the checked bytes. */
int gt_blob_open(const char *dir, const char *id, int *fd, uint64_t *size, gt_err *err);
/* 1 if a file for id exists under dir (not verified), else 0. */
int gt_blob_exists(const char *dir, const char *id);
/* The same by hash. */
int gt_blob_exists_hash(const char *dir, const uint8_t hash[32]);
/* 1 and *size its file's length if a regular file for hash exists under
 * dir (not verified), else 0. */
int gt_blob_stored_size(const char *dir, const uint8_t hash[32], uint64_t *size);

/* ---- Streaming writes. */
typedef struct gt_blob_writer gt_blob_writer;

/* What gt_blob_writer_commit tells its admit: the blob was there
 * (GT_BLOB_KNOWN) or absent (GT_BLOB_NEW) before this commit, or the
 * store's copy of a known blob's writer was found damaged and set aside
 * (GT_BLOB_SET_ASIDE: its bytes left the store; size is the blob's). */
enum { GT_BLOB_KNOWN = 0, GT_BLOB_NEW = 1, GT_BLOB_SET_ASIDE = 2 };
/* Called by gt_blob_writer_commit under the store's lock: for KNOWN and
 * NEW after the bytes were checked and before the blob is renamed into
 * place, where a non-zero return refuses the blob (nothing is stored) and
 * is returned by commit; for SET_ASIDE once the copy is out of the store
 * (commit fails either way: the upload's bytes were not kept). Used to
 * charge a quota exactly once and to give it back when the bytes go. */
typedef int (*gt_blob_admit_fn)(void *arg, const uint8_t hash[32], uint64_t size, int is_new, gt_err *err);

/* Opens a temp file under dir/tmp for one blob of exactly `size` bytes
 * (GT_BLOB_SIZE_ANY: any size up to GT_LIMIT_BLOB_BYTES) that must hash to
 * `hash` (NULL: whatever it hashes to). Caller ends it with commit or abort. */
int gt_blob_writer_open(const char *dir, uint64_t size, const uint8_t hash[32], gt_blob_writer **out, gt_err *err);
/* A writer for a blob the store holds already (size bytes hashing to hash):
 * the bytes are hashed, never written, so a re-upload holds no disk. Its
 * commit checks them as any writer's and then the stored copy (its file is
 * read through); a damaged or missing copy is GT_ESTATE (the damaged file
 * set aside: the next upload stores it anew), since these bytes were not
 * kept. */
int gt_blob_writer_open_known(const char *dir, uint64_t size, const uint8_t hash[32], gt_blob_writer **out,
                              gt_err *err);
/* Appends len bytes to the file and the hash. GT_ELIMIT when they would take
 * the blob past its size; GT_EIO when the disk refuses them. */
int gt_blob_writer_write(gt_blob_writer *w, const void *data, size_t len, gt_err *err);
/* Bytes written so far. */
uint64_t gt_blob_writer_len(const gt_blob_writer *w);
/* Checks the size and the hash (GT_EINVAL naming both when they differ),
 * fsyncs, lets admit (may be NULL) accept the blob, renames it into place
 * and fsyncs the directory. id_out gets the blob's id; *is_new (may be NULL)
 * whether it was absent before. Frees w whatever happens; on any failure the
 * temp file is removed and the store is as before. */
int gt_blob_writer_commit(gt_blob_writer *w, gt_blob_admit_fn admit, void *arg, char id_out[GT_BLOB_ID_BYTES],
                          int *is_new, gt_err *err);
/* Drops an upload: closes and removes the temp file, frees w. Accepts NULL. */
void gt_blob_writer_abort(gt_blob_writer *w);
/* Removes every file in dir/tmp: uploads a crash cut short, and damaged
 * copies set aside (gt_blob_writer_open_known). Returns how many were
 * removed, or a negative GT_E* code. */
int gt_blob_clean_tmp(const char *dir, gt_err *err);

#endif
