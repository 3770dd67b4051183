/* cli_wallet.c: `gotong wallet`: keys in HOME/keystore (V3 files, as geth and
 * cast keep them): new, list, show, import, export, sign.
 *
 * Secrets never appear in argv: passwords come from --password-file or a
 * no-echo prompt, private keys from --private-key-file. Exporting a raw key
 * is possible (other tools need it) but prints a warning on stderr. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keystore.h"

/* A personal_sign message given on the command line. */
#define WALLET_MAX_MESSAGE_BYTES (64 * 1024)
/* A private key file: 64 hex digits, optional 0x, whitespace around. */
#define WALLET_MAX_KEY_FILE_BYTES 256

typedef struct opts {
    const char *home, *password_file, *typed_data, *message, *private_key_file, *signature;
    int json, light, private_key;
    const char *arg; /* the one positional argument (ADDR or FILE) */
    char home_path[4096];
} opts;

static const char *const usage_text =
    "usage: gotong wallet COMMAND [options]\n"
    "\n"
    "Keys live in HOME/keystore as Ethereum V3 keystore files (geth/cast compatible).\n"
    "\n"
    "commands:\n"
    "  new                 create a key; prints its address\n"
    "  list                list the addresses in the keystore\n"
    "  show ADDR           show an address's keystore file and KDF\n"
    "  import FILE         import a V3 keystore file (from geth, cast, ...)\n"
    "  import --private-key-file F   import a raw hex private key, encrypting it\n"
    "  export ADDR         print ADDR's keystore JSON to stdout\n"
    "  export ADDR --private-key     print the raw private key (hex) instead\n"
    "  sign ADDR --typed-data FILE   sign eth_signTypedData_v4 JSON (EIP-712)\n"
    "  sign ADDR --message TEXT      sign a text message (EIP-191 personal_sign)\n"
    "  verify [ADDR] --message TEXT --signature SIG   the address that signed it (as\n"
    "                      cast wallet verify); with ADDR, exit 1 unless it is ADDR\n"
    "  verify [ADDR] --typed-data FILE --signature SIG   the same for EIP-712 data\n"
    "\n"
    "options:\n"
    "  --home DIR            data directory (default ~/.gotong or $GOTONG_HOME)\n"
    "  --password-file F     read the password from F (first line); else prompt\n"
    "  --light               scrypt n=4096 p=6 (geth's light setting) instead of the\n"
    "                        standard n=262144: fast, for tests and demos only\n"
    "  --json                machine-readable output\n"
    "  --help                this help (also: gotong wallet COMMAND --help)\n";

/* Per-command help: the usage line and what it does. */
static const struct {
    const char *name, *text;
} sub_help[] = {
    {"new", "usage: gotong wallet new [--home DIR] [--password-file F] [--light] [--json]\n"
            "Creates a random secp256k1 key and stores it encrypted in HOME/keystore\n"
            "(scrypt n=262144 r=8 p=1 as geth; --light: n=4096 p=6, for tests/demos).\n"},
    {"list", "usage: gotong wallet list [--home DIR] [--json]\n"
             "Lists the addresses in HOME/keystore, oldest first.\n"},
    {"show", "usage: gotong wallet show ADDR [--home DIR] [--json]\n"
             "Shows ADDR's keystore file, cipher and KDF parameters (no password needed).\n"},
    {"import", "usage: gotong wallet import FILE [--home DIR] [--password-file F] [--json]\n"
               "       gotong wallet import --private-key-file F [--password-file P] "
               "[--light]\n"
               "Imports a V3 keystore (checked by decrypting it with its password), or a\n"
               "hex private key from a file, encrypted with a new password.\n"},
    {"export", "usage: gotong wallet export ADDR [--home DIR] [--private-key "
               "[--password-file F]]\n"
               "Prints ADDR's keystore JSON; with --private-key, the raw key in hex.\n"},
    {"verify", "usage: gotong wallet verify [ADDR] (--message TEXT | --typed-data FILE) --signature SIG\n"
               "                            [--json]\n"
               "Recovers the address that signed a text message (EIP-191 personal_sign, as\n"
               "`cast wallet sign` and wallets sign) or EIP-712 typed data, from the 65-byte\n"
               "signature r||s||v in hex, and prints it. With ADDR: exit 0 when ADDR signed it,\n"
               "1 (saying who did) when not. No keystore is needed.\n"},
    {"sign", "usage: gotong wallet sign ADDR (--typed-data FILE | --message TEXT)\n"
             "                          [--home DIR] [--password-file F] [--json]\n"
             "Signs EIP-712 typed data (eth_signTypedData_v4 JSON) or a text message\n"
             "(EIP-191 personal_sign) and prints the 65-byte signature r||s||v in hex.\n"},
};

