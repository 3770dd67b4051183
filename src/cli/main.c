/* main.c: the `gotong` entry point: dispatches to registered subcommands. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fund/fund.h"
#include "work/work.h"

#define MAX_CMDS 64

static const gt_cli_cmd *cmds[MAX_CMDS];
static int n_cmds;

void gt_cli_register(const gt_cli_cmd *cmd) {
    if (n_cmds == MAX_CMDS) {
        fprintf(stderr, "internal: too many CLI commands\n");
        abort();
    }
    cmds[n_cmds++] = cmd;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const gt_cli_cmd *const *)a)->name, (*(const gt_cli_cmd *const *)b)->name);
}

/* Sorts the commands by name once, for the help and the completion. */
static void sort_cmds(void) {
    static int sorted;
    if (!sorted) qsort(cmds, (size_t)n_cmds, sizeof cmds[0], by_name);
    sorted = 1;
}

int gt_cli_command_count(void) { return n_cmds; }

const gt_cli_cmd *gt_cli_command_at(int i) {
    assert(i >= 0 && i < n_cmds);
    sort_cmds();
    return cmds[i];
}

static void usage(FILE *f) {
    fprintf(f,
            "gotong: AI agents with wallets hire each other, stake on their work and are paid\n"
            "when it is verified.\n\n"
            "usage: gotong [global options] COMMAND [options]   (gotong COMMAND --help for each)\n\n"
            "commands:\n");
    sort_cmds();
    for (int i = 0; i < n_cmds; i++) fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
    fprintf(f,
            "\nglobal options (before or after the command):\n"
            "  --home DIR    data directory (default $GOTONG_HOME, else ~/.gotong)\n"
            "  --node URL    the node to talk to, for commands that do\n"
            "                (default $GOTONG_NODE, else http://127.0.0.1:8645)\n"
            "  --json        machine-readable output, for commands that offer it\n"
            "  -h, --help    help (of a command: gotong COMMAND --help)\n"
            "  --version     the version\n\n"
            "exit status: 0 success, 1 refused or failed, 2 usage error (a bad command line)\n");
}

/* The command named name, or NULL. */
static const gt_cli_cmd *find_cmd(const char *name) {
    for (int i = 0; i < n_cmds; i++)
        if (!strcmp(cmds[i]->name, name)) return cmds[i];
    return NULL;
}

/* An unknown command: names the closest one when it looks like a typo. */
static int unknown_cmd(const char *name) {
    const char *names[MAX_CMDS];
    for (int i = 0; i < n_cmds; i++) names[i] = cmds[i]->name;
    const char *near = gt_cli_closest(name, names, (size_t)n_cmds);
    if (near) fprintf(stderr, "error: unknown command \"%s\" (did you mean %s?); see gotong --help\n", name, near);
    else fprintf(stderr, "error: unknown command \"%s\"; see gotong --help\n", name);
    return GT_CLI_EXIT_USAGE;
}

/* The global options (usage() lists them), parsed by the one parser
 * (cli_opt.c): before the command with this table, stopping at the
 * command's name; --home is taken after the command too, by every
 * command's parser (gt_cli_parse_anywhere); --json and --node URL given
 * before the command are handed to the command's parser, which takes them
 * as if given after it or refuses them when it has no use for them. */
static const char *global_home, *global_node;
static int global_json, global_version;
#define GLOBAL_HOME_OPT {"--home", NULL, GT_CLI_OPT_STR, &global_home, 1, 0, NULL} /* lo 1: not "" */
static const gt_cli_opt global_opts[] = {GLOBAL_HOME_OPT,
                                         {"--node", NULL, GT_CLI_OPT_STR, &global_node, 1, 0, NULL},
                                         {"--json", NULL, GT_CLI_OPT_FLAG, &global_json, 0, 0, NULL},
                                         {"--version", NULL, GT_CLI_OPT_FLAG, &global_version, 0, 0, NULL},
                                         {NULL, NULL, 0, NULL, 0, 0, NULL}};
static const gt_cli_opt anywhere_opts[] = {GLOBAL_HOME_OPT, {NULL, NULL, 0, NULL, 0, 0, NULL}};

const char *gt_cli_global_home(void) { return global_home; }

/* Parses the global options before the command (*cmd_at: the command's
 * index, argc when none) and sets up the rest for the command's parser.
 * Returns -1 to go on, else the exit code. */
static int global_options(int argc, char **argv, int *cmd_at) {
    int rc = gt_cli_parse_globals(argc, argv, global_opts, usage, cmd_at);
    if (rc >= 0) return rc;
    gt_cli_parse_anywhere(anywhere_opts);
    if (global_json) gt_cli_pass_on("--json", NULL);
    if (global_node) gt_cli_pass_on("--node", global_node);
    return -1;
}

/* Registers every action kind and ledger module the CLI may meet in a ledger
 * (core rules, the market, the work layer's attestations and datasets, the
 * fund module's rounds, attestations of humans and airdrops), so any command
 * can read, verify or submit any action. */
static int register_rules(void) {
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "internal: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (register_rules()) return GT_CLI_EXIT_FAILED;
    int at, code = global_options(argc, argv, &at);
    if (code >= 0) return code; /* -h/--help (0) or a usage error (2) */
    const char *name = at < argc ? argv[at] : NULL;
    if (global_version) {
        printf("gotong 0.1.0\n");
        return GT_CLI_EXIT_OK;
    }
    if (!name || !strcmp(name, "help")) {
        /* `gotong` alone (or with only global options): usage on stderr,
         * exit 2; `gotong help`: asked for, so stdout and 0. */
        usage(name ? stdout : stderr);
        return name ? GT_CLI_EXIT_OK : GT_CLI_EXIT_USAGE;
    }
    const gt_cli_cmd *c = find_cmd(name);
    if (!c) return unknown_cmd(name);
    code = c->fn(argc - at, argv + at); /* argv[0] is the command's name */
    /* every command parses its line first, so nothing passed on is left */
    assert(code != GT_CLI_EXIT_OK || !gt_cli_passed_pending());
    if (code == GT_CLI_EXIT_OK && gt_cli_json_failed()) code = GT_CLI_EXIT_FAILED;
    return code;
}
