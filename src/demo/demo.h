/* demo.h: the demo's scenario runner, a layer above the agent runtime and the
 * API (it starts a node in-process and runs agents as threads) and below the
 * CLI, which only reads `gotong demo`'s arguments into gt_demo_options and
 * reports an error. The runner tells its story as it goes (progress lines)
 * and ends with a summary read back from the ledger (demo_summary.c). */
#ifndef GT_DEMO_DEMO_H
#define GT_DEMO_DEMO_H

#include <stdint.h>

#include "base/err.h"

#define GT_DEMO_MAX_ROUNDS 20          /* --rounds at most */
#define GT_DEMO_MAX_THREADS 64         /* inference threads per agent at most */
#define GT_DEMO_MIN_BLOCK_MS 50        /* --block-ms bounds */
#define GT_DEMO_MAX_BLOCK_MS 60000
#define GT_DEMO_DEFAULT_BLOCK_MS 1000
#define GT_DEMO_DEFAULT_HOME "~/.gotong-demo"

/* What one run is asked to do. home: the data directory (NULL: the default);
 * model_path NULL: make a random-weight model from vocab_path (NULL: the
 * fixture vocabulary found near the binary). */
typedef struct gt_demo_options {
    const char *home, *model_path, *vocab_path;
    int fresh;        /* wipe an earlier demo home first */
    int threads;      /* 1..GT_DEMO_MAX_THREADS */
    int rounds;       /* 1..GT_DEMO_MAX_ROUNDS */
    uint64_t block_ms; /* GT_DEMO_MIN_BLOCK_MS..GT_DEMO_MAX_BLOCK_MS */
    int json;         /* progress on stderr, one JSON summary on stdout */
    int step;         /* after each event wait for a line on stdin (Enter); "c" or the end of input: run on */
} gt_demo_options;

/* Fills o with the defaults (one round, one thread, the default home). */
void gt_demo_options_default(gt_demo_options *o);

/* Runs the whole demo. Returns 0 when it ran and every check of the summary
 * passed; GT_DEMO_CHECKS_FAILED when it ran but a check failed (the summary
 * said which); any other code is an error that stopped it, described in err. */
#define GT_DEMO_CHECKS_FAILED 1
int gt_demo_run(const gt_demo_options *o, gt_err *err);

#endif
