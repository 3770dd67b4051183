/* bench_task_spec.c: the node's time to answer GET /v1/tasks?kind=generate&
 * spec=HEX as the task table grows. An agent asks it before posting a data
 * job (gt_agent_post refuses a job someone else posted first), and anyone
 * may ask it of any node, so what it costs at N tasks is what a stranger can
 * make a node's reader spend per request; posting a task is open to anyone
 * with a bounty.
 *
 * On a fresh ledger, for each size N (ascending): one poster posts tasks of
 * kind "generate", each with its own spec (ttask_post: keccak of its
 * sequence number), until N exist; then Q filtered listings are timed on a
 * read-only connection (as the node's readers open it), alternating the
 * spec of the middle task (one match) and a spec nobody posted (none, the
 * usual answer before a post). Each answer is checked: one task with that
 * spec, or none.
 *
 * usage: bench_task_spec [Q] [N...]   (defaults 200; 1000 10000 100000)
 * Prints a line per size and ends with `ms per spec listing at N tasks: X`
 * for the largest N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../tests/api/api_util.h"

#define FILL_BATCH 500
#define MAX_SIZES 8
#define POSTER_KEY 10
#define TASK_KIND "generate"

/* Wall-clock seconds. */
static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The spec ttask_post gives the task of sequence number seq. */
static void spec_of(uint64_t seq, uint8_t spec[32]) { gt_keccak256(&seq, sizeof seq, spec); }

/* Mints the poster enough for `tasks` posts (bounty 1000 each); exits on a refusal. */
static void fund(gt_ledger *l, int tasks) {
    gt_action a;
    gt_result r;
    gt_key k;
    gt_addr pa;
    tkey(POSTER_KEY, &k, &pa);
    tcore(&a, &gt_kind_mint, 0, 0, &pa, (uint64_t)tasks * 1000 + 1000000);
    if (gt_ledger_submit(l, &a, 1, &r) != 1) {
        fprintf(stderr, "bench_task_spec: mint refused: %s\n", r.msg);
        exit(1);
    }
}

/* Posts tasks first..first+n-1 (sequence number = the poster's nonce); exits
 * unless all are accepted. */
static void post_all(gt_ledger *l, gt_action *a, gt_result *r, int first, int n) {
    for (int i = 0; i < n; i++) ttask_post(&a[i], POSTER_KEY, (uint64_t)(first + i), TASK_KIND, (uint64_t)(first + i));
    if (gt_ledger_submit(l, a, (size_t)n, r) == (size_t)n) return;
    for (int i = 0; i < n; i++)
        if (r[i].code) {
            fprintf(stderr, "bench_task_spec: post %d refused: %s\n", first + i, r[i].msg);
            break;
        }
    exit(1);
}

/* One listing by spec on db; exits unless it holds exactly `want` tasks. */
static void list_once(sqlite3 *db, const uint8_t spec[32], size_t want) {
    gt_market_task_filter f = {.status = -1, .kind = TASK_KIND, .spec = spec};
    gt_err err = {0};
    json_t *o = gt_market_tasks_list(db, &f, 0, 0, &err);
    size_t got = o ? json_array_size(json_object_get(o, "tasks")) : (size_t)-1;
    json_decref(o);
    if (got != want) {
        fprintf(stderr, "bench_task_spec: a listing by spec gave %zd tasks, expected %zu: %s\n", (ssize_t)got, want,
                err.msg);
        exit(1);
    }
}

/* Reads Q and the sizes from argv (defaults when absent); 0 when valid. */
static int parse_args(int argc, char **argv, int *q, int *sizes, int *n_sizes) {
    static const int defaults[] = {1000, 10000, 100000};
    *q = argc > 1 ? atoi(argv[1]) : 200;
    *n_sizes = 0;
    for (int i = 2; i < argc && *n_sizes < MAX_SIZES; i++) sizes[(*n_sizes)++] = atoi(argv[i]);
    if (!*n_sizes)
        for (int i = 0; i < 3; i++) sizes[(*n_sizes)++] = defaults[i];
    if (*q < 1 || *q > 1000000) return -1;
    for (int i = 0; i < *n_sizes; i++)
        if (sizes[i] < 1 || sizes[i] > 10000000 || (i && sizes[i] <= sizes[i - 1])) return -1;
    return 0;
}

/* Times q listings at the current size (half that find the middle task's
 * spec, half a spec nobody posted) and returns ms per listing. */
static double time_listings(const char *path, int tasks, int q) {
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) {
        fprintf(stderr, "bench_task_spec: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    uint8_t hit[32], miss[32];
    spec_of((uint64_t)(tasks / 2), hit);
    spec_of(UINT64_MAX, miss); /* no post has this sequence number */
    list_once(db, hit, 1);     /* warm: the pages read once, as a busy node's would be */
    double t0 = now_s();
    for (int i = 0; i < q; i++) list_once(db, i % 2 ? miss : hit, i % 2 ? 0 : 1);
    double ms = (now_s() - t0) * 1e3 / q;
    sqlite3_close(db);
    return ms;
}

int main(int argc, char **argv) {
    int q, sizes[MAX_SIZES], n_sizes;
    if (parse_args(argc, argv, &q, sizes, &n_sizes)) {
        fprintf(stderr, "usage: bench_task_spec [Q] [N...]: Q >= 1 listings timed at each of the ascending sizes N\n");
        return 2;
    }
    char dir[64], path[128];
    thome(dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_ledger *l = NULL;
    gt_err err = {0};
    if (gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "bench_task_spec: %s\n", err.msg);
        return 1;
    }
    fund(l, sizes[n_sizes - 1]);
    gt_action *a = gt_malloc(FILL_BATCH * sizeof *a);
    gt_result *r = gt_malloc(FILL_BATCH * sizeof *r);
    if (!a || !r) return 1;
    int tasks = 0;
    double last_ms = 0;
    for (int s = 0; s < n_sizes; s++) {
        double t0 = now_s();
        while (tasks < sizes[s]) {
            int n = sizes[s] - tasks < FILL_BATCH ? sizes[s] - tasks : FILL_BATCH;
            post_all(l, a, r, tasks, n);
            tasks += n;
        }
        double fill_s = now_s() - t0;
        last_ms = time_listings(path, tasks, q);
        printf("tasks %7d: %8.3f ms per spec listing (%d timed; filled in %.1f s)\n", tasks, last_ms, q, fill_s);
        fflush(stdout);
    }
    printf("ms per spec listing at %d tasks: %.3f\n", sizes[n_sizes - 1], last_ms);
    gt_free(a);
    gt_free(r);
    gt_ledger_close(l);
    trm(dir);
    return 0;
}
