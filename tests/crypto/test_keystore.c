/* test_keystore.c: V3 keystores: the two test vectors of the Web3 Secret
 * Storage definition (PBKDF2 and scrypt, password "testpassword"), round
 * trips, wrong password, tampering, malformed and hostile files, and the
 * keystore directory (naming, modes, find/list/load). */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/limits.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

static const char *SECRET = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

static const char *PBKDF2_VECTOR =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":"
    "\"6087dab2f9fdbbfaddc31a909735c1e6\"},\"ciphertext\":"
    "\"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46\",\"kdf\":\"pbkdf2\","
    "\"kdfparams\":{\"c\":262144,\"dklen\":32,\"prf\":\"hmac-sha256\",\"salt\":"
    "\"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd\"},\"mac\":"
    "\"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2\"},\"id\":"
    "\"3198bc9c-6672-5ab3-d995-4942343ae5b6\",\"version\":3}";

/* The spec's scrypt vector: r = 1, p = 8, which OpenSSL's scrypt refuses at
 * N = 2^18 (and geth accepts). */
static const char *SCRYPT_VECTOR =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":"
    "\"83dbcc02d8ccb40e466191a123791e0e\"},\"ciphertext\":"
    "\"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c\",\"kdf\":\"scrypt\","
    "\"kdfparams\":{\"dklen\":32,\"n\":262144,\"r\":1,\"p\":8,\"salt\":"
    "\"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19\"},\"mac\":"
    "\"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097\"},\"id\":"
    "\"3198bc9c-6672-5ab3-d995-4942343ae5b6\",\"version\":3}";

/* Light scrypt for tests that are about the format, not the cost. */
static const gt_kdf_params TEST_KDF = {1024, 8, 1};

static void check_secret(const gt_key *k) {
    char h[65];
    gt_hex_encode(k->priv, 32, h);
    CHECK_STR(h, SECRET);
}

