/* cli_opt.c: the CLI's one option parser, its subcommand dispatcher, and
 * what both tell `gotong completion` (cli_completion.c).
 *
 * Each command states its options as a table (name, alias, kind, where the
 * value goes, range) and gets the same behaviour as every other: --help/-h,
 * "--name value" and "--name=value", "--" before arguments that start with
 * a dash, whole numbers through gt_parse_u64, an unknown option told with
 * the closest one in the table, a missing value told as such, extra
 * arguments refused. The bash completion is generated
 * from the same tables, so it cannot drift from what the commands accept.
 *
 * How to write a command (cli_chat.c, cli_tokenizer.c, ...):
 *
 *   static const char *usage_text = "usage: gotong chat -m MODEL [--temp T]\n...";
 *   static int cmd_chat(int argc, char **argv) {     // argv[0] is "chat"
 *       const char *model = NULL; float temp = 0.8f; int json = 0;
 *       const gt_cli_opt opts[] = {
 *           {"--model", "-m", GT_CLI_OPT_STR, &model, 0, 0, NULL},
 *           {"--temp", NULL, GT_CLI_OPT_FLOAT, &temp, 0, 0, NULL},
 *           {"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL},
 *           {NULL, NULL, 0, NULL, 0, 0, NULL}};
 *       int rc = gt_cli_parse_text("chat", argc, argv, 1, opts, NULL, 0, NULL, usage_text);
 *       if (rc >= 0) return rc;                      // --help (0) or a usage error (2)
 *       ...                                          // the options are in place
 *   }
 *   GT_CLI_COMMAND(chat_cmd, "chat", "one line for gotong --help", cmd_chat)
 *
 * Call the parser before doing anything else: `gotong completion` calls each
 * command with "--help" in describe mode, where the parser records the table
 * and returns 0. A command with subcommands finds its subcommand with
 * gt_cli_subcommand (names in a NULL-ended array) and then parses the
 * subcommand's options the same way (argv[0] the subcommand's name). Every
 * option in the table must be named in the usage text (the completion test
 * checks it). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void add_word(char *buf, size_t cap, const char *word);

/* Describe mode: where the parser and the dispatcher record what they
 * accept instead of parsing (NULL: off). */
static gt_cli_described *describing;

void gt_cli_describe(gt_cli_described *d) {
    if (d) memset(d, 0, sizeof *d);
    describing = d;
}

/* Records names as subcommands in describe mode (else nothing). */
void gt_cli_describe_subs(const char *const *names) {
    for (int i = 0; describing && names[i]; i++) add_word(describing->subs, sizeof describing->subs, names[i]);
}

/* Appends word to the space-separated list in buf (cap bytes); a list that
 * would overflow is a programming error (a limit to raise), not input. */
static void add_word(char *buf, size_t cap, const char *word) {
    size_t n = strlen(buf), w = strlen(word);
    assert(n + w + 2 <= cap && "raise GT_CLI_DESCRIBE_MAX_BYTES");
    if (n + w + 2 > cap) return;
    if (n) buf[n++] = ' ';
    memcpy(buf + n, word, w + 1);
}

/* Records opts (and -h/--help, unless the table has its own) in describe mode. */
static void describe_opts(const gt_cli_opt *opts) {
    gt_cli_described *d = describing;
    int own_help = 0;
    for (const gt_cli_opt *o = opts; o->name; o++) {
        own_help |= !strcmp(o->name, "--help");
        for (int k = 0; k < 2; k++) {
            const char *n = k ? o->alias : o->name;
            if (!n) continue;
            add_word(d->opts, sizeof d->opts, n);
            if (o->kind != GT_CLI_OPT_FLAG) add_word(d->value_opts, sizeof d->value_opts, n);
        }
    }
    if (!own_help) add_word(d->opts, sizeof d->opts, "--help -h");
}

/* The option of opts that arg names (exactly: no prefixes, so adding an
 * option never changes what an old command line means), or NULL. n is the
 * length of the name part of arg (before any '='). */
static const gt_cli_opt *find_opt(const gt_cli_opt *opts, const char *arg, size_t n) {
    for (const gt_cli_opt *o = opts; o->name; o++) {
        if (strlen(o->name) == n && !strncmp(o->name, arg, n)) return o;
        if (o->alias && strlen(o->alias) == n && !strncmp(o->alias, arg, n)) return o;
    }
    return NULL;
}

