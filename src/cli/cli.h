/* cli.h: how `gotong` subcommands plug in, and helpers they share.
 *
 * Each src/cli/cli_*.c registers its commands with GT_CLI_COMMAND; main.c
 * dispatches argv[1] (and prints the list for `gotong --help`). A command's
 * function gets argc/argv starting at its own name, must print --help, and
 * returns the process exit code: 0 ok, 1 refused/failed, 2 usage error. */
#ifndef GT_CLI_CLI_H
#define GT_CLI_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* Parses an amount given on the command line ("1.5" tokens): what names it
 * in the message ("--bounty", "AMOUNT"); a negative one is told as such. */
int gt_cli_amount(const char *what, const char *s, uint64_t *out, gt_err *err);

/* Parses a whole number given on the command line of cmd in [lo, hi] with
 * gt_parse_u64 (base/num.h; digits only, so "", "-1" and "1e3" are refused
 * like "abc"): 0, or the usage error's exit code after telling it
 * ("--rounds: expected an integer 1..20, got \"x\""). */
int gt_cli_u64(const char *cmd, const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* One option of a command, for gt_cli_parse (cli_opt.c; how to use it is
 * at the top there). dest: an int set to 1 (FLAG), a const char * pointing
 * into argv (STR; at least lo bytes long, so lo 1 refuses ""), a uint64_t in [lo, hi] (U64), a float (FLOAT: strtof,
 * the whole argument), base units of a token amount (AMOUNT,
 * gt_cli_amount), or an array of hi const char * filled in order (LIST, a
 * repeatable option; *given counts them). given, when not NULL, is set to 1
 * when the option appears. A table ends with a NULL name. */
typedef enum {
    GT_CLI_OPT_FLAG,
    GT_CLI_OPT_STR,
    GT_CLI_OPT_U64,
    GT_CLI_OPT_FLOAT,
    GT_CLI_OPT_AMOUNT,
    GT_CLI_OPT_LIST
} gt_cli_opt_kind;
typedef struct gt_cli_opt {
    const char *name;  /* "--rounds" */
    const char *alias; /* "-n", or NULL */
    gt_cli_opt_kind kind;
    void *dest;
    uint64_t lo, hi;
    int *given;
} gt_cli_opt;

/* Parses argv[from..] against opts: "--name value" or "--name=value", the
 * names exactly (no prefixes); -h/--help prints usage on stdout (unless the
 * table has its own --help entry, e.g. a flag read later); up to
 * max_pos positional arguments go to pos[] (*n_pos of them), one more is a
 * usage error. Returns -1 when the command should go on, else its exit code
 * (0 after --help, 2 after a usage error, told on stderr). */
int gt_cli_parse(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                 int max_pos, int *n_pos, void (*usage)(FILE *));
/* The same for a command whose usage is text. */
int gt_cli_parse_text(const char *cmd, int argc, char **argv, int from, const gt_cli_opt *opts, const char **pos,
                      int max_pos, int *n_pos, const char *usage_text);

/* Most names (and aliases) one option table may have. */
#define GT_CLI_MAX_OPTS 128

/* Finds the subcommand argv[1] of cmd among names (NULL-ended): returns -1
 * with *which its index (the caller goes on with argc - 1, argv + 1), else
 * the exit code: `gotong CMD` alone prints the usage on stderr (2); -h,
 * --help or help print it on stdout (0); an unknown one is told with the
 * closest name or the list (2). */
int gt_cli_subcommand(const char *cmd, int argc, char **argv, const char *const *names, void (*usage)(FILE *),
                      int *which);
int gt_cli_subcommand_text(const char *cmd, int argc, char **argv, const char *const *names, const char *usage_text,
                           int *which);

/* Describe mode, for `gotong completion` (cli_completion.c): while on,
 * gt_cli_parse records its table's names in d->opts (those taking a value
 * also in d->value_opts) and returns 0 without reading argv, and
 * gt_cli_subcommand records the names in d->subs unless argv[1] is one of
 * them. Lists are space-separated. gt_cli_describe(NULL) turns it off. */
#define GT_CLI_DESCRIBE_MAX_BYTES 4096
typedef struct gt_cli_described {
    char subs[GT_CLI_DESCRIBE_MAX_BYTES], opts[GT_CLI_DESCRIBE_MAX_BYTES], value_opts[GT_CLI_DESCRIBE_MAX_BYTES];
} gt_cli_described;
void gt_cli_describe(gt_cli_described *d);
/* Records names as subcommands in describe mode (else does nothing): for a
 * command whose subcommands are optional (`agent` runs, `agent register`
 * registers), which cannot use gt_cli_subcommand. */
void gt_cli_describe_subs(const char *const *names);

/* The registered commands, for the completion: the count, and the i-th in
 * name order (main.c). */
int gt_cli_command_count(void);
const gt_cli_cmd *gt_cli_command_at(int i);

/* Amounts as people read them ("1.5 GOT") and as machines do ("1500000"):
 * gt_amount_tokens (base/amount.h), gt_json_tokens and gt_json_units
 * (base/json.h). */

/* Exit codes of every command (documented in `gotong --help`). */
#define GT_CLI_EXIT_OK 0
#define GT_CLI_EXIT_FAILED 1 /* refused or failed */
#define GT_CLI_EXIT_USAGE 2  /* bad command line */

/* The global options of main.c's table (before or after the command), for
 * the completion; those that take a value too. */
#define GT_CLI_GLOBAL_OPTS "--home --node --json --help -h --version"
#define GT_CLI_GLOBAL_VALUE_OPTS "--home --node"

/* Global options, on the one parser (cli_opt.c; main.c's table):
 * gt_cli_parse_globals parses argv[1..] with opts up to the command's name
 * (*cmd_at its index, argc when none) and returns -1 to go on, else the exit
 * code (0 after -h/--help, which print usage; 2 after a usage error, the
 * closest global option named). Then gt_cli_parse_anywhere(t) makes every
 * later gt_cli_parse take t's options (--home) wherever they are, before the
 * command's own table; and gt_cli_pass_on(name, value) hands an option given
 * before the command (--json, --node URL; value NULL for a flag) to the
 * command's parser, which takes it as if given after the command (the
 * command's own wins) or refuses it, exit 2, when its table lacks it. */
int gt_cli_parse_globals(int argc, char **argv, const gt_cli_opt *opts, void (*usage)(FILE *), int *cmd_at);
void gt_cli_parse_anywhere(const gt_cli_opt *opts);
/* Takes the options of the anywhere table given between a command and its
 * subcommand (`gotong wallet --home X new`) and puts the subcommand's name
 * in argv[1], those options after it (where the subcommand's parser takes
 * them again, to the same effect). Returns -1 to go on, else the exit code
 * of a bad value. gt_cli_subcommand calls it; a command with optional
 * subcommands (agent) calls it itself. */
int gt_cli_before_subcommand(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *usage_text);
void gt_cli_pass_on(const char *name, const char *value);
/* Options passed on that no parser has taken yet (main.c checks none is
 * left behind by a command that does not parse). */
int gt_cli_passed_pending(void);

/* The global --home (main.c), or NULL (for a command with another default home). */
const char *gt_cli_global_home(void);

/* "see gotong %s%s--help" for a command's name, "" for gotong itself. */
#define GT_CLI_SEE(cmd) (cmd), (*(cmd) ? " " : "")

/* Closest of n candidates to word by edit distance, or NULL when none is
 * close enough to be a likely typo. */
const char *gt_cli_closest(const char *word, const char *const *cands, size_t n);

/* An unknown option: prints "error: unknown option OPT (did you mean X?);
 * see gotong CMD --help", X found among the options that the command's usage
 * text names, and returns 2. */
int gt_cli_unknown_option(const char *cmd, const char *opt, void (*usage)(FILE *));

/* An option given last without its value: "OPT needs a value" when the
 * command has it, else the unknown-option message (a misspelt flag at the
 * end of the line is a typo, not a missing value). Returns 2. */
int gt_cli_missing_value(const char *cmd, const char *opt, void (*usage)(FILE *));
int gt_cli_missing_value_text(const char *cmd, const char *opt, const char *usage_text);

/* The same with the usage as text. A negative number in place of an option
 * ("-5") is told as such: amounts and counts are never negative. */
int gt_cli_unknown_option_text(const char *cmd, const char *opt, const char *usage_text);

/* The node a command talks to: its --node value (given before or after the
 * command), else $GOTONG_NODE when set and not empty, else NULL (the
 * client's default, GT_CLIENT_DEFAULT_URL; the home's ledger for commands
 * that use it without a node). The URL is checked where it is used. */
const char *gt_cli_node(const char *opt_node);

/* Resolves the data directory: --home value, else the global --home, else $GOTONG_HOME, else ~/.gotong.
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

/* What the inference engine runs (cli_engine.c), for the help of the
 * commands that load a model: the architectures (the names the engine takes
 * in general.architecture), and the weight types from the kernels' list
 * ("f32, f16, ...", into out of cap bytes). gt_cli_engine_help prints both,
 * wrapped, as "Architectures: ...\nWeight types: ...\n". */
#define GT_CLI_ENGINE_ARCHS "llama (Llama 2 and 3, with Llama 3's rope scaling), qwen2, qwen3, gemma3, phi3"
void gt_cli_engine_types(char *out, size_t cap);
void gt_cli_engine_help(FILE *f);

/* Prints "error: MSG" to stderr and returns exit code 1. */
int gt_cli_fail(const gt_err *err);
/* `gotong chain hire` (cli_chain_hire.c); usage is `gotong chain`'s text. */
int gt_cli_chain_hire(int argc, char **argv, const char *usage);
/* `gotong chain post` (cli_chain_post.c): a quorum task of several slots. */
int gt_cli_chain_post(int argc, char **argv, const char *usage);
/* `gotong chain court stake|exit|withdraw|status` (cli_chain_court.c): argv[0] is "court". */
int gt_cli_chain_court(int argc, char **argv, const char *usage);
/* The option rows every `gotong chain` command that sends from a wallet
 * takes: --rpc, --home, --from, --password-file (into the named strings). */
#define GT_CLI_CHAIN_WALLET_OPTS(rpc, home, from, pw)                                                         \
    {"--rpc", NULL, GT_CLI_OPT_STR, &(rpc), 0, 0, NULL}, {"--home", NULL, GT_CLI_OPT_STR, &(home), 0, 0, NULL}, \
        {"--from", NULL, GT_CLI_OPT_STR, &(from), 0, 0, NULL},                                                 \
        {"--password-file", NULL, GT_CLI_OPT_STR, &(pw), 0, 0, NULL}

/* Opens the chain HOME/chain.json records (rpc, when not NULL, in place of its
 * "rpc"), checking its chain id, and reads the token's and the escrow's
 * addresses, and the agent registry's when registry is not NULL. On failure
 * the chain is left closed and err names the file. */
struct gt_chain;
int gt_cli_chain_open(const char *home_path, const char *rpc, struct gt_chain *c, struct gt_addr *token,
                      struct gt_addr *escrow, struct gt_addr *registry, gt_err *err);

/* An input file of a command, for gt_cli_check_out: its option (or
 * "IN") and its path (NULL: not given). */
typedef struct gt_cli_input {
    const char *opt, *path;
} gt_cli_input;

/* Checks an output path (named opt in messages) before any work: not empty,
 * not a directory, in an existing directory this process may write in, and
 * not the same file as any of the n_in inputs. 0, or prints a usage error
 * and returns its exit code (2). */
int gt_cli_check_out(const char *cmd, const char *opt, const char *out, const gt_cli_input *in, size_t n_in);

/* Refuses text that holds a NUL byte or is not UTF-8 (a training text, a corpus): the
 * tokenizers read such a byte as U+FFFD, so it would be trained on as
 * something else, and a binary file is most likely the wrong file. 0, or
 * GT_EINVAL with the first bad byte, its offset and line, named by what. */
int gt_cli_check_text(const char *what, const uint8_t *text, size_t len, gt_err *err);

/* Prints a usage error ("error: ...; see gotong CMD --help") and returns 2. */
int gt_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints j as one line of compact JSON on stdout and releases it. A NULL j
 * (a builder ran out of memory) or a failed serialisation prints an error
 * and returns 1: --json output is valid JSON or an error, never silence. */
int gt_cli_json_out(json_t *j);

/* 1 once a gt_cli_json_out failed in this process (main exits 1 then). */
int gt_cli_json_failed(void);

/* A JSON string of the bytes in lowercase hex: the exact bytes beside the
 * text gt_json_text_lossy made readable. NULL only out of memory. */
json_t *gt_cli_json_hex(const void *bytes, size_t len);

/* Servers (node, serve): blocks SIGINT and SIGTERM in the calling thread
 * before any server thread starts (they inherit the mask, so the signals
 * reach only gt_cli_serve_until_signal's sigwait) and ignores SIGPIPE. */
void gt_cli_block_stop_signals(void);

/* Prints "listening on http://HOST:PORT" (HOST from listen "HOST:PORT",
 * then extra if not NULL) as the first line on stdout, then waits for SIGINT
 * or SIGTERM and logs it as who's. The caller stops its server after. */
void gt_cli_serve_until_signal(const char *who, const char *listen, unsigned port, const char *extra);

#endif