/* Parses argv (argv[0] is the subcommand, whose help is help) into o with
 * the CLI's option table. Returns -1 to go on, else the exit code (0 after
 * --help, 2 on a usage error). */
static int parse(int argc, char **argv, opts *o, const char *help) {
    memset(o, 0, sizeof *o);
    const gt_cli_opt table[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--light", NULL, GT_CLI_OPT_FLAG, &o->light, 0, 0, NULL},
        {"--typed-data", NULL, GT_CLI_OPT_STR, &o->typed_data, 0, 0, NULL},
        {"--message", NULL, GT_CLI_OPT_STR, &o->message, 0, 0, NULL},
        {"--signature", NULL, GT_CLI_OPT_STR, &o->signature, 0, 0, NULL},
        {"--private-key", NULL, GT_CLI_OPT_FLAG, &o->private_key, 0, 0, NULL},
        {"--private-key-file", NULL, GT_CLI_OPT_STR, &o->private_key_file, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0;
    return gt_cli_parse_text("wallet", argc, argv, 1, table, &o->arg, 1, &n_pos, help);
}

/* Tells a person at a terminal why the next step takes a second or more
 * (standard scrypt is deliberately slow); quiet when stderr is not a TTY. */
static void kdf_notice(const char *what) {
    if (isatty(STDERR_FILENO)) fprintf(stderr, "%s (scrypt; takes a moment)...\n", what);
}

/* Prints a JSON object (consumed) on stdout. */
static void print_json(json_t *j) { gt_cli_json_out(j); }

/* --light picks geth's light scrypt; otherwise NULL means the standard. */
static const gt_kdf_params *kdf_for(const opts *o) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, GT_KDF_DEFAULT_R, GT_KDF_LIGHT_P};
    return o->light ? &light : NULL;
}

/* Prints "address path" (or JSON) for a key just stored. */
static int print_stored(const opts *o, const gt_addr *a, const char *path) {
    char as[43];
    gt_addr_to_str(a, as);
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s}", "address", as, "path", path);
        print_json(j);
    } else {
        printf("%s\n", as);
        fprintf(stderr, "stored in %s\n", path);
    }
    return 0;
}

/* wallet new: random key, encrypted under a password asked twice. */
static int cmd_new(opts *o, gt_err *err) {
    char pw[GT_LIMIT_PASSWORD_BYTES], path[4200];
    gt_key k;
    gt_addr a;
    int rc = gt_cli_password(o->password_file, "Password for the new key: ", 1, pw, sizeof pw, err);
    if (!rc) rc = gt_key_generate(&k, err);
    if (!rc) {
        kdf_notice("encrypting the new key");
        rc = gt_keystore_save(o->home_path, &k, pw, kdf_for(o), path, sizeof path, err);
        gt_key_address(&k, &a);
        gt_key_wipe(&k);
    }
    memset(pw, 0, sizeof pw);
    return rc ? rc : print_stored(o, &a, path);
}