/* An option opts does not have: a negative number told as such, else the
 * closest name in the table. Returns 2. */
static int unknown_opt(const char *cmd, const gt_cli_opt *opts, const char *arg) {
    if (arg[0] == '-' && ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.'))
        return gt_cli_unknown_option_text(cmd, arg, ""); /* the one wording for negative numbers */
    const char *cands[GT_CLI_MAX_OPTS];
    size_t n = 0;
    for (const gt_cli_opt *o = opts; o->name && n + 2 <= GT_CLI_MAX_OPTS; o++) {
        cands[n++] = o->name;
        if (o->alias) cands[n++] = o->alias;
    }
    char name[64]; /* --opt=value: the name alone */
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    const char *near = gt_cli_closest(name, cands, n);
    if (near)
        fprintf(stderr, "error: unknown option %s (did you mean %s?); see gotong %s%s--help\n", arg, near,
                GT_CLI_SEE(cmd));
    else fprintf(stderr, "error: unknown option %s; see gotong %s%s--help\n", arg, GT_CLI_SEE(cmd));
    return GT_CLI_EXIT_USAGE;
}

/* Parses a number for a FLOAT option (what names it); 0 or the usage error. */
static int store_float(const char *cmd, const char *what, const char *v, float *out) {
    char *end;
    errno = 0;
    float f = strtof(v, &end);
    if (errno || end == v || *end) return gt_cli_usage_error(cmd, "%s: expected a number, got \"%.40s\"", what, v);
    *out = f;
    return 0;
}

/* Stores value v of option o (named as given: what) where the table says;
 * returns -1 (go on) or a usage error's exit code. */
static int store(const char *cmd, const gt_cli_opt *o, const char *what, const char *v) {
    if (o->given && o->kind != GT_CLI_OPT_LIST) *o->given = 1;
    switch (o->kind) {
    case GT_CLI_OPT_FLAG: *(int *)o->dest = 1; return -1;
    case GT_CLI_OPT_STR:
        if (strlen(v) < o->lo) return gt_cli_usage_error(cmd, "%s needs a value", what);
        *(const char **)o->dest = v;
        return -1;
    case GT_CLI_OPT_U64: {
        int rc = gt_cli_u64(cmd, what, v, o->lo, o->hi, (uint64_t *)o->dest);
        return rc ? rc : -1;
    }
    case GT_CLI_OPT_FLOAT: {
        int rc = store_float(cmd, what, v, (float *)o->dest);
        return rc ? rc : -1;
    }
    case GT_CLI_OPT_AMOUNT: {
        gt_err err = {0};
        if (gt_cli_amount(what, v, (uint64_t *)o->dest, &err)) return gt_cli_usage_error(cmd, "%s", err.msg);
        return -1;
    }
    case GT_CLI_OPT_LIST:
        assert(o->given);
        if ((uint64_t)*o->given >= o->hi) return gt_cli_usage_error(cmd, "at most %llu %s", (unsigned long long)o->hi, o->name);
        ((const char **)o->dest)[(*o->given)++] = v;
        return -1;
    }
    assert(0 && "unknown option kind");
    return GT_CLI_EXIT_USAGE;
}

/* Prints the usage (a function or text: exactly one of them) on f. */
static void print_usage(FILE *f, void (*usage)(FILE *), const char *usage_text) {
    assert(!usage != !usage_text);
    if (usage) usage(f);
    else fputs(usage_text, f);
}

/* Takes the option argv[*i] names (o; eq its '=', or NULL) and its value,
 * moving *i past a value given as the next argument. Returns -1 to go on,
 * else the exit code. */
static int take_opt(const char *cmd, int argc, char **argv, int *i, const gt_cli_opt *o, const char *eq,
                    void (*usage)(FILE *), const char *usage_text) {
    const char *a = argv[*i];
    if (o->kind == GT_CLI_OPT_FLAG) {
        if (eq) return gt_cli_usage_error(cmd, "%s takes no value", o->name);
        return store(cmd, o, o->name, NULL);
    }
    if (eq) return store(cmd, o, o->name, eq + 1);
    if (*i + 1 >= argc)
        return usage ? gt_cli_missing_value(cmd, a, usage) : gt_cli_missing_value_text(cmd, a, usage_text);
    (*i)++;
    return store(cmd, o, a, argv[*i]);
}

/* Global options every command's parser takes wherever they are (--home;
 * main.c sets them with gt_cli_parse_anywhere), or NULL. */
static const gt_cli_opt *anywhere;

/* Options given before the command, handed to the command's parser
 * (gt_cli_pass_on): a name and its value (NULL for a flag). */
#define CLI_MAX_PASSED 8
static struct {
    const char *name, *value;
} passed[CLI_MAX_PASSED];
static int n_passed;

void gt_cli_parse_anywhere(const gt_cli_opt *opts) { anywhere = opts; }

void gt_cli_pass_on(const char *name, const char *value) {
    assert(name && name[0] == '-');
    assert(n_passed < CLI_MAX_PASSED && "raise CLI_MAX_PASSED");
    if (n_passed < CLI_MAX_PASSED) passed[n_passed].name = name, passed[n_passed++].value = value;
}

int gt_cli_passed_pending(void) { return n_passed; }

/* Stores the options passed on from before the command into the table's
 * places, first, so those given after the command override them. *lacking
 * gets the name of the first one the table lacks (the caller refuses it
 * once the line is read, so --help still wins), else NULL. Returns -1, or
 * the exit code of a value the table refuses. */
static int take_passed(const char *cmd, const gt_cli_opt *opts, const char **lacking) {
    *lacking = NULL;
    int rc = -1;
    for (int k = 0; k < n_passed && rc < 0; k++) {
        const gt_cli_opt *o = find_opt(opts, passed[k].name, strlen(passed[k].name));
        if (!o || (o->kind == GT_CLI_OPT_FLAG) != !passed[k].value) {
            if (!*lacking) *lacking = passed[k].name;
            continue;
        }
        rc = store(cmd, o, passed[k].name, passed[k].value);
    }
    n_passed = 0;
    return rc;
}

/* A global option given before the command that the command has no use
 * for: refused, not ignored. Returns 2. */
static int refuse_passed(const char *cmd, const char *name) {
    fprintf(stderr, "error: gotong %s takes no %s (a global option only some commands use); see gotong %s --help\n",
            cmd, name, cmd);
    return GT_CLI_EXIT_USAGE;
}

/* gt_cli_parse and gt_cli_parse_text: the usage as a function or as text
 * (exactly one of them). */
static int parse(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                 int max_pos, int *n_pos, void (*usage)(FILE *), const char *usage_text) {
    assert(!usage != !usage_text);
    assert(from >= 1 && (max_pos == 0 || (pos && n_pos)));
    if (n_pos) *n_pos = 0;
    if (describing) {
        describe_opts(opts);
        return GT_CLI_EXIT_OK;
    }
    const char *lacking;
    int taken = take_passed(cmd, opts, &lacking);
    if (taken >= 0) return taken;
    int only_pos = 0; /* after "--" every argument is positional, as with getopt */
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help")) && !find_opt(opts, a, strlen(a))) {
            /* unless the table takes --help itself */
            print_usage(stdout, usage, usage_text);
            return GT_CLI_EXIT_OK;
        }
        if (only_pos || a[0] != '-' || !a[1]) { /* a positional argument ("-" is stdin, so one too) */
            if (!n_pos || *n_pos >= max_pos) return gt_cli_usage_error(cmd, "unexpected argument \"%s\"", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const gt_cli_opt *o = anywhere ? find_opt(anywhere, a, n) : NULL;
        if (!o) o = find_opt(opts, a, n);
        if (!o) return unknown_opt(cmd, opts, a);
        int rc = take_opt(cmd, argc, argv, &i, o, eq, usage, usage_text);
        if (rc >= 0) return rc;
    }
    return lacking ? refuse_passed(cmd, lacking) : -1;
}

int gt_cli_parse_globals(int argc, char **argv, const gt_cli_opt *opts, void (*usage)(FILE *), int *cmd_at) {
    assert(argc >= 1 && opts && usage && cmd_at);
    *cmd_at = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { /* what follows is the command, even one that starts with a dash */
            *cmd_at = i + 1;
            return -1;
        }
        if (a[0] != '-' || !a[1]) { /* the command's name */
            *cmd_at = i;
            return -1;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return GT_CLI_EXIT_OK;
        }
        const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        const gt_cli_opt *o = find_opt(opts, a, eq ? (size_t)(eq - a) : strlen(a));
        if (!o) return unknown_opt("", opts, a);
        int rc = take_opt("", argc, argv, &i, o, eq, usage, NULL);
        if (rc >= 0) return rc;
    }
    return -1;
}

