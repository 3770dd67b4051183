/* cli.h: how `gotong` subcommands plug in, and helpers they share.
 *
 * Each src/cli/cli_*.c registers its commands with GT_CLI_COMMAND; main.c
 * dispatches argv[1] (and prints the list for `gotong --help`). A command's
 * function gets argc/argv starting at its own name, must print --help, and
 * returns the process exit code: 0 ok, 1 refused/failed, 2 usage error. */
#ifndef GT_CLI_CLI_H
#define GT_CLI_CLI_H

#include <stddef.h>

#include "base/err.h"

typedef struct gt_cli_cmd {
    const char *name;     /* "wallet", "run", ... */
    const char *summary;  /* one line for `gotong --help` */
    int (*fn)(int argc, char **argv);
} gt_cli_cmd;

void gt_cli_register(const gt_cli_cmd *cmd);

#define GT_CLI_COMMAND(ident, name_, summary_, fn_)                                  \
    static const gt_cli_cmd ident = {name_, summary_, fn_};                          \
    __attribute__((constructor)) static void ident##_register(void) {                \
        gt_cli_register(&ident);                                                     \
    }

/* Resolves the data directory: --home value, else $GOTONG_HOME, else ~/.gotong.
 * Writes the expanded path into out. */
int gt_cli_home(const char *opt_home, char *out, size_t cap, gt_err *err);

/* Reads a password from `file` (first line, trailing newline stripped) or, when
 * file is NULL, prompts on the terminal without echo (asking twice if confirm).
 * Fails clearly when there is no terminal and no file. */
int gt_cli_password(const char *file, const char *prompt, int confirm, char *out, size_t cap,
                    gt_err *err);

/* Loads a signing key from the keystore of the home opt_home resolves to:
 * the key of `from` (an address), else the only key there; the password comes
 * from password_file or a terminal prompt. *addr (may be NULL) gets its
 * address. The caller wipes the key with gt_key_wipe. */
struct gt_key;
struct gt_addr;
int gt_cli_load_key(const char *opt_home, const char *from, const char *password_file, struct gt_key *key,
                    struct gt_addr *addr, gt_err *err);

/* Prints "error: MSG" to stderr and returns exit code 1. */
int gt_cli_fail(const gt_err *err);

/* Prints a usage error ("error: ...; see gotong CMD --help") and returns 2. */
int gt_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
