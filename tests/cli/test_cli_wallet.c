/* test_cli_wallet.c: `gotong wallet` end to end, driving the real binary:
 * new/list/show, signing (checked by recovering the signer with the library),
 * export of the keystore and of the raw key, import of a keystore (the Web3
 * Secret Storage vector) and of a raw key, and the error paths and exit
 * codes a user meets. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keystore.h"

static char tmp[] = "/tmp/gt-cli-wallet-XXXXXX";
static char home[256], pwfile[256], out_path[256], err_path[256];
static char *out_s, *err_s; /* last command's stdout / stderr */

/* Runs `gotong ARGS` with --home set; captures stdout/stderr; returns the
 * exit code. setsid detaches it from any terminal, so a command that would
 * prompt for a password fails instead of waiting for a keyboard. */
static int gotong(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "setsid -w %s %s --home %s >%s 2>%s </dev/null", GT_CLI, args, home,
             out_path, err_path);
    int st = system(cmd);
    gt_free(out_s);
    gt_free(err_s);
    size_t n;
    if (gt_file_read(out_path, 1 << 20, (uint8_t **)&out_s, &n, NULL)) out_s = gt_strdup("");
    if (gt_file_read(err_path, 1 << 20, (uint8_t **)&err_s, &n, NULL)) err_s = gt_strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void chomp(char *s) {
    s[strcspn(s, "\r\n")] = 0;
}

static char addr1[64];

static void test_new_list_show(void) {
    char args[512];
    snprintf(args, sizeof args, "wallet new --light --password-file %s", pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    chomp(out_s);
    snprintf(addr1, sizeof addr1, "%s", out_s);
    gt_addr a;
    CHECK_MSG(gt_addr_parse(addr1, &a, NULL) == 0, "not an address: \"%s\"", addr1);
    CHECK_CONTAINS(err_s, "stored in");

    CHECK_EQ_INT(gotong("wallet list"), 0);
    chomp(out_s);
    CHECK_STR(out_s, addr1);
    CHECK_EQ_INT(gotong("wallet list --json"), 0);
    CHECK_CONTAINS(out_s, "\"addresses\"");
    CHECK_CONTAINS(out_s, addr1);

    snprintf(args, sizeof args, "wallet show %s", addr1);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "kdf      scrypt n=4096 r=8 p=6");
    snprintf(args, sizeof args, "wallet show %s --json", addr1);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"kdf\":\"scrypt\"");
    /* the key file is private */
    char path[4096];
    CHECK_EQ_INT(gt_keystore_find(home, &a, path, sizeof path, NULL), 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
}

/* Recovers the signer of a 0x-hex signature over digest. */
static void check_signer(const char *sig_hex, const uint8_t digest[32], const char *want) {
    gt_sig s;
    gt_addr a;
    char got[43];
    gt_err err = {0};
    CHECK_MSG(gt_sig_from_hex(&s, sig_hex, &err) == 0, "%s: %s", sig_hex, err.msg);
    CHECK_EQ_INT(gt_recover_digest(digest, &s, &a, &err), 0);
    gt_addr_to_str(&a, got);
    CHECK_STR(got, want);
}

static void test_sign(void) {
    char args[1024];
    snprintf(args, sizeof args, "wallet sign %s --password-file %s --message 'pay 5 to bob'", addr1,
             pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    chomp(out_s);
    CHECK_EQ_INT((int)strlen(out_s), 132);
    uint8_t d[32];
    gt_personal_digest("pay 5 to bob", 12, d);
    check_signer(out_s, d, addr1);

    const char *td = "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},"
                     "{\"name\":\"chainId\",\"type\":\"uint256\"}],\"Pay\":[{\"name\":\"to\","
                     "\"type\":\"address\"},{\"name\":\"amount\",\"type\":\"uint64\"}]},"
                     "\"primaryType\":\"Pay\",\"domain\":{\"name\":\"gotong\",\"chainId\":1},"
                     "\"message\":{\"to\":\"0x52908400098527886E0F7030069857D2E4169EE7\","
                     "\"amount\":5000000}}";
    char tdf[300];
    snprintf(tdf, sizeof tdf, "%s/pay.json", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(tdf, td, strlen(td), 0600, NULL), 0);
    snprintf(args, sizeof args, "wallet sign %s --password-file %s --typed-data %s --json", addr1,
             pwfile, tdf);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(gt_eip712_hash_json(td, strlen(td), d, NULL), 0);
    char dh[67] = "0x";
    gt_hex_encode(d, 32, dh + 2);
    CHECK_CONTAINS(out_s, dh);
    const char *sig = strstr(out_s, "\"signature\":\"");
    CHECK(sig != NULL);
    if (sig) {
        char sh[133];
        snprintf(sh, sizeof sh, "%.132s", sig + 13);
        check_signer(sh, d, addr1);
    }
    /* malformed typed data: the error names the file and the field */
    const char *bad = "{\"types\":{\"Pay\":[{\"name\":\"amount\",\"type\":\"uint8\"}]},"
                      "\"primaryType\":\"Pay\",\"domain\":{},\"message\":{\"amount\":300}}";
    CHECK_EQ_INT(gt_file_write_atomic(tdf, bad, strlen(bad), 0600, NULL), 0);
    snprintf(args, sizeof args, "wallet sign %s --password-file %s --typed-data %s", addr1, pwfile,
             tdf);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "message.amount: value out of range for uint8");
}