int gt_cli_parse(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                 int max_pos, int *n_pos, void (*usage)(FILE *)) {
    return parse(cmd, argc, argv, from, opts, pos, max_pos, n_pos, usage, NULL);
}

int gt_cli_parse_text(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                      int max_pos, int *n_pos, const char *usage_text) {
    return parse(cmd, argc, argv, from, opts, pos, max_pos, n_pos, NULL, usage_text);
}

/* An unknown subcommand of cmd: the closest one, else the list. Returns 2. */
static int unknown_sub(const char *cmd, const char *sub, const char *const *names) {
    size_t n = 0;
    while (names[n]) n++;
    const char *near = gt_cli_closest(sub, names, n);
    if (near) {
        fprintf(stderr, "error: unknown %s command \"%s\" (did you mean %s?); see gotong %s --help\n", cmd, sub, near,
                cmd);
        return GT_CLI_EXIT_USAGE;
    }
    fprintf(stderr, "error: unknown %s command \"%s\" (expected ", cmd, sub);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%s", i ? ", " : "", names[i]);
    fprintf(stderr, "); see gotong %s --help\n", cmd);
    return GT_CLI_EXIT_USAGE;
}

int gt_cli_before_subcommand(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *usage_text) {
    assert(argc >= 1);
    int i = 1;
    while (anywhere && !describing && i < argc && argv[i][0] == '-') {
        const char *a = argv[i], *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        const gt_cli_opt *o = find_opt(anywhere, a, eq ? (size_t)(eq - a) : strlen(a));
        if (!o) break;
        int rc = take_opt(cmd, argc, argv, &i, o, eq, usage, usage_text);
        if (rc >= 0) return rc;
        i++;
    }
    if (i == 1 || i == argc || argv[i][0] == '-') return -1; /* no subcommand after them */
    char *sub = argv[i]; /* [cmd, --home, X, sub, ...] -> [cmd, sub, --home, X, ...] */
    memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof *argv);
    argv[1] = sub;
    return -1;
}

