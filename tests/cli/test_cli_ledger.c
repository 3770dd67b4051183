/* test_cli_ledger.c: the money commands end to end, driving the `gotong`
 * binary: init, mint, send, stake, unstake, balance, ledger log / head /
 * verify / submit, and their refusals and usage errors. */
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include <jansson.h>
#include <sqlite3.h>

static char tmp[] = "/tmp/gt-cli-ledger-XXXXXX";
static char home[256], pwfile[300], out_path[300], err_path[300];
static char *out_s, *err_s; /* last command's stdout / stderr */

/* Runs `gotong ARGS --home HOME`; captures stdout/stderr; returns the exit
 * code. setsid: no terminal, so a password prompt fails instead of waiting. */
static int gotong(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "setsid -w %s %s --home %s >%s 2>%s </dev/null", GT_CLI, args, home, out_path,
             err_path);
    int st = system(cmd);
    gt_free(out_s);
    gt_free(err_s);
    size_t n;
    if (gt_file_read(out_path, 1 << 22, (uint8_t **)&out_s, &n, NULL)) out_s = gt_strdup("");
    if (gt_file_read(err_path, 1 << 22, (uint8_t **)&err_s, &n, NULL)) err_s = gt_strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

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
    snprintf(args, sizeof args, "init --password-file %s --light --chain-id 4242 --unbonding-blocks 2", pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "chain id   4242");
    CHECK_EQ_INT(gotong(args), 1); /* a second init refuses */
    CHECK_CONTAINS(err_s, "already holds a ledger");
    CHECK_EQ_INT(gotong("balance --json"), 0);
    first_address(auth);
    CHECK(strlen(auth) == 42);
    snprintf(args, sizeof args, "mint --to %s 100 --password-file %s", auth, pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "applied in block 1");
    snprintf(args, sizeof args, "send --to %s 1.5 --password-file %s --json", DEAD, pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "\"ok\":true");
    snprintf(args, sizeof args, "balance %s", DEAD);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "balance 1.5 ");
    /* refusals say why */
    snprintf(args, sizeof args, "send --to %s 1000 --password-file %s", DEAD, pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "has 98.5, needs 1000");
    snprintf(args, sizeof args, "send --to %s 1.1234567 --password-file %s", DEAD, pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "more than 6 decimals");
    snprintf(args, sizeof args, "send --to 0x000000000000000000000000000000000000DEAd 1 --password-file %s", pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "checksum");
    CHECK_EQ_INT(gotong("send 1"), 2);
    CHECK_CONTAINS(err_s, "--to ADDRESS is required");
    snprintf(args, sizeof args, "send --to %s 1", DEAD); /* no password and no terminal */
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "password");
    CHECK_EQ_INT(gotong("send --help"), 0);
    CHECK_CONTAINS(out_s, "usage: gotong send");
    /* stake and unstake */
    snprintf(args, sizeof args, "stake 10 --password-file %s", pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    snprintf(args, sizeof args, "unstake 4 --password-file %s", pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(gotong("balance --json"), 0);
    CHECK_CONTAINS(out_s, "\"staked\":\"6\"");
    CHECK_CONTAINS(out_s, "\"unbonding\":\"4\"");
    snprintf(args, sizeof args, "unstake 7 --password-file %s", pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "insufficient stake");
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
        snprintf(path, sizeof path, "%s/replay.json", tmp);
        CHECK_EQ_INT(gt_file_write_atomic(path, line, strlen(line), 0600, NULL), 0);
        char args[400];
        snprintf(args, sizeof args, "ledger submit %s", path);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "already used");
        snprintf(path, sizeof path, "%s/bad.json", tmp);
        CHECK_EQ_INT(gt_file_write_atomic(path, "{\"type\":\"transfer\",\n\"from\":}", 27, 0600, NULL), 0);
        snprintf(args, sizeof args, "ledger submit %s", path);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "line 2");
    }
    CHECK_EQ_INT(gotong("ledger frobnicate"), 2);
    CHECK_CONTAINS(err_s, "unknown subcommand");
    /* a damaged ledger fails verification */
    sqlite3 *db;
    char dbp[300];
    snprintf(dbp, sizeof dbp, "%s/ledger.db", home);
    CHECK_EQ_INT(sqlite3_open(dbp, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE accounts SET balance=balance+1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(gotong("ledger verify"), 1);
    CHECK_CONTAINS(err_s, "accounts differ");
}

int main(void) {
    if (!mkdtemp(tmp)) return 1;
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(pwfile, sizeof pwfile, "%s/pw", tmp);
    snprintf(out_path, sizeof out_path, "%s/out", tmp);
    snprintf(err_path, sizeof err_path, "%s/err", tmp);
    if (gt_file_write_atomic(pwfile, "secret\n", 7, 0600, NULL)) return 1;
    RUN(test_init_mint_send);
    RUN(test_log_verify_submit);
    gt_free(out_s);
    gt_free(err_s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) return 1;
    return gt_test_finish();
}
