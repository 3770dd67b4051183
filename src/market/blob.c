/* blob.c: the content-addressed blob store (see blob.h). */
#include "market/blob.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/limits.h"
#include "crypto/sha256.h"

/* Puts of one process go one at a time: gt_file_write_atomic's temp name is
 * per process, and two threads storing the same blob must not share it. */
static pthread_mutex_t put_mu = PTHREAD_MUTEX_INITIALIZER;

void gt_blob_id_format(const uint8_t hash[32], char out[GT_BLOB_ID_BYTES]) {
    memcpy(out, "sha256:", 7);
    gt_hex_encode(hash, 32, out + 7);
}

int gt_blob_id_parse(const char *id, uint8_t hash[32], gt_err *err) {
    const char *hex = NULL;
    if (!strncmp(id, "sha256:", 7)) hex = id + 7;
    else if (!strncmp(id, "0x", 2)) hex = id;
    if (!hex || strlen(hex) != (hex == id ? 66u : 64u))
        return gt_err_set(err, GT_EINVAL, "blob id \"%.80s\": expected \"sha256:\" followed by 64 hex digits", id);
    int rc = gt_hex_decode(hex, hash, 32, "blob id", err);
    return rc;
}

/* Path of a blob: dir/ab/cdef... */
static int blob_path(const char *dir, const uint8_t hash[32], char *sub, size_t sub_cap, char *path, size_t cap,
                     gt_err *err) {
    char hex[65];
    gt_hex_encode(hash, 32, hex);
    int n1 = snprintf(sub, sub_cap, "%s/%.2s", dir, hex);
    int n2 = snprintf(path, cap, "%s/%.2s/%s", dir, hex, hex + 2);
    if (n1 < 0 || (size_t)n1 >= sub_cap || n2 < 0 || (size_t)n2 >= cap)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    return 0;
}

int gt_blob_put(const char *dir, const void *data, size_t len, char id_out[GT_BLOB_ID_BYTES], gt_err *err) {
    if (len > GT_LIMIT_BLOB_BYTES)
        return gt_err_set(err, GT_ELIMIT, "blob is %zu bytes; at most %d accepted", len, GT_LIMIT_BLOB_BYTES);
    uint8_t hash[32];
    gt_sha256(data, len, hash);
    char sub[4096], path[4200];
    int rc = blob_path(dir, hash, sub, sizeof sub, path, sizeof path, err);
    if (rc) return rc;
    pthread_mutex_lock(&put_mu);
    /* Already stored and intact: nothing to do. A damaged copy is replaced. */
    uint8_t *old = NULL;
    size_t old_len = 0;
    if (gt_file_read(path, GT_LIMIT_BLOB_BYTES, &old, &old_len, NULL) == 0) {
        uint8_t h2[32];
        gt_sha256(old, old_len, h2);
        gt_free(old);
        if (!memcmp(h2, hash, 32)) {
            pthread_mutex_unlock(&put_mu);
            gt_blob_id_format(hash, id_out);
            return 0;
        }
    }
    rc = gt_mkdir_p(sub, 0755, err);
    if (!rc) rc = gt_file_write_atomic(path, data, len, 0644, err);
    pthread_mutex_unlock(&put_mu);
    if (rc) return gt_err_wrap(err, "storing blob");
    gt_blob_id_format(hash, id_out);
    return 0;
}

int gt_blob_get(const char *dir, const char *id, uint8_t **data, size_t *len, gt_err *err) {
    *data = NULL;
    *len = 0;
    uint8_t hash[32], got[32];
    int rc = gt_blob_id_parse(id, hash, err);
    if (rc) return rc;
    char sub[4096], path[4200];
    if ((rc = blob_path(dir, hash, sub, sizeof sub, path, sizeof path, err))) return rc;
    uint8_t *buf;
    size_t n;
    rc = gt_file_read(path, GT_LIMIT_BLOB_BYTES, &buf, &n, err);
    char canon[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, canon);
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_ENOTFOUND, "no blob %s in this store", canon);
    if (rc == GT_ELIMIT)
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file is over the %d-byte limit", canon, GT_LIMIT_BLOB_BYTES);
    if (rc) return rc;
    gt_sha256(buf, n, got);
    if (memcmp(got, hash, 32)) {
        char actual[GT_BLOB_ID_BYTES];
        gt_blob_id_format(got, actual);
        gt_free(buf);
        return gt_err_set(err, GT_EINVAL, "blob %s is damaged: its file (%s) hashes to %s", canon, path, actual);
    }
    *data = buf;
    *len = n;
    return 0;
}

int gt_blob_exists(const char *dir, const char *id) {
    uint8_t hash[32];
    char sub[4096], path[4200];
    if (gt_blob_id_parse(id, hash, NULL) || blob_path(dir, hash, sub, sizeof sub, path, sizeof path, NULL)) return 0;
    return gt_file_exists(path);
}
