/* cli_demo.h: what the two halves of `gotong demo` share: cli_demo.c sets
 * up the network and runs the rounds, cli_demo_summary.c reads the ledger
 * afterwards and prints what happened. */
#ifndef GT_CLI_DEMO_H
#define GT_CLI_DEMO_H

#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

#define DEMO_MAX_AGENTS 16

/* One participant: its name, role in the story and address, and its
 * account right after funding (the "before" of the summary). */
typedef struct demo_party {
    const char *name, *role;
    gt_addr addr;
    uint64_t before_balance, before_staked, before_locked;
} demo_party;

typedef struct demo_report {
    const char *home;
    const char *model_path, *model_id;
    int random_model;
    double seconds;
    int rounds;
    uint64_t minted_units; /* everything the faucet created */
    demo_party parties[DEMO_MAX_AGENTS];
    int n_parties;
} demo_report;

/* Reads HOME/ledger.db (the node must be stopped) and prints the summary:
 * human-readable on stdout, or one JSON object when json is set. Also checks
 * the market's books and replays the whole log (gt_ledger_verify).
 * Returns 0 when every check passed, else 1 (after printing why). */
int demo_summary(const demo_report *r, int json);

#endif
