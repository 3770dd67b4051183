/* keystore_dir.c: a directory of V3 keystore files, laid out as geth does.
 *
 * DIR/keystore/ holds one file per key, named
 *   UTC--2006-01-02T15-04-05.000000000Z--<40 lowercase hex address>
 * so that geth, cast and clef can use the same directory, and a listing sorts
 * by creation time. A file whose name does not follow the pattern (copied in
 * by hand) is identified by its "address" field instead. The directory is
 * mode 0700 and files 0600: the files are encrypted, but the addresses in
 * their names are still private. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

#define PATH_BYTES 4096

/* Writes DIR/keystore into out. */
static int keystore_dir(const char *dir, char *out, size_t cap, gt_err *err) {
    if (gt_path_join(out, cap, dir, "keystore"))
        return gt_err_set(err, GT_ELIMIT, "path %s/keystore is too long", dir);
    return 0;
}

/* Address from a geth-style name ending in "--<40 hex>"; 0 if it matches. */
static int addr_from_name(const char *name, gt_addr *out) {
    size_t n = strlen(name);
    if (n < 42 || name[n - 42] != '-' || name[n - 41] != '-') return -1;
    return gt_hex_decode(name + n - 40, out->b, 20, "file name", NULL) ? -1 : 0;
}

/* Address from a keystore file's "address" field: 0 if it has a valid one,
 * GT_ENOMEM if we could not tell for lack of memory, -1 if it is not a
 * keystore with an address (skipped, as geth skips it). */
static int addr_from_file(const char *path, gt_addr *out) {
    uint8_t *data;
    size_t len;
    int rc = gt_file_read(path, GT_LIMIT_KEYSTORE_BYTES, &data, &len, NULL);
    if (rc == GT_ENOMEM) return rc;
    if (rc) return -1;
    json_t *root = NULL;
    rc = -1;
    if (!gt_json_parse((const char *)data, len, GT_LIMIT_KEYSTORE_BYTES, &root, NULL)) {
        const char *s;
        if (json_is_object(root) && !gt_json_get_str(root, "address", 64, &s, NULL) &&
            !gt_hex_decode(s, out->b, 20, "address", NULL))
            rc = 0;
        json_decref(root);
    }
    gt_free(data);
    return rc;
}

typedef struct entry {
    char *name; /* owned */
    gt_addr addr;
} entry;

/* qsort order: by file name, which for geth names is creation time. */
static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Frees an entry array from scan and the names it owns. */
static void free_entries(entry *e, size_t n) {
    for (size_t i = 0; i < n; i++) gt_free(e[i].name);
    gt_free(e);
}

/* Reads DIR/keystore into a name-sorted array of (file name, address). A
 * missing directory gives zero entries. Caller frees with free_entries. */
static int scan(const char *dir, entry **out, size_t *n_out, gt_err *err) {
    char kdir[PATH_BYTES], path[PATH_BYTES];
    *out = NULL;
    *n_out = 0;
    int rc = keystore_dir(dir, kdir, sizeof kdir, err);
    if (rc) return rc;
    DIR *d = opendir(kdir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return gt_err_set(err, GT_EIO, "cannot open %s: %s", kdir, strerror(errno));
    }
    entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp.")) continue;
        if (gt_path_join(path, sizeof path, kdir, de->d_name)) continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        gt_addr a;
        if (addr_from_name(de->d_name, &a)) {
            int fr = addr_from_file(path, &a);
            if (fr == GT_ENOMEM) {
                rc = gt_err_set(err, GT_ENOMEM, "out of memory reading %s", path);
                break;
            }
            if (fr) continue;
        }
        if (n == GT_KEYSTORE_MAX_FILES) {
            rc = gt_err_set(err, GT_ELIMIT, "%s holds over %d keystore files", kdir,
                            GT_KEYSTORE_MAX_FILES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            entry *nv = gt_realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = gt_err_set(err, GT_ENOMEM, "out of memory listing %s", kdir);
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].name = gt_strdup(de->d_name);
        if (!v[n].name) {
            rc = gt_err_set(err, GT_ENOMEM, "out of memory listing %s", kdir);
            break;
        }
        v[n].addr = a;
        n++;
    }
    closedir(d);
    if (rc) {
        free_entries(v, n);
        return rc;
    }
    if (n) qsort(v, n, sizeof *v, cmp_entry);
    *out = v;
    *n_out = n;
    return 0;
}

/* Addresses of dir/keystore in file-name order (see keystore.h). */
int gt_keystore_list(const char *dir, gt_addr **addrs_out, size_t *n, gt_err *err) {
    entry *e;
    size_t ne;
    *addrs_out = NULL;
    *n = 0;
    int rc = scan(dir, &e, &ne, err);
    if (rc) return rc;
    if (ne == 0) return 0;
    gt_addr *a = gt_malloc(ne * sizeof *a);
    if (!a) {
        free_entries(e, ne);
        return gt_err_set(err, GT_ENOMEM, "out of memory listing keys");
    }
    for (size_t i = 0; i < ne; i++) a[i] = e[i].addr;
    free_entries(e, ne);
    *addrs_out = a;
    *n = ne;
    return 0;
}

