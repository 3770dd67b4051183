/* bench_market.c: full task lifecycles (post, claim, submit, verify, settle)
 * per second through the node's HTTP API with 2 client threads, next to what
 * the ledger does with the same work in the same run, then wrk on a task-list
 * read.
 *
 * Three runs of the same shape, each on a fresh ledger with the same genesis
 * and setup (funded posters, registered workers), each thread driving its own
 * poster/worker pair through L lifecycles, one action at a time (each action
 * depends on the one before, so each waits for its block):
 *   http     the 5 market actions of each lifecycle as JSON over HTTP/1.1
 *            (libcurl, keep-alive) to an in-process node;
 *   direct   the same pre-signed market actions through gt_ledger_submit;
 *   ledger   5 transfers per lifecycle with the same senders and nonces
 *            through gt_ledger_submit: the raw ledger apply rate.
 * All actions are signed before the clock starts: clients' signing is not
 * the node's cost. Every action must be accepted or the run fails.
 *   lifecycle/ledger = http lifecycles per second / ledger lifecycles per
 *   second; the goal is >= 0.80 (API + market cost <= 25 % on top).
 *
 * wrk: 64 connections, 2 threads, GET /v1/tasks?limit=20 for S seconds, next
 * to the HTTP floor measured the same way (GET of an unknown route: parsing,
 * routing and a JSON error, no data work), for the thread pool and for
 * thread-per-connection.
 *
 * The disk's fsync latency (the bound of one-action-per-block runs) drifts
 * with whatever else the machine does, so the three runs are repeated in
 * ROUNDS rounds in rotating order and medians reported.
 *
 * usage: bench_market [LIFECYCLES_PER_THREAD] [WRK_SECONDS] [ROUNDS]   (defaults 100, 10, 5)
 * Ends with `lifecycle/ledger: X.XX` (median of the per-round ratios). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "api/api_impl.h"
#include "market_plan.h"

/* Wall-clock seconds. */
static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

typedef struct run_arg {
    int t, http;
    gt_ledger *l;
    uint16_t port;
    const plan *p;
    size_t ok;
    double client_cpu_s; /* http runs: CPU of this client thread (curl, its syscalls) */
    pthread_barrier_t *go;
} run_arg;

/* CPU seconds of the calling thread. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* curl write callback of the lean client: keeps the body for errors. */
static size_t lean_write(char *p, size_t size, size_t n, void *arg) {
    gt_buf *b = arg;
    return gt_buf_append(b, p, size * n) ? 0 : size * n;
}

/* One client thread of a run: submits its plan in order, one action at a
 * time (over HTTP or directly), counting accepted actions. The HTTP client
 * is set up once and only its body changes per request, as a real client
 * that keeps its connection would do. */
static void *run_thread(void *p) {
    run_arg *r = p;
    CURL *c = NULL;
    struct curl_slist *hdrs = NULL;
    gt_buf body = GT_BUF_INIT;
    if (r->http) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/actions", (unsigned)r->port);
        c = curl_easy_init();
        hdrs = curl_slist_append(curl_slist_append(NULL, "Expect:"), "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, lean_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    }
    pthread_barrier_wait(r->go);
    double c0 = thread_cpu_s();
    for (size_t i = 0; i < r->p->n; i++) {
        if (r->http) {
            long st = 0;
            gt_buf_reset(&body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->p->json[i]);
            if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
            if (st == 200) r->ok++;
            else if (r->ok == i) fprintf(stderr, "bench: action %zu: %ld %.*s", i, st, (int)body.len, (char *)body.data);
        } else {
            gt_action a = r->p->acts[i];
            gt_result res;
            gt_ledger_submit(r->l, &a, 1, &res);
            if (res.code == 0) r->ok++;
            else if (r->ok == i) fprintf(stderr, "bench: action %zu: %s\n", i, res.msg);
        }
    }
    if (r->http) r->client_cpu_s = thread_cpu_s() - c0;
    curl_slist_free_all(hdrs);
    if (c) curl_easy_cleanup(c);
    gt_buf_free(&body);
    return NULL;
}

typedef struct result {
    double seconds, lifecycles_per_s, actions_per_block;
    double cpu_ms_per_lifecycle; /* user + system CPU of the process less the HTTP clients' threads */
    double build_us_per_block;   /* the writer's time building a block (rules, SQL, roots) */
    double commit_us_per_block;  /* the writer's time in COMMIT (writing the WAL) */
    double blocks_per_sync;      /* blocks each of the syncer's fsyncs covered */
    double pages_per_block;      /* pages a block's commit wrote to the WAL */
    double sync_us;              /* the syncer's mean fsync of the WAL */
    double syncer_busy;          /* share of the run's wall time the syncer spent in fsync */
} result;

/* User + system CPU seconds of this process so far. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* One run of THREADS threads over plans p; http or direct. */
static result run(const plan *p, int http) {
    char dir[64];
    setup_home(dir);
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_node *node = NULL;
    gt_ledger *l = NULL;
    gt_err err = {0};
    if (http) {
        node = tnode(dir, 8, 0);
    } else if (gt_market_register(&err) || gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    gt_block h0, h1;
    gt_ledger *probe = NULL;
    gt_ledger_open(path, GT_LEDGER_READONLY, &probe, NULL);
    gt_ledger_head(probe, &h0, NULL);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS + 1);
    pthread_t th[THREADS];
    run_arg ra[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ra[t] = (run_arg){.t = t, .http = http, .l = l, .port = node ? gt_node_port(node) : 0, .p = &p[t], .go = &go};
        pthread_create(&th[t], NULL, run_thread, &ra[t]);
    }
    pthread_barrier_wait(&go);
    double t0 = now_s(), c0 = cpu_s();
    size_t ok = 0, total = 0;
    double client_cpu = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        ok += ra[t].ok;
        total += p[t].n;
        client_cpu += ra[t].client_cpu_s;
    }
    double secs = now_s() - t0, cpu = cpu_s() - c0 - client_cpu;
    pthread_barrier_destroy(&go);
    gt_ledger_head(probe, &h1, NULL);
    gt_ledger_close(probe);
    if (ok != total) {
        fprintf(stderr, "bench: only %zu of %zu actions accepted\n", ok, total);
        exit(1);
    }
    /* The writer's own split of a block's time: what the ledger's rules and
     * store cost per block, and how many blocks each fsync covered. */
    gt_ledger_stats st;
    gt_ledger_stats_get(node ? node->ledger : l, &st);
    gt_node_stop(node);
    gt_ledger_close(l);
    trm(dir);
    double blocks = st.blocks ? (double)st.blocks : 1;
    result r = {secs, (double)total / 5.0 / secs, (double)total / (double)(h1.height - h0.height),
                cpu * 1000.0 / ((double)total / 5.0), st.apply_s / blocks * 1e6, st.commit_s / blocks * 1e6,
                blocks / (double)(st.syncs ? st.syncs : 1), (double)st.pages_written / blocks,
                st.sync_s / (double)(st.syncs ? st.syncs : 1) * 1e6, st.sync_s / secs};
    return r;
}