static void test_spec_vectors(void) {
    gt_key k;
    gt_err err = {0};
    int rc = gt_keystore_decrypt(PBKDF2_VECTOR, strlen(PBKDF2_VECTOR), "testpassword", &k, &err);
    CHECK_MSG(rc == 0, "pbkdf2: %s", err.msg);
    check_secret(&k);
    rc = gt_keystore_decrypt(SCRYPT_VECTOR, strlen(SCRYPT_VECTOR), "testpassword", &k, &err);
    CHECK_MSG(rc == 0, "scrypt: %s", err.msg);
    check_secret(&k);
    gt_addr a;
    char s[43];
    gt_key_address(&k, &a);
    gt_addr_to_str(&a, s);
    CHECK_STR(s, "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
}

static void test_wrong_password(void) {
    gt_key k;
    gt_err err = {0};
    int rc = gt_keystore_decrypt(PBKDF2_VECTOR, strlen(PBKDF2_VECTOR), "testpassworD", &k, &err);
    CHECK_EQ_INT(rc, GT_EPASSWORD);
    CHECK_STR(err.msg, "wrong password (MAC mismatch)");
}

/* Replaces the first occurrence of `from` in src by `to` into dst. */
static void replace(char *dst, size_t cap, const char *src, const char *from, const char *to) {
    const char *at = strstr(src, from);
    CHECK_MSG(at != NULL, "\"%s\" not in the document", from);
    if (!at) {
        snprintf(dst, cap, "%s", src);
        return;
    }
    snprintf(dst, cap, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
}

static void test_round_trip_and_tamper(void) {
    gt_key k, back;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    char *json = NULL;
    gt_err err = {0};
    int rc = gt_keystore_encrypt(&k, "pässwörd", &TEST_KDF, &json, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    CHECK_CONTAINS(json, "\"version\":3");
    CHECK_CONTAINS(json, "\"kdf\":\"scrypt\"");
    CHECK_CONTAINS(json, "\"n\":1024");
    gt_addr a;
    char hex[41];
    gt_key_address(&k, &a);
    gt_hex_encode(a.b, 20, hex);
    CHECK_CONTAINS(json, hex);
    rc = gt_keystore_decrypt(json, strlen(json), "pässwörd", &back, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(memcmp(k.priv, back.priv, 32) == 0);
    CHECK_EQ_INT(gt_keystore_decrypt(json, strlen(json), "password", &back, &err), GT_EPASSWORD);

    /* flip one hex digit of the ciphertext, then of the MAC */
    char *t = gt_strdup(json);
    char *ct = strstr(t, "\"ciphertext\":\"") + 14;
    *ct = *ct == '0' ? '1' : '0';
    CHECK_EQ_INT(gt_keystore_decrypt(t, strlen(t), "pässwörd", &back, &err), GT_EPASSWORD);
    strcpy(t, json);
    char *mac = strstr(t, "\"mac\":\"") + 7;
    *mac = *mac == '0' ? '1' : '0';
    CHECK_EQ_INT(gt_keystore_decrypt(t, strlen(t), "pässwörd", &back, &err), GT_EPASSWORD);
    /* an "address" that is not the key's is refused even with the right password */
    strcpy(t, json);
    char *ad = strstr(t, "\"address\":\"") + 11;
    *ad = *ad == '0' ? '1' : '0';
    CHECK_EQ_INT(gt_keystore_decrypt(t, strlen(t), "pässwörd", &back, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "does not match");
    /* salts differ between two encryptions of the same key */
    char *json2 = NULL;
    CHECK_EQ_INT(gt_keystore_encrypt(&k, "pässwörd", &TEST_KDF, &json2, NULL), 0);
    CHECK(json2 && strcmp(json, json2) != 0);
    gt_free(json2);
    gt_free(t);
    gt_free(json);
}

/* A password one byte over the limit: gt_keystore_decrypt refuses it as its
 * last check before the key derivation (after every field and the KDF's
 * bounds). A document refused with its own message under this password was
 * therefore refused before any derivation ran, whatever the machine's speed. */
static char long_pw[GT_LIMIT_PASSWORD_BYTES + 2];

/* One malformed document: rc and a message fragment, refused before the KDF. */
static void expect_bad(const char *doc, int code, const char *msg) {
    gt_key k;
    gt_err err = {0};
    int rc = gt_keystore_decrypt(doc, strlen(doc), long_pw, &k, &err);
    CHECK_MSG(rc == code, "rc %d (%s), expected %d for: %s", rc, err.msg, code, doc);
    CHECK_CONTAINS(err.msg, msg);
    CHECK_MSG(!strstr(err.msg, "password"), "reached the step before the key derivation: %s", err.msg);
}

static void test_malformed(void) {
    char d[2048];
    const char *v = PBKDF2_VECTOR;
    memset(long_pw, 'p', sizeof long_pw - 1);
    /* the probe: a well-formed document goes as far as the password check */
    gt_key k;
    gt_err err = {0};
    CHECK_EQ_INT(gt_keystore_decrypt(v, strlen(v), long_pw, &k, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "password is over");
    expect_bad("", GT_EINVAL, "malformed JSON");
    expect_bad("[1]", GT_EINVAL, "expected a JSON object");
    replace(d, sizeof d, v, "\"version\":3", "\"version\":2");
    expect_bad(d, GT_EUNSUPPORTED, "only version 3");
    replace(d, sizeof d, v, "\"version\":3", "\"version\":\"three\"");
    expect_bad(d, GT_EINVAL, "version");
    replace(d, sizeof d, v, "\"crypto\"", "\"krypto\"");
    expect_bad(d, GT_EINVAL, "\"crypto\" is missing");
    replace(d, sizeof d, v, "aes-128-ctr", "aes-128-cbc");
    expect_bad(d, GT_EUNSUPPORTED, "aes-128-cbc");
    replace(d, sizeof d, v, "6087dab2f9fdbbfaddc31a909735c1e6", "6087dab2f9fdbbfaddc31a909735c1");
    expect_bad(d, GT_EINVAL, "iv");
    replace(d, sizeof d, v, "5318b4d5", "5318b4dz");
    expect_bad(d, GT_EINVAL, "ciphertext: invalid hex digit");
    replace(d, sizeof d, v, "\"pbkdf2\"", "\"argon2\"");
    expect_bad(d, GT_EUNSUPPORTED, "argon2");
    replace(d, sizeof d, v, "hmac-sha256", "hmac-sha512");
    expect_bad(d, GT_EUNSUPPORTED, "hmac-sha512");
    replace(d, sizeof d, v, "\"dklen\":32", "\"dklen\":16");
    expect_bad(d, GT_EINVAL, "dklen = 16");
    replace(d, sizeof d, v, "\"c\":262144", "\"c\":4000000000");
    expect_bad(d, GT_ELIMIT, "c = 4000000000");
    replace(d, sizeof d, v, "\"c\":262144", "\"c\":-5");
    expect_bad(d, GT_EINVAL, "\"c\"");
    replace(d, sizeof d, v, "517ead924a9d", "517ead");
    expect_bad(d, GT_EINVAL, "mac");
    replace(d, sizeof d, v, "\"kdfparams\":{", "\"kdfparams\":7,\"x\":{");
    expect_bad(d, GT_EINVAL, "kdfparams");
    const char *s = SCRYPT_VECTOR;
    /* hostile scrypt costs are refused before any memory is allocated */
    replace(d, sizeof d, s, "\"n\":262144", "\"n\":1073741824");
    expect_bad(d, GT_ELIMIT, "over the limits");
    replace(d, sizeof d, s, "\"n\":262144,\"r\":1", "\"n\":4194304,\"r\":64");
    expect_bad(d, GT_ELIMIT, "MiB");
    replace(d, sizeof d, s, "\"n\":262144", "\"n\":262145");
    expect_bad(d, GT_EINVAL, "power of two");
    replace(d, sizeof d, s, "\"p\":8", "\"p\":0");
    expect_bad(d, GT_EINVAL, "at least 1");
    replace(d, sizeof d, s, "\"r\":1", "\"r\":100000");
    expect_bad(d, GT_ELIMIT, "over the limits");
    char big[GT_LIMIT_KEYSTORE_BYTES + 16];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    expect_bad(big, GT_ELIMIT, "at most");
}

static void test_bounded(void) {
    gt_key k;
    gt_err err = {0};
    /* the fuzzer's bounds: 1 MiB, work 4096 */
    int rc = gt_keystore_decrypt_bounded(SCRYPT_VECTOR, strlen(SCRYPT_VECTOR), "testpassword",
                                         1 << 20, 4096, &k, &err);
    CHECK_EQ_INT(rc, GT_ELIMIT);
    rc = gt_keystore_decrypt_bounded(PBKDF2_VECTOR, strlen(PBKDF2_VECTOR), "testpassword",
                                     1 << 20, 4096, &k, &err);
    CHECK_EQ_INT(rc, GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "expected 1..4096");
    /* and encryption refuses parameters nobody could decrypt */
    gt_kdf_params bad = {1000, 8, 1};
    char *json = NULL;
    CHECK_EQ_INT(gt_keystore_encrypt(&k, "x", &bad, &json, &err), GT_EINVAL);
    CHECK(json == NULL);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw);

/* Each of our allocations failing in turn, through encrypt, decrypt, save,
 * list and load: GT_ENOMEM or success, nothing else, no leaks. */
static void test_out_of_memory(void) {
    char dir[] = "/tmp/gt-keystore-oom-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    gt_kdf_params tiny = {16, 1, 1};
    gt_key k, back;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    int bad = 0, ok_seen = 0;
    for (long f = 0; f < 100 && !ok_seen; f++) {
        char *json = NULL, path[4096];
        gt_alloc_fail_after(f);
        int rc = gt_keystore_encrypt(&k, "pw", &tiny, &json, NULL);
        if (!rc) rc = gt_keystore_decrypt(json, strlen(json), "pw", &back, NULL);
        if (!rc) rc = gt_keystore_save(dir, &k, "pw", &tiny, path, sizeof path, NULL);
        gt_addr *list = NULL;
        size_t n = 0;
        if (!rc) rc = gt_keystore_list(dir, &list, &n, NULL);
        gt_addr a;
        gt_key_address(&k, &a);
        if (!rc) rc = gt_keystore_load(dir, &a, "pw", &back, NULL);
        gt_alloc_fail_after(-1);
        if (rc == 0) ok_seen = 1, bad += n != 1 || memcmp(back.priv, k.priv, 32) != 0;
        else bad += rc != GT_ENOMEM;
        gt_free(list);
        gt_free(json);
        if (rc == 0) break;
        /* a save that got through before a later failure must be undone */
        char found[4096];
        if (!gt_keystore_find(dir, &a, found, sizeof found, NULL)) remove(found);
    }
    CHECK(ok_seen);
    CHECK_EQ_INT(bad, 0);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    return remove(p);
}

static void test_directory(void) {
    char dir[] = "/tmp/gt-keystore-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    gt_key k1, k2, back;
    gt_addr a1, a2;
    CHECK_EQ_INT(gt_key_generate(&k1, NULL), 0);
    CHECK_EQ_INT(gt_key_generate(&k2, NULL), 0);
    gt_key_address(&k1, &a1);
    gt_key_address(&k2, &a2);
    gt_err err = {0};
    gt_addr *list;
    size_t n;
    CHECK_EQ_INT(gt_keystore_list(dir, &list, &n, &err), 0); /* no keystore/ yet */
    CHECK_EQ_INT((int)n, 0);

    char p1[4096], p2[4096];
    int rc = gt_keystore_save(dir, &k1, "one", &TEST_KDF, p1, sizeof p1, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    rc = gt_keystore_save(dir, &k2, "two", &TEST_KDF, p2, sizeof p2, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    char hex[41];
    gt_hex_encode(a1.b, 20, hex);
    CHECK_CONTAINS(p1, "/keystore/UTC--");
    CHECK_CONTAINS(p1, hex);
    struct stat st;
    CHECK(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600);
    char kdir[4200];
    snprintf(kdir, sizeof kdir, "%s/keystore", dir);
    CHECK(stat(kdir, &st) == 0 && (st.st_mode & 0777) == 0700);

    CHECK_EQ_INT(gt_keystore_list(dir, &list, &n, &err), 0);
    CHECK_EQ_INT((int)n, 2);
    if (n == 2) CHECK(gt_addr_eq(&list[0], &a1) && gt_addr_eq(&list[1], &a2));
    gt_free(list);

    char found[4096];
    CHECK_EQ_INT(gt_keystore_find(dir, &a2, found, sizeof found, &err), 0);
    CHECK_STR(found, p2);
    CHECK_EQ_INT(gt_keystore_load(dir, &a1, "one", &back, &err), 0);
    CHECK(memcmp(back.priv, k1.priv, 32) == 0);
    CHECK_EQ_INT(gt_keystore_load(dir, &a1, "two", &back, &err), GT_EPASSWORD);
    CHECK_CONTAINS(err.msg, "wrong password");
    CHECK_EQ_INT(gt_keystore_save(dir, &k1, "again", &TEST_KDF, p1, sizeof p1, &err), GT_EEXIST);
    CHECK_CONTAINS(err.msg, "already stored");

    gt_addr other;
    gt_addr_parse("0x52908400098527886E0F7030069857D2E4169EE7", &other, NULL);
    CHECK_EQ_INT(gt_keystore_find(dir, &other, found, sizeof found, &err), GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no key for 0x52908400098527886E0F7030069857D2E4169EE7");

    /* a file copied in under another name is found by its "address" field */
    char copied[4300];
    snprintf(copied, sizeof copied, "%s/keystore/my-old-wallet.json", dir);
    CHECK_EQ_INT(gt_file_write_atomic(copied, PBKDF2_VECTOR, strlen(PBKDF2_VECTOR), 0600, NULL), 0);
    CHECK_EQ_INT(gt_keystore_list(dir, &list, &n, &err), 0);
    CHECK_EQ_INT((int)n, 2); /* the spec vector has no address field: skipped */
    gt_free(list);
    char *with_addr = NULL;
    gt_key k3;
    gt_addr a3;
    CHECK_EQ_INT(gt_key_generate(&k3, NULL), 0);
    gt_key_address(&k3, &a3);
    CHECK_EQ_INT(gt_keystore_encrypt(&k3, "three", &TEST_KDF, &with_addr, NULL), 0);
    CHECK_EQ_INT(gt_file_write_atomic(copied, with_addr, strlen(with_addr), 0600, NULL), 0);
    CHECK_EQ_INT(gt_keystore_list(dir, &list, &n, &err), 0);
    CHECK_EQ_INT((int)n, 3);
    gt_free(list);
    CHECK_EQ_INT(gt_keystore_load(dir, &a3, "three", &back, &err), 0);
    CHECK(memcmp(back.priv, k3.priv, 32) == 0);
    /* save_json refuses a document naming another address */
    CHECK_EQ_INT(gt_keystore_save_json(dir, &a1, with_addr, strlen(with_addr), found, sizeof found,
                                       &err),
                 GT_EEXIST);
    CHECK_EQ_INT(gt_keystore_save_json(dir, &other, with_addr, strlen(with_addr), found,
                                       sizeof found, &err),
                 GT_EINVAL);
    CHECK_CONTAINS(err.msg, "does not match");
    gt_free(with_addr);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    RUN(test_spec_vectors);
    RUN(test_wrong_password);
    RUN(test_round_trip_and_tamper);
    RUN(test_malformed);
    RUN(test_bounded);
    RUN(test_directory);
    RUN(test_out_of_memory);
    return gt_test_finish();
}
