/* test_cast_interop.c: gotong's keystores and signatures against Foundry's
 * cast, an independent implementation (Rust, eth-keystore and alloy):
 *   - cast reads a keystore gotong wrote and reports the same address;
 *   - gotong decrypts a keystore cast wrote (`cast wallet new`);
 *   - personal_sign and EIP-712 signatures by the same key are identical.
 * cast comes from npm via scripts/setup.sh into .cache/npm; if it is missing
 * the test fails (an interop test that skips would prove nothing). */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keystore.h"

#define CAST GT_SOURCE_DIR "/.cache/npm/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"

static char tmp[] = "/tmp/gt-cast-XXXXXX";

/* Runs a shell command; returns its first output line (static buffer) and
 * exit status in *status. */
static const char *run(const char *cmd, int *status) {
    static char line[4096];
    line[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return line;
    }
    char buf[4096];
    int first = 1;
    while (fgets(buf, sizeof buf, f)) {
        if (first) snprintf(line, sizeof line, "%s", buf);
        first = 0;
    }
    *status = pclose(f);
    line[strcspn(line, "\r\n")] = 0;
    return line;
}

static void test_cast_reads_ours(void) {
    gt_key k;
    gt_addr a;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    gt_key_address(&k, &a);
    char *json = NULL;
    gt_kdf_params light = {GT_KDF_LIGHT_N, GT_KDF_DEFAULT_R, GT_KDF_LIGHT_P};
    CHECK_EQ_INT(gt_keystore_encrypt(&k, "cast test pw", &light, &json, NULL), 0);
    char path[256], pwf[256], cmd[1024];
    snprintf(path, sizeof path, "%s/ours.json", tmp);
    snprintf(pwf, sizeof pwf, "%s/pw", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(path, json, strlen(json), 0600, NULL), 0);
    CHECK_EQ_INT(gt_file_write_atomic(pwf, "cast test pw\n", 13, 0600, NULL), 0);
    gt_free(json);
    snprintf(cmd, sizeof cmd, "%s wallet address --keystore %s --password-file %s 2>&1", CAST, path,
             pwf);
    int st;
    const char *out = run(cmd, &st);
    char want[43];
    gt_addr_to_str(&a, want);
    CHECK_EQ_INT(st, 0);
    CHECK_STR(out, want);
    /* and with the wrong password cast refuses it too */
    snprintf(cmd, sizeof cmd, "%s wallet address --keystore %s --password nope 2>&1", CAST, path);
    run(cmd, &st);
    CHECK(st != 0);
}

static void test_we_read_casts(void) {
    char dir[256], cmd[1024];
    snprintf(dir, sizeof dir, "%s/castdir", tmp);
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(cmd, sizeof cmd, "%s wallet new %s --unsafe-password 'pw from cast' 2>&1", CAST, dir);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[1024], addr_s[64] = "", file[512] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "Address:", 8)) sscanf(line + 8, " %63s", addr_s);
        char *p = strstr(line, "keystore file: ");
        if (p) snprintf(file, sizeof file, "%s", p + 15);
    }
    CHECK_EQ_INT(pclose(f), 0);
    CHECK_MSG(addr_s[0] && file[0], "unexpected cast output (address \"%s\", file \"%s\")", addr_s,
              file);
    uint8_t *data;
    size_t len;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(file, GT_LIMIT_KEYSTORE_BYTES, &data, &len, &err), 0);
    gt_key k;
    int rc = gt_keystore_decrypt((const char *)data, len, "pw from cast", &k, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_addr a;
    char got[43];
    gt_key_address(&k, &a);
    gt_addr_to_str(&a, got);
    CHECK_STR(got, addr_s);
    CHECK_EQ_INT(gt_keystore_decrypt((const char *)data, len, "wrong", &k, &err), GT_EPASSWORD);
    gt_free(data);
}

