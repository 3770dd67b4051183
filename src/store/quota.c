/* quota.c: bytes stored per account (see quota.h). */
#include "store/quota.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/num.h"

/* dir/usage/<hex> into path, dir/usage into sub. */
static int usage_path(const char *dir, const gt_addr *a, char *sub, size_t sub_cap, char *path, size_t cap,
                      gt_err *err) {
    char hex[41];
    gt_hex_encode(a->b, 20, hex);
    int n1 = snprintf(sub, sub_cap, "%s/usage", dir);
    int n2 = snprintf(path, cap, "%s/usage/%s", dir, hex);
    if (n1 < 0 || (size_t)n1 >= sub_cap || n2 < 0 || (size_t)n2 >= cap)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    return 0;
}

/* Is name an account's usage file name: 40 lowercase hex digits? */
static int usage_name(const char *name) {
    size_t n = strlen(name);
    if (n != 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return 0;
    return 1;
}

int gt_blob_usage_total(const char *dir, uint64_t *bytes, gt_err *err) {
    char sub[4200];
    *bytes = 0;
    int n = snprintf(sub, sizeof sub, "%s/usage", dir);
    if (n < 0 || (size_t)n >= sizeof sub)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    DIR *d = opendir(sub);
    if (!d) return errno == ENOENT ? 0 : gt_err_set(err, GT_EIO, "cannot read %s: %s", sub, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!usage_name(e->d_name)) continue; /* ".", "..", an atomic write's temp file */
        gt_addr a;
        uint64_t used = 0;
        rc = gt_hex_decode(e->d_name, a.b, 20, "usage file name", err);
        if (!rc) rc = gt_blob_usage(dir, &a, &used, err);
        if (!rc && used > UINT64_MAX - *bytes) rc = gt_err_set(err, GT_EOVERFLOW, "blob usage in %s overflows", sub);
        if (!rc) *bytes += used;
    }
    closedir(d);
    return rc;
}

int gt_blob_usage(const char *dir, const gt_addr *account, uint64_t *bytes, gt_err *err) {
    char sub[4200], path[4300];
    *bytes = 0;
    int rc = usage_path(dir, account, sub, sizeof sub, path, sizeof path, err);
    if (rc) return rc;
    uint8_t *data = NULL;
    size_t len = 0;
    rc = gt_file_read(path, GT_BLOB_USAGE_FILE_MAX, &data, &len, err);
    if (rc == GT_ENOTFOUND) return 0;
    if (rc) return rc;
    char *s = (char *)data;
    if (len && s[len - 1] == '\n') s[len - 1] = 0;
    rc = gt_parse_u64(s, path, 0, UINT64_MAX, bytes, err);
    gt_free(data);
    return rc ? gt_err_set(err, GT_EINVAL, "blob usage file %s is damaged: expected a decimal byte count", path) : 0;
}

/* Writes `bytes` as the account's usage. */
static int usage_put(const char *dir, const gt_addr *account, uint64_t bytes, gt_err *err) {
    char sub[4200], path[4300], line[GT_BLOB_USAGE_FILE_MAX];
    int rc = usage_path(dir, account, sub, sizeof sub, path, sizeof path, err);
    if (rc) return rc;
    int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)bytes);
    assert(n > 0 && (size_t)n < sizeof line);
    if ((rc = gt_mkdir_p(sub, 0755, err))) return rc;
    return gt_file_write_atomic(path, line, (size_t)n, 0644, err);
}

int gt_blob_usage_add(const char *dir, const gt_addr *account, uint64_t bytes, gt_err *err) {
    uint64_t used;
    int rc = gt_blob_usage(dir, account, &used, err);
    if (rc) return rc;
    if (used > UINT64_MAX - bytes) return gt_err_set(err, GT_EOVERFLOW, "blob usage overflows");
    return usage_put(dir, account, used + bytes, err);
}

/* dir/charges/<hex of hash> into path, dir/charges into sub. */
static int charge_path(const char *dir, const uint8_t hash[32], char *sub, size_t sub_cap, char *path, size_t cap,
                       gt_err *err) {
    char hex[65];
    gt_hex_encode(hash, 32, hex);
    int n1 = snprintf(sub, sub_cap, "%s/charges", dir);
    int n2 = snprintf(path, cap, "%s/charges/%s", dir, hex);
    if (n1 < 0 || (size_t)n1 >= sub_cap || n2 < 0 || (size_t)n2 >= cap)
        return gt_err_set(err, GT_ELIMIT, "blob directory path is too long: %.200s", dir);
    return 0;
}

/* Reads the charge kept at path: *found 0 when none, else its account and
 * bytes. A file not of the form "<40 hex> <decimal>" is GT_EINVAL. */
static int charge_read(const char *path, int *found, gt_addr *account, uint64_t *bytes, gt_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    *found = 0;
    int rc = gt_file_read(path, 40 + 1 + GT_BLOB_USAGE_FILE_MAX, &data, &len, err);
    if (rc == GT_ENOTFOUND) return gt_err_clear(err), 0;
    if (rc) return rc;
    char *s = (char *)data;
    if (len && s[len - 1] == '\n') s[--len] = 0;
    int ok = len > 41 && s[40] == ' ' && !memchr(s, 0, len);
    if (ok) s[40] = 0;
    ok = ok && !gt_hex_decode(s, account->b, 20, "charge account", NULL) &&
         !gt_parse_u64(s + 41, path, 0, UINT64_MAX, bytes, NULL);
    gt_free(data);
    if (!ok) return gt_err_set(err, GT_EINVAL, "blob charge file %s is damaged: expected \"<40 hex> <bytes>\"", path);
    *found = 1;
    return 0;
}

int gt_blob_usage_release(const char *dir, const uint8_t hash[32], uint64_t *released, gt_err *err) {
    char sub[4200], path[4300];
    gt_addr who;
    uint64_t bytes = 0, used = 0;
    int found = 0;
    *released = 0;
    int rc = charge_path(dir, hash, sub, sizeof sub, path, sizeof path, err);
    if (!rc) rc = charge_read(path, &found, &who, &bytes, err);
    if (rc || !found) return rc;
    if ((rc = gt_blob_usage(dir, &who, &used, err))) return rc;
    /* the record goes first: a crash between the two leaves the bytes
     * charged (as before charges were kept), never given back twice */
    if (unlink(path) != 0 && errno != ENOENT)
        return gt_err_set(err, GT_EIO, "cannot remove %s: %s", path, strerror(errno));
    /* a usage under its charge was edited by hand: it goes to 0, never below */
    if (!(rc = usage_put(dir, &who, used > bytes ? used - bytes : 0, err))) *released = bytes;
    return rc;
}

int gt_blob_usage_charge(const char *dir, const gt_addr *account, const uint8_t hash[32], uint64_t size,
                         uint64_t *released, gt_err *err) {
    char sub[4200], path[4300], line[40 + 2 + GT_BLOB_USAGE_FILE_MAX], hex[41];
    int rc = gt_blob_usage_release(dir, hash, released, err);
    if (!rc) rc = gt_blob_usage_add(dir, account, size, err);
    if (!rc) rc = charge_path(dir, hash, sub, sizeof sub, path, sizeof path, err);
    if (rc) return rc;
    gt_hex_encode(account->b, 20, hex);
    int n = snprintf(line, sizeof line, "%s %llu\n", hex, (unsigned long long)size);
    assert(n > 0 && (size_t)n < sizeof line);
    if ((rc = gt_mkdir_p(sub, 0755, err))) return rc;
    return gt_file_write_atomic(path, line, (size_t)n, 0644, err);
}