/* wallet list: addresses in the keystore, oldest first. */
static int cmd_list(opts *o, gt_err *err) {
    gt_addr *v;
    size_t n;
    int rc = gt_keystore_list(o->home_path, &v, &n, err);
    if (rc) return rc;
    json_t *arr = o->json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        char as[43];
        gt_addr_to_str(&v[i], as);
        if (arr) json_array_append_new(arr, json_string(as));
        else printf("%s\n", as);
    }
    if (arr) print_json(json_pack("{s:o}", "addresses", arr));
    else if (n == 0) fprintf(stderr, "no keys in %s/keystore (create one: gotong wallet new)\n",
                             o->home_path);
    gt_free(v);
    return 0;
}

/* Reads ADDR (the positional argument) into a. */
static int need_addr(opts *o, const char *cmd, gt_addr *a, gt_err *err) {
    if (!o->arg) return gt_err_set(err, GT_EINVAL, "wallet %s needs an ADDRESS", cmd);
    return gt_addr_parse(o->arg, a, err);
}

/* wallet show ADDR: where the key is and how it is protected. */
static int cmd_show(opts *o, gt_err *err) {
    gt_addr a;
    char path[4200];
    int rc = need_addr(o, "show", &a, err);
    if (!rc) rc = gt_keystore_find(o->home_path, &a, path, sizeof path, err);
    if (rc) return rc;
    uint8_t *data;
    size_t len;
    json_t *root = NULL;
    rc = gt_file_read(path, GT_LIMIT_KEYSTORE_BYTES, &data, &len, err);
    if (rc) return rc;
    rc = gt_json_parse((const char *)data, len, GT_LIMIT_KEYSTORE_BYTES, &root, err);
    gt_free(data);
    if (rc) return gt_err_wrap(err, "%s", path);
    json_t *crypto = json_object_get(root, "crypto");
    if (!crypto) crypto = json_object_get(root, "Crypto");
    json_t *kdf = json_object_get(crypto, "kdf"), *kp = json_object_get(crypto, "kdfparams");
    json_t *cipher = json_object_get(crypto, "cipher");
    char as[43];
    gt_addr_to_str(&a, as);
    json_t *out = json_pack("{s:s, s:s, s:O*, s:O*, s:O*}", "address", as, "path", path,
                            "cipher", cipher, "kdf", kdf, "kdfparams", kp);
    if (o->json) {
        print_json(out);
    } else {
        printf("address  %s\nfile     %s\ncipher   %s\nkdf      %s", as, path,
               json_is_string(cipher) ? json_string_value(cipher) : "?",
               json_is_string(kdf) ? json_string_value(kdf) : "?");
        const char *names[] = {"n", "r", "p", "c"};
        for (int i = 0; i < 4; i++) {
            json_t *v = json_object_get(kp, names[i]);
            if (json_is_integer(v)) printf(" %s=%lld", names[i], (long long)json_integer_value(v));
        }
        printf("\n");
        json_decref(out);
    }
    json_decref(root);
    return 0;
}

/* Reads a hex private key file (64 hex digits, optional 0x, whitespace). */
static int read_key_file(const char *file, gt_key *k, gt_err *err) {
    uint8_t *data;
    size_t len;
    int rc = gt_file_read(file, WALLET_MAX_KEY_FILE_BYTES, &data, &len, err);
    if (rc) return gt_err_wrap(err, "private key file");
    char *s = (char *)data;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strcspn(s, " \t\r\n");
    s[n] = 0;
    uint8_t priv[32];
    rc = gt_hex_decode(s, priv, 32, "private key", err);
    if (!rc) rc = gt_key_from_bytes(k, priv, err);
    memset(priv, 0, sizeof priv);
    memset(data, 0, len);
    gt_free(data);
    return rc;
}

