/* test_cli_ledger.c: the money commands end to end, driving the `gotong`
 * binary: init, mint, send, stake, unstake, balance, ledger log / head /
 * verify / submit, and their refusals and usage errors. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "cli_util.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include <jansson.h>
#include <sqlite3.h>



/* Reads the "address" of the first entry of `balance --json`. */
static void first_address(char out[64]) {
    out[0] = 0;
    json_error_t je;
    json_t *j = json_loads(out_s, 0, &je);
    json_t *a = json_object_get(json_array_get(j, 0), "address");
    if (json_is_string(a)) snprintf(out, 64, "%s", json_string_value(a));
    json_decref(j);
}

static const char *DEAD = "0x000000000000000000000000000000000000dEaD";

static void test_init_mint_send(void) {
    char args[512], auth[64];
    snprintf(args, sizeof args, "init --password-file %s --light --chain-id 4242 --unbonding-blocks 2", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "chain id   4242");
    CHECK_EQ_INT(gotong(args), 1); /* a second init refuses */
    CHECK_CONTAINS(err_s, "already holds a ledger");
    CHECK_EQ_INT(gotong("balance --json"), 0);
    first_address(auth);
    CHECK(strlen(auth) == 42);
    snprintf(args, sizeof args, "mint --to %s 100 --password-file %s", auth, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "applied in block 1");
    snprintf(args, sizeof args, "send --to %s 1.5 --password-file %s --json", DEAD, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"ok\":true");
    snprintf(args, sizeof args, "balance %s", DEAD);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "balance 1.5 ");
    /* refusals say why */
    snprintf(args, sizeof args, "send --to %s 1000 --password-file %s", DEAD, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "has 98.5, needs 1000");
    /* a malformed amount or address is a usage error: exit 2 */
    snprintf(args, sizeof args, "send --to %s 1.1234567 --password-file %s", DEAD, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "more than 6 decimals");
    snprintf(args, sizeof args, "send --to %s -1 --password-file %s", DEAD, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "negative");
    snprintf(args, sizeof args, "stake --password-file %s -- -5", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "amounts cannot be negative");
    snprintf(args, sizeof args, "send --to 0x000000000000000000000000000000000000DEAd 1 --password-file %s", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "checksum");
    CHECK_EQ_INT(gotong("send 1"), 2);
    CHECK_CONTAINS(err_s, "--to ADDRESS is required");
    snprintf(args, sizeof args, "send --to %s 1", DEAD); /* no password and no terminal */
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "password");
    CHECK_EQ_INT(gotong("send --help"), 0);
    CHECK_CONTAINS(out_s, "usage: gotong send");
    /* stake and unstake */
    snprintf(args, sizeof args, "stake 10 --password-file %s", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    snprintf(args, sizeof args, "unstake 4 --password-file %s", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(gotong("balance --json"), 0);
    CHECK_CONTAINS(out_s, "\"staked\":\"6000000\""); /* --json: base units, as the API */
    CHECK_CONTAINS(out_s, "\"unbonding\":\"4000000\"");
    CHECK_EQ_INT(gotong("balance"), 0); /* for people: tokens and the symbol */
    CHECK_CONTAINS(out_s, "staked 6 GOT  escrow 0 GOT  unbonding 4 GOT");
    snprintf(args, sizeof args, "unstake 7 --password-file %s", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "insufficient stake");
}

/* Decodes field `key` ("0x" + 64 hex) of the "block" object of the JSON line
 * at the start of `json`: 0, or -1 when missing or malformed. */
static int block_field32(const char *json, const char *key, uint8_t out[32]) {
    json_error_t je;
    json_t *j = json_loads(json, JSON_DISABLE_EOF_CHECK, &je);
    const char *v = json_string_value(json_object_get(json_object_get(j, "block"), key));
    int rc = v && strlen(v) == 66 && !strncmp(v, "0x", 2) ? gt_hex_decode(v + 2, out, 32, key, NULL) : -1;
    json_decref(j);
    return rc ? -1 : 0;
}

/* `ledger head` shows the draw seed the head reveals and its anchor, as
 * GET /v1/head does: the stored ones, and keccak256(seed) is the seed of
 * the block before (all in the first segment here, so one anchor). */
static void test_head_seed(void) {
    uint8_t seed[32], anchor[32], prev_seed[32], prev_anchor[32], hashed[32];
    CHECK_EQ_INT(gotong("ledger head --json"), 0);
    CHECK_EQ_INT(block_field32(out_s, "seed", seed), 0);
    CHECK_EQ_INT(block_field32(out_s, "seedAnchor", anchor), 0);
    CHECK_CONTAINS(out_s, "\"height\":4");
    CHECK_EQ_INT(gotong("ledger log --from 3 --to 3 --json"), 0);
    CHECK_EQ_INT(block_field32(out_s, "seed", prev_seed), 0);
    CHECK_EQ_INT(block_field32(out_s, "seedAnchor", prev_anchor), 0);
    gt_keccak256(seed, 32, hashed);
    CHECK(memcmp(hashed, prev_seed, 32) == 0);
    CHECK(memcmp(anchor, prev_anchor, 32) == 0);
    CHECK(memcmp(seed, prev_seed, 32) != 0);
    /* the very bytes of the stored header */
    char dbp[300];
    snprintf(dbp, sizeof dbp, "%s/ledger.db", cli_home);
    gt_ledger *l = NULL;
    gt_block head;
    CHECK_EQ_INT(gt_ledger_open(dbp, GT_LEDGER_READONLY, &l, NULL), 0);
    CHECK_EQ_INT(l ? gt_ledger_head(l, &head, NULL) : -1, 0);
    gt_ledger_close(l);
    CHECK(l && head.height == 4 && !memcmp(head.seed, seed, 32) && !memcmp(head.seed_anchor, anchor, 32));
    /* for people: one line each, the same hex */
    char line[96];
    CHECK_EQ_INT(gotong("ledger head"), 0);
    snprintf(line, sizeof line, "  seed   0x");
    gt_hex_encode(seed, 32, line + strlen(line));
    CHECK_CONTAINS(out_s, line);
    snprintf(line, sizeof line, "  anchor 0x");
    gt_hex_encode(anchor, 32, line + strlen(line));
    CHECK_CONTAINS(out_s, line);
    CHECK_EQ_INT(gotong("ledger head --help"), 0);
    CHECK_CONTAINS(out_s, "draw");
}

static void test_log_verify_submit(void) {
    CHECK_EQ_INT(gotong("ledger head --json"), 0);
    CHECK_CONTAINS(out_s, "\"height\":4");
    CHECK_EQ_INT(gotong("ledger log --json"), 0);
    CHECK_CONTAINS(out_s, "\"type\":\"mint\"");
    CHECK_CONTAINS(out_s, "\"type\":\"unstake\"");
    CHECK_EQ_INT(gotong("ledger verify"), 0);
    CHECK_CONTAINS(out_s, "replayed 4 blocks and 4 actions");
    /* submit: the logged mint again (nonce used), then malformed input */
    CHECK_EQ_INT(gotong("ledger log --from 1 --to 1 --json"), 0);
    char *line = strstr(out_s, "\"action\":");
    CHECK(line != NULL);
    if (line) {
        line += strlen("\"action\":");
        char *end = strstr(line, "}}\n"); /* the action's brace, then the line's */
        if (end) end[1] = 0;
        char path[320];
        snprintf(path, sizeof path, "%s/replay.json", cli_tmp);
        CHECK_EQ_INT(gt_file_write_atomic(path, line, strlen(line), 0600, NULL), 0);
        char args[400];
        snprintf(args, sizeof args, "ledger submit %s", path);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "already used");
        snprintf(path, sizeof path, "%s/bad.json", cli_tmp);
        CHECK_EQ_INT(gt_file_write_atomic(path, "{\"type\":\"transfer\",\n\"from\":}", 27, 0600, NULL), 0);
        snprintf(args, sizeof args, "ledger submit %s", path);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "line 2");
    }
    CHECK_EQ_INT(gotong("ledger frobnicate"), 2);
    CHECK_CONTAINS(err_s, "unknown ledger command \"frobnicate\"");
    /* a damaged ledger fails verification */
    sqlite3 *db;
    char dbp[300];
    snprintf(dbp, sizeof dbp, "%s/ledger.db", cli_home);
    CHECK_EQ_INT(sqlite3_open(dbp, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE accounts SET balance=balance+1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(gotong("ledger verify"), 1);
    CHECK_CONTAINS(err_s, "accounts differ");
}

/* `ledger backup --no-secret`: a copy that verifies (saying it holds no
 * secret) and that no writer takes; the option belongs to backup only. */
static void test_backup_no_secret(void) {
    char args[2048], out[320], home3[320];
    snprintf(out, sizeof out, "%s/for-verify.db", cli_tmp);
    snprintf(args, sizeof args, "ledger backup %s --no-secret --json", out);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"secret\":false");
    CHECK_EQ_INT(gotong("ledger head --no-secret"), 2);
    CHECK_CONTAINS(err_s, "--no-secret is an option of backup only");
    snprintf(home3, sizeof home3, "%s/verifier", cli_tmp);
    snprintf(args, sizeof args, "mkdir %s && cp %s %s/ledger.db && cp -r %s/keystore %s/", home3, out, home3, cli_home,
             home3);
    CHECK_EQ_INT(system(args), 0);
    snprintf(args, sizeof args, "ledger verify --home %s", home3);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "holds no draw seed secret");
    snprintf(args, sizeof args, "ledger verify --home %s --json", home3);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"seedSecret\":false");
    snprintf(args, sizeof args, "--home %s send --to %s 1 --password-file %s", home3, DEAD, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "has no draw seed secret");
    /* A backup of that copy, with or without --no-secret, holds none either, and says so. */
    char again[320];
    snprintf(again, sizeof again, "%s/again.db", cli_tmp);
    snprintf(args, sizeof args, "--home %s ledger backup %s --json", home3, again);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"secret\":false"); /* was true */
    snprintf(again, sizeof again, "%s/again2.db", cli_tmp);
    snprintf(args, sizeof args, "--home %s ledger backup %s --no-secret", home3, again);
    CHECK_EQ_INT(gotong(args), 0); /* was refused: "no 32-byte seed secret to remove" */
    CHECK_CONTAINS(out_s, "holds no draw seed secret");
}

/* `ledger backup OUT`: a checked copy, mode 0600, that a home restored
 * from it replays in full; never over a file; OUT is needed. */
static void test_backup(void) {
    char args[2048], out[320], home2[320];
    snprintf(out, sizeof out, "%s/backup.db", cli_tmp);
    snprintf(args, sizeof args, "ledger backup %s", out);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "block 4, hash 0x");
    CHECK_CONTAINS(out_s, "keep it private");
    struct stat st;
    CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "never overwrites");
    CHECK_EQ_INT(gotong("ledger backup"), 2);
    CHECK_CONTAINS(err_s, "backup needs OUT");
    snprintf(home2, sizeof home2, "%s/restored", cli_tmp);
    snprintf(args, sizeof args, "mkdir %s && cp %s %s/ledger.db && %s ledger verify --home %s >/dev/null", home2, out,
             home2, GT_CLI, home2);
    CHECK_EQ_INT(system(args), 0);
    test_backup_no_secret();
}

int main(void) {
    if (cli_setup("gt-cli-ledger")) return 1;
    RUN(test_init_mint_send);
    RUN(test_head_seed);
    RUN(test_backup);
    RUN(test_log_verify_submit);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}
