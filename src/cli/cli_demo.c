/* cli_demo.c: `gotong demo`: reads its options into gt_demo_options and
 * hands them to the demo's scenario runner (src/demo), which tells the story
 * and prints the summary. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "demo/demo.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong demo [--home DIR] [--fresh] [--model M.gguf] [--threads N] [--rounds N] [--step]\n"
            "                   [--json]\n\n"
            "Runs a whole market on this machine: a fresh ledger, funded wallets, the HTTP\n"
            "node in-process, and agents (posters, workers, an evaluator, validators) as\n"
            "threads doing real rounds of work with a local model: accepted work, garbage\n"
            "rejected and slashed, a wrongful rejection overturned by validators re-running\n"
            "the work, a subcontract, a synthetic-data job paid sample by sample with its\n"
            "dataset's Merkle root published, and a model evaluation co-signed by validators\n"
            "(a forged score caught and slashed). Ends with balances, outcomes, reputation,\n"
            "the dataset check and the leaderboard.\n\n"
            "options:\n"
            "  --home DIR        demo data directory (default %s)\n"
            "  --fresh           wipe DIR first (only ever a directory an earlier demo made)\n"
            "  --model FILE      a GGUF model (architectures and weight types: gotong run\n"
            "                    --help); default: a small random-weight model made\n"
            "                    with `gotong model random` (its outputs are not language)\n"
            "  --vocab FILE      vocabulary GGUF for that random model (default: the fixture\n"
            "                    llama.cpp's ggml-vocab-llama-spm.gguf, which scripts/setup.sh\n"
            "                    puts in the repository's .cache/fixtures/tokenizer)\n"
            "  --threads N       inference threads per agent (default 1)\n"
            "  --rounds N        times to run the six scenes (default 1, at most %d)\n"
            "  --block-ms MS     idle time after which the node writes an empty block (default %d)\n"
            "  --step            one event at a time: waits for Enter after each (c: run to\n"
            "                    the end); reads lines from stdin when it is not a terminal;\n"
            "                    no idle blocks meanwhile (the demo writes those deadlines need)\n"
            "  --json            progress on stderr, one JSON summary on stdout\n",
            GT_DEMO_DEFAULT_HOME, GT_DEMO_MAX_ROUNDS, GT_DEMO_DEFAULT_BLOCK_MS);
}

/* Reads argv into *o. Returns -1 when they are good (go on), else the exit
 * code (0 after --help, 2 after a usage error, told). */
static int parse_demo_opts(int argc, char **argv, gt_demo_options *o) {
    uint64_t threads = (uint64_t)o->threads, rounds = (uint64_t)o->rounds;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--fresh", NULL, GT_CLI_OPT_FLAG, &o->fresh, 0, 0, NULL},
        {"--model", NULL, GT_CLI_OPT_STR, &o->model_path, 0, 0, NULL},
        {"--vocab", NULL, GT_CLI_OPT_STR, &o->vocab_path, 0, 0, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 1, GT_DEMO_MAX_THREADS, NULL},
        {"--rounds", NULL, GT_CLI_OPT_U64, &rounds, 1, GT_DEMO_MAX_ROUNDS, NULL},
        {"--block-ms", NULL, GT_CLI_OPT_U64, &o->block_ms, GT_DEMO_MIN_BLOCK_MS, GT_DEMO_MAX_BLOCK_MS, NULL},
        {"--step", NULL, GT_CLI_OPT_FLAG, &o->step, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int code = gt_cli_parse("demo", argc, argv, 1, opts, NULL, 0, NULL, usage);
    if (code >= 0) return code;
    o->threads = (int)threads, o->rounds = (int)rounds;
    if (!o->home) o->home = gt_cli_global_home(); /* --home given before the command, or taken out by main */
    return -1;
}

static int cmd_demo(int argc, char **argv) {
    gt_demo_options o;
    gt_demo_options_default(&o);
    int code = parse_demo_opts(argc, argv, &o);
    if (code >= 0) return code;
    gt_err err = {0};
    int rc = gt_demo_run(&o, &err);
    if (rc == GT_DEMO_CHECKS_FAILED) return GT_CLI_EXIT_FAILED; /* the summary said which check */
    return rc ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(demo_cmd, "demo", "run a whole market of agents on this machine, end to end", cmd_demo)
