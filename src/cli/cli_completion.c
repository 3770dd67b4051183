/* cli_completion.c: `gotong completion bash` prints a bash completion
 * script made from the commands' own tables: the registered commands
 * (main.c), the subcommands each finds with gt_cli_subcommand and the
 * options each parses with gt_cli_parse, all read in describe mode
 * (cli_opt.c). A command that gains an option gains its completion; nothing
 * is listed by hand. */
#include <assert.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/cli.h"

/* Deepest command path described ("data job post" is 3 words). */
#define COMPLETION_MAX_DEPTH 3
/* Most arguments one described command line has (the path and --help). */
#define COMPLETION_MAX_ARGS (COMPLETION_MAX_DEPTH + 2)

static const char *usage_text =
    "usage: gotong completion bash\n\n"
    "Prints a bash completion script for gotong's commands, subcommands and options,\n"
    "made from the same tables the commands parse their options with. Use it with\n"
    "  source <(gotong completion bash)\n"
    "or install it:\n"
    "  gotong completion bash > ~/.local/share/bash-completion/completions/gotong\n";

/* One described command path: its words and what it takes. */
typedef struct described_path {
    char path[128]; /* "data job post"; "" for gotong itself */
    gt_cli_described d;
} described_path;

typedef struct completion {
    described_path *paths;
    size_t n, cap;
} completion;

/* Runs command c in describe mode on argv {words..., "--help"}, with stdout
 * sent to /dev/null (a command not yet on the table-driven parser prints its
 * help there instead), and records what it told. */
