/* main.c: the `gotong` entry point: dispatches to registered subcommands. */
#include <assert.h>
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
            "  --node URL    the node to talk to, for commands that do (default http://127.0.0.1:8645)\n"
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

/* Global options, wherever they are: --home DIR (or --home=DIR) is taken out
 * of argv for gt_cli_home; --json and --node URL before the command move
 * after it, where the command's own parser takes them (and refuses them if
 * it has no use for them). The rewritten line goes to out (argc returned),
 * the command's name first; *cmd_at is NULL when there is no command.
 * Returns -1 after printing a usage error. */
static int global_options(int argc, char **argv, char **out, char **cmd_name) {
    char *moved[4];
    int n_moved = 0, n = 0;
    *cmd_name = NULL;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--home") || !strncmp(a, "--home=", 7)) {
            const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : NULL;
            if (!v || !*v) {
                fprintf(stderr, "error: --home needs a directory; see gotong --help\n");
                return -1;
            }
            gt_cli_set_global_home(v);
            continue;
        }
        if (*cmd_name) {
            out[n++] = a;
            continue;
        }
        if (!strcmp(a, "--json")) {
            moved[n_moved++] = a;
        } else if (!strcmp(a, "--node")) {
            if (i + 1 >= argc || n_moved + 2 > 4) {
                fprintf(stderr, "error: --node needs a URL; see gotong --help\n");
                return -1;
            }
            moved[n_moved++] = a, moved[n_moved++] = argv[++i];
        } else if (a[0] == '-' && strcmp(a, "-h") && strcmp(a, "--help") && strcmp(a, "--version")) {
            fprintf(stderr, "error: unknown global option %s; see gotong --help\n", a);
            return -1;
        } else {
            *cmd_name = a;
            out[n++] = a;
        }
        if (n_moved > 3) n_moved = 3; /* --json twice: once is enough */
    }
    for (int i = 0; i < n_moved; i++) out[n++] = moved[i];
    out[n] = NULL;
    return n;
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
    if (register_rules()) return GT_CLI_EXIT_FAILED;
    char **av = calloc((size_t)argc + 2, sizeof *av);
    if (!av) return GT_CLI_EXIT_FAILED;
    char *name;
    int ac = global_options(argc, argv, av, &name);
    int code;
    if (ac < 0) {
        code = GT_CLI_EXIT_USAGE;
    } else if (!name || !strcmp(name, "help")) {
        /* `gotong` alone: usage on stderr, exit 2; asked for: stdout, 0. */
        int asked = name || argc > 1;
        usage(asked ? stdout : stderr);
        code = asked ? GT_CLI_EXIT_OK : GT_CLI_EXIT_USAGE;
    } else if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        code = GT_CLI_EXIT_OK;
    } else if (!strcmp(name, "--version")) {
        printf("gotong 0.1.0\n");
        code = GT_CLI_EXIT_OK;
    } else {
        const gt_cli_cmd *c = find_cmd(name);
        code = c ? c->fn(ac, av) : unknown_cmd(name);
        if (code == 0 && gt_cli_json_failed()) code = GT_CLI_EXIT_FAILED;
    }
    free(av);
    return code;
}
