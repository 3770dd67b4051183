/* test_blob.c: the blob store: ids, put/get round trips, idempotent puts,
 * the size limit, damaged and swapped files detected on read (whole, or
 * checked through a buffer and left open for sending), bad ids,
 * concurrent puts of the same blob, and the quota's kept charges. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/limits.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "store/quota.h"

static char dir[64];

static void test_id(void) {
    uint8_t h[32];
    gt_err err = {0};
    /* sha256("abc"), the FIPS 180-2 example */
    const char *abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    CHECK_EQ_INT(gt_blob_id_parse(abc, h, &err), 0);
    CHECK_EQ_INT(h[0], 0xba);
    char out[GT_BLOB_ID_BYTES];
    gt_blob_id_format(h, out);
    CHECK_STR(out, abc);
    CHECK_EQ_INT(gt_blob_id_parse("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", h, &err), 0);
    CHECK_EQ_INT(gt_blob_id_parse("sha256:ba78", h, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected \"sha256:\" followed by 64 hex digits");
    CHECK_EQ_INT(gt_blob_id_parse("md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", h, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_blob_id_parse("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", h, &err), GT_EINVAL);
}

static void test_put_get(void) {
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES], id2[GT_BLOB_ID_BYTES];
    CHECK_EQ_INT(gt_blob_put(dir, "abc", 3, id, &err), 0);
    CHECK_STR(id, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char path[256];
    snprintf(path, sizeof path, "%s/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", dir);
    CHECK(access(path, F_OK) == 0);
    uint8_t *data;
    size_t len;
    CHECK_EQ_INT(gt_blob_get(dir, id, &data, &len, &err), 0);
    CHECK_EQ_INT(len, 3);
    CHECK(data && !memcmp(data, "abc", 3) && data[3] == 0);
    gt_free(data);
    /* again: a no-op with the same id */
    CHECK_EQ_INT(gt_blob_put(dir, "abc", 3, id2, &err), 0);
    CHECK_STR(id2, id);
    CHECK(gt_blob_exists(dir, id));
    /* the empty blob is a blob */
    CHECK_EQ_INT(gt_blob_put(dir, "", 0, id2, &err), 0);
    CHECK_STR(id2, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_INT(gt_blob_get(dir, id2, &data, &len, &err), 0);
    CHECK_EQ_INT(len, 0);
    gt_free(data);
    /* absent */
    const char *absent = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    CHECK_EQ_INT(gt_blob_get(dir, absent, &data, &len, &err), GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no blob sha256:0000");
    CHECK(!gt_blob_exists(dir, absent));
    CHECK(data == NULL);
}

static void test_limits_and_damage(void) {
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES];
    /* over the limit: refused before anything is written */
    size_t big = (size_t)GT_LIMIT_BLOB_BYTES + 1;
    uint8_t *buf = calloc(1, big);
    CHECK_EQ_INT(gt_blob_put(dir, buf, big, id, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "at most 16777216 accepted");
    /* exactly at the limit: fine */
    CHECK_EQ_INT(gt_blob_put(dir, buf, big - 1, id, &err), 0);
    uint8_t *data;
    size_t len;
    CHECK_EQ_INT(gt_blob_get(dir, id, &data, &len, &err), 0);
    CHECK_EQ_INT(len, big - 1);
    gt_free(data);
    free(buf);
    /* a damaged file: one byte flipped */
    char id2[GT_BLOB_ID_BYTES];
    CHECK_EQ_INT(gt_blob_put(dir, "the result", 10, id2, &err), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, id2 + 7, id2 + 9);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fputc('T', f);
        fclose(f);
    }
    CHECK_EQ_INT(gt_blob_get(dir, id2, &data, &len, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "is damaged");
    CHECK(data == NULL);
    /* storing it again repairs the copy */
    CHECK_EQ_INT(gt_blob_put(dir, "the result", 10, id2, &err), 0);
    CHECK_EQ_INT(gt_blob_get(dir, id2, &data, &len, &err), 0);
    CHECK(len == 10 && !memcmp(data, "the result", 10));
    gt_free(data);
    /* a bad id never touches the disk */
    CHECK_EQ_INT(gt_blob_get(dir, "../../etc/passwd", &data, &len, &err), GT_EINVAL);
}

/* Reads all of fd from offset 0 into a fresh buffer of *len bytes. */
static uint8_t *read_fd(int fd, size_t *len) {
    struct stat st;
    if (fstat(fd, &st)) return NULL;
    uint8_t *b = malloc((size_t)st.st_size + 1);
    ssize_t k = b ? pread(fd, b, (size_t)st.st_size, 0) : -1;
    *len = k < 0 ? 0 : (size_t)k;
    return b;
}

/* gt_blob_open: the checked fd of a blob bigger than its buffer, of the empty
 * blob; absent, damaged (past the first buffer) and bad ids refused with
 * gt_blob_get's codes, and no fd left open for them. */
static void test_open(void) {
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES], id0[GT_BLOB_ID_BYTES];
    size_t n = 3 * 1024 * 1024 + 5, len = 0;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 31 + (i >> 11));
    CHECK_EQ_INT(gt_blob_put(dir, buf, n, id, &err), 0);
    int fd = -2;
    uint64_t size = 0;
    CHECK_EQ_INT(gt_blob_open(dir, id, &fd, &size, &err), 0);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
    CHECK_EQ_U64(size, n);
    uint8_t *got = fd >= 0 ? read_fd(fd, &len) : NULL;
    CHECK(got && len == n && !memcmp(got, buf, n));
    free(got);
    if (fd >= 0) close(fd);
    CHECK_EQ_INT(gt_blob_put(dir, "", 0, id0, &err), 0);
    CHECK_EQ_INT(gt_blob_open(dir, id0, &fd, &size, &err), 0);
    CHECK_EQ_U64(size, 0);
    if (fd >= 0) close(fd);
    const char *absent = "sha256:0000000000000000000000000000000000000000000000000000000000000002";
    CHECK_EQ_INT(gt_blob_open(dir, absent, &fd, &size, &err), GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no blob sha256:0000");
    CHECK_EQ_INT(fd, -1);
    char path[256];
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, id + 7, id + 9);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, (long)n - 2, SEEK_SET);
        fputc(buf[n - 2] ^ 0x80, f);
        fclose(f);
    }
    CHECK_EQ_INT(gt_blob_open(dir, id, &fd, &size, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "is damaged");
    CHECK_EQ_INT(fd, -1);
    CHECK_EQ_INT(gt_blob_open(dir, "../../etc/passwd", &fd, &size, &err), GT_EINVAL);
    free(buf);
}