/* wallet import FILE | --private-key-file F. */
static int cmd_import(opts *o, gt_err *err) {
    char pw[GT_LIMIT_PASSWORD_BYTES] = "", path[4200];
    gt_key k = {{0}};
    gt_addr a;
    int rc;
    if (o->private_key_file) {
        if (o->arg) return gt_err_set(err, GT_EINVAL, "give either FILE or --private-key-file");
        rc = read_key_file(o->private_key_file, &k, err);
        if (!rc) gt_key_address(&k, &a);
        if (!rc) rc = gt_cli_password(o->password_file, "Password for the imported key: ", 1, pw,
                                      sizeof pw, err);
        if (!rc) rc = gt_keystore_save(o->home_path, &k, pw, kdf_for(o), path, sizeof path, err);
    } else {
        if (!o->arg)
            return gt_err_set(err, GT_EINVAL,
                              "wallet import needs a keystore FILE or --private-key-file F");
        uint8_t *data;
        size_t len;
        rc = gt_file_read(o->arg, GT_LIMIT_KEYSTORE_BYTES, &data, &len, err);
        if (rc) return rc;
        /* Decrypting proves the password and tells us the address. */
        rc = gt_cli_password(o->password_file, "Password of the keystore file: ", 0, pw,
                             sizeof pw, err);
        if (!rc) rc = gt_keystore_decrypt((const char *)data, len, pw, &k, err);
        if (!rc) {
            gt_key_address(&k, &a);
            rc = gt_keystore_save_json(o->home_path, &a, (const char *)data, len, path,
                                       sizeof path, err);
        }
        gt_free(data);
        if (rc) gt_err_wrap(err, "%s", o->arg);
    }
    gt_key_wipe(&k);
    memset(pw, 0, sizeof pw);
    return rc ? rc : print_stored(o, &a, path);
}

/* Loads ADDR's key, asking for its password. */
static int unlock(opts *o, const gt_addr *a, gt_key *k, gt_err *err) {
    char pw[GT_LIMIT_PASSWORD_BYTES], as[43], prompt[96];
    gt_addr_to_str(a, as);
    snprintf(prompt, sizeof prompt, "Password for %s: ", as);
    int rc = gt_cli_password(o->password_file, prompt, 0, pw, sizeof pw, err);
    if (!rc) kdf_notice("unlocking the key");
    if (!rc) rc = gt_keystore_load(o->home_path, a, pw, k, err);
    memset(pw, 0, sizeof pw);
    return rc;
}

/* wallet export ADDR [--private-key]. */
static int cmd_export(opts *o, gt_err *err) {
    gt_addr a;
    int rc = need_addr(o, "export", &a, err);
    if (rc) return rc;
    if (o->private_key) {
        gt_key k;
        rc = unlock(o, &a, &k, err);
        if (rc) return rc;
        char h[65];
        gt_hex_encode(k.priv, 32, h);
        gt_key_wipe(&k);
        fprintf(stderr, "warning: this is the unencrypted private key; anyone who sees it "
                        "controls the account\n");
        printf("0x%s\n", h);
        memset(h, 0, sizeof h);
        return 0;
    }
    char path[4200];
    rc = gt_keystore_find(o->home_path, &a, path, sizeof path, err);
    uint8_t *data;
    size_t len;
    if (!rc) rc = gt_file_read(path, GT_LIMIT_KEYSTORE_BYTES, &data, &len, err);
    if (rc) return rc;
    fwrite(data, 1, len, stdout);
    if (len && data[len - 1] != '\n') putchar('\n');
    gt_free(data);
    return 0;
}

/* The digest a signature covers: EIP-712 typed data from --typed-data, or a
 * personal_sign text from --message (exactly one of them). */
static int signed_digest(const opts *o, const char *cmd, uint8_t digest[32], gt_err *err) {
    int rc;
    if (!!o->typed_data == !!o->message)
        return gt_err_set(err, GT_EINVAL, "wallet %s needs exactly one of --typed-data FILE or --message TEXT", cmd);
    if (o->typed_data) {
        uint8_t *data;
        size_t len;
        rc = gt_file_read(o->typed_data, GT_EIP712_MAX_JSON_BYTES, &data, &len, err);
        if (rc) return rc;
        rc = gt_eip712_hash_json((const char *)data, len, digest, err);
        gt_free(data);
        if (rc) return gt_err_wrap(err, "%s", o->typed_data);
    } else {
        size_t len = strlen(o->message);
        if (len > WALLET_MAX_MESSAGE_BYTES)
            return gt_err_set(err, GT_ELIMIT, "message is %zu bytes; at most %d accepted", len,
                              WALLET_MAX_MESSAGE_BYTES);
        gt_personal_digest(o->message, len, digest);
    }
    return 0;
}