static void test_export(void) {
    char args[1024];
    snprintf(args, sizeof args, "wallet export %s", addr1);
    CHECK_EQ_INT(gotong(args), 0);
    gt_key k, raw;
    gt_err err = {0};
    CHECK_EQ_INT(gt_keystore_decrypt(out_s, strlen(out_s), "cli test pw", &k, &err), 0);
    snprintf(args, sizeof args, "wallet export %s --private-key --password-file %s", addr1, pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(err_s, "warning: this is the unencrypted private key");
    chomp(out_s);
    CHECK_EQ_INT(gt_hex_decode(out_s, raw.priv, 32, "exported key", NULL), 0);
    CHECK(memcmp(raw.priv, k.priv, 32) == 0);
}

static const char *PBKDF2_VECTOR =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":"
    "\"6087dab2f9fdbbfaddc31a909735c1e6\"},\"ciphertext\":"
    "\"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46\",\"kdf\":\"pbkdf2\","
    "\"kdfparams\":{\"c\":262144,\"dklen\":32,\"prf\":\"hmac-sha256\",\"salt\":"
    "\"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd\"},\"mac\":"
    "\"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2\"},\"id\":"
    "\"3198bc9c-6672-5ab3-d995-4942343ae5b6\",\"version\":3}";

static void test_import(void) {
    char f[300], vpw[300], args[1024];
    snprintf(f, sizeof f, "%s/vector.json", tmp);
    snprintf(vpw, sizeof vpw, "%s/vector.pw", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(f, PBKDF2_VECTOR, strlen(PBKDF2_VECTOR), 0600, NULL), 0);
    CHECK_EQ_INT(gt_file_write_atomic(vpw, "wrong\n", 6, 0600, NULL), 0);
    snprintf(args, sizeof args, "wallet import %s --password-file %s", f, vpw);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "wrong password (MAC mismatch)");
    CHECK_EQ_INT(gt_file_write_atomic(vpw, "testpassword\n", 13, 0600, NULL), 0);
    CHECK_EQ_INT(gotong(args), 0);
    chomp(out_s);
    CHECK_STR(out_s, "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
    CHECK_EQ_INT(gotong(args), 1); /* a second time: already there */
    CHECK_CONTAINS(err_s, "already stored");
    /* the imported key signs with its original password */
    snprintf(args, sizeof args,
             "wallet sign 0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b --password-file %s "
             "--message x",
             vpw);
    CHECK_EQ_INT(gotong(args), 0);

    /* a raw key from a file: private key 1 */
    char kf[300];
    snprintf(kf, sizeof kf, "%s/key.hex", tmp);
    const char *one = "  0x0000000000000000000000000000000000000000000000000000000000000001\n";
    CHECK_EQ_INT(gt_file_write_atomic(kf, one, strlen(one), 0600, NULL), 0);
    snprintf(args, sizeof args, "wallet import --private-key-file %s --password-file %s --light --json",
             kf, pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"address\":\"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\"");
    const char *zero = "0x0000000000000000000000000000000000000000000000000000000000000000";
    CHECK_EQ_INT(gt_file_write_atomic(kf, zero, strlen(zero), 0600, NULL), 0);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "private key is zero");
    CHECK_EQ_INT(gotong("wallet list"), 0);
    CHECK_CONTAINS(out_s, "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
    CHECK_CONTAINS(out_s, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}

static void test_errors_and_help(void) {
    static const char *cmds[] = {"new", "list", "show", "import", "export", "sign"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[128], want[64];
        snprintf(args, sizeof args, "wallet %s --help", cmds[i]);
        snprintf(want, sizeof want, "usage: gotong wallet %s", cmds[i]);
        CHECK_EQ_INT(gotong(args), 0);
        CHECK_CONTAINS(out_s, want);
    }
    CHECK_EQ_INT(gotong("wallet --help"), 0);
    CHECK_CONTAINS(out_s, "--light");
    CHECK_EQ_INT(gotong("wallet"), 2);
    CHECK_EQ_INT(gotong("wallet frobnicate"), 2);
    CHECK_CONTAINS(err_s, "unknown wallet command \"frobnicate\"");
    CHECK_EQ_INT(gotong("wallet list --bogus"), 2);
    CHECK_CONTAINS(err_s, "unknown option --bogus");
    CHECK_EQ_INT(gotong("wallet show"), 1);
    CHECK_CONTAINS(err_s, "needs an ADDRESS");
    CHECK_EQ_INT(gotong("wallet show 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), 1);
    CHECK_CONTAINS(err_s, "did you mean 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed?");
    CHECK_EQ_INT(gotong("wallet show 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), 1);
    CHECK_CONTAINS(err_s, "no key for 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    char args[512];
    snprintf(args, sizeof args, "wallet sign %s --message a --typed-data b --password-file %s",
             addr1, pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "exactly one of");
    /* no password file and no terminal: a clear refusal, not a hang */
    snprintf(args, sizeof args, "wallet sign %s --message a", addr1);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "password");
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    return remove(p);
}

int main(void) {
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(pwfile, sizeof pwfile, "%s/pw", tmp);
    snprintf(out_path, sizeof out_path, "%s/out", tmp);
    snprintf(err_path, sizeof err_path, "%s/err", tmp);
    CHECK_EQ_INT(gt_file_write_atomic(pwfile, "cli test pw\n", 12, 0600, NULL), 0);
    RUN(test_new_list_show);
    RUN(test_sign);
    RUN(test_export);
    RUN(test_import);
    RUN(test_errors_and_help);
    gt_free(out_s);
    gt_free(err_s);
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return gt_test_finish();
}
