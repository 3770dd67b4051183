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
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run_file(argv[i]);
        return gt_test_finish();
    }
    const char *dirpath = GT_SOURCE_DIR "/tests/scenarios/work";
    DIR *d = opendir(dirpath);
    if (!d) { fprintf(stderr, "cannot open %s\n", dirpath); return 1; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        run_file(path);
        free(names[i]);
    }
    return gt_test_finish();
}