static void *put_many(void *arg) {
    (void)arg;
    for (int i = 0; i < 50; i++) {
        char id[GT_BLOB_ID_BYTES];
        char body[64];
        int n = snprintf(body, sizeof body, "blob %d", i % 10);
        if (gt_blob_put(dir, body, (size_t)n, id, NULL)) return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, put_many, NULL);
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    CHECK_EQ_INT(bad, 0);
    for (int i = 0; i < 10; i++) {
        char id[GT_BLOB_ID_BYTES], body[64];
        int n = snprintf(body, sizeof body, "blob %d", i);
        uint8_t *data;
        size_t len;
        CHECK_EQ_INT(gt_blob_put(dir, body, (size_t)n, id, NULL), 0);
        CHECK_EQ_INT(gt_blob_get(dir, id, &data, &len, NULL), 0);
        CHECK(len == (size_t)n && !memcmp(data, body, len));
        gt_free(data);
    }
}

/* Commits a known writer of body's blob (its bytes only hashed) in dir. */
static int commit_known_of(const char *body, size_t n, gt_err *err) {
    uint8_t h[32];
    char id[GT_BLOB_ID_BYTES];
    gt_blob_writer *w = NULL;
    gt_sha256(body, n, h);
    int rc = gt_blob_writer_open_known(dir, n, h, &w, err);
    if (!rc && (rc = gt_blob_writer_write(w, body, n, err))) gt_blob_writer_abort(w);
    return rc ? rc : gt_blob_writer_commit(w, NULL, NULL, id, NULL, err);
}

/* A known blob's commit finds the stored copy damaged at its size: the copy
 * is set aside even when dir/tmp is not there (a store moved without it;
 * nothing made it since the start), so the next upload is written. The
 * rename's failure was ignored: the damaged copy stayed, and every
 * re-upload got the same 422 for good. */
static void test_known_damaged_set_aside(void) {
    const char body[] = "a blob damaged where it lies";
    char id[GT_BLOB_ID_BYTES], path[256], tmp[128];
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_put(dir, body, sizeof body, id, &err), 0);
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, id + 7, id + 9);
    snprintf(tmp, sizeof tmp, "rm -rf %s/tmp", dir);
    CHECK_EQ_INT(system(tmp), 0);
    FILE *f = fopen(path, "r+b");
    CHECK(f && fputc('X', f) != EOF && fclose(f) == 0);
    CHECK_EQ_INT(commit_known_of(body, sizeof body, &err), GT_ESTATE);
    CHECK_CONTAINS(err.msg, "set aside");
    CHECK(access(path, F_OK) != 0); /* was still there */
    CHECK_EQ_INT(gt_blob_put(dir, body, sizeof body, id, &err), 0);
    CHECK_EQ_INT(commit_known_of(body, sizeof body, &err), 0);
}

/* A known blob's commit that cannot read the stored copy through (out of
 * memory here; a read error alike) has not found it damaged: the copy, whole,
 * stays where it is. It was set aside as damaged, out of the store, and
 * charged to whoever uploaded it next. */
