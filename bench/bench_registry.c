/* bench_registry.c: the block writer's time to apply one agent_register as
 * the registry grows. Registering costs no funds, and each registration
 * checks that its name does not look like any other agent's (registry.c's
 * name_unique), so what that check costs at N agents is what anyone can make
 * the single writer spend per action.
 *
 * On a fresh ledger, for each size N (ascending): agents are registered
 * (keys 1.., names "agent-<key>") until N exist, then M more are submitted
 * in one call and timed: the writer's apply time (gt_ledger_stats' apply_s:
 * rules, SQL writes, roots; no fsync) and the wall time of the submit, each
 * divided by M. Every action is signed before its clock starts and must be
 * accepted, or the run fails.
 *
 * usage: bench_registry [M] [N...]   (defaults 200; 1000 3000 10000)
 * Prints a line per size and ends with `ms per registration at N agents: X`
 * for the largest N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../tests/api/api_util.h"

#define FILL_BATCH 500
#define MAX_SIZES 8

/* Wall-clock seconds. */
static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Signs the registrations of keys first..first+n-1 (each key's first action). */
static void sign_registrations(gt_action *a, int first, int n) {
    for (int i = 0; i < n; i++) tagent_register(&a[i], first + i, 0, "code");
}

/* Submits n registrations starting at key first; exits unless all are accepted. */
static void register_all(gt_ledger *l, gt_action *a, gt_result *r, int first, int n) {
    sign_registrations(a, first, n);
    if (gt_ledger_submit(l, a, (size_t)n, r) == (size_t)n) return;
    for (int i = 0; i < n; i++)
        if (r[i].code) {
            fprintf(stderr, "bench_registry: registration of key %d refused: %s\n", first + i, r[i].msg);
            break;
        }
    exit(1);
}

/* Reads M and the sizes from argv (defaults when absent); 0 when valid. */
static int parse_args(int argc, char **argv, int *m, int *sizes, int *n_sizes) {
    static const int defaults[] = {1000, 3000, 10000};
    *m = argc > 1 ? atoi(argv[1]) : 200;
    *n_sizes = 0;
    for (int i = 2; i < argc && *n_sizes < MAX_SIZES; i++) sizes[(*n_sizes)++] = atoi(argv[i]);
    if (!*n_sizes)
        for (int i = 0; i < 3; i++) sizes[(*n_sizes)++] = defaults[i];
    if (*m < 1 || *m > 100000) return -1;
    for (int i = 0; i < *n_sizes; i++)
        if (sizes[i] < 0 || sizes[i] > 1000000 || (i && sizes[i] < sizes[i - 1] + *m)) return -1;
    return 0;
}

int main(int argc, char **argv) {
    int m, sizes[MAX_SIZES], n_sizes;
    if (parse_args(argc, argv, &m, sizes, &n_sizes)) {
        fprintf(stderr, "usage: bench_registry [M] [N...]: M >= 1 registrations timed at each of the ascending\n"
                        "sizes N (each at least M above the one before)\n");
        return 2;
    }
    char dir[64], path[128];
    thome(dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_ledger *l = NULL;
    gt_err err = {0};
    if (gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "bench_registry: %s\n", err.msg);
        return 1;
    }
    int cap = m > FILL_BATCH ? m : FILL_BATCH;
    gt_action *a = gt_malloc((size_t)cap * sizeof *a);
    gt_result *r = gt_malloc((size_t)cap * sizeof *r);
    if (!a || !r) return 1;
    int agents = 0; /* registered so far: keys 1..agents */
    double last_ms = 0;
    for (int s = 0; s < n_sizes; s++) {
        while (agents < sizes[s]) {
            int n = sizes[s] - agents < FILL_BATCH ? sizes[s] - agents : FILL_BATCH;
            register_all(l, a, r, agents + 1, n);
            agents += n;
        }
        sign_registrations(a, agents + 1, m);
        gt_ledger_stats before, after;
        gt_ledger_stats_get(l, &before);
        double t0 = now_s();
        if (gt_ledger_submit(l, a, (size_t)m, r) != (size_t)m) {
            fprintf(stderr, "bench_registry: a timed registration was refused: %s\n", r[0].msg);
            return 1;
        }
        double wall_s = now_s() - t0;
        gt_ledger_stats_get(l, &after);
        agents += m;
        last_ms = (after.apply_s - before.apply_s) * 1e3 / m;
        printf("agents %6d: %8.3f ms per registration in the writer (%.3f ms wall, %d timed, %llu blocks)\n",
               sizes[s], last_ms, wall_s * 1e3 / m, m, (unsigned long long)(after.blocks - before.blocks));
        fflush(stdout);
    }
    printf("ms per registration at %d agents: %.3f\n", sizes[n_sizes - 1], last_ms);
    gt_free(a);
    gt_free(r);
    gt_ledger_close(l);
    trm(dir);
    return 0;
}
