/* test_ledger_crash.c: durability under SIGKILL.
 *
 * Each trial forks a child that applies transfers as fast as it can from two
 * threads (group commit under load) and, after gt_ledger_submit returns for an
 * action, writes its id to a pipe: that is the acknowledgement a client sees.
 * The parent kills the child with SIGKILL at a random moment, then reopens the
 * ledger: every acknowledged action must be in the log, and `ledger verify`
 * (full replay) must pass. The next trial continues on the same file, so later
 * trials also recover from earlier kills. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../test.h"
#include "ledger_util.h"

#define CHAIN_ID 99
/* The signing domain of the ledger under test (set when it is opened). */
static gt_domain DOM;
#define CHAIN (&DOM)
#define TRIALS 12
#define SENDERS 4 /* per thread */

static gt_key K[2 * SENDERS + 1];
static gt_addr A[2 * SENDERS + 1];

typedef struct child_arg {
    gt_ledger *l;
    int fd, first;
} child_arg;

static void *child_thread(void *p) {
    child_arg *c = p;
    gt_action acts[8];
    gt_result res[8];
    for (;;) {
        for (int s = 0; s < SENDERS; s++) {
            int who = c->first + s;
            gt_account acc;
            gt_ledger_account(c->l, &A[who], &acc, NULL);
            int n = 1 + (int)(acc.nonce % 8);
            for (int j = 0; j < n; j++)
                tsign(&acts[j], &gt_kind_transfer, CHAIN, &K[who], acc.nonce + (uint64_t)j, &A[(who + 1) % (2 * SENDERS) + 1], 1);
            gt_ledger_submit(c->l, acts, (size_t)n, res);
            for (int j = 0; j < n; j++)
                if (res[j].code == 0 && write(c->fd, acts[j].id, 32) != 32) _exit(3);
        }
    }
    return NULL;
}

static void child_main(const char *path, int fd) {
    gt_ledger *l;
    if (gt_ledger_open(path, 0, &l, NULL)) _exit(2);
    child_arg a = {l, fd, 1}, b = {l, fd, 1 + SENDERS};
    pthread_t t;
    pthread_create(&t, NULL, child_thread, &a);
    child_thread(&b);
}

static void test_kill9(void) {
    char dir[64];
    const char *path = tledger_path(dir);
    for (int i = 0; i <= 2 * SENDERS; i++) tkey(200 + i, &K[i], &A[i]);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    DOM = *gt_ledger_domain(l);
    for (int i = 1; i <= 2 * SENDERS; i++) {
        gt_action a;
        gt_result r;
        tsign(&a, &gt_kind_mint, CHAIN, &K[0], (uint64_t)i - 1, &A[i], 1000000000);
        CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    }
    gt_ledger_close(l);
    srand((unsigned)time(NULL));
    long total_acked = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        int fds[2];
        CHECK_EQ_INT(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child_main(path, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* Read acknowledgements while the child runs, then kill it mid-flight. */
        size_t cap = 1 << 20, len = 0;
        uint8_t *acked = malloc(cap);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        long kill_after_ms = 150 + rand() % 400;
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        for (;;) {
            ssize_t r = read(fds[0], acked + len, cap - len);
            if (r > 0) len += (size_t)r;
            if (len + 4096 > cap) acked = realloc(acked, cap *= 2);
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (el >= kill_after_ms) break;
            if (r <= 0) usleep(1000);
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        ssize_t r;
        while ((r = read(fds[0], acked + len, cap - len)) > 0) {
            len += (size_t)r;
            if (len + 4096 > cap) acked = realloc(acked, cap *= 2);
        }
        close(fds[0]);
        len -= len % 32;
        /* Every acknowledged id must be in the log. */
        sqlite3 *db;
        CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        long missing = 0;
        gt_action *found = malloc(sizeof *found);
        for (size_t off = 0; off < len; off += 32)
            if (gt_ledger_find_action(db, acked + off, found, NULL, NULL, &err)) missing++;
        free(found);
        sqlite3_close(db);
        CHECK_MSG(missing == 0, "trial %d: %ld of %zu acknowledged actions lost", trial, missing, len / 32);
        total_acked += (long)(len / 32);
        free(acked);
        gt_verify_report rep;
        CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "trial %d: verify: %s", trial, err.msg);
    }
    fprintf(stderr, "  %d kills, %ld acknowledged actions, all present\n", TRIALS, total_acked);
    CHECK(total_acked > 0);
    trm(dir);
}

int main(void) {
    RUN(test_kill9);
    return gt_test_finish();
}