static void test_known_check_failure_keeps_copy(void) {
    const char body[] = "a whole blob that a failed check must not move";
    char id[GT_BLOB_ID_BYTES], path[256];
    uint8_t h[32];
    gt_err err = {0};
    gt_blob_writer *w = NULL;
    CHECK_EQ_INT(gt_blob_put(dir, body, sizeof body, id, &err), 0);
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, id + 7, id + 9);
    gt_sha256(body, sizeof body, h);
    CHECK_EQ_INT(gt_blob_writer_open_known(dir, sizeof body, h, &w, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_write(w, body, sizeof body, &err), 0);
    gt_alloc_fail_after(0);
    int rc = gt_blob_writer_commit(w, NULL, NULL, id, NULL, &err);
    gt_alloc_fail_after(-1);
    CHECK(rc != 0);
    CHECK_EQ_INT(access(path, F_OK), 0); /* was moved into tmp as damaged */
    CHECK_EQ_INT(commit_known_of(body, sizeof body, &err), 0);
}

/* Each blob's charge is kept, so its bytes go back when it leaves the
 * store: a charge moves its account's usage up, a release down (once), a
 * second charge of the same blob (its file removed by hand) releases the
 * first's; a damaged charge file is refused, naming it. */
static void test_charges(void) {
    gt_addr a = {{1}}, b = {{2}};
    uint8_t h[32] = {7};
    uint64_t used = 0, back = 9;
    char path[256];
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_usage_charge(dir, &a, h, 500, &back, &err), 0);
    CHECK_EQ_U64(back, 0);
    CHECK_EQ_INT(gt_blob_usage(dir, &a, &used, &err), 0);
    CHECK_EQ_U64(used, 500);
    CHECK_EQ_INT(gt_blob_usage_charge(dir, &b, h, 500, &back, &err), 0); /* the stale charge is released */
    CHECK_EQ_U64(back, 500);
    CHECK_EQ_INT(gt_blob_usage(dir, &a, &used, &err), 0);
    CHECK_EQ_U64(used, 0);
    CHECK_EQ_INT(gt_blob_usage_release(dir, h, &back, &err), 0);
    CHECK_EQ_U64(back, 500);
    CHECK_EQ_INT(gt_blob_usage(dir, &b, &used, &err), 0);
    CHECK_EQ_U64(used, 0);
    CHECK_EQ_INT(gt_blob_usage_release(dir, h, &back, &err), 0); /* nothing kept any more */
    CHECK_EQ_U64(back, 0);
    CHECK_EQ_INT(gt_blob_usage_total(dir, &used, &err), 0);
    CHECK_EQ_U64(used, 0);
    CHECK_EQ_INT(gt_blob_usage_charge(dir, &a, h, 40, &back, &err), 0);
    snprintf(path, sizeof path, "%s/charges/07%062d", dir, 0);
    FILE *f = fopen(path, "w");
    CHECK(f && fputs("not a charge\n", f) != EOF && fclose(f) == 0);
    CHECK_EQ_INT(gt_blob_usage_release(dir, h, &back, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "is damaged");
}

/* A damaged copy set aside into tmp is gone at the next start, as the
 * set-aside promises (gt_blob_clean_tmp removed only upload-* files: the
 * damaged-* ones stayed for good, up to 16 MiB each). */
static void test_set_aside_cleaned(void) {
    const char body[] = "a blob set aside, then cleaned";
    char id[GT_BLOB_ID_BYTES], path[256], aside[256];
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_put(dir, body, sizeof body, id, &err), 0);
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, id + 7, id + 9);
    snprintf(aside, sizeof aside, "%s/tmp/damaged-%.24s", dir, id + 7);
    FILE *f = fopen(path, "r+b");
    CHECK(f && fputc('X', f) != EOF && fclose(f) == 0);
    CHECK_EQ_INT(commit_known_of(body, sizeof body, &err), GT_ESTATE);
    CHECK_EQ_INT(access(aside, F_OK), 0);
    CHECK(gt_blob_clean_tmp(dir, &err) >= 1);
    CHECK(access(aside, F_OK) != 0); /* was kept */
}

int main(void) {
    strcpy(dir, "/tmp/gt_blob_testXXXXXX");
    if (!mkdtemp(dir)) return 1;
    strcat(dir, "/blobs"); /* the store creates its own directory */
    RUN(test_id);
    RUN(test_put_get);
    RUN(test_limits_and_damage);
    RUN(test_open);
    RUN(test_concurrent);
    RUN(test_known_damaged_set_aside);
    RUN(test_known_check_failure_keeps_copy);
    RUN(test_set_aside_cleaned);
    RUN(test_charges);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %.*s", (int)(strlen(dir) - 6), dir);
    if (system(cmd) != 0) return 1;
    return gt_test_finish();
}