/* gt_cli_subcommand and gt_cli_subcommand_text. */
static int subcommand(const char *cmd, int argc, char **argv, const char *const *names, void (*usage)(FILE *),
                      const char *usage_text, int *which) {
    assert(argc >= 1 && names && names[0] && which);
    int rc = gt_cli_before_subcommand(cmd, argc, argv, usage, usage_text);
    if (rc >= 0) return rc;
    const char *sub = argc >= 2 ? argv[1] : NULL;
    if (sub && anywhere && find_opt(anywhere, sub, strcspn(sub, "="))) sub = NULL; /* only --home X: none */
    *which = -1;
    for (int i = 0; sub && names[i]; i++)
        if (!strcmp(names[i], sub)) *which = i;
    if (describing && *which < 0) { /* the names, for the completion */
        gt_cli_describe_subs(names);
        add_word(describing->opts, sizeof describing->opts, "--help -h");
        return GT_CLI_EXIT_OK;
    }
    if (*which >= 0) return -1;
    if (!sub) { /* `gotong CMD` alone: the usage, as a usage error */
        print_usage(stderr, usage, usage_text);
        return GT_CLI_EXIT_USAGE;
    }
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        print_usage(stdout, usage, usage_text);
        return GT_CLI_EXIT_OK;
    }
    if (sub[0] == '-')
        return usage ? gt_cli_unknown_option(cmd, sub, usage) : gt_cli_unknown_option_text(cmd, sub, usage_text);
    return unknown_sub(cmd, sub, names);
}

int gt_cli_subcommand(const char *cmd, int argc, char **argv, const char *const *names, void (*usage)(FILE *),
                      int *which) {
    return subcommand(cmd, argc, argv, names, usage, NULL, which);
}

int gt_cli_subcommand_text(const char *cmd, int argc, char **argv, const char *const *names, const char *usage_text,
                           int *which) {
    return subcommand(cmd, argc, argv, names, NULL, usage_text, which);
}