/* wallet sign ADDR --typed-data FILE | --message TEXT. */
static int cmd_sign(opts *o, gt_err *err) {
    gt_addr a;
    int rc = need_addr(o, "sign", &a, err);
    if (rc) return rc;
    uint8_t digest[32];
    if ((rc = signed_digest(o, "sign", digest, err))) return rc;
    gt_key k;
    gt_sig sig;
    rc = unlock(o, &a, &k, err);
    if (rc) return rc;
    rc = gt_sign_digest(&k, digest, &sig, err);
    gt_key_wipe(&k);
    if (rc) return rc;
    char sh[133], dh[67] = "0x", as[43];
    gt_sig_to_hex(&sig, sh);
    gt_hex_encode(digest, 32, dh + 2);
    gt_addr_to_str(&a, as);
    if (o->json)
        print_json(json_pack("{s:s, s:s, s:s}", "address", as, "digest", dh, "signature", sh));
    else
        printf("%s\n", sh);
    return 0;
}

/* wallet verify [ADDR] (--message TEXT | --typed-data FILE) --signature SIG:
 * the signer's address by ecrecover; with ADDR, a mismatch is a refusal. */
static int cmd_verify(opts *o, gt_err *err) {
    if (!o->signature) return gt_err_set(err, GT_EINVAL, "wallet verify needs --signature 0x<130 hex digits>");
    uint8_t digest[32];
    gt_sig sig;
    gt_addr signer, want;
    int rc = signed_digest(o, "verify", digest, err);
    if (!rc && o->arg && (rc = gt_addr_parse(o->arg, &want, err))) gt_err_wrap(err, "ADDR");
    if (!rc && (rc = gt_sig_from_hex(&sig, o->signature, err))) gt_err_wrap(err, "--signature");
    if (!rc) rc = gt_recover_digest(digest, &sig, &signer, err);
    if (rc) return rc;
    char ss[43], ws[43] = "";
    gt_addr_to_str(&signer, ss);
    int match = !o->arg || gt_addr_eq(&signer, &want);
    if (o->arg) gt_addr_to_str(&want, ws);
    if (o->json)
        print_json(json_pack("{s:s, s:b}", "signer", ss, "valid", match));
    else if (match)
        printf("%s\n", ss);
    if (!match) return gt_err_set(err, GT_ESIG, "the signature is by %s, not %s", ss, ws);
    return 0;
}

/* Dispatches `gotong wallet SUB ...`; returns the process exit code. */
static int wallet_main(int argc, char **argv) {
    static const char *const subs[] = {"new", "list", "show", "import", "export", "sign", "verify", NULL};
    static int (*const fns[])(opts *, gt_err *) = {cmd_new,    cmd_list, cmd_show,  cmd_import,
                                                  cmd_export, cmd_sign, cmd_verify};
    int which, rc = gt_cli_subcommand_text("wallet", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    const char *help = usage_text;
    for (size_t i = 0; i < sizeof sub_help / sizeof sub_help[0]; i++)
        if (!strcmp(sub_help[i].name, subs[which])) help = sub_help[i].text;
    assert(help != usage_text && "every wallet command has its help");
    opts o;
    if ((rc = parse(argc - 1, argv + 1, &o, help)) >= 0) return rc;
    gt_err err = {0};
    rc = gt_cli_home(o.home, o.home_path, sizeof o.home_path, &err);
    if (!rc) rc = fns[which](&o, &err);
    return rc ? gt_cli_fail(&err) : 0;
}

GT_CLI_COMMAND(wallet_cmd, "wallet", "keys: new, list, show, import, export, sign, verify", wallet_main)
