/* test_cli_help.c: the command line behaves like the tools people know:
 * --help and -h on every command and subcommand (exit 0, usage on stdout);
 * global options before or after the command; an unknown option or command
 * names the closest valid one; exit codes 0 success, 1 refused or failed,
 * 2 usage error, as `gotong --help` documents; a negative amount gets a
 * message that says so. */
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "cli_util.h"

/* Runs `gotong ARGS` with no --home added; returns the exit code. */
static int bare(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", GT_CLI, args, cli_out_path, cli_err_path);
    int st = system(cmd);
    gt_free(out_s);
    gt_free(err_s);
    size_t n;
    if (gt_file_read(cli_out_path, 1 << 22, (uint8_t **)&out_s, &n, NULL)) out_s = gt_strdup("");
    if (gt_file_read(cli_err_path, 1 << 22, (uint8_t **)&err_s, &n, NULL)) err_s = gt_strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Every command and subcommand, as a user would type it before --help. */
static const char *commands[] = {
    "agent", "agents", "balance", "chat", "demo", "init", "mint", "node", "run", "send", "stake", "unstake",
    "wallet", "wallet new", "wallet list", "wallet show", "wallet import", "wallet export", "wallet sign", "wallet verify",
    "data", "data job", "data job new", "data job list", "data job show", "data job run", "data job post",
    "data export", "data verify", "eval", "eval run", "eval benches", "eval leaderboard", "task", "task post", "task list",
    "task show", "task claim", "task submit", "task verify", "task settle", "task dispute", "task vote",
    "ledger", "ledger log", "ledger head", "ledger verify", "ledger submit", "model", "model info", "model list",
    "model random", "model quantize", "serve", "train", "completion", "completion bash",
    "tokenizer", "tokenizer train", "tokenizer import",
    "chain", "chain demo", "chain deploy", "chain pay", "chain hire", "chain post", "chain court",
    "chain court stake", "chain court exit", "chain court withdraw", "chain court status", "fund", "fund round-create",
    "fund round-enter",
    "fund contribute", "fund round-finalize", "fund round-show", "fund rounds", "fund issuer-register", "fund attest",
    "fund revoke", "fund human", "fund points-record", "fund epoch", "fund airdrop-fund", "fund airdrop-close",
    "fund claim", "fund issuer-leave", "fund issuer-withdraw", "label", "label join", "label reveal", "label post", "label close", "label tasks", "label show",
    "label export", NULL};

static void test_help_everywhere(void) {
    char args[256];
    for (int i = 0; commands[i]; i++) {
        for (int h = 0; h < 2; h++) {
            snprintf(args, sizeof args, "%s %s", commands[i], h ? "-h" : "--help");
            int rc = bare(args);
            CHECK_MSG(rc == 0, "gotong %s: exit %d: %s", args, rc, err_s);
            CHECK_MSG(strstr(out_s, "usage") != NULL, "gotong %s: no usage on stdout", args);
        }
    }
    /* every top-level command of `gotong --help` is in the list above */
    CHECK_EQ_INT(bare("--help"), 0);
    char *list = gt_strdup(out_s), *save = NULL, *cmds = strstr(list, "\ncommands:\n"), *end;
    CHECK(cmds != NULL);
    if (cmds && (end = strstr(cmds, "\n\n"))) *end = 0;
    for (char *l = cmds ? strtok_r(cmds + 11, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        char name[32];
        if (sscanf(l, " %31s", name) != 1) continue;
        int found = 0;
        for (int i = 0; commands[i]; i++) found |= !strcmp(commands[i], name);
        CHECK_MSG(found, "`gotong %s` is not in this test's list", name);
    }
    gt_free(list);
}

static void test_exit_codes(void) {
    CHECK_EQ_INT(bare(""), 2); /* no command: usage on stderr */
    CHECK_CONTAINS(err_s, "usage: gotong");
    CHECK_EQ_INT(bare("--help"), 0);
    CHECK_CONTAINS(out_s, "exit status: 0 success, 1 refused or failed, 2 usage error");
    CHECK_EQ_INT(bare("--version"), 0);
    /* usage errors: 2 */
    CHECK_EQ_INT(bare("balnce"), 2);
    CHECK_CONTAINS(err_s, "did you mean balance?");
    CHECK_EQ_INT(bare("run --modle m.gguf -p hi"), 2);
    CHECK_CONTAINS(err_s, "unknown option --modle (did you mean --model?)");
    CHECK_EQ_INT(bare("task post --bounty 1 --stake 1 --spek x"), 2);
    CHECK_CONTAINS(err_s, "did you mean --spec?");
    CHECK_EQ_INT(bare("node --listn 127.0.0.1:0"), 2);
    CHECK_CONTAINS(err_s, "did you mean --listen?");
    CHECK_EQ_INT(bare("wallet list --jsn"), 2);
    CHECK_CONTAINS(err_s, "did you mean --json?");
    CHECK_EQ_INT(bare("data job run"), 2);
    /* a misspelt flag last on the line is a typo, not a missing value */
    CHECK_EQ_INT(bare("data job show 0123456789abcdef --jsn"), 2);
    CHECK_CONTAINS(err_s, "unknown option --jsn (did you mean --json?)");
    CHECK_EQ_INT(bare("run -p hi -m"), 2);
    CHECK_CONTAINS(err_s, "-m needs a value");
    CHECK_EQ_INT(bare("task claim 0x00 --frm"), 2);
    CHECK_CONTAINS(err_s, "did you mean --from?");
    CHECK_EQ_INT(bare("eval frobnicate"), 2);
    CHECK_EQ_INT(bare("--frobnicate balance"), 2);
    CHECK_EQ_INT(bare("send --to 0x000000000000000000000000000000000000dEaD 1.5x"), 2);
    CHECK_EQ_INT(bare("send --to 0x000000000000000000000000000000000000dEaD -3"), 2);
    CHECK_CONTAINS(err_s, "negative");
    CHECK_EQ_INT(bare("task post --bounty -1 --stake 1 --spec x"), 2);
    CHECK_CONTAINS(err_s, "--bounty -1: amounts cannot be negative");
    /* whole numbers: one parser (base/num.h) for every command, so "", "-1",
     * "1e3" and a value past the range are refused alike, naming the range
     * (strtoull took "" as 0 and "-1" as 2^64-1 in `ledger log`) */
    const char *nums[] = {"ledger log --from ''", "ledger log --from -1", "ledger log --to 1e3",
                          "demo --rounds 21", "demo --threads ' 2'", "run -p hi -n -1", "eval run --limit +5",
                          "data job run x --batches 0", "init --chain-id 0", "model random --dim 0x40",
                          "agent --threads 99999999999999999999999", "task list --limit 1.5"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        CHECK_MSG(bare(nums[i]) == 2, "%s", nums[i]);
        CHECK_MSG(strstr(err_s, ": expected an integer ") != NULL, "%s: %s", nums[i], err_s);
    }
    /* the table-driven parser (cli_opt.c; demo, eval run): --name=value as
     * --name value, exact names only (getopt took the prefix --round for
     * --rounds), a flag takes no value, positional arguments refused */
    CHECK_EQ_INT(bare("demo --rounds=0"), 2);
    CHECK_CONTAINS(err_s, "--rounds: expected an integer 1..20, got \"0\"");
    CHECK_EQ_INT(bare("demo --round 2"), 2);
    CHECK_CONTAINS(err_s, "unknown option --round (did you mean --rounds?)");
    CHECK_EQ_INT(bare("demo --json=1"), 2);
    CHECK_CONTAINS(err_s, "--json takes no value");
    CHECK_EQ_INT(bare("demo extra"), 2);
    CHECK_CONTAINS(err_s, "unexpected argument \"extra\"");
    CHECK_EQ_INT(bare("eval run -m x.gguf --bench logic-v1 --limit=abc"), 2);
    CHECK_CONTAINS(err_s, "--limit: expected an integer 1..");
    CHECK_EQ_INT(bare("eval run --bench logic-v1 -t"), 2);
    CHECK_CONTAINS(err_s, "-t needs a value");
    CHECK_EQ_INT(bare("data job run a b c d e"), 2); /* data: four positional arguments at most */
    CHECK_CONTAINS(err_s, "unexpected argument \"e\"");
    CHECK_EQ_INT(bare("data job run x --batches=0"), 2);
    CHECK_CONTAINS(err_s, "--batches: expected an integer 1..");
    CHECK_EQ_INT(bare("data job show -h"), 0); /* data takes --help itself and prints its usage */
    CHECK_CONTAINS(out_s, "usage: gotong data job");
    /* task: amounts (with --name=value), a repeatable --prompt with its cap, one task id */
    CHECK_EQ_INT(bare("task post --bounty=-1 --stake 1 --spec x"), 2);
    CHECK_CONTAINS(err_s, "--bounty -1: amounts cannot be negative");
    CHECK_EQ_INT(bare("task show 0x01 0x02"), 2);
    CHECK_CONTAINS(err_s, "unexpected argument \"0x02\"");
    char many[1024] = "task post --bounty 1 --stake 1 --model m.gguf";
    for (int k = 0; k < 65; k++) /* one more than TASK_MAX_PROMPTS (64) */
        snprintf(many + strlen(many), sizeof many - strlen(many), " --prompt %d", k);
    CHECK_EQ_INT(bare(many), 2);
    CHECK_CONTAINS(err_s, "at most 64 --prompt");
    CHECK_EQ_INT(bare("task list --slot=x"), 2);
    CHECK_CONTAINS(err_s, "--slot: expected an integer 0..");
    CHECK_EQ_INT(bare("eval run --model=/nonexistent.gguf --bench=logic-v1 --limit=2"), 1); /* parsed; the file fails */
    CHECK_CONTAINS(err_s, "/nonexistent.gguf");
    /* refused or failed: 1 */
    char args[1024];
    snprintf(args, sizeof args, "balance --home %s/nowhere", cli_tmp);
    CHECK_EQ_INT(bare(args), 1);
    CHECK_EQ_INT(bare("model info /nonexistent.gguf"), 1);
}

/* `gotong train` and `gotong tokenizer` on the one parser and dispatcher
 * (they had their own loops): --name=value, the closest option named, a
 * missing value told, a subcommand's typo named, positional words refused;
 * train's numbers keep their range messages. Nothing here trains. */
static void test_train_on_the_parser(void) {
    CHECK_EQ_INT(bare("train --data=x --vocab=y --out=z --dim=33x"), 2);
    CHECK_CONTAINS(err_s, "--dim: expected an integer 32.."); /* the one wording of every command */
    CHECK_EQ_INT(bare("train --data x --vocab y -o z --lr=2"), 2);
    CHECK_CONTAINS(err_s, "--lr: expected a number in [1e-08, 1], got \"2\"");
    CHECK_EQ_INT(bare("train --data x --vocab y -o z --seed -1"), 2);
    CHECK_CONTAINS(err_s, "--seed: expected an integer 0..2147483647");
    CHECK_EQ_INT(bare("train --data x --vocab y -o z --chekpoint c.ckpt"), 2);
    CHECK_CONTAINS(err_s, "unknown option --chekpoint (did you mean --checkpoint?)");
    CHECK_EQ_INT(bare("train --data x --vocab y -o z --clip"), 2);
    CHECK_CONTAINS(err_s, "--clip needs a value");
    CHECK_EQ_INT(bare("train --data x --vocab y -o z extra"), 2);
    CHECK_CONTAINS(err_s, "unexpected argument \"extra\"");
    CHECK_EQ_INT(bare("train --data x --from m.gguf -o z --dim 64"), 2);
    CHECK_CONTAINS(err_s, "--from's model has its shapes");
    CHECK_EQ_INT(bare("train --data x --vocab y -o z --lr 1e-3 --min-lr 1e-2"), 2);
    CHECK_CONTAINS(err_s, "--min-lr 0.01 is above --lr 0.001");
    CHECK_EQ_INT(bare("train --data=/nonexistent.txt --vocab=/nonexistent.gguf --out=z"), 1); /* parsed; fails */
    CHECK_CONTAINS(err_s, "/nonexistent.gguf");
    CHECK_EQ_INT(bare("tokenizer"), 2);
    CHECK_CONTAINS(err_s, "usage: gotong tokenizer train");
    CHECK_EQ_INT(bare("tokenizer trian --corpus x -o y"), 2);
    CHECK_CONTAINS(err_s, "unknown tokenizer command \"trian\" (did you mean train?)");
    CHECK_EQ_INT(bare("tokenizer train --corpus x --out=y --vocab-size=100"), 2);
    CHECK_CONTAINS(err_s, "--vocab-size: expected an integer");
    CHECK_EQ_INT(bare("tokenizer train --corpus x --ouy y"), 2);
    CHECK_CONTAINS(err_s, "did you mean --out?");
    CHECK_EQ_INT(bare("tokenizer train --corpus /nonexistent.txt --out=y"), 1);
    CHECK_CONTAINS(err_s, "/nonexistent.txt");
    CHECK_EQ_INT(bare("tokenizer import --tokenizer-json x.json"), 2);
    CHECK_CONTAINS(err_s, "--tokenizer-json and -o are required");
    CHECK_EQ_INT(bare("tokenizer import --tokenizer-json /nonexistent.json -o y.gguf"), 1);
    CHECK_CONTAINS(err_s, "--tokenizer-json: ");
    CHECK_CONTAINS(err_s, "/nonexistent.json");
}

/* Global options work before the command as after it. */
static void test_global_options(void) {
    char args[1024];
    snprintf(args, sizeof args, "--home %s init --password-file %s --light", cli_home, cli_pwfile);
    CHECK_EQ_INT(bare(args), 0);
    snprintf(args, sizeof args, "--json --home %s balance", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    char *before = gt_strdup(out_s);
    CHECK(before[0] == '[');
    snprintf(args, sizeof args, "balance --home %s --json", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    CHECK_STR(out_s, before);
    snprintf(args, sizeof args, "balance --json --home=%s", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    CHECK_STR(out_s, before);
    gt_free(before);
    /* --home after a command that has no home of its own is accepted too */
    snprintf(args, sizeof args, "eval benches --home %s", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    /* a global option a command has no use for is refused by it, not ignored */
    snprintf(args, sizeof args, "--json node --home %s/nowhere --listen 127.0.0.1:0", cli_tmp);
    CHECK_EQ_INT(bare(args), 2);
    CHECK_CONTAINS(err_s, "gotong node takes no --json");
    CHECK_EQ_INT(bare("--node http://127.0.0.1:1 balance"), 2);
    CHECK_CONTAINS(err_s, "gotong balance takes no --node");
    CHECK_EQ_INT(bare("--json node --help"), 0); /* --help still wins */
    CHECK_CONTAINS(out_s, "usage: gotong node");
}

/* The global options are parsed by the one parser (cli_opt.c), not moved
 * around: the same errors as every command's options, --name=value, a value
 * checked, --node and --json before the command reaching the command's own
 * options (the command's own given after it win), --home between a command
 * and its subcommand. */
static void test_global_options_parsed(void) {
    CHECK_EQ_INT(bare("--nod http://127.0.0.1:1 task list"), 2);
    CHECK_CONTAINS(err_s, "unknown option --nod (did you mean --node?); see gotong --help");
    CHECK_EQ_INT(bare("--jsn balance"), 2);
    CHECK_CONTAINS(err_s, "did you mean --json?");
    CHECK_EQ_INT(bare("--home"), 2);
    CHECK_CONTAINS(err_s, "--home needs a value; see gotong --help");
    CHECK_EQ_INT(bare("--home= balance"), 2); /* "" is no directory: refused, not the default home */
    CHECK_CONTAINS(err_s, "--home needs a value");
    CHECK_EQ_INT(bare("balance --home ''"), 2); /* after the command too */
    CHECK_CONTAINS(err_s, "--home needs a value; see gotong balance --help");
    CHECK_EQ_INT(bare("--json=1 balance"), 2);
    CHECK_CONTAINS(err_s, "--json takes no value; see gotong --help");
    CHECK_EQ_INT(bare("--home /tmp"), 2); /* global options and no command: the usage, as an error */
    CHECK_CONTAINS(err_s, "usage: gotong");
    CHECK_EQ_INT(bare("help wallet"), 0); /* `gotong help ...`: the usage, asked for */
    CHECK_CONTAINS(out_s, "usage: gotong");
    CHECK_EQ_INT(bare("--version balance"), 0);
    CHECK_CONTAINS(out_s, "gotong 0.1.0");
    /* --node before the command is the command's --node; one after it wins */
    CHECK_EQ_INT(bare("--node=http://127.0.0.1:1 task list"), 1);
    CHECK_CONTAINS(err_s, "127.0.0.1:1");
    CHECK_EQ_INT(bare("--node http://127.0.0.1:1 task list --node http://127.0.0.1:2"), 1);
    CHECK_CONTAINS(err_s, "127.0.0.1:2");
    CHECK(strstr(err_s, "127.0.0.1:1") == NULL);
    /* --home between a command and its subcommand */
    char args[1024];
    snprintf(args, sizeof args, "wallet --home %s list --json", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    CHECK(out_s[0] == '{');
    snprintf(args, sizeof args, "--json wallet --home=%s list", cli_home);
    CHECK_EQ_INT(bare(args), 0);
    CHECK(out_s[0] == '{');
    CHECK_EQ_INT(bare("wallet --home"), 2);
    CHECK_CONTAINS(err_s, "--home needs a value; see gotong wallet --help");
    snprintf(args, sizeof args, "wallet --home %s", cli_home);
    CHECK_EQ_INT(bare(args), 2); /* no subcommand: the usage */
    CHECK_CONTAINS(err_s, "usage: gotong wallet");
    snprintf(args, sizeof args, "agent --home %s register --jsn", cli_home);
    CHECK_EQ_INT(bare(args), 2);
    CHECK_CONTAINS(err_s, "unknown option --jsn (did you mean --json?); see gotong agent --help");
}

int main(void) {
    if (cli_setup("gt-cli-help")) return 1;
    RUN(test_help_everywhere);
    RUN(test_exit_codes);
    RUN(test_train_on_the_parser);
    RUN(test_global_options);
    RUN(test_global_options_parsed);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}