static void test_same_signatures(void) {
    gt_key k;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    char kh[65], cmd[2048], ours[133];
    gt_hex_encode(k.priv, 32, kh);
    int st;
    /* personal_sign */
    uint8_t d[32];
    gt_sig s;
    const char *msg = "gotong: agents hire each other";
    gt_personal_digest(msg, strlen(msg), d);
    CHECK_EQ_INT(gt_sign_digest(&k, d, &s, NULL), 0);
    gt_sig_to_hex(&s, ours);
    snprintf(cmd, sizeof cmd, "%s wallet sign --private-key 0x%s '%s' 2>&1", CAST, kh, msg);
    CHECK_STR(run(cmd, &st), ours);
    CHECK_EQ_INT(st, 0);
    /* EIP-712 typed data with nested structs, arrays, bytes and ints */
    const char *td =
        "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":"
        "\"version\",\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"}],"
        "\"Item\":[{\"name\":\"id\",\"type\":\"uint64\"},{\"name\":\"delta\",\"type\":\"int32\"},"
        "{\"name\":\"tags\",\"type\":\"string[]\"},{\"name\":\"blob\",\"type\":\"bytes\"}],"
        "\"Task\":[{\"name\":\"owner\",\"type\":\"address\"},{\"name\":\"items\",\"type\":"
        "\"Item[2]\"},{\"name\":\"root\",\"type\":\"bytes32\"},{\"name\":\"ok\",\"type\":"
        "\"bool\"}]},\"primaryType\":\"Task\",\"domain\":{\"name\":\"gotong\",\"version\":\"1\","
        "\"chainId\":31337},\"message\":{\"owner\":\"0x52908400098527886E0F7030069857D2E4169EE7\","
        "\"items\":[{\"id\":1,\"delta\":-5,\"tags\":[\"a\",\"b\"],\"blob\":\"0xdeadbeef\"},"
        "{\"id\":\"18446744073709551615\",\"delta\":2147483647,\"tags\":[],\"blob\":\"0x\"}],"
        "\"root\":\"0x0101010101010101010101010101010101010101010101010101010101010101\","
        "\"ok\":true}}";
    gt_err err = {0};
    int rc = gt_eip712_hash_json(td, strlen(td), d, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_EQ_INT(gt_sign_digest(&k, d, &s, NULL), 0);
    gt_sig_to_hex(&s, ours);
    char tdf[256];
    snprintf(tdf, sizeof tdf, "%s/typed.json", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(tdf, td, strlen(td), 0600, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s wallet sign --private-key 0x%s --data --from-file %s 2>&1", CAST,
             kh, tdf);
    CHECK_STR(run(cmd, &st), ours);
    CHECK_EQ_INT(st, 0);
}

/* The salted domain gotong actions are signed under ({name, version,
 * chainId, salt}: salt = the network's genesis hash): cast signs the same
 * typed data to the same signature, and our domain separator is the one the
 * generic encoder derives from the JSON. */
static void test_salted_domain(void) {
    gt_key k;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    char kh[65], cmd[2048], ours[133];
    gt_hex_encode(k.priv, 32, kh);
    uint8_t salt[32];
    for (int i = 0; i < 32; i++) salt[i] = (uint8_t)(7 * i + 1);
    char salt_hex[67] = "0x";
    gt_hex_encode(salt, 32, salt_hex + 2);
    char td[2048];
    snprintf(td, sizeof td,
             "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\","
             "\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"salt\",\"type\":"
             "\"bytes32\"}],\"Transfer\":[{\"name\":\"from\",\"type\":\"address\"},{\"name\":\"nonce\",\"type\":"
             "\"uint64\"},{\"name\":\"to\",\"type\":\"address\"},{\"name\":\"amount\",\"type\":\"uint64\"}]},"
             "\"primaryType\":\"Transfer\",\"domain\":{\"name\":\"gotong\",\"version\":\"1\",\"chainId\":"
             "1048577,\"salt\":\"%s\"},\"message\":{\"from\":\"0x52908400098527886E0F7030069857D2E4169EE7\","
             "\"nonce\":3,\"to\":\"0x8617E340B3D01FA5F11F306F4090FD50E238070D\",\"amount\":\"1500000\"}}",
             salt_hex);
    uint8_t dom_json[32], dom_ours[32], d[32];
    gt_err err = {0};
    CHECK_MSG(gt_eip712_hash_json_parts(td, strlen(td), dom_json, NULL, d, &err) == 0, "%s", err.msg);
    gt_eip712_domain_separator_salt("gotong", "1", 1048577, salt, dom_ours);
    CHECK(memcmp(dom_json, dom_ours, 32) == 0);
    gt_sig s;
    CHECK_EQ_INT(gt_sign_digest(&k, d, &s, NULL), 0);
    gt_sig_to_hex(&s, ours);
    char tdf[256];
    snprintf(tdf, sizeof tdf, "%s/salted.json", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(tdf, td, strlen(td), 0600, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s wallet sign --private-key 0x%s --data --from-file %s 2>&1", CAST, kh, tdf);
    int st;
    CHECK_STR(run(cmd, &st), ours);
    CHECK_EQ_INT(st, 0);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    return remove(p);
}

int main(void) {
    if (access(CAST, X_OK) != 0) {
        fprintf(stderr, "cast not found at %s: run scripts/setup.sh (it installs "
                        "@foundry-rs/cast-linux-amd64 into .cache/npm)\n", CAST);
        CHECK_MSG(0, "cast is required for the interop test");
        return gt_test_finish();
    }
    CHECK(mkdtemp(tmp) != NULL);
    RUN(test_cast_reads_ours);
    RUN(test_we_read_casts);
    RUN(test_same_signatures);
    RUN(test_salted_domain);
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return gt_test_finish();
}
