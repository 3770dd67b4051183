/* test_permit.c: upload permits, per-account usage, and the streaming
 * writer's refusals. A permit's digest is what any wallet computes from the
 * same typed data (eth_signTypedData_v4 JSON through the generic hasher);
 * permits round-trip through their header; forged, expired, far-future and
 * malformed ones are refused with a reason. A writer whose bytes do not match
 * what was announced, or that is dropped half-way, leaves no file; leftovers
 * of a crash are cleaned. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "store/permit.h"
#include "store/quota.h"

static char dir[64];

/* Key from a seed string. */
static void key(const char *seed, gt_key *k, gt_addr *a) {
    uint8_t priv[32];
    gt_keccak256(seed, strlen(seed), priv);
    gt_key_from_bytes(k, priv, NULL);
    gt_key_address(k, a);
}

/* The permit's digest equals the generic EIP-712 hash of the same typed data. */
static void test_digest_is_eip712(void) {
    gt_key k;
    gt_blob_permit p = {.size = 1234, .expiry_s = 1800000000};
    key("permit-a", &k, &p.uploader);
    gt_sha256("spec", 4, p.hash);
    uint8_t salt[32], mine[32], wallet[32];
    for (int i = 0; i < 32; i++) salt[i] = (uint8_t)(i * 9 + 1);
    gt_blob_permit_digest(&p, 77, salt, mine);
    char addr[43], hash[67] = "0x", salt_hex[67] = "0x", json[2048];
    gt_addr_to_str(&p.uploader, addr);
    gt_hex_encode(p.hash, 32, hash + 2);
    gt_hex_encode(salt, 32, salt_hex + 2);
    snprintf(json, sizeof json,
             "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":"
             "\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"salt\",\"type\":\"bytes32\"}],"
             "\"BlobUpload\":[{\"name\":\"uploader\",\"type\":\"address\"},{\"name\":\"hash\",\"type\":\"bytes32\"},"
             "{\"name\":\"size\",\"type\":\"uint64\"},{\"name\":\"expiry\",\"type\":\"uint64\"}]},"
             "\"primaryType\":\"BlobUpload\",\"domain\":{\"name\":\"gotong\",\"version\":\"1\",\"chainId\":77,"
             "\"salt\":\"%s\"},\"message\":{\"uploader\":\"%s\",\"hash\":\"%s\",\"size\":1234,\"expiry\":1800000000}}",
             salt_hex, addr, hash);
    gt_err err = {0};
    CHECK_MSG(gt_eip712_hash_json(json, strlen(json), wallet, &err) == 0, "%s", err.msg);
    CHECK(!memcmp(mine, wallet, 32));
}

