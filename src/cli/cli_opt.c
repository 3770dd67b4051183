/* cli_opt.c: one table-driven option parser for the commands: each command
 * states its options as a table (name, alias, kind, where the value goes,
 * range) and gets the same behaviour as every other: --help/-h, "--name
 * value" and "--name=value", whole numbers through gt_parse_u64, an unknown
 * option told with the closest one, a missing value told as such, extra
 * arguments refused. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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

/* Stores value v of option o (named as given: what) where the table says;
 * returns -1 (go on) or a usage error's exit code. */
static int store(const char *cmd, const gt_cli_opt *o, const char *what, const char *v) {
    if (o->given && o->kind != GT_CLI_OPT_LIST) *o->given = 1;
    switch (o->kind) {
    case GT_CLI_OPT_FLAG: *(int *)o->dest = 1; return -1;
    case GT_CLI_OPT_STR: *(const char **)o->dest = v; return -1;
    case GT_CLI_OPT_U64: {
        int rc = gt_cli_u64(cmd, what, v, o->lo, o->hi, (uint64_t *)o->dest);
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

/* gt_cli_parse and gt_cli_parse_text: the usage as a function or as text
 * (exactly one of them). */
static int parse(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                 int max_pos, int *n_pos, void (*usage)(FILE *), const char *usage_text) {
    assert(!usage != !usage_text);
    assert(from >= 1 && (max_pos == 0 || (pos && n_pos)));
    if (n_pos) *n_pos = 0;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-h") || !strcmp(a, "--help")) && !find_opt(opts, a, strlen(a)))
        { /* unless the table takes --help itself */
            if (usage) usage(stdout);
            else fputs(usage_text, stdout);
            return GT_CLI_EXIT_OK;
        }
        if (a[0] != '-' || !a[1]) { /* a positional argument ("-" is stdin, so one too) */
            if (!n_pos || *n_pos >= max_pos) return gt_cli_usage_error(cmd, "unexpected argument \"%s\"", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const gt_cli_opt *o = find_opt(opts, a, n);
        if (!o) return usage ? gt_cli_unknown_option(cmd, a, usage) : gt_cli_unknown_option_text(cmd, a, usage_text);
        int rc;
        if (o->kind == GT_CLI_OPT_FLAG) {
            if (eq) return gt_cli_usage_error(cmd, "%s takes no value", o->name);
            rc = store(cmd, o, o->name, NULL);
        } else if (eq) {
            rc = store(cmd, o, o->name, eq + 1);
        } else {
            if (i + 1 >= argc)
                return usage ? gt_cli_missing_value(cmd, a, usage) : gt_cli_missing_value_text(cmd, a, usage_text);
            rc = store(cmd, o, a, argv[++i]);
        }
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