/* Path of the first file (in name order) holding a; GT_ENOTFOUND if none. */
int gt_keystore_find(const char *dir, const gt_addr *a, char *path_out, size_t cap,
                     gt_err *err) {
    entry *e;
    size_t ne;
    int rc = scan(dir, &e, &ne, err);
    if (rc) return rc;
    rc = GT_ENOTFOUND;
    for (size_t i = 0; i < ne; i++) {
        if (!gt_addr_eq(&e[i].addr, a)) continue;
        char kdir[PATH_BYTES];
        rc = keystore_dir(dir, kdir, sizeof kdir, err);
        if (!rc && gt_path_join(path_out, cap, kdir, e[i].name))
            rc = gt_err_set(err, GT_ELIMIT, "keystore path is too long");
        break;
    }
    free_entries(e, ne);
    if (rc == GT_ENOTFOUND) {
        char s[GT_ADDR_STR_BYTES];
        gt_addr_to_str(a, s);
        return gt_err_set(err, GT_ENOTFOUND, "no key for %s in %s/keystore", s, dir);
    }
    return rc;
}

/* 0 if dir holds no key for a; GT_EEXIST naming the file if it does; any
 * other failure of the lookup (out of memory, unreadable directory) is
 * passed on rather than taken for "absent". */
static int check_absent(const char *dir, const gt_addr *a, gt_err *err) {
    char existing[PATH_BYTES];
    gt_err e = {0};
    int rc = gt_keystore_find(dir, a, existing, sizeof existing, &e);
    if (rc == GT_ENOTFOUND) return 0;
    if (rc) {
        if (err) *err = e;
        return rc;
    }
    char s[GT_ADDR_STR_BYTES];
    gt_addr_to_str(a, s);
    return gt_err_set(err, GT_EEXIST, "a key for %s is already stored in %s", s, existing);
}

/* Writes the geth-style file name for address a, created now. */
static void file_name(const gt_addr *a, char out[128]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char hex[41];
    gt_hex_encode(a->b, 20, hex);
    snprintf(out, 128, "UTC--%04d-%02d-%02dT%02d-%02d-%02d.%09ldZ--%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)ts.tv_nsec, hex);
}

/* Stores an encrypted keystore as is (import keeps the original KDF). */
int gt_keystore_save_json(const char *dir, const gt_addr *a, const char *json, size_t len,
                          char *path_out, size_t cap, gt_err *err) {
    int rc = check_absent(dir, a, err);
    if (rc) return rc;
    /* The JSON must be a keystore object; its "address", if any, must be a. */
    json_t *root = NULL;
    rc = gt_json_parse(json, len, GT_LIMIT_KEYSTORE_BYTES, &root, err);
    if (rc) return gt_err_wrap(err, "keystore");
    json_t *av = json_is_object(root) ? json_object_get(root, "address") : NULL;
    gt_addr claimed;
    if (!json_is_object(root))
        rc = gt_err_set(err, GT_EINVAL, "keystore: expected a JSON object");
    else if (av && (!json_is_string(av) ||
                    gt_hex_decode(json_string_value(av), claimed.b, 20, "address", NULL) ||
                    !gt_addr_eq(&claimed, a)))
        rc = gt_err_set(err, GT_EINVAL, "keystore \"address\" field does not match the key");
    json_decref(root);
    if (rc) return rc;
    char kdir[PATH_BYTES], name[128];
    rc = keystore_dir(dir, kdir, sizeof kdir, err);
    if (rc) return rc;
    rc = gt_mkdir_p(kdir, 0700, err);
    if (rc) return rc;
    file_name(a, name);
    if (gt_path_join(path_out, cap, kdir, name))
        return gt_err_set(err, GT_ELIMIT, "keystore path is too long");
    return gt_file_write_atomic(path_out, json, len, 0600, err);
}

/* Encrypts k and stores it; refuses a second file for the same address. */
int gt_keystore_save(const char *dir, const gt_key *k, const char *password,
                     const gt_kdf_params *p, char *path_out, size_t cap, gt_err *err) {
    gt_addr a;
    if (gt_key_address(k, &a)) return gt_err_set(err, GT_EINVAL, "invalid private key");
    int rc = check_absent(dir, &a, err);
    if (rc) return rc;
    char *json;
    rc = gt_keystore_encrypt(k, password, p, &json, err);
    if (rc) return rc;
    rc = gt_keystore_save_json(dir, &a, json, strlen(json), path_out, cap, err);
    gt_free(json);
    return rc;
}

/* find + read (size-limited) + decrypt; errors carry the file's path. */
int gt_keystore_load(const char *dir, const gt_addr *a, const char *password, gt_key *out,
                     gt_err *err) {
    char path[PATH_BYTES];
    int rc = gt_keystore_find(dir, a, path, sizeof path, err);
    if (rc) return rc;
    uint8_t *data;
    size_t len;
    rc = gt_file_read(path, GT_LIMIT_KEYSTORE_BYTES, &data, &len, err);
    if (rc) return rc;
    rc = gt_keystore_decrypt((const char *)data, len, password, out, err);
    gt_free(data);
    if (rc) gt_err_wrap(err, "%s", path);
    return rc;
}