/* Sign, format, parse, check; then each way a permit is refused. */
static void test_sign_parse_check(void) {
    gt_key k, other;
    gt_addr a, b;
    key("permit-a", &k, &a);
    key("permit-b", &other, &b);
    uint8_t salt[32] = {1, 2, 3};
    gt_blob_permit p = {.size = 10, .expiry_s = 1000 + 600}, q;
    gt_sha256("helloworld", 10, p.hash);
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_permit_sign(&p, &k, 5, salt, &err), 0);
    CHECK(!memcmp(p.uploader.b, a.b, 20));
    char h[GT_BLOB_PERMIT_HEADER_MAX];
    gt_blob_permit_format(&p, h, sizeof h);
    CHECK(!strncmp(h, "Gotong-Permit uploader=0x", 25));
    CHECK_EQ_INT(gt_blob_permit_parse(h, &q, &err), 0);
    CHECK(!memcmp(&p, &q, sizeof p));
    CHECK_EQ_INT(gt_blob_permit_check(&q, 5, salt, 1000, &err), 0);
    /* another network: another chain id or salt */
    CHECK_EQ_INT(gt_blob_permit_check(&q, 6, salt, 1000, &err), GT_ESIG);
    salt[0] ^= 1;
    CHECK_EQ_INT(gt_blob_permit_check(&q, 5, salt, 1000, &err), GT_ESIG);
    salt[0] ^= 1;
    /* tampered size, someone else's name on it */
    q.size = 11;
    CHECK_EQ_INT(gt_blob_permit_check(&q, 5, salt, 1000, &err), GT_ESIG);
    q.size = 10;
    q.uploader = b;
    CHECK_EQ_INT(gt_blob_permit_check(&q, 5, salt, 1000, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "recovers to");
    /* a signature that recovers to nothing says why, as an action's does:
     * here an s in the upper half of the order (EIP-2) */
    q = p;
    memset(q.sig.s, 0xee, 32);
    CHECK_EQ_INT(gt_blob_permit_check(&q, 5, salt, 1000, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "no address (signature s is in the upper half");
    /* expired; too far ahead */
    CHECK_EQ_INT(gt_blob_permit_check(&p, 5, salt, 1601, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "expired");
    CHECK_EQ_INT(gt_blob_permit_check(&p, 5, salt, 1600 - GT_BLOB_PERMIT_MAX_TTL_S - 1, &err), GT_EPERM);
    /* malformed headers */
    const char *bad[] = {"Bearer abc", "Gotong-Permit", "Gotong-Permit uploader=0x12", "Gotong-Permit size=1,size=2",
                         "Gotong-Permit colour=red", "Gotong-Permit nonsense"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ_INT(gt_blob_permit_parse(bad[i], &q, &err), GT_EINVAL);
    char longh[GT_BLOB_PERMIT_HEADER_MAX + 10];
    memset(longh, 'a', sizeof longh - 1);
    longh[sizeof longh - 1] = 0;
    CHECK_EQ_INT(gt_blob_permit_parse(longh, &q, &err), GT_EINVAL);
    /* a field missing */
    char *cut = strstr(h, ",sig=");
    *cut = 0;
    CHECK_EQ_INT(gt_blob_permit_parse(h, &q, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected the fields");
}

/* Usage per account adds up, persists, and a damaged file is an error. */
static void test_usage(void) {
    gt_key k;
    gt_addr a;
    key("permit-a", &k, &a);
    uint64_t used = 99;
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_usage(dir, &a, &used, &err), 0);
    CHECK_EQ_U64(used, 0);
    CHECK_EQ_INT(gt_blob_usage_add(dir, &a, 600, &err), 0);
    CHECK_EQ_INT(gt_blob_usage_add(dir, &a, 50, &err), 0);
    CHECK_EQ_INT(gt_blob_usage(dir, &a, &used, &err), 0);
    CHECK_EQ_U64(used, 650);
    CHECK_EQ_INT(gt_blob_usage_add(dir, &a, UINT64_MAX, &err), GT_EOVERFLOW);
    /* the store's total sums every account's file and skips other names */
    gt_key k2;
    gt_addr b;
    key("permit-b", &k2, &b);
    CHECK_EQ_INT(gt_blob_usage_add(dir, &b, 7, &err), 0);
    char other[256];
    snprintf(other, sizeof other, "%s/usage/not-an-account.tmp", dir);
    FILE *o = fopen(other, "w");
    fputs("1000000\n", o);
    fclose(o);
    uint64_t total = 0;
    CHECK_EQ_INT(gt_blob_usage_total(dir, &total, &err), 0);
    CHECK_EQ_U64(total, 657);
    char path[256], hex[41];
    gt_hex_encode(a.b, 20, hex);
    snprintf(path, sizeof path, "%s/usage/%s", dir, hex);
    FILE *f = fopen(path, "w");
    fputs("12x\n", f);
    fclose(f);
    CHECK_EQ_INT(gt_blob_usage(dir, &a, &used, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "damaged");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(gt_blob_usage_total(dir, &total, &err), GT_EINVAL); /* never read as zero */
    CHECK_CONTAINS(err.msg, hex);
}

/* Files in dir/tmp. */
static int tmp_files(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/tmp", dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

/* The writer refuses what was not announced and leaves nothing behind. */
static void test_writer(void) {
    uint8_t h[32];
    gt_sha256("0123456789", 10, h);
    gt_blob_writer *w;
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES];
    int is_new = -1;
    /* too many bytes */
    CHECK_EQ_INT(gt_blob_writer_open(dir, 10, h, &w, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_write(w, "0123456789X", 11, &err), GT_ELIMIT);
    gt_blob_writer_abort(w);
    /* too few */
    CHECK_EQ_INT(gt_blob_writer_open(dir, 10, h, &w, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_write(w, "01234", 5, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_commit(w, NULL, NULL, id, &is_new, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "after 5 of the 10");
    /* other bytes than announced */
    CHECK_EQ_INT(gt_blob_writer_open(dir, 10, h, &w, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_write(w, "9876543210", 10, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_commit(w, NULL, NULL, id, &is_new, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "hash to");
    CHECK(!gt_blob_exists_hash(dir, h));
    CHECK_EQ_INT(tmp_files(), 0);
    /* in pieces, right: stored, new; again: not new */
    for (int round = 0; round < 2; round++) {
        CHECK_EQ_INT(gt_blob_writer_open(dir, 10, h, &w, &err), 0);
        CHECK_EQ_INT(gt_blob_writer_write(w, "0123", 4, &err), 0);
        CHECK_EQ_INT(gt_blob_writer_write(w, "456789", 6, &err), 0);
        CHECK_EQ_U64(gt_blob_writer_len(w), 10);
        CHECK_EQ_INT(gt_blob_writer_commit(w, NULL, NULL, id, &is_new, &err), 0);
        CHECK_EQ_INT(is_new, round == 0);
    }
    CHECK(gt_blob_exists_hash(dir, h));
    /* a crash's leftovers are cleaned; only the writers' own files */
    CHECK_EQ_INT(gt_blob_writer_open(dir, GT_BLOB_SIZE_ANY, NULL, &w, &err), 0);
    CHECK_EQ_INT(gt_blob_writer_write(w, "partial", 7, &err), 0);
    CHECK_EQ_INT(tmp_files(), 1);
    CHECK_EQ_INT(gt_blob_clean_tmp(dir, &err), 1);
    CHECK_EQ_INT(tmp_files(), 0);
    gt_blob_writer_abort(w); /* its file is gone already: no harm */
}

int main(void) {
    strcpy(dir, "/tmp/gt_permit_testXXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_digest_is_eip712);
    RUN(test_sign_parse_check);
    RUN(test_usage);
    RUN(test_writer);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return gt_test_finish();
}