static int describe(const gt_cli_cmd *c, char **words, int n_words, gt_cli_described *d) {
    assert(n_words >= 1 && n_words <= COMPLETION_MAX_DEPTH);
    char *argv[COMPLETION_MAX_ARGS + 1];
    for (int i = 0; i < n_words; i++) argv[i] = words[i];
    argv[n_words] = "--help";
    argv[n_words + 1] = NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null_fd = open("/dev/null", O_WRONLY);
    if (saved < 0 || null_fd < 0) {
        if (saved >= 0) close(saved);
        if (null_fd >= 0) close(null_fd);
        return -1;
    }
    dup2(null_fd, STDOUT_FILENO);
    close(null_fd);
    gt_cli_describe(d);
    c->fn(n_words + 1, argv);
    gt_cli_describe(NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return 0;
}

/* Describes the path words[0..n_words) of command c and, depth first, each
 * of its subcommands. */
static int walk(completion *cp, const gt_cli_cmd *c, char **words, int n_words) {
    if (cp->n == cp->cap) {
        size_t cap = cp->cap ? cp->cap * 2 : 64;
        described_path *p = gt_realloc(cp->paths, cap * sizeof *p);
        if (!p) return -1;
        cp->paths = p, cp->cap = cap;
    }
    described_path *dp = &cp->paths[cp->n];
    dp->path[0] = 0;
    for (int i = 0; i < n_words; i++) {
        size_t len = strlen(dp->path);
        snprintf(dp->path + len, sizeof dp->path - len, "%s%s", i ? " " : "", words[i]);
    }
    if (describe(c, words, n_words, &dp->d)) return -1;
    cp->n++;
    if (n_words == COMPLETION_MAX_DEPTH || !dp->d.subs[0]) return 0;
    char subs[GT_CLI_DESCRIBE_MAX_BYTES], *save = NULL;
    memcpy(subs, dp->d.subs, sizeof subs); /* dp moves when paths grows */
    for (char *w = strtok_r(subs, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        words[n_words] = w;
        if (walk(cp, c, words, n_words + 1)) return -1;
    }
    return 0;
}

/* Prints one bash function that maps a command path to a word list. */
static void print_case(FILE *f, const char *fn, const completion *cp, const char *top, size_t field) {
    fprintf(f, "%s() {\n    case \"$1\" in\n    \"\") echo \"%s\" ;;\n", fn, top);
    for (size_t i = 0; i < cp->n; i++) {
        const char *words = (const char *)&cp->paths[i].d + field;
        if (words[0]) fprintf(f, "    \"%s\") echo \"%s\" ;;\n", cp->paths[i].path, words);
    }
    fprintf(f, "    esac\n}\n");
}

/* The part of the script that does not depend on the commands. */
static const char *script_tail =
    "_gotong() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\" path=\"\" w i\n"
    "    ((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
    "    # the command path: the words that name a subcommand of the path so far;\n"
    "    # an option's value is skipped, other words are positional arguments\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        w=${COMP_WORDS[i]}\n"
    "        if [[ $w == -* ]]; then\n"
    "            [[ $w != *=* && \" $(_gotong_value_opts \"$path\") \" == *\" $w \"* ]] && ((i++))\n"
    "        elif [[ \" $(_gotong_subs \"$path\") \" == *\" $w \"* ]]; then\n"
    "            path=${path:+$path }$w\n"
    "        fi\n"
    "    done\n"
    "    if [[ $prev == -* && \" $(_gotong_value_opts \"$path\") \" == *\" $prev \"* ]]; then\n"
    "        COMPREPLY=($(compgen -f -- \"$cur\"))  # a value: a file, a number, an address\n"
    "    elif [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$(_gotong_opts \"$path\")\" -- \"$cur\"))\n"
    "    else\n"
    "        COMPREPLY=($(compgen -W \"$(_gotong_subs \"$path\")\" -- \"$cur\"))\n"
    "        [[ ${#COMPREPLY[@]} -eq 0 && -z $(_gotong_subs \"$path\") ]] && COMPREPLY=($(compgen -f -- \"$cur\"))\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "complete -F _gotong gotong\n";

/* Prints the bash script for every registered command. */
static int print_bash(FILE *f) {
    completion cp = {0};
    char *names = NULL;
    size_t names_len = 0;
    FILE *nf = open_memstream(&names, &names_len);
    int rc = nf ? 0 : -1;
    for (int i = 0; !rc && i < gt_cli_command_count(); i++) {
        const gt_cli_cmd *c = gt_cli_command_at(i);
        char *words[COMPLETION_MAX_DEPTH + 1] = {(char *)c->name};
        fprintf(nf, "%s%s", i ? " " : "", c->name);
        rc = walk(&cp, c, words, 1);
    }
    if (nf) fclose(nf);
    if (!rc) {
        fprintf(f, "# bash completion for gotong, made by `gotong completion bash` from the commands'\n"
                   "# own option tables. Use: source <(gotong completion bash)\n");
        print_case(f, "_gotong_subs", &cp, names, offsetof(gt_cli_described, subs));
        print_case(f, "_gotong_opts", &cp, GT_CLI_GLOBAL_OPTS, offsetof(gt_cli_described, opts));
        print_case(f, "_gotong_value_opts", &cp, GT_CLI_GLOBAL_VALUE_OPTS, offsetof(gt_cli_described, value_opts));
        fputs(script_tail, f);
    }
    free(names);
    gt_free(cp.paths);
    return rc;
}

static int cmd_completion(int argc, char **argv) {
    static const char *const shells[] = {"bash", NULL};
    int which;
    int rc = gt_cli_subcommand_text("completion", argc, argv, shells, usage_text, &which);
    if (rc >= 0) return rc;
    const gt_cli_opt opts[] = {{NULL, NULL, 0, NULL, 0, 0, NULL}};
    rc = gt_cli_parse_text("completion", argc - 1, argv + 1, 1, opts, NULL, 0, NULL, usage_text);
    if (rc >= 0) return rc;
    if (print_bash(stdout)) {
        fprintf(stderr, "error: out of memory\n");
        return GT_CLI_EXIT_FAILED;
    }
    return GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(completion_cmd, "completion", "print a bash completion script (source <(gotong completion bash))",
               cmd_completion)