/* Runs wrk on url; fills requests/s and p99 latency in ms. Returns 0 or -1. */
static int wrk(const char *url, int seconds, double *rps, double *p99_ms) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c64 -d%ds --latency '%s' 2>&1", seconds, url);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    char line[512];
    *rps = -1;
    *p99_ms = -1;
    long non2xx = 0;
    while (fgets(line, sizeof line, f)) {
        double v;
        char unit[8];
        if (sscanf(line, " Requests/sec: %lf", &v) == 1) *rps = v;
        if (sscanf(line, " 99%% %lf%7s", &v, unit) == 2)
            *p99_ms = !strcmp(unit, "us") ? v / 1000 : !strcmp(unit, "s") ? v * 1000 : v;
        if (sscanf(line, " Non-2xx or 3xx responses: %ld", &non2xx) == 1) {}
    }
    int st = pclose(f);
    if (st != 0 || *rps < 0 || *p99_ms < 0) return -1;
    return 0;
}

/* wrk on the task list and on the floor for one threading mode. */
static void wrk_mode(unsigned threads, int seconds, double out[4]) {
    char dir[64];
    setup_home(dir);
    gt_node *node = tnode(dir, threads, 0);
    uint16_t port = gt_node_port(node);
    /* 40 open tasks to list (a page is 20) */
    CURL *c = curl_easy_init();
    for (int i = 0; i < 40; i++) {
        gt_action a;
        ttask_post(&a, poster_key(0), (uint64_t)i, WORKER_SKILL, 9000000 + (uint64_t)i);
        char *s = tjson(&a);
        thttp h;
        if (tpost(c, port, "/v1/actions", s, &h) != 200) {
            fprintf(stderr, "bench: posting: %s", h.body);
            exit(1);
        }
        thttp_free(&h);
        free(s);
    }
    curl_easy_cleanup(c);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/tasks?limit=20", (unsigned)port);
    if (wrk(url, seconds, &out[0], &out[1])) {
        fprintf(stderr, "bench: wrk failed on %s (is wrk installed?)\n", url);
        exit(1);
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/floor", (unsigned)port);
    if (wrk(url, seconds, &out[2], &out[3])) {
        fprintf(stderr, "bench: wrk failed on %s\n", url);
        exit(1);
    }
    gt_node_stop(node);
    trm(dir);
}

/* Median of n values (sorts v). */
static double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* wrk on the task list and the HTTP floor, with the pooled and the
 * per-connection threading modes; prints their table. */
static void wrk_report(int wrk_s) {
    double pool[4], tpc[4];
    wrk_mode(GT_API_DEFAULT_THREADS, wrk_s, pool);
    wrk_mode(0, wrk_s, tpc);
    printf("wrk -t2 -c64 -d%ds                              %12s %10s\n", wrk_s, "req/s", "p99 ms");
    printf("  pool(%d)  GET /v1/tasks?limit=20               %12.0f %10.2f\n", GT_API_DEFAULT_THREADS, pool[0],
           pool[1]);
    printf("  pool(%d)  HTTP floor (unknown route, 404)      %12.0f %10.2f   tasks/floor %.3f\n",
           GT_API_DEFAULT_THREADS, pool[2], pool[3], pool[0] / pool[2]);
    printf("  per-conn GET /v1/tasks?limit=20               %12.0f %10.2f\n", tpc[0], tpc[1]);
    printf("  per-conn HTTP floor (unknown route, 404)      %12.0f %10.2f   tasks/floor %.3f\n", tpc[2], tpc[3],
           tpc[0] / tpc[2]);
}

#define MAX_ROUNDS 32

/* Runs the rounds, then wrk; prints the table and the final ratio. */
int main(int argc, char **argv) {
    if (argc > 1) L = atoi(argv[1]);
    int wrk_s = argc > 2 ? atoi(argv[2]) : 10;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (L < 1 || wrk_s < 0 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_market [LIFECYCLES_PER_THREAD] [WRK_SECONDS (0: no wrk part)] [ROUNDS]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* As gt_node_start does in `gotong node`, where the node is SQLite's
     * first user; here the setup touches SQLite first. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    gt_err err = {0};
    if (gt_market_register(&err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    printf("bench_market: %d rounds x (ledger, direct, http), each %d threads x %d lifecycles of 5 actions;\n"
           "ledger in /tmp (WAL, the syncer fsyncs behind the writer); rounds rotate the order, figures are medians\n",
           rounds, THREADS, L);
    fflush(stdout);
    {
        /* The signing domain (TDOM) comes from the genesis every run uses:
         * set it before the plans are signed. */
        char d[64];
        thome(d);
        trm(d);
    }
    for (int t = 0; t < THREADS; t++) make_plans(t);
    double rate[3][MAX_ROUNDS], apb[3][MAX_ROUNDS], cpu[3][MAX_ROUNDS], build[3][MAX_ROUNDS], commit[3][MAX_ROUNDS],
        pages[3][MAX_ROUNDS], bps[3][MAX_ROUNDS], sync_us[3][MAX_ROUNDS], busy[3][MAX_ROUNDS];
    double ratio[MAX_ROUNDS], api[MAX_ROUNDS], mkt[MAX_ROUNDS];
    static const char *const names[3] = {"ledger: 5 transfers via gt_ledger_submit",
                                         "direct: 5 market actions via gt_ledger_submit",
                                         "http: 5 market actions via POST /v1/actions"};
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
            int mode = (k + r) % 3; /* rotate so drift in the disk's speed hits every mode alike */
            result res = run(mode == 0 ? transfer_plan : market_plan, mode == 2);
            rate[mode][r] = res.lifecycles_per_s;
            apb[mode][r] = res.actions_per_block;
            cpu[mode][r] = res.cpu_ms_per_lifecycle;
            build[mode][r] = res.build_us_per_block;
            commit[mode][r] = res.commit_us_per_block;
            bps[mode][r] = res.blocks_per_sync;
            pages[mode][r] = res.pages_per_block;
            sync_us[mode][r] = res.sync_us;
            busy[mode][r] = res.syncer_busy;
        }
        ratio[r] = rate[2][r] / rate[0][r];
        api[r] = rate[2][r] / rate[1][r];
        mkt[r] = rate[1][r] / rate[0][r];
        printf("  round %d: ledger %.1f, direct %.1f, http %.1f lifecycles/s; http/ledger %.2f\n", r + 1,
               rate[0][r], rate[1][r], rate[2][r], ratio[r]);
        fflush(stdout);
    }
    printf("%-46s %13s %14s %15s %15s %15s %12s %12s %10s %12s\n", "run (median over rounds)", "lifecycles/s",
           "actions/block", "node CPU ms/lc", "build us/block", "commit us/blk", "blocks/sync", "pages/block",
           "fsync us", "syncer busy");
    for (int m = 0; m < 3; m++)
        printf("%-46s %13.1f %14.2f %15.2f %15.1f %15.1f %12.2f %12.1f %10.0f %12.2f\n", names[m],
               median(rate[m], rounds), median(apb[m], rounds), median(cpu[m], rounds), median(build[m], rounds),
               median(commit[m], rounds), median(bps[m], rounds), median(pages[m], rounds), median(sync_us[m], rounds),
               median(busy[m], rounds));
    printf("market cost: direct/ledger %.2f; API cost: http/direct %.2f (medians of per-round ratios)\n",
           median(mkt, rounds), median(api, rounds));
    fflush(stdout);
    if (wrk_s > 0)
        wrk_report(wrk_s);
    else
        printf("wrk: not run (WRK_SECONDS 0)\n");
    printf("lifecycle/ledger: %.2f\n", median(ratio, rounds));
    for (int t = 0; t < THREADS; t++) {
        for (size_t i = 0; i < market_plan[t].n; i++) free(market_plan[t].json[i]);
        gt_free(market_plan[t].json);
        gt_free(market_plan[t].acts);
        gt_free(transfer_plan[t].acts);
    }
    curl_global_cleanup();
    return 0;
}
