/* test_work_scenarios.c: runs the scenarios of tests/scenarios/work/ (the
 * format of tests/scenarios/README.md) with the work layer's kinds
 * registered: attestations, co-signs that are verdicts and dispute votes,
 * dataset roots. The runner itself is the market's (tests/market/
 * test_scenarios.c, included here with its main renamed), so both layers'
 * scenarios are checked by one implementation of the format: balances,
 * tasks, reputation, supply and the market's books after every step, replay
 * verification at the end.
 *
 * usage: test_work_scenarios [FILE.json ...]   (default: every file in the folder) */
#define main gt_market_scenarios_main
#include "../market/test_scenarios.c"
#undef main

#include "work/work.h"

int main(int argc, char **argv) {
    gt_err err = {0};
    if (gt_work_register(&err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    return scenarios_main(argc, argv, GT_SOURCE_DIR "/tests/scenarios/work");
}
