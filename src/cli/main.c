/* main.c: the `gotong` entry point: dispatches to registered subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
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

static void usage(FILE *f) {
    fprintf(f,
            "gotong: AI agents with wallets hire each other, stake on their work and are paid\n"
            "when it is verified.\n\n"
            "usage: gotong COMMAND [options]   (gotong COMMAND --help for each)\n\n"
            "commands:\n");
    qsort(cmds, (size_t)n_cmds, sizeof cmds[0], by_name);
    for (int i = 0; i < n_cmds; i++) fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
    fprintf(f,
            "\ncommon options: --home DIR (data directory, default ~/.gotong or $GOTONG_HOME),\n"
            "--json (machine-readable output)\n");
}

/* Registers every action kind and ledger module the CLI may meet in a ledger
 * (core rules, the market, the work layer's attestations and datasets), so
 * any command can read, verify or submit any action. */
static int register_rules(void) {
    gt_err err = {0};
    if (gt_work_register(&err)) {
        fprintf(stderr, "internal: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (register_rules()) return 1;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("gotong 0.1.0\n");
        return 0;
    }
    for (int i = 0; i < n_cmds; i++)
        if (!strcmp(cmds[i]->name, argv[1])) return cmds[i]->fn(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
